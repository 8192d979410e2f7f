"""Uncertainty: learned homoscedastic uncertainty weights (Kendall et al.)."""

import numpy as np
import torch

from ._base import WEIGHTINGS, _StepAveraged

__all__ = ["Uncertainty"]


class Uncertainty(_StepAveraged):
    """Learned homoscedastic uncertainty weights (Kendall, Gal & Cipolla, 2018).

    Each task ``k`` gets a learned log-variance ``s_k = log sigma_k²`` and
    the objective is

        ``sum_k c_k exp(-s_k) L_k + s_k / 2``,

    the negative log-likelihood of the tasks under a noise of scale
    ``sigma_k``: the constant ``c_k`` is the task type's
    ``uncertainty_scale``, ``1/2`` for a Gaussian likelihood (regression and
    count tasks, ``L / (2 sigma²) + log sigma``) and ``1`` for the others
    (scaled softmax or Laplace: classification, binary, ranking, ordinal,
    quantile tasks, ``L / sigma² + log sigma``).
    The weights are ``lambda_k = c_k exp(-s_k)``; at the optimum of ``s_k``,
    ``lambda_k = 1 / (2 L_k)``: tasks with a larger loss (noisier labels)
    get less weight, and two regression tasks with noise variances
    ``sigma_1²`` and ``sigma_2²`` end with weights in the ratio
    ``sigma_2² / sigma_1²``.

    Parameters
    ----------
    lr : float, default=None
        Learning rate of the log-variances, in an optimizer parameter group
        of their own; None uses the net's learning rate, with which the
        log-variances of a short training barely move (their gradient is of
        order 1, a network's rate of order 1e-3). A learning-rate schedule
        that sets every group's rate (e.g. ``OneCycleLR`` with one
        ``max_lr``) overrides it.
    init_log_variance : float, default=0.0
        Starting value of every ``s_k``.

    Attributes
    ----------
    log_variances_ : torch.nn.Parameter of shape (n_tasks,)
        The learned ``s_k`` (trained by the net's optimizer).

    See Also
    --------
    DWA, GradNorm, FAMO : Other adaptive loss weights.

    Notes
    -----
    The recorded weights of an epoch are the mean of ``lambda`` over its
    steps. Kendall et al. [1]_ introduced the weighting for scene geometry
    and semantics; the classification form follows their Boltzmann
    likelihood with temperature ``sigma²``.

    References
    ----------
    .. [1] A. Kendall, Y. Gal and R. Cipolla, "Multi-task learning using
       uncertainty to weigh losses for scene geometry and semantics", CVPR
       2018.

    Examples
    --------
    >>> import torch
    >>> from skmtl import Task
    >>> from skmtl.neural.weighting import Uncertainty
    >>> strategy = Uncertainty().initialize(
    ...     [Task("value"), Task("kind", "classification")])
    >>> strategy.combine(torch.tensor([2.0, 2.0])).item()  # 2/2 + 2/1
    3.0
    >>> [name for name, _ in strategy.named_parameters()]
    ['log_variances_']
    """

    def __init__(self, lr=None, init_log_variance=0.0):
        self.lr = lr
        self.init_log_variance = init_log_variance

    def initialize(self, tasks):
        super().initialize(tasks)
        if self.lr is not None and not self.lr > 0:
            raise ValueError(f"Uncertainty: lr must be a positive float or None, got "
                             f"{self.lr!r}.")
        self.log_variances_ = torch.nn.Parameter(
            torch.full((self.n_tasks_,), float(self.init_log_variance)))
        self.register_buffer("scales_", torch.tensor(
            [float(t.type_.uncertainty_scale) for t in tasks]))
        self._epoch_weights.copy_(self.scales_ * np.exp(-self.init_log_variance))
        return self

    def optimizer_options(self):
        return {} if self.lr is None else {"lr": float(self.lr)}

    def combine(self, task_losses, training=True):
        s = self.log_variances_
        weights = self.scales_ * torch.exp(-s)
        if training:
            self.record_weights(weights)
        return (weights * task_losses).sum() + 0.5 * s.sum()


WEIGHTINGS.register("uncertainty", Uncertainty, aliases=("uw",))
