"""Aligned-MTL: task gradients aligned to condition number one, and its kernel."""

import numpy as np

from ._base import WEIGHTINGS, _check_pref
from ._jacobian import GradientWeighting, check_gram

__all__ = ["AlignedMTL", "aligned_mtl_weights"]


class AlignedMTL(GradientWeighting):
    """Aligned multi-task learning (Senushkin et al., 2023): condition number one.

    With the Gram matrix ``G = J J^T = V diag(lambda) V^T`` of the task
    gradients, the balance transformation ``B = sqrt(sigma) V
    diag(lambda)^-1/2 V^T`` aligns the gradients: ``J' = B J`` has the Gram
    matrix ``sigma I``, orthogonal gradients of equal norm (condition number
    1, no dominant task and no conflict). The shared parameters get
    ``pref @ J' = (B pref) @ J``; each head keeps its own task's gradient.

    Parameters
    ----------
    pref_vector : None or array-like of shape (n_tasks,), default=None
        Weights of the aligned gradients; None is ones.
    scale : {"min", "median", "mean"}, default="min"
        ``sigma``: the smallest eigenvalue of ``G`` (the paper's), the median
        or the mean.
    on : {"parameters", "representation"}, default="parameters"
        Task gradients of the shared parameters, or of the shared
        representation (the cheap form; see :class:`GradientWeighting`).

    Notes
    -----
    Computed on the Gram matrix
    (:func:`~skmtl.neural.weighting._aligned_mtl.aligned_mtl_weights`); the
    eigenvalues below ``K eps lambda_max`` are dropped (linearly dependent
    gradients). One backward pass per task. Reference: [1]_.

    References
    ----------
    .. [1] D. Senushkin, N. Patakin, A. Kuznetsov and A. Konushin,
       "Independent component alignment for multi-task learning", CVPR 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl import Task
    >>> from skmtl.neural.weighting import AlignedMTL
    >>> strategy = AlignedMTL().initialize([Task("a"), Task("b")])
    >>> strategy.gram_weights(np.diag([4.0, 1.0])).tolist()  # both of norm 1
    [0.5, 1.0]
    """

    def __init__(self, pref_vector=None, scale="min", on="parameters"):
        self.pref_vector = pref_vector
        self.scale = scale
        self.on = on

    def initialize(self, tasks):
        super().initialize(tasks)
        self._pref = _check_pref("AlignedMTL", self.pref_vector, self.n_tasks_)
        if self.scale not in ("min", "median", "mean"):
            raise ValueError(f"AlignedMTL: scale must be 'min', 'median' or 'mean', "
                             f"got {self.scale!r}.")
        return self

    def gram_weights(self, gram):
        pref = None if self._pref is None else self._pref[self._active]
        return aligned_mtl_weights(gram, pref, scale=self.scale)



def aligned_mtl_weights(gram, pref_vector=None, scale="min"):
    """Weights of Aligned-MTL (Senushkin et al. 2023).

    With ``G = V diag(lambda) V^T`` (its positive eigenvalues), the balance
    transformation ``B = sqrt(sigma) V diag(lambda)^-1/2 V^T`` aligns the
    task gradients: ``J' = B J`` has Gram matrix ``B G B = sigma I`` on the
    span of the gradients, condition number 1 (orthogonal gradients of
    equal norm). The direction is ``pref_vector @ J' = (B pref) @ J``.
    ``sigma`` is the smallest eigenvalue (``"min"``, the paper's), the
    median or the mean (``"median"``, ``"mean"``).

    Parameters
    ----------
    gram : array-like of shape (n_tasks, n_tasks)
    pref_vector : array-like of shape (n_tasks,), default=None
        None is ones (the sum of the aligned gradients).
    scale : {"min", "median", "mean"}, default="min"

    Returns
    -------
    w : ndarray of shape (n_tasks,)

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural.weighting._aligned_mtl import aligned_mtl_weights
    >>> aligned_mtl_weights(np.diag([4.0, 1.0])).round(6).tolist()  # ||g|| = 1 each
    [0.5, 1.0]
    """
    G = check_gram(gram)
    n = len(G)
    pref = np.ones(n) if pref_vector is None else np.asarray(pref_vector, float)
    eigenvalues, V = np.linalg.eigh(G)
    keep = eigenvalues > max(eigenvalues.max(), 0.0) * n * np.finfo(float).eps
    if not keep.any():
        return pref.copy()
    eigenvalues, V = eigenvalues[keep], V[:, keep]
    sigma = {"min": eigenvalues.min(), "median": np.median(eigenvalues),
             "mean": eigenvalues.mean()}[scale]
    B = np.sqrt(sigma) * (V / np.sqrt(eigenvalues)) @ V.T
    return B @ pref


WEIGHTINGS.register("aligned_mtl", AlignedMTL, aliases=("aligned",))
