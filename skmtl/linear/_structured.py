"""Penalties that learn a task structure jointly with ``W``: Clustered, MTRL.

Both are ``min over a task matrix`` of a quadratic penalty. With the task
matrix fixed the penalty is ``alpha/2 tr(W M W^T)`` (a cheap proximal
operator); with ``W`` fixed the best task matrix has a closed form. The
alternating solver (``_solvers.alternating``) switches between the two.
"""

import numbers

import numpy as np

from ._penalties import Penalty, _check_real

__all__ = ["Clustered", "TaskRelationship"]


class _StructuredPenalty(Penalty):
    """A quadratic penalty ``alpha/2 tr(W M(S) W^T)`` minimized over structure S."""

    def _set_matrix(self, matrix):
        matrix = 0.5 * (matrix + matrix.T)
        eigvals, eigvecs = np.linalg.eigh(matrix)
        self._matrix = matrix
        self._eig = (np.maximum(eigvals, 0.0), eigvecs)

    def conditional_prox(self, W, step):
        """Proximal operator with the task structure held fixed."""
        eigvals, U = self._eig
        return ((W @ U) / (1.0 + step * self.alpha * eigvals)) @ U.T

    def conditional_value(self, W):
        return 0.5 * self.alpha * float(np.einsum("ij,jk,ik->", W, self._matrix, W))

    @property
    def task_correlation_(self):
        cov = self.task_covariance_
        d = np.sqrt(np.clip(np.diag(cov), 1e-300, None))
        return cov / np.outer(d, d)


class TaskRelationship(_StructuredPenalty):
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

    Attributes
    ----------
    task_covariance_ : ndarray of shape (n_columns, n_columns)
        The learned :math:`\Sigma` (after a fit).
    task_correlation_ : ndarray of shape (n_columns, n_columns)
        :math:`\Sigma` scaled to unit diagonal.

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

    def __init__(self, alpha=0.1, relationship_ratio=1.0):
        self.alpha = alpha
        self.relationship_ratio = relationship_ratio

    def _validate(self):
        super()._validate()
        _check_real(self, "relationship_ratio", self.relationship_ratio)

    def _prepare(self, n_columns, column_task=None):
        super()._prepare(n_columns, column_task)
        self._set_covariance(np.eye(n_columns) / n_columns)
        return self

    def _set_covariance(self, cov):
        self.task_covariance_ = cov
        eigvals, U = np.linalg.eigh(0.5 * (cov + cov.T))
        eigvals = np.maximum(eigvals, 1e-12 * max(eigvals.max(), 1e-300))
        matrix = U @ np.diag(1.0 + self.relationship_ratio / eigvals) @ U.T
        self._matrix = 0.5 * (matrix + matrix.T)
        self._eig = (1.0 + self.relationship_ratio / eigvals, U)

    def structure_step(self, W):
        """Best task covariance for fixed ``W``."""
        K = W.shape[1]
        gram = W.T @ W
        eigvals, U = np.linalg.eigh(gram)
        eigvals = np.maximum(eigvals, 0.0)
        eps = 1e-10 * max(eigvals.max(), 1e-12)
        root = np.sqrt(eigvals + eps)
        cov = (U * (root / root.sum())) @ U.T
        if not np.all(np.isfinite(cov)):
            cov = np.eye(K) / K
        self._set_covariance(cov)

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


class Clustered(_StructuredPenalty):
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

    Attributes
    ----------
    task_covariance_ : ndarray of shape (n_columns, n_columns)
        The learned :math:`\Sigma` (after a fit); its leading eigenvectors
        span the cluster structure.
    task_correlation_ : ndarray of shape (n_columns, n_columns)

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

    def __init__(self, alpha=0.1, n_clusters=2, within_ratio=10.0, mean_ratio=1.0):
        self.alpha = alpha
        self.n_clusters = n_clusters
        self.within_ratio = within_ratio
        self.mean_ratio = mean_ratio

    def _validate(self):
        super()._validate()
        _check_real(self, "within_ratio", self.within_ratio, low=1.0)
        _check_real(self, "mean_ratio", self.mean_ratio)
        if (not isinstance(self.n_clusters, numbers.Integral)
                or isinstance(self.n_clusters, bool) or self.n_clusters < 1):
            raise ValueError(f"Clustered: n_clusters must be a positive integer, got "
                             f"{self.n_clusters!r}.")

    def _prepare(self, n_columns, column_task=None):
        super()._prepare(n_columns, column_task)
        if self.n_clusters > n_columns:
            raise ValueError(f"Clustered: n_clusters={self.n_clusters} exceeds the "
                             f"number of tasks ({n_columns}).")
        K = n_columns
        self._bounds = (1.0 / self.within_ratio, 1.0)
        r = self.n_clusters
        self._trace = (K - r + 1) / self.within_ratio + r - 1
        self._set_covariance(np.eye(K) * self._trace / K)
        return self

    def _set_covariance(self, cov):
        K = cov.shape[0]
        self.task_covariance_ = cov
        centering = np.eye(K) - np.ones((K, K)) / K
        inv = np.linalg.inv(cov)
        self._set_matrix(self.mean_ratio * np.ones((K, K)) / K
                         + centering @ inv @ centering)

    def _best_sigma(self, s):
        """Eigenvalues of the best Sigma for singular values ``s`` of W Pi."""
        low, high = self._bounds
        s = s + 1e-12 * max(s.max(), 1e-300) + 1e-300
        lo, hi = np.log(s.min() / high) - 1.0, np.log(s.max() / low) + 1.0
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            if np.clip(s / np.exp(mid), low, high).sum() > self._trace:
                lo = mid
            else:
                hi = mid
        return np.clip(s / np.exp(0.5 * (lo + hi)), low, high)

    def _centered_spectrum(self, W):
        Wc = W - W.mean(axis=1, keepdims=True)
        eigvals, U = np.linalg.eigh(Wc.T @ Wc)
        return np.sqrt(np.maximum(eigvals, 0.0)), U

    def structure_step(self, W):
        """Best Sigma for fixed ``W``."""
        s, U = self._centered_spectrum(W)
        sigma = self._best_sigma(s)
        self._set_covariance((U * sigma) @ U.T)

    def value(self, W):
        K = W.shape[1]
        s, _ = self._centered_spectrum(W)
        sigma = self._best_sigma(s)
        mean = W.mean(axis=1)
        return 0.5 * self.alpha * (self.mean_ratio * K * float(mean @ mean)
                                   + float(np.sum(s ** 2 / sigma)))
