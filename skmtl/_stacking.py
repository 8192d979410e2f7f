"""Conversions between per-task datasets, long tables and NaN-masked ``Y``."""

import numpy as np
import scipy.sparse as sp

from .tasks import _show, missing_mask

__all__ = ["stack_tasks", "unstack_tasks"]


def _column_of(table, key, what):
    """Column ``key`` (name or position) of a DataFrame or 2-D array."""
    if hasattr(table, "columns"):
        if key not in table.columns:
            raise ValueError(f"{what} {key!r} is not a column of the table; "
                             f"columns are {list(table.columns)!r}.")
        return np.asarray(table[key])
    table = np.asarray(table)
    n_columns = table.shape[1]
    if not isinstance(key, int | np.integer) or not -n_columns <= key < n_columns:
        raise ValueError(f"{what} must be a column index of the {table.shape[1]}-"
                         f"column array, got {key!r}.")
    return table[:, key]


def _drop_columns(table, keys):
    if hasattr(table, "columns"):
        return table.drop(columns=[k for k in keys if k is not None])
    table = np.asarray(table)
    positions = [k % table.shape[1] for k in keys if k is not None]
    keep = [j for j in range(table.shape[1]) if j not in positions]
    return table[:, keep]


def _stack_long(table, task_column, target_column, sample_column):
    if target_column is None:
        raise ValueError("a long table needs target_column= (the label column) "
                         "together with task_column=.")
    task_ids = _column_of(table, task_column, "task_column")
    target = _column_of(table, target_column, "target_column")
    features = _drop_columns(table, [task_column, target_column, sample_column])
    features = np.asarray(features)
    names, task_index = np.unique(task_ids, return_inverse=True)
    if sample_column is None:
        rows = np.arange(len(task_ids))
        first = rows
    else:
        sample_ids = _column_of(table, sample_column, "sample_column")
        _, first, rows = np.unique(sample_ids, return_index=True, return_inverse=True)
        duplicated = np.zeros((len(first), len(names)), dtype=int)
        np.add.at(duplicated, (rows, task_index), 1)
        if duplicated.max() > 1:
            i, k = np.argwhere(duplicated > 1)[0]
            raise ValueError(
                f"sample {_show(sample_ids[first[i]])} has {duplicated[i, k]} "
                f"labels for task {str(names[k])!r}; a sample has at most one label "
                f"per task."
            )
    numeric = np.asarray(target).dtype.kind in "biuf"
    Y = np.full((len(first), len(names)), np.nan, dtype=float if numeric else object)
    Y[rows, task_index] = target
    return features[first], Y, [str(n) for n in names]


def stack_tasks(Xs, ys=None, *, task_column=None, target_column=None,
                sample_column=None, return_names=False):
    """Stack per-task datasets (or a long table) into ``X`` and NaN-masked ``Y``.

    Two routes:

    - ``stack_tasks(Xs, ys)``: task ``k`` has its own samples ``Xs[k]`` and labels
      ``ys[k]``; the result has one row per sample and one column per task,
      labelled only in its own task's column (``NaN`` elsewhere). A 2-D
      ``ys[k]`` of width ``m`` gives the task ``m`` columns.
    - ``stack_tasks(table, task_column=..., target_column=...)``: a long table
      (DataFrame or 2-D array) with one row per (sample, task) label. With
      ``sample_column`` rows of the same sample are merged into one row of
      ``Y``; otherwise each label is its own row.

    Parameters
    ----------
    Xs : list of array-like or sparse matrix, or DataFrame / ndarray
        Per-task feature matrices (same number of features), or the long table.
    ys : list of array-like, default=None
        Per-task labels, ``len(ys[k]) == Xs[k].shape[0]``.
    task_column, target_column, sample_column : str or int, default=None
        Columns of the long table holding the task id, the label and
        (optionally) the sample id. They are removed from the features.
    return_names : bool, default=False
        Also return the task names (the sorted task ids of a long table, or
        ``"task_0"``, ... for lists).

    Returns
    -------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
        ``NaN`` where a label is missing (object dtype for non-numeric labels).
    names : list of str
        Only with ``return_names=True``.

    See Also
    --------
    unstack_tasks : The inverse conversion.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl import stack_tasks
    >>> X, Y = stack_tasks([np.ones((2, 3)), np.zeros((1, 3))], [[1.0, 2.0], [5.0]])
    >>> Y
    array([[ 1., nan],
           [ 2., nan],
           [nan,  5.]])
    """
    if task_column is not None:
        X, Y, names = _stack_long(Xs, task_column, target_column, sample_column)
        return (X, Y, names) if return_names else (X, Y)
    if ys is None:
        raise ValueError("stack_tasks needs ys (one label array per task), or "
                         "task_column= and target_column= for a long table.")
    Xs, ys = list(Xs), list(ys)
    if len(Xs) != len(ys):
        raise ValueError(f"got {len(Xs)} feature matrices but {len(ys)} label "
                         f"arrays; give one of each per task.")
    if not Xs:
        raise ValueError("stack_tasks needs at least one task.")
    blocks = []
    for k, (Xk, yk) in enumerate(zip(Xs, ys)):
        yk = np.asarray(yk)
        yk = yk[:, None] if yk.ndim == 1 else yk
        n_k = Xk.shape[0]
        if yk.shape[0] != n_k:
            raise ValueError(f"task {k}: X has {n_k} rows but y has {yk.shape[0]}.")
        blocks.append(yk)
    widths = [b.shape[1] for b in blocks]
    numeric = all(b.dtype.kind in "biuf" for b in blocks)
    n_total = sum(b.shape[0] for b in blocks)
    Y = np.full((n_total, sum(widths)), np.nan, dtype=float if numeric else object)
    row, col = 0, 0
    for b in blocks:
        Y[row:row + b.shape[0], col:col + b.shape[1]] = b
        row += b.shape[0]
        col += b.shape[1]
    if any(sp.issparse(Xk) for Xk in Xs):
        X = sp.vstack([sp.csr_matrix(Xk) for Xk in Xs], format="csr")
    else:
        X = np.concatenate([np.asarray(Xk) for Xk in Xs], axis=0)
    names = [f"task_{k}" for k in range(len(Xs))]
    return (X, Y, names) if return_names else (X, Y)


def unstack_tasks(X, Y, tasks=None):
    """Split ``X`` and NaN-masked ``Y`` into per-task datasets.

    Parameters
    ----------
    X : array-like or sparse matrix of shape (n_samples, n_features)
    Y : array-like of shape (n_samples, n_outputs)
        ``NaN`` (or None) where a label is missing.
    tasks : list of Task, default=None
        Groups columns into tasks; by default each column is one task. A task
        keeps the rows where at least one of its columns is labelled.

    Returns
    -------
    Xs : list of arrays
        ``Xs[k]`` holds the rows labelled for task ``k``.
    ys : list of arrays
        Labels of those rows (1-D for single-column tasks; 2-D otherwise,
        possibly with NaN where a row is partly labelled).

    See Also
    --------
    stack_tasks : The inverse conversion.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl import unstack_tasks
    >>> Xs, ys = unstack_tasks(np.arange(3)[:, None], [[1, np.nan], [np.nan, 2],
    ...                                                [3, np.nan]])
    >>> [y.tolist() for y in ys]
    [[1.0, 3.0], [2.0]]
    """
    Y = np.asarray(Y)
    Y = Y[:, None] if Y.ndim == 1 else Y
    if X.shape[0] != Y.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but Y has {Y.shape[0]}.")
    if tasks is None:
        blocks = [[j] for j in range(Y.shape[1])]
    else:
        widths = [t.n_outputs for t in tasks]
        if sum(widths) != Y.shape[1]:
            raise ValueError(f"Y has {Y.shape[1]} columns but the tasks describe "
                             f"{sum(widths)}.")
        edges = np.cumsum([0] + widths)
        blocks = [list(range(a, b)) for a, b in zip(edges[:-1], edges[1:])]
    if Y.dtype.kind in "biu":
        Y = Y.astype(float)
    missing = missing_mask(Y)
    X = X.tocsr() if sp.issparse(X) else np.asarray(X)
    Xs, ys = [], []
    for cols in blocks:
        rows = np.flatnonzero(~missing[:, cols].all(axis=1))
        Xs.append(X[rows])
        block = Y[np.ix_(rows, cols)]
        ys.append(block[:, 0] if len(cols) == 1 else block)
    return Xs, ys
