"""skmtl: multi-task learning for the scikit-learn ecosystem.

One estimator learns several related tasks at once. ``Y`` holds one column per
task output, with ``NaN`` where a label is missing; every estimator follows the
scikit-learn API (fit / predict / score, Pipeline, GridSearchCV, pickle).

Importing skmtl does not import torch or matplotlib: the neural family and the
plots load them when used.
"""

from ._stacking import stack_tasks, unstack_tasks
from .baselines import MultiQuantileRegressor, PooledBaseline, SingleTaskBaseline
from .linear import (
    MultiTaskLinearRegressor,
    MultiTaskLinearRegressorCV,
    MultiTaskLogisticClassifier,
    MultiTaskLogisticClassifierCV,
)
from .tasks import TASK_TYPES, Task, TaskType, register_task_type

__version__ = "0.1.0.dev0"

# Torch-backed names, imported from skmtl.neural on first access.
_NEURAL = ("MultiTaskClassifier", "MultiTaskEstimator", "MultiTaskNet",
           "MultiTaskRegressor")


def __getattr__(name):
    if name in _NEURAL:
        from . import neural

        return getattr(neural, name)
    raise AttributeError(f"module 'skmtl' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_NEURAL))


__all__ = [
    "MultiTaskClassifier",
    "MultiTaskEstimator",
    "MultiTaskNet",
    "MultiTaskRegressor",
    "TASK_TYPES",
    "MultiTaskLinearRegressor",
    "MultiTaskLinearRegressorCV",
    "MultiTaskLogisticClassifier",
    "MultiTaskLogisticClassifierCV",
    "MultiQuantileRegressor",
    "PooledBaseline",
    "SingleTaskBaseline",
    "Task",
    "TaskType",
    "register_task_type",
    "stack_tasks",
    "unstack_tasks",
    "__version__",
]
