"""Masked metrics of click and conversion models: GAUC and calibration."""

import functools

import numpy as np

from ._binary import BIN_STRATEGIES, expected_calibration_error
from ._masked import METRICS, Metric, _as_2d, _combine_columns, score_column

__all__ = ["masked_gauc_score", "masked_calibration_ratio",
           "masked_expected_calibration_error"]


def probability_columns(Y_proba, n_samples, n_outputs, what="Y_proba"):
    """One probability array per column of ``Y`` from either accepted form.

    An array of shape (n_samples, n_outputs) (or (n_samples,) for one column)
    holds the positive-class probability of each column; a list of ndarrays
    (or None) holds one entry per column, either such a 1-D array or the
    (n_samples, 2) class probabilities that ``predict_proba`` returns; a
    single (n_samples, 2) array is the class probabilities of a one-column
    ``Y``. Nested Python lists are read as an array, row by row.
    """
    if isinstance(Y_proba, list | tuple) and Y_proba and all(
            p is None or isinstance(p, np.ndarray) for p in Y_proba):
        if len(Y_proba) != n_outputs:
            raise ValueError(f"{what} holds {len(Y_proba)} probability arrays for "
                             f"{n_outputs} column(s) of Y.")
        return [None if p is None else np.asarray(p) for p in Y_proba]
    Y_proba = np.asarray(Y_proba)
    if Y_proba.ndim == 1 and n_outputs == 1:
        return [Y_proba]
    if Y_proba.ndim == 2 and Y_proba.shape == (n_samples, n_outputs):
        return [Y_proba[:, j] for j in range(n_outputs)]
    if Y_proba.ndim == 2 and n_outputs == 1 and Y_proba.shape == (n_samples, 2):
        return [Y_proba]
    raise ValueError(f"{what} has shape {Y_proba.shape}; expected ({n_samples}, "
                     f"{n_outputs}) positive-class probabilities, or a list with one "
                     f"array per column of Y.")


def _column_classes(classes, n_outputs):
    if classes is None:
        return [(0, 1)] * n_outputs
    if len(classes) == 2 and all(np.ndim(c) == 0 for c in classes):
        return [tuple(classes)] * n_outputs
    if len(classes) != n_outputs:
        raise ValueError(f"classes holds {len(classes)} class lists for "
                         f"{n_outputs} column(s) of Y; pass [negative, positive] "
                         f"for every column or one pair per column.")
    return list(classes)


def _masked_binary(metric, Y_true, Y_proba, classes, sample_weight, groups,
                   multioutput):
    Y_true = _as_2d(Y_true)
    n_samples, n_outputs = Y_true.shape
    probabilities = probability_columns(Y_proba, n_samples, n_outputs)
    classes = _column_classes(classes, n_outputs)
    columns = []
    for j in range(n_outputs):
        try:
            columns.append(score_column(metric, Y_true[:, j], probabilities[j],
                                        sample_weight=sample_weight,
                                        classes=classes[j], groups=groups))
        except ValueError as exc:
            raise ValueError(f"column {j} of Y: {exc}") from exc
    return _combine_columns(columns, multioutput)


def masked_gauc_score(Y_true, Y_proba, *, groups, classes=None, sample_weight=None,
                      multioutput="uniform_average"):
    """Group AUC: the ROC AUC within each user or query, impression-weighted.

    Each column is scored on its labelled entries: the rows are split by
    ``groups`` (user or query ids), the ROC AUC of each group is computed, and
    the groups' AUCs are averaged with weights equal to the number of labelled
    impressions of each group (the sum of their sample weights when
    ``sample_weight`` is given):

    ``GAUC = sum_g n_g AUC_g / sum_g n_g``

    over the groups that hold both classes. A group whose labelled entries
    hold one class only has no AUC and is skipped, as in the GAUC literature;
    when no group holds both classes the column scores NaN (with an
    ``UndefinedMetricWarning``) and is left out of the average. Ties count one
    half. With every row in one group, GAUC is the plain ROC AUC.

    An overall AUC mixes the comparison of users with the ranking within
    each user; GAUC measures only the latter, which is what a recommender
    serves (each user sees a ranking of items).

    Parameters
    ----------
    Y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Binary labels, ``NaN`` where missing.
    Y_proba : array-like or list of array-like
        Positive-class probabilities (or any score that ranks the rows), of
        the shape of ``Y_true``; or a list with one ndarray per column,
        either 1-D positive-class probabilities or the (n_samples, 2) class
        probabilities that ``predict_proba`` returns.
    groups : array-like of shape (n_samples,)
        User or query id of each row.
    classes : (negative, positive) or list of such pairs, default=None
        The two labels of each column; None means 0 and 1.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights each pair of a positive and a negative within a group by the
        product of their weights, and each group by its summed weight.
    multioutput : {"uniform_average", "raw_values"} or array-like, \
            default="uniform_average"
        How the per-column values are combined.

    Returns
    -------
    score : float or ndarray of shape (n_outputs,)

    See Also
    --------
    masked_roc_auc_score : One AUC over all rows.
    make_multitask_scorer : ``"gauc"`` as a scorer; its ``groups`` come from
        the call or from metadata routing (``set_score_request(groups=True)``).

    Notes
    -----
    Zhou et al., "Deep Interest Network for Click-Through Rate Prediction",
    KDD 2018, section 5.1 (user-weighted AUC, with impressions as weights).

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.metrics import masked_gauc_score
    >>> y = [1, 0, 0, 1, 0, 1, np.nan]
    >>> p = [0.9, 0.2, 0.6, 0.3, 0.4, 0.8, 0.5]
    >>> users = [0, 0, 0, 1, 1, 2, 2]
    >>> # user 0: AUC 1 over 3 impressions; user 1: AUC 0 over 2; user 2: one class
    >>> masked_gauc_score(y, p, groups=users)
    0.6
    """
    return _masked_binary("gauc", Y_true, Y_proba, classes, sample_weight, groups,
                          multioutput)


def masked_calibration_ratio(Y_true, Y_proba, *, classes=None, sample_weight=None,
                             multioutput="uniform_average"):
    """Predicted over observed positives: 1 when a model is calibrated on average.

    ``ratio = sum_i w_i p_i / sum_i w_i y_i`` over the labelled entries of
    each column, where ``p_i`` is the predicted probability of the positive
    class and ``y_i`` is 1 for a positive label: the expected number of
    clicks (conversions) over the observed number, the figure that ad-click
    practitioners report. Above 1 the model over-predicts, below 1 it
    under-predicts. A column without a labelled positive scores NaN (with an
    ``UndefinedMetricWarning``) and is left out of the average.

    The ratio says nothing about ranking, and a model can be calibrated on
    average yet wrong in every bin (see
    :func:`masked_expected_calibration_error` and
    :class:`~skmtl.plotting.ReliabilityDisplay`). It is neither a score nor a
    loss: its scorer (``make_multitask_scorer("calibration_ratio")``) returns
    it unchanged, for reports (``cross_validate``), not for choosing a model
    by maximizing it.

    Parameters
    ----------
    Y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Binary labels, ``NaN`` where missing.
    Y_proba : array-like or list of array-like
        Positive-class probabilities in [0, 1], of the shape of ``Y_true``;
        or a list with one ndarray per column, 1-D or (n_samples, 2) as
        ``predict_proba`` returns.
    classes : (negative, positive) or list of such pairs, default=None
        The two labels of each column; None means 0 and 1.
    sample_weight : array-like of shape (n_samples,), default=None
    multioutput : {"uniform_average", "raw_values"} or array-like, \
            default="uniform_average"
        How the per-column values are combined.

    Returns
    -------
    ratio : float or ndarray of shape (n_outputs,)

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.metrics import masked_calibration_ratio
    >>> Y = [[1, 0], [0, np.nan], [0, 1], [1, 1]]
    >>> P = [[0.5, 0.1], [0.2, 0.9], [0.2, 0.7], [0.3, 0.6]]
    >>> masked_calibration_ratio(Y, P, multioutput="raw_values")  # 1.2/2, 1.4/2
    array([0.6, 0.7])
    """
    return _masked_binary("calibration_ratio", Y_true, Y_proba, classes,
                          sample_weight, None, multioutput)


def masked_expected_calibration_error(Y_true, Y_proba, *, classes=None, n_bins=10,
                                      strategy="uniform", sample_weight=None,
                                      multioutput="uniform_average"):
    """Expected calibration error: mean gap between predicted and observed rates.

    The labelled entries of each column are binned by their predicted
    positive-class probability and

    ``ECE = sum_b (W_b / W) |mean predicted probability_b - fraction of
    positives_b|``

    where ``W_b`` is the weight (number of entries, or summed sample weights)
    of bin ``b``. 0 is calibrated; lower is better. The bins are those of
    :func:`sklearn.calibration.calibration_curve`, drawn by
    :class:`~skmtl.plotting.ReliabilityDisplay`: the ECE is the weighted mean
    vertical distance of the reliability curve from the diagonal.

    Parameters
    ----------
    Y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Binary labels, ``NaN`` where missing.
    Y_proba : array-like or list of array-like
        Positive-class probabilities in [0, 1], of the shape of ``Y_true``;
        or a list with one ndarray per column, 1-D or (n_samples, 2) as
        ``predict_proba`` returns.
    classes : (negative, positive) or list of such pairs, default=None
        The two labels of each column; None means 0 and 1.
    n_bins : int, default=10
    strategy : {"uniform", "quantile"}, default="uniform"
        Bins of equal width on [0, 1], or holding equal numbers of entries
        (edges at the quantiles of the predictions). With rare positives
        (click and conversion rates of a few percent) most predictions fall
        in the first uniform bin; quantile bins resolve them.
    sample_weight : array-like of shape (n_samples,), default=None
    multioutput : {"uniform_average", "raw_values"} or array-like, \
            default="uniform_average"
        How the per-column values are combined.

    Returns
    -------
    loss : float or ndarray of shape (n_outputs,)

    Notes
    -----
    Naeini, Cooper and Hauskrecht, "Obtaining Well Calibrated Probabilities
    Using Bayesian Binning", AAAI 2015; Guo et al., "On Calibration of Modern
    Neural Networks", ICML 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.metrics import masked_expected_calibration_error
    >>> y = [0, 0, 1, 1, 1, np.nan]
    >>> p = [0.1, 0.3, 0.2, 0.8, 0.9, 0.5]
    >>> # bins [0, .5): mean p 0.2, rate 1/3 (3 entries); [.5, 1]: 0.85 and 1 (2)
    >>> masked_expected_calibration_error(y, p, n_bins=2)  # (3 * 0.1333 + 2 * 0.15) / 5
    0.14
    """
    if strategy not in BIN_STRATEGIES:
        raise ValueError(f"strategy must be one of {BIN_STRATEGIES}, got "
                         f"{strategy!r}.")
    metric = METRICS["expected_calibration_error"]
    if (n_bins, strategy) != (10, "uniform"):
        metric = Metric(metric.name, functools.partial(
            expected_calibration_error, n_bins=n_bins, strategy=strategy),
            metric.response, metric.greater_is_better, labels=metric.labels)
    return _masked_binary(metric, Y_true, Y_proba, classes, sample_weight, None,
                          multioutput)
