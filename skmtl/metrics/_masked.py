"""Masked metrics: each column of ``Y`` is scored on its labelled entries only."""

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn import metrics as skm
from sklearn.exceptions import UndefinedMetricWarning

from ..tasks import missing_mask
from ..utils._registry import Registry
from ._binary import calibration_ratio, expected_calibration_error, gauc

__all__ = [
    "METRICS",
    "masked_r2_score",
    "masked_mean_squared_error",
    "masked_root_mean_squared_error",
    "masked_mean_absolute_error",
    "masked_explained_variance_score",
    "masked_mean_poisson_deviance",
    "masked_d2_poisson_score",
    "masked_accuracy_score",
    "masked_balanced_accuracy_score",
    "masked_log_loss",
    "masked_roc_auc_score",
    "masked_ndcg_score",
]


@dataclass(frozen=True)
class Metric:
    """A metric of one column: ``func(y_true, y_pred, sample_weight, classes,
    groups)`` on labelled entries only.

    ``response`` says what the metric needs from a model: ``"predict"`` (labels
    or values), ``"proba"`` (class probabilities) or ``"score"`` (a ranking
    score, taken from ``predict``).
    """

    name: str
    func: object
    response: str = "predict"
    greater_is_better: bool | None = True


def _ndcg(y_true, y_score, sample_weight, classes, groups, k=None):
    if groups is None:
        groups = np.zeros(len(y_true), dtype=int)
    values, weights = [], []
    for g in np.unique(groups):
        rows = groups == g
        if rows.sum() < 2:
            continue
        values.append(skm.ndcg_score(y_true[rows][None, :], y_score[rows][None, :],
                                     k=k))
        weights.append(1.0 if sample_weight is None else sample_weight[rows].mean())
    if not values:
        warnings.warn("NDCG needs a group with at least two labelled items; "
                      "returning NaN.", UndefinedMetricWarning, stacklevel=3)
        return np.nan
    return float(np.average(values, weights=weights))


def _roc_auc(y_true, proba, sample_weight, classes, groups):
    present = np.unique(y_true)
    if len(present) < 2:
        warnings.warn("ROC AUC is undefined when only one class is labelled; "
                      "returning NaN.", UndefinedMetricWarning, stacklevel=3)
        return np.nan
    if proba.shape[1] == 2:
        return skm.roc_auc_score(y_true == classes[1], proba[:, 1],
                                 sample_weight=sample_weight)
    if len(present) < len(classes):
        # One-vs-rest over the classes that occur in this sample, so that a
        # class absent from a test fold does not make the score undefined.
        return float(np.mean([
            skm.roc_auc_score(y_true == c, proba[:, list(classes).index(c)],
                              sample_weight=sample_weight)
            for c in present
        ]))
    return skm.roc_auc_score(y_true, proba, multi_class="ovr", average="macro",
                             labels=classes, sample_weight=sample_weight)


def _log_loss(y_true, proba, sample_weight, classes, groups):
    return skm.log_loss(y_true, proba, labels=classes, sample_weight=sample_weight)


def _plain(func):
    def column_metric(y_true, y_pred, sample_weight, classes, groups):
        return func(y_true, y_pred, sample_weight=sample_weight)

    column_metric.__name__ = func.__name__
    return column_metric


def _d2_poisson(y_true, y_pred, sample_weight=None):
    return skm.d2_tweedie_score(y_true, y_pred, sample_weight=sample_weight, power=1)


METRICS = Registry("metric", {m.name: m for m in [
    Metric("r2", _plain(skm.r2_score)),
    Metric("mean_squared_error", _plain(skm.mean_squared_error),
           greater_is_better=False),
    Metric("root_mean_squared_error", _plain(skm.root_mean_squared_error),
           greater_is_better=False),
    Metric("mean_absolute_error", _plain(skm.mean_absolute_error),
           greater_is_better=False),
    Metric("explained_variance", _plain(skm.explained_variance_score)),
    Metric("mean_poisson_deviance", _plain(skm.mean_poisson_deviance),
           greater_is_better=False),
    Metric("d2_poisson", _plain(_d2_poisson)),
    Metric("accuracy", _plain(skm.accuracy_score)),
    Metric("balanced_accuracy", _plain(skm.balanced_accuracy_score)),
    Metric("log_loss", _log_loss, response="proba", greater_is_better=False),
    Metric("roc_auc", _roc_auc, response="proba"),
    Metric("ndcg", _ndcg, response="score"),
    Metric("gauc", gauc, response="proba"),
    Metric("calibration_ratio", calibration_ratio, response="proba",
           greater_is_better=None),
    Metric("expected_calibration_error", expected_calibration_error,
           response="proba", greater_is_better=False),
]})
"""Masked metrics by name. A ``"neg_"`` prefix negates a loss (scorer names)."""


def get_metric(name):
    """Look up a metric; ``"neg_<loss>"`` returns the loss with a sign flip.

    Parameters
    ----------
    name : str or Metric
        A key of :data:`METRICS`, ``"neg_"`` followed by the key of a loss, or
        a :class:`Metric` (returned as is).

    Returns
    -------
    metric : Metric
    sign : {1, -1}
        -1 for a ``"neg_"`` loss: multiply the metric's value by it.

    Examples
    --------
    >>> from skmtl.metrics import get_metric
    >>> metric, sign = get_metric("neg_mean_squared_error")
    >>> metric.name, sign
    ('mean_squared_error', -1)
    """
    if isinstance(name, Metric):
        return name, 1
    if name in METRICS:
        return METRICS[name], 1
    if isinstance(name, str) and name.startswith("neg_") and name[4:] in METRICS:
        metric = METRICS[name[4:]]
        if metric.greater_is_better is not False:
            kind = ("a score, not a loss" if metric.greater_is_better
                    else "neither a score nor a loss")
            raise ValueError(f"metric {name!r}: {name[4:]!r} is {kind}; use it "
                             f"without 'neg_'.")
        return metric, -1
    raise ValueError(f"unknown metric {name!r}; choose one of {sorted(METRICS)} "
                     f"(losses also as 'neg_<name>').")


def _as_2d(Y):
    Y = np.asarray(Y)
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.ndim != 2:
        raise ValueError(f"expected a 1-D or 2-D array, got {Y.ndim} dimensions.")
    return Y


def _labels_of(column):
    """Labelled values of a column as a clean 1-D array (numbers or strings)."""
    if column.dtype == object:
        try:
            return column.astype(np.float64)
        except (TypeError, ValueError):
            return column.astype(str)
    return column


def score_column(metric, y_true, y_pred, *, sample_weight=None, classes=None,
                 groups=None):
    """Score one column on its labelled entries (``NaN``/None in ``y_true``).

    Parameters
    ----------
    metric : str or Metric
        As accepted by :func:`get_metric`.
    y_true : array-like of shape (n_samples,)
        Labels, ``NaN``/None where missing.
    y_pred : array-like of shape (n_samples,) or (n_samples, n_classes)
        A 1-D prediction, or for probability metrics the class
        probabilities, whose columns follow ``classes``.
    sample_weight : array-like of shape (n_samples,), default=None
    classes : array-like, default=None
        Class labels of the probability columns (probability metrics).
    groups : array-like of shape (n_samples,), default=None
        Query id of each row (ranking metrics).

    Returns
    -------
    value : float
        The metric (sign-flipped for ``"neg_"`` losses); NaN when the column
        has no labelled entry.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.metrics import score_column
    >>> score_column("accuracy", [1, np.nan, 0, 0], [1, 1, 1, 0])
    0.666...
    """
    metric, sign = get_metric(metric)
    y_true = np.asarray(y_true)
    for what, values in (("y_pred", y_pred), ("sample_weight", sample_weight),
                         ("groups", groups)):
        if values is not None and len(values) != len(y_true):
            raise ValueError(f"{metric.name}: {what} has {len(values)} rows but "
                             f"y_true has {len(y_true)}.")
    labelled = ~missing_mask(y_true)
    if not labelled.any():
        return np.nan
    y_t = _labels_of(y_true[labelled])
    y_p = np.asarray(y_pred)[labelled]
    if metric.response == "predict" and y_p.dtype == object:
        y_p = _labels_of(y_p)
    if y_p.dtype.kind == "f" and np.isnan(y_p).any():
        raise ValueError(f"{metric.name}: the predictions hold NaN at labelled "
                         f"entries.")
    sw = None if sample_weight is None else np.asarray(sample_weight)[labelled]
    g = None if groups is None else np.asarray(groups)[labelled]
    cls = None
    if metric.response == "proba":
        if classes is None:
            raise ValueError(f"{metric.name} needs the classes that the "
                             f"probability columns follow.")
        cls = _labels_of(np.asarray(classes, dtype=object)) if np.asarray(
            classes).dtype == object else np.asarray(classes)
        if y_t.dtype.kind in "US" and cls.dtype.kind not in "US":
            cls = cls.astype(str)
    return sign * float(metric.func(y_t, y_p, sw, cls, g))


def _masked(metric, Y_true, Y_pred, sample_weight, multioutput, classes=None,
            groups=None):
    Y_true = _as_2d(Y_true)
    if METRICS.get(metric, None) is not None and METRICS[metric].response == "proba":
        preds = Y_pred if isinstance(Y_pred, list) else [Y_pred]
        if classes is None:
            raise ValueError(f"{metric} needs classes=: the class labels that "
                             f"the probability columns follow (one list per "
                             f"column of Y).")
        if Y_true.shape[1] == 1 and len(classes) and np.ndim(classes[0]) == 0:
            classes = [classes]
        if len(preds) != Y_true.shape[1] or len(classes) != Y_true.shape[1]:
            raise ValueError(f"{metric}: Y_true has {Y_true.shape[1]} column(s) but "
                             f"{len(preds)} probability arrays and {len(classes)} "
                             f"class lists were given.")
        columns = [score_column(metric, Y_true[:, j], np.asarray(preds[j]),
                                sample_weight=sample_weight, classes=classes[j])
                   for j in range(Y_true.shape[1])]
    else:
        Y_pred = _as_2d(Y_pred)
        if Y_pred.shape != Y_true.shape:
            raise ValueError(f"Y_true has shape {Y_true.shape} but Y_pred has "
                             f"shape {Y_pred.shape}.")
        columns = [score_column(metric, Y_true[:, j], Y_pred[:, j],
                                sample_weight=sample_weight, groups=groups)
                   for j in range(Y_true.shape[1])]
    return _combine_columns(columns, multioutput)


def _combine_columns(columns, multioutput):
    """Per-column values combined as ``multioutput`` says (NaN columns left out)."""
    columns = np.asarray(columns, dtype=float)
    if isinstance(multioutput, str) and multioutput == "raw_values":
        return columns
    if isinstance(multioutput, str) and multioutput == "uniform_average":
        return float(np.nanmean(columns)) if not np.all(np.isnan(columns)) else np.nan
    weights = np.asarray(multioutput, dtype=float)
    keep = ~np.isnan(columns)
    return float(np.average(columns[keep], weights=weights[keep]))


def masked_r2_score(Y_true, Y_pred, *, sample_weight=None,
                    multioutput="uniform_average"):
    """Masked R²: each column of ``Y`` scored on its labelled entries.

    Entries where ``Y_true`` is ``NaN`` (or None) are left out of that column; a
    column with no labelled entry scores NaN and is left out of the average. R² is
    the coefficient of determination: the best possible score is 1.0, and a constant
    prediction of the labelled mean scores 0.

    Parameters
    ----------
    Y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        True values, ``NaN`` where a label is missing.
    Y_pred : array-like of the same shape
        Predicted values.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each row, applied within every column.
    multioutput : {"uniform_average", "raw_values"} or array-like, \
            default="uniform_average"
        How the per-column values are combined: their mean, each column's
        value, or a mean weighted by an array of shape (n_outputs,).

    Returns
    -------
    score : float or ndarray of shape (n_outputs,)

    See Also
    --------
    sklearn.metrics.r2_score : The unmasked metric.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.metrics import masked_r2_score
    >>> Y_true = [[1.0, 0.0], [2.0, np.nan], [3.0, 2.0]]
    >>> Y_pred = [[1.5, 0.0], [2.0, 9.9], [2.5, 1.0]]
    >>> masked_r2_score(Y_true, Y_pred, multioutput="raw_values")  # 1 - 0.5/2, 1 - 1/2
    array([0.75, 0.5 ])
    """
    return _masked("r2", Y_true, Y_pred, sample_weight,
                   multioutput)


def masked_mean_squared_error(Y_true, Y_pred, *, sample_weight=None,
                              multioutput="uniform_average"):
    """Masked mean squared error: each column of ``Y`` scored on its labelled entries.

    Entries where ``Y_true`` is ``NaN`` (or None) are left out of that column; a
    column with no labelled entry scores NaN and is left out of the average. Lower
    is better.

    Parameters
    ----------
    Y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        True values, ``NaN`` where a label is missing.
    Y_pred : array-like of the same shape
        Predicted values.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each row, applied within every column.
    multioutput : {"uniform_average", "raw_values"} or array-like, \
            default="uniform_average"
        How the per-column values are combined: their mean, each column's
        value, or a mean weighted by an array of shape (n_outputs,).

    Returns
    -------
    loss : float or ndarray of shape (n_outputs,)

    See Also
    --------
    sklearn.metrics.mean_squared_error : The unmasked metric.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.metrics import masked_mean_squared_error
    >>> Y_true = [[1.0, 0.0], [2.0, np.nan], [3.0, 2.0]]
    >>> Y_pred = [[1.5, 0.0], [2.0, 9.9], [2.5, 1.0]]
    >>> masked_mean_squared_error(Y_true, Y_pred, multioutput="raw_values")
    array([0.1666..., 0.5...])
    """
    return _masked("mean_squared_error", Y_true, Y_pred, sample_weight,
                   multioutput)


def masked_root_mean_squared_error(Y_true, Y_pred, *, sample_weight=None,
                                   multioutput="uniform_average"):
    """Masked root mean squared error: each column scored on its labelled entries.

    Entries where ``Y_true`` is ``NaN`` (or None) are left out of that column; a
    column with no labelled entry scores NaN and is left out of the average. Lower
    is better; the square root is taken per column, before averaging.

    Parameters
    ----------
    Y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        True values, ``NaN`` where a label is missing.
    Y_pred : array-like of the same shape
        Predicted values.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each row, applied within every column.
    multioutput : {"uniform_average", "raw_values"} or array-like, \
            default="uniform_average"
        How the per-column values are combined: their mean, each column's
        value, or a mean weighted by an array of shape (n_outputs,).

    Returns
    -------
    loss : float or ndarray of shape (n_outputs,)

    See Also
    --------
    sklearn.metrics.root_mean_squared_error : The unmasked metric.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.metrics import masked_root_mean_squared_error
    >>> Y_true = [[1.0, 0.0], [2.0, np.nan], [3.0, 2.0]]
    >>> Y_pred = [[1.5, 0.0], [2.0, 9.9], [2.5, 1.0]]
    >>> masked_root_mean_squared_error(Y_true, Y_pred, multioutput="raw_values")
    array([0.408..., 0.707...])
    """
    return _masked("root_mean_squared_error", Y_true, Y_pred, sample_weight,
                   multioutput)


def masked_mean_absolute_error(Y_true, Y_pred, *, sample_weight=None,
                               multioutput="uniform_average"):
    """Masked mean absolute error: each column of ``Y`` scored on its labelled entries.

    Entries where ``Y_true`` is ``NaN`` (or None) are left out of that column; a
    column with no labelled entry scores NaN and is left out of the average. Lower
    is better.

    Parameters
    ----------
    Y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        True values, ``NaN`` where a label is missing.
    Y_pred : array-like of the same shape
        Predicted values.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each row, applied within every column.
    multioutput : {"uniform_average", "raw_values"} or array-like, \
            default="uniform_average"
        How the per-column values are combined: their mean, each column's
        value, or a mean weighted by an array of shape (n_outputs,).

    Returns
    -------
    loss : float or ndarray of shape (n_outputs,)

    See Also
    --------
    sklearn.metrics.mean_absolute_error : The unmasked metric.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.metrics import masked_mean_absolute_error
    >>> Y_true = [[1.0, 0.0], [2.0, np.nan], [3.0, 2.0]]
    >>> Y_pred = [[1.5, 0.0], [2.0, 9.9], [2.5, 1.0]]
    >>> masked_mean_absolute_error(Y_true, Y_pred, multioutput="raw_values")
    array([0.333..., 0.5...])
    """
    return _masked("mean_absolute_error", Y_true, Y_pred, sample_weight,
                   multioutput)


def masked_explained_variance_score(Y_true, Y_pred, *, sample_weight=None,
                                    multioutput="uniform_average"):
    """Masked explained variance: each column of ``Y`` scored on its labelled entries.

    Entries where ``Y_true`` is ``NaN`` (or None) are left out of that column; a
    column with no labelled entry scores NaN and is left out of the average. Unlike
    R², a constant offset of the predictions is not penalized.

    Parameters
    ----------
    Y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        True values, ``NaN`` where a label is missing.
    Y_pred : array-like of the same shape
        Predicted values.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each row, applied within every column.
    multioutput : {"uniform_average", "raw_values"} or array-like, \
            default="uniform_average"
        How the per-column values are combined: their mean, each column's
        value, or a mean weighted by an array of shape (n_outputs,).

    Returns
    -------
    score : float or ndarray of shape (n_outputs,)

    See Also
    --------
    sklearn.metrics.explained_variance_score : The unmasked metric.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.metrics import masked_explained_variance_score
    >>> Y_true = [[1.0, 0.0], [2.0, np.nan], [3.0, 2.0]]
    >>> Y_pred = [[1.5, 0.0], [2.0, 9.9], [2.5, 1.0]]
    >>> masked_explained_variance_score(Y_true, Y_pred, multioutput="raw_values")
    array([0.75, 0.75])
    """
    return _masked("explained_variance", Y_true, Y_pred, sample_weight,
                   multioutput)


def masked_mean_poisson_deviance(Y_true, Y_pred, *, sample_weight=None,
                                 multioutput="uniform_average"):
    """Masked mean Poisson deviance: each column scored on its labelled entries.

    Entries where ``Y_true`` is ``NaN`` (or None) are left out of that column; a
    column with no labelled entry scores NaN and is left out of the average. Lower
    is better; labels are non-negative counts.

    Parameters
    ----------
    Y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        True values, ``NaN`` where a label is missing.
    Y_pred : array-like of the same shape
        Predicted means, strictly positive.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each row, applied within every column.
    multioutput : {"uniform_average", "raw_values"} or array-like, \
            default="uniform_average"
        How the per-column values are combined: their mean, each column's
        value, or a mean weighted by an array of shape (n_outputs,).

    Returns
    -------
    loss : float or ndarray of shape (n_outputs,)

    See Also
    --------
    sklearn.metrics.mean_poisson_deviance : The unmasked metric.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.metrics import masked_mean_poisson_deviance
    >>> Y_true = [[0.0, 2.0], [1.0, np.nan], [3.0, 1.0]]
    >>> Y_pred = [[0.5, 2.0], [1.0, 0.0], [2.0, 1.0]]
    >>> masked_mean_poisson_deviance(Y_true, Y_pred, multioutput="raw_values")
    array([0.4775..., 0.        ])
    """
    return _masked("mean_poisson_deviance", Y_true, Y_pred, sample_weight,
                   multioutput)


def masked_d2_poisson_score(Y_true, Y_pred, *, sample_weight=None,
                            multioutput="uniform_average"):
    """Masked D² Poisson score: each column of ``Y`` scored on its labelled entries.

    Entries where ``Y_true`` is ``NaN`` (or None) are left out of that column; a
    column with no labelled entry scores NaN and is left out of the average. D² is
    the fraction of Poisson deviance explained,
    :func:`sklearn.metrics.d2_tweedie_score` with ``power=1``; the best score is
    1.0.

    Parameters
    ----------
    Y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        True values, ``NaN`` where a label is missing.
    Y_pred : array-like of the same shape
        Predicted means, strictly positive.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each row, applied within every column.
    multioutput : {"uniform_average", "raw_values"} or array-like, \
            default="uniform_average"
        How the per-column values are combined: their mean, each column's
        value, or a mean weighted by an array of shape (n_outputs,).

    Returns
    -------
    score : float or ndarray of shape (n_outputs,)

    See Also
    --------
    sklearn.metrics.d2_tweedie_score : The unmasked metric.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.metrics import masked_d2_poisson_score
    >>> Y_true = [[0.0, 2.0], [1.0, np.nan], [3.0, 1.0]]
    >>> Y_pred = [[0.5, 2.0], [1.0, 0.0], [2.0, 1.0]]
    >>> masked_d2_poisson_score(Y_true, Y_pred, multioutput="raw_values")
    array([0.666..., 1.   ])
    """
    return _masked("d2_poisson", Y_true, Y_pred, sample_weight,
                   multioutput)


def masked_accuracy_score(Y_true, Y_pred, *, sample_weight=None,
                          multioutput="uniform_average"):
    """Masked accuracy: each column of ``Y`` scored on its labelled entries.

    Entries where ``Y_true`` is ``NaN`` (or None) are left out of that column; a
    column with no labelled entry scores NaN and is left out of the average. The
    fraction of labelled entries predicted exactly.

    Parameters
    ----------
    Y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        True values, ``NaN`` where a label is missing.
    Y_pred : array-like of the same shape
        Predicted labels.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each row, applied within every column.
    multioutput : {"uniform_average", "raw_values"} or array-like, \
            default="uniform_average"
        How the per-column values are combined: their mean, each column's
        value, or a mean weighted by an array of shape (n_outputs,).

    Returns
    -------
    score : float or ndarray of shape (n_outputs,)

    See Also
    --------
    sklearn.metrics.accuracy_score : The unmasked metric.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.metrics import masked_accuracy_score
    >>> Y_true = [[0, 1], [1, np.nan], [2, 0]]
    >>> Y_pred = [[0, 1], [2, 1], [2, 1]]
    >>> masked_accuracy_score(Y_true, Y_pred, multioutput="raw_values")
    array([0.666..., 0.5...])
    """
    return _masked("accuracy", Y_true, Y_pred, sample_weight,
                   multioutput)


def masked_balanced_accuracy_score(Y_true, Y_pred, *, sample_weight=None,
                                   multioutput="uniform_average"):
    """Masked balanced accuracy: each column of ``Y`` scored on its labelled entries.

    Entries where ``Y_true`` is ``NaN`` (or None) are left out of that column; a
    column with no labelled entry scores NaN and is left out of the average. The
    mean of the recall of each class present among the labelled entries.

    Parameters
    ----------
    Y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        True values, ``NaN`` where a label is missing.
    Y_pred : array-like of the same shape
        Predicted labels.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each row, applied within every column.
    multioutput : {"uniform_average", "raw_values"} or array-like, \
            default="uniform_average"
        How the per-column values are combined: their mean, each column's
        value, or a mean weighted by an array of shape (n_outputs,).

    Returns
    -------
    score : float or ndarray of shape (n_outputs,)

    See Also
    --------
    sklearn.metrics.balanced_accuracy_score : The unmasked metric.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.metrics import masked_balanced_accuracy_score
    >>> Y_true = [[0, 1], [0, np.nan], [0, 0], [1, 0]]
    >>> Y_pred = [[0, 1], [1, 1], [0, 1], [1, 0]]
    >>> masked_balanced_accuracy_score(Y_true, Y_pred, multioutput="raw_values")
    array([0.833..., 0.75...])
    """
    return _masked("balanced_accuracy", Y_true, Y_pred, sample_weight,
                   multioutput)


def masked_log_loss(Y_true, Y_proba, *, classes, sample_weight=None,
                    multioutput="uniform_average"):
    """Masked log-loss: each column scored on its labelled entries.

    Parameters
    ----------
    Y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Class labels, ``NaN``/None where missing.
    Y_proba : ndarray of shape (n_samples, n_classes) or list of such arrays
        Class probabilities, one array per column of ``Y_true``.
    classes : array-like or list of array-like
        The labels that the probability columns follow, per column.
    sample_weight : array-like of shape (n_samples,), default=None
    multioutput : {"uniform_average", "raw_values"} or array-like

    Returns
    -------
    loss : float or ndarray of shape (n_outputs,)

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.metrics import masked_log_loss
    >>> masked_log_loss([0, 1, np.nan], np.array([[.8, .2], [.4, .6], [.5, .5]]),
    ...                 classes=[0, 1])  # -(log .8 + log .6) / 2
    0.367...
    """
    return _masked("log_loss", Y_true, Y_proba, sample_weight, multioutput,
                   classes=classes)


def masked_roc_auc_score(Y_true, Y_proba, *, classes, sample_weight=None,
                         multioutput="uniform_average"):
    """Masked ROC AUC (one-vs-rest macro average for multiclass columns).

    A column whose labelled entries hold a single class scores NaN (with an
    ``UndefinedMetricWarning``) and is left out of the average.

    Parameters
    ----------
    Y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Class labels, ``NaN``/None where missing.
    Y_proba : ndarray of shape (n_samples, n_classes) or list of such arrays
        Class probabilities, one array per column of ``Y_true``.
    classes : array-like or list of array-like
        The labels that the probability columns follow, per column.
    sample_weight : array-like of shape (n_samples,), default=None
    multioutput : {"uniform_average", "raw_values"} or array-like

    Returns
    -------
    score : float or ndarray of shape (n_outputs,)

    See Also
    --------
    sklearn.metrics.roc_auc_score : The unmasked metric.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.metrics import masked_roc_auc_score
    >>> masked_roc_auc_score([0, 1, 1, np.nan],
    ...                      np.array([[.7, .3], [.4, .6], [.8, .2], [.5, .5]]),
    ...                      classes=[0, 1])  # pairs ranked right: 1 of 2
    0.5
    """
    return _masked("roc_auc", Y_true, Y_proba, sample_weight, multioutput,
                   classes=classes)


def masked_ndcg_score(Y_true, Y_score, *, groups=None, sample_weight=None,
                      multioutput="uniform_average"):
    """Masked NDCG of ranking scores, averaged over groups (queries).

    Relevance gains are linear, as in :func:`sklearn.metrics.ndcg_score`; each
    group with at least two labelled items contributes one NDCG value.

    Parameters
    ----------
    Y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Non-negative relevance labels, ``NaN`` where missing.
    Y_score : array-like of the same shape
        Predicted scores (higher ranks first).
    groups : array-like of shape (n_samples,), default=None
        Query id of each row; None ranks all rows as one list.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights groups by their mean sample weight.
    multioutput : {"uniform_average", "raw_values"} or array-like

    Returns
    -------
    score : float or ndarray of shape (n_outputs,)
    """
    return _masked("ndcg", Y_true, Y_score, sample_weight, multioutput, groups=groups)
