"""DWA: dynamic weight average, weights from the loss trend of the last epochs."""

import numpy as np
import torch

from ._base import WEIGHTINGS, Weighting

__all__ = ["DWA"]


class DWA(Weighting):
    """Dynamic weight average (Liu, Johns & Davison, 2019).

    The weights of epoch ``t`` follow how fast each task's mean training
    loss fell over the two previous epochs:

        ``lambda_k(t) = K exp(r_k / T) / sum_i exp(r_i / T)``, with
        ``r_k = L_k(t-1) / L_k(t-2)``,

    so a task whose loss decreases slowly (``r_k`` near 1) gets more weight;
    the weights sum to the number of tasks ``K`` and are 1 for the first two
    epochs.

    Parameters
    ----------
    temperature : float, default=2.0
        ``T``: a large temperature makes the weights equal.

    See Also
    --------
    GradNorm : Balances the tasks' gradient norms instead.

    Notes
    -----
    Costs nothing per step: the weights change once per epoch, from the
    losses the net records anyway. Proposed with the multi-task attention
    network [1]_.

    References
    ----------
    .. [1] S. Liu, E. Johns and A. J. Davison, "End-to-end multi-task
       learning with attention", CVPR 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl import Task
    >>> from skmtl.neural.weighting import DWA
    >>> strategy = DWA(temperature=1.0).initialize([Task("a"), Task("b")])
    >>> strategy.on_epoch_end(None, np.array([1.0, 1.0]))
    >>> strategy.on_epoch_end(None, np.array([0.5, 1.0]))  # task a learns faster
    >>> np.round(strategy.weights(), 3).tolist()
    [0.755, 1.245]
    """

    def __init__(self, temperature=2.0):
        self.temperature = temperature

    def initialize(self, tasks):
        super().initialize(tasks)
        if not self.temperature > 0:
            raise ValueError(f"DWA: temperature must be > 0, got "
                             f"{self.temperature!r}.")
        # the mean training losses of the last two epochs (NaN: not seen yet)
        self.register_buffer("epoch_losses_", torch.full((2, self.n_tasks_), np.nan,
                                                         dtype=torch.float64))
        self.register_buffer("weights_", torch.ones(self.n_tasks_,
                                                    dtype=torch.float64))
        self.register_buffer("_lambda", torch.ones(self.n_tasks_))
        return self

    def combine(self, task_losses, training=True):
        return (self._lambda * task_losses).sum()

    def on_epoch_end(self, net, task_losses):
        history = self.epoch_losses_
        started = not bool(torch.isnan(history[1]).all())
        history[0] = history[1]
        history[1] = torch.as_tensor(np.asarray(task_losses, dtype=float))
        if not started:
            return
        before, last = history.cpu().numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = last / before
        ratio = np.where(np.isfinite(ratio), ratio, 1.0)
        z = ratio / self.temperature
        z = np.exp(z - z.max())
        self.weights_.copy_(torch.from_numpy(self.n_tasks_ * z / z.sum()))
        self._lambda.copy_(self.weights_)

    def weights(self):
        return self.weights_.cpu().numpy().copy()


WEIGHTINGS.register("dwa", DWA)
