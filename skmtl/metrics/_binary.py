"""Column metrics of binary probabilities: GAUC and calibration.

Each function scores one column on its labelled entries, with the signature of
:class:`~skmtl.metrics._masked.Metric` functions: ``func(y_true, proba,
sample_weight, classes, groups)``. ``proba`` is the probability of the positive
class (1-D) or the two class probabilities (2-D, columns in ``classes`` order).
"""

import warnings

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning

__all__ = []

BIN_STRATEGIES = ("uniform", "quantile")


def _positive_proba(name, y_true, proba, classes, check_range=False):
    """``(is_positive, p_positive)`` of a binary column, or a ValueError."""
    classes = np.asarray(classes)
    if len(classes) != 2:
        raise ValueError(f"{name} scores binary columns; this one has "
                         f"{len(classes)} classes {classes.tolist()}.")
    unknown = np.setdiff1d(np.unique(y_true), classes)
    if unknown.size:
        raise ValueError(f"{name}: labels {unknown.tolist()} are not among the "
                         f"classes {classes.tolist()}; pass classes=[negative, "
                         f"positive].")
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim == 2:
        if proba.shape[1] != 2:
            raise ValueError(f"{name}: expected the probabilities of the two "
                             f"classes, got {proba.shape[1]} columns.")
        proba = proba[:, 1]
    elif proba.ndim != 1:
        raise ValueError(f"{name}: expected 1-D positive-class probabilities or "
                         f"(n_samples, 2) class probabilities, got shape "
                         f"{proba.shape}.")
    if check_range and proba.size and (proba.min() < 0.0 or proba.max() > 1.0):
        raise ValueError(f"{name} needs probabilities in [0, 1]; the predictions "
                         f"range over [{proba.min():.4g}, {proba.max():.4g}] (pass "
                         f"predict_proba's output, not decision scores).")
    return y_true == classes[1], proba


def _weights(sample_weight, n):
    if sample_weight is None:
        return np.ones(n)
    return np.asarray(sample_weight, dtype=np.float64)


def group_auc(positive, score, weight, groups):
    """ROC AUC within each group, vectorized over groups.

    Ties count one half, and sample weights weigh each (positive, negative)
    pair by the product of their weights, as in
    :func:`sklearn.metrics.roc_auc_score` with ``sample_weight``.

    Returns
    -------
    auc : ndarray
        The AUC of each group with positive weight on both classes.
    group_weight : ndarray
        Summed weight of those groups' rows.
    """
    _, codes = np.unique(groups, return_inverse=True)
    codes = codes.ravel()
    order = np.lexsort((score, codes))
    codes, score = codes[order], score[order]
    positive, weight = positive[order], weight[order]
    w_pos = np.where(positive, weight, 0.0)
    w_neg = weight - w_pos
    # A block is a run of equal scores within one group: its pairs are ties.
    starts = np.r_[True, (codes[1:] != codes[:-1]) | (score[1:] != score[:-1])]
    block = np.cumsum(starts) - 1
    block_pos = np.bincount(block, w_pos)
    block_neg = np.bincount(block, w_neg)
    block_group = codes[starts]
    n_groups = codes[-1] + 1 if codes.size else 0
    # Negative weight of the same group below each block: a cumulative sum over
    # all blocks minus that sum at the group's first block.
    below = np.cumsum(block_neg) - block_neg
    first_block = np.r_[True, block_group[1:] != block_group[:-1]]
    group_offset = np.zeros(n_groups)
    group_offset[block_group[first_block]] = below[first_block]
    below = below - group_offset[block_group]
    ranked = np.bincount(block_group, block_pos * (below + 0.5 * block_neg),
                         minlength=n_groups)
    pos = np.bincount(block_group, block_pos, minlength=n_groups)
    neg = np.bincount(block_group, block_neg, minlength=n_groups)
    both = (pos > 0) & (neg > 0)
    total = np.bincount(codes, weight, minlength=n_groups)
    return ranked[both] / (pos[both] * neg[both]), total[both]


def gauc(y_true, proba, sample_weight, classes, groups):
    """Impression-weighted mean of the per-group ROC AUC (see masked_gauc_score)."""
    if groups is None:
        raise ValueError("gauc is the AUC within each user or query: pass their "
                         "ids as groups= (to per_task_scores, to the scorer, or "
                         "through metadata routing with "
                         "scorer.set_score_request(groups=True)); use 'roc_auc' "
                         "for one AUC over all rows.")
    positive, p = _positive_proba("gauc", y_true, proba, classes)
    weight = _weights(sample_weight, len(p))
    auc, group_weight = group_auc(positive, p, weight, np.asarray(groups))
    if auc.size == 0 or group_weight.sum() <= 0:
        warnings.warn("GAUC is undefined when no group holds both classes; "
                      "returning NaN.", UndefinedMetricWarning, stacklevel=3)
        return np.nan
    return float(np.average(auc, weights=group_weight))


def calibration_ratio(y_true, proba, sample_weight, classes, groups):
    """Predicted positives over observed positives (see masked_calibration_ratio)."""
    positive, p = _positive_proba("calibration_ratio", y_true, proba, classes,
                                  check_range=True)
    weight = _weights(sample_weight, len(p))
    observed = float(weight[positive].sum())
    if observed <= 0:
        warnings.warn("The calibration ratio is undefined when no positive is "
                      "labelled; returning NaN.", UndefinedMetricWarning,
                      stacklevel=3)
        return np.nan
    return float(weight @ p) / observed


def calibration_bins(positive, p, weight, n_bins=10, strategy="uniform"):
    """Mean predicted probability and observed rate of each non-empty bin.

    Bins are those of :func:`sklearn.calibration.calibration_curve`:
    ``n_bins`` equal widths on [0, 1] (``"uniform"``) or the quantiles of
    ``p`` (``"quantile"``); a probability on an inner edge falls in the lower
    bin.

    Returns
    -------
    prob_pred, prob_true, bin_weight : ndarray
        Weighted mean of ``p``, weighted fraction of positives and summed
        weight of each bin holding weight, in increasing order of ``p``.
    """
    if not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}.")
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    elif strategy == "quantile":
        edges = np.percentile(p, np.linspace(0, 100, n_bins + 1))
    else:
        raise ValueError(f"strategy must be one of {BIN_STRATEGIES}, got "
                         f"{strategy!r}.")
    bins = np.searchsorted(edges[1:-1], p)
    bin_weight = np.bincount(bins, weight, minlength=n_bins)
    predicted = np.bincount(bins, weight * p, minlength=n_bins)
    observed = np.bincount(bins, np.where(positive, weight, 0.0), minlength=n_bins)
    held = bin_weight > 0
    return (predicted[held] / bin_weight[held], observed[held] / bin_weight[held],
            bin_weight[held])


def expected_calibration_error(y_true, proba, sample_weight, classes, groups,
                               n_bins=10, strategy="uniform"):
    """Weighted mean gap between predicted and observed rates over bins."""
    positive, p = _positive_proba("expected_calibration_error", y_true, proba,
                                  classes, check_range=True)
    weight = _weights(sample_weight, len(p))
    if weight.sum() <= 0:
        return np.nan
    prob_pred, prob_true, bin_weight = calibration_bins(positive, p, weight,
                                                        n_bins, strategy)
    return float(np.average(np.abs(prob_pred - prob_true), weights=bin_weight))
