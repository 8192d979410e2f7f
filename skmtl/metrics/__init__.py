"""Masked per-task metrics, score tables and multi-task scorers.

Every metric scores each column of ``Y`` on its labelled entries only (``NaN``
marks a missing label). Scikit-learn's plain scorer strings (``"r2"``,
``"accuracy"``) score every entry and so are wrong on NaN-masked ``Y``: use
:func:`make_multitask_scorer` in ``cross_validate`` and ``GridSearchCV``.
"""

from ._masked import (
    METRICS,
    get_metric,
    masked_accuracy_score,
    masked_balanced_accuracy_score,
    masked_d2_pinball_score,
    masked_d2_poisson_score,
    masked_explained_variance_score,
    masked_log_loss,
    masked_mean_absolute_error,
    masked_mean_absolute_rank_error,
    masked_mean_pinball_loss,
    masked_mean_poisson_deviance,
    masked_mean_squared_error,
    masked_ndcg_score,
    masked_r2_score,
    masked_roc_auc_score,
    masked_root_mean_squared_error,
    score_column,
)
from ._recommender import (
    masked_calibration_ratio,
    masked_expected_calibration_error,
    masked_gauc_score,
)
from ._scorer import (
    funnel_targets,
    make_multitask_scorer,
    make_per_task_scorers,
    per_task_scores,
)

__all__ = [
    "METRICS",
    "funnel_targets",
    "get_metric",
    "masked_accuracy_score",
    "masked_balanced_accuracy_score",
    "masked_calibration_ratio",
    "masked_d2_pinball_score",
    "masked_d2_poisson_score",
    "masked_expected_calibration_error",
    "masked_explained_variance_score",
    "masked_gauc_score",
    "masked_log_loss",
    "masked_mean_absolute_error",
    "masked_mean_absolute_rank_error",
    "masked_mean_pinball_loss",
    "masked_mean_poisson_deviance",
    "masked_mean_squared_error",
    "masked_ndcg_score",
    "masked_r2_score",
    "masked_roc_auc_score",
    "masked_root_mean_squared_error",
    "make_multitask_scorer",
    "make_per_task_scorers",
    "per_task_scores",
    "score_column",
]
