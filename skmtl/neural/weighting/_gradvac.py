"""GradVac: raise low gradient similarities to their targets, and its kernel."""

import numpy as np
import torch

from ._base import WEIGHTINGS
from ._jacobian import GradientWeighting, check_gram

__all__ = ["GradVac", "gradvac_weights"]


class GradVac(GradientWeighting):
    """Gradient vaccine (Wang et al., 2021): raise low gradient similarities.

    GradVac keeps a target cosine ``phi_hat_ij`` for every ordered pair of
    tasks (an exponential moving average, rate ``beta``, of the observed
    cosines). Each step, each task's gradient ``g_i`` visits the others in
    a random order; when its cosine ``phi_ij`` with ``g_j`` is below the
    target, ``g_i`` gets ``w g_j`` added with

        ``w = ||g_i|| (phi_hat sqrt(1 - phi²) - phi sqrt(1 - phi_hat²)) /
        (||g_j|| sqrt(1 - phi_hat²))``,

    which sets the cosine to ``phi_hat`` exactly. The shared parameters get
    the sum of the corrected gradients; each head keeps its own task's
    gradient. PCGrad is the case of targets fixed at 0.

    Parameters
    ----------
    beta : float, default=0.5
        Rate of the moving average of the cosines.
    on : {"parameters", "representation"}, default="parameters"
        Task gradients of the shared parameters, or of the shared
        representation (the cheap form; see :class:`GradientWeighting`).

    Attributes
    ----------
    targets_ : torch.Tensor of shape (n_tasks, n_tasks)
        ``phi_hat`` (a buffer).

    Notes
    -----
    Computed on the Gram matrix
    (:func:`~skmtl.neural.weighting._gradvac.gradvac_weights`, as in
    torchjd's ``GradVac``), with the whole shared parameters as one group
    (the paper also applies it per layer). The visiting orders come from
    torch's generator. ``beta = 0.5`` is the default of torchjd and LibMTL.
    Reference: [1]_.

    References
    ----------
    .. [1] Z. Wang, Y. Tsvetkov, O. Firat and Y. Cao, "Gradient vaccine:
       investigating and improving multi-task optimization in massively
       multilingual models", ICLR 2021.

    Examples
    --------
    >>> from skmtl.neural.weighting import GradVac
    >>> GradVac(beta=0.1)
    GradVac(beta=0.1)
    """

    def __init__(self, beta=0.5, on="parameters"):
        self.beta = beta
        self.on = on

    def initialize(self, tasks):
        super().initialize(tasks)
        if not 0 <= self.beta <= 1:
            raise ValueError(f"GradVac: beta must be in [0, 1], got {self.beta!r}.")
        self.register_buffer("targets_", torch.zeros(
            (self.n_tasks_, self.n_tasks_), dtype=torch.float64))
        return self

    def gram_weights(self, gram):
        index = np.flatnonzero(self._active)
        n = len(index)
        order = []
        for i in range(n):
            others = [j for j in range(n) if j != i]
            order.append([others[k] for k in torch.randperm(len(others)).tolist()])
        all_targets = self.targets_.cpu().numpy()
        targets = all_targets[np.ix_(index, index)]
        weights = gradvac_weights(gram, targets, beta=float(self.beta), order=order)
        all_targets[np.ix_(index, index)] = targets
        self.targets_.copy_(torch.from_numpy(all_targets))
        return weights



def gradvac_weights(gram, targets, beta=0.5, order=None, eps=1e-8):
    """Weights of Gradient Vaccine (Wang et al. 2021), and updated targets.

    For each task ``i`` and, in turn, every other task ``j``: when the
    cosine ``phi_ij`` of the (already corrected) ``g_i`` with ``g_j`` is
    below its target ``phi_hat_ij``, ``g_i`` gets ``w g_j`` added, with

        ``w = ||g_i|| (phi_hat sqrt(1 - phi²) - phi sqrt(1 - phi_hat²))
        / (||g_j|| sqrt(1 - phi_hat²))``,

    which raises the cosine to exactly ``phi_hat``; the target then moves
    to ``(1 - beta) phi_hat + beta phi``. The direction is the sum of the
    corrected gradients. Tracked as combinations of the original gradients
    (only the Gram matrix is needed, as in torchjd's ``GradVac``).

    Parameters
    ----------
    gram : array-like of shape (n_tasks, n_tasks)
    targets : ndarray of shape (n_tasks, n_tasks)
        ``phi_hat``; updated in place.
    beta : float, default=0.5
    order : list of sequences, default=None
        ``order[i]``: the other tasks in the order task ``i`` visits them;
        None visits them by index.
    eps : float, default=1e-8

    Returns
    -------
    w : ndarray of shape (n_tasks,)
    """
    G = check_gram(gram)
    n = len(G)
    C = np.eye(n)
    for i in range(n):
        others = [j for j in range(n) if j != i] if order is None else order[i]
        for j in others:
            inner = C[i] @ G[:, j]
            norm_i = np.sqrt(max(C[i] @ G @ C[i], 0.0))
            norm_j = np.sqrt(max(G[j, j], 0.0))
            phi = inner / (norm_i * norm_j + eps)
            target = targets[i, j]
            if phi < target:
                root_phi = np.sqrt(max(1 - phi ** 2, 0.0))
                root_target = np.sqrt(max(1 - target ** 2, 0.0))
                C[i, j] += (norm_i * (target * root_phi - phi * root_target)
                            / (norm_j * root_target + eps))
            targets[i, j] = (1 - beta) * target + beta * phi
    return C.sum(axis=0)


WEIGHTINGS.register("gradvac", GradVac)
