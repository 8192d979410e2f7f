"""Strategies that balance the tasks' loss scales and gradient norms: IMTL, DB-MTL."""

import numpy as np
import torch

from ...utils._gradient_combination import imtl_g_weights
from ._base import ALIASES, WEIGHTINGS, _StepAveraged
from ._gradient_level import _finish, _GradientCombination
from ._jacobian import (
    gram_matrix,
    jacobian_rows,
    parameter_views,
    split_parameters,
    task_jacobian,
    write_gradients,
)

__all__ = ["IMTL", "DBMTL"]

_IMTL_FORMS = ("hybrid", "loss", "gradient")


class IMTL(_GradientCombination):
    """Impartial multi-task learning (Liu et al., 2021): loss, gradient or both.

    * **IMTL-L** (``form="loss"``) learns a scale ``s_k`` per task and
      trains on ``sum_k exp(s_k) L_k - s_k``; at the optimum of ``s_k``,
      ``exp(s_k) L_k = 1``: every scaled loss is one.
    * **IMTL-G** (``form="gradient"``) gives the shared parameters the
      combination ``d = w @ J`` of the task gradients, with weights summing
      to one, that has the same projection onto every task's unit gradient:
      ``d . g_k / ||g_k||`` is equal for all ``k``; in closed form ``w = G^+
      n / sum(G^+ n)``, ``n_k = ||g_k||`` (``G = J J^T``). No task is
      favoured for the size of its gradient.
    * **hybrid** (the paper's IMTL, default): IMTL-G on the gradients of
      the scaled losses ``exp(s_k) L_k``; the task heads and the scales
      ``s_k`` are trained on ``sum_k exp(s_k) L_k - s_k``.

    Parameters
    ----------
    form : {"hybrid", "loss", "gradient"}, default="hybrid"
    lr : float, default=None
        Learning rate of the scales ``s_k`` (loss and hybrid forms), in an
        optimizer parameter group of their own; None uses the net's.

    Attributes
    ----------
    log_scales_ : torch.nn.Parameter of shape (n_tasks,)
        The learned ``s_k`` (loss and hybrid forms).

    See Also
    --------
    MGDA, NashMTL : Other combinations that do not follow the largest
        gradient.

    Notes
    -----
    The recorded weights are the coefficients of the task losses: ``exp(s_k)``
    for IMTL-L, ``w_k`` for IMTL-G and ``w_k exp(s_k)`` for the hybrid form
    (epoch means). IMTL-L alone weights each task by ``1 / L_k`` at the
    optimum of its scale, like :class:`Uncertainty`, and favours a task
    whose loss falls toward zero (see :class:`FAMO`'s Notes); the hybrid
    form's shared direction does not depend on the scales. The gradient
    forms cost a backward pass per task through the shared layers. The
    pseudo-inverse also handles linearly dependent gradients (as torchjd's
    ``IMTLG``). Reference: [1]_.

    References
    ----------
    .. [1] L. Liu, Y. Li, Z. Kuang, J.-H. Xue, Y. Chen, W. Yang, Q. Liao and
       W. Zhang, "Towards impartial multi-task learning", ICLR 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl import Task
    >>> from skmtl.neural.weighting import IMTL
    >>> strategy = IMTL(form="gradient").initialize([Task("a"), Task("b")])
    >>> J = np.array([[2.0, 0.0], [0.0, 1.0]])  # d = w @ J = (2/3, 2/3)
    >>> strategy._combination(J @ J.T).round(4).tolist()
    [0.3333, 0.6667]
    """

    def __init__(self, form="hybrid", lr=None):
        self.form = form
        self.lr = lr

    @property
    def level(self):
        return "loss" if self.form == "loss" else "gradient"

    @property
    def uses_gradients(self):
        return self.form != "loss"

    def initialize(self, tasks):
        super().initialize(tasks)
        if self.form not in _IMTL_FORMS:
            raise ValueError(f"IMTL: form must be one of {_IMTL_FORMS}, got "
                             f"{self.form!r}.")
        if self.lr is not None and not self.lr > 0:
            raise ValueError(f"IMTL: lr must be a positive float or None, got "
                             f"{self.lr!r}.")
        if self.form != "gradient":
            self.log_scales_ = torch.nn.Parameter(torch.zeros(self.n_tasks_))
        return self

    def optimizer_options(self):
        return {} if self.lr is None else {"lr": float(self.lr)}

    def _scaled(self, task_losses):
        scales = torch.exp(self.log_scales_)
        return scales * task_losses, scales

    def combine(self, task_losses, training=True):
        if self.form == "gradient":
            return task_losses.sum()
        scaled, scales = self._scaled(task_losses)
        if training and self.form == "loss":
            self.record_weights(scales)
        return scaled.sum() - self.log_scales_.sum()

    def backward(self, task_losses, net, penalty=None):
        if self.form == "loss":
            return super(_GradientCombination, self).backward(task_losses, net,
                                                              penalty)
        if self.form == "gradient":
            return super().backward(task_losses, net, penalty)
        scaled, scales = self._scaled(task_losses)
        shared, others = split_parameters(net.module_, "IMTL")
        jacobian, other_gradients = task_jacobian(scaled, net.module_, shared, others)
        weights = self._active_weights(gram_matrix(jacobian))
        write_gradients(shared, jacobian, weights)
        write_gradients(others, other_gradients(np.ones(self.n_tasks_)))
        # the scales: d/ds (exp(s) L - s) = exp(s) L - 1
        with torch.no_grad():
            grad = scales * task_losses.detach() - 1.0
            grad = torch.where(task_losses.detach() > 0, grad, torch.zeros_like(grad))
        self.log_scales_.grad = grad if self.log_scales_.grad is None else (
            self.log_scales_.grad + grad)
        self.record_weights(weights * scales.detach().cpu().numpy())
        return _finish(task_losses, penalty)

    def _combination(self, gram):
        return imtl_g_weights(gram)


class DBMTL(_StepAveraged):
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

    level = "gradient"

    def __init__(self, beta=0.9, beta_sigma=0.5):
        self.beta = beta
        self.beta_sigma = beta_sigma

    def initialize(self, tasks):
        super().initialize(tasks)
        if not 0 <= self.beta < 1:
            raise ValueError(f"DBMTL: beta must be in [0, 1), got {self.beta!r}.")
        # the moving averages of the tasks' log-loss gradients, one row per
        # task over the shared parameters (shaped at the first step)
        self.register_buffer("gradient_average_", None)
        self._seen = None
        self._step = 0
        return self

    def combine(self, task_losses, training=True):
        return task_losses.sum()

    def backward(self, task_losses, net, penalty=None):
        shared, others = split_parameters(net.module_, "DBMTL")
        losses = task_losses.detach()
        active = losses > 0
        inverse = torch.where(active, 1.0 / losses.clamp_min(1e-30),
                              torch.zeros_like(losses))
        jacobian, other_gradients = task_jacobian(task_losses, net.module_, shared,
                                                  others)
        self._step += 1
        decay = float(self.beta) / self._step ** float(self.beta_sigma)
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
        write_gradients(shared, averages, alpha)
        write_gradients(others, other_gradients(inverse.cpu().numpy()))
        self.record_weights(alpha * inverse)
        return _finish(task_losses, penalty)


WEIGHTINGS["imtl"] = IMTL
WEIGHTINGS["db_mtl"] = DBMTL
ALIASES["dbmtl"] = "db_mtl"
