"""Displays for multi-task models, in scikit-learn's style.

Each display is built with a ``from_estimator`` (or ``from_...``) class method
or from precomputed values and ``plot(ax=...)``, and keeps its matplotlib
artists (``ax_``, ``figure_``, ``im_``, ``bars_``...). matplotlib is imported
only when something is drawn.
"""

from ._base import task_coefficients
from ._conflict import GradientConflictDisplay
from ._heatmaps import CoefficientHeatmapDisplay, TaskSimilarityDisplay
from ._reliability import ReliabilityDisplay
from ._scores import PerTaskScoreDisplay
from ._training import LearningCurveDisplay, TaskWeightsDisplay
from ._transfer import TransferReportDisplay, plot_task_affinity

__all__ = [
    "CoefficientHeatmapDisplay",
    "GradientConflictDisplay",
    "LearningCurveDisplay",
    "PerTaskScoreDisplay",
    "ReliabilityDisplay",
    "TaskSimilarityDisplay",
    "TaskWeightsDisplay",
    "TransferReportDisplay",
    "plot_task_affinity",
    "task_coefficients",
]
