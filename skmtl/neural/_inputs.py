"""Tabular inputs of the networks: categorical and id columns as embeddings.

``categorical_features=`` (as in scikit-learn's ``HistGradientBoosting*``)
names the columns of ``X`` that hold categories or ids. ``fit`` learns each
column's categories (:class:`CategoricalEncoder`), ``transform`` maps them to
int64 codes (0: unknown, rare or missing; ``1 + position`` in ``categories_``
otherwise), and :class:`EmbeddedInputs` looks the codes up in one
``nn.Embedding`` per column and feeds ``[numeric columns, embeddings...]`` to
the architecture, whatever it is.
"""

import numbers

import numpy as np
import torch
from torch import nn

__all__ = ["CategoricalEncoder", "EmbeddedInputs", "categorical_mask",
           "embedding_size", "string_column_error"]


def embedding_size(n_categories):
    """Default width of the embedding of a column with ``n_categories`` rows.

    ``min(50, round(1.6 * n_categories ** 0.56))``: fastai's rule of thumb
    (Howard and Gugger, 2020), capped at 50 as in Guo and Berkhahn's entity
    embeddings; a 2-category column gets 2 dimensions, 100 categories 21,
    10,000 categories 50.

    Parameters
    ----------
    n_categories : int
        Rows of the embedding table (the categories plus the reserved row).

    Returns
    -------
    size : int

    Examples
    --------
    >>> from skmtl.neural import embedding_size
    >>> [embedding_size(n) for n in (2, 100, 10_000)]
    [2, 21, 50]
    """
    return int(max(1, min(50, round(1.6 * n_categories ** 0.56))))


def _column_names(X):
    return [str(c) for c in X.columns] if hasattr(X, "columns") else None


def _n_columns(X):
    shape = getattr(X, "shape", None)
    if shape is None:
        X = np.asarray(X, dtype=object)
        shape = X.shape
    if len(shape) != 2:
        raise ValueError(f"categorical_features needs 2-D tabular X (n_samples, "
                         f"n_features), got shape {tuple(shape)}.")
    return shape[1]


def _is_categorical_dtype(dtype):
    """pandas category, string and object columns (what ``"from_dtype"`` reads)."""
    name = str(dtype)
    return name == "category" or name.startswith("string") or name == "str" or (
        getattr(dtype, "kind", None) in ("O", "U", "S"))


def categorical_mask(categorical_features, X):
    """Boolean mask of the categorical columns of ``X``, or None.

    Parameters
    ----------
    categorical_features : None, "from_dtype", array-like of int, str or bool
        As in scikit-learn's ``HistGradientBoostingClassifier``: None (no
        categorical column), ``"from_dtype"`` (the pandas columns of dtype
        ``category``, ``string`` or ``object``), indices or names of columns,
        or a boolean mask over the columns.
    X : array-like or DataFrame of shape (n_samples, n_features)

    Returns
    -------
    mask : ndarray of bool of shape (n_features,), or None when no column
        is categorical.
    """
    if categorical_features is None:
        return None
    n_features = _n_columns(X)
    names = _column_names(X)
    if isinstance(categorical_features, str):
        if categorical_features != "from_dtype":
            raise ValueError(f"categorical_features={categorical_features!r}: the "
                             f"only string accepted is 'from_dtype'; give a list of "
                             f"column names or indices, or a boolean mask.")
        if names is None:
            raise ValueError("categorical_features='from_dtype' reads the column "
                             "dtypes of a pandas DataFrame; X has none. Give the "
                             "categorical columns' indices or a boolean mask.")
        mask = np.array([_is_categorical_dtype(d) for d in X.dtypes], dtype=bool)
        return mask if mask.any() else None
    values = np.asarray(categorical_features)
    if values.ndim != 1:
        raise ValueError(f"categorical_features must be 1-D, got shape "
                         f"{values.shape}.")
    if values.size == 0:
        return None
    if values.dtype.kind == "b":
        if values.shape[0] != n_features:
            raise ValueError(f"categorical_features is a boolean mask of "
                             f"{values.shape[0]} entries but X has {n_features} "
                             f"columns.")
        return values.copy() if values.any() else None
    mask = np.zeros(n_features, dtype=bool)
    if values.dtype.kind in "iu":
        bad = [int(i) for i in values if not 0 <= i < n_features]
        if bad:
            raise ValueError(f"categorical_features holds column indices {bad} "
                             f"outside [0, {n_features - 1}].")
        mask[values.astype(int)] = True
        return mask
    if values.dtype.kind in "UO":
        if names is None:
            raise ValueError("categorical_features names columns, but X has no "
                             "column names (a DataFrame has); give indices or a "
                             "boolean mask.")
        unknown = [str(v) for v in values if str(v) not in names]
        if unknown:
            raise ValueError(f"categorical_features names column(s) {unknown} that "
                             f"X does not have; its columns are {names}.")
        for v in values:
            mask[names.index(str(v))] = True
        return mask
    raise ValueError(f"categorical_features must be None, 'from_dtype', indices, "
                     f"names or a boolean mask; got {categorical_features!r}.")


def _column(X, j):
    """Column ``j`` of ``X`` as a 1-D NumPy array (a DataFrame's by position)."""
    if hasattr(X, "iloc"):
        return X.iloc[:, j].to_numpy()
    return np.asarray(X)[:, j]


def _missing(values):
    """Mask of missing entries (NaN, None, pandas NA)."""
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype.kind != "O":
        return np.zeros(values.shape, dtype=bool)
    try:
        import pandas as pd
    except ImportError:
        return np.array([v is None or (isinstance(v, float) and v != v)
                         for v in values], dtype=bool)
    return np.asarray(pd.isna(values), dtype=bool)


def string_column_error(X, skip=None):
    """A ``ValueError`` naming the first column of ``X`` that holds strings or
    categories, pointing to ``categorical_features``; None when there is none.

    ``skip`` is a boolean mask of columns not to look at (the categorical ones).
    """
    names = _column_names(X)
    if names is not None:
        for j, dtype in enumerate(X.dtypes):
            if skip is not None and skip[j]:
                continue
            if str(dtype) == "category" or str(dtype).startswith("string") or (
                    str(dtype) == "str"):
                example = X.iloc[:, j].dropna()
                return _string_error(names[j], example.iloc[0] if len(example)
                                     else None, str(dtype))
            if getattr(dtype, "kind", None) == "O":
                for value in X.iloc[:, j]:
                    if _is_word(value):
                        return _string_error(names[j], value, "object")
        return None
    if not hasattr(X, "dtype") or getattr(X, "ndim", 0) != 2:
        return None
    if X.dtype.kind not in "OUS":
        return None
    for j in range(X.shape[1]):
        if skip is not None and skip[j]:
            continue
        for value in X[:, j]:
            if _is_word(value):
                return _string_error(j, value, str(X.dtype))
    return None


def _is_word(value):
    """A string that is not a number ("yes"; "1.5" converts to a float)."""
    if not isinstance(value, str | bytes | np.str_ | np.bytes_):
        return False
    try:
        float(value)
    except ValueError:
        return True
    return False


def _string_error(column, example, dtype):
    where = f"column {column!r}" if isinstance(column, str) else f"column {column}"
    return ValueError(
        f"X {where} holds categories or strings (dtype {dtype}, e.g. {example!r}) "
        f"but the network needs numbers there. Pass "
        f"categorical_features='from_dtype' (pandas category/string columns) or "
        f"categorical_features=[{column!r}, ...] to learn an embedding of each "
        f"categorical column, or encode it first (e.g. OneHotEncoder in a "
        f"ColumnTransformer).")


class CategoricalEncoder:
    """Categories of each categorical column and their int64 codes.

    ``fit`` records each column's categories, sorted (``categories_``);
    ``transform`` maps a value to ``1 + its position`` there and everything
    else (a category unseen at fit, a rare one, a missing value) to the
    reserved code 0, never an error. Integer ids stay int64 throughout (no
    float conversion: 16777217 and 16777216 are two categories).

    Parameters
    ----------
    min_frequency : None, int or float, default=None
        Categories seen fewer than ``min_frequency`` times at fit (an int; a
        float in (0, 1) is a fraction of the rows) are not kept: their rows
        share the reserved code 0 with unknown categories, so its embedding
        is trained on them. None keeps every category.

    Attributes
    ----------
    categories_ : list of ndarray
        The kept categories of each column, sorted.
    n_categories_ : list of int
        Rows of each column's embedding table: ``len(categories_[j]) + 1``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural import CategoricalEncoder
    >>> enc = CategoricalEncoder().fit([np.array(["b", "a", "b"])])
    >>> enc.categories_[0].tolist()
    ['a', 'b']
    >>> enc.transform([np.array(["b", "z", "a"])]).tolist()
    [[2], [0], [1]]
    """

    def __init__(self, min_frequency=None):
        self.min_frequency = min_frequency

    def threshold(self, n_samples):
        """The fewest occurrences a kept category has among ``n_samples`` rows."""
        m = self.min_frequency
        if m is None:
            return 1
        if isinstance(m, numbers.Integral) and not isinstance(m, bool) and m >= 1:
            return int(m)
        if isinstance(m, numbers.Real) and 0 < m < 1:
            return int(np.ceil(m * n_samples))
        raise ValueError(f"min_frequency must be None, an integer >= 1 or a "
                         f"fraction in (0, 1), got {m!r}.")

    def fit(self, columns, names=None):
        """Learn the categories of each column.

        Parameters
        ----------
        columns : list of 1-D arrays
        names : list of str, default=None
            Column names for the error messages.
        """
        names = names or list(range(len(columns)))
        n_samples = len(columns[0]) if columns else 0
        threshold = self.threshold(n_samples)
        self.categories_ = []
        for name, values in zip(names, columns):
            values = np.asarray(values)
            present = values[~_missing(values)]
            if present.dtype.kind == "O":
                present = _uniform(present, name)
            try:
                categories, counts = np.unique(present, return_counts=True)
            except TypeError as exc:
                raise ValueError(f"categorical column {name!r} mixes value types "
                                 f"that cannot be sorted ({exc}); convert it to one "
                                 f"type (e.g. .astype(str)).") from None
            self.categories_.append(categories[counts >= threshold])
        self.n_categories_ = [len(c) + 1 for c in self.categories_]
        return self

    @classmethod
    def from_categories(cls, categories, names=None):
        """An encoder with the categories given (sorted, duplicates
        dropped): for categories known before the data are seen whole
        (``partial_fit(categories=...)``, a scan of shards)."""
        names = names or list(range(len(categories)))
        encoder = cls()
        encoder.categories_ = []
        for name, values in zip(names, categories):
            values = np.asarray(values)
            if values.ndim != 1:
                raise ValueError(f"the categories of column {name!r} must be 1-D, "
                                 f"got shape {values.shape}.")
            values = values[~_missing(values)]
            if values.dtype.kind == "O":
                values = _uniform(values, name)
            try:
                encoder.categories_.append(np.unique(values))
            except TypeError as exc:
                raise ValueError(f"the categories of column {name!r} mix value "
                                 f"types that cannot be sorted ({exc}).") from None
        encoder.n_categories_ = [len(c) + 1 for c in encoder.categories_]
        return encoder

    def transform(self, columns):
        """int64 codes, shape (n_samples, n_columns): 0 for unknown, rare or
        missing values, ``1 + position in categories_`` otherwise."""
        n = len(columns[0]) if columns else 0
        codes = np.zeros((n, len(self.categories_)), dtype=np.int64)
        # the dense tables of integer ids, built on first use (not pickled)
        tables = vars(self).setdefault("_dense_tables", {})
        for j, (categories, values) in enumerate(zip(self.categories_, columns)):
            if j not in tables:
                tables[j] = _dense_codes(categories)
            codes[:, j] = _lookup(categories, np.asarray(values), tables[j])
        return codes

    def __getstate__(self):
        state = dict(vars(self))
        state.pop("_dense_tables", None)
        return state


def _uniform(values, name):
    """Object values as one NumPy type when they all are numbers or strings."""
    if all(isinstance(v, str) for v in values):
        return values.astype(str)
    if all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
           for v in values):
        return values.astype(np.int64)
    if all(isinstance(v, numbers.Real) for v in values):
        return values.astype(np.float64)
    return values


# Integer ids spanning at most this many values (and at most 4 times as
# many as there are ids, or 2**20) are looked up in a dense array of codes:
# one gather per value instead of a binary search.
_DENSE_SPAN = 1 << 24


def _dense_codes(categories):
    """``(low, table)`` with ``table[id - low]`` the code of each integer id
    (0 for the ids between that are not categories); None when the
    categories are not integers in a narrow enough span."""
    if categories.dtype.kind != "i" or len(categories) == 0:
        return None
    low, high = int(categories[0]), int(categories[-1])
    span = high - low + 1
    if span > min(_DENSE_SPAN, max(4 * len(categories) + 1024, 1 << 20)):
        return None
    table = np.zeros(span, dtype=np.int64)
    table[categories - low] = np.arange(1, len(categories) + 1)
    return low, table


def _lookup(categories, values, dense=None):
    """1 + position of each value in the sorted ``categories``, 0 if absent
    (through ``dense``, :func:`_dense_codes`'s table, for integer values)."""
    codes = np.zeros(values.shape[0], dtype=np.int64)
    if len(categories) == 0 or values.shape[0] == 0:
        return codes
    if dense is not None and values.dtype.kind == "i":
        low, table = dense
        inside = (values >= low) & (values < low + len(table))
        if inside.all():
            return table[values - low]
        codes[inside] = table[values[inside] - low]
        return codes
    missing = _missing(values)
    present = ~missing
    candidates = values[present] if missing.any() else values
    if candidates.dtype.kind == "O":
        candidates = _uniform(candidates, None)
    try:
        if candidates.dtype.kind != categories.dtype.kind and not (
                candidates.dtype.kind in "iuf" and categories.dtype.kind in "iuf"):
            raise TypeError
        position = np.searchsorted(categories, candidates)
        clipped = np.minimum(position, len(categories) - 1)
        found = categories[clipped] == candidates
    except TypeError:  # values of another type than the categories: unknown
        lookup = {v: i for i, v in enumerate(categories.tolist())}
        found_codes = np.array([lookup.get(v, -1) for v in candidates.tolist()],
                               dtype=np.int64)
        codes[present] = found_codes + 1
        return codes
    found = np.where(found, clipped + 1, 0)
    if candidates is values:  # nothing missing
        return found.astype(np.int64, copy=False)
    codes[present] = found
    return codes


class EmbeddedInputs(nn.Module):
    """Embeddings of categorical codes, concatenated with the numeric columns,
    fed to a multi-task module.

    ``module([numeric, E_1[codes_1], ..., E_m[codes_m]])``: one
    ``nn.Embedding`` per categorical column (row 0 is the reserved row of
    unknown, rare and missing categories, initialized to zeros), shared by
    every task and every architecture (the wrapped module sees one dense
    input of ``n_numeric + sum(embedding_dims)`` features).

    Parameters
    ----------
    module : nn.Module
        The multi-task module (an architecture built for the embedded width).
    n_categories : list of int
        Rows of each column's table (categories + 1).
    embedding_dims : list of int
        Width of each column's embedding.
    sparse : bool, default=False
        ``nn.Embedding(sparse=True)``: the gradient of a table holds only the
        rows of the batch (see :meth:`sparse_parameters`); needs an optimizer
        that takes sparse gradients (``torch.optim.SparseAdam``, ``SGD``).

    Attributes
    ----------
    embeddings : nn.ModuleList of nn.Embedding

    Notes
    -----
    Entity embeddings of categorical variables follow Guo and Berkhahn,
    "Entity embeddings of categorical variables", arXiv:1604.06737, 2016.
    Gradient-level weighting strategies combine the task gradients of the
    wrapped module's shared parameters; the embeddings get the gradient of
    the weighted sum of the task losses.

    Examples
    --------
    >>> import torch
    >>> from skmtl.neural import EmbeddedInputs, HardSharing
    >>> inner = HardSharing([1, 2], input_shape=(3 + 4,))
    >>> net = EmbeddedInputs(inner, n_categories=[10], embedding_dims=[4])
    >>> X = {"numeric": torch.zeros(5, 3),
    ...      "categorical": torch.zeros(5, 1, dtype=torch.long)}
    >>> [tuple(o.shape) for o in net(X)]
    [(5, 1), (5, 2)]
    """

    def __init__(self, module, n_categories, embedding_dims, sparse=False):
        super().__init__()
        if len(n_categories) != len(embedding_dims):
            raise ValueError(f"{len(n_categories)} categorical columns but "
                             f"{len(embedding_dims)} embedding sizes.")
        self.module = module
        self.sparse = bool(sparse)
        self.embeddings = nn.ModuleList(
            nn.Embedding(int(n), int(d), sparse=self.sparse)
            for n, d in zip(n_categories, embedding_dims))
        with torch.no_grad():
            for embedding in self.embeddings:
                embedding.weight[0].zero_()

    def embed(self, X):
        """The dense input of the wrapped module: numeric columns and embeddings."""
        codes = X["categorical"]
        parts = [X["numeric"]] + [embedding(codes[:, j]) for j, embedding in
                                  enumerate(self.embeddings)]
        return torch.cat(parts, dim=1)

    def forward(self, X):
        return self.module(self.embed(X))

    def shared_parameters(self):
        """The wrapped module's shared parameters (see Notes)."""
        shared = getattr(self.module, "shared_parameters", None)
        return shared() if callable(shared) else []

    def shared_representation(self, per_task=False):
        """The wrapped module's shared representation."""
        get = getattr(self.module, "shared_representation", None)
        if not callable(get):
            raise TypeError(f"{type(self.module).__name__} records no shared "
                            f"representation.")
        return get(per_task=per_task)

    def _head_factors(self):
        """The wrapped module's (see :meth:`MultiTaskModule._head_factors`)."""
        get = getattr(self.module, "_head_factors", None)
        return get() if callable(get) else None

    def add_tasks(self, tasks):
        """Add tasks to the wrapped module (see
        :meth:`MultiTaskModule.add_tasks`); the embeddings are shared."""
        add = getattr(self.module, "add_tasks", None)
        if not callable(add):
            raise TypeError(f"{type(self.module).__name__} cannot add tasks.")
        return add(tasks)

    def penalty(self):
        """The wrapped module's penalty, or None."""
        penalty = getattr(self.module, "penalty", None)
        return penalty() if callable(penalty) else None

    def sparse_parameters(self):
        """The tables trained with sparse gradients (empty unless ``sparse``)."""
        if not self.sparse:
            return []
        return [embedding.weight for embedding in self.embeddings]
