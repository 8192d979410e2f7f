"""Checks of targets and task weights, shared by the estimators and the metrics.

Below :mod:`skmtl.base` and :mod:`skmtl.metrics` in the import order: it
imports neither, so both can import it.
"""

import numbers

import numpy as np

__all__ = ["check_targets", "column_order", "expected_columns", "resolve_task_weights",
           "target_names"]


def resolve_task_weights(task_weights, tasks):
    """Task weights ``lambda_k`` as a float array in task order.

    Parameters
    ----------
    task_weights : None, sequence of float or dict
        None gives every task weight 1. A sequence has one weight per task in
        task order; a dict maps task names to weights (unnamed tasks get 1).
    tasks : list of Task

    Returns
    -------
    weights : ndarray of shape (n_tasks,)

    Raises
    ------
    ValueError
        On a wrong length, an unknown task name, a negative, non-finite or
        all-zero weight.
    TypeError
        If ``task_weights`` is neither None, a sequence nor a dict.
    """
    names = [t.name for t in tasks]
    if task_weights is None:
        return np.ones(len(tasks))
    if isinstance(task_weights, dict):
        unknown = sorted(set(task_weights) - set(names))
        if unknown:
            raise ValueError(f"task_weights names unknown task(s) {unknown}; the "
                             f"tasks are {names}.")
        weights = [task_weights.get(name, 1.0) for name in names]
    elif isinstance(task_weights, str) or not hasattr(task_weights, "__len__"):
        raise TypeError(f"task_weights must be None, a sequence of floats (one per "
                        f"task) or a dict {{task name: weight}}, got "
                        f"{task_weights!r}.")
    else:
        weights = list(task_weights)
        if len(weights) != len(tasks):
            raise ValueError(f"task_weights has {len(weights)} entries but there are "
                             f"{len(tasks)} tasks {names}.")
    for name, w in zip(names, weights):
        if not isinstance(w, numbers.Real) or isinstance(w, bool):
            raise TypeError(f"task_weights for task {name!r} must be a number, got "
                            f"{w!r}.")
        if not np.isfinite(w) or w < 0:
            raise ValueError(f"task_weights for task {name!r} is {w!r}; weights must "
                             f"be finite and >= 0.")
    weights = np.asarray(weights, dtype=float)
    if not weights.any():
        raise ValueError("task_weights are all zero; at least one task needs a "
                         "positive weight.")
    return weights


def _shown(names, limit=12):
    """A list of names for messages, cut after ``limit`` entries."""
    names = list(names)
    if len(names) <= limit:
        return repr(names)
    return f"[{', '.join(map(repr, names[:limit]))}, ... ({len(names)} in all)]"


def expected_columns(tasks):
    """The column names of ``Y`` that the tasks read, in task order.

    A task with one output reads the column named after it; a task with
    ``k`` outputs reads ``"<name>_0"`` ... ``"<name>_<k-1>"``.
    """
    names = []
    for task in tasks:
        if task.n_outputs == 1:
            names.append(task.name)
        else:
            names.extend(f"{task.name}_{j}" for j in range(task.n_outputs))
    return names


def _task_list(tasks):
    """``tasks`` as a list when it is a task or a list of tasks, else None
    (invalid specifications are reported where the tasks are resolved)."""
    if tasks is None:
        return None
    if hasattr(tasks, "n_outputs") and hasattr(tasks, "name"):
        return [tasks]
    if isinstance(tasks, str) or not hasattr(tasks, "__iter__"):
        return None
    tasks = list(tasks)
    if not tasks or not all(hasattr(t, "n_outputs") and hasattr(t, "name")
                            for t in tasks):
        return None
    return tasks


def column_order(names, tasks):
    """Positions of the columns of ``Y`` that the tasks read, in task order.

    Parameters
    ----------
    names : list of str
        Column names of ``Y`` (a DataFrame's columns, a Series' name).
    tasks : list of Task

    Returns
    -------
    order : list of int or None
        None when the columns are in task order already.

    Raises
    ------
    ValueError
        Listing the columns of ``Y`` and the names the tasks expect, when a
        column is missing, unknown or given twice.
    """
    expected = expected_columns(tasks)
    if list(names) == expected:
        return None
    missing = [n for n in expected if n not in names]
    unknown = [n for n in names if n not in expected]
    twice = sorted({n for n in names if list(names).count(n) > 1})
    if missing or unknown or twice:
        problems = []
        if missing:
            problems.append(f"no column for {_shown(missing)}")
        if unknown:
            problems.append(f"no task for {_shown(unknown)}")
        if twice:
            problems.append(f"columns given twice: {_shown(twice)}")
        raise ValueError(
            f"the columns of Y {_shown(names)} do not match the tasks, which read "
            f"the columns {_shown(expected)}: {'; '.join(problems)}. Columns of a "
            f"DataFrame Y are matched to the tasks by name (a task with k outputs "
            f"reads '<name>_0' ... '<name>_<k-1>'); rename them, or pass an "
            f"array with the columns in task order.")
    return [list(names).index(n) for n in expected]


def target_names(Y):
    """Column names of a DataFrame ``Y`` (a Series' name), or None.

    Names are the labels when they are all strings (scikit-learn's rule for
    feature names); other labels (a ``RangeIndex``) give None.
    """
    if hasattr(Y, "columns"):
        labels = list(Y.columns)
    elif hasattr(Y, "name") and hasattr(Y, "dtype") and hasattr(Y, "index"):
        labels = [Y.name]
    else:
        return None
    if labels and all(isinstance(label, str) for label in labels):
        return labels
    return None


def check_targets(Y, tasks=None):
    """Targets as a 2-D array (float64 when numeric, object for labels).

    Parameters
    ----------
    Y : array-like, DataFrame or Series
    tasks : list of Task, default=None
        With string column names (a DataFrame ``Y``, a named Series), the
        columns are matched to the tasks by name and returned in task order
        (see :func:`column_order`); an array ``Y`` is taken in task order.

    Returns
    -------
    Y : ndarray of shape (n_samples, n_outputs)
    names : list of str or None
        Column names of a DataFrame ``Y`` (in task order when ``tasks`` are
        given).
    was_1d : bool
    """
    names = None
    strict = target_names(Y)
    if hasattr(Y, "columns"):
        names = [str(c) for c in Y.columns]
    elif hasattr(Y, "name") and hasattr(Y, "dtype") and getattr(Y, "name", None):
        names = [str(Y.name)]
    if hasattr(Y, "to_numpy"):
        Y = Y.to_numpy(dtype=object if str(getattr(Y, "dtype", "")) in
                       ("category", "string") else None)
    Y = np.asarray(Y)
    if Y.dtype.kind == "c":
        raise ValueError("Complex data not supported for Y.")
    was_1d = Y.ndim == 1
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.ndim != 2:
        raise ValueError(f"Y must be 1-D or 2-D (n_samples, n_outputs), got shape "
                         f"{Y.shape}.")
    if Y.dtype.kind in "biuf":
        Y = Y.astype(np.float64, copy=False)
    elif Y.dtype.kind in "US":
        Y = Y.astype(object)
    elif Y.dtype == object:
        try:
            numeric = Y.astype(np.float64)
        except (TypeError, ValueError):
            numeric = None
        if numeric is not None and all(
            v is None or (isinstance(v, numbers.Number) and not isinstance(v, bool))
            for v in Y.ravel()
        ):
            Y = numeric
    else:
        raise ValueError(f"Y has unsupported dtype {Y.dtype}.")
    task_list = _task_list(tasks)
    if strict is not None and task_list is not None:
        order = column_order(strict, task_list)
        if order is not None:
            Y = Y[:, order]
            names = [names[j] for j in order]
    # C order whatever the source (a DataFrame gives its columns in Fortran
    # order): the same numbers in the same layout give the same fit
    return np.ascontiguousarray(Y), names, was_1d


def missing_mask(Y):
    """Boolean mask of the missing labels of ``Y``.

    A label is missing when it is ``NaN`` (numeric ``Y``) or ``None``/``NaN``
    (object ``Y``, e.g. string class labels).

    Parameters
    ----------
    Y : ndarray
        Targets, numeric or object dtype.

    Returns
    -------
    mask : ndarray of bool, same shape as ``Y``
        True where the label is missing.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.tasks import missing_mask
    >>> missing_mask(np.array([[1.0, np.nan], [np.nan, 2.0]]))
    array([[False,  True],
           [ True, False]])
    """
    Y = np.asarray(Y)
    if Y.dtype.kind in "fc":
        return np.isnan(Y)
    if Y.dtype.kind in "biuUS":
        return np.zeros(Y.shape, dtype=bool)
    flat = Y.ravel()
    mask = np.fromiter(
        (v is None or (isinstance(v, float | np.floating) and v != v) for v in flat),
        dtype=bool,
        count=flat.size,
    )
    return mask.reshape(Y.shape)


def _show(value):
    """repr of a label for messages: plain Python values, not numpy scalars."""
    if isinstance(value, np.generic):
        value = value.item()
    elif isinstance(value, np.ndarray):
        value = value.tolist()
    return repr(value)
