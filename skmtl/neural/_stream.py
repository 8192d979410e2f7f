"""Logs larger than memory: shards on disk, read and trained on chunk by chunk.

A :class:`ShardedDataset` names the files of a log (shards of ``.npy`` column
files, or parquet files) and the columns that form ``X``, ``Y`` and the
sample weights. ``MultiTaskEstimator.fit`` and ``partial_fit`` take it in
place of ``X``: the log is read ``chunk_rows`` rows at a time, each chunk is
validated and encoded as an in-memory ``X`` would be, and its rows are
trained on in batches; memory holds one chunk (and one batch carried over
between chunks), whatever the number of rows.
"""

import math
import numbers
import os
from pathlib import Path

import numpy as np
import torch

from ..tasks import infer_tasks, resolve_tasks
from ..utils._targets import check_targets
from ._build import tasks_with_classes
from ._data import n_rows
from ._inputs import CategoricalEncoder, categorical_mask

__all__ = ["ShardedDataset", "StreamedData", "write_shard", "train_on_stream"]


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
        self._file = None

    def _parquet(self):
        return _pyarrow_parquet().ParquetFile(self.path)

    @property
    def columns(self):
        return list(self._parquet().schema_arrow.names)

    def n_rows(self, columns):
        return self._parquet().metadata.num_rows

    def n_blocks(self, columns, chunk_rows):
        return math.ceil(self.n_rows(columns) / chunk_rows)

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
        blocks = [(s, b) for s, shard in enumerate(self._opened)
                  for b in range(shard.n_blocks(columns, self.chunk_rows))]
        if not shuffle:
            for shard in self._opened:
                yield from shard.blocks(columns, self.chunk_rows)
            return
        order = [blocks[i] for i in torch.randperm(len(blocks)).tolist()]
        readers = {}
        for s, b in order:
            shard = self._opened[s]
            if isinstance(shard, _NpyShard):
                block = next(shard.blocks(columns, self.chunk_rows, order=[b]))
            else:  # sequential: the next block of that file
                if s not in readers:
                    readers[s] = shard.blocks(columns, self.chunk_rows)
                block = next(readers[s])
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


# -- training on a stream -----------------------------------------------------

def _cat(first, second):
    """Two batches' inputs or targets (tensors or dicts of them) joined."""
    if first is None:
        return None
    if isinstance(first, dict):
        return {key: _cat(first[key], second[key]) for key in first}
    return torch.cat([first, second])


class StreamedData(torch.utils.data.Dataset):
    """A :class:`ShardedDataset` encoded chunk by chunk for a fitted estimator.

    What :class:`~skmtl.neural.BatchIterator` iterates when the training data
    are a stream: ``encode(X, Y, sample_weight)`` turns a chunk into a
    :class:`TaskDataset` (the estimator's validation and encoding); batches
    hold ``batch_size`` rows across chunk boundaries (the rows left at the
    end of a chunk open the next batch), so the batches are the ones of the
    concatenated log.
    """

    def __init__(self, data, encode, progress=False):
        self.data = data
        self.encode = encode
        self.progress = progress

    def __len__(self):
        return self.data.n_rows

    def iter_batches(self, batch_size, shuffle=False, drop_last=False):
        bar = _progress_bar(self.data.n_rows) if self.progress else None
        pending = None  # (Xb, yb) of fewer than batch_size rows
        try:
            for block in self.data.iter_blocks(shuffle=shuffle):
                chunk = self.encode(*self.data.split(block))
                n, start = len(chunk), 0
                if pending is not None:
                    need = batch_size - n_rows(pending[0])
                    head = chunk.batch(slice(0, min(need, n)))
                    pending = (_cat(pending[0], head[0]), _cat(pending[1], head[1]))
                    start = min(need, n)
                    if n_rows(pending[0]) < batch_size:
                        continue
                    yield pending
                    if bar is not None:
                        bar.update(batch_size)
                    pending = None
                while start + batch_size <= n:
                    batch = chunk.batch(slice(start, start + batch_size))
                    yield batch
                    if bar is not None:
                        bar.update(batch_size)
                    start += batch_size
                if start < n:
                    # a copy: the chunk's tensors are freed with it
                    pending = tuple(_clone(p) for p in chunk.batch(slice(start, n)))
            if pending is not None and not drop_last:
                yield pending
                if bar is not None:
                    bar.update(n_rows(pending[0]))
        finally:
            if bar is not None:
                bar.close()


def _clone(part):
    if part is None:
        return None
    if isinstance(part, dict):
        return {key: _clone(value) for key, value in part.items()}
    return part.clone()


def _progress_bar(total):
    """A tqdm bar counting rows (None when tqdm is not installed)."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="rows", unit_scale=True, dynamic_ncols=True,
                mininterval=1.0)


# -- what fit learns from the whole log ---------------------------------------

class _Moments:
    """Weighted mean and variance merged over chunks (Chan et al.'s update)."""

    def __init__(self):
        self.weight, self.mean, self.m2 = 0.0, 0.0, 0.0

    def add(self, values, weights):
        w = float(weights.sum())
        if w == 0:
            return
        mean = float(np.average(values, weights=weights))
        m2 = float(np.sum(weights * (values - mean) ** 2))
        total = self.weight + w
        delta = mean - self.mean
        self.mean += delta * w / total
        self.m2 += m2 + delta ** 2 * self.weight * w / total
        self.weight = total

    @property
    def scale(self):
        return math.sqrt(self.m2 / self.weight) if self.weight else 1.0


def scan(data, tasks, target_names, categorical_columns, standardize):
    """One pass over the label, id and weight columns of ``data``.

    Parameters
    ----------
    data : ShardedDataset
    tasks : list of Task
        Resolved tasks (``columns_``), in the order of ``target_names``.
    target_names : list of str
        The shard column of each column of ``Y`` in task order.
    categorical_columns : list of str
    standardize : bool
        Whether to compute the target scaling.

    Returns
    -------
    classes : dict
        Task name to the sorted labels seen (classification tasks).
    categories : list of (values, counts)
        Per categorical column.
    moments : dict
        Column of ``Y`` to its :class:`_Moments` (standardized types).
    """
    labelled = {t.name: [target_names[c] for c in t.columns_] for t in tasks
                if t.is_classification}
    scaled = [t for t in tasks if standardize and t.type_.standardize]
    read = sorted({c for cols in labelled.values() for c in cols}
                  | {target_names[c] for t in scaled for c in t.columns_}
                  | set(categorical_columns)
                  | ({data.sample_weight} if data.sample_weight else set()))
    classes = {name: set() for name in labelled}
    counts = [_Counts() for _ in categorical_columns]
    moments = {c: _Moments() for t in scaled for c in t.columns_}
    for block in data.iter_blocks(columns=read):
        for name, cols in labelled.items():
            for c in cols:
                values = block[c]
                values = values[~_missing(values)]
                classes[name].update(np.unique(values).tolist())
        for j, c in enumerate(categorical_columns):
            values = block[c]
            values = values[~_missing(values)]
            counts[j].add(*np.unique(values, return_counts=True))
        weights = (np.ones(len(block[read[0]])) if data.sample_weight is None
                   else np.asarray(block[data.sample_weight], dtype=np.float64))
        for task in scaled:
            Y = np.column_stack([block[target_names[c]] for c in task.columns_])
            encoded = task.encode(Y)
            for k, c in enumerate(task.columns_):
                present = ~np.isnan(encoded[:, k])
                moments[c].add(encoded[present, k], weights[present])
    classes = {name: sorted(values) for name, values in classes.items()}
    categories = [(c.values, c.counts) if c.values is not None
                  else (np.array([]), np.array([], dtype=np.int64)) for c in counts]
    return classes, categories, moments


class _Counts:
    """Occurrences of each value, merged over chunks (sorted unique values)."""

    def __init__(self):
        self.values, self.counts = None, None

    def add(self, values, counts):
        if self.values is None:
            self.values, self.counts = values, counts
            return
        merged, inverse = np.unique(np.concatenate([self.values, values]),
                                    return_inverse=True)
        self.counts = np.bincount(inverse, weights=np.concatenate(
            [self.counts, counts]), minlength=len(merged)).astype(np.int64)
        self.values = merged


def _missing(values):
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype.kind == "O":
        return np.array([v is None or v != v for v in values], dtype=bool)
    return np.zeros(len(values), dtype=bool)


# -- the estimator's side -----------------------------------------------------

def train_on_stream(estimator, data, y=None, groups=None, sample_weight=None,
                    partial=False):
    """``fit`` (or ``partial_fit``) of a neural estimator on a ShardedDataset.

    The first fit scans the label, id and weight columns (:func:`scan`),
    builds the network from the first chunk with the classes, categories and
    target scaling of the whole log, then trains ``max_epochs`` passes (one
    for ``partial_fit``) over the chunks. A fitted model with
    ``partial_fit`` (or ``warm_start``) trains on without scanning.
    """
    if y is not None or sample_weight is not None:
        raise ValueError("X is a ShardedDataset, which holds the targets (its "
                         "targets= columns) and the weights (its sample_weight= "
                         "column): call fit(data) without y or sample_weight.")
    if groups is not None:
        raise ValueError("groups= is not supported with a ShardedDataset; ranking "
                         "tasks that rank within groups need in-memory data.")
    if estimator.accelerator is not None:
        raise ValueError("accelerator= shards in-memory data across processes, "
                         "not a ShardedDataset: pass the chunks of "
                         "data.iter_chunks() to partial_fit (every process reads "
                         "the same chunk and trains on its share of the rows), "
                         "or train on the ShardedDataset without accelerator=.")
    estimator._validate_params()
    if not (hasattr(estimator, "net_") and (partial or estimator.warm_start)):
        _initialize(estimator, data)
    stream = StreamedData(
        data, lambda X, Y, w: estimator._continuation_dataset(X, Y, None, w),
        progress=bool(estimator.verbose))
    estimator._train(stream, epochs=1 if partial else estimator.max_epochs)
    return estimator


def _initialize(estimator, data):
    """Fitted attributes from the first chunk and from a scan of the log."""
    X, Y, weights = data.split(next(data.iter_blocks()))
    Y_checked, names, _ = check_targets(Y, tasks=estimator.tasks)
    tasks = estimator.tasks
    if tasks is None:
        tasks = infer_tasks(Y_checked, default_type=estimator._default_task_type,
                            names=names)
    tasks = [tasks] if not isinstance(tasks, list | tuple) else list(tasks)
    resolved = resolve_tasks(tasks, Y_checked,
                             default_type=estimator._default_task_type, names=names)
    mask = categorical_mask(estimator.categorical_features, X)
    categorical = [] if mask is None else [data.features[j]
                                           for j in np.flatnonzero(mask)]
    classes, categories, moments = scan(data, resolved, names, categorical,
                                        estimator.standardize_targets)
    undeclared = {t.name: classes[t.name] for t in tasks
                  if t.name in classes and getattr(t, "classes", None) is None}
    if undeclared:
        tasks = tasks_with_classes(tasks, undeclared)
    estimator._first_dataset(X, Y, None, weights, tasks=tasks)
    if categorical:
        estimator._set_categories(_frequent(estimator, categories, data.n_rows))
    for column, moment in moments.items():
        if moment.weight:
            estimator.target_mean_[column] = moment.mean
            estimator.target_scale_[column] = moment.scale or 1.0


def _frequent(estimator, categories, n_samples):
    """The categories seen at least ``min_frequency`` times."""
    threshold = CategoricalEncoder(estimator.min_frequency)._threshold(n_samples)
    return [values[counts >= threshold] for values, counts in categories]
