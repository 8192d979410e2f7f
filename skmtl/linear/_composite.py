"""Composite penalties: ``W`` split into parts with a different norm on each."""

import numpy as np

from ._penalties import Penalty, _check_real

__all__ = ["SparseLowRank"]


class SparseLowRank(Penalty):
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

    n_parts = 2
    part_names = ("low_rank", "sparse")
    ratio_name = "sparse_ratio"

    def __init__(self, alpha=0.1, sparse_ratio=0.5):
        self.alpha = alpha
        self.sparse_ratio = sparse_ratio

    def _validate(self):
        super()._validate()
        _check_real(self, "sparse_ratio", self.sparse_ratio, low_open=True)

    def coef(self, V):
        return V[0] + V[1]

    def value(self, V):
        nuclear = float(np.linalg.svd(V[0], compute_uv=False).sum()) if V[0].size else 0.0
        return self.alpha * (nuclear + self.sparse_ratio * float(np.abs(V[1]).sum()))

    def prox(self, V, step):
        t = step * self.alpha
        U, s, Vt = np.linalg.svd(V[0], full_matrices=False)
        s = np.maximum(s - t, 0.0)
        keep = s > 0
        low_rank = (U[:, keep] * s[keep]) @ Vt[keep]
        S = V[1]
        sparse = np.sign(S) * np.maximum(np.abs(S) - t * self.sparse_ratio, 0.0)
        return np.stack([low_rank, sparse])

    def dual_norm(self, V):
        if not V.size:
            return 0.0
        return max(float(np.linalg.norm(V, 2)),
                   float(np.abs(V).max()) / self.sparse_ratio)

    def dual_scale(self, V):
        norm = self.dual_norm(V)
        return 1.0 if norm <= self.alpha else self.alpha / norm

    def conjugate(self, V):
        return 0.0

    def alpha_max(self, V0):
        return self.dual_norm(V0)
