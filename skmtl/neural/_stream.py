"""Training on a :class:`~skmtl.neural.ShardedDataset`: a log larger than memory.

``MultiTaskEstimator.fit`` and ``partial_fit`` take a ShardedDataset in
place of ``X``: the log is read ``chunk_rows`` rows at a time, each chunk is
validated and encoded as an in-memory ``X`` would be, and its rows are
trained on in batches; memory holds one chunk (and one batch carried over
between chunks), whatever the number of rows.
"""

import math

import numpy as np
import torch

from ..tasks import infer_tasks, resolve_tasks
from ..utils._targets import check_targets
from ._build import tasks_with_classes
from ._data import n_rows
from ._inputs import _DENSE_SPAN, CategoricalEncoder, _missing, categorical_mask

__all__ = ["StreamedData", "check_stream_call", "plan_stream", "scan"]


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
            counts[j].add(values)
        weights = (np.ones(len(block[read[0]])) if data.sample_weight is None
                   else np.asarray(block[data.sample_weight], dtype=np.float64))
        for task in scaled:
            Y = np.column_stack([block[target_names[c]] for c in task.columns_])
            encoded = task.encode(Y)
            for k, c in enumerate(task.columns_):
                present = ~np.isnan(encoded[:, k])
                moments[c].add(encoded[present, k], weights[present])
    classes = {name: sorted(values) for name, values in classes.items()}
    categories = [c.result() for c in counts]
    return classes, categories, moments


class _Counts:
    """Occurrences of each value, merged over chunks.

    Integer ids within a span of ``_DENSE_SPAN`` values are counted in a
    dense array (``np.bincount``, no sort); other values as sorted unique
    values and their counts, merged chunk by chunk.
    """

    def __init__(self):
        self.low, self.dense = None, None
        self.sorted_values, self.sorted_counts = None, None

    def add(self, values):
        if self.sorted_values is None and values.dtype.kind == "i" and len(values):
            low, high = int(values.min()), int(values.max())
            if self.dense is not None:
                low = min(low, self.low)
                high = max(high, self.low + len(self.dense) - 1)
            if high - low + 1 <= _DENSE_SPAN:
                counts = np.bincount(values - low, minlength=high - low + 1)
                if self.dense is not None:
                    shift = self.low - low
                    counts[shift:shift + len(self.dense)] += self.dense
                self.low, self.dense = low, counts
                return
        if self.dense is not None:  # too wide for a dense array after all
            self.sorted_values, self.sorted_counts = self.result()
            self.dense = None
        found, counts = np.unique(values, return_counts=True)
        if self.sorted_values is None:
            self.sorted_values, self.sorted_counts = found, counts
            return
        merged, inverse = np.unique(np.concatenate([self.sorted_values, found]),
                                    return_inverse=True)
        self.sorted_counts = np.bincount(inverse, weights=np.concatenate(
            [self.sorted_counts, counts]), minlength=len(merged)).astype(np.int64)
        self.sorted_values = merged

    def result(self):
        """``(values, counts)``, the values sorted."""
        if self.dense is not None:
            seen = np.flatnonzero(self.dense)
            return seen + self.low, self.dense[seen]
        if self.sorted_values is None:
            return np.array([]), np.array([], dtype=np.int64)
        return self.sorted_values, self.sorted_counts


# -- the estimator's side -----------------------------------------------------

def check_stream_call(y, groups, sample_weight, accelerator):
    """Refuse the arguments that ``fit(ShardedDataset)`` cannot take."""
    if y is not None or sample_weight is not None:
        raise ValueError("X is a ShardedDataset, which holds the targets (its "
                         "targets= columns) and the weights (its sample_weight= "
                         "column): call fit(data) without y or sample_weight.")
    if groups is not None:
        raise ValueError("groups= is not supported with a ShardedDataset; ranking "
                         "tasks that rank within groups need in-memory data.")
    if accelerator is not None:
        raise ValueError("accelerator= shards in-memory data across processes, "
                         "not a ShardedDataset: pass the chunks of "
                         "data.iter_chunks() to partial_fit (every process reads "
                         "the same chunk and trains on its share of the rows), "
                         "or train on the ShardedDataset without accelerator=.")


def plan_stream(data, tasks, default_type, categorical_features, standardize,
                min_frequency):
    """What a first fit on ``data`` learns before training.

    Reads the first chunk and scans the label, id and weight columns of the
    whole log (:func:`scan`).

    Returns
    -------
    X, Y, sample_weight
        The first chunk (the estimator builds its network from it).
    tasks : list of Task
        The tasks, with the classes of the whole log declared.
    categories : list of ndarray or None
        The categories of each categorical column seen at least
        ``min_frequency`` times (None without categorical columns).
    scaling : dict
        Column of ``Y`` to ``(mean, standard deviation)`` of its labels.
    """
    X, Y, weights = data.split(next(data.iter_blocks()))
    Y_checked, names, _ = check_targets(Y, tasks=tasks)
    if tasks is None:
        tasks = infer_tasks(Y_checked, default_type=default_type, names=names)
    tasks = [tasks] if not isinstance(tasks, list | tuple) else list(tasks)
    resolved = resolve_tasks(tasks, Y_checked, default_type=default_type,
                             names=names)
    mask = categorical_mask(categorical_features, X)
    categorical = [] if mask is None else [data.features[j]
                                           for j in np.flatnonzero(mask)]
    classes, counts, moments = scan(data, resolved, names, categorical,
                                    standardize)
    undeclared = {t.name: classes[t.name] for t in tasks
                  if t.name in classes and getattr(t, "classes", None) is None}
    if undeclared:
        tasks = tasks_with_classes(tasks, undeclared)
    categories = None
    if categorical:
        threshold = CategoricalEncoder(min_frequency).threshold(data.n_rows)
        categories = [values[n >= threshold] for values, n in counts]
    scaling = {column: (moment.mean, moment.scale or 1.0)
               for column, moment in moments.items() if moment.weight}
    return X, Y, weights, tasks, categories, scaling
