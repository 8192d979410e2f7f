"""Task model: what each column of ``Y`` means and how it is learned.

A :class:`Task` is a name, a type and its columns of ``Y``. Each task type is one
class (:class:`TaskType` subclass) that owns the type's label checks, its label
encoding, its masked loss, its prediction transform, its default metric and
every other decision about it (target scaling, baseline, linear datafit, ...),
so adding a task type is adding one class to :data:`TASK_TYPES`
(:func:`register_task_type` from user code). This module is the only one that
names a type.
"""

import copy
import numbers
import warnings

import numpy as np

from .utils._registry import Registry
from .utils._targets import _show, missing_mask

__all__ = [
    "Task",
    "TaskType",
    "TASK_TYPES",
    "register_task_type",
    "infer_tasks",
    "resolve_tasks",
    "missing_mask",
]


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


def _short_list(values, limit=8):
    """``[a, b, ...]`` of plain Python values, cut after ``limit`` of them."""
    values = [v.item() if isinstance(v, np.generic) else v for v in values]
    if len(values) <= limit:
        return repr(values)
    shown = ", ".join(repr(v) for v in values[:limit - 1])
    return f"[{shown}, ... ({len(values)} classes)]"


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
    """Behaviour shared by every task of one type: every decision about the type.

    A task type is one class: how labels are checked and encoded, what the
    model outputs for the task (``n_model_outputs``), how raw outputs become
    predictions (and class probabilities or quantiles), the masked training
    loss, the default metric, and every choice that another part of skmtl
    makes about the type (target standardization, the uncertainty-weighting
    constant, the single-task baseline, query groups, the linear datafit).
    No module outside :mod:`skmtl.tasks` names a type. Methods receive the
    (fitted) :class:`Task`, so that type-specific options and fitted
    encodings live on it.

    A type defined in user code becomes usable everywhere (``Task(name,
    type=...)``, the estimators, metrics, baselines and reports) once
    registered with :func:`register_task_type`.

    Attributes
    ----------
    name : str
        The type's name, as passed to ``Task(type=...)``.
    estimator_type : {"regressor", "classifier"}
        The scikit-learn estimator type of a model made only of this type.
        Classifier types have class labels (``classes_``) and class
        probabilities.
    default_metric : str
        Metric used by ``score`` and by the multi-task scorer by default.
    metrics : tuple of str
        Metrics of :mod:`skmtl.metrics` that make sense for this type.
    options : tuple of str
        The options of :class:`Task` the type uses (``"loss"``,
        ``"classes"``, ``"group"``, ``"quantiles"``); others are refused.
    responses : tuple of str
        The prediction methods that give this type's outputs:
        ``"predict"``, and ``"predict_proba"`` (class probabilities) or
        ``"predict_quantiles"`` (quantiles) where the type has them.
    standardize : bool
        Whether the neural estimators (``standardize_targets=True``) train
        on targets standardized per column and map the raw outputs back
        with :meth:`unstandardize`; only for types whose loss is equivariant
        under a change of location and scale.
    uncertainty_scale : float
        ``c`` in the uncertainty weighting ``c exp(-s) L + s / 2``
        (:class:`~skmtl.neural.weighting.Uncertainty`): 1/2 for a Gaussian
        likelihood (squared error, Poisson), 1 for a Boltzmann or Laplace
        likelihood (cross-entropies, pinball).
    linear_loss : {"squared", "logistic"} or None
        The loss of :mod:`skmtl.linear` that fits the type (see
        :meth:`linear_datafit`); None when no linear datafit serves it.
    default_for : {"regressor", "classifier"} or None
        The type that ``tasks=None`` gives every column of an estimator of
        this scikit-learn type (one type each).
    inferred_from : tuple of str
        The kinds of labels (the names of
        :func:`sklearn.utils.multiclass.type_of_target`) that inference on a
        mixed estimator may turn into a task of this type; empty for a type
        that is never inferred (it is declared with ``Task(name, type)``).
    given_form : {"entire_space", "hurdle", "conditional"}
        How a task of this type that depends on a parent
        (``Task(name, type, given=parent)``) is trained and what its joint
        prediction is: ``"entire_space"`` trains the joint probability
        ``P(parent path) * P(task | parent)`` against ``parent and task`` on
        every row where the parent path is known (ESMM; :meth:`given_loss`);
        ``"hurdle"`` trains the type's own loss on the rows where the parent
        happened, and its joint prediction is the hurdle mean
        ``P(parent path) * E[y | parent]`` (:meth:`joint_transform`);
        ``"conditional"`` trains the own loss on those rows and has no joint
        value in label space.
    """

    name = None
    estimator_type = "regressor"
    default_metric = "r2"
    metrics = ()
    options = ()
    responses = ("predict",)
    standardize = False
    uncertainty_scale = 1.0
    linear_loss = None
    default_for = None
    inferred_from = ()
    given_form = "conditional"

    def check_options(self, task):
        """Raise ``ValueError`` if the task's options do not suit this type."""
        for option in ("loss", "classes", "group", "quantiles"):
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

    def check_trainable(self, task):
        """Raise ``ValueError`` if a fitted task cannot be trained on (e.g. a
        classification task with one class)."""

    def linear_datafit(self, task):
        """The loss of :mod:`skmtl.linear` that fits the task.

        ``"squared"`` (:class:`~skmtl.linear.MultiTaskLinearRegressor`) or
        ``"logistic"`` (:class:`~skmtl.linear.MultiTaskLogisticClassifier`),
        from the type's ``linear_loss``.

        Raises
        ------
        ValueError
            Naming the task and its type, when no linear datafit serves it.
        """
        if self.linear_loss is None:
            raise ValueError(
                f"task {task.name!r}: no linear multi-task model fits {self.name} "
                f"tasks (skmtl.linear has no datafit for them); use "
                f"skmtl.neural.MultiTaskEstimator, or a SingleTaskBaseline.")
        return self.linear_loss

    def transform(self, task, raw):
        """Raw model outputs to predictions in label space ``(n, n_outputs)``."""
        return np.asarray(raw, dtype=np.float64)

    def predict_proba(self, task, raw):
        """Class probabilities per column, or None for non-probabilistic types."""
        return None

    def predict_quantiles(self, task, raw):
        """Quantiles per column ``(n, n_quantiles)``, or None for the types
        that do not predict quantiles."""
        return None

    def unstandardize(self, task, raw, mean, scale):
        """Raw outputs of a model trained on standardized targets, for the
        original targets.

        ``mean`` and ``scale`` (of shape ``(n_outputs,)``) standardized the
        task's columns; called only for types with ``standardize = True``.
        The default maps each raw output linearly, which suits raw outputs
        that are predictions in label space.
        """
        return np.asarray(raw) * scale + mean

    def query_group(self, task):
        """Name of the query ids (``groups``) the task's loss and metric need,
        or None."""
        return None

    def baseline_estimator(self, task):
        """A new single-task scikit-learn model for the task: the reference of
        :func:`~skmtl.model_selection.transfer_report` and
        :func:`~skmtl.model_selection.default_baselines`.

        Fitted on the task's labelled rows, with the labels (class indices
        for classifier types) as ``y``. Ridge regression with its penalty
        chosen by leave-one-out (``RidgeCV``) by default.
        """
        from sklearn.linear_model import RidgeCV

        return RidgeCV(alphas=np.logspace(-3, 3, 13))

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


    # -- dependent tasks (Task(..., given=parent)) ----------------------------

    def event_code(self, task, event):
        """The encoded label of ``event``, for a task that is a parent.

        ``event`` is the class the child depends on (``given=(parent,
        event)``), or None for the default event (the positive class of a
        two-class task). Types that give no probability of an event cannot
        be parents: the default raises a ``ValueError`` naming the task.
        """
        raise ValueError(
            f"task {task.name!r} ({self.name}) cannot be the parent of a "
            f"dependent task: a parent must give the probability of an event "
            f"(types {_parent_types()}).")

    def event_log_proba(self, task, raw, code):
        """``(log p, log (1 - p))``, torch tensors of shape ``(n, 1)``, of the
        event of encoded label ``code`` from the task's raw outputs (parents
        only, see :meth:`event_code`), each computed stably."""
        raise NotImplementedError(f"{type(self).__name__} has no event "
                                  f"probability.")

    def implied_label(self, task):
        """The label a dependent task of this type has where its parent did
        not happen (the negative class, 0), or None when there is none.

        Such labels are accepted in ``Y`` where the parent is negative (and
        treated as "not applicable"); any other label there is an error. They
        are also the joint target there (``funnel="joint"`` scoring).
        """
        return None

    def given_targets(self, task, target, path_negative):
        """What :meth:`given_loss` reads from the labels of a dependent task,
        as float columns ``(n, m)``.

        Computed from the targets alone, so that the training loop computes
        them once for a whole dataset and hands :meth:`given_loss` the rows of
        each batch (:class:`~skmtl.neural.BatchIterator`), instead of
        deriving masks from every batch.

        Parameters
        ----------
        target : torch.Tensor of shape (n, n_outputs)
            Encoded targets, NaN where missing and where the parent path did
            not happen.
        path_negative : torch.Tensor of bool, shape (n,)
            Rows where an ancestor is labelled and its event did not happen.

        Returns
        -------
        given : torch.Tensor of shape (n, m)
            The default (``given_form`` ``"hurdle"`` or ``"conditional"``):
            the targets themselves.
        """
        return target

    def given_entries(self, task, given):
        """Float torch mask ``(n, n_outputs)`` of the entries that
        :meth:`given_loss` averages over (for the epoch means), from the
        :meth:`given_targets` columns."""
        import torch

        return (~torch.isnan(given)).to(given.dtype)

    def given_loss(self, task, raw, given, log_reach, log_not_reach, groups=None,
                   sample_weight=None):
        """Masked torch loss of a dependent task (``given=``).

        Parameters
        ----------
        raw : torch.Tensor of shape (n, n_model_outputs)
            The task's raw outputs: its conditional model given the parent.
        given : torch.Tensor of shape (n, m)
            The rows' :meth:`given_targets`.
        log_reach, log_not_reach : torch.Tensor of shape (n, 1)
            ``log R`` and ``log (1 - R)`` of ``R = P(parent path)``, the
            probability that every ancestor's event happens.
        groups : torch.Tensor of shape (n,), optional
            Query ids, for the types with query groups.
        sample_weight : torch.Tensor of shape (n,), optional

        Returns
        -------
        loss : torch.Tensor, scalar

        The default (``given_form`` ``"hurdle"`` or ``"conditional"``) is the
        type's own loss on the rows where the parent happened; the rows the
        loss covers are :meth:`given_entries`.
        """
        return self.loss(task, raw, given, groups=groups,
                         sample_weight=sample_weight)

    def joint_transform(self, task, raw, reach):
        """Joint predictions in label space of a dependent task.

        ``raw`` are the task's raw outputs (conditional on the parent,
        on the targets' scale), ``reach`` ``(n,)`` the probability of the
        parent path. The default raises: a type without a joint value in
        label space (see ``given_form``).
        """
        raise ValueError(
            f"task {task.name!r} ({self.name}) depends on {task.given_task!r} but "
            f"its type has no joint prediction in label space; predict it with "
            f"funnel='conditional'.")

    def joint_proba(self, task, raw, reach):
        """Joint class probabilities ``P(parent path and class)`` per column
        of a dependent task, or None for types without probabilities."""
        return None

    def __repr__(self):
        return f"{type(self).__name__}()"


class Regression(TaskType):
    """Real-valued targets; squared error or Huber loss; R² by default."""

    name = "regression"
    linear_loss = "squared"
    standardize = True
    uncertainty_scale = 0.5
    default_for = "regressor"
    inferred_from = ("continuous",)
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

    given_form = "hurdle"

    def implied_label(self, task):
        return 0.0

    def joint_transform(self, task, raw, reach):
        """The hurdle mean ``P(parent path) * E[y | parent]``."""
        return np.asarray(reach)[:, None] * self.transform(task, raw)

    def linear_datafit(self, task):
        if task.loss not in (None, "squared_error"):
            raise ValueError(
                f"task {task.name!r} asks for loss={task.loss!r}; linear multi-task "
                f"models use the squared error.")
        return "squared"

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
    uncertainty_scale = 0.5
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

    given_form = "hurdle"

    def implied_label(self, task):
        return 0.0

    def joint_transform(self, task, raw, reach):
        """The hurdle mean ``P(parent path) * E[y | parent]``."""
        return np.asarray(reach)[:, None] * self.transform(task, raw)

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

    def query_group(self, task):
        return task.group

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
    responses = ("predict", "predict_proba")
    linear_loss = "logistic"

    def baseline_estimator(self, task):
        """Logistic regression (L2, ``C=1``), fitted on the class indices."""
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(max_iter=1000)

    def check_trainable(self, task):
        if len(task.classes_) < 2:
            raise ValueError(
                f"task {task.name!r} has only one class ({_show(task.classes_[0])}) "
                f"in Y; a classifier needs at least two classes per task (declare "
                f"them with Task({task.name!r}, {task.type!r}, classes=[...]) if "
                f"later data holds the others).")

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
    default_for = "classifier"
    inferred_from = ("multiclass",)

    def check_options(self, task):
        super().check_options(task)
        if task.n_outputs != 1:
            raise ValueError(
                f"task {task.name!r}: a classification task has one column of "
                f"labels, got n_outputs={task.n_outputs}; make one task per column."
            )

    def n_model_outputs(self, task):
        return len(task.classes_)

    def event_code(self, task, event):
        if event is None and len(task.classes_) != 2:
            raise ValueError(
                f"task {task.name!r} has {len(task.classes_)} classes: a task that "
                f"depends on it names the class, given=({task.name!r}, class).")
        return _class_code(task, event)

    def event_log_proba(self, task, raw, code):
        import torch

        log_p = torch.log_softmax(raw, dim=1)
        others = torch.cat([log_p[:, :code], log_p[:, code + 1:]], dim=1)
        return log_p[:, code:code + 1], torch.logsumexp(others, dim=1, keepdim=True)

    def joint_proba(self, task, raw, reach):
        """``P(parent path and class k)``: the rows sum to ``P(parent path)``."""
        return [np.asarray(reach)[:, None] * self.predict_proba(task, raw)[0]]

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
    inferred_from = ("binary",)

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

    given_form = "entire_space"

    def event_code(self, task, event):
        if task.n_outputs != 1:
            raise ValueError(
                f"task {task.name!r} has {task.n_outputs} columns: the parent of a "
                f"dependent task has one column.")
        return _class_code(task, event)

    def n_model_outputs(self, task):
        """One logit per column, plus, with ``counterfactual="dr"``, the
        imputation tower's predicted error (the last column)."""
        return task.n_outputs + (task.counterfactual == "dr")

    @staticmethod
    def _logits(task, raw):
        """The logit columns of ``raw`` (without the imputed error)."""
        return raw[:, :task.n_outputs] if task.counterfactual == "dr" else raw

    def event_log_proba(self, task, raw, code):
        import torch.nn.functional as F

        raw = self._logits(task, raw)
        logit = raw if code == 1 else -raw
        log_p = F.logsigmoid(logit)
        return log_p, log_p - logit  # log sigmoid(-x) = log sigmoid(x) - x

    def implied_label(self, task):
        return task.classes_[0]

    def given_targets(self, task, target, path_negative):
        """``[joint, known, labelled]`` as float columns ``(n, 3 n_outputs)``:
        the joint label ``parent path and task`` (1 only where the task is
        labelled 1, never where the parent path did not happen), the entries
        where the joint label is known (labelled, or implied 0 where the
        parent path did not happen) and those where the task is labelled and
        the parent path happened (the conditional loss's)."""
        import torch

        negative = path_negative[:, None]
        known = (target == target) | negative  # labelled (not NaN) or implied
        joint = (target == 1) & ~negative
        labelled = known & ~negative
        return torch.cat((joint, known, labelled), dim=1).to(target.dtype)

    def given_entries(self, task, given):
        n = task.n_outputs
        return given.narrow(1, n, n)  # where the joint label is known

    def given_loss(self, task, raw, given, log_reach, log_not_reach, groups=None,
                   sample_weight=None):
        """Entire-space loss (ESMM): the log-loss of the joint probability.

        With ``R = P(parent path)`` and ``p = sigmoid(raw) = P(task |
        parent)``, the joint ``q = R p`` is scored against the joint label
        ``y = parent path and task`` (0 where an ancestor is negative) on
        every row where it is known (see :meth:`given_targets`):
        ``-(y log q + (1 - y) log (1 - q))``, with ``log q = log R + log
        sigmoid(raw)`` and ``log (1 - q) = logaddexp(log (1 - R), log R +
        log sigmoid(-raw))`` (no ``log`` of a difference). Plus
        ``task.conditional_weight`` times the log-loss of ``p`` on the rows
        where the parent happened, or, with ``task.counterfactual="ips"``,
        times ESCM²'s inverse-propensity risk on the entire space:
        ``sum_i o_i e_i / max(R_i, min_propensity) / |D|`` over the rows
        ``D`` where the joint label is known, ``o_i`` = 1 where the parent
        path happened, ``e_i`` the conditional log-loss and ``R_i`` the
        predicted probability of the parent path (no gradient flows
        through it), as Wang et al. (SIGIR 2022) write ``R_IPS``; with
        ``task.counterfactual="dr"``, times their doubly robust risk
        ``R_DR = sum_D [e~_i + o_i (e_i - e~_i) / R_i] / |D|`` plus the
        imputation loss ``sum_D o_i (e_i - e~_i)^2 / R_i / |D|``, with
        ``e~_i`` the imputed error, the task's last raw output (see
        ``_doubly_robust_loss``).
        """
        import torch
        import torch.nn.functional as F

        full = raw
        raw = self._logits(task, raw)
        n = task.n_outputs
        if given.dtype != raw.dtype:
            given = given.to(raw.dtype)
        joint, known = given.narrow(1, 0, n), given.narrow(1, n, n)
        log_q = log_reach + F.logsigmoid(raw)
        log_not_q = torch.logaddexp(log_not_reach, log_q - raw)
        # The log-loss of q is the logistic loss of its logit log q - log
        # (1 - q): one fused operation.
        weight = known if sample_weight is None else known * sample_weight[:, None]
        loss = F.binary_cross_entropy_with_logits(
            log_q - log_not_q, joint, weight=weight, reduction="sum") / \
            weight.sum().clamp(min=torch.finfo(weight.dtype).tiny)
        if not task.conditional_weight:
            return loss
        # where the task is labelled and the parent path happened, its label
        # is the joint label
        labelled, known = given.narrow(1, 2 * n, n) > 0, known > 0
        if task.counterfactual == "ips":
            return loss + task.conditional_weight * self._inverse_propensity_loss(
                task, raw, joint, labelled, known, log_reach, sample_weight)
        if task.counterfactual == "dr":
            return loss + task.conditional_weight * self._doubly_robust_loss(
                task, raw, full[:, task.n_outputs:], joint, labelled, known,
                log_reach, sample_weight)
        conditional = torch.where(labelled, joint, torch.full_like(joint, float("nan")))
        return loss + task.conditional_weight * self.loss(
            task, raw, conditional, sample_weight=sample_weight)

    min_propensity = 0.05

    def _inverse_propensity_loss(self, task, raw, target, labelled, known,
                                 log_reach, sample_weight):
        """ESCM²'s counterfactual risk (IPS): ``sum_D o_i e_i / o^_i / |D|``
        over the rows ``D`` where the joint label is known, ``o_i`` = 1 where
        the parent path happened (and the task is labelled), ``e_i`` the
        conditional log-loss, ``o^_i`` the predicted probability of the
        parent path, without gradient, at least ``min_propensity``."""
        import torch
        import torch.nn.functional as F

        safe = torch.where(labelled, target, torch.zeros_like(target))
        error = F.binary_cross_entropy_with_logits(raw, safe, reduction="none")
        propensity = torch.exp(log_reach.detach()).clamp(min=self.min_propensity)
        weight = known.to(raw.dtype)
        if sample_weight is not None:
            weight = weight * sample_weight[:, None]
        per_entry = labelled.to(raw.dtype) * error / propensity
        return _weighted_mean(per_entry, weight)

    def _doubly_robust_loss(self, task, raw, imputed, target, labelled, known,
                            log_reach, sample_weight):
        """ESCM²'s doubly robust counterfactual risk plus the imputation loss.

        Over the rows ``D`` where the joint label is known, with ``o_i``,
        ``e_i`` and ``o^_i`` as in the IPS risk and ``e~_i`` the imputation
        tower's predicted error (the task's last raw output):
        ``R_DR = sum_D [e~_i + o_i (e_i - e~_i) / o^_i] / |D|`` (gradient to
        the conditional model through ``e_i`` only: ``e~_i`` and ``o^_i``
        are detached) plus ``L_imp = sum_D o_i (e_i - e~_i)^2 / o^_i / |D|``
        (gradient to the imputation tower only: ``e_i`` and ``o^_i`` are
        detached), as the alternating (joint learning) scheme of doubly
        robust estimation trains the two models."""
        import torch
        import torch.nn.functional as F

        safe = torch.where(labelled, target, torch.zeros_like(target))
        error = F.binary_cross_entropy_with_logits(raw, safe, reduction="none")
        propensity = torch.exp(log_reach.detach()).clamp(min=self.min_propensity)
        clicked = labelled.to(raw.dtype)
        imputed_fixed = imputed.detach()
        risk = imputed_fixed + clicked * (error - imputed_fixed) / propensity
        imputation = clicked * (error.detach() - imputed) ** 2 / propensity
        weight = known.to(raw.dtype)
        if sample_weight is not None:
            weight = weight * sample_weight[:, None]
        return _weighted_mean(risk + imputation, weight)

    def joint_proba(self, task, raw, reach):
        raw = self._logits(task, raw)
        q = np.asarray(reach)[:, None] * _sigmoid(np.asarray(raw, dtype=np.float64))
        return [np.column_stack([1.0 - q[:, j], q[:, j]]) for j in range(q.shape[1])]

    def joint_transform(self, task, raw, reach):
        """The class of the joint label (``parent path and task``): the
        positive class where ``P(parent path) * P(task | parent) > 1/2``."""
        raw = self._logits(task, raw)
        q = np.asarray(reach)[:, None] * _sigmoid(np.asarray(raw, dtype=np.float64))
        return task.classes_[(q > 0.5).astype(int)]

    def check_labels(self, task, Y):
        super().check_labels(task, Y)
        if task.classes is not None or task.given is not None:
            # a dependent task also learns its implied negatives, where its
            # parent path did not happen
            return
        observed = _unique_labels(Y[~missing_mask(Y)], task)
        if len(observed) == 1 and isinstance(observed[0], numbers.Number) \
                and observed[0] in (0, 1):
            only = _show(observed[0])
            warnings.warn(
                f"task {task.name!r} is binary but every label in Y is {only}: "
                f"its classes are taken to be [0, 1] and the model can only learn "
                f"to predict {only}. Check the column; if later data holds the "
                f"other class, declare Task({task.name!r}, 'binary', "
                f"classes=[0, 1]) to silence this warning.", UserWarning,
                stacklevel=2)

    def predict_proba(self, task, raw):
        raw = self._logits(task, raw)
        p = _sigmoid(np.asarray(raw, dtype=np.float64))
        return [np.column_stack([1.0 - p[:, j], p[:, j]]) for j in range(p.shape[1])]

    def transform(self, task, raw):
        raw = np.asarray(self._logits(task, raw))
        return task.classes_[(raw > 0).astype(int)]

    def per_entry_loss(self, task, raw, target):
        import torch.nn.functional as F

        return F.binary_cross_entropy_with_logits(self._logits(task, raw), target,
                                                  reduction="none")

    def mean_loss(self, task, raw, target):
        import torch.nn.functional as F

        return F.binary_cross_entropy_with_logits(self._logits(task, raw), target)


def _softplus(x):
    return np.logaddexp(0.0, x)


def _inverse_softplus(y):
    """``x`` with ``softplus(x) = y`` for ``y > 0`` (``-inf`` at 0)."""
    y = np.asarray(y, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return y + np.log(-np.expm1(-y))


class Quantile(TaskType):
    """Several conditional quantiles of a real target at once, never crossing.

    For each column of ``Y`` the model predicts the levels
    ``task.quantiles`` (default ``(0.1, 0.5, 0.9)``): raw outputs
    ``(b, d_1, ..., d_{m-1})`` give ``q_1 = b`` and
    ``q_{j+1} = q_j + softplus(d_j)``, so the quantiles increase with the
    level whatever the network outputs (non-crossing by construction). The
    loss is the pinball loss ``max(tau (y - q), (tau - 1) (y - q))`` averaged
    over the levels ``tau``; the default metric is D² pinball (the mean over
    the levels of :func:`sklearn.metrics.d2_pinball_score`). ``predict``
    gives the quantile whose level is nearest 0.5 (the median when 0.5 is
    a level), ``predict_quantiles`` every level. Targets are standardized
    like regression targets (quantiles are equivariant under a change of
    location and scale).

    Notes
    -----
    Koenker & Bassett (1978), "Regression quantiles", Econometrica 46;
    non-crossing through positive increments as in Cannon (2018),
    "Non-crossing nonlinear regression quantiles by monotone composite
    quantile regression neural network", Stochastic Environmental Research
    and Risk Assessment 32.
    """

    name = "quantile"
    default_metric = "d2_pinball"
    metrics = ("d2_pinball", "neg_mean_pinball_loss", "neg_mean_absolute_error",
               "r2")
    options = ("quantiles",)
    responses = ("predict", "predict_quantiles")
    standardize = True
    default_quantiles = (0.1, 0.5, 0.9)

    def levels(self, task):
        """The quantile levels of the task, as a float array."""
        return np.asarray(self.default_quantiles if task.quantiles is None
                          else task.quantiles, dtype=np.float64)

    def check_options(self, task):
        super().check_options(task)
        levels = task.quantiles if task.quantiles is not None else ()
        try:
            values = np.asarray(levels, dtype=np.float64)
        except (TypeError, ValueError):
            values = np.array([np.nan])
        if task.quantiles is not None and (
                values.ndim != 1 or values.size == 0 or not np.all(np.isfinite(values))
                or np.any(values <= 0) or np.any(values >= 1)
                or np.any(np.diff(values) <= 0)):
            raise ValueError(
                f"task {task.name!r}: quantiles={task.quantiles!r} must be "
                f"increasing levels strictly between 0 and 1, e.g. (0.1, 0.5, "
                f"0.9).")

    def fit_encoding(self, task, Y):
        return {"quantiles_": self.levels(task)}

    def n_model_outputs(self, task):
        return task.n_outputs * len(self.levels(task))

    def _quantiles(self, task, raw):
        """Raw outputs (n, n_outputs * m) to quantiles (n, n_outputs, m)."""
        raw = np.asarray(raw, dtype=np.float64)
        m = len(self.levels(task))
        raw = raw.reshape(raw.shape[0], task.n_outputs, m)
        steps = np.concatenate([raw[..., :1], _softplus(raw[..., 1:])], axis=-1)
        return np.cumsum(steps, axis=-1)

    def predict_quantiles(self, task, raw):
        q = self._quantiles(task, raw)
        return [q[:, j] for j in range(task.n_outputs)]

    def transform(self, task, raw):
        middle = int(np.argmin(np.abs(self.levels(task) - 0.5)))
        return self._quantiles(task, raw)[:, :, middle]

    def unstandardize(self, task, raw, mean, scale):
        """``q -> mean + scale q`` for every level: the base moves and scales,
        each increment ``softplus(d)`` is scaled (``scale > 0``)."""
        raw = np.asarray(raw, dtype=np.float64)
        m = len(self.levels(task))
        out = raw.reshape(raw.shape[0], task.n_outputs, m).copy()
        scale = np.asarray(scale, dtype=np.float64)[:, None]
        out[..., 0] = out[..., 0] * scale[:, 0] + np.asarray(mean)
        out[..., 1:] = _inverse_softplus(_softplus(out[..., 1:]) * scale)
        return out.reshape(raw.shape)

    def baseline_estimator(self, task):
        """Linear quantile regression of every level
        (:class:`~skmtl.MultiQuantileRegressor`)."""
        from ._quantile_regression import MultiQuantileRegressor

        return MultiQuantileRegressor(quantiles=tuple(self.levels(task)))

    def per_entry_loss(self, task, raw, target):
        import torch
        import torch.nn.functional as F

        m = len(self.levels(task))
        raw = raw.reshape(raw.shape[0], task.n_outputs, m)
        steps = torch.cat([raw[..., :1], F.softplus(raw[..., 1:])], dim=-1)
        q = torch.cumsum(steps, dim=-1)
        tau = torch.as_tensor(self.levels(task), dtype=raw.dtype, device=raw.device)
        error = target[..., None] - q
        return torch.maximum(tau * error, (tau - 1.0) * error).mean(dim=-1)


class Ordinal(_Categorical):
    """Ordered class labels: cumulative logits with ordered thresholds.

    With ``K`` classes in their order (``classes``, or the sorted numeric
    labels), the model gives each column ``K - 1`` cumulative logits
    ``c_1 < c_2 < ... < c_{K-1}``, ordered by construction (raw outputs
    ``(a, d_2, ..., d_{K-1})``, ``c_1 = a``, ``c_k = c_{k-1} +
    softplus(d_k)``), with ``P(y <= k) = sigmoid(c_k)``; the probability of
    class ``k`` is ``sigmoid(c_k) - sigmoid(c_{k-1})``. The loss is its
    negative log-likelihood; ``predict`` gives the most probable class,
    ``predict_proba`` the class probabilities. With thresholds that do not
    depend on the input this is the proportional-odds model (McCullagh,
    1980); a network may move them with the input, their order holds
    whatever it outputs. Metrics: accuracy (default) and the mean absolute
    error of the class ranks (``mean_absolute_rank_error``).

    Notes
    -----
    P. McCullagh, "Regression models for ordinal data", JRSS B 42, 1980.
    """

    name = "ordinal"
    metrics = ("accuracy", "neg_mean_absolute_rank_error", "balanced_accuracy",
               "neg_log_loss")
    linear_loss = None  # no linear datafit serves ordered thresholds

    def fit_encoding(self, task, Y):
        if task.classes is None:
            labelled = Y[~missing_mask(Y)]
            classes = _unique_labels(labelled, task)
            if classes.dtype.kind in "US":
                raise ValueError(
                    f"task {task.name!r} is an ordinal task with labels that are "
                    f"not numbers ({_show(classes[:3])}, ...); their order is "
                    f"unknown: pass Task({task.name!r}, 'ordinal', classes=[...]) "
                    f"with the classes in their order.")
            return {"classes_": classes}
        declared = np.asarray(task.classes)
        if len(set(declared.tolist())) != declared.size:
            raise ValueError(f"task {task.name!r}: classes={task.classes!r} hold a "
                             f"class twice.")
        observed = _unique_labels(Y[~missing_mask(Y)], task)
        unknown = [v for v in observed.tolist() if v not in declared.tolist()]
        if unknown:
            raise ValueError(
                f"task {task.name!r}: labels {_show(unknown)} are not among the "
                f"declared classes {_show(declared)}.")
        return {"classes_": declared}

    def encode(self, task, Y):
        mask = missing_mask(Y)
        out = np.full(Y.shape, np.nan)
        labelled = np.asarray(Y[~mask])
        if labelled.size:
            classes = task.classes_
            labelled = _coerce_labels(labelled, classes, task)
            rank = {label: r for r, label in enumerate(classes.tolist())}
            try:
                out[~mask] = [rank[v] for v in labelled.tolist()]
            except KeyError as error:
                raise ValueError(
                    f"task {task.name!r}: label {_show(error.args[0])} was not seen "
                    f"during fit (known classes: {_show(classes)}); pass "
                    f"Task({task.name!r}, 'ordinal', classes=[...]) to declare "
                    f"every class.") from None
        return out

    def n_model_outputs(self, task):
        return task.n_outputs * (len(task.classes_) - 1)

    def _cumulative_logits(self, task, raw):
        raw = np.asarray(raw, dtype=np.float64)
        raw = raw.reshape(raw.shape[0], task.n_outputs, len(task.classes_) - 1)
        steps = np.concatenate([raw[..., :1], _softplus(raw[..., 1:])], axis=-1)
        return np.cumsum(steps, axis=-1)

    def predict_proba(self, task, raw):
        cumulative = _sigmoid(self._cumulative_logits(task, raw))
        n = cumulative.shape[0]
        padded = np.concatenate([np.zeros((n, task.n_outputs, 1)), cumulative,
                                 np.ones((n, task.n_outputs, 1))], axis=-1)
        proba = np.diff(padded, axis=-1)
        return [proba[:, j] for j in range(task.n_outputs)]

    def transform(self, task, raw):
        proba = np.stack(self.predict_proba(task, raw), axis=1)
        return task.classes_[np.argmax(proba, axis=-1)]

    def per_entry_loss(self, task, raw, target):
        """``-log P(y = k)``, computed from log-sigmoids for stability:
        ``log(sigmoid(c_k) - sigmoid(c_{k-1})) = log sigmoid(c_k) +
        log sigmoid(-c_{k-1}) + log(1 - exp(-(c_k - c_{k-1})))``."""
        import torch
        import torch.nn.functional as F

        n_thresholds = len(task.classes_) - 1
        raw = raw.reshape(raw.shape[0], task.n_outputs, n_thresholds)
        gaps = F.softplus(raw[..., 1:])
        c = torch.cumsum(torch.cat([raw[..., :1], gaps], dim=-1), dim=-1)
        k = target.long()
        zeros = torch.zeros_like(c[..., :1])
        # log sigmoid(c_k), 0 for the last class (c_K = +inf)
        upper = torch.cat([F.logsigmoid(c), zeros], dim=-1)
        # log sigmoid(-c_{k-1}), 0 for the first class (c_0 = -inf)
        lower = torch.cat([zeros, F.logsigmoid(-c)], dim=-1)
        # log(1 - exp(-(c_k - c_{k-1}))) for the classes between two thresholds
        tiny = torch.finfo(raw.dtype).tiny
        between = torch.log(-torch.expm1(-gaps.clamp(min=tiny)))
        middle = torch.cat([zeros, between, zeros], dim=-1)
        index = k[..., None]
        log_p = (upper.gather(-1, index) + lower.gather(-1, index)
                 + middle.gather(-1, index))
        return -log_p[..., 0]


def _class_code(task, event):
    """Index in ``task.classes_`` of the class ``event`` (None: the last class,
    the positive one of two)."""
    classes = task.classes_
    if event is None:
        return len(classes) - 1
    try:
        label = _coerce_labels(np.asarray([event]), classes, task)[0]
    except ValueError:
        label = None
    matches = np.flatnonzero(classes == label) if label is not None else []
    if len(matches) != 1:
        raise ValueError(f"task {task.name!r} has no class {_show(event)} (its "
                         f"classes are {_show(classes)}); name one of them in "
                         f"given=({task.name!r}, class).")
    return int(matches[0])


def _parent_types():
    """Names of the types that can be parents (they define an event)."""
    return sorted(name for name, task_type in TASK_TYPES.items()
                  if type(task_type).event_code is not TaskType.event_code)


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
    for cls in (Regression, Classification, Binary, Ranking, Count, Quantile,
                Ordinal)
})
"""Registry of task types by name (see :func:`register_task_type`)."""


def register_task_type(task_type, *, replace=False):
    """Make a task type usable by name: ``Task(name, task_type.name)``.

    Once registered, a type defined in user code works with every part of
    skmtl that takes tasks (the neural estimators, the metrics and scorers,
    the baselines, :func:`~skmtl.model_selection.transfer_report`), since
    each of them asks the type for every decision about it. Register it
    before unpickling a model that uses it.

    Parameters
    ----------
    task_type : TaskType subclass or instance
        The type; a class is instantiated without arguments.
    replace : bool, default=False
        Replace a registered type of the same name (else a ``ValueError``).

    Returns
    -------
    task_type : TaskType subclass or instance
        The argument, so that the function works as a class decorator.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl import Task, TaskType, register_task_type
    >>> from skmtl.tasks import TASK_TYPES
    >>> @register_task_type
    ... class Proportion(TaskType):
    ...     # values in [0, 1]: a logit link and the binary cross-entropy
    ...     name = "proportion"
    ...     def transform(self, task, raw):
    ...         return 1.0 / (1.0 + np.exp(-np.asarray(raw, dtype=float)))
    ...     def per_entry_loss(self, task, raw, target):
    ...         import torch.nn.functional as F
    ...         return F.binary_cross_entropy_with_logits(raw, target,
    ...                                                   reduction="none")
    >>> Task("share", "proportion")
    Task('share', 'proportion')
    >>> del TASK_TYPES["proportion"]
    """
    instance = task_type() if isinstance(task_type, type) else task_type
    if not isinstance(instance, TaskType):
        raise TypeError(f"register_task_type needs a TaskType subclass or instance, "
                        f"got {task_type!r}.")
    name = instance.name
    if not isinstance(name, str) or not name:
        raise ValueError(f"{type(instance).__name__}.name must be a non-empty "
                         f"string (the name Task(type=...) takes), got {name!r}.")
    if name in TASK_TYPES and (replace or type(TASK_TYPES[name]) is type(instance)):
        del TASK_TYPES[name]  # the same type again (a reloaded module), or asked
    try:
        TASK_TYPES.register(name, instance)
    except ValueError:
        raise ValueError(f"a task type named {name!r} is registered already "
                         f"({type(TASK_TYPES[name]).__name__}); choose another name "
                         f"or pass replace=True.") from None
    return task_type


# Above this many labelled entries, a column of integer values with more
# distinct values than half its entries is taken for a continuous target:
# scikit-learn's check_classification_targets warns at the same point that
# such "classes" "could represent a regression problem".
_MANY_CLASSES_MIN_SAMPLES = 20


def _label_kind(column, name="column"):
    """What the labelled entries of ``column`` are, in the words of
    :func:`sklearn.utils.multiclass.type_of_target`: ``"binary"`` (at most
    two distinct values), ``"multiclass"`` (more, integers or strings) or
    ``"continuous"`` (floats that are not all integers, or integers with more
    distinct values than half the labelled entries, above 20 of them).
    """
    from sklearn.utils.multiclass import type_of_target

    column = np.asarray(column)
    labelled = column[~missing_mask(column)].ravel()
    if labelled.dtype == object:
        kinds = {type(v) for v in labelled}
        if all(issubclass(k, numbers.Number) and not issubclass(k, bool | np.bool_)
               for k in kinds):
            labelled = labelled.astype(np.float64)
        elif all(issubclass(k, str) for k in kinds):
            labelled = labelled.astype(str)
        elif all(issubclass(k, bool | np.bool_) for k in kinds):
            labelled = labelled.astype(bool)
        else:
            raise ValueError(
                f"{name} mixes label types {sorted(k.__name__ for k in kinds)}; "
                f"use all strings or all numbers, or declare its task with "
                f"Task(name, type).")
    kind = type_of_target(labelled)
    if (kind == "multiclass" and labelled.dtype.kind in "iuf"
            and labelled.size > _MANY_CLASSES_MIN_SAMPLES
            and np.unique(labelled).size > 0.5 * labelled.size):
        kind = "continuous"
    return kind


def _default_type(default_type, column, name="column"):
    """The name of the type that inference gives ``column``.

    ``default_type`` is a type name, an estimator type (``"regressor"``,
    ``"classifier"``: the type registered as its default) or ``"auto"``: the
    type whose ``inferred_from`` holds the kind of the column's labelled
    entries, as :func:`sklearn.utils.multiclass.type_of_target` names it
    (0/1 or two labels: binary; a few integers or strings: classification;
    floats: regression; see :func:`_label_kind`).
    """
    if default_type in TASK_TYPES:
        return default_type
    if default_type == "auto":
        kind = _label_kind(column, name)
        for name, task_type in TASK_TYPES.items():
            if kind in task_type.inferred_from:
                return name
        raise ValueError(f"no registered task type is inferred from labels of "
                         f"kind {kind!r}; declare the task with Task(name, type).")
    for name, task_type in TASK_TYPES.items():
        if task_type.default_for == default_type:
            return name
    raise ValueError(f"unknown default task type {default_type!r}; give a task type "
                     f"({sorted(TASK_TYPES)}), 'regressor', 'classifier' or 'auto'.")


class Task:
    """A learning task: a name, a type and its columns of ``Y``.

    Parameters
    ----------
    name : str
        Name of the task, used in messages, score tables and ``task_weights``.
    type : {"regression", "classification", "binary", "ranking", "count", \
"quantile", "ordinal"} or a registered name, default="regression"
        What the labels are and how the task is learned:

        - ``"regression"``: real values, squared error (or Huber) loss, R²;
        - ``"classification"``: one column of class labels, softmax
          cross-entropy, accuracy;
        - ``"binary"``: two-class labels, logistic loss, accuracy; several
          columns make a multilabel task;
        - ``"ranking"``: relevance labels ranked within groups (queries) or over
          the whole set, pairwise logistic loss, NDCG;
        - ``"count"``: non-negative counts, Poisson loss, D² Poisson;
        - ``"quantile"``: real values, several conditional quantiles at once
          (``quantiles``), non-crossing by construction, pinball loss, D²
          pinball; ``predict`` gives the quantile nearest the median,
          ``predict_quantiles`` all of them;
        - ``"ordinal"``: ordered class labels (``classes`` in their order),
          cumulative logits with ordered thresholds, accuracy (and the mean
          absolute error of the class ranks).

        A type defined in user code is used by name once registered
        (:func:`register_task_type`).
    n_outputs : int, default=1
        Number of columns of ``Y`` that belong to the task (e.g. 4 for a
        bounding box).
    loss : {"squared_error", "huber"}, default=None
        Regression loss; None means squared error.
    huber_delta : float, default=1.0
        Threshold of the Huber loss.
    classes : array-like, default=None
        Every class of a classification, binary or ordinal task. By default
        the classes are those seen in the training labels (sorted). For an
        ordinal task the order given is the order of the classes (needed for
        labels that are not numbers).
    group : str, default=None
        For ranking tasks: the name of the query ids passed as ``groups``; items
        are ranked within a query. None ranks over the whole set (or batch).
    quantiles : sequence of float, default=None
        For quantile tasks: the levels in (0, 1) to predict, increasing;
        None is ``(0.1, 0.5, 0.9)``.
    given : str or (str, label), default=None
        The parent task this task depends on: the task is defined where the
        parent's event happened (a purchase only after a click). A name
        (``given="click"``) is the parent's positive class, for a two-class
        parent; ``given=("rating", 5)`` names the class of a classification
        parent. Chains of any depth (``cart`` given ``click``, ``purchase``
        given ``cart``) and several children per parent work. Where the
        parent path did not happen, the task's label is "not applicable":
        leave it ``NaN`` (or give the implied label, the negative class for
        a binary task and 0 for regression and count; any other label there
        is an error). A binary child is trained on the entire space (the
        joint ``P(parent path) * P(task | parent)`` against ``parent and
        task`` on every row where it is known, as ESMM), a regression or
        count child as a hurdle (its own loss where the parent happened;
        joint prediction ``P(parent path) * E[y | parent]``); see the user
        guide "Funnels and dependent tasks". ``predict_proba`` and
        ``predict`` give the conditional prediction, ``funnel="joint"`` the
        joint one.
    conditional_weight : float, default=0.0
        For a binary task with ``given``: weight of its conditional log-loss
        (on the rows where the parent happened) added to the entire-space
        loss.
    counterfactual : {None, "ips", "dr"}, default=None
        For a binary task with ``given`` and a ``conditional_weight``:
        ``"ips"`` makes the conditional term ESCM²'s counterfactual risk,
        the conditional log-loss ``e_i`` of the rows where the parent path
        happened (``o_i = 1``) divided by their predicted probability
        ``p_i`` of it (inverse propensity), averaged over the entire space
        (Wang et al., SIGIR 2022): ``mean_i o_i e_i / p_i``. ``"dr"``
        makes it their doubly robust risk, which adds an imputation output
        ``e~_i`` (a second raw output of the task, predicting the error on
        every impression): ``mean_i [e~_i + o_i (e_i - e~_i) / p_i]`` plus
        the imputation loss ``mean_i o_i (e_i - e~_i)^2 / p_i``; ``p_i``
        has no gradient, the risk sees ``e~_i`` without gradient and the
        imputation loss ``e_i`` without gradient.

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

    # for tasks pickled before the options existed
    quantiles = None
    given = None
    conditional_weight = 0.0
    counterfactual = None

    def __init__(self, name, type="regression", n_outputs=1, *, loss=None,
                 huber_delta=1.0, classes=None, group=None, quantiles=None,
                 given=None, conditional_weight=0.0, counterfactual=None):
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
        self.quantiles = None if quantiles is None else tuple(quantiles)
        self.given = _check_given(name, given)
        self.conditional_weight = conditional_weight
        self.counterfactual = counterfactual
        self.type_.check_options(self)
        _check_conditional_weight(self)

    @property
    def given_task(self):
        """Name of the parent task (``given``), or None."""
        return None if self.given is None else self.given[0]

    @property
    def given_event(self):
        """The parent's class this task depends on; None for the positive
        class of a two-class parent."""
        return None if self.given is None else self.given[1]

    @property
    def type_(self):
        return TASK_TYPES[self.type]

    @property
    def is_classification(self):
        """True for task types with class labels (classifier types:
        classification, binary, ordinal)."""
        return self.type_.estimator_type == "classifier"

    def _spec(self):
        return (self.name, self.type, self.n_outputs, self.loss, self.huber_delta,
                None if self.classes is None else tuple(self.classes), self.group,
                self.quantiles, self.given, self.conditional_weight,
                self.counterfactual)

    def __eq__(self, other):
        return isinstance(other, Task) and self._spec() == other._spec()

    def __hash__(self):
        return hash(self._spec())

    def __repr__(self):
        args = [repr(self.name), repr(self.type)]
        if self.n_outputs != 1:
            args.append(f"n_outputs={self.n_outputs}")
        for option, default in (("loss", None), ("huber_delta", 1.0),
                                ("classes", None), ("group", None),
                                ("quantiles", None), ("given", None),
                                ("conditional_weight", 0.0),
                                ("counterfactual", None)):
            value = getattr(self, option)
            if option == "given" and value is not None and value[1] is None:
                value = value[0]
            if value != default:
                args.append(f"{option}={value!r}")
        classes = getattr(self, "classes_", None)
        if classes is not None and self.classes is None:
            # a fitted task shows the classes it learned
            args.append(f"classes_={_short_list(classes)}")
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

    def predict_quantiles(self, raw):
        """Per-column quantiles from raw outputs (None if the task's type
        predicts none)."""
        return self.type_.predict_quantiles(self, raw)

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


def _check_given(name, given):
    """``given`` as ``(parent name, event or None)``, or None."""
    if given is None:
        return None
    if isinstance(given, str):
        parent, event = given, None
    elif isinstance(given, tuple | list) and len(given) == 2 \
            and isinstance(given[0], str):
        parent, event = given
        if event is None:
            raise ValueError(f"task {name!r}: given={given!r} names no class; "
                             f"give the parent's name alone for its positive "
                             f"class.")
        if isinstance(event, np.generic):
            event = event.item()
    else:
        raise ValueError(f"task {name!r}: given={given!r} must be the parent "
                         f"task's name or a (name, class) pair, e.g. "
                         f"given='click' or given=('rating', 5).")
    if not parent:
        raise ValueError(f"task {name!r}: given names an empty parent task.")
    if parent == name:
        raise ValueError(f"task {name!r} cannot depend on itself (given="
                         f"{given!r}).")
    return (parent, event)


def _check_conditional_weight(task):
    weight = task.conditional_weight
    if (not isinstance(weight, numbers.Real) or isinstance(weight, bool)
            or not np.isfinite(weight) or weight < 0):
        raise ValueError(f"task {task.name!r}: conditional_weight must be a finite "
                         f"number >= 0, got {weight!r}.")
    if weight and (task.given is None
                   or task.type_.given_form != "entire_space"):
        raise ValueError(
            f"task {task.name!r}: conditional_weight adds the conditional loss to "
            f"the entire-space loss of a dependent task (given=) whose type trains "
            f"on the entire space; a {task.type} task "
            + ("without given= has only its own loss." if task.given is None
               else "is trained on the conditional loss alone."))
    if task.counterfactual not in (None, "ips", "dr"):
        raise ValueError(f"task {task.name!r}: counterfactual must be None, "
                         f"'ips' or 'dr', got {task.counterfactual!r}.")
    if task.counterfactual == "dr" and task.n_outputs != 1:
        raise ValueError(f"task {task.name!r}: counterfactual='dr' adds one "
                         f"imputation output to a one-column task, got "
                         f"n_outputs={task.n_outputs}.")
    if task.counterfactual is not None and not weight:
        raise ValueError(f"task {task.name!r}: counterfactual={task.counterfactual!r} "
                         f"weighs the conditional term of the loss; give it a "
                         f"conditional_weight > 0 (ESCM² uses about 0.5).")


def infer_tasks(Y, default_type="regressor", names=None):
    """One task per column of ``Y``.

    Parameters
    ----------
    Y : ndarray of shape (n_samples, n_outputs)
        Targets, NaN (or None) where a label is missing.
    default_type : str, default="regressor"
        Type given to every column: a task type's name, or ``"regressor"`` /
        ``"classifier"`` for the type registered as the default of that
        estimator type (regression, classification), or ``"auto"``, which
        infers each column's type from its labelled entries as
        :func:`sklearn.utils.multiclass.type_of_target` does: two distinct
        values (0/1, two strings) make a binary task, more integers or
        strings a classification task, floats a regression task. Integers
        with more distinct values than half the labelled entries (above 20
        entries) count as floats, where scikit-learn warns that such
        "classes" could be a regression target.
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
    return [Task(str(names[j]), _default_type(default_type, Y[:, j],
                                              name=f"column {str(names[j])!r}"))
            for j in range(n_outputs)]


def resolve_tasks(tasks, Y, default_type="regressor", names=None):
    """Match task specifications to the columns of ``Y`` and fit their encodings.

    Checks that the widths add up, that every task has at least one label, that
    no label is infinite, that each task's labels suit its type, and that the
    dependencies (``given=``) name known tasks without a cycle and that no
    dependent task is labelled where its parent path did not happen (other
    than with its implied label); raises a ``ValueError`` naming the task (and
    the first rows) otherwise.

    Parameters
    ----------
    tasks : list of Task, Task or None
        None infers one task per column (see :func:`infer_tasks`).
    Y : ndarray of shape (n_samples, n_outputs)
        Targets with NaN (or None) for missing labels.
    default_type : str, default="regressor"
        Type of inferred tasks (see :func:`infer_tasks`).
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
    if any(task.given is not None for task in fitted):
        from ._dependencies import check_dependencies

        check_dependencies(fitted, Y)
    return fitted
