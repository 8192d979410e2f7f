"""Composite penalties: ``W`` split into parts with a different norm on each."""

import numpy as np

from ._penalties import Penalty, PlusSparsePenalty, check_real

__all__ = ["SparseLowRank", "MeanLowRank"]


def _nuclear_norm(M):
    return float(np.linalg.svd(M, compute_uv=False).sum()) if M.size else 0.0


class SparseLowRank(PlusSparsePenalty):
    r"""Sparse plus low-rank model: a shared subspace plus task-specific exceptions.

    ``W = L + S`` with

    .. math::
        \Omega(W) = \alpha \min_{L + S = W}
            \Big[\|L\|_* + \beta \|S\|_1\Big]

    :math:`\beta` = ``sparse_ratio``. The tasks' common structure lies in the
    low-rank part ``L`` (a few shared directions, as with
    :class:`TraceNorm`); single coefficients that leave that subspace, for
    instance one task that also uses a feature of its own, go to the sparse
    part ``S`` instead of raising the rank. The solver (FISTA on ``(L, S)``)
    applies singular value thresholding to ``L`` and soft thresholding to
    ``S``; ``coef_`` is ``L + S`` and the fitted estimator keeps the parts as
    ``low_rank_coef_`` and ``sparse_coef_``.

    For large ``beta`` the sparse part stays at zero (the trace norm alone);
    for ``beta`` below ``1 / sqrt(min(n_features, n_tasks))`` (times the
    ratio of the dual norms, roughly) the low-rank part does.

    Parameters
    ----------
    alpha : float, default=0.1
    sparse_ratio : float, default=0.5
        Weight of the element-wise L1 term relative to the trace norm.

    Notes
    -----
    Chen, Liu & Ye (2012), "Learning incoherent sparse and low-rank patterns
    from multiple tasks", ACM Transactions on Knowledge Discovery from Data
    5(4) (MALSAR's ``Least_SparseTrace`` solves the constrained form);
    Chandrasekaran, Sanghavi, Parrilo & Willsky (2011), "Rank-sparsity
    incoherence for matrix decomposition", SIAM J. Optimization 21(2). The
    dual norm of the infimal convolution is ``max(||V||_2, ||V||_max /
    beta)``, which gives ``alpha_max`` and the duality gap.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear import SparseLowRank
    >>> pen = SparseLowRank(alpha=1.0, sparse_ratio=0.5)
    >>> L, S = pen.prox(np.stack([np.diag([3.0, 0.2]), np.diag([0.0, 2.0])]), 1.0)
    >>> np.round(L, 6), np.round(S, 6)
    (array([[2., 0.],
           [0., 0.]]), array([[0. , 0. ],
           [0. , 1.5]]))
    """

    part_names = ("low_rank", "sparse")

    def _part_norm(self, P):
        return _nuclear_norm(P)

    def _part_prox(self, P, t):
        U, s, Vt = np.linalg.svd(P, full_matrices=False)
        s = np.maximum(s - t, 0.0)
        keep = s > 0
        return (U[:, keep] * s[keep]) @ Vt[keep]

    def _part_dual_norm(self, V):
        return float(np.linalg.norm(V, 2))


class MeanLowRank(Penalty):
    r"""Tasks close to a shared model, with deviations in a low-dimensional subspace.

    ``W = w_0 1^T + L``: every task is the shared model :math:`w_0` plus a
    deviation, and the deviations span few directions:

    .. math::
        \Omega(W) = \alpha \min_{w_0,\ L = W - w_0 \mathbf{1}^\top}
            \Big[\|L\|_* + \frac{\mu K}{2} \|w_0\|^2\Big]

    with :math:`\mu` = ``mean_ratio`` and :math:`K` the number of tasks.
    :class:`MeanRegularized` (Evgeniou & Pontil) shrinks every deviation
    equally in every direction; here the trace norm keeps the few directions
    in which the tasks really differ (in school data: the intercept and a few
    slopes) and removes the others, while the shared model is only lightly
    shrunk (``mean_ratio`` small) or not at all (``mean_ratio=0``).

    The solver (FISTA on ``(P, L)`` with ``P = w_0 1^T``) projects ``P`` onto
    matrices with equal columns and shrinks it, and thresholds the singular
    values of ``L``; ``coef_`` is ``P + L``, the fitted estimator keeps the
    parts as ``mean_coef_`` (every column is :math:`w_0`) and
    ``low_rank_coef_``.

    Parameters
    ----------
    alpha : float, default=0.1
    mean_ratio : float, default=0.1
        Ridge on the shared model relative to the trace norm of the
        deviations; 0 leaves the shared model unpenalized.

    Notes
    -----
    Combines the regularized MTL of Evgeniou & Pontil (2004), "Regularized
    multi-task learning", KDD (tasks as a shared model plus deviations) with
    the shared low-dimensional subspace of Argyriou, Evgeniou & Pontil (2008),
    "Convex multi-task feature learning", Machine Learning 73(3), as in the
    "robust multi-task learning" decompositions of Chen, Zhou & Ye (2011),
    "Integrating low-rank and group-sparse structures for robust multi-task
    learning", KDD. The conjugate is ``||Pi V||^2 / (2 alpha mu)`` on the
    ball ``||V||_2 <= alpha`` (``Pi``: the mean over tasks, repeated), which
    gives the duality gap.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear import MeanLowRank
    >>> pen = MeanLowRank(alpha=1.0, mean_ratio=1.0)
    >>> P, L = pen.prox(np.stack([np.array([[2.0, 4.0]]), np.zeros((1, 2))]), 1.0)
    >>> P  # the columns' mean, shrunk by 1 / (1 + alpha mean_ratio)
    array([[1.5, 1.5]])
    """

    n_parts = 2
    part_names = ("mean", "low_rank")
    ratio_name = "mean_ratio"

    def __init__(self, alpha=0.1, mean_ratio=0.1):
        self.alpha = alpha
        self.mean_ratio = mean_ratio

    def _validate(self):
        super()._validate()
        check_real(self, "mean_ratio", self.mean_ratio)

    def coef(self, V):
        return V[0] + V[1]

    def value(self, V):
        mean = 0.5 * self.mean_ratio * float(np.vdot(V[0], V[0]))
        return self.alpha * (_nuclear_norm(V[1]) + mean)

    def prox(self, V, step):
        t = step * self.alpha
        mean = V[0].mean(axis=1, keepdims=True) / (1.0 + t * self.mean_ratio)
        U, s, Vt = np.linalg.svd(V[1], full_matrices=False)
        s = np.maximum(s - t, 0.0)
        keep = s > 0
        return np.stack([np.broadcast_to(mean, V[0].shape),
                         (U[:, keep] * s[keep]) @ Vt[keep]])

    def dual_scale(self, V):
        norm = float(np.linalg.norm(V, 2)) if V.size else 0.0
        return 1.0 if norm <= self.alpha else self.alpha / norm

    def conjugate(self, V):
        mean = V.mean(axis=1)
        if self.alpha == 0 or self.mean_ratio == 0:
            # The shared model is free: finite only where the mean part is 0.
            return 0.0 if not np.any(mean) else np.inf
        K = V.shape[1]
        return K * float(mean @ mean) / (2.0 * self.alpha * self.mean_ratio)
