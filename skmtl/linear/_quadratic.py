"""Quadratic task penalties ``alpha/2 tr(W M W^T)``: MeanRegularized, GraphLaplacian.

The penalty object holds the hyper-parameters; :meth:`QuadraticPenalty.prepare`
builds the task matrix ``M`` of one problem and returns a
:class:`TaskQuadratic`, which holds ``M`` and its eigendecomposition for the
solver (the proximal operator is ``W (I + step alpha M)^{-1}``, one product
with the eigenvectors).
"""

import numpy as np

from ._penalties import Penalty, check_real

__all__ = ["TaskQuadratic", "QuadraticPenalty", "MeanRegularized", "GraphLaplacian"]


class TaskQuadratic:
    """``alpha/2 tr(W M W^T)`` for one fixed PSD task matrix ``M``, ready to solve.

    Built by :meth:`QuadraticPenalty.prepare` (and by the structured
    penalties for each task structure); holds ``M`` and its
    eigendecomposition.

    Parameters
    ----------
    alpha : float
    matrix : ndarray of shape (n_columns, n_columns)
        Positive semi-definite (symmetrized here; eigenvalues below 0 from
        rounding are set to 0).
    eig : tuple of ndarray, default=None
        ``(eigenvalues, eigenvectors)`` of ``matrix`` when the caller knows
        them; None computes them.
    """

    n_parts = 1

    def __init__(self, alpha, matrix, eig=None):
        self.alpha = float(alpha)
        self.matrix = 0.5 * (matrix + matrix.T)
        eigvals, self.eigvecs = np.linalg.eigh(self.matrix) if eig is None else eig
        self.eigvals = np.maximum(eigvals, 0.0)

    def coef(self, V):
        return V

    def alpha_max(self, V0):
        return None

    def value(self, W):
        return 0.5 * self.alpha * float(np.einsum("ij,jk,ik->", W, self.matrix, W))

    def prox(self, W, step):
        U = self.eigvecs
        return ((W @ U) / (1.0 + step * self.alpha * self.eigvals)) @ U.T

    def dual_scale(self, V):
        return 1.0

    def conjugate(self, V):
        eigvals = self.eigvals
        if self.alpha == 0 or eigvals.min() <= 1e-12 * max(eigvals.max(), 1.0):
            # Singular M: the conjugate is finite only on its range; no gap.
            return np.inf
        VU = V @ self.eigvecs
        return float(np.sum(VU ** 2 / eigvals)) / (2.0 * self.alpha)


class QuadraticPenalty(Penalty):
    r"""Base of the penalties ``alpha/2 * tr(W M W^T)`` for a task matrix ``M``.

    Subclasses define ``task_matrix(column_task)``, the positive
    semi-definite ``M`` (n_columns, n_columns) of a problem.
    """

    def task_matrix(self, column_task):
        """The task matrix ``M`` for the model columns of ``column_task``."""
        raise NotImplementedError

    def prepare(self, column_task):
        """A :class:`TaskQuadratic` holding this problem's task matrix."""
        self._validate()
        return TaskQuadratic(self.alpha, self.task_matrix(np.asarray(column_task)))


class MeanRegularized(QuadraticPenalty):
    r"""Tasks close to a shared model (Evgeniou & Pontil's regularized MTL).

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

    With ``task_features`` :math:`z_k` (what is known about each task: a
    school's size, sector or mean intake), the shared model of task
    :math:`k` is linear in them, :math:`w_0 + B z_k`, so that tasks with
    similar features have similar coefficients (in a mixed model, the
    cross-level interactions):

    .. math::
        \Omega(W) = \frac{\alpha}{2} \min_{w_0, B}
            \Big[\sum_k \|w_k - w_0 - B z_k\|^2
            + \mu \big(\|w_0\|^2 + \|B\|_F^2\big)\Big]
        = \frac{\alpha}{2} \operatorname{tr}\Big(W \big(I
            - \tilde Z (\tilde Z^\top \tilde Z + \mu I)^{-1}
            \tilde Z^\top\big) W^\top\Big)

    with :math:`\tilde Z` the matrix of rows :math:`(1, z_k^\top)`. Without
    task features :math:`\tilde Z` is the column of ones and this is the
    formula above.

    Parameters
    ----------
    alpha : float, default=0.1
        Strength of the pull towards the shared model.
    mean_ratio : float, default=1.0
        Penalty on the shared model (``w_0`` and ``B``) relative to that on
        each deviation.
    task_features : array-like of shape (n_tasks, n_task_features), default=None
        One row of descriptors per task, in the order of the tasks. They
        share one penalty ``mean_ratio``, so give them comparable scales
        (standardize them). None: the shared model is the same for every
        task. For tasks with several columns, each column of a task gets its
        task's row.

    Notes
    -----
    Evgeniou & Pontil (2004), "Regularized multi-task learning", KDD. The
    problem equals ridge regression on the feature map
    :math:`\phi(x, t) = (x / \sqrt{\mu}, 0, ..., x, ..., 0)` (``x`` in block
    ``t``), which the tests check; with task features, on
    :math:`\phi(x, t) = (\tilde z_t \otimes x / \sqrt{\mu}, 0, ..., x, ...,
    0)`, the multi-task kernel :math:`\big((1 + z_s^\top z_t) / \mu +
    \delta_{st}\big) x^\top x'` of Evgeniou, Micchelli & Pontil (2005),
    "Learning multiple tasks with kernel methods", JMLR 6, built from task
    features as in their school experiments.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear import MeanRegularized
    >>> prepared = MeanRegularized(alpha=2.0, mean_ratio=0.0).prepare([0, 1])
    >>> prepared.value(np.array([[1.0, 3.0]]))  # alpha/2 * sum_k (w_k - mean)^2
    2.0
    >>> pen = MeanRegularized(alpha=2.0, mean_ratio=0.0,
    ...                       task_features=[[0.0], [1.0], [2.0]])
    >>> w = np.array([[1.0, 3.0, 5.0]])  # linear in the task feature: no penalty
    >>> round(pen.prepare([0, 1, 2]).value(w), 12)
    0.0
    """

    ratio_name = "mean_ratio"

    def __init__(self, alpha=0.1, mean_ratio=1.0, task_features=None):
        self.alpha = alpha
        self.mean_ratio = mean_ratio
        self.task_features = task_features

    def _validate(self):
        super()._validate()
        check_real(self, "mean_ratio", self.mean_ratio)

    def _shared_design(self, column_task):
        """``Z~``: a column of ones, then the task features of each model column."""
        task = np.asarray(column_task)
        ones = np.ones((task.size, 1))
        if self.task_features is None:
            return ones
        Z = np.asarray(self.task_features, dtype=float)
        n_tasks = int(task.max()) + 1
        if Z.ndim != 2 or Z.shape[0] != n_tasks:
            raise ValueError(f"MeanRegularized: task_features has shape {Z.shape} but "
                             f"there are {n_tasks} tasks; give an (n_tasks, "
                             f"n_task_features) array, one row per task.")
        if not np.all(np.isfinite(Z)):
            raise ValueError("MeanRegularized: task_features must be finite (no NaN "
                             "or inf).")
        return np.hstack([ones, Z[task]])

    def task_matrix(self, column_task):
        Z = self._shared_design(column_task)
        K = Z.shape[0]
        if Z.shape[1] == 1:
            return np.eye(K) - np.ones((K, K)) / (K + self.mean_ratio)
        # I - Z (Z^T Z + mu I)^+ Z^T: the residual of a ridge fit of each row
        # of W on the task features (a projection when mu = 0).
        gram = Z.T @ Z + self.mean_ratio * np.eye(Z.shape[1])
        return np.eye(K) - Z @ np.linalg.pinv(gram, hermitian=True) @ Z.T


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
    >>> prepared = GraphLaplacian(alpha=1.0, graph=[[0, 1], [1, 0]]).prepare([0, 1])
    >>> prepared.value(np.array([[1.0, 3.0]]))  # (1 + 9)/2 + (1 - 3)^2 / 2
    7.0
    """

    ratio_name = "graph_ratio"

    def __init__(self, alpha=0.1, graph=None, graph_ratio=1.0):
        self.alpha = alpha
        self.graph = graph
        self.graph_ratio = graph_ratio

    def _validate(self):
        super()._validate()
        check_real(self, "graph_ratio", self.graph_ratio)

    def task_matrix(self, column_task):
        task = np.asarray(column_task)
        M = task.size
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
