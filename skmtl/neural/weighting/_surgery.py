"""Gradient surgery: strategies that reshape conflicting task gradients.

Aligned-MTL, ConFIG and GradVac choose a combination ``w @ J`` of the task
gradients from their Gram matrix (as PCGrad); GradDrop keeps, entry by
entry of the shared parameters, the task gradients of one sign.
"""

import numpy as np
import torch

from ...utils._gradient_combination import (
    aligned_mtl_weights,
    config_weights,
    gradvac_weights,
)
from ._base import ALIASES, WEIGHTINGS, _StepAveraged
from ._gradient_level import _finish, _GradientCombination
from ._jacobian import split_parameters, task_jacobian, write_gradients

__all__ = ["AlignedMTL", "ConFIG", "GradVac", "GradDrop"]


def _check_pref(owner, pref_vector, n_tasks):
    if pref_vector is None:
        return None
    pref = np.asarray(pref_vector, dtype=float)
    if pref.shape != (n_tasks,) or not np.all(pref > 0):
        raise ValueError(f"{owner}: pref_vector must hold {n_tasks} positive values, "
                         f"got {pref_vector!r}.")
    return pref


class AlignedMTL(_GradientCombination):
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

    Notes
    -----
    Computed on the Gram matrix
    (:func:`~skmtl.utils._gradient_combination.aligned_mtl_weights`); the
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
    >>> strategy._combination(np.diag([4.0, 1.0])).tolist()  # both of norm 1
    [0.5, 1.0]
    """

    def __init__(self, pref_vector=None, scale="min"):
        self.pref_vector = pref_vector
        self.scale = scale

    def initialize(self, tasks):
        super().initialize(tasks)
        self._pref = _check_pref("AlignedMTL", self.pref_vector, self.n_tasks_)
        if self.scale not in ("min", "median", "mean"):
            raise ValueError(f"AlignedMTL: scale must be 'min', 'median' or 'mean', "
                             f"got {self.scale!r}.")
        return self

    def _combination(self, gram):
        pref = None if self._pref is None else self._pref[self._active]
        return aligned_mtl_weights(gram, pref, scale=self.scale)


class ConFIG(_GradientCombination):
    """Conflict-free inverse gradients (Liu et al., 2025).

    The direction ``v`` has the same cosine with every task gradient:
    ``v = U^+ pref`` with ``U`` the unit task gradients (rows ``g_k /
    ||g_k||``), so ``u_k . v = pref_k``; the shared parameters get it at
    the length of the sum of the gradients' projections onto it,
    ``(sum_k g_k . v') v'`` with ``v' = v / ||v||``. With positive
    preferences it conflicts with no task. Each head keeps its own task's
    gradient.

    Parameters
    ----------
    pref_vector : None or array-like of shape (n_tasks,), default=None
        None is ones (equal cosines).

    Notes
    -----
    Computed on the Gram matrix
    (:func:`~skmtl.utils._gradient_combination.config_weights`), the same
    direction as torchjd's ``ConFIG`` aggregator. One backward pass per
    task. Reference: [1]_.

    References
    ----------
    .. [1] Q. Liu, M. Chu and N. Thuerey, "ConFIG: towards conflict-free
       training of physics informed neural networks", ICLR 2025.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl import Task
    >>> from skmtl.neural.weighting import ConFIG
    >>> strategy = ConFIG().initialize([Task("a"), Task("b")])
    >>> J = np.array([[2.0, 0.0], [0.0, 1.0]])
    >>> (strategy._combination(J @ J.T) @ J).tolist()  # the diagonal, length 3/sqrt2
    [1.5, 1.5]
    """

    def __init__(self, pref_vector=None):
        self.pref_vector = pref_vector

    def initialize(self, tasks):
        super().initialize(tasks)
        self._pref = _check_pref("ConFIG", self.pref_vector, self.n_tasks_)
        return self

    def _combination(self, gram):
        pref = None if self._pref is None else self._pref[self._active]
        return config_weights(gram, pref)


class GradVac(_GradientCombination):
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

    Attributes
    ----------
    targets_ : torch.Tensor of shape (n_tasks, n_tasks)
        ``phi_hat`` (a buffer).

    Notes
    -----
    Computed on the Gram matrix
    (:func:`~skmtl.utils._gradient_combination.gradvac_weights`, as in
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

    def __init__(self, beta=0.5):
        self.beta = beta

    def initialize(self, tasks):
        super().initialize(tasks)
        if not 0 <= self.beta <= 1:
            raise ValueError(f"GradVac: beta must be in [0, 1], got {self.beta!r}.")
        self.register_buffer("targets_", torch.zeros(
            (self.n_tasks_, self.n_tasks_), dtype=torch.float64))
        return self

    def _combination(self, gram):
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


class GradDrop(_StepAveraged):
    """Gradient sign dropout (Chen et al., 2020): keep one sign per entry.

    For every entry of the shared parameters, with the task gradients
    ``g_k``, the positive-sign purity ``P = (1 + sum_k g_k / sum_k |g_k|) /
    2`` is the probability of keeping the positive contributions: with
    ``U ~ Uniform(0, 1)`` drawn per entry, task ``k``'s contribution is kept
    when ``P > U`` and ``g_k > 0`` or ``P < U`` and ``g_k < 0``. The shared
    parameters get the sum of the kept contributions (plus ``leak_k`` times
    the dropped ones); each head keeps its own task's gradient. Where all
    tasks agree in sign nothing is dropped.

    Parameters
    ----------
    leak : float or array-like of shape (n_tasks,), default=0.0
        Fraction of each task's dropped gradient that passes anyway.

    Notes
    -----
    Applied to the gradients of the shared parameters (as torchjd's
    ``GradDrop``); the paper applies it to the gradients of the shared
    activations, summed over the batch. The recorded weights are the
    fraction of each task's squared gradient norm kept, epoch means. The
    draws come from torch's generator. Reference: [1]_.

    References
    ----------
    .. [1] Z. Chen, J. Ngiam, Y. Huang, T. Luong, H. Kretzschmar, Y. Chai
       and D. Anguelov, "Just pick a sign: optimizing deep multitask models
       with gradient sign dropout", NeurIPS 2020.

    Examples
    --------
    >>> from skmtl.neural.weighting import GradDrop
    >>> GradDrop(leak=0.1)
    GradDrop(leak=0.1)
    """

    level = "gradient"

    def __init__(self, leak=0.0):
        self.leak = leak

    def initialize(self, tasks):
        super().initialize(tasks)
        leak = np.broadcast_to(np.asarray(self.leak, dtype=float), (self.n_tasks_,))
        if not np.all((leak >= 0) & (leak <= 1)):
            raise ValueError(f"GradDrop: leak must be in [0, 1], got {self.leak!r}.")
        self._leak = leak.copy()
        return self

    def combine(self, task_losses, training=True):
        return task_losses.sum()

    def backward(self, task_losses, net, penalty=None):
        shared, others = split_parameters(net.module_, "GradDrop")
        jacobian, other_gradients = task_jacobian(task_losses, net.module_, shared,
                                                  others)
        combined, kept, total = [], 0.0, 0.0
        for g in jacobian:
            if g is None:
                combined.append(None)
                continue
            leak = torch.as_tensor(self._leak, dtype=g.dtype, device=g.device)
            leak = leak.view((-1,) + (1,) * (g.ndim - 1))
            combined_g, mask = _sign_dropout(g, leak)
            combined.append(combined_g)
            kept = kept + ((mask * g) ** 2).flatten(1).sum(1)
            total = total + (g ** 2).flatten(1).sum(1)
        write_gradients(shared, combined)
        write_gradients(others, other_gradients(np.ones(self.n_tasks_)))
        fraction = torch.where(total > 0, kept / total.clamp_min(1e-30),
                               torch.zeros_like(total))
        self.record_weights(fraction)
        return _finish(task_losses, penalty)


def _sign_dropout(g, leak):
    """GradDrop on one parameter: (combined gradient, per-task kept mask)."""
    with torch.no_grad():
        absolute = g.abs().sum(0)
        purity = 0.5 * (1 + g.sum(0) / absolute.clamp_min(1e-30))
        purity = torch.where(absolute > 0, purity, torch.full_like(purity, 0.5))
        draw = torch.rand(purity.shape, dtype=g.dtype, device=g.device)
        keep = ((purity > draw) & (g > 0)) | ((purity < draw) & (g < 0))
        mask = leak + (1 - leak) * keep.to(g.dtype)
        return (mask * g).sum(0), mask


WEIGHTINGS["aligned_mtl"] = AlignedMTL
WEIGHTINGS["config"] = ConFIG
WEIGHTINGS["gradvac"] = GradVac
WEIGHTINGS["graddrop"] = GradDrop
ALIASES["aligned"] = "aligned_mtl"
