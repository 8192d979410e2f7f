"""Checks shared by every family: sample weights (and, re-exported from
``_registry.py``, the resolution of named options)."""

import numbers

import numpy as np

from ._registry import resolve_option, valid_options

__all__ = ["resolve_option", "valid_options", "check_sample_weight", "check_folds"]


def check_sample_weight(sample_weight, n_samples, dtype=np.float64):
    """Validated ``sample_weight``: one finite, non-negative weight per row.

    A weight scales its row's contribution to every task's loss: weight 0
    equals dropping the row, an integer weight ``k`` equals repeating the
    row ``k`` times.

    Parameters
    ----------
    sample_weight : None, float or array-like of shape (n_samples,)
        None gives None (every row weighs 1); a number gives that weight to
        every row.
    n_samples : int
    dtype : numpy dtype, default=float64

    Returns
    -------
    sample_weight : None or ndarray of shape (n_samples,)

    Raises
    ------
    ValueError
        On a wrong length or shape, a NaN, infinite or negative weight, or
        weights that are all zero.

    Examples
    --------
    >>> from skmtl.utils import check_sample_weight
    >>> check_sample_weight([1, 0, 2], 3)
    array([1., 0., 2.])
    >>> check_sample_weight([1, -1, 2], 3)
    Traceback (most recent call last):
    ...
    ValueError: sample_weight holds a negative weight (-1.0 at row 1); weights must
    be >= 0 (0 drops a row).
    """
    if sample_weight is None:
        return None
    if isinstance(sample_weight, numbers.Number):
        weights = np.full(n_samples, sample_weight, dtype=dtype)
    else:
        try:
            weights = np.asarray(sample_weight, dtype=dtype)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"sample_weight must be numbers, one per row: "
                             f"{exc}") from None
        if weights.ndim != 1:
            raise ValueError(f"sample_weight must be 1-D with one weight per row, "
                             f"got shape {weights.shape}.")
        if weights.shape[0] != n_samples:
            raise ValueError(f"sample_weight has {weights.shape[0]} weights but X "
                             f"has {n_samples} rows.")
    bad = ~np.isfinite(weights)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(f"sample_weight holds a non-finite weight ({weights[row]} "
                         f"at row {row}); weights must be finite.")
    negative = weights < 0
    if negative.any():
        row = int(np.flatnonzero(negative)[0])
        raise ValueError(f"sample_weight holds a negative weight ({weights[row]} at "
                         f"row {row}); weights must be >= 0 (0 drops a row).")
    if n_samples and not weights.any():
        raise ValueError("sample_weight is zero for every row; at least one row "
                         "needs a positive weight.")
    return weights


def check_folds(folds, n_samples, where="cv"):
    """Cross-validation folds as ``(train, test)`` index arrays of the data.

    A splitter's folds always fit the data it split; precomputed folds (a
    list of ``(train, test)`` pairs, as scikit-learn's ``cv=`` accepts) fit
    the data they were made for, which is not the data an estimator sees
    inside an outer cross-validation: this says so instead of an
    ``IndexError`` from deep inside the fit.

    Parameters
    ----------
    folds : iterable of (train, test)
        Integer indices or boolean masks of the rows.
    n_samples : int
        Rows of the data being split.
    where : str, default="cv"
        The parameter, for messages (``"cv"``, ``"MultiTaskLassoCV's cv"``).

    Returns
    -------
    folds : list of (ndarray, ndarray)
        Integer indices.

    Raises
    ------
    ValueError
        Naming the fold and the problem: not a pair, not indices, an index
        beyond the data, a mask of the wrong length, no fold at all.
    """
    hint = (" Precomputed folds index the rows of the data they were made for; "
            "inside an outer cross-validation (cross_validate, GridSearchCV, "
            "transfer_report) each fit sees only its training rows, so pass an "
            "int or a splitter such as KFold(5) as the inner cv.")
    checked = []
    for k, fold in enumerate(folds):
        try:
            train, test = fold
        except (TypeError, ValueError):
            raise ValueError(f"{where}: fold {k} is {fold!r}, not a (train, test) "
                             f"pair of row indices.") from None
        pair = []
        for part, name in ((train, "train"), (test, "test")):
            index = np.asarray(part)
            if index.dtype == bool:
                if index.shape != (n_samples,):
                    raise ValueError(f"{where}: fold {k}'s {name} mask has shape "
                                     f"{index.shape} but the data has {n_samples} "
                                     f"rows." + hint)
                index = np.flatnonzero(index)
            elif index.size and index.dtype.kind not in "iu":
                raise ValueError(f"{where}: fold {k}'s {name} part holds "
                                 f"{index.dtype} values; folds are integer row "
                                 f"indices or boolean masks.")
            index = index.astype(np.intp, copy=False).ravel()
            if index.size and (index.max() >= n_samples or index.min() < 0):
                bad = int(index.max() if index.max() >= n_samples else index.min())
                raise ValueError(f"{where}: fold {k}'s {name} part holds the row "
                                 f"index {bad} but the data has {n_samples} rows."
                                 + hint)
            pair.append(index)
        checked.append(tuple(pair))
    if not checked:
        raise ValueError(f"{where} gives no fold.")
    return checked
