"""Penalties that learn a task structure jointly with ``W``: Clustered, MTRL.

Both are ``min over a task matrix`` of a quadratic penalty. With the task
matrix fixed the penalty is ``alpha/2 tr(W M W^T)`` (a cheap proximal
operator); with ``W`` fixed the best task matrix has a closed form. The
alternating solver (``_solvers.alternating``) switches between the two.

The penalty objects hold hyper-parameters only. ``prepare`` returns the
solver's per-fit :class:`LearnedTaskStructure`, which holds the current task
covariance and its quadratic penalty and is updated by ``structure_step``.
"""

import numbers

import numpy as np

from ._penalties import Penalty, check_real
from ._quadratic import TaskQuadratic

__all__ = ["Clustered", "TaskRelationship", "LearnedTaskStructure", "task_correlation"]


def task_correlation(covariance):
    """A task covariance scaled to unit diagonal."""
    d = np.sqrt(np.clip(np.diag(covariance), 1e-300, None))
    return covariance / np.outer(d, d)


class LearnedTaskStructure:
    """A structured penalty bound to one fit: the current task covariance.

    ``structure_step(W)`` sets the best covariance for fixed ``W``;
    ``conditional_prox`` / ``conditional_value`` are the quadratic penalty
    with the current covariance held fixed; ``value`` is the penalty
    minimized over the structure (the true objective term).

    Attributes
    ----------
    penalty : Penalty
        The hyper-parameters (never changed).
    task_covariance : ndarray of shape (n_columns, n_columns)
    """

    n_parts = 1

    def __init__(self, penalty, n_columns):
        self.penalty = penalty
        self.alpha = penalty.alpha
        self.n_columns = n_columns

    def coef(self, V):
        return V

    def alpha_max(self, V0):
        return None

    def _set_quadratic(self, cov, matrix, eig=None):
        self.task_covariance = cov
        self._fixed = TaskQuadratic(self.alpha, matrix, eig)

    def conditional_prox(self, W, step):
        """Proximal operator with the task structure held fixed."""
        return self._fixed.prox(W, step)

    def conditional_value(self, W):
        return self._fixed.value(W)



class _RelationshipStructure(LearnedTaskStructure):
    """:class:`TaskRelationship` in one fit (its covariance starts at I / K)."""

    def __init__(self, penalty, n_columns):
        super().__init__(penalty, n_columns)
        self.set_covariance(np.eye(n_columns) / n_columns)

    def set_covariance(self, cov):
        ratio = self.penalty.relationship_ratio
        eigvals, U = np.linalg.eigh(0.5 * (cov + cov.T))
        eigvals = np.maximum(eigvals, 1e-12 * max(eigvals.max(), 1e-300))
        matrix = U @ np.diag(1.0 + ratio / eigvals) @ U.T
        self._set_quadratic(cov, matrix, (1.0 + ratio / eigvals, U))

    def structure_step(self, W):
        """Best task covariance for fixed ``W``."""
        K = W.shape[1]
        eigvals, U = np.linalg.eigh(W.T @ W)
        eigvals = np.maximum(eigvals, 0.0)
        eps = 1e-10 * max(eigvals.max(), 1e-12)
        root = np.sqrt(eigvals + eps)
        cov = (U * (root / root.sum())) @ U.T
        if not np.all(np.isfinite(cov)):
            cov = np.eye(K) / K
        self.set_covariance(cov)

    def value(self, W):
        return self.penalty.value(W)

    def prox(self, W, step):
        return self.penalty.prox(W, step)


class _ClusteredStructure(LearnedTaskStructure):
    """:class:`Clustered` in one fit: Sigma within its bounds and trace."""

    def __init__(self, penalty, n_columns):
        super().__init__(penalty, n_columns)
        K, r = n_columns, penalty.n_clusters
        self.bounds = (1.0 / penalty.within_ratio, 1.0)
        self.trace = (K - r + 1) / penalty.within_ratio + r - 1
        self.set_covariance(np.eye(K) * self.trace / K)

    def set_covariance(self, cov):
        K = cov.shape[0]
        centering = np.eye(K) - np.ones((K, K)) / K
        inv = np.linalg.inv(cov)
        self._set_quadratic(cov, self.penalty.mean_ratio * np.ones((K, K)) / K
                            + centering @ inv @ centering)

    def best_sigma(self, s):
        """Eigenvalues of the best Sigma for singular values ``s`` of W Pi."""
        low, high = self.bounds
        s = s + 1e-12 * max(s.max(), 1e-300) + 1e-300
        lo, hi = np.log(s.min() / high) - 1.0, np.log(s.max() / low) + 1.0
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            if np.clip(s / np.exp(mid), low, high).sum() > self.trace:
                lo = mid
            else:
                hi = mid
        return np.clip(s / np.exp(0.5 * (lo + hi)), low, high)

    @staticmethod
    def _centered_spectrum(W):
        Wc = W - W.mean(axis=1, keepdims=True)
        eigvals, U = np.linalg.eigh(Wc.T @ Wc)
        return np.sqrt(np.maximum(eigvals, 0.0)), U

    def structure_step(self, W):
        """Best Sigma for fixed ``W``."""
        s, U = self._centered_spectrum(W)
        self.set_covariance((U * self.best_sigma(s)) @ U.T)

    def value(self, W):
        K = W.shape[1]
        s, _ = self._centered_spectrum(W)
        sigma = self.best_sigma(s)
        mean = W.mean(axis=1)
        return 0.5 * self.alpha * (self.penalty.mean_ratio * K * float(mean @ mean)
                                   + float(np.sum(s ** 2 / sigma)))


class TaskRelationship(Penalty):
    r"""Multi-task relationship learning (MTRL): a task covariance learned with W.

    .. math::
        \Omega(W) = \frac{\alpha}{2}\Big[\|W\|_F^2 + \gamma
            \min_{\Sigma \succeq 0,\ \operatorname{tr}\Sigma = 1}
            \operatorname{tr}(W \Sigma^{-1} W^\top)\Big]
        = \frac{\alpha}{2}\big[\|W\|_F^2 + \gamma \|W\|_*^2\big]

    with :math:`\gamma` = ``relationship_ratio``. The minimizing
    :math:`\Sigma = (W^\top W)^{1/2} / \operatorname{tr}(W^\top W)^{1/2}` is
    the learned task covariance: positive entries mark tasks that help each
    other, negative entries tasks with opposite effects.

    Parameters
    ----------
    alpha : float, default=0.1
    relationship_ratio : float, default=1.0
        Strength of the task-covariance term relative to the L2 term.

    The fitted estimator holds the learned :math:`\Sigma` as
    ``task_covariance_`` (and ``task_correlation_``, scaled to unit
    diagonal); the penalty object holds the hyper-parameters only.

    Notes
    -----
    Zhang & Yeung (2010), "A convex formulation for learning task
    relationships in multi-task learning", UAI. The closed form in
    :math:`W` is a squared trace norm, whose proximal operator shrinks the
    singular values like the prox of a squared L1 norm, so ``solver="auto"``
    fits it by FISTA and sets :math:`\Sigma` from the solution;
    ``solver="alternating"`` alternates between ``W`` and :math:`\Sigma`
    (computed from :math:`W^\top W + \epsilon I` with a tiny
    :math:`\epsilon` so that it stays invertible), as in the paper.

    Examples
    --------
    >>> from skmtl.linear import TaskRelationship
    >>> TaskRelationship(alpha=0.5)
    TaskRelationship(alpha=0.5)
    """

    ratio_name = "relationship_ratio"

    def __init__(self, alpha=0.1, relationship_ratio=1.0):
        self.alpha = alpha
        self.relationship_ratio = relationship_ratio

    def _validate(self):
        super()._validate()
        check_real(self, "relationship_ratio", self.relationship_ratio)

    def prepare(self, column_task):
        """The fit's task structure (covariance ``I / K`` to start)."""
        self._validate()
        return _RelationshipStructure(self, len(column_task))

    def value(self, W):
        s = np.linalg.svd(W, compute_uv=False)
        return 0.5 * self.alpha * (float(s @ s) + self.relationship_ratio
                                   * float(s.sum()) ** 2)

    def prox(self, W, step):
        """Proximal operator of ``step * penalty`` (singular values shrunk).

        With ``t = step * alpha`` and singular values ``s`` of ``W``, the new
        singular values minimize ``|x - s|^2 / 2 + t/2 (|x|^2 + gamma
        (sum x)^2)``: the prox of ``lam/2 (sum x)^2`` at ``s / (1 + t)`` with
        ``lam = t gamma / (1 + t)``, i.e. ``max(s / (1 + t) - tau, 0)`` with
        ``tau = lam / (1 + k lam) * sum_{i<=k} s_i / (1 + t)`` for the
        largest ``k`` that keeps the ``k``-th value positive.
        """
        U, s, Vt = np.linalg.svd(W, full_matrices=False)
        t = step * self.alpha
        shrunk = s / (1.0 + t)
        lam = t * self.relationship_ratio / (1.0 + t)
        k = np.arange(1, s.size + 1)
        tau = lam / (1.0 + k * lam) * np.cumsum(shrunk)
        active = np.flatnonzero(shrunk > tau)
        if not active.size:
            return np.zeros_like(W)
        values = np.maximum(shrunk - tau[active[-1]], 0.0)
        keep = values > 0
        return (U[:, keep] * values[keep]) @ Vt[keep]


class Clustered(Penalty):
    r"""Convex clustered multi-task learning: tasks fall into a few clusters.

    With :math:`\Pi = I - \mathbf{1}\mathbf{1}^\top / K` (centering over
    tasks) and :math:`\bar w` the mean task,

    .. math::
        \Omega(W) = \frac{\alpha}{2}\Big[\epsilon_M K \|\bar w\|^2
            + \min_{\Sigma \in \mathcal{S}}
              \operatorname{tr}(W \Pi \Sigma^{-1} \Pi W^\top)\Big],

    .. math::
        \mathcal{S} = \{\Sigma : \epsilon_W^{-1} I \preceq \Sigma \preceq I,\
            \operatorname{tr}\Sigma = (K - r + 1)/\epsilon_W + r - 1\}

    the convex relaxation of a penalty on the between-cluster variance
    (weight 1), the within-cluster variance (weight :math:`\epsilon_W` =
    ``within_ratio``) and the mean (:math:`\epsilon_M` = ``mean_ratio``) for
    :math:`r` = ``n_clusters`` clusters.

    Parameters
    ----------
    alpha : float, default=0.1
    n_clusters : int, default=2
        Number of task clusters ``r`` (at most the number of tasks).
    within_ratio : float, default=10.0
        Penalty on within-cluster spread relative to between-cluster spread
        (>= 1).
    mean_ratio : float, default=1.0
        Penalty on the mean task relative to the between-cluster spread.

    The fitted estimator holds the learned :math:`\Sigma` as
    ``task_covariance_`` (its leading eigenvectors span the cluster
    structure) and ``task_correlation_``.

    Notes
    -----
    Jacob, Bach & Vert (2008), "Clustered multi-task learning: a convex
    formulation", NeurIPS. Fitted by alternating minimization; the
    :math:`\Sigma` step is an eigendecomposition of :math:`(W\Pi)^\top W\Pi`
    and a one-dimensional search for the trace constraint.

    Examples
    --------
    >>> from skmtl.linear import Clustered
    >>> Clustered(n_clusters=3)
    Clustered(n_clusters=3)
    """

    ratio_name = "within_ratio"

    def __init__(self, alpha=0.1, n_clusters=2, within_ratio=10.0, mean_ratio=1.0):
        self.alpha = alpha
        self.n_clusters = n_clusters
        self.within_ratio = within_ratio
        self.mean_ratio = mean_ratio

    def _validate(self):
        super()._validate()
        check_real(self, "within_ratio", self.within_ratio, low=1.0)
        check_real(self, "mean_ratio", self.mean_ratio)
        if (not isinstance(self.n_clusters, numbers.Integral)
                or isinstance(self.n_clusters, bool) or self.n_clusters < 1):
            raise ValueError(f"Clustered: n_clusters must be a positive integer, got "
                             f"{self.n_clusters!r}.")

    def prepare(self, column_task):
        """The fit's task structure (``Sigma`` proportional to ``I`` to start)."""
        self._validate()
        n_columns = len(column_task)
        if self.n_clusters > n_columns:
            raise ValueError(f"Clustered: n_clusters={self.n_clusters} exceeds the "
                             f"number of tasks ({n_columns}).")
        return _ClusteredStructure(self, n_columns)
