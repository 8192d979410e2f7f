"""Consecutive row chunks of arrays, DataFrames and Dask arrays."""

import numbers

import numpy as np

__all__ = ["iter_chunks"]


def _is_dask_array(a):
    return type(a).__module__.startswith("dask.") and hasattr(a, "blocks")


def _rows(a, start, stop):
    if hasattr(a, "iloc"):
        return a.iloc[start:stop]
    return a[start:stop]


def _dask_chunks(X, y, chunk_size):
    import dask

    if chunk_size is not None:
        X = X.rechunk({0: chunk_size})
    bounds = np.cumsum((0,) + X.chunks[0])
    if y is not None and _is_dask_array(y):
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]}.")
        if y.chunks[0] != X.chunks[0]:
            y = y.rechunk({0: X.chunks[0]})
    for i in range(X.numblocks[0]):
        if y is None:
            yield dask.compute(X.blocks[i])[0], None
        elif _is_dask_array(y):
            yield dask.compute(X.blocks[i], y.blocks[i])
        else:
            yield dask.compute(X.blocks[i])[0], _rows(y, bounds[i], bounds[i + 1])


def iter_chunks(X, y=None, *, chunk_size=None):
    """Yield consecutive row chunks ``(X_chunk, y_chunk)`` for out-of-core training.

    Feed them to ``partial_fit`` to train on data that does not fit in
    memory at once: a Dask array is computed one block of rows at a time
    (only that block is in memory), other inputs are sliced.

    Parameters
    ----------
    X : array-like, sparse matrix, DataFrame or dask.array.Array
        Rows to split. A Dask array may be chunked along its other axes too.
    y : array-like, DataFrame, dask.array.Array or None, default=None
        Targets with the same rows (a Dask ``y`` is rechunked to ``X``'s
        row blocks when they differ); None yields ``(X_chunk, None)``.
    chunk_size : int, default=None
        Rows per chunk (the last may be shorter). None: the row blocks of a
        Dask ``X``; required for other inputs.

    Yields
    ------
    X_chunk : ndarray, sparse matrix or DataFrame
    y_chunk : ndarray, DataFrame or None

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.utils import iter_chunks
    >>> X, Y = np.arange(10.0).reshape(5, 2), np.arange(5.0)
    >>> [(Xc.shape[0], yc.tolist()) for Xc, yc in iter_chunks(X, Y, chunk_size=2)]
    [(2, [0.0, 1.0]), (2, [2.0, 3.0]), (1, [4.0])]
    """
    if chunk_size is not None and (not isinstance(chunk_size, numbers.Integral)
                                   or isinstance(chunk_size, bool) or chunk_size < 1):
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}.")
    if _is_dask_array(X):
        yield from _dask_chunks(X, y, chunk_size)
        return
    if chunk_size is None:
        raise ValueError("chunk_size is required unless X is a Dask array (whose "
                         "row blocks are the chunks).")
    n = X.shape[0]
    if y is not None and y.shape[0] != n:
        raise ValueError(f"X has {n} rows but y has {y.shape[0]}.")
    for start in range(0, n, chunk_size):
        stop = min(start + chunk_size, n)
        X_chunk = _rows(X, start, stop)
        if y is None:
            yield X_chunk, None
        elif _is_dask_array(y):
            yield X_chunk, y[start:stop].compute()
        else:
            yield X_chunk, _rows(y, start, stop)
