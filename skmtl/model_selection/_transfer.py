"""Transfer report: does training the tasks together help each of them?"""

import copy
import warnings
from dataclasses import dataclass, field

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone, is_classifier
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import _num_samples

from ..base import check_targets
from ..metrics import make_multitask_scorer
from ..metrics._scorer import _as_table
from ..tasks import missing_mask, resolve_tasks
from ..utils._validation import check_folds

__all__ = ["transfer_report", "TransferReport", "default_baselines"]


def final_step(estimator):
    """The estimator that learns the tasks, and the prefix of its parameters.

    The last step of a :class:`~sklearn.pipeline.Pipeline` (of nested
    pipelines too), whose ``tasks`` parameter is ``<step>__tasks``; the
    estimator itself (prefix ``""``) otherwise.
    """
    prefix = ""
    while hasattr(estimator, "steps"):
        name, estimator = estimator.steps[-1]
        prefix += f"{name}__"
    return estimator, prefix


def with_final_step(estimator, step):
    """``estimator`` with ``step`` in place of the estimator that learns the
    tasks: a copy of the Pipeline with its last step replaced (the same
    preprocessing in front of a baseline), or ``step`` itself."""
    _, prefix = final_step(estimator)
    if not prefix:
        return step
    return clone(estimator).set_params(**{prefix[:-2]: step})


def declared_tasks(estimator):
    """The ``tasks`` parameter of the estimator (of a Pipeline's last step)."""
    return getattr(final_step(estimator)[0], "tasks", None)


def _pooled_models(fitted, models):
    """``{key: model}`` for a pooled baseline of tasks whose baseline models
    differ: the tasks of one estimator type (all classifier tasks, all
    regressor tasks) share a pooled model when their baseline models agree
    (and, for class labels, the labels are all numbers or all strings);
    otherwise one pooled model per task type (a task whose model differs
    from the one of its type, e.g. other quantile levels, gets its own)."""
    by_kind = {}
    for task, model in zip(fitted, models, strict=True):
        by_kind.setdefault(task.type_.estimator_type, []).append((task, model))
    pools = {}
    for kind, members in by_kind.items():
        label_kinds = {np.asarray(task.classes_).dtype.kind in "US"
                       for task, _ in members if hasattr(task, "classes_")}
        if len({repr(model) for _, model in members}) == 1 and len(label_kinds) <= 1:
            pools[kind] = members[0][1]
            continue
        for task, model in members:
            key = task.type
            if key in pools and repr(pools[key]) != repr(model):
                key = task.name
            pools.setdefault(key, model)
    return pools


def default_baselines(estimator, Y, tasks=None):
    """The single-task and pooled baselines used when none are given.

    Each task type's ``baseline_estimator`` (ridge regression, ``RidgeCV``,
    for regression, count and ranking tasks; logistic regression for
    classification, binary and ordinal tasks; linear quantile regression for
    quantile tasks), one model per task (:class:`~skmtl.SingleTaskBaseline`),
    and one model for all tasks with task indicators
    (:class:`~skmtl.PooledBaseline`); with tasks whose baseline models
    differ, one pooled model per estimator type (the classifier tasks
    together, the regressor tasks together) where their models agree, else
    per task type.

    Parameters
    ----------
    estimator : estimator
        The multi-task model (or a Pipeline ending in one); its estimator
        type (classifier or not) and its ``tasks`` parameter decide the task
        types when ``tasks`` is None.
    Y : array-like of shape (n_samples, n_outputs)
        Targets, ``NaN`` where missing.
    tasks : list of Task, default=None
        Task of each column of ``Y``.

    Returns
    -------
    single_task : estimator
    pooled : estimator
        A :class:`~skmtl.PooledBaseline`: of one model, or of a dict
        ``{"classifier": model, "regressor": model}`` (or keyed by task
        type) for mixed task types.
    """
    from ..baselines import PooledBaseline, SingleTaskBaseline

    tasks = tasks if tasks is not None else declared_tasks(estimator)
    default = "classifier" if is_classifier(estimator) else "auto"
    Y, names, _ = check_targets(Y, tasks=tasks)
    fitted = resolve_tasks(tasks, Y, default_type=default, names=names)
    models = [task.type_.baseline_estimator(task) for task in fitted]
    if len({repr(model) for model in models}) == 1:
        single = pooled = models[0]
    else:
        single = {task.name: model for task, model in zip(fitted, models)}
        pooled = _pooled_models(fitted, models)
    if tasks is None:
        # the tasks inferred here, so that every fold infers the same ones
        tasks = [_declared(task) for task in fitted]
    return (SingleTaskBaseline(single, tasks=tasks),
            PooledBaseline(pooled, tasks=tasks, task_indicators=True))


def _declared(task):
    """A fitted task as the specification it was fitted from (its type fixed,
    so that a fold whose labels show fewer classes infers no other type)."""
    spec = copy.copy(task)
    for attr in [a for a in vars(spec) if a.endswith("_")]:
        delattr(spec, attr)
    return spec


@dataclass
class TransferReport:
    """Cross-validated per-task scores of a multi-task model and its baselines.

    Attributes
    ----------
    tasks : list of str
        Task names.
    metrics : list of str
        Metric of each task.
    fold_scores : dict of ndarray
        ``{model name: (n_folds, n_tasks) test scores}``; NaN where a fold has
        no label of a task. Model names are ``"multitask"``, ``"single_task"``
        and ``"pooled"`` (when computed).
    difference : ndarray of shape (n_tasks,)
        Mean over folds of multi-task minus single-task score (greater is
        better for every metric, losses being negated).
    std_error : ndarray of shape (n_tasks,)
        Standard error of ``difference`` (corrected for overlapping training
        sets, see Notes of :func:`transfer_report`).
    negative_transfer : ndarray of bool
        Tasks where the multi-task model is worse than the single-task
        baseline by more than ``threshold`` standard errors.
    threshold : float
    """

    tasks: list
    metrics: list
    fold_scores: dict
    difference: np.ndarray
    std_error: np.ndarray
    negative_transfer: np.ndarray
    threshold: float
    test_fraction: float = field(default=0.0, repr=False)

    def mean_scores(self):
        """``{model name: per-task mean test score}``."""
        return {name: _nanmean(scores, axis=0)
                for name, scores in self.fold_scores.items()}

    def to_table(self, as_frame="auto"):
        """The report as a table: one row per task.

        Columns: ``task``, ``metric``, the mean score of each model,
        ``difference``, ``std_error`` and ``negative_transfer``.
        """
        rows = {"task": list(self.tasks), "metric": list(self.metrics)}
        for name, scores in self.mean_scores().items():
            rows[name] = list(scores)
        rows["difference"] = list(self.difference)
        rows["std_error"] = list(self.std_error)
        rows["negative_transfer"] = list(self.negative_transfer)
        table = {k: np.asarray(v) for k, v in rows.items()}
        return _as_table(table, as_frame)

    def __str__(self):
        means = self.mean_scores()
        width = max(8, *(len(t) for t in self.tasks))
        names = list(means)
        header = (f"{'task':<{width}}  " + "  ".join(f"{n:>11}" for n in names)
                  + f"  {'difference':>10}  {'std err':>8}  transfer")
        lines = [header, "-" * len(header)]
        for k, task in enumerate(self.tasks):
            verdict = ("negative" if self.negative_transfer[k] else
                       "positive" if self.difference[k] > self.threshold
                       * self.std_error[k] else "-")
            lines.append(f"{task:<{width}}  "
                         + "  ".join(f"{means[n][k]:>11.3f}" for n in names)
                         + f"  {self.difference[k]:>+10.3f}"
                         f"  {self.std_error[k]:>8.3f}  {verdict}")
        lines.append("-" * len(header))
        lines.append(f"{'mean':<{width}}  " + "  ".join(
            f"{np.nanmean(means[n]):>11.3f}" for n in names)
            + f"  {np.nanmean(self.difference):>+10.3f}")
        return "\n".join(lines)


def _splits(cv, X, Y, random_state):
    """Train/test splits; an int gives shuffled folds stratified by label pattern.

    Rows are grouped by which tasks they are labelled for, so that with
    different samples per task every task is split evenly across the folds
    (falling back to a shuffled ``KFold`` when a pattern has fewer rows than
    folds). A splitter's folds, or an iterable of ``(train, test)`` index
    pairs (as scikit-learn's ``cv=`` takes), are used as they are.
    """
    if not isinstance(cv, int | np.integer):
        if cv is None:
            cv = 5
        else:
            # precomputed folds are checked here (sklearn's check_cv would
            # fail on a malformed one with a bare TypeError)
            splits = cv.split(X, Y) if hasattr(cv, "split") else cv
            return check_folds(splits, Y.shape[0])
    observed = ~missing_mask(Y)
    _, pattern, counts = np.unique(observed, axis=0, return_inverse=True,
                                   return_counts=True)
    if counts.min() >= cv:
        splitter = StratifiedKFold(cv, shuffle=True, random_state=random_state)
        return list(splitter.split(X, pattern.ravel()))
    return list(KFold(cv, shuffle=True, random_state=random_state).split(X))


def _rows_of(X):
    """``X`` ready for row indexing: sparse as CSR, a DataFrame as it is,
    anything else an array."""
    if hasattr(X, "tocsr"):
        return X.tocsr()
    if hasattr(X, "iloc") or isinstance(X, dict):
        return X
    return np.asarray(X)


def _named(Y, names, estimator):
    """The tasks inferred from ``Y``, named after its columns (None without
    names, leaving the baselines to infer them)."""
    if names is None:
        return None
    default = "classifier" if is_classifier(estimator) else "auto"
    return [_declared(t) for t in resolve_tasks(None, Y, default_type=default,
                                                names=names)]


def _nanmean(a, axis):
    a = np.asarray(a, dtype=float)
    count = np.sum(~np.isnan(a), axis=axis)
    total = np.nansum(a, axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _greater_is_better_scores(table):
    from ..metrics import get_metric

    # A loss is negated; a figure that is neither a score nor a loss
    # (greater_is_better None, the calibration ratio) is kept as it is.
    signs = np.array([-1.0 if get_metric(m)[0].greater_is_better is False
                      and not m.startswith("neg_") else 1.0 for m in table["metric"]])
    return np.asarray(table["score"], dtype=float) * signs


def _fit_and_score(estimator, X, Y, train, test, metric, groups):
    # X keeps its type (a DataFrame stays one, for a ColumnTransformer that
    # selects columns by name); Y is the checked array, in task order.
    fitted = clone(estimator).fit(_safe_indexing(X, train), Y[train])
    # The scorer asks the model for what the metrics need (probabilities,
    # quantiles) besides predict.
    table, _ = make_multitask_scorer(metric).table(
        fitted, _safe_indexing(X, test), Y[test],
        groups=None if groups is None else groups[test])
    return _greater_is_better_scores(table), [str(m) for m in table["metric"]]


def transfer_report(estimator, X, y, *, baseline=None, pooled="auto", cv=5,
                    metric=None, groups=None, threshold=2.0, n_jobs=None,
                    random_state=0):
    """Compare a multi-task model with single-task training, task by task.

    Every model is fitted on the same cross-validation folds; each task is
    scored on the labelled entries of the test fold, and the per-fold
    difference between the multi-task model and the single-task baseline gives
    a mean gain and its standard error per task. A task whose score drops by
    more than ``threshold`` standard errors suffers **negative transfer**: it
    is better learned alone (or with other tasks).

    Parameters
    ----------
    estimator : estimator
        The multi-task model (any skmtl estimator, or a Pipeline ending in
        one: its tasks are read from the last step).
    X : array-like of shape (n_samples, n_features)
        A DataFrame stays a DataFrame in every fold (for a
        ``ColumnTransformer`` that selects columns by name); sparse matrices
        stay sparse.
    y : array-like of shape (n_samples, n_outputs)
        NaN-masked targets; a DataFrame's columns are matched to the tasks
        by name.
    baseline : estimator, default=None
        The single-task reference; None uses
        :func:`default_baselines` (one ridge / logistic model per task; on a
        Pipeline, the Pipeline with that baseline as its last step, so that
        it sees the same preprocessed features). Pass
        ``SingleTaskBaseline(your_model)`` for a like-for-like comparison.
    pooled : estimator, "auto" or None, default="auto"
        A pooled reference; "auto" uses :func:`default_baselines` (one
        pooled model for the regressor tasks and one for the classifier
        tasks when the kinds differ; behind the same preprocessing on a
        Pipeline), None skips it.
    cv : int, cross-validation splitter or iterable of (train, test), default=5
        An int gives *shuffled* folds, stratified by which tasks each row is
        labelled for: rows of stacked per-task data come grouped by task, so
        unshuffled folds would hold whole tasks out, and plain shuffling can
        leave a small task with one test row. A splitter is asked for its
        folds (``split(X, Y)``); precomputed folds, a list of ``(train,
        test)`` index pairs, are used as given.
    metric : str or dict, default=None
        Per-task metric as in :func:`~skmtl.metrics.per_task_scores`; losses
        are negated so that greater is always better.
    groups : array-like of shape (n_samples,), default=None
        Query ids of ranking tasks (used for scoring).
    threshold : float, default=2.0
        Standard errors below zero that flag negative transfer.
    n_jobs : int, default=None
        Fits run in parallel through joblib.
    random_state : int, default=0
        Seed of the shuffled folds when ``cv`` is an int.

    Returns
    -------
    report : TransferReport
        Per-fold scores, differences, standard errors and flags; ``print`` it
        or call ``report.to_table()``.

    Notes
    -----
    Cross-validation folds share training rows, so the plain standard error of
    the per-fold differences is too small. The corrected resampled variance of
    Nadeau & Bengio (2003), ``(1/J + n_test/n_train) * var(d)`` over ``J``
    folds, is used instead.

    Examples
    --------
    >>> from sklearn.linear_model import RidgeCV
    >>> from skmtl import PooledBaseline
    >>> from skmtl.datasets import make_multitask_regression
    >>> from skmtl.model_selection import transfer_report
    >>> X, Y = make_multitask_regression(n_tasks=3, samples_per_task=30,
    ...                                  task_similarity=1.0, random_state=0)
    >>> report = transfer_report(PooledBaseline(RidgeCV()), X, Y, pooled=None)
    >>> report.tasks
    ['task_0', 'task_1', 'task_2']
    >>> bool(report.difference.mean() > 0)  # identical tasks: pooling helps
    True
    """
    declared = declared_tasks(estimator)
    Y, names, _ = check_targets(y, tasks=declared)
    X = _rows_of(X)
    if _num_samples(X) != Y.shape[0]:
        raise ValueError(f"X has {_num_samples(X)} rows but y has {Y.shape[0]}.")
    default_single, default_pooled = default_baselines(
        estimator, Y, tasks=declared if declared is not None else
        _named(Y, names, estimator))
    # on a Pipeline the default baselines get the same preprocessing
    models = {"multitask": estimator,
              "single_task": with_final_step(estimator, default_single)
              if baseline is None else baseline}
    if isinstance(pooled, str) and pooled == "auto":
        pooled = with_final_step(estimator, default_pooled)
    if pooled is not None:
        models["pooled"] = pooled
    groups = None if groups is None else np.asarray(groups)
    splits = _splits(cv, X, Y, random_state)
    jobs = [delayed(_fit_and_score)(model, X, Y, train, test, metric, groups)
            for model in models.values() for train, test in splits]
    results = Parallel(n_jobs=n_jobs)(jobs)
    n_folds = len(splits)
    fold_scores, metrics = {}, None
    for m, name in enumerate(models):
        chunk = results[m * n_folds:(m + 1) * n_folds]
        fold_scores[name] = np.vstack([scores for scores, _ in chunk])
        metrics = metrics or chunk[0][1]
    reference = models["multitask"]
    fitted_tasks = resolve_tasks(declared, Y, default_type="classifier"
                                 if is_classifier(reference) else "auto",
                                 names=names)
    d = fold_scores["multitask"] - fold_scores["single_task"]
    valid = ~np.isnan(d)
    n_valid = valid.sum(axis=0)
    difference = _nanmean(d, axis=0)
    test_fraction = np.mean([len(test) / len(train) for train, test in splits])
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        variance = np.nanvar(d, axis=0, ddof=1)
        std_error = np.sqrt((1.0 / n_valid + test_fraction) * variance)
    std_error = np.where(n_valid > 1, std_error, np.nan)
    negative = (difference < 0) & (-difference > threshold * np.nan_to_num(
        std_error, nan=np.inf))
    return TransferReport(tasks=[t.name for t in fitted_tasks], metrics=metrics,
                          fold_scores=fold_scores, difference=difference,
                          std_error=std_error, negative_transfer=negative,
                          threshold=threshold, test_fraction=test_fraction)
