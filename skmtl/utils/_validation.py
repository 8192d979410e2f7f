"""Checks shared by every family: named options and sample weights."""

import numbers

import numpy as np

__all__ = ["resolve_option", "check_sample_weight"]


def resolve_option(kind, value, choices, aliases=None):
    """The entry of ``choices`` that the option string ``value`` names.

    Every string option of skmtl (penalties, weightings, architectures,
    trunks) follows one convention: a lower_snake_case name (``"trace_norm"``,
    ``"nash_mtl"``) plus the short names users type (``"trace"``, ``"nash"``).

    Parameters
    ----------
    kind : str
        What is being chosen, for the error message (``"weighting"``).
    value : str
        The name given by the user.
    choices : dict
        ``{lower_snake_case name: object}``.
    aliases : dict, default=None
        ``{short name: lower_snake_case name}``.

    Returns
    -------
    object
        ``choices[name]``.

    Raises
    ------
    ValueError
        If ``value`` is neither a name nor an alias; the message lists every
        valid choice (and the spelling meant, when only case or hyphens
        differ).

    Examples
    --------
    >>> from skmtl.utils import resolve_option
    >>> resolve_option("penalty", "l21", {"l21": 1, "trace_norm": 2},
    ...                {"trace": "trace_norm"})
    1
    >>> resolve_option("penalty", "trace", {"l21": 1, "trace_norm": 2},
    ...                {"trace": "trace_norm"})
    2
    """
    aliases = aliases or {}
    if value in choices:
        return choices[value]
    if value in aliases:
        return choices[aliases[value]]
    valid = valid_options(choices, aliases)
    hint = ""
    if isinstance(value, str):
        normalized = value.strip().lower().replace("-", "_").replace(" ", "_")
        if normalized in choices or normalized in aliases:
            hint = f" (did you mean {normalized!r}?)"
    raise ValueError(f"unknown {kind} {value!r}{hint}; valid choices are "
                     f"{', '.join(repr(v) for v in valid)}.")


def valid_options(choices, aliases=None):
    """Every accepted option name, names first then short names, sorted.

    Parameters
    ----------
    choices : mapping or iterable of str
        The option names (lower_snake_case).
    aliases : mapping of str to str, default=None
        Short names, each mapped to the name it stands for.

    Returns
    -------
    names : list of str
        The names, then the short names that are not also names.

    Examples
    --------
    >>> from skmtl.utils import valid_options
    >>> valid_options({"nash_mtl": 1, "famo": 2}, {"nash": "nash_mtl"})
    ['famo', 'nash_mtl', 'nash']
    """
    return sorted(choices) + sorted(set(aliases or {}) - set(choices))


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
