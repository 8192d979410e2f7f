"""Fast data path: tensors held once, batches fetched by slicing.

skorch's default dataset returns one sample per ``__getitem__`` call and lets
the ``DataLoader`` collate them, which costs more than the network itself for
small models. :class:`TaskDataset` converts the data to tensors once and
:class:`BatchIterator` fetches a whole batch with one indexing operation per
tensor (a view when the batch is a contiguous slice).

Inputs are a tensor (any number of dimensions), a scipy sparse matrix (kept
sparse, rows densified one batch at a time) or a dict of them (named inputs,
skorch's convention; the batch is then a dict too).
"""

import copy
import math
import numbers
from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp
import torch
from torch.utils.data import Dataset, Subset

__all__ = ["TaskDataset", "BatchIterator", "SparseRows", "encode_groups",
           "group_names", "is_named_inputs", "labelled_columns",
           "n_rows"]


def _as_float_tensor(X, copy=True):
    """float32 tensor of ``X``; with ``copy=False`` it may share ``X``'s memory."""
    if isinstance(X, torch.Tensor):
        X = X.detach().to(torch.float32)
        return X.clone() if copy else X
    X = np.asarray(X)
    if not copy and X.dtype == np.float32 and X.flags.writeable and (
            X.flags.c_contiguous or X.flags.f_contiguous):
        # a column-major table (what pandas gives) is gathered by rows as fast
        return torch.from_numpy(X)
    return torch.from_numpy(np.array(X, dtype=np.float32, order="C", copy=True))


def _as_tensor_keeping_integers(X, copy=True):
    """A named input: integer arrays (ids, lengths) stay int64, the rest float32."""
    if isinstance(X, SparseRows):
        return X
    if sp.issparse(X):
        return SparseRows(X, copy=copy)
    if isinstance(X, torch.Tensor):
        if X.dtype in (torch.int64, torch.int32, torch.int16, torch.int8,
                       torch.uint8, torch.bool):
            X = X.detach().to(torch.int64)
            return X.clone() if copy else X
        return _as_float_tensor(X, copy=copy)
    X = np.asarray(X)
    if X.dtype.kind in "biu":
        if not copy and X.dtype == np.int64 and X.flags.c_contiguous and \
                X.flags.writeable:
            return torch.from_numpy(X)
        return torch.from_numpy(np.array(X, dtype=np.int64, order="C", copy=True))
    return _as_float_tensor(X, copy=copy)


class SparseRows:
    """A scipy sparse matrix whose rows are fetched as dense float32 tensors.

    Holds the matrix in CSR form (float32; a CSC matrix is converted, which
    keeps it sparse) and densifies only the rows asked for: a batch of
    ``batch_size`` rows costs ``batch_size * n_features`` floats, whatever the
    number of rows.

    Parameters
    ----------
    X : scipy sparse matrix or array of shape (n_samples, n_features)
    copy : bool, default=True
        Copy the matrix even when it already is float32 CSR.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from skmtl.neural import SparseRows
    >>> rows = SparseRows(sp.eye(4, format="csc"))
    >>> rows[1:3]
    tensor([[0., 1., 0., 0.],
            [0., 0., 1., 0.]])
    """

    def __init__(self, X, copy=True):
        X = sp.csr_matrix(X) if not sp.issparse(X) else X
        converted = X.tocsr().astype(np.float32, copy=False)
        if copy and converted is X:
            converted = converted.copy()
        self.matrix = converted
        self.matrix.sort_indices()
        self.shape = self.matrix.shape

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, index):
        if isinstance(index, torch.Tensor):
            index = index.cpu().numpy()
        rows = self.matrix[index]
        if rows.ndim == 1 or not sp.issparse(rows):  # a single row
            rows = sp.csr_matrix(rows)
        return torch.from_numpy(rows.toarray())

    def take(self, indices):
        """A new SparseRows with the rows at ``indices`` (still sparse)."""
        taken = SparseRows.__new__(SparseRows)
        taken.matrix = self.matrix[np.asarray(indices)]
        taken.shape = taken.matrix.shape
        return taken


def is_named_inputs(X):
    """Whether ``X`` is a dict of named inputs (a scipy ``dok_matrix`` is a
    dict too, but one matrix)."""
    return isinstance(X, Mapping) and not sp.issparse(X)


def _as_inputs(X, copy=True):
    """Inputs as the dataset stores them: float32 tensor, SparseRows or a dict."""
    if is_named_inputs(X):
        if not X:
            raise ValueError("X is an empty dict; named inputs need at least one "
                             "array.")
        return {str(name): _as_tensor_keeping_integers(value, copy=copy)
                for name, value in X.items()}
    if isinstance(X, SparseRows):
        return X
    if sp.issparse(X):
        return SparseRows(X, copy=copy)
    return _as_float_tensor(X, copy=copy)


def n_rows(X):
    """Number of samples of inputs (array, sparse matrix, tensor or dict)."""
    if is_named_inputs(X):
        return len(next(iter(X.values())))
    return X.shape[0]


def _gather(values, index):
    """``values[index]``; positions in a tensor go through ``index_select``,
    about twice as fast as advanced indexing on the rows of a table."""
    if isinstance(index, torch.Tensor) and isinstance(values, torch.Tensor):
        return values.index_select(0, index)
    return values[index]


def _rows(X, index):
    """The rows at ``index`` of stored inputs (a dict gives a dict)."""
    if isinstance(X, dict):
        return {name: _gather(value, index) for name, value in X.items()}
    return _gather(X, index)


def _take(X, indices):
    """Stored inputs restricted to ``indices`` (copied once, sparse stays sparse)."""
    if isinstance(X, dict):
        return {name: _take(value, indices) for name, value in X.items()}
    if isinstance(X, SparseRows):
        return X.take(indices)
    return X[indices]


def _pad(Xb, size):
    """A batch padded to ``size`` rows by repeating its last row (valid input
    for any trunk, unlike zeros: ids, lengths)."""
    if isinstance(Xb, dict):
        return {name: _pad(value, size) for name, value in Xb.items()}
    missing = size - Xb.shape[0]
    return torch.cat([Xb, Xb[-1:].expand(missing, *Xb.shape[1:])])


def group_names(tasks):
    """Names of the query-id columns the tasks use (``TaskType.query_group``),
    in a fixed order."""
    return sorted({t.type_.query_group(t) for t in tasks} - {None})


def encode_groups(groups, tasks, n_samples):
    """Query ids of the ranking tasks as an int64 array (n_samples, n_groups).

    Parameters
    ----------
    groups : array-like of shape (n_samples,), dict or None
        One array of query ids shared by every ranking task that declares a
        ``group``, or a dict mapping group names (``Task(..., group=name)``)
        to arrays (a DataFrame works too).
    tasks : list of Task
    n_samples : int

    Returns
    -------
    codes : ndarray of shape (n_samples, n_groups) or None
        Integer codes of the query ids, one column per name of
        :func:`group_names`; None when no task ranks within groups.
    """
    names = group_names(tasks)
    if not names:
        return None
    if groups is None:
        needing = [t.name for t in tasks if t.type_.query_group(t) is not None]
        raise ValueError(f"task(s) {needing} rank within groups {names}; pass "
                         f"the query ids as fit(X, y, groups=...).")
    columns = []
    for name in names:
        if hasattr(groups, "keys"):
            if name not in groups:
                raise ValueError(f"groups has no entry {name!r}; the ranking tasks "
                                 f"need the query ids {names}.")
            values = groups[name]
        else:
            values = groups
        values = np.asarray(values)
        if values.ndim != 1 or values.shape[0] != n_samples:
            raise ValueError(f"groups {name!r} must be a 1-D array with one query id "
                             f"per sample ({n_samples}), got shape {values.shape}.")
        _, codes = np.unique(values, return_inverse=True)
        columns.append(codes.astype(np.int64))
    return np.column_stack(columns)


class TaskDataset(Dataset):
    """Inputs, encoded targets, query ids and sample weights held as tensors.

    Parameters
    ----------
    X : array-like, tensor, scipy sparse matrix or dict
        Inputs of shape (n_samples, ...), any number of dimensions (tabular
        rows, images), stored as float32; a sparse matrix stays sparse
        (:class:`SparseRows`, rows densified one batch at a time); a dict of
        arrays (named inputs, for a trunk whose ``forward`` takes them as
        keyword arguments) keeps integer arrays as int64 (ids, lengths) and
        stores the others as float32.
    y : array-like of shape (n_samples, n_outputs), default=None
        Encoded float targets (see :meth:`skmtl.Task.encode`), NaN where a
        label is missing.
    groups : array-like of int of shape (n_samples, n_groups), default=None
        Integer query ids of the ranking tasks (see :func:`encode_groups`).
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each row in every task's loss (validated by the caller).
    copy : bool, default=True
        Copy ``X`` even when it is already a C-contiguous float32 array (so
        that later changes to the caller's array cannot reach the dataset);
        False shares its memory (used for prediction).

    Notes
    -----
    A batch is ``(X[idx], y[idx])`` (``X[idx]`` a dict of tensors for named
    inputs); with query ids or sample weights it is
    ``(X[idx], {"targets": y[idx], "groups": groups[idx], "sample_weight":
    sample_weight[idx]})`` (the keys that are present), and ``(X[idx], None)``
    without targets. Iterate with :class:`BatchIterator`, which fetches a
    whole batch in one call.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural import TaskDataset
    >>> ds = TaskDataset(np.zeros((5, 3)), np.ones((5, 2)))
    >>> Xb, yb = ds.batch(slice(0, 2))
    >>> tuple(Xb.shape), tuple(yb.shape), Xb.dtype
    ((2, 3), (2, 2), torch.float32)
    """

    def __init__(self, X, y=None, groups=None, sample_weight=None, copy=True):
        self.X = _as_inputs(X, copy=copy)
        n = n_rows(self.X)
        if isinstance(self.X, dict):
            lengths = {name: len(value) for name, value in self.X.items()}
            if len(set(lengths.values())) > 1:
                raise ValueError(f"the named inputs have different numbers of "
                                 f"samples: {lengths}.")
        self.y = None if y is None else _as_float_tensor(y)
        if self.y is not None and self.y.ndim == 1:
            self.y = self.y[:, None]
        self.groups = None if groups is None else torch.as_tensor(
            np.asarray(groups, dtype=np.int64)).reshape(n, -1)
        self.sample_weight = None if sample_weight is None else _as_float_tensor(
            np.asarray(sample_weight).reshape(-1))
        for name, value in (("y", self.y), ("groups", self.groups),
                            ("sample_weight", self.sample_weight)):
            if value is not None and value.shape[0] != n:
                raise ValueError(f"X has {n} samples but {name} has "
                                 f"{value.shape[0]}.")

    def __len__(self):
        return n_rows(self.X)

    # targets and the rows' loss inputs side by side (see with_loss_inputs)
    _targets_and_inputs = None

    def batch(self, index):
        """Batch at ``index`` (a slice, or a tensor or array of positions)."""
        Xb = _rows(self.X, index)
        if self.y is None:
            return Xb, None
        if self._targets_and_inputs is not None:
            rows = _gather(self._targets_and_inputs, index)
            width = self.y.shape[1]
            yb = {"targets": rows[:, :width], "loss_inputs": rows[:, width:]}
        elif self.groups is None and self.sample_weight is None:
            return Xb, _gather(self.y, index)
        else:
            yb = {"targets": _gather(self.y, index)}
        if self.groups is not None:
            yb["groups"] = _gather(self.groups, index)
        if self.sample_weight is not None:
            yb["sample_weight"] = _gather(self.sample_weight, index)
        return Xb, yb

    def __getitem__(self, i):
        if isinstance(i, numbers.Integral):
            Xb, yb = self.batch(slice(i, i + 1))
            Xb = _rows(Xb, 0)
            if yb is None:
                return Xb, torch.zeros(0)
            if isinstance(yb, dict):
                return Xb, {key: value[0] for key, value in yb.items()}
            return Xb, yb[0]
        return self.batch(i)

    def with_loss_inputs(self, loss_inputs):
        """A dataset whose batches also hold their rows of ``loss_inputs``.

        ``loss_inputs`` (a tensor of ``n`` rows, e.g.
        :meth:`TaskLosses.loss_inputs` of the targets) is stored beside the
        targets, so that one indexing fetches both; a batch's targets are
        then ``{"targets": ..., "loss_inputs": ...}`` (with the query ids and
        sample weights, when present). The inputs are shared, not copied.
        """
        if self.y is None:
            raise ValueError("loss inputs go with targets; this dataset has none.")
        if loss_inputs.shape[0] != self.y.shape[0]:
            raise ValueError(f"the dataset has {self.y.shape[0]} samples but "
                             f"loss_inputs has {loss_inputs.shape[0]} rows.")
        joined = copy.copy(self)
        joined._targets_and_inputs = torch.cat(
            [self.y, loss_inputs.to(self.y.dtype)], dim=1)
        joined.y = joined._targets_and_inputs[:, :self.y.shape[1]]
        return joined

    def take(self, indices):
        """A new dataset with the samples at ``indices`` (copied once)."""
        indices = torch.as_tensor(np.asarray(indices), dtype=torch.long)
        taken = TaskDataset.__new__(TaskDataset)
        taken.X = _take(self.X, indices)
        if self._targets_and_inputs is not None:
            taken._targets_and_inputs = self._targets_and_inputs[indices]
            taken.y = taken._targets_and_inputs[:, :self.y.shape[1]]
        else:
            taken.y = None if self.y is None else self.y[indices]
        taken.groups = None if self.groups is None else self.groups[indices]
        taken.sample_weight = (None if self.sample_weight is None
                               else self.sample_weight[indices])
        return taken


def _resolve(dataset):
    """The TaskDataset behind ``dataset`` (unwrapping skorch's Subset splits)."""
    if isinstance(dataset, TaskDataset):
        return dataset
    if isinstance(dataset, Subset):
        inner = _resolve(dataset.dataset)
        return inner.take(np.asarray(dataset.indices))
    raise TypeError(f"BatchIterator needs a TaskDataset (or a Subset of one), got "
                    f"{type(dataset).__name__}; pass dataset=TaskDataset or use "
                    f"iterator_train=torch.utils.data.DataLoader.")


def labelled_columns(dataset):
    """For each target column of a TaskDataset (or Subset of one), whether
    every sample is labelled in it (bool array).

    None when it cannot tell (another dataset type, or no targets).
    """
    if isinstance(dataset, Subset):
        inner = dataset.dataset
        if isinstance(inner, TaskDataset) and inner.y is not None:
            labelled = ~torch.isnan(inner.y).any(0)
            if not labelled.all():
                index = torch.as_tensor(np.asarray(dataset.indices),
                                        dtype=torch.long)
                labelled = ~torch.isnan(inner.y[index]).any(0)
            return labelled.cpu().numpy()
        return None
    if isinstance(dataset, TaskDataset) and dataset.y is not None:
        return (~torch.isnan(dataset.y).any(0)).cpu().numpy()
    return None


class BatchIterator:
    """Iterate over a :class:`TaskDataset` in batches fetched by slicing.

    Plays the role of torch's ``DataLoader`` for skorch
    (``iterator_train=BatchIterator``): without shuffling each batch is a
    view of the stored tensors; with shuffling, one random permutation per
    epoch (from torch's global generator, so seeding torch makes it
    reproducible) and one gather per batch.

    Parameters
    ----------
    dataset : TaskDataset or torch.utils.data.Subset of one
    batch_size : int, default=128
    shuffle : bool, default=False
    drop_last : bool, default=False
        Skip the last batch when it is smaller than ``batch_size``.
    pad_last : bool, default=False
        When the dataset has no targets (prediction), pad the last batch up to
        ``batch_size`` (repeating its last row): every batch then has the same shape,
        so the network computes each row the same way whichever rows are
        predicted with it (float32 matrix products otherwise round
        differently for different batch shapes). The caller drops the
        padding rows.

    The net sets :meth:`hand_over_loss_inputs` (the masks its losses read
    from the targets alone, computed once per epoch rather than per batch).

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural import BatchIterator, TaskDataset
    >>> ds = TaskDataset(np.arange(10.0)[:, None])
    >>> [len(Xb) for Xb, _ in BatchIterator(ds, batch_size=4)]
    [4, 4, 2]
    """

    def __init__(self, dataset, batch_size=128, shuffle=False, drop_last=False,
                 pad_last=False):
        # a stream (StreamedData: shards read chunk by chunk) makes its own
        # batches
        self.dataset = dataset if hasattr(dataset, "iter_batches") else _resolve(
            dataset)
        self.pad_last = pad_last
        self.batch_size = int(batch_size)
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size!r}.")
        self.shuffle = shuffle
        self.drop_last = drop_last

    def hand_over_loss_inputs(self, compute):
        """Hand each batch its rows of ``compute(targets)`` (computed once,
        from the dataset's targets; see :meth:`TaskDataset.with_loss_inputs`).

        ``compute`` returns a tensor with a row per sample, or None (then
        nothing changes); a stream, or a dataset without targets, is left
        as it is. Returns the iterator.
        """
        if hasattr(self.dataset, "iter_batches") or self.dataset.y is None:
            return self
        loss_inputs = compute(self.dataset.y)
        if loss_inputs is not None:
            self.dataset = self.dataset.with_loss_inputs(loss_inputs)
        return self

    def __len__(self):
        n = len(self.dataset)
        if self.drop_last:
            return n // self.batch_size
        return math.ceil(n / self.batch_size)

    def __iter__(self):
        if hasattr(self.dataset, "iter_batches"):
            yield from self.dataset.iter_batches(self.batch_size, shuffle=self.shuffle,
                                                 drop_last=self.drop_last)
            return
        n = len(self.dataset)
        size = self.batch_size
        order = torch.randperm(n) if self.shuffle else None
        for b in range(len(self)):
            start = b * size
            index = slice(start, min(start + size, n))
            if order is not None:
                index = order[index]
            Xb, yb = self.dataset.batch(index)
            if self.pad_last and yb is None and n_rows(Xb) < size:
                Xb = _pad(Xb, size)
            yield Xb, yb
