"""Checks of targets and task weights, shared by the estimators and the metrics.

Below :mod:`skmtl.base` and :mod:`skmtl.metrics` in the import order: it
imports neither, so both can import it.
"""

import numbers

import numpy as np

__all__ = ["check_targets", "resolve_task_weights"]


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


def check_targets(Y):
    """Targets as a 2-D array (float64 when numeric, object for labels).

    Returns
    -------
    Y : ndarray of shape (n_samples, n_outputs)
    names : list of str or None
        Column names of a DataFrame ``Y``.
    was_1d : bool
    """
    names = None
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
    return Y, names, was_1d
