"""Loss-level strategies: they return the task weights ``lambda`` each step."""

import numpy as np
import torch

from ...base import resolve_task_weights
from ._base import WEIGHTINGS, Weighting

__all__ = ["Fixed"]


class Fixed(Weighting):
    """Constant task weights: ``loss = sum_k lambda_k L_k`` with given ``lambda``.

    The manual importance of each task. By default the weights come from the
    estimator's ``task_weights`` parameter (so that
    ``GridSearchCV(est, {"task_weights": [...]})`` tunes them); they may
    instead be given here.

    Parameters
    ----------
    task_weights : None, sequence of float or dict, default=None
        One weight per task, or a dict ``{task name: weight}`` (unnamed tasks
        get 1). None uses the estimator's ``task_weights`` (all ones when
        that is None too). Giving both raises a ``ValueError``.

    See Also
    --------
    Weighting : The interface of the strategies.

    Examples
    --------
    >>> import torch
    >>> from skmtl import Task
    >>> from skmtl.neural.weighting import Fixed
    >>> strategy = Fixed({"b": 3.0}).initialize([Task("a"), Task("b")], [1.0, 1.0])
    >>> strategy.weights()
    array([1., 3.])
    >>> float(strategy.combine(torch.tensor([0.5, 0.5])))
    2.0
    """

    def __init__(self, task_weights=None):
        self.task_weights = task_weights

    def initialize(self, tasks, task_weights):
        super().initialize(tasks, task_weights)
        if self.task_weights is None:
            weights = self.task_weights_
        else:
            if not np.all(self.task_weights_ == 1.0):
                raise ValueError("task weights were given twice, as the estimator's "
                                 "task_weights and as Fixed(task_weights=...); give "
                                 "them once.")
            weights = resolve_task_weights(self.task_weights, tasks)
        self.weights_ = np.asarray(weights, dtype=float)
        self._lambda = torch.as_tensor(self.weights_, dtype=torch.float32)
        self._unit = bool(np.all(self.weights_ == 1.0))
        return self

    def to(self, device):
        self._lambda = self._lambda.to(device)
        return self

    def combine(self, task_losses, training=True):
        if self._unit:
            return task_losses.sum()
        if self._lambda.device != task_losses.device:
            self._lambda = self._lambda.to(task_losses.device)
        return (self._lambda * task_losses).sum()

    def weights(self):
        return self.weights_.copy()


WEIGHTINGS["fixed"] = Fixed
