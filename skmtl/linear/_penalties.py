"""Penalties on the coefficient matrix ``W`` (n_features, n_columns).

Each penalty is a small parameter object (``get_params`` / ``set_params``, so
``GridSearchCV(est, {"penalty__alpha": [...]})`` reaches it) with the methods
the solvers need: ``value`` and ``prox`` for proximal gradient, ``prox_rows``
for coordinate descent over features, ``dual_norm`` / ``conjugate`` for duality
gaps and ``alpha_max``. A solver checks for the methods it needs and names the
missing one (see ``_solvers.check_capabilities``).

Columns of ``W`` are the model's outputs: one per regression output or binary
task, one per class for a classification task with more than two classes. The
penalties that couple tasks treat every column as a task.
"""

import numbers

import numpy as np

from ._params import ParamsMixin

__all__ = ["Penalty", "Ridge", "L1", "L21", "TraceNorm", "MeanRegularized",
           "GraphLaplacian", "Dirty", "PENALTIES", "resolve_penalty"]


def _check_real(owner, name, value, low=0.0, high=None, low_open=False):
    if (not isinstance(value, numbers.Real) or isinstance(value, bool)
            or not np.isfinite(value)):
        raise TypeError(f"{type(owner).__name__}: {name} must be a finite real number, "
                        f"got {value!r}.")
    too_high = high is not None and value > high
    if value < low or (low_open and value == low) or too_high:
        upper = "inf)" if high is None else f"{high}]"
        bounds = f"{'(' if low_open else '['}{low}, {upper}"
        raise ValueError(f"{type(owner).__name__}: {name}={value!r} must be in "
                         f"{bounds}.")


def _row_norms(W):
    return np.sqrt(np.einsum("ij,ij->i", W, W))


class Penalty(ParamsMixin):
    """Base class of the penalties on ``W`` (n_features, n_columns).

    Subclasses define ``value(W)`` and, as they can, ``prox(W, step)`` (the
    proximal operator of ``step * penalty``), ``prox_rows(Z, steps)``
    (row-separable penalties, for coordinate descent: row ``j`` of ``Z`` with
    step ``steps[j]``, or one scalar step for every row), ``dual_norm`` and
    ``conjugate`` (for duality gaps and ``alpha_max``).

    Attributes
    ----------
    n_parts : int
        Number of coefficient matrices the penalty splits ``W`` into (2 for
        :class:`Dirty`, ``W = P + S``), 1 otherwise.
    """

    n_parts = 1

    def _validate(self):
        _check_real(self, "alpha", self.alpha)

    def _prepare(self, n_columns, column_task=None):
        """Bind the penalty to the model's columns before a fit."""
        self._validate()
        self.n_columns_ = n_columns
        self.column_task_ = (np.arange(n_columns) if column_task is None
                             else np.asarray(column_task))
        return self

    def coef(self, V):
        """Coefficient matrix from the solver's variable (``P + S`` for Dirty)."""
        return V

    @property
    def strength(self):
        """Coefficient of the norm part (``alpha`` times its ratio)."""
        return self.alpha

    def alpha_max(self, V0):
        """Smallest ``alpha`` for which ``W = 0`` is optimal, or None.

        ``V0`` is the negative gradient of the datafit at ``W = 0``.
        """
        return None


class Ridge(Penalty):
    r"""Independent L2 penalty: no sharing between tasks.

    .. math:: \Omega(W) = \frac{\alpha}{2} \|W\|_F^2

    With the squared loss this is ``sklearn.linear_model.ElasticNet`` with
    ``l1_ratio=0`` per task, i.e. ``Ridge(alpha=n_samples * alpha)``.

    Parameters
    ----------
    alpha : float, default=0.1
        Regularization strength.

    Examples
    --------
    >>> from skmtl.linear import Ridge
    >>> Ridge(alpha=0.5)
    Ridge(alpha=0.5)
    """

    separable_rows = True

    def __init__(self, alpha=0.1):
        self.alpha = alpha

    def value(self, W):
        return 0.5 * self.alpha * float(np.vdot(W, W))

    def prox(self, W, step):
        return W / (1.0 + step * self.alpha)

    def prox_rows(self, Z, steps):
        return Z / (1.0 + np.reshape(steps, (-1, 1)) * self.alpha)

    def dual_scale(self, V):
        return 1.0

    def conjugate(self, V):
        if self.alpha == 0:
            return 0.0 if not np.any(V) else np.inf
        return float(np.vdot(V, V)) / (2.0 * self.alpha)


class _ElasticNorm(Penalty):
    """A norm plus an L2 term.

    ``alpha * (l1_ratio * norm(W) + (1 - l1_ratio) / 2 ||W||^2)``.
    """

    separable_rows = True

    def __init__(self, alpha=0.1, l1_ratio=1.0):
        self.alpha = alpha
        self.l1_ratio = l1_ratio

    def _validate(self):
        super()._validate()
        _check_real(self, "l1_ratio", self.l1_ratio, 0.0, 1.0)

    @property
    def strength(self):
        return self.alpha * self.l1_ratio

    @property
    def _l2(self):
        return self.alpha * (1.0 - self.l1_ratio)

    def value(self, W):
        return (self.strength * self._norm(W)
                + 0.5 * self._l2 * float(np.vdot(W, W)))

    def prox(self, W, step):
        return self.prox_rows(W, float(step))

    def dual_scale(self, V):
        if self._l2 > 0 or self.strength == 0:
            return 1.0
        norm = self.dual_norm(V)
        return 1.0 if norm <= self.strength else self.strength / norm

    def alpha_max(self, V0):
        if self.l1_ratio == 0:
            return None
        return self.dual_norm(V0) / self.l1_ratio


class L1(_ElasticNorm):
    r"""Element-wise L1 penalty (independent lasso per task), with an optional L2 part.

    .. math::
        \Omega(W) = \alpha \rho \|W\|_1 + \frac{\alpha (1 - \rho)}{2} \|W\|_F^2

    with :math:`\rho` = ``l1_ratio``. With the squared loss and all labels
    present this is ``sklearn.linear_model.Lasso`` (``ElasticNet``) per task.

    Parameters
    ----------
    alpha : float, default=0.1
    l1_ratio : float, default=1.0
        Share of the L1 term, in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear import L1
    >>> L1(alpha=1.0).prox(np.array([[3.0, -0.5]]), step=1.0)
    array([[ 2., -0.]])
    """

    def _norm(self, W):
        return float(np.abs(W).sum())

    def prox_rows(self, Z, steps):
        t = np.reshape(steps, (-1, 1))
        out = np.sign(Z) * np.maximum(np.abs(Z) - t * self.strength, 0.0)
        if self._l2:
            out /= 1.0 + t * self._l2
        return out

    def dual_norm(self, V):
        return float(np.abs(V).max()) if V.size else 0.0

    def row_dual_norms(self, V):
        return np.abs(V).max(axis=1)

    def conjugate(self, V):
        if self._l2 == 0:
            # Indicator of the dual ball; without any penalty it is {0}.
            return 0.0 if self.strength > 0 or not np.any(V) else np.inf
        excess = np.maximum(np.abs(V) - self.strength, 0.0)
        return float(np.vdot(excess, excess)) / (2.0 * self._l2)


class L21(_ElasticNorm):
    r"""Joint feature selection: the L2,1 (group lasso) norm over rows of ``W``.

    .. math::
        \Omega(W) = \alpha \rho \sum_j \|W_{j,:}\|_2
                    + \frac{\alpha (1 - \rho)}{2} \|W\|_F^2

    Each feature is used by every task or by none. With the squared loss and
    every label present, ``L21(alpha)`` is
    ``sklearn.linear_model.MultiTaskLasso(alpha)`` and
    ``L21(alpha, l1_ratio)`` is ``MultiTaskElasticNet(alpha, l1_ratio)``.

    Parameters
    ----------
    alpha : float, default=0.1
    l1_ratio : float, default=1.0
        Share of the L2,1 term, in [0, 1]; below 1 the elastic-net form.

    Notes
    -----
    Argyriou, Evgeniou & Pontil (2008), "Convex multi-task feature learning",
    Machine Learning 73(3); Obozinski, Taskar & Jordan (2010), "Joint covariate
    selection and joint subspace selection for multiple classification
    problems", Statistics and Computing 20(2).

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear import L21
    >>> L21(alpha=1.0).prox(np.array([[3.0, 4.0], [0.3, 0.4]]), step=1.0)
    array([[2.4, 3.2],
           [0. , 0. ]])
    """

    def _norm(self, W):
        return float(_row_norms(W).sum())

    def prox_rows(self, Z, steps):
        # Rows shrink by max(0, 1 - t / |z|): one pass, no division by zero.
        threshold = np.multiply(steps, self.strength)
        scale = threshold / np.maximum(_row_norms(Z), 1e-300)
        np.subtract(1.0, scale, out=scale)
        np.maximum(scale, 0.0, out=scale)
        if self._l2:
            scale /= 1.0 + np.multiply(steps, self._l2)
        return Z * scale[:, None]

    def dual_norm(self, V):
        return float(_row_norms(V).max()) if V.size else 0.0

    def row_dual_norms(self, V):
        return _row_norms(V)

    def conjugate(self, V):
        if self._l2 == 0:
            # Indicator of the dual ball; without any penalty it is {0}.
            return 0.0 if self.strength > 0 or not np.any(V) else np.inf
        excess = np.maximum(_row_norms(V) - self.strength, 0.0)
        return float(excess @ excess) / (2.0 * self._l2)


class TraceNorm(Penalty):
    r"""Trace (nuclear) norm: tasks share a low-dimensional subspace.

    .. math:: \Omega(W) = \alpha \|W\|_* = \alpha \sum_i \sigma_i(W)

    Its proximal operator soft-thresholds the singular values of ``W``, so
    the fitted ``W`` has low rank for large ``alpha``.

    Parameters
    ----------
    alpha : float, default=0.1

    Notes
    -----
    Argyriou, Evgeniou & Pontil (2008), "Convex multi-task feature learning",
    Machine Learning 73(3) (the trace norm as the convex form of a shared
    low-dimensional representation); Ji & Ye (2009), "An accelerated gradient
    method for trace norm minimization", ICML.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear import TraceNorm
    >>> W = TraceNorm(alpha=1.0).prox(np.diag([3.0, 0.5]), step=1.0)
    >>> np.round(W, 6)
    array([[2., 0.],
           [0., 0.]])
    """

    def __init__(self, alpha=0.1):
        self.alpha = alpha

    def value(self, W):
        return self.alpha * float(np.linalg.svd(W, compute_uv=False).sum())

    def prox(self, W, step):
        U, s, Vt = np.linalg.svd(W, full_matrices=False)
        s = np.maximum(s - step * self.alpha, 0.0)
        keep = s > 0
        return (U[:, keep] * s[keep]) @ Vt[keep]

    def dual_norm(self, V):
        return float(np.linalg.norm(V, 2)) if V.size else 0.0

    def dual_scale(self, V):
        norm = self.dual_norm(V)
        return 1.0 if norm <= self.alpha else self.alpha / norm

    def conjugate(self, V):
        return 0.0

    def alpha_max(self, V0):
        return self.dual_norm(V0)


class QuadraticPenalty(Penalty):
    r"""Base of the penalties ``alpha/2 * tr(W M W^T)`` for a task matrix ``M``.

    ``M`` (n_columns, n_columns) is positive semi-definite; the proximal
    operator is ``W (I + step * alpha * M)^{-1}``, computed from one
    eigendecomposition of ``M``.
    """

    def _task_matrix(self):
        raise NotImplementedError

    def _prepare(self, n_columns, column_task=None):
        super()._prepare(n_columns, column_task)
        self._set_matrix(self._task_matrix())
        return self

    def _set_matrix(self, matrix):
        matrix = 0.5 * (matrix + matrix.T)
        eigvals, eigvecs = np.linalg.eigh(matrix)
        self._matrix = matrix
        self._eig = (np.maximum(eigvals, 0.0), eigvecs)

    def value(self, W):
        return 0.5 * self.alpha * float(np.einsum("ij,jk,ik->", W, self._matrix, W))

    def prox(self, W, step):
        eigvals, U = self._eig
        return ((W @ U) / (1.0 + step * self.alpha * eigvals)) @ U.T

    def dual_scale(self, V):
        return 1.0

    def conjugate(self, V):
        eigvals, U = self._eig
        VU = V @ U
        if self.alpha == 0 or eigvals.min() <= 1e-12 * max(eigvals.max(), 1.0):
            # Singular M: the conjugate is finite only on its range; no gap.
            return np.inf
        return float(np.sum(VU ** 2 / eigvals)) / (2.0 * self.alpha)


class MeanRegularized(QuadraticPenalty):
    r"""Tasks close to their mean (Evgeniou & Pontil's regularized MTL).

    Each task is a shared model plus a task-specific deviation,
    :math:`w_k = w_0 + v_k`, and both are penalized:

    .. math::
        \Omega(W) = \frac{\alpha}{2} \min_{w_0}
            \Big[\sum_k \|w_k - w_0\|^2 + \mu \|w_0\|^2\Big]
        = \frac{\alpha}{2} \Big[\sum_k \|w_k\|^2
            - \frac{\|\sum_k w_k\|^2}{K + \mu}\Big]

    with :math:`\mu` = ``mean_ratio`` and :math:`K` the number of tasks. Large
    ``alpha`` pulls every task to the shared model; ``mean_ratio`` sets how
    much the shared model itself is shrunk (0: not at all).

    Parameters
    ----------
    alpha : float, default=0.1
        Strength of the pull towards the shared model.
    mean_ratio : float, default=1.0
        Penalty on the shared model relative to that on each deviation.

    Notes
    -----
    Evgeniou & Pontil (2004), "Regularized multi-task learning", KDD. The
    problem equals ridge regression on the feature map
    :math:`\phi(x, t) = (x / \sqrt{\mu}, 0, ..., x, ..., 0)` (``x`` in block
    ``t``), which the tests check.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear import MeanRegularized
    >>> pen = MeanRegularized(alpha=2.0, mean_ratio=0.0)._prepare(2)
    >>> pen.value(np.array([[1.0, 3.0]]))  # alpha/2 * sum_k (w_k - mean)^2
    2.0
    """

    def __init__(self, alpha=0.1, mean_ratio=1.0):
        self.alpha = alpha
        self.mean_ratio = mean_ratio

    def _validate(self):
        super()._validate()
        _check_real(self, "mean_ratio", self.mean_ratio)

    def _task_matrix(self):
        K = self.n_columns_
        return np.eye(K) - np.ones((K, K)) / (K + self.mean_ratio)


class GraphLaplacian(QuadraticPenalty):
    r"""Tasks close to their neighbours in a task graph (graph Laplacian).

    .. math::
        \Omega(W) = \frac{\alpha}{2}\Big[\|W\|_F^2
            + \gamma \sum_{k<l} A_{kl} \|w_k - w_l\|^2\Big]
        = \frac{\alpha}{2} \operatorname{tr}\big(W (I + \gamma L) W^\top\big)

    with :math:`A` the task graph's weighted adjacency, :math:`L` its Laplacian
    and :math:`\gamma` = ``graph_ratio``. An empty graph gives :class:`Ridge`;
    a strong complete graph forces every task to one pooled model.

    Parameters
    ----------
    alpha : float, default=0.1
        Overall strength (the L2 part).
    graph : array-like of shape (n_tasks, n_tasks), default=None
        Symmetric non-negative adjacency between tasks. None is the complete
        graph with unit weights. For tasks with several columns, column ``j``
        of a task is linked to column ``j`` of its neighbours.
    graph_ratio : float, default=1.0
        Strength of the graph term relative to the L2 part.

    Notes
    -----
    Evgeniou, Micchelli & Pontil (2005), "Learning multiple tasks with kernel
    methods", JMLR 6 (graph regularization of tasks).

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear import GraphLaplacian
    >>> pen = GraphLaplacian(alpha=1.0, graph=[[0, 1], [1, 0]])._prepare(2)
    >>> pen.value(np.array([[1.0, 3.0]]))  # (1 + 9)/2 + (1 - 3)^2 / 2
    7.0
    """

    def __init__(self, alpha=0.1, graph=None, graph_ratio=1.0):
        self.alpha = alpha
        self.graph = graph
        self.graph_ratio = graph_ratio

    def _validate(self):
        super()._validate()
        _check_real(self, "graph_ratio", self.graph_ratio)

    def _task_matrix(self):
        M = self.n_columns_
        task = self.column_task_
        n_tasks = int(task.max()) + 1
        if self.graph is None:
            A = np.ones((n_tasks, n_tasks)) - np.eye(n_tasks)
        else:
            A = np.asarray(self.graph, dtype=float)
            if A.shape != (n_tasks, n_tasks):
                raise ValueError(f"GraphLaplacian: graph has shape {A.shape} but there "
                                 f"are {n_tasks} tasks; give an (n_tasks, n_tasks) "
                                 f"adjacency matrix.")
            if not np.all(np.isfinite(A)) or np.any(A < 0) or not np.allclose(A, A.T):
                raise ValueError("GraphLaplacian: graph must be a symmetric matrix of "
                                 "finite non-negative edge weights.")
        # Column j of task k is linked to column j of task l.
        position = np.zeros(M, dtype=int)
        for k in range(n_tasks):
            cols = np.flatnonzero(task == k)
            position[cols] = np.arange(cols.size)
        A_cols = A[np.ix_(task, task)] * (position[:, None] == position[None, :])
        np.fill_diagonal(A_cols, 0.0)
        laplacian = np.diag(A_cols.sum(axis=1)) - A_cols
        return np.eye(M) + self.graph_ratio * laplacian


class Dirty(Penalty):
    r"""Dirty model: a group-sparse part plus an element-sparse part.

    ``W = P + S`` with

    .. math::
        \Omega(W) = \alpha \min_{P + S = W}
            \Big[\sum_j \|P_{j,:}\|_2 + \beta \|S\|_1\Big]

    :math:`\beta` = ``sparse_ratio``. Features shared by most tasks go to
    ``P``, task-specific exceptions to ``S``. For ``beta >= 1`` the group part
    is never used, for ``beta <= 1/sqrt(n_tasks)`` the element part is never
    used; in between both are. The solver optimizes ``(P, S)`` jointly;
    ``coef_`` is ``P + S`` and the parts are kept on the fitted penalty
    (``group_coef_``, ``sparse_coef_``).

    Parameters
    ----------
    alpha : float, default=0.1
    sparse_ratio : float, default=0.5
        Weight of the element-wise L1 term relative to the L2,1 term.

    Notes
    -----
    Jalali, Ravikumar, Sanghavi & Ruan (2010), "A dirty model for multi-task
    learning", NeurIPS. Jalali et al. use the L1,inf norm for the group part;
    this class uses the L1,2 norm (same support pattern, cheaper proximal
    operator).

    Examples
    --------
    >>> from skmtl.linear import Dirty
    >>> Dirty(alpha=0.5, sparse_ratio=0.4)
    Dirty(alpha=0.5, sparse_ratio=0.4)
    """

    n_parts = 2

    def __init__(self, alpha=0.1, sparse_ratio=0.5):
        self.alpha = alpha
        self.sparse_ratio = sparse_ratio

    def _validate(self):
        super()._validate()
        _check_real(self, "sparse_ratio", self.sparse_ratio, low_open=True)

    def coef(self, V):
        return V[0] + V[1]

    def value(self, V):
        return self.alpha * (float(_row_norms(V[0]).sum())
                             + self.sparse_ratio * float(np.abs(V[1]).sum()))

    def prox(self, V, step):
        t = step * self.alpha
        P = V[0]
        norms = _row_norms(P)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(norms > t, 1.0 - t / norms, 0.0)
        S = V[1]
        ts = t * self.sparse_ratio
        return np.stack([P * scale[:, None],
                         np.sign(S) * np.maximum(np.abs(S) - ts, 0.0)])

    def dual_norm(self, V):
        if not V.size:
            return 0.0
        return max(float(_row_norms(V).max()),
                   float(np.abs(V).max()) / self.sparse_ratio)

    def dual_scale(self, V):
        norm = self.dual_norm(V)
        return 1.0 if norm <= self.alpha else self.alpha / norm

    def conjugate(self, V):
        return 0.0

    def alpha_max(self, V0):
        return self.dual_norm(V0)


def _structured():
    from ._structured import Clustered, TaskRelationship

    return Clustered, TaskRelationship


def _penalty_table():
    Clustered, TaskRelationship = _structured()
    return {
        "ridge": Ridge, "l2": Ridge, "l1": L1, "l21": L21,
        "trace": TraceNorm, "trace-norm": TraceNorm,
        "mean": MeanRegularized, "mean-reg": MeanRegularized,
        "graph": GraphLaplacian, "clustered": Clustered, "dirty": Dirty,
        "mtrl": TaskRelationship, "relationship": TaskRelationship,
    }


PENALTIES = ("ridge", "l2", "l1", "l21", "trace", "trace-norm", "mean", "mean-reg",
             "graph", "clustered", "dirty", "mtrl", "relationship")
"""Names accepted by ``penalty=``: each builds the penalty with its defaults."""


def resolve_penalty(penalty):
    """A fresh penalty object from a penalty or one of :data:`PENALTIES`."""
    from sklearn.base import clone

    if isinstance(penalty, str):
        table = _penalty_table()
        key = penalty.lower()
        if key not in table:
            raise ValueError(f"unknown penalty {penalty!r}; use a Penalty object or "
                             f"one "
                             f"of {list(PENALTIES)}.")
        return table[key]()
    if not isinstance(penalty, Penalty):
        raise TypeError(f"penalty must be a Penalty (e.g. L21(alpha=0.1)) or one of "
                        f"{list(PENALTIES)}, got {penalty!r}.")
    return clone(penalty)
