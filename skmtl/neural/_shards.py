"""Logs larger than memory: shards on disk, read ``chunk_rows`` rows at a time.

A :class:`ShardedDataset` names the files of a log (shards of ``.npy`` column
files, or parquet files) and the columns that form ``X``, ``Y`` and the
sample weights; _stream.py trains the estimators on it.
"""

import math
import numbers
import os
from pathlib import Path

import numpy as np
import torch

__all__ = ["ShardedDataset", "write_shard"]


# -- shards -------------------------------------------------------------------

def _npy_layout(path):
    """(dtype, n_rows, offset of the data) of a 1-D ``.npy`` file."""
    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        offset = f.tell()
    if dtype.hasobject:
        raise ValueError(f"{path} holds Python objects (dtype {dtype}); a shard "
                         f"column must have a fixed-size dtype (numbers, or "
                         f"strings as a 'U' dtype).")
    if len(shape) != 1:
        raise ValueError(f"{path} has shape {shape}; a shard column is a 1-D "
                         f"array (one .npy file per column).")
    return dtype, shape[0], offset


class _NpyShard:
    """A directory with one 1-D ``.npy`` file per column; rows are read by
    range (only the rows asked for enter memory)."""

    def __init__(self, path):
        self.path = Path(path)
        self.columns = sorted(p.stem for p in self.path.glob("*.npy"))
        self._layouts = {}

    def layout(self, column):
        if column not in self._layouts:
            self._layouts[column] = _npy_layout(self.path / f"{column}.npy")
        return self._layouts[column]

    def n_rows(self, columns):
        lengths = {c: self.layout(c)[1] for c in columns}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"shard {str(self.path)!r} has columns of different "
                             f"lengths: {lengths}.")
        return next(iter(lengths.values()))

    def blocks(self, columns, chunk_rows, order=None):
        """Dicts of column arrays, ``chunk_rows`` rows each (the blocks in
        ``order``, a permutation of the block numbers, when given)."""
        n = self.n_rows(columns)
        n_blocks = math.ceil(n / chunk_rows)
        for b in (range(n_blocks) if order is None else order):
            start, stop = b * chunk_rows, min((b + 1) * chunk_rows, n)
            yield {c: self._read(c, start, stop) for c in columns}

    def n_blocks(self, columns, chunk_rows):
        return math.ceil(self.n_rows(columns) / chunk_rows)

    def _read(self, column, start, stop):
        dtype, _, offset = self.layout(column)
        return np.fromfile(self.path / f"{column}.npy", dtype=dtype,
                           count=stop - start, offset=offset + start * dtype.itemsize)


def _pyarrow_parquet():
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ImportError(
            "reading parquet shards needs pyarrow, which is not installed: pip "
            "install 'skmtl[parquet]' (or pip install pyarrow); .npy column "
            "shards (see skmtl.neural.write_shard) need nothing.") from exc
    return pq


class _ParquetShard:
    """A parquet file, read in record batches of ``chunk_rows`` rows (in file
    order: parquet has no cheap random access to a row range)."""

    def __init__(self, path):
        self.path = Path(path)

    def _parquet(self):
        return _pyarrow_parquet().ParquetFile(self.path)

    @property
    def columns(self):
        return list(self._parquet().schema_arrow.names)

    def n_rows(self, columns):
        return self._parquet().metadata.num_rows

    def blocks(self, columns, chunk_rows, order=None):
        for batch in self._parquet().iter_batches(batch_size=chunk_rows,
                                                  columns=list(columns)):
            yield {c: batch.column(c).to_numpy(zero_copy_only=False)
                   for c in columns}


def _open_shard(path):
    path = Path(path)
    if path.is_dir():
        return _NpyShard(path)
    if path.suffix in (".parquet", ".pq"):
        return _ParquetShard(path)
    if not path.exists():
        raise ValueError(f"shard {str(path)!r} does not exist.")
    raise ValueError(f"shard {str(path)!r} is neither a directory of .npy column "
                     f"files nor a .parquet file.")


def write_shard(path, columns):
    """Write one shard: a directory with one ``.npy`` file per column.

    Parameters
    ----------
    path : str or path-like
        The shard's directory (created if needed).
    columns : dict of 1-D arrays, or a DataFrame
        Column name to values, all of one length; ids are best kept integer
        (int64), features float32.

    Returns
    -------
    path : pathlib.Path

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> from skmtl.neural import write_shard
    >>> directory = tempfile.mkdtemp()
    >>> shard = write_shard(directory + "/part-0", {"x": np.zeros(3, "float32"),
    ...                                              "clicked": np.ones(3)})
    >>> sorted(p.name for p in shard.iterdir())
    ['clicked.npy', 'x.npy']
    """
    path = Path(path)
    if hasattr(columns, "columns") and hasattr(columns, "iloc"):
        columns = {str(c): columns[c].to_numpy() for c in columns.columns}
    lengths = {str(name): len(values) for name, values in columns.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"the columns of a shard must have one length; got "
                         f"{lengths}.")
    path.mkdir(parents=True, exist_ok=True)
    for name, values in columns.items():
        name = str(name)
        if os.sep in name or name.startswith("."):
            raise ValueError(f"column name {name!r} cannot be a file name.")
        values = np.asarray(values)
        if values.ndim != 1:
            raise ValueError(f"column {name!r} has shape {values.shape}; give one "
                             f"1-D array per column.")
        np.save(path / f"{name}.npy", values)
    return path


# -- the dataset --------------------------------------------------------------

class ShardedDataset:
    """A log on disk, in shards, that the networks train on chunk by chunk.

    Pass it as ``X`` to :meth:`MultiTaskEstimator.fit` (or ``partial_fit``)
    without ``y``: each epoch reads every shard ``chunk_rows`` rows at a time
    (shuffling the order of the blocks and the rows within each block when
    the estimator shuffles, ``iterator_train__shuffle``), validates and
    encodes the chunk as an in-memory ``X`` would be, and trains on its rows
    in batches. Memory holds one chunk, whatever the size of the log.

    Parameters
    ----------
    shards : list of str or path-like
        The shards, each a directory with one 1-D ``.npy`` file per column
        (``<column>.npy``, as :func:`write_shard` or ``np.save`` writes
        them) or a ``.parquet`` file (needs ``pyarrow``: ``pip install
        'skmtl[parquet]'``).
    features : list of str
        The columns that form ``X``, in order (a DataFrame chunk with these
        column names, so ``categorical_features`` can name the id columns).
    targets : list of str
        The columns that form ``Y``, matched to the tasks by name.
    sample_weight : str, default=None
        A column of weights of the rows.
    chunk_rows : int, default=65536
        Rows read from disk at a time: the memory used is about
        ``chunk_rows`` times the size of a row, a few times over (the
        column values, the validated and encoded copies).

    Attributes
    ----------
    n_rows : int
        Rows of the whole log.

    See Also
    --------
    write_shard : Write a shard of ``.npy`` column files.

    Notes
    -----
    Before training, ``fit`` scans the label, id and weight columns once
    (not the features) for what an in-memory fit learns from the whole of
    ``X`` and ``Y``: the classes of the classification tasks, the
    categories of the categorical columns (with ``min_frequency``) and the
    target scaling (``standardize_targets``). With
    ``iterator_train__shuffle=False`` a fit on the shards therefore gives
    the parameters of a fit on the concatenated log (up to float rounding).

    ``.npy`` columns are read by row range (``np.fromfile`` at an offset),
    so the pages read are never held by the process; any block of any shard
    can be read first. Parquet files are read in order, ``chunk_rows`` rows
    at a time: shuffling permutes the shards and the rows within a chunk.

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> from skmtl import Task
    >>> from skmtl.neural import MultiTaskEstimator, ShardedDataset, write_shard
    >>> rng = np.random.RandomState(0)
    >>> directory = tempfile.mkdtemp()
    >>> shards = []
    >>> for k in range(3):
    ...     x = rng.randn(400).astype("float32")
    ...     ids = rng.randint(0, 20, 400)
    ...     shards.append(write_shard(f"{directory}/part-{k}", {
    ...         "x": x, "user_id": ids, "clicked": (x > 0).astype(float)}))
    >>> data = ShardedDataset(shards, features=["x", "user_id"],
    ...                       targets=["clicked"], chunk_rows=256)
    >>> data.n_rows
    1200
    >>> est = MultiTaskEstimator(tasks=[Task("clicked", "binary")],
    ...                          categorical_features=["user_id"],
    ...                          max_epochs=2, random_state=0).fit(data)
    >>> len(est.categories_[0])
    20
    """

    def __init__(self, shards, features, targets, *, sample_weight=None,
                 chunk_rows=65536):
        if isinstance(shards, str | os.PathLike):
            shards = [shards]
        self.shards = [str(s) for s in shards]
        if not self.shards:
            raise ValueError("ShardedDataset needs at least one shard.")
        self.features = _names(features, "features")
        self.targets = _names(targets, "targets")
        self.sample_weight = sample_weight
        if not isinstance(chunk_rows, numbers.Integral) or chunk_rows < 1:
            raise ValueError(f"chunk_rows must be a positive integer, got "
                             f"{chunk_rows!r}.")
        self.chunk_rows = int(chunk_rows)
        overlap = sorted(set(self.features) & set(self.targets))
        if overlap:
            raise ValueError(f"columns {overlap} are both features and targets.")
        self._opened = [_open_shard(s) for s in self.shards]
        for shard in self._opened:
            available = shard.columns
            missing = [c for c in self.columns if c not in available]
            if missing:
                raise ValueError(f"shard {str(shard.path)!r} has no column "
                                 f"{missing}; its columns are {available}.")
        self._lengths = [shard.n_rows(self.columns) for shard in self._opened]
        self.n_rows = int(sum(self._lengths))
        if self.n_rows == 0:
            raise ValueError("the shards hold no row.")

    @property
    def columns(self):
        """Every column read: features, targets, then the weight column."""
        return self.features + self.targets + (
            [self.sample_weight] if self.sample_weight is not None else [])

    def __len__(self):
        return self.n_rows

    def __repr__(self):
        return (f"ShardedDataset({len(self.shards)} shards, {self.n_rows} rows, "
                f"features={self.features}, targets={self.targets}, "
                f"chunk_rows={self.chunk_rows})")

    def __getstate__(self):
        state = dict(vars(self))
        state.pop("_opened")
        return state

    def __setstate__(self, state):
        vars(self).update(state)
        self._opened = [_open_shard(s) for s in self.shards]

    def iter_blocks(self, columns=None, shuffle=False):
        """Dicts of column arrays of at most ``chunk_rows`` rows, covering
        every row once.

        Parameters
        ----------
        columns : list of str, default=None
            The columns to read (default: :attr:`columns`).
        shuffle : bool, default=False
            Visit the blocks in a random order and permute the rows of each
            (from torch's global generator, so seeding torch reproduces it).
        """
        columns = self.columns if columns is None else list(columns)
        if not shuffle:
            for shard in self._opened:
                yield from shard.blocks(columns, self.chunk_rows)
            return
        # the blocks of .npy shards in any order; a parquet shard is one unit
        # read in file order (its record batches need not be chunk_rows long)
        units = [(s, b) if isinstance(shard, _NpyShard) else (s, None)
                 for s, shard in enumerate(self._opened)
                 for b in (range(shard.n_blocks(columns, self.chunk_rows))
                           if isinstance(shard, _NpyShard) else [None])]
        for i in torch.randperm(len(units)).tolist():
            s, b = units[i]
            shard = self._opened[s]
            for block in shard.blocks(columns, self.chunk_rows,
                                      order=None if b is None else [b]):
                permutation = torch.randperm(len(block[columns[0]])).numpy()
                yield {c: values[permutation] for c, values in block.items()}

    def iter_chunks(self, shuffle=False):
        """``(X, Y)`` pairs of at most ``chunk_rows`` rows, for ``partial_fit``.

        ``X`` is a DataFrame of the :attr:`features` (a 2-D array when pandas
        is not installed), ``Y`` one of the :attr:`targets`.
        """
        for block in self.iter_blocks(shuffle=shuffle):
            X, Y, _ = self.split(block)
            yield X, Y

    def split(self, block):
        """``(X, Y, sample_weight)`` of a block read by :meth:`iter_blocks`."""
        weights = None if self.sample_weight is None else block[self.sample_weight]
        return (_frame(block, self.features), _frame(block, self.targets), weights)


def _names(values, what):
    if isinstance(values, str):
        values = [values]
    values = [str(v) for v in values]
    if not values:
        raise ValueError(f"ShardedDataset needs at least one column in {what}.")
    if len(set(values)) != len(values):
        raise ValueError(f"{what} names a column twice: {values}.")
    return values


def _frame(block, columns):
    try:
        import pandas as pd
    except ImportError:
        return np.column_stack([block[c] for c in columns])
    return pd.DataFrame({c: block[c] for c in columns}, columns=columns, copy=False)
