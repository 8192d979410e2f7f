"""Penalties on the coefficient matrix ``W`` (n_features, n_columns).

Each penalty is a small parameter object (``get_params`` / ``set_params``, so
``GridSearchCV(est, {"penalty__alpha": [...]})`` reaches it) and nothing
else: fitting never changes it. Before a fit, :meth:`Penalty.prepare` returns
the form a solver uses: the penalty itself when its methods need nothing
from the problem (the norms of this module), or a new object that holds what
the penalty derives from the problem, such as a task matrix and its
eigendecomposition (``_quadratic.py``) or a learned task covariance
(``_structured.py``). The solver owns that object for the fit.

The solver-side methods are ``value`` and ``prox`` for proximal gradient,
``prox_rows`` for coordinate descent over features, ``dual_norm`` /
``conjugate`` for duality gaps and ``alpha_max``. A solver checks for the
methods it needs and names the missing one (see
``_solvers.check_capabilities``).

Columns of ``W`` are the model's outputs: one per regression output or binary
task, one per class for a classification task with more than two classes. The
penalties that couple tasks treat every column as a task.
"""

import numbers

import numpy as np

from ..utils._registry import ParamsMixin

__all__ = ["Penalty", "Ridge", "L1", "L21", "TraceNorm", "Dirty"]


def check_real(owner, name, value, low=0.0, high=None, low_open=False):
    """Raise unless ``value`` is a finite real number in the given range."""
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


def _equal(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(np.asarray(a), np.asarray(b))
    return a == b


if hasattr(np, "vecdot"):  # numpy >= 2: one ufunc call, half einsum's overhead
    def _row_norms(W):
        return np.sqrt(np.vecdot(W, W))
else:  # pragma: no cover - numpy < 2
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
    part_names : tuple of str
        With ``n_parts > 1``, the name of each part: the fitted estimator
        keeps part ``name`` as ``{name}_coef_``.
    ratio_name : str or None
        The second hyper-parameter (beside ``alpha``), which
        ``MultiTaskLinearRegressorCV(ratios=...)`` searches with ``alpha``;
        None for one-parameter penalties.
    """

    n_parts = 1
    part_names = ()
    ratio_name = None

    def __eq__(self, other):
        # a penalty is a value (its hyper-parameters): a warm start resumes
        # a solver's state only for an equal penalty
        if type(self) is not type(other):
            return NotImplemented
        try:
            return all(bool(_equal(getattr(self, name), getattr(other, name)))
                       for name in self._get_param_names())
        except (ValueError, TypeError):
            return False

    __hash__ = object.__hash__

    def _validate(self):
        check_real(self, "alpha", self.alpha)

    def prepare(self, column_task):
        """The form of the penalty that a solver uses for one fit.

        Parameters
        ----------
        column_task : array-like of shape (n_columns,)
            Task index of each column of ``W``.

        Returns
        -------
        prepared : object
            An object with the solver methods (``value``, ``prox``, ...).
            Penalties whose methods need nothing from the problem return
            themselves; the others return a new object holding what they
            derive from it. The penalty itself is never changed.

        Raises
        ------
        ValueError
            If a hyper-parameter is out of its range or does not fit the
            problem (e.g. more clusters than tasks).
        """
        self._validate()
        return self

    def coef(self, V):
        """Coefficient matrix from the solver's variable (``P + S`` for Dirty)."""
        return V

    @property
    def strength(self):
        """Coefficient of the norm part (``alpha`` times its ratio)."""
        return self.alpha

    @property
    def l2_strength(self):
        """Coefficient of the squared Frobenius part ``1/2 ||W||_F^2``."""
        return 0.0

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

    def __init__(self, alpha=0.1):
        self.alpha = alpha

    @property
    def l2_strength(self):
        return self.alpha

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
    """A norm plus an L2 term, optionally restricted to ``W >= 0``.

    ``alpha * (l1_ratio * norm(W) + (1 - l1_ratio) / 2 ||W||^2)``; with
    ``positive=True`` plus the indicator of the non-negative orthant, whose
    proximal operator projects onto it before shrinking and whose dual norm
    sees only the positive part of the gradient.
    """

    ratio_name = "l1_ratio"

    def __init__(self, alpha=0.1, l1_ratio=1.0, positive=False):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.positive = positive

    def _validate(self):
        super()._validate()
        check_real(self, "l1_ratio", self.l1_ratio, 0.0, 1.0)
        if not isinstance(self.positive, (bool, np.bool_)):
            raise TypeError(f"{type(self).__name__}: positive must be True or False, "
                            f"got {self.positive!r}.")

    @property
    def strength(self):
        return self.alpha * self.l1_ratio

    @property
    def l2_strength(self):
        return self.alpha * (1.0 - self.l1_ratio)

    def _feasible(self, Z):
        """``Z`` projected onto the constraint set (``Z >= 0`` when positive)."""
        return np.maximum(Z, 0.0) if self.positive else Z

    def value(self, W):
        return (self.strength * self._norm(W)
                + 0.5 * self.l2_strength * float(np.vdot(W, W)))

    def prox(self, W, step):
        return self.prox_rows(W, float(step))

    def dual_scale(self, V):
        if self.l2_strength > 0 or self.strength == 0:
            return 1.0
        norm = self.dual_norm(V)
        return 1.0 if norm <= self.strength else self.strength / norm

    def dual_norm(self, V):
        return float(self.row_dual_norms(V).max()) if V.size else 0.0

    def conjugate(self, V):
        l2 = self.l2_strength
        if l2 == 0:
            # Indicator of the dual ball; without any penalty it is {0}.
            return 0.0 if self.strength > 0 or not np.any(V) else np.inf
        excess = self._excess(V)
        return float(np.vdot(excess, excess)) / (2.0 * l2)

    def alpha_max(self, V0):
        if self.l1_ratio == 0:
            return None
        return self.dual_norm(V0) / self.l1_ratio


class L1(_ElasticNorm):
    r"""Element-wise L1 penalty (independent lasso per task), with an optional L2 part.

    .. math::
        \Omega(W) = \alpha \rho \|W\|_1 + \frac{\alpha (1 - \rho)}{2} \|W\|_F^2
                    \;[+\ \iota_{W \ge 0}]

    with :math:`\rho` = ``l1_ratio``. With the squared loss and all labels
    present this is ``sklearn.linear_model.Lasso`` (``ElasticNet``) per task,
    ``positive=True`` included.

    Parameters
    ----------
    alpha : float, default=0.1
    l1_ratio : float, default=1.0
        Share of the L1 term, in [0, 1].
    positive : bool, default=False
        Constrain every coefficient to be >= 0.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear import L1
    >>> L1(alpha=1.0).prox(np.array([[3.0, -0.5]]), step=1.0)
    array([[ 2., -0.]])
    >>> L1(alpha=1.0, positive=True).prox(np.array([[3.0, -2.0]]), step=1.0)
    array([[2., 0.]])
    """

    def _norm(self, W):
        return float(np.abs(W).sum())

    def prox_rows(self, Z, steps):
        t = np.reshape(steps, (-1, 1)) * self.strength
        if self.positive:
            out = np.maximum(Z - t, 0.0)
        else:
            out = np.sign(Z) * np.maximum(np.abs(Z) - t, 0.0)
        if self.l2_strength:
            out /= 1.0 + np.reshape(steps, (-1, 1)) * self.l2_strength
        return out

    def row_dual_norms(self, V):
        return np.abs(self._feasible(V)).max(axis=1)

    def _excess(self, V):
        return np.maximum(np.abs(self._feasible(V)) - self.strength, 0.0)


class L21(_ElasticNorm):
    r"""Joint feature selection: the L2,1 (group lasso) norm over rows of ``W``.

    .. math::
        \Omega(W) = \alpha \rho \sum_j \|W_{j,:}\|_2
                    + \frac{\alpha (1 - \rho)}{2} \|W\|_F^2
                    \;[+\ \iota_{W \ge 0}]

    Each feature is used by every task or by none. With the squared loss and
    every label present, ``L21(alpha)`` is
    ``sklearn.linear_model.MultiTaskLasso(alpha)`` and
    ``L21(alpha, l1_ratio)`` is ``MultiTaskElasticNet(alpha, l1_ratio)``.

    Parameters
    ----------
    alpha : float, default=0.1
    l1_ratio : float, default=1.0
        Share of the L2,1 term, in [0, 1]; below 1 the elastic-net form.
    positive : bool, default=False
        Constrain every coefficient to be >= 0: the proximal operator projects
        each row onto the non-negative orthant, then shrinks it.

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
    >>> L21(alpha=1.0, positive=True).prox(np.array([[3.0, -4.0]]), step=1.0)
    array([[2., 0.]])
    """

    def _norm(self, W):
        return float(_row_norms(W).sum())

    def prox_rows(self, Z, steps):
        # Rows shrink by max(0, 1 - t / |z|): one pass, no division by zero.
        Z = self._feasible(Z)
        threshold = np.multiply(steps, self.strength)
        scale = threshold / np.maximum(_row_norms(Z), 1e-300)
        np.subtract(1.0, scale, out=scale)
        np.maximum(scale, 0.0, out=scale)
        if self.l2_strength:
            scale /= 1.0 + np.multiply(steps, self.l2_strength)
        return Z * scale[:, None]

    def row_dual_norms(self, V):
        return _row_norms(self._feasible(V))

    def _excess(self, V):
        return np.maximum(self.row_dual_norms(V) - self.strength, 0.0)


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


class PlusSparsePenalty(Penalty):
    """``W = P + S``: a structured part ``P`` plus an element-sparse part ``S``.

    ``alpha * min_{P + S = W} [norm(P) + sparse_ratio * ||S||_1]``; a
    subclass gives the part's norm, its proximal operator and its dual norm.
    """

    n_parts = 2
    ratio_name = "sparse_ratio"

    def __init__(self, alpha=0.1, sparse_ratio=0.5):
        self.alpha = alpha
        self.sparse_ratio = sparse_ratio

    def _validate(self):
        super()._validate()
        check_real(self, "sparse_ratio", self.sparse_ratio, low_open=True)

    def coef(self, V):
        return V[0] + V[1]

    def value(self, V):
        return self.alpha * (self._part_norm(V[0])
                             + self.sparse_ratio * float(np.abs(V[1]).sum()))

    def prox(self, V, step):
        t = step * self.alpha
        S = V[1]
        sparse = np.sign(S) * np.maximum(np.abs(S) - t * self.sparse_ratio, 0.0)
        return np.stack([self._part_prox(V[0], t), sparse])

    def dual_norm(self, V):
        if not V.size:
            return 0.0
        return max(self._part_dual_norm(V), float(np.abs(V).max()) / self.sparse_ratio)

    def dual_scale(self, V):
        norm = self.dual_norm(V)
        return 1.0 if norm <= self.alpha else self.alpha / norm

    def conjugate(self, V):
        return 0.0

    def alpha_max(self, V0):
        return self.dual_norm(V0)


class Dirty(PlusSparsePenalty):
    r"""Dirty model: a group-sparse part plus an element-sparse part.

    ``W = P + S`` with

    .. math::
        \Omega(W) = \alpha \min_{P + S = W}
            \Big[\sum_j \|P_{j,:}\|_2 + \beta \|S\|_1\Big]

    :math:`\beta` = ``sparse_ratio``. Features shared by most tasks go to
    ``P``, task-specific exceptions to ``S``. For ``beta >= 1`` the group part
    is never used, for ``beta <= 1/sqrt(n_tasks)`` the element part is never
    used; in between both are. The solver optimizes ``(P, S)`` jointly;
    ``coef_`` is ``P + S`` and the fitted estimator keeps the parts as
    ``group_coef_`` and ``sparse_coef_``.

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

    part_names = ("group", "sparse")

    def _part_norm(self, P):
        return float(_row_norms(P).sum())

    def _part_prox(self, P, t):
        norms = _row_norms(P)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(norms > t, 1.0 - t / norms, 0.0)
        return P * scale[:, None]

    def _part_dual_norm(self, V):
        return float(_row_norms(V).max())
