"""Model selection for multi-task learning: transfer and task grouping.

Scorers for ``cross_validate`` and ``GridSearchCV`` live in
:mod:`skmtl.metrics` (:func:`~skmtl.metrics.make_multitask_scorer`).
"""

from ._affinity import AFFINITY_METHODS, task_affinity
from ._grouping import grouping_score, suggest_task_groups
from ._transfer import TransferReport, default_baselines, transfer_report

__all__ = [
    "AFFINITY_METHODS",
    "TransferReport",
    "default_baselines",
    "grouping_score",
    "suggest_task_groups",
    "task_affinity",
    "transfer_report",
]
