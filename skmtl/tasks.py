"""Task model: what each column of ``Y`` means and how it is learned.

A :class:`Task` is a name, a type and its columns of ``Y``. Each task type is one
class (:class:`TaskType` subclass) that owns the type's label checks, its label
encoding, its masked loss, its prediction transform and its default metric, so
adding a task type is adding one class to :data:`TASK_TYPES`.
"""

import copy
import numbers

import numpy as np

from .utils._registry import Registry

__all__ = [
    "Task",
    "TaskType",
    "TASK_TYPES",
    "infer_tasks",
    "resolve_tasks",
    "missing_mask",
]


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


def _as_float_column(values, task, what="labels"):
    """Convert labelled values of a numeric task to float64 or fail clearly."""
    try:
        out = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        example = next(v for v in np.ravel(values) if _not_number(v))
        raise ValueError(
            f"task {task.name!r} is a {task.type} task but its {what} hold "
            f"non-numeric values such as {_show(example)}; use "
            f"Task({task.name!r}, 'classification') for class labels."
        ) from None
    return out


def _show(value):
    """repr of a label for messages: plain Python values, not numpy scalars."""
    if isinstance(value, np.generic):
        value = value.item()
    elif isinstance(value, np.ndarray):
        value = value.tolist()
    return repr(value)


def _not_number(v):
    try:
        float(v)
    except (TypeError, ValueError):
        return True
    return False


def _softmax(raw):
    z = raw - raw.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def _sigmoid(raw):
    out = np.empty_like(raw, dtype=np.float64)
    pos = raw >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-raw[pos]))
    e = np.exp(raw[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def _weighted_mean(per_entry, weight):
    """``sum(weight * per_entry) / sum(weight)``; exactly 0 (with gradient) when
    every weight is 0 (no labelled entry)."""
    import torch

    total = weight.sum()
    return (per_entry * weight).sum() / total.clamp(min=torch.finfo(total.dtype).tiny)


class TaskType:
    """Behaviour shared by every task of one type.

    Subclasses define how labels are checked and encoded, what the model outputs
    for the task (``n_model_outputs``), how raw outputs become predictions, the
    masked training loss and the default metric. Methods receive the (fitted)
    :class:`Task` so that type-specific options and fitted encodings live on it.

    Attributes
    ----------
    name : str
        The type's name, as passed to ``Task(type=...)``.
    estimator_type : {"regressor", "classifier"}
        The scikit-learn estimator type of a model made only of this type.
    default_metric : str
        Metric used by ``score`` and by the multi-task scorer by default.
    metrics : tuple of str
        Metrics of :mod:`skmtl.metrics` that make sense for this type.
    """

    name = None
    estimator_type = "regressor"
    default_metric = "r2"
    metrics = ()
    options = ()

    def check_options(self, task):
        """Raise ``ValueError`` if the task's options do not suit this type."""
        for option in ("loss", "classes", "group"):
            if option not in self.options and getattr(task, option) is not None:
                raise ValueError(
                    f"task {task.name!r}: option {option}= is not used by "
                    f"{self.name} tasks."
                )

    def fit_encoding(self, task, Y):
        """Learn the label encoding from the task's columns ``Y`` (with missing).

        Returns a dict of fitted attributes set on the fitted task.
        """
        return {}

    def encode(self, task, Y):
        """Labels ``(n, n_outputs)`` to float64 model targets, NaN where missing."""
        mask = missing_mask(Y)
        out = np.full(Y.shape, np.nan)
        out[~mask] = _as_float_column(Y[~mask], task)
        return out

    def check_labels(self, task, Y):
        """Raise ``ValueError`` naming the task if labels are invalid."""
        self.encode(task, Y)

    def n_model_outputs(self, task):
        """Number of raw model outputs (logits, values) the task needs."""
        return task.n_outputs

    def transform(self, task, raw):
        """Raw model outputs to predictions in label space ``(n, n_outputs)``."""
        return np.asarray(raw, dtype=np.float64)

    def predict_proba(self, task, raw):
        """Class probabilities per column, or None for non-probabilistic types."""
        return None

    def per_entry_loss(self, task, raw, target):
        """Unreduced torch loss of every entry, ``(n, n_outputs)``.

        ``target`` holds no NaN here (missing entries are replaced by 0 and
        weighted 0 by :meth:`loss`). The one definition of the type's loss: a
        new type implements this (or overrides :meth:`loss` when its loss is
        not a mean over entries, as ranking's pairwise loss).
        """
        raise NotImplementedError(f"{type(self).__name__} must implement "
                                  f"per_entry_loss().")

    def mean_loss(self, task, raw, target):
        """Mean of :meth:`per_entry_loss` over a batch without missing labels.

        The same value as the masked mean; a type may override it with a
        fused torch function (fewer operations per training step).
        """
        return self.per_entry_loss(task, raw, target).mean()

    def loss(self, task, raw, target, groups=None, sample_weight=None,
             complete=False):
        """Masked torch loss: weighted mean over the labelled entries.

        ``L = sum_i w_i m_ij l_ij / sum_i w_i m_ij`` over rows ``i`` and the
        task's columns ``j``, with ``m_ij = 1`` where the label is present and
        ``w_i`` the sample weight (1 by default): a weight of 0 drops a row,
        an integer weight ``k`` counts it ``k`` times.

        Parameters
        ----------
        raw : torch.Tensor of shape (n, n_model_outputs)
        target : torch.Tensor of shape (n, n_outputs)
            Encoded targets, NaN where missing.
        groups : torch.Tensor of shape (n,), optional
            Query ids for ranking tasks.
        sample_weight : torch.Tensor of shape (n,), optional
        complete : bool, default=False
            The caller knows that ``target`` holds no NaN (skips the mask).

        Returns
        -------
        loss : torch.Tensor, scalar
            Zero (not NaN) when no entry is labelled.
        """
        import torch

        if complete and sample_weight is None:
            return self.mean_loss(task, raw, target)
        if complete:
            safe, weight = target, torch.ones_like(target)
        else:
            mask = ~torch.isnan(target)
            safe = torch.where(mask, target, torch.zeros_like(target))
            weight = mask.to(raw.dtype)
        if sample_weight is not None:
            weight = weight * sample_weight[:, None]
        return _weighted_mean(self.per_entry_loss(task, raw, safe), weight)

    def __repr__(self):
        return f"{type(self).__name__}()"


class Regression(TaskType):
    """Real-valued targets; squared error or Huber loss; R² by default."""

    name = "regression"
    default_metric = "r2"
    metrics = ("r2", "neg_mean_squared_error", "neg_mean_absolute_error",
               "explained_variance", "neg_root_mean_squared_error")
    options = ("loss",)
    losses = ("squared_error", "huber")

    def check_options(self, task):
        super().check_options(task)
        if task.loss is not None and task.loss not in self.losses:
            raise ValueError(
                f"task {task.name!r}: loss={task.loss!r} is not one of "
                f"{self.losses} for regression tasks."
            )

    def per_entry_loss(self, task, raw, target):
        import torch.nn.functional as F

        if task.loss == "huber":
            return F.huber_loss(raw, target, reduction="none", delta=task.huber_delta)
        return (raw - target) ** 2

    def mean_loss(self, task, raw, target):
        import torch.nn.functional as F

        if task.loss == "huber":
            return F.huber_loss(raw, target, delta=task.huber_delta)
        return F.mse_loss(raw, target)


class Count(TaskType):
    """Non-negative counts; Poisson loss on a log link; D² (Poisson) by default."""

    name = "count"
    default_metric = "d2_poisson"
    metrics = ("d2_poisson", "neg_mean_poisson_deviance", "neg_mean_absolute_error",
               "r2")

    def check_labels(self, task, Y):
        values = self.encode(task, Y)
        if np.nanmin(values) < 0:
            raise ValueError(
                f"task {task.name!r} is a count task but its labels include the "
                f"negative value {_show(np.nanmin(values))}; counts must be >= 0."
            )

    def transform(self, task, raw):
        return np.exp(np.asarray(raw, dtype=np.float64))

    def per_entry_loss(self, task, raw, target):
        import torch

        # Half the Poisson deviance: the negative log-likelihood shifted by its
        # minimum (same gradient), so the loss is >= 0 and 0 at a perfect fit,
        # as the weighting strategies that take ratios or logs of losses need.
        return (torch.exp(raw) - target * raw - target
                + torch.special.xlogy(target, target))


class Ranking(TaskType):
    """Relevance scores ranked within a group (query) or over the whole set.

    The loss is the pairwise logistic (RankNet) loss over pairs with different
    relevance in the same group; the default metric is NDCG.
    """

    name = "ranking"
    default_metric = "ndcg"
    metrics = ("ndcg", "r2")
    options = ("group",)

    def check_options(self, task):
        super().check_options(task)
        if task.n_outputs != 1:
            raise ValueError(
                f"task {task.name!r}: ranking tasks have one column of relevance "
                f"labels, got n_outputs={task.n_outputs}."
            )

    def check_labels(self, task, Y):
        values = self.encode(task, Y)
        if np.nanmin(values) < 0:
            raise ValueError(
                f"task {task.name!r} is a ranking task but its relevance labels "
                f"include {_show(np.nanmin(values))}; relevance must be >= 0."
            )

    def loss(self, task, raw, target, groups=None, sample_weight=None,
             complete=False):
        """Pairwise logistic loss, the weighted mean over ordered pairs.

        Pairs ``(i, j)`` with ``rel_i > rel_j`` (both labelled, same group
        when ``groups`` is given) weigh ``w_i w_j``, so that an integer
        sample weight ``k`` counts a row as ``k`` copies of it.
        """
        import torch
        import torch.nn.functional as F

        score = raw[:, 0]
        rel = target[:, 0]
        mask = ~torch.isnan(rel)
        pair = (rel[:, None] > rel[None, :]) & mask[:, None] & mask[None, :]
        if groups is not None:
            pair = pair & (groups[:, None] == groups[None, :])
        weight = pair.to(raw.dtype)
        if sample_weight is not None:
            weight = weight * sample_weight[:, None] * sample_weight[None, :]
        per_pair = F.softplus(-(score[:, None] - score[None, :]))
        return _weighted_mean(per_pair, weight)


class _Categorical(TaskType):
    """Shared label encoding of the class-label types."""

    estimator_type = "classifier"
    default_metric = "accuracy"
    options = ("classes",)

    def fit_encoding(self, task, Y):
        labelled = Y[~missing_mask(Y)]
        observed = _unique_labels(labelled, task)
        if task.classes is not None:
            classes = np.asarray(task.classes)
            unknown = np.setdiff1d(observed, classes)
            if unknown.size:
                raise ValueError(
                    f"task {task.name!r}: labels {_show(unknown)} are not among "
                    f"the declared classes {_show(classes)}."
                )
            classes = np.unique(classes)
        else:
            classes = observed
        return {"classes_": classes}

    def encode(self, task, Y):
        mask = missing_mask(Y)
        out = np.full(Y.shape, np.nan)
        labelled = np.asarray(Y[~mask])
        if labelled.size:
            classes = task.classes_
            labelled = _coerce_labels(labelled, classes, task)
            idx = np.searchsorted(classes, labelled)
            idx_clipped = np.clip(idx, 0, len(classes) - 1)
            unseen = classes[idx_clipped] != labelled
            if np.any(unseen):
                raise ValueError(
                    f"task {task.name!r}: label {_show(labelled[unseen][0])} was not "
                    f"seen during fit (known classes: {_show(classes)}); pass "
                    f"Task({task.name!r}, {task.type!r}, classes=[...]) to declare "
                    f"every class."
                )
            out[~mask] = idx
        return out

    def check_labels(self, task, Y):
        labelled = Y[~missing_mask(Y)]
        _unique_labels(labelled, task)


class Classification(_Categorical):
    """One column of class labels (any number of classes); softmax cross-entropy."""

    name = "classification"
    metrics = ("accuracy", "neg_log_loss", "roc_auc", "balanced_accuracy")

    def check_options(self, task):
        super().check_options(task)
        if task.n_outputs != 1:
            raise ValueError(
                f"task {task.name!r}: a classification task has one column of "
                f"labels, got n_outputs={task.n_outputs}; make one task per column."
            )

    def n_model_outputs(self, task):
        return len(task.classes_)

    def predict_proba(self, task, raw):
        return [_softmax(np.asarray(raw, dtype=np.float64))]

    def transform(self, task, raw):
        raw = np.asarray(raw)
        return task.classes_[np.argmax(raw, axis=1)][:, None]

    def per_entry_loss(self, task, raw, target):
        import torch.nn.functional as F

        return F.cross_entropy(raw, target[:, 0].long(), reduction="none")[:, None]

    def mean_loss(self, task, raw, target):
        import torch.nn.functional as F

        return F.cross_entropy(raw, target[:, 0].long())


class Binary(_Categorical):
    """Two-class labels, one logit per column (several columns: multilabel)."""

    name = "binary"
    metrics = ("accuracy", "neg_log_loss", "roc_auc", "balanced_accuracy")

    def fit_encoding(self, task, Y):
        fitted = super().fit_encoding(task, Y)
        classes = fitted["classes_"]
        if len(classes) > 2:
            raise ValueError(
                f"task {task.name!r} is binary but its labels hold {len(classes)} "
                f"classes {_show(classes)}; use Task({task.name!r}, "
                f"'classification') for more than two classes."
            )
        if len(classes) == 1:
            only = classes[0]
            if isinstance(only, numbers.Number) and only in (0, 1):
                classes = np.array([0, 1], dtype=classes.dtype)
            else:
                raise ValueError(
                    f"task {task.name!r} is binary but only the class {_show(only)} "
                    f"occurs in Y; pass Task({task.name!r}, 'binary', "
                    f"classes=[...]) to name both classes."
                )
        return {"classes_": classes}

    def predict_proba(self, task, raw):
        p = _sigmoid(np.asarray(raw, dtype=np.float64))
        return [np.column_stack([1.0 - p[:, j], p[:, j]]) for j in range(p.shape[1])]

    def transform(self, task, raw):
        raw = np.asarray(raw)
        return task.classes_[(raw > 0).astype(int)]

    def per_entry_loss(self, task, raw, target):
        import torch.nn.functional as F

        return F.binary_cross_entropy_with_logits(raw, target, reduction="none")

    def mean_loss(self, task, raw, target):
        import torch.nn.functional as F

        return F.binary_cross_entropy_with_logits(raw, target)


def _unique_labels(labelled, task):
    """Sorted unique class labels, refusing non-integer floats."""
    labelled = np.asarray(labelled)
    if labelled.dtype == object:
        kinds = {type(v) for v in labelled}
        if all(issubclass(k, numbers.Number) for k in kinds):
            labelled = labelled.astype(np.float64)
        elif not all(issubclass(k, str) for k in kinds):
            raise ValueError(
                f"task {task.name!r}: class labels mix types "
                f"{sorted(k.__name__ for k in kinds)}; use all strings or all "
                f"numbers."
            )
        else:
            labelled = labelled.astype(str)
    if labelled.dtype.kind == "f":
        if not np.all(np.isfinite(labelled)):
            raise ValueError(f"task {task.name!r}: class labels must be finite.")
        if np.any(labelled != np.round(labelled)):
            bad = labelled[labelled != np.round(labelled)][0]
            raise ValueError(
                f"Unknown label type: task {task.name!r} is a {task.type} task but "
                f"its labels include the non-integer value {_show(bad)} (continuous "
                f"targets); class labels must be integers or "
                f"strings. Use Task({task.name!r}, 'regression') for continuous "
                f"targets."
            )
        labelled = labelled.astype(np.int64)
    return np.unique(labelled)


def _coerce_labels(labelled, classes, task):
    """Bring labels to the dtype of the fitted classes for lookup."""
    labelled = np.asarray(labelled)
    if classes.dtype.kind in "iub":
        if labelled.dtype == object:
            if not all(isinstance(v, numbers.Number) for v in labelled):
                raise ValueError(
                    f"task {task.name!r}: labels {_show(labelled[:3])} are not "
                    f"numbers but the task was fitted on numeric classes."
                )
            labelled = labelled.astype(np.float64)
        if labelled.dtype.kind == "f":
            if np.any(labelled != np.round(labelled)):
                bad = labelled[labelled != np.round(labelled)][0]
                raise ValueError(
                    f"task {task.name!r}: the label {_show(bad)} is not an integer "
                    f"class."
                )
            labelled = labelled.astype(np.int64)
        return labelled
    if classes.dtype.kind in "US":
        return labelled.astype(str)
    return labelled


TASK_TYPES = Registry("task type", {
    cls.name: cls()
    for cls in (Regression, Classification, Binary, Ranking, Count)
})
"""Registry of task types by name (a :class:`~skmtl.utils.Registry`). Adding a
type is adding one entry."""


class Task:
    """A learning task: a name, a type and its columns of ``Y``.

    Parameters
    ----------
    name : str
        Name of the task, used in messages, score tables and ``task_weights``.
    type : {"regression", "classification", "binary", "ranking", "count"}, \
            default="regression"
        What the labels are and how the task is learned:

        - ``"regression"``: real values, squared error (or Huber) loss, R²;
        - ``"classification"``: one column of class labels, softmax
          cross-entropy, accuracy;
        - ``"binary"``: two-class labels, logistic loss, accuracy; several
          columns make a multilabel task;
        - ``"ranking"``: relevance labels ranked within groups (queries) or over
          the whole set, pairwise logistic loss, NDCG;
        - ``"count"``: non-negative counts, Poisson loss, D² Poisson.
    n_outputs : int, default=1
        Number of columns of ``Y`` that belong to the task (e.g. 4 for a
        bounding box).
    loss : {"squared_error", "huber"}, default=None
        Regression loss; None means squared error.
    huber_delta : float, default=1.0
        Threshold of the Huber loss.
    classes : array-like, default=None
        Every class of a classification or binary task. By default the classes
        are those seen in the training labels.
    group : str, default=None
        For ranking tasks: the name of the query ids passed as ``groups``; items
        are ranked within a query. None ranks over the whole set (or batch).

    Attributes
    ----------
    type_ : TaskType
        The type object that implements the task's behaviour.

    See Also
    --------
    resolve_tasks : Match tasks to the columns of ``Y`` and fit their encodings.

    Examples
    --------
    >>> from skmtl import Task
    >>> tasks = [Task("digit", "classification"), Task("bbox", n_outputs=4)]
    >>> tasks[1]
    Task('bbox', 'regression', n_outputs=4)
    """

    def __init__(self, name, type="regression", n_outputs=1, *, loss=None,
                 huber_delta=1.0, classes=None, group=None):
        if not isinstance(name, str) or not name:
            raise TypeError(f"Task name must be a non-empty string, got {name!r}.")
        if type not in TASK_TYPES:
            raise ValueError(
                f"task {name!r}: unknown type {type!r}; choose one of "
                f"{sorted(TASK_TYPES)}."
            )
        if (not isinstance(n_outputs, numbers.Integral) or isinstance(n_outputs, bool)
                or n_outputs < 1):
            raise ValueError(
                f"task {name!r}: n_outputs must be a positive integer, got "
                f"{n_outputs!r}."
            )
        self.name = name
        self.type = type
        self.n_outputs = int(n_outputs)
        self.loss = loss
        self.huber_delta = huber_delta
        self.classes = None if classes is None else list(classes)
        self.group = group
        self.type_.check_options(self)

    @property
    def type_(self):
        return TASK_TYPES[self.type]

    @property
    def is_classification(self):
        """True for task types with class labels (classification, binary)."""
        return self.type_.estimator_type == "classifier"

    def _spec(self):
        return (self.name, self.type, self.n_outputs, self.loss, self.huber_delta,
                None if self.classes is None else tuple(self.classes), self.group)

    def __eq__(self, other):
        return isinstance(other, Task) and self._spec() == other._spec()

    def __hash__(self):
        return hash(self._spec())

    def __repr__(self):
        args = [repr(self.name), repr(self.type)]
        if self.n_outputs != 1:
            args.append(f"n_outputs={self.n_outputs}")
        for option, default in (("loss", None), ("huber_delta", 1.0),
                                ("classes", None), ("group", None)):
            value = getattr(self, option)
            if value != default:
                args.append(f"{option}={value!r}")
        return f"Task({', '.join(args)})"

    # -- behaviour delegated to the type (on fitted tasks) --------------------

    def encode(self, Y):
        """Encode this task's columns of ``Y`` as float model targets."""
        return self.type_.encode(self, Y)

    def transform(self, raw):
        """Raw model outputs of this task to predictions in label space."""
        return self.type_.transform(self, raw)

    def predict_proba(self, raw):
        """Per-column class probabilities from raw outputs (None if not a
        probabilistic task)."""
        return self.type_.predict_proba(self, raw)

    def loss_fn(self, raw, target, groups=None, sample_weight=None, complete=False):
        """Masked torch loss of this task (see :meth:`TaskType.loss`)."""
        return self.type_.loss(self, raw, target, groups=groups,
                               sample_weight=sample_weight, complete=complete)

    @property
    def n_model_outputs(self):
        """Number of raw model outputs the task needs (fitted tasks)."""
        return self.type_.n_model_outputs(self)

    def _fit(self, Y, columns):
        """Return a fitted copy of the task for columns ``Y`` of the targets."""
        fitted = copy.copy(self)
        if self.classes is not None:
            fitted.classes = list(self.classes)
        fitted.columns_ = np.asarray(columns)
        for attr, value in self.type_.fit_encoding(self, Y).items():
            setattr(fitted, attr, value)
        return fitted


def infer_tasks(Y, default_type="regression", names=None):
    """One task per column of ``Y``.

    Parameters
    ----------
    Y : ndarray of shape (n_samples, n_outputs)
        Targets, NaN (or None) where a label is missing.
    default_type : {"regression", "classification", "binary", "count", "auto"}
        Type given to every column. ``"auto"`` makes columns holding non-numeric
        labels (strings, booleans) classification tasks and every numeric column
        a regression task; integer class labels need an explicit
        ``Task(..., "classification")``.
    names : list of str, default=None
        Task names; by default ``"task_0"``, ``"task_1"``, ...

    Returns
    -------
    tasks : list of Task
    """
    Y = np.asarray(Y)
    if Y.ndim == 1:
        Y = Y[:, None]
    n_outputs = Y.shape[1]
    if names is None:
        names = [f"task_{j}" for j in range(n_outputs)]
    tasks = []
    for j in range(n_outputs):
        task_type = default_type
        if default_type == "auto":
            column = Y[:, j]
            labelled = column[~missing_mask(column)]
            numeric = labelled.dtype.kind in "iuf" or (
                labelled.dtype == object
                and all(isinstance(v, numbers.Number) and not isinstance(v, bool)
                        for v in labelled)
            )
            task_type = "regression" if numeric else "classification"
        tasks.append(Task(str(names[j]), task_type))
    return tasks


def resolve_tasks(tasks, Y, default_type="regression", names=None):
    """Match task specifications to the columns of ``Y`` and fit their encodings.

    Checks that the widths add up, that every task has at least one label, that
    no label is infinite, and that each task's labels suit its type; raises a
    ``ValueError`` naming the task otherwise.

    Parameters
    ----------
    tasks : list of Task, Task or None
        None infers one task per column (see :func:`infer_tasks`).
    Y : ndarray of shape (n_samples, n_outputs)
        Targets with NaN (or None) for missing labels.
    default_type : str, default="regression"
        Type of inferred tasks.
    names : list of str, default=None
        Names of inferred tasks (e.g. the columns of a DataFrame ``Y``).

    Returns
    -------
    fitted_tasks : list of Task
        Copies of the tasks with ``columns_`` (their column indices in ``Y``)
        and their fitted encodings (``classes_``).
    """
    Y = np.asarray(Y)
    if Y.ndim == 1:
        Y = Y[:, None]
    if tasks is None:
        tasks = infer_tasks(Y, default_type=default_type, names=names)
    elif isinstance(tasks, Task):
        tasks = [tasks]
    else:
        tasks = list(tasks)
        if not tasks:
            raise ValueError("tasks is empty; give at least one Task or None.")
        for task in tasks:
            if not isinstance(task, Task):
                raise TypeError(
                    f"tasks must be Task objects, got {type(task).__name__} "
                    f"{task!r}; e.g. Task('price', 'regression')."
                )
    seen = set()
    for task in tasks:
        if task.name in seen:
            raise ValueError(f"task name {task.name!r} is used twice; names must "
                             f"be unique.")
        seen.add(task.name)
    width = sum(task.n_outputs for task in tasks)
    if width != Y.shape[1]:
        described = ", ".join(f"{t.name}: {t.n_outputs}" for t in tasks)
        raise ValueError(
            f"Y has {Y.shape[1]} column(s) but the tasks describe {width} "
            f"({described}); give one column of Y per task output."
        )
    fitted = []
    start = 0
    for task in tasks:
        columns = np.arange(start, start + task.n_outputs)
        start += task.n_outputs
        block = Y[:, columns]
        missing = missing_mask(block)
        if missing.all():
            raise ValueError(
                f"task {task.name!r} has no labelled sample in Y (all its entries "
                f"are missing); remove the task or provide labels."
            )
        empty = np.flatnonzero(missing.all(axis=0))
        if empty.size:
            raise ValueError(
                f"task {task.name!r}: output {int(empty[0])} (column "
                f"{int(columns[empty[0]])} of Y) has no labelled sample."
            )
        if block.dtype.kind == "f" and np.isinf(block).any():
            raise ValueError(
                f"task {task.name!r}: Y holds inf; labels must be finite (use NaN "
                f"for a missing label)."
            )
        if block.dtype == object:
            labelled = block[~missing]
            if any(isinstance(v, float | np.floating) and np.isinf(v)
                   for v in labelled):
                raise ValueError(
                    f"task {task.name!r}: Y holds inf; labels must be finite (use "
                    f"NaN for a missing label)."
                )
        task.type_.check_labels(task, block)
        fitted.append(task._fit(block, columns))
    return fitted
