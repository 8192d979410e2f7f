"""Per-task score tables and multi-task scorers for model selection."""

import numpy as np
from sklearn.base import is_classifier

from .._dependencies import TaskGraph, check_funnel, funnel_targets
from ..tasks import Task, infer_tasks, missing_mask, resolve_tasks
from ..utils._targets import (
    check_targets,
    column_order,
    resolve_task_weights,
    target_names,
)
from ._masked import get_metric, score_column

__all__ = ["per_task_scores", "make_multitask_scorer", "make_per_task_scorers",
           "funnel_targets"]


def _task_columns(tasks, n_outputs):
    """(task, column indices) pairs for fitted or plain task specifications."""
    if isinstance(tasks, Task):
        tasks = [tasks]
    tasks = list(tasks)
    width = sum(t.n_outputs for t in tasks)
    if width != n_outputs:
        described = ", ".join(f"{t.name}: {t.n_outputs}" for t in tasks)
        raise ValueError(f"Y has {n_outputs} column(s) but the tasks describe "
                         f"{width} ({described}).")
    pairs, start = [], 0
    for task in tasks:
        columns = getattr(task, "columns_", None)
        if columns is None:
            columns = np.arange(start, start + task.n_outputs)
        pairs.append((task, np.asarray(columns)))
        start += task.n_outputs
    return pairs


# What a metric's response needs: the argument of per_task_scores that holds
# it, the estimator method that gives it, and its description for messages.
_RESPONSES = {"proba": ("Y_proba", "predict_proba", "class probabilities"),
              "quantiles": ("Y_quantiles", "predict_quantiles", "quantiles")}


def _task_classes(task, Y_block):
    """Classes the probability columns of a task follow."""
    return _task_labels(task, Y_block, "classes_")


def _task_labels(task, Y_block, attribute):
    """The fitted attribute (``classes_``, ``quantiles_``) of a task that a
    metric needs, fitted on ``Y_block`` when the task is not fitted."""
    if hasattr(task, attribute):
        return getattr(task, attribute)
    return task.type_.fit_encoding(task, Y_block)[attribute]


def _metrics_for(task, metric):
    if metric is None:
        return [task.type_.default_metric]
    if isinstance(metric, dict):
        chosen = metric.get(task.name, metric.get(task.type))
        if chosen is None:
            return [task.type_.default_metric]
        metric = chosen
    if isinstance(metric, str):
        return [metric]
    return list(metric)


def per_task_scores(Y_true, Y_pred, tasks=None, metric=None, *, Y_proba=None,
                    Y_quantiles=None, groups=None, sample_weight=None,
                    funnel="conditional", as_frame="auto"):
    """Score every task on its labelled entries and return a table.

    Parameters
    ----------
    Y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        True labels, ``NaN`` (or None) where missing. The columns of a
        DataFrame are matched to ``tasks`` by name (and name the tasks when
        ``tasks`` is None).
    Y_pred : array-like of the same shape
        Predictions in label space (``estimator.predict(X)``, in task order;
        a DataFrame is matched by column name too).
    tasks : list of Task, default=None
        Tasks of the columns (fitted tasks of an estimator, ``est.tasks_``, carry
        their classes). None makes one task per column, its type inferred
        from its labels as for ``MultiTaskEstimator(tasks=None)``.
    metric : str, list of str or dict, default=None
        None uses each task type's default metric (R², accuracy, NDCG, D²
        Poisson). A name (see :data:`skmtl.metrics.METRICS`, ``"neg_"`` for
        negated losses) applies to every task; a dict maps task names or task
        types to metric names.
    Y_proba : ndarray or list of ndarray, default=None
        Class probabilities (``estimator.predict_proba(X)``): one array per
        column of ``Y``, None for non-probabilistic columns. Needed by
        ``log_loss`` and ``roc_auc``.
    Y_quantiles : ndarray or list of ndarray, default=None
        Predicted quantiles (``estimator.predict_quantiles(X)``): one array
        ``(n_samples, n_quantiles)`` per column of ``Y``, None for the
        columns of other task types. Needed by ``d2_pinball`` and
        ``mean_pinball_loss`` (the metrics of quantile tasks).
    groups : array-like of shape (n_samples,), default=None
        Query ids for ranking tasks.
    sample_weight : array-like of shape (n_samples,), default=None
    funnel : {"conditional", "joint"}, default="conditional"
        What the predictions of the tasks that depend on another
        (``Task(..., given=parent)``) are and what they are scored against:
        ``"conditional"`` scores ``P(task | parent)`` (``predict_proba(X)``)
        on the rows where the parent path happened; ``"joint"`` scores
        ``P(parent path and task)`` or the hurdle mean
        (``predict_proba(X, funnel="joint")``) on every row where the joint
        label is known, the label being implied (the negative class, 0)
        where the parent path did not happen (see :func:`funnel_targets`).
        Tasks without parent are scored alike by both.
    as_frame : bool or "auto", default="auto"
        Return a pandas DataFrame (``"auto"``: when pandas is installed) or a
        dict of arrays.

    Returns
    -------
    table : DataFrame or dict of ndarray
        One row per (task, metric): ``task``, ``type``, ``metric``, ``score``
        (mean over the task's columns) and ``n_labelled`` (labelled entries).

    Raises
    ------
    ValueError
        If a classification task's labels hold a class the tasks were not
        fitted with, or if the widths do not match.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl import Task
    >>> from skmtl.metrics import per_task_scores
    >>> Y_true = np.array([[1.0, 0], [2.0, 1], [np.nan, 1]])
    >>> Y_pred = np.array([[1.0, 0], [3.0, 0], [5.0, 1]])
    >>> table = per_task_scores(Y_true, Y_pred, [Task("a"), Task("b", "binary")],
    ...                         as_frame=False)
    >>> table["score"]
    array([-1.        ,  0.66666667])
    """
    Y_true, names, _ = check_targets(Y_true, tasks=tasks)
    if target_names(Y_pred) is not None:
        Y_pred = _aligned_like(Y_pred, names if tasks is None else tasks)
    Y_pred = np.asarray(Y_pred)
    if Y_pred.ndim == 1:
        Y_pred = Y_pred[:, None]
    if Y_pred.shape != Y_true.shape:
        raise ValueError(f"Y_true has shape {Y_true.shape} but Y_pred has shape "
                         f"{Y_pred.shape}.")
    check_funnel(funnel)
    if tasks is None:
        tasks = infer_tasks(Y_true, default_type="auto", names=names)
    Y_true, tasks = _funnel_labels(Y_true, tasks, funnel)
    given = {"proba": Y_proba, "quantiles": Y_quantiles}
    for response, values in given.items():
        if values is not None and not isinstance(values, list):
            given[response] = [values]
    rows = {"task": [], "type": [], "metric": [], "score": [], "n_labelled": []}
    for task, columns in _task_columns(tasks, Y_true.shape[1]):
        block = Y_true[:, columns]
        if hasattr(task, "classes_") and task.is_classification:
            task.encode(block)  # raises, naming the task, on an unseen class
        n_labelled = int((~missing_mask(block)).sum())
        for name in _metrics_for(task, metric):
            m, _ = get_metric(name)
            values = []
            labels = None if m.labels is None else _task_labels(task, block,
                                                                m.labels)
            for j in columns:
                if m.response in _RESPONSES:
                    argument, method, what = _RESPONSES[m.response]
                    response = given[m.response]
                    if response is None or response[j] is None:
                        raise ValueError(
                            f"metric {name!r} of task {task.name!r} needs {what}: "
                            f"pass {argument}=estimator.{method}(X).")
                    prediction = np.asarray(response[j])
                else:
                    prediction = Y_pred[:, j]
                try:
                    values.append(score_column(name, Y_true[:, j], prediction,
                                               sample_weight=sample_weight,
                                               classes=labels, groups=groups))
                except ValueError as exc:
                    if f"task {task.name!r}" in str(exc):
                        raise
                    raise ValueError(f"task {task.name!r}: {exc}") from exc
            values = np.asarray(values, dtype=float)
            score = np.nan if np.all(np.isnan(values)) else float(np.nanmean(values))
            rows["task"].append(task.name)
            rows["type"].append(task.type)
            rows["metric"].append(name)
            rows["score"].append(score)
            rows["n_labelled"].append(n_labelled)
    return _as_table(rows, as_frame)


def _funnel_labels(Y_true, tasks, funnel):
    """The labels the ``funnel`` predictions of dependent tasks are scored on,
    and the tasks (fitted on ``Y_true`` when they were not)."""
    listed = [tasks] if isinstance(tasks, Task) else list(tasks)
    if all(task.given is None for task in listed):
        return Y_true, tasks
    if not all(hasattr(task, "columns_") for task in listed):
        listed = resolve_tasks(listed, Y_true)
    return TaskGraph(listed).targets(Y_true, funnel), listed


def _aligned_like(Y_pred, reference):
    """A DataFrame ``Y_pred`` with its columns in the order of ``reference``
    (the tasks, or the column names of ``Y_true``)."""
    if reference is None:
        return Y_pred
    if isinstance(reference, Task):
        reference = [reference]
    if all(isinstance(r, str) for r in reference):
        if list(Y_pred.columns) != list(reference):
            missing = sorted(set(reference) - set(Y_pred.columns))
            if missing:
                raise ValueError(f"Y_pred has no column {missing}; its columns are "
                                 f"{list(Y_pred.columns)}.")
            Y_pred = Y_pred[list(reference)]
        return Y_pred
    order = column_order(target_names(Y_pred), reference)
    return Y_pred if order is None else Y_pred.iloc[:, order]


def _as_table(rows, as_frame):
    table = {k: np.asarray(v, dtype=float if k == "score" else None)
             for k, v in rows.items()}
    if as_frame == "auto":
        try:
            import pandas  # noqa: F401
        except ImportError:
            as_frame = False
        else:
            as_frame = True
    if as_frame:
        import pandas as pd

        return pd.DataFrame(table)
    return table


def _final_estimator(estimator):
    for attr in ("best_estimator_", "_final_estimator"):
        inner = getattr(estimator, attr, None)
        if inner is not None and inner is not estimator:
            return _final_estimator(inner)
    return estimator


def _fitted_tasks(estimator, Y):
    """``Y`` as a checked array, and the fitted tasks of the estimator (its
    columns matched to them by name) or tasks inferred from ``Y``."""
    final = _final_estimator(estimator)
    tasks = getattr(final, "tasks_", None)
    Y, names, _ = check_targets(Y, tasks=tasks)
    if tasks is not None:
        return Y, tasks
    default = "classifier" if is_classifier(final) else "auto"
    return Y, infer_tasks(Y, default_type=default, names=names)


def _predict(estimator, X, method, funnel):
    """``estimator.<method>(X)``, with ``funnel=`` unless it is conditional
    (the default of every estimator)."""
    if funnel == "conditional":
        return getattr(estimator, method)(X)
    try:
        return getattr(estimator, method)(X, funnel=funnel)
    except TypeError as exc:
        if "funnel" not in str(exc):
            raise
        raise ValueError(f"funnel={funnel!r} scores joint predictions, but "
                         f"{type(estimator).__name__}.{method} takes no funnel= "
                         f"(the neural estimators do).") from None


def _response_columns(estimator, X, method, n_outputs, funnel="conditional"):
    """``estimator.<method>(X)`` as one entry per column of ``Y``."""
    if not hasattr(estimator, method):
        raise ValueError(f"{type(estimator).__name__} has no {method}(), which the "
                         f"metrics of its tasks need.")
    values = _predict(estimator, X, method, funnel)
    if not isinstance(values, list):
        values = [values]
    if len(values) != n_outputs:
        raise ValueError(f"{method} returned {len(values)} arrays for "
                         f"{n_outputs} columns of Y.")
    return values


def _proba_columns(estimator, X, tasks, n_outputs, funnel="conditional"):
    proba = _response_columns(estimator, X, "predict_proba", n_outputs, funnel)
    final = _final_estimator(estimator)
    classes = getattr(final, "classes_", None)
    if classes is not None and not hasattr(final, "tasks_"):
        # A plain scikit-learn classifier: attach its classes to inferred tasks.
        classes = classes if isinstance(classes, list) else [classes]
        for task, c in zip(tasks, classes):
            task.classes_ = np.asarray(c)
    return proba


class _MultiTaskScorer:
    """Callable ``scorer(estimator, X, Y)`` over NaN-masked multi-task targets."""

    funnel = "conditional"  # for scorers pickled before the option existed

    def __init__(self, metric, aggregate, task_weights, task, funnel="conditional"):
        self.metric = metric
        self.aggregate = aggregate
        self.task_weights = task_weights
        self.task = task
        self.funnel = funnel
        self._score_request = {}

    def set_score_request(self, **requests):
        """Ask ``cross_validate`` and the searches for ``groups`` or weights.

        With metadata routing enabled
        (``sklearn.set_config(enable_metadata_routing=True)``),
        ``scorer.set_score_request(groups=True)`` makes ``cross_validate(...,
        params={"groups": ids})`` and ``GridSearchCV.fit(X, Y, groups=ids)``
        pass each test fold's ``groups`` to the scorer, as the metrics that
        score within users or queries (``"gauc"``, ``"ndcg"``) need. Without
        a request the scorer receives neither (scikit-learn's default).

        Parameters
        ----------
        **requests : {True, False, None} or str
            ``groups=`` and ``sample_weight=``: True to receive the metadata
            of that name, a string to receive the metadata passed under that
            name (an alias), False or None not to receive it.

        Returns
        -------
        self : scorer
        """
        import sklearn

        if not sklearn.get_config()["enable_metadata_routing"]:
            raise RuntimeError("set_score_request needs metadata routing: call "
                               "sklearn.set_config(enable_metadata_routing=True) "
                               "first.")
        unknown = set(requests) - {"groups", "sample_weight"}
        if unknown:
            raise ValueError(f"the scorer takes groups and sample_weight; got "
                             f"{sorted(unknown)}.")
        self._score_request.update(requests)
        return self

    def get_metadata_routing(self):
        """The metadata this scorer requests (see :meth:`set_score_request`).

        Returns
        -------
        routing : sklearn.utils.metadata_routing.MetadataRequest
        """
        from sklearn.utils.metadata_routing import MetadataRequest

        request = MetadataRequest(owner=self)
        for param, alias in self._score_request.items():
            request.score.add_request(param=param, alias=alias)
        return request

    def __repr__(self):
        args = [f"metric={self.metric!r}"]
        if self.task is not None:
            args.append(f"task={self.task!r}")
        else:
            args.append(f"aggregate={self.aggregate!r}")
        if self.task_weights is not None:
            args.append(f"task_weights={self.task_weights!r}")
        if self.funnel != "conditional":
            args.append(f"funnel={self.funnel!r}")
        return f"make_multitask_scorer({', '.join(args)})"

    def _needs(self, tasks, response):
        return any(get_metric(name)[0].response == response
                   for task in tasks for name in _metrics_for(task, self.metric))

    def table(self, estimator, X, Y, sample_weight=None, groups=None):
        """The per-task score table this scorer aggregates.

        Asks the estimator for what the metrics need: ``predict``, and
        ``predict_proba`` or ``predict_quantiles`` when a metric scores
        class probabilities or quantiles (with ``funnel="joint"``, the joint
        ``predict`` and ``predict_proba``).
        """
        Y_true, tasks = _fitted_tasks(estimator, Y)
        Y_pred = _predict(estimator, X, "predict", self.funnel)
        Y_proba = Y_quantiles = None
        if self._needs(tasks, "proba"):
            Y_proba = _proba_columns(estimator, X, tasks, Y_true.shape[1],
                                     self.funnel)
        if self._needs(tasks, "quantiles"):
            Y_quantiles = _response_columns(estimator, X, "predict_quantiles",
                                            Y_true.shape[1])
        return per_task_scores(Y_true, Y_pred, tasks, self.metric, Y_proba=Y_proba,
                               Y_quantiles=Y_quantiles, groups=groups,
                               sample_weight=sample_weight, funnel=self.funnel,
                               as_frame=False), tasks

    def __call__(self, estimator, X, Y, sample_weight=None, groups=None):
        table, tasks = self.table(estimator, X, Y, sample_weight, groups)
        scores = table["score"]
        # Losses are negated; a figure that is neither a score nor a loss
        # (greater_is_better None, the calibration ratio) is returned as is.
        signs = np.array([-1.0 if get_metric(m)[0].greater_is_better is False
                          and not m.startswith("neg_") else 1.0
                          for m in table["metric"]])
        scores = scores * signs
        if self.task is not None:
            if self.task not in set(table["task"]):
                raise ValueError(f"scorer for task {self.task!r}: no such task; the "
                                 f"tasks are {[t.name for t in tasks]}.")
            return float(np.nanmean(scores[table["task"] == self.task]))
        keep = ~np.isnan(scores)
        if not keep.any():
            return np.nan
        if self.aggregate == "mean":
            return float(np.mean(scores[keep]))
        weights_source = self.task_weights
        if weights_source is None:
            weights_source = getattr(_final_estimator(estimator), "task_weights", None)
        weights = resolve_task_weights(weights_source, tasks)
        names = [t.name for t in tasks]
        per_row = weights[[names.index(n) for n in table["task"]]]
        if not per_row[keep].any():
            return np.nan
        return float(np.average(scores[keep], weights=per_row[keep]))


def make_multitask_scorer(metric=None, *, aggregate="mean", task_weights=None,
                          task=None, funnel="conditional"):
    """A scorer for ``cross_validate`` and ``GridSearchCV`` on NaN-masked ``Y``.

    The plain ``"r2"`` or ``"accuracy"`` scorer strings score every column on
    every row, so with missing labels they fail or give wrong numbers; this
    scorer scores each task on its labelled entries and combines the tasks.

    Parameters
    ----------
    metric : str, list of str or dict, default=None
        Per-task metric, as in :func:`per_task_scores`. Losses are negated so
        that greater is always better (``"mean_squared_error"`` and
        ``"neg_mean_squared_error"`` both score ``-MSE``).
    aggregate : {"mean", "weighted"}, default="mean"
        Combine tasks by their plain mean or by a task-weighted mean.
    task_weights : sequence or dict, default=None
        Weights for ``aggregate="weighted"``; None takes the estimator's
        ``task_weights`` parameter (all ones when it has none).
    task : str, default=None
        Score only this task (e.g. one entry of ``cross_validate(scoring={...})``).
    funnel : {"conditional", "joint"}, default="conditional"
        For the tasks that depend on another (``Task(..., given=parent)``):
        ``"conditional"`` scores ``predict_proba(X)`` / ``predict(X)``, the
        prediction given the parent path, on the rows where the parent path
        happened; ``"joint"`` scores ``predict_proba(X, funnel="joint")`` /
        ``predict(X, funnel="joint")`` (``P(click and purchase)``, the hurdle
        mean) on every row where the joint label is known (see
        :func:`per_task_scores`). Tasks without parent score alike.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, Y, sample_weight=None, groups=None) -> float``.
        The metrics that score within users or queries (``"gauc"``,
        ``"ndcg"``) read ``groups``; ``cross_validate`` and the searches pass
        it only through metadata routing, after
        ``scorer.set_score_request(groups=True)``.

    See Also
    --------
    make_per_task_scorers : One scorer per task, for ``cross_validate``.

    Notes
    -----
    The default (``metric=None``) scores each task by its type's default
    metric (R² for regression, accuracy for classification) and averages
    them. Accuracy lies in [0, 1] but R² has no lower bound, so on mixed
    tasks one poorly fitted regression task (R² of -5, say) outweighs every
    classification task in the mean, and a search that maximizes it chases
    that task. Where that is not what you want, score the tasks separately
    (:func:`make_per_task_scorers` and ``refit=`` a chosen one), or pass
    ``aggregate="weighted"`` with ``task_weights`` that set how much each
    task counts.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.model_selection import cross_val_score
    >>> from skmtl import SingleTaskBaseline
    >>> from skmtl.metrics import make_multitask_scorer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(60, 3)
    >>> Y = X @ rng.randn(3, 2)
    >>> Y[::3, 0] = np.nan
    >>> scores = cross_val_score(SingleTaskBaseline(Ridge(alpha=1e-6)), X, Y,
    ...                          scoring=make_multitask_scorer("r2"), cv=3)
    >>> bool(np.all(scores > 0.99))
    True
    """
    if aggregate not in ("mean", "weighted"):
        raise ValueError(f"aggregate must be 'mean' or 'weighted', got "
                         f"{aggregate!r}.")
    if isinstance(metric, str):
        get_metric(metric)
    check_funnel(funnel)
    return _MultiTaskScorer(metric, aggregate, task_weights, task, funnel)


def make_per_task_scorers(task_names, metric=None, *, funnel="conditional"):
    """One scorer per task, as a dict for ``cross_validate(scoring=...)``.

    Parameters
    ----------
    task_names : list of str or list of Task
    metric : str, list of str or dict, default=None
        As in :func:`make_multitask_scorer`.
    funnel : {"conditional", "joint"}, default="conditional"
        As in :func:`make_multitask_scorer`.

    Returns
    -------
    scorers : dict
        ``{task_name: scorer}``, plus ``"mean"`` for the task-averaged score.
    """
    names = [t.name if isinstance(t, Task) else str(t) for t in task_names]
    scorers = {name: make_multitask_scorer(metric, task=name, funnel=funnel)
               for name in names}
    scorers["mean"] = make_multitask_scorer(metric, funnel=funnel)
    return scorers
