"""GradDrop: keep one sign per entry of the shared parameters' gradient, or
per feature of the shared representation's."""

import numpy as np
import torch

from ._base import WEIGHTINGS
from ._jacobian import FactoredRows, GradientWeighting

__all__ = ["GradDrop"]


class GradDrop(GradientWeighting):
    """Gradient sign dropout (Chen et al., 2020): keep one sign per entry.

    For every entry of the shared parameters, with the task gradients
    ``g_k``, the positive-sign purity ``P = (1 + sum_k g_k / sum_k |g_k|) /
    2`` is the probability of keeping the positive contributions: with
    ``U ~ Uniform(0, 1)`` drawn per entry, task ``k``'s contribution is kept
    when ``P > U`` and ``g_k > 0`` or ``P < U`` and ``g_k < 0``. The shared
    parameters get the sum of the kept contributions (plus ``leak_k`` times
    the dropped ones); each head keeps its own task's gradient. Where all
    tasks agree in sign nothing is dropped.

    With ``on="representation"`` it is the paper's layer on the shared
    representation ``h`` (batch × features): the signs are those of the
    batch sums ``s_k = sum_b sign(h_b) * dL_k/dh_b``, one per task and
    feature, ``P`` and ``U`` are per feature, and the mask ``M_k`` they give
    multiplies task ``k``'s gradient of ``h`` for every sample: ``h`` gets
    ``sum_k M_k * dL_k/dh``.

    Parameters
    ----------
    leak : float or array-like of shape (n_tasks,), default=0.0
        Fraction of each task's dropped gradient that passes anyway.
    on : {"parameters", "representation"}, default="parameters"
        Task gradients of the shared parameters, or of the shared
        representation (the cheap form; see :class:`GradientWeighting`).

    Notes
    -----
    Applied to the gradients of the shared parameters (as torchjd's
    ``GradDrop``), entry by entry. The paper applies it to the gradients of
    a layer of shared activations ``A`` with a batch dimension (Algorithm
    1): each task's gradient is multiplied by ``sign(A)`` and summed over
    the batch before ``P`` and the mask are computed, and the mask, one per
    feature, is applied to every sample's gradient (as LibMTL's
    ``GradDrop``); ``on="representation"`` is that form, with ``A = h``.
    When the heads are linear layers (:class:`~skmtl.neural.HardSharing`'s
    default) the batch sums and the masked gradient are computed from the
    rows' two factors (``FactoredRows`` in ``weighting/_jacobian.py``)
    without forming the rows. The recorded weights are the fraction of
    each task's squared gradient norm kept, epoch means. The draws come
    from torch's generator. Reference: [1]_.

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

    def __init__(self, leak=0.0, on="parameters"):
        self.leak = leak
        self.on = on

    def initialize(self, tasks):
        super().initialize(tasks)
        leak = np.broadcast_to(np.asarray(self.leak, dtype=float), (self.n_tasks_,))
        if not np.all((leak >= 0) & (leak <= 1)):
            raise ValueError(f"GradDrop: leak must be in [0, 1], got {self.leak!r}.")
        self._leak = leak.copy()
        return self

    # the representation form reads the rows' factors (batch_sums,
    # masked_combination, feature_squares) when the heads are linear layers
    _reads_factored_rows = True

    def combine_jacobian(self, jacobian, task_losses, parameters):
        if getattr(self, "on", "parameters") == "representation":
            rows = jacobian[0]
            leak = None
            if self._leak.any():
                leak = torch.as_tensor(self._leak, dtype=rows.dtype,
                                       device=rows.device).view(-1, 1)
            combined, fraction = _batch_sign_dropout(rows, parameters[0], leak)
            return [combined], fraction
        combined, kept, total = [], 0.0, 0.0
        for g in jacobian:
            if g is None:
                combined.append(None)
                continue
            leak = None
            if self._leak.any():
                leak = torch.as_tensor(self._leak, dtype=g.dtype, device=g.device)
                leak = leak.view((-1,) + (1,) * (g.ndim - 1))
            combined_g, kept_g = _kept_contributions(g, leak)
            combined.append(combined_g)
            kept = kept + (kept_g * kept_g).flatten(1).sum(1)
            total = total + (g * g).flatten(1).sum(1)
        fraction = torch.where(total > 0, kept / total.clamp_min(1e-30),
                               torch.zeros_like(total))
        return combined, fraction



def _batch_sign_dropout(rows, features, leak):
    """GradDrop on the representation ``h`` (the paper's batch form).

    Parameters
    ----------
    rows : FactoredRows or tensor of shape (n_tasks, *h.shape)
        The tasks' gradients of ``h``.
    features : tensor
        ``h`` itself (batch, ...).
    leak : tensor of shape (n_tasks, 1) or None (no leak)

    Returns
    -------
    combined : tensor of h's shape
        ``sum_k M_k * dL_k/dh``, the mask ``M_k`` (per task and feature)
        the same for every sample.
    fraction : tensor of shape (n_tasks,)
        The fraction of each task's squared gradient norm kept.
    """
    with torch.no_grad():
        signs = torch.sign(features)
        factored = isinstance(rows, FactoredRows)
        if factored:
            summed = rows.batch_sums(signs)
        else:
            flat = rows.flatten(2)   # (n_tasks, batch, n_features)
            summed = (flat * signs.reshape(1, flat.shape[1], -1)).sum(1)
        purity = 0.5 + 0.5 * (summed.sum(0) / summed.abs().sum(0).clamp_min(1e-30))
        draw = torch.rand(purity.shape, dtype=summed.dtype, device=summed.device)
        # kept: P > U and s_k > 0, or P < U and s_k < 0 (the sign of P - U
        # times s_k is exact, where their product could underflow)
        mask = (torch.sign(purity - draw) * summed > 0).to(summed.dtype)
        if leak is not None:
            mask = leak + (1 - leak) * mask
        if factored:
            combined = rows.masked_combination(mask)
            squares = rows.feature_squares(float64=False).flatten(1)
        else:
            combined = (flat * mask[:, None]).sum(0).view(rows.shape[1:])
            squares = (flat * flat).sum(1)
        # 0 for a task without gradient (kept and total 0)
        fraction = (squares * mask.square()).sum(1) / squares.sum(1).clamp_min(1e-30)
        return combined, fraction


def _sign_dropout(g, leak):
    """GradDrop on one parameter: (combined gradient, per-task kept mask)."""
    with torch.no_grad():
        purity, draw = _purity_and_draw(g)
        keep = ((purity > draw) & (g > 0)) | ((purity < draw) & (g < 0))
        mask = leak + (1 - leak) * keep.to(g.dtype)
        return (mask * g).sum(0), mask


def _purity_and_draw(g):
    absolute = g.abs().sum(0)
    purity = 0.5 * (1 + g.sum(0) / absolute.clamp_min(1e-30))
    purity = torch.where(absolute > 0, purity, torch.full_like(purity, 0.5))
    return purity, torch.rand(purity.shape, dtype=g.dtype, device=g.device)


def _kept_contributions(g, leak):
    """GradDrop on one parameter: (combined gradient, kept contributions
    ``mask * g``), as :func:`_sign_dropout`; ``leak`` None is no leak."""
    if leak is not None:
        combined, mask = _sign_dropout(g, leak)
        return combined, mask * g
    with torch.no_grad():
        purity, draw = _purity_and_draw(g)
        # the sign kept at each entry (+1, -1, or 0 where purity == draw);
        # g where it has that sign, else 0, is clamp(g sign, 0) sign: float
        # arithmetic, where boolean masks over every row cost several times
        # as much on the CPU
        sign = (purity > draw).to(g.dtype) - (purity < draw).to(g.dtype)
        kept = (g * sign).clamp_(min=0).mul_(sign)
        return kept.sum(0), kept


WEIGHTINGS.register("graddrop", GradDrop)
