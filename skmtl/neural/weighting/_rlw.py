"""RLW: random loss weighting, new random weights every step."""

import torch

from ._base import WEIGHTINGS, _StepAveraged

__all__ = ["RLW"]


_RLW_DISTRIBUTIONS = ("normal", "uniform", "dirichlet")



class RLW(_StepAveraged):
    """Random loss weighting (Lin et al., 2022): new random weights every step.

    Each training step draws ``lambda = K * p`` with ``p`` on the simplex:
    ``p = softmax(z)``, ``z ~ N(0, I)`` (``"normal"``, the paper's default),
    ``p = u / sum(u)`` with ``u ~ U(0, 1)`` (``"uniform"``) or ``p ~
    Dirichlet(1)`` (``"dirichlet"``). The weights average to about one per
    task; the validation loss uses ``lambda = 1``.

    Parameters
    ----------
    distribution : {"normal", "uniform", "dirichlet"}, default="normal"

    Notes
    -----
    Lin et al. [1]_ show that random weights match many adaptive methods
    at no cost: a strong baseline. The draws come from torch's generator,
    which the estimator seeds with ``random_state``. The recorded weights of
    an epoch are the mean of its draws.

    References
    ----------
    .. [1] B. Lin, F. Ye, Y. Zhang and I. W. Tsang, "Reasonable
       effectiveness of random weighting: a litmus test for multi-task
       learning", TMLR 2022.

    Examples
    --------
    >>> import torch
    >>> from skmtl import Task
    >>> from skmtl.neural.weighting import RLW
    >>> strategy = RLW().initialize([Task("a"), Task("b"), Task("c")])
    >>> _ = torch.manual_seed(0)
    >>> loss = strategy.combine(torch.ones(3))  # the weights sum to 3
    >>> round(float(loss), 4)
    3.0
    """

    def __init__(self, distribution="normal"):
        self.distribution = distribution

    def initialize(self, tasks):
        super().initialize(tasks)
        if self.distribution not in _RLW_DISTRIBUTIONS:
            raise ValueError(f"RLW: distribution must be one of {_RLW_DISTRIBUTIONS}, "
                             f"got {self.distribution!r}.")
        return self

    def _draw(self, device):
        K = self.n_tasks_
        if self.distribution == "normal":
            p = torch.softmax(torch.randn(K, device=device), dim=0)
        elif self.distribution == "uniform":
            u = torch.rand(K, device=device)
            p = u / u.sum()
        else:
            e = -torch.log(torch.rand(K, device=device).clamp_min(1e-12))
            p = e / e.sum()
        return K * p

    def combine(self, task_losses, training=True):
        if not training:
            return task_losses.sum()
        weights = self._draw(task_losses.device)
        self.record_weights(weights)
        return (weights * task_losses).sum()


WEIGHTINGS.register("rlw", RLW)
