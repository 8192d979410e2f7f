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
    "masked_mean_pinball_loss",
    "masked_d2_pinball_score",
    "masked_mean_absolute_rank_error",
]


@dataclass(frozen=True)
class Metric:
    """A metric of one column: ``func(y_true, y_pred, sample_weight, classes,
    groups)`` on labelled entries only.

    ``response`` says what the metric needs from a model: ``"predict"`` (labels
    or values), ``"proba"`` (class probabilities, ``predict_proba``),
    ``"quantiles"`` (``predict_quantiles``) or ``"score"`` (a ranking score,
    taken from ``predict``). ``labels`` names the fitted attribute of the
    task that the metric receives as ``classes``: ``"classes_"`` (the
    classes the probability columns follow, or the order of ordinal
    classes), ``"quantiles_"`` (the level of each quantile column); None
    when it needs none.
    """

    name: str
    func: object
    response: str = "predict"
    greater_is_better: bool | None = True
    labels: str | None = None


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


def _mean_pinball(y_true, quantiles, sample_weight, levels, groups):
    """Mean over the quantile levels of the mean pinball loss of each level."""
    return float(np.mean([
        skm.mean_pinball_loss(y_true, quantiles[:, j], alpha=float(level),
                              sample_weight=sample_weight)
        for j, level in enumerate(levels)]))


def _d2_pinball(y_true, quantiles, sample_weight, levels, groups):
    """Mean over the quantile levels of D² pinball (``d2_pinball_score``)."""
    return float(np.mean([
        skm.d2_pinball_score(y_true, quantiles[:, j], alpha=float(level),
                             sample_weight=sample_weight)
        for j, level in enumerate(levels)]))


def _absolute_rank_error(y_true, y_pred, sample_weight, classes, groups):
    """Mean absolute difference between the ranks of the true and the
    predicted classes, in the order of ``classes``."""
    rank = {label: r for r, label in enumerate(np.asarray(classes).tolist())}
    ranks = []
    for values in (y_true, y_pred):
        try:
            ranks.append([rank[v] for v in np.asarray(values).tolist()])
        except KeyError as error:
            raise ValueError(f"mean_absolute_rank_error: the label {error.args[0]!r} "
                             f"is not among the ordered classes "
                             f"{np.asarray(classes).tolist()}.") from None
    return skm.mean_absolute_error(ranks[0], ranks[1], sample_weight=sample_weight)


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
    Metric("log_loss", _log_loss, response="proba", greater_is_better=False,
           labels="classes_"),
    Metric("roc_auc", _roc_auc, response="proba", labels="classes_"),
    Metric("ndcg", _ndcg, response="score"),
    Metric("mean_pinball_loss", _mean_pinball, response="quantiles",
           greater_is_better=False, labels="quantiles_"),
    Metric("d2_pinball", _d2_pinball, response="quantiles", labels="quantiles_"),
    Metric("mean_absolute_rank_error", _absolute_rank_error,
           greater_is_better=False, labels="classes_"),
    Metric("gauc", gauc, response="proba", labels="classes_"),
    Metric("calibration_ratio", calibration_ratio, response="proba",
           greater_is_better=None, labels="classes_"),
    Metric("expected_calibration_error", expected_calibration_error,
           response="proba", greater_is_better=False, labels="classes_"),
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
    y_pred : array-like of shape (n_samples,) or (n_samples, n_columns)
        A 1-D prediction, or for probability and quantile metrics the class
        probabilities or the quantiles, whose columns follow ``classes``.
    sample_weight : array-like of shape (n_samples,), default=None
    classes : array-like, default=None
        For the metrics with ``labels`` (see :class:`Metric`): the class
        labels of the probability columns, the order of ordinal classes, or
        the quantile level of each quantile column.
    groups : array-like of shape (n_samples,), default=None
        Query id of each row (ranking metrics).

    Returns
    -------
    value : float
        The metric (sign-flipped for ``"neg_"`` losses); NaN when the column
        has no labelled entry, or when every labelled entry has weight 0.

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
    if sw is not None and not np.any(sw):
        return np.nan  # no labelled weight: as no labelled entry
    g = None if groups is None else np.asarray(groups)[labelled]
    cls = None
    if metric.labels is not None:
        if classes is None:
            what = ("quantile levels of the quantile columns"
                    if metric.labels == "quantiles_" else "classes")
            raise ValueError(f"{metric.name} needs the {what} (classes=).")
        cls = _labels_of(np.asarray(classes, dtype=object)) if np.asarray(
            classes).dtype == object else np.asarray(classes)
        if y_t.dtype.kind in "US" and cls.dtype.kind not in "US":
            cls = cls.astype(str)
    return sign * float(metric.func(y_t, y_p, sw, cls, g))


def _masked(metric, Y_true, Y_pred, sample_weight, multioutput, classes=None,
            groups=None):
    Y_true = _as_2d(Y_true)
    described = METRICS[metric]
    if described.labels is not None:
        if classes is None:
            raise ValueError(f"{metric} needs classes=: the labels that the "
                             f"prediction columns follow (one list per column of "
                             f"Y, or one for all).")
        if len(classes) and np.ndim(classes[0]) == 0:
            classes = [classes] * Y_true.shape[1]  # one list for every column
        if len(classes) != Y_true.shape[1]:
            raise ValueError(f"{metric}: Y_true has {Y_true.shape[1]} column(s) but "
                             f"{len(classes)} label lists were given.")
    if described.response in ("proba", "quantiles"):
        preds = Y_pred if isinstance(Y_pred, list) else [Y_pred]
        if len(preds) != Y_true.shape[1]:
            raise ValueError(f"{metric}: Y_true has {Y_true.shape[1]} column(s) but "
                             f"{len(preds)} prediction arrays were given.")
        columns = [score_column(metric, Y_true[:, j], np.asarray(preds[j]),
                                sample_weight=sample_weight, classes=classes[j])
                   for j in range(Y_true.shape[1])]
    elif described.labels is not None:
        Y_pred = _as_2d(Y_pred)
        if Y_pred.shape != Y_true.shape:
            raise ValueError(f"Y_true has shape {Y_true.shape} but Y_pred has "
                             f"shape {Y_pred.shape}.")
        columns = [score_column(metric, Y_true[:, j], Y_pred[:, j],
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
    Y_true = np.asarray(_as_2d(Y_true), dtype=np.float64)
    Y_pred = np.asarray(_as_2d(Y_pred), dtype=np.float64)
    if Y_pred.shape != Y_true.shape:
        raise ValueError(f"Y_true has shape {Y_true.shape} but Y_pred has "
                         f"shape {Y_pred.shape}.")
    return _combine_columns(_squared_errors(Y_true, Y_pred, sample_weight), multioutput)


def _squared_errors(Y_true, Y_pred, sample_weight):
    """Each column's (weighted) mean squared error over its labelled rows.

    Vectorized over the columns (the cross-validated linear models score a
    path of fits with it); NaN for a column without labelled weight.
    """
    labelled = ~np.isnan(Y_true)
    weights = labelled * (1.0 if sample_weight is None
                          else np.asarray(sample_weight, dtype=float)[:, None])
    if np.isnan(Y_pred[labelled]).any():
        raise ValueError("mean_squared_error: the predictions hold NaN at "
                         "labelled entries.")
    errors = np.where(labelled, Y_true - Y_pred, 0.0) ** 2
    totals = weights.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, (weights * errors).sum(axis=0) / totals, np.nan)


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


def masked_mean_pinball_loss(Y_true, Y_quantiles, *, quantiles, sample_weight=None,
                             multioutput="uniform_average"):
    """Masked mean pinball loss of predicted quantiles, averaged over the levels.

    For each column, the pinball loss ``max(q (y - f), (q - 1) (y - f))`` of
    each level ``q`` is averaged over the labelled entries
    (:func:`sklearn.metrics.mean_pinball_loss`), then over the levels.
    Lower is better.

    Parameters
    ----------
    Y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        True values, ``NaN`` where missing.
    Y_quantiles : ndarray of shape (n_samples, n_quantiles) or list of them
        Predicted quantiles (``estimator.predict_quantiles(X)``), one array
        per column of ``Y_true``.
    quantiles : array-like or list of array-like
        The level of each quantile column (for every column, or per column).
    sample_weight : array-like of shape (n_samples,), default=None
    multioutput : {"uniform_average", "raw_values"} or array-like

    Returns
    -------
    loss : float or ndarray of shape (n_outputs,)

    See Also
    --------
    sklearn.metrics.mean_pinball_loss : The unmasked metric of one level.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.metrics import masked_mean_pinball_loss
    >>> y = [1.0, 3.0, np.nan]
    >>> q = np.array([[0.0, 2.0], [2.0, 4.0], [9.0, 9.0]])
    >>> # level 0.1: (0.1*1 + 0.1*1)/2; level 0.9: (0.1*1 + 0.1*1)/2
    >>> masked_mean_pinball_loss(y, q, quantiles=[0.1, 0.9])
    0.1
    """
    return _masked("mean_pinball_loss", Y_true, Y_quantiles, sample_weight,
                   multioutput, classes=quantiles)


def masked_d2_pinball_score(Y_true, Y_quantiles, *, quantiles, sample_weight=None,
                            multioutput="uniform_average"):
    """Masked D² pinball score of predicted quantiles, averaged over the levels.

    For each column and level ``q``, :func:`sklearn.metrics.d2_pinball_score`
    on the labelled entries: ``1`` minus the pinball loss of the prediction
    over that of the labelled ``q``-quantile of ``y`` (1 is best, 0 is the
    constant empirical quantile); then the mean over the levels.

    Parameters
    ----------
    Y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        True values, ``NaN`` where missing.
    Y_quantiles : ndarray of shape (n_samples, n_quantiles) or list of them
        Predicted quantiles, one array per column of ``Y_true``.
    quantiles : array-like or list of array-like
        The level of each quantile column (for every column, or per column).
    sample_weight : array-like of shape (n_samples,), default=None
    multioutput : {"uniform_average", "raw_values"} or array-like

    Returns
    -------
    score : float or ndarray of shape (n_outputs,)

    See Also
    --------
    sklearn.metrics.d2_pinball_score : The unmasked metric of one level.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.metrics import masked_d2_pinball_score
    >>> y = np.array([1.0, 2.0, 3.0, 4.0, np.nan])
    >>> perfect = np.c_[y, y]
    >>> masked_d2_pinball_score(y, perfect, quantiles=[0.1, 0.9])
    1.0
    """
    return _masked("d2_pinball", Y_true, Y_quantiles, sample_weight, multioutput,
                   classes=quantiles)


def masked_mean_absolute_rank_error(Y_true, Y_pred, *, classes, sample_weight=None,
                                    multioutput="uniform_average"):
    """Masked mean absolute error between the ranks of ordered classes.

    Each label is replaced by its position in ``classes`` (the order of an
    ordinal task's classes) and the mean absolute difference of the
    positions of the true and the predicted classes is taken over the
    labelled entries: predicting a neighbouring class costs 1, two classes
    off 2. Lower is better.

    Parameters
    ----------
    Y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Class labels, ``NaN``/None where missing.
    Y_pred : array-like of the same shape
        Predicted class labels.
    classes : array-like or list of array-like
        The classes in their order (for every column, or per column).
    sample_weight : array-like of shape (n_samples,), default=None
    multioutput : {"uniform_average", "raw_values"} or array-like

    Returns
    -------
    loss : float or ndarray of shape (n_outputs,)

    See Also
    --------
    sklearn.metrics.mean_absolute_error : The same on the ranks.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.metrics import masked_mean_absolute_rank_error
    >>> Y_true = np.array(["low", "high", "mid", None], dtype=object)
    >>> Y_pred = np.array(["low", "mid", "low", "low"], dtype=object)
    >>> masked_mean_absolute_rank_error(Y_true, Y_pred,
    ...                                 classes=["low", "mid", "high"])  # (0+1+1)/3
    0.666...
    """
    return _masked("mean_absolute_rank_error", Y_true, Y_pred, sample_weight,
                   multioutput, classes=classes)
