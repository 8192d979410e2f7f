"""Fixed task weights: the manual importance of each task."""

import numpy as np
import torch

from ...base import resolve_task_weights
from ._base import WEIGHTINGS, Weighting

__all__ = ["Fixed"]


class Fixed(Weighting):
    """Constant task weights: ``loss = sum_k lambda_k L_k`` with given ``lambda``.

    The manual importance of each task. The estimator's ``task_weights``
    parameter is shorthand for this strategy: ``MultiTaskEstimator(
    task_weights=w)`` trains with ``Fixed(w)`` (so that
    ``GridSearchCV(est, {"task_weights": [...]})`` tunes them).

    Parameters
    ----------
    task_weights : None, sequence of float or dict, default=None
        One weight per task, or a dict ``{task name: weight}`` (unnamed tasks
        get 1). None gives every task weight 1.

    See Also
    --------
    Weighting : The interface of the strategies.

    Examples
    --------
    >>> import torch
    >>> from skmtl import Task
    >>> from skmtl.neural.weighting import Fixed
    >>> strategy = Fixed({"b": 3.0}).initialize([Task("a"), Task("b")])
    >>> strategy.weights()
    array([1., 3.])
    >>> float(strategy.combine(torch.tensor([0.5, 0.5])))
    2.0
    """

    def __init__(self, task_weights=None):
        self.task_weights = task_weights

    def initialize(self, tasks):
        super().initialize(tasks)
        weights = resolve_task_weights(self.task_weights, tasks)
        self.weights_ = np.asarray(weights, dtype=float)
        self.register_buffer("_lambda", torch.as_tensor(self.weights_,
                                                        dtype=torch.float32))
        self._unit = bool(np.all(self.weights_ == 1.0))
        return self

    def combine(self, task_losses, training=True):
        if self._unit:
            return task_losses.sum()
        return (self._lambda * task_losses).sum()

    def weights(self):
        return self.weights_.copy()


WEIGHTINGS.register("fixed", Fixed, aliases=("equal",))
