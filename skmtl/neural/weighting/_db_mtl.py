"""DB-MTL: dual balancing of the loss scales and the gradient magnitudes."""

import numpy as np
import torch

from ._base import WEIGHTINGS
from ._jacobian import (
    FactoredRows,
    GradientWeighting,
    jacobian_rows,
    parameter_views,
    weighted_sum,
)

__all__ = ["DBMTL"]


class DBMTL(GradientWeighting):
    """Dual-balancing multi-task learning (Lin et al., 2023).

    Two balances. **Loss scale**: every task is trained on its log-loss
    ``log L_k`` (the gradient ``g_k / L_k`` does not depend on the loss's
    units). **Gradient magnitude**: with ``h_k`` an exponential moving
    average of the log-loss gradients of the shared parameters, the shared
    parameters get

        ``d = sum_k (max_j ||h_j|| / ||h_k||) h_k``,

    every task's direction at the length of the largest. The average is
    ``h_k <- g_k / L_k + (beta / t ** beta_sigma) (h_k - g_k / L_k)`` at
    step ``t``. The task heads get their log-loss gradient.

    Parameters
    ----------
    beta : float, default=0.9
    beta_sigma : float, default=0.5
        The averaging weight ``beta / t ** beta_sigma`` decays with the step
        ``t``.
    on : {"parameters", "representation"}, default="parameters"
        Task gradients of the shared parameters, or of the shared
        representation (the cheap form; see :class:`GradientWeighting`).

    See Also
    --------
    IMTL : Balances the gradients' projections instead.

    Notes
    -----
    The recorded weights are ``max_j ||h_j|| / (||h_k|| L_k)``, the
    coefficient of each task's raw loss in the current step (through the
    average), epoch means. One backward pass per task through the shared
    layers, and one copy of the per-task gradients of the shared
    parameters. The defaults are those of the authors' LibMTL code.
    Reference: [1]_.

    With ``on="representation"`` the gradients are those of the batch's
    representation, whose rows are other samples at every step: they
    cannot be averaged over steps, so the moving average is kept of each
    task's gradient norm ``n_k`` and the step is
    ``sum_k (max_j n_j / n_k) (n_k / ||g_k / L_k||) g_k / L_k`` with the
    current batch's log-loss gradients ``g_k / L_k`` (each at the length
    ``max_j n_j``). As the averaging weight decays, the two forms' balances
    meet.

    References
    ----------
    .. [1] B. Lin, W. Jiang, F. Ye, Y. Zhang, P. Chen, Y.-C. Chen, S. Liu
       and J. T. Kwok, "Dual-balancing for multi-task learning", 2023,
       arXiv:2308.12029.

    Examples
    --------
    >>> from skmtl.neural.weighting import DBMTL
    >>> DBMTL(beta=0.5)
    DBMTL(beta=0.5)
    """

    def __init__(self, beta=0.9, beta_sigma=0.5, on="parameters"):
        self.beta = beta
        self.beta_sigma = beta_sigma
        self.on = on

    def initialize(self, tasks):
        super().initialize(tasks)
        if not 0 <= self.beta < 1:
            raise ValueError(f"DBMTL: beta must be in [0, 1), got {self.beta!r}.")
        # the moving averages of the tasks' log-loss gradients, one row per
        # task over the shared parameters (shaped at the first step)
        self.register_buffer("gradient_average_", None)
        # with on="representation": the moving averages of their norms
        self.register_buffer("norm_average_", None)
        self._seen = None
        self._step = 0
        return self

    def jacobian_losses(self, task_losses):
        if self.on != "representation":
            return task_losses
        # the representation form differentiates the log-losses themselves
        # (L_k / L_k held constant): one pass through the heads gives their
        # rows and the heads' gradients of sum_k log L_k
        losses = task_losses.detach()
        inverse = torch.where(losses > 0, 1.0 / losses.clamp_min(1e-30),
                              torch.zeros_like(losses))
        return task_losses * inverse

    def combine_jacobian(self, jacobian, task_losses, parameters):
        shared = parameters
        losses = task_losses.detach()
        active = losses > 0
        inverse = torch.where(active, 1.0 / losses.clamp_min(1e-30),
                              torch.zeros_like(losses))
        self._inverse = inverse
        self._step += 1
        decay = float(self.beta) / self._step ** float(self.beta_sigma)
        if self.on == "representation":
            return self._combine_representation(jacobian[0], inverse, decay)
        shape = (-1,) + (1,) * 8
        if self.gradient_average_ is None:
            self.gradient_average_ = jacobian_rows(shared, self.n_tasks_,
                                                  task_losses)
        if self._seen is None:
            self._seen = [self._step > 1] * len(shared)
        averages = parameter_views(self.gradient_average_, shared)
        for j, (average, g) in enumerate(zip(averages, jacobian)):
            if g is None:
                continue
            new = g * inverse.view(shape[:g.ndim])
            if self._seen[j]:
                average.sub_(new).mul_(decay).add_(new)  # new + decay (old - new)
            else:
                average.copy_(new)
                self._seen[j] = True
        averages = [a if seen else None for a, seen in zip(averages, self._seen)]
        squared = sum((a.flatten(1) ** 2).sum(1) for a in averages if a is not None)
        norms = torch.sqrt(squared)
        alpha = torch.where(norms > 0, norms.max() / norms.clamp_min(1e-30),
                            torch.zeros_like(norms))
        return weighted_sum(averages, alpha), alpha * inverse

    _reads_factored_rows = True   # the rows' norms and w @ J only

    def _combine_representation(self, g, inverse, decay):
        # the rows of h's gradients are other samples every step: what is
        # averaged is each task's gradient norm, and the step is the
        # current log-loss gradients at the averaged norms' balance
        with torch.no_grad():
            # g: the log-losses' gradients (jacobian_losses)
            if isinstance(g, FactoredRows):
                norms = torch.diagonal(g.gram()).sqrt().to(g.dtype)
            else:
                norms = g.flatten(1).norm(dim=1)
            if self.norm_average_ is None:
                self.norm_average_ = norms.clone()
            else:
                self.norm_average_.sub_(norms).mul_(decay).add_(norms)
            average = self.norm_average_
            alpha = torch.where(average > 0, average.max() / average.clamp_min(1e-30),
                                torch.zeros_like(average))
            scale = torch.where(norms > 0, average / norms.clamp_min(1e-30),
                                torch.zeros_like(norms))
            coefficients = alpha * scale
        coefficients = coefficients.to(g.dtype)
        direction = (g.combination(coefficients) if isinstance(g, FactoredRows)
                     else torch.tensordot(coefficients, g, dims=1))
        return [direction], coefficients * inverse

    def head_coefficients(self, weights, task_losses):
        # each head is trained on its task's log-loss (differentiated as
        # such in the representation form)
        if self.on == "representation":
            return np.ones(self.n_tasks_)
        return self._inverse.cpu().numpy()


WEIGHTINGS.register("db_mtl", DBMTL, aliases=("dbmtl",))
