"""Baselines that answer "does sharing help?": no sharing, and full pooling.

:class:`MultiQuantileRegressor`, the single-task model of quantile tasks, is
defined in ``_quantile_regression.py`` (the task types import it) and
exported here with the baselines.
"""

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.multioutput import MultiOutputClassifier, MultiOutputRegressor
from sklearn.utils import get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ._quantile_regression import MultiQuantileRegressor
from .base import MultiTaskMixin, unfit_on_error
from .tasks import missing_mask
from .utils._validation import check_sample_weight

__all__ = ["SingleTaskBaseline", "PooledBaseline", "MultiQuantileRegressor"]


def _estimator_for(estimator, task):
    """The estimator for one task from a single estimator or a dict of them."""
    if not isinstance(estimator, dict):
        return estimator
    for key in (task.name, task.type, task.type_.estimator_type):
        if key in estimator:
            return estimator[key]
    raise ValueError(f"estimator dict has no entry for task {task.name!r} (keys may "
                     f"be task names, task types such as {task.type!r}, or "
                     f"{task.type_.estimator_type!r}).")


def _wrapped(estimator):
    """The estimators in ``estimator`` (one, or the values of a dict)."""
    return list(estimator.values()) if isinstance(estimator, dict) else [estimator]


def _is_estimator(e):
    return hasattr(e, "fit") and not isinstance(e, type)


def _check_estimators(estimator):
    for e in _wrapped(estimator):
        if not _is_estimator(e):
            raise TypeError(f"estimator must be a scikit-learn estimator instance "
                            f"(with fit) or a dict of them, got {e!r}.")


def _common_tags(estimator):
    """Estimator type and tags shared by every estimator in ``estimator``."""
    # invalid entries are reported by fit; tags must not fail on them
    tags = [get_tags(e) for e in _wrapped(estimator) if _is_estimator(e)]
    types = {t.estimator_type for t in tags}
    return tags, (types.pop() if len(types) == 1 else None)


class _BaselineMixin(MultiTaskMixin, MetaEstimatorMixin):
    """Tags and task defaults that follow the wrapped estimator(s)."""

    @property
    def _default_task_type(self):
        _, estimator_type = _common_tags(self.estimator)
        return estimator_type if estimator_type in ("classifier", "regressor") \
            else "auto"

    @property
    def _accept_sparse(self):
        tags, _ = _common_tags(self.estimator)
        return all(t.input_tags.sparse for t in tags)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner_tags, estimator_type = _common_tags(self.estimator)
        tags.estimator_type = estimator_type
        if estimator_type == "classifier":
            tags.classifier_tags = inner_tags[0].classifier_tags
        elif estimator_type == "regressor":
            tags.regressor_tags = inner_tags[0].regressor_tags
        tags.input_tags.sparse = all(t.input_tags.sparse for t in inner_tags)
        tags.input_tags.allow_nan = False
        return tags

    def _set_classes(self):
        categorical = [t for t in self.tasks_ if t.is_classification]
        if categorical and len(categorical) == len(self.tasks_):
            classes = [t.classes_ for t in self.tasks_ for _ in t.columns_]
            self.classes_ = classes[0] if len(classes) == 1 else classes


def _tasks_answer(method):
    """available_if check: a task (fitted, or given as ``tasks``) has a type
    whose responses include ``method`` (``"predict_quantiles"``)."""

    def check(self):
        tasks = getattr(self, "tasks_", None)
        if tasks is None:
            tasks = [self.tasks] if hasattr(self.tasks, "type_") else (self.tasks or [])
        return any(method in t.type_.responses for t in tasks)

    return check


def _task_quantiles(task, estimator, X):
    """The quantiles of each column of ``task`` from its fitted ``estimator``."""
    if not hasattr(estimator, "predict_quantiles"):
        suggestion = type(task.type_.baseline_estimator(task)).__name__
        raise ValueError(
            f"task {task.name!r} is a {task.type} task but its model "
            f"{type(estimator).__name__} has no predict_quantiles(); use a "
            f"quantile model such as {suggestion}.")
    values = estimator.predict_quantiles(X)
    return values if isinstance(values, list) else [values]


def _estimators_have(method):
    """available_if check: every classifier wrapped has ``method``."""

    def check(self):
        estimators = (list(self.estimator.values()) if isinstance(self.estimator, dict)
                      else [self.estimator])
        classifiers = [e for e in estimators
                       if get_tags(e).estimator_type == "classifier"]
        return bool(classifiers) and all(hasattr(e, method) for e in classifiers)

    return check


def _fit_one(estimator, X, y, sample_weight):
    if sample_weight is None:
        return estimator.fit(X, y)
    return estimator.fit(X, y, sample_weight=sample_weight)


class SingleTaskBaseline(_BaselineMixin, BaseEstimator):
    """One independent model per task: the no-sharing reference.

    Each task gets a clone of ``estimator`` fitted on the rows where that task
    is labelled; a task with several outputs (e.g. a 4-value box) gets one
    multi-output model (wrapped in ``MultiOutputRegressor`` or
    ``MultiOutputClassifier`` when the estimator is single-output) on the rows
    where all its outputs are labelled. ``predict`` returns every task for
    every row.

    Parameters
    ----------
    estimator : estimator or dict
        The model to clone per task, or a dict mapping task names or task types
        (``"regression"``, ``"classification"``, ...) to models for mixed tasks.
    tasks : list of Task, default=None
        Task of each column of ``Y`` (a DataFrame's columns are matched to
        them by name); None makes one task per column, named after the
        DataFrame's columns (classification when ``estimator`` is a
        classifier, regression for a regressor, and the type inferred from
        the labels for a dict of both, as ``MultiTaskEstimator`` infers it).
    n_jobs : int, default=None
        Number of tasks fitted in parallel through joblib.

    Attributes
    ----------
    estimators_ : list of estimators
        The fitted model of each task.
    tasks_ : list of Task
        Fitted tasks (columns, classes).
    classes_ : ndarray or list of ndarray
        Class labels (classification tasks only), per column.
    n_features_in_ : int
    n_outputs_ : int

    See Also
    --------
    PooledBaseline : One model for all tasks.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from skmtl import SingleTaskBaseline
    >>> X = np.arange(8.0).reshape(4, 2)
    >>> Y = np.array([[0.0, 1], [2, np.nan], [4, 5], [np.nan, 7]])
    >>> SingleTaskBaseline(Ridge()).fit(X, Y).predict(X).shape
    (4, 2)
    """

    def __init__(self, estimator, tasks=None, n_jobs=None):
        self.estimator = estimator
        self.tasks = tasks
        self.n_jobs = n_jobs

    def _task_estimator(self, task):
        est = clone(_estimator_for(self.estimator, task))
        if task.n_outputs > 1 and not get_tags(est).target_tags.multi_output:
            wrapper = (MultiOutputClassifier if task.is_classification
                       else MultiOutputRegressor)
            est = wrapper(est)
        return est

    @unfit_on_error
    def fit(self, X, y, sample_weight=None):
        """Fit one clone of the estimator per task on its labelled rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets ``Y``, one column per task output, ``NaN`` where a label is
            missing.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights, passed on to the wrapped estimator's ``fit`` (for
            the rows it is fitted on). Negative, NaN or infinite weights, a
            wrong length or all-zero weights raise ``ValueError``.

        Returns
        -------
        self : object
        """
        _check_estimators(self.estimator)
        X, Y = self._validate_fit_data(X, y)
        sample_weight = check_sample_weight(sample_weight, X.shape[0])
        jobs = []
        for task in self.tasks_:
            rows = np.flatnonzero(self._labelled_rows(Y, task))
            if rows.size == 0:
                raise ValueError(f"task {task.name!r} has no row where all its "
                                 f"{task.n_outputs} outputs are labelled.")
            y = Y[np.ix_(rows, task.columns_)]
            if task.is_classification:
                y = task.encode(y).astype(np.int64)
            else:
                y = y.astype(np.float64)
            y = y[:, 0] if task.n_outputs == 1 else y
            sw = None if sample_weight is None else sample_weight[rows]
            jobs.append(delayed(_fit_one)(self._task_estimator(task), X[rows], y, sw))
        self.estimators_ = Parallel(n_jobs=self.n_jobs)(jobs)
        self._set_classes()
        return self

    def _raw_predictions(self, X):
        outputs = []
        for task, est in zip(self.tasks_, self.estimators_):
            pred = np.asarray(est.predict(X)).reshape(X.shape[0], task.n_outputs)
            if task.is_classification:
                pred = task.classes_[pred.astype(np.int64)]
            outputs.append(pred)
        return outputs

    def predict(self, X):
        """Predict every task for every row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        Y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Values for regression tasks and labels for classification tasks.
        """
        X = self._validate_X(X)
        return self._format_prediction(self._assemble(self._raw_predictions(X)))

    @available_if(_estimators_have("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities per column of ``Y``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes) or list
            One array per column (columns ordered as ``classes_``); None for
            the columns of non-classification tasks. A single column gives the
            array itself.
        """
        X = self._validate_X(X)
        columns = [None] * self.n_outputs_
        for task, est in zip(self.tasks_, self.estimators_):
            if not task.is_classification:
                continue
            proba = est.predict_proba(X)
            proba = proba if isinstance(proba, list) else [proba]
            inner_classes = getattr(est, "classes_", None)
            inner_classes = (inner_classes if isinstance(inner_classes, list)
                             else [inner_classes])
            for col, p, seen in zip(task.columns_, proba, inner_classes):
                full = np.zeros((X.shape[0], len(task.classes_)))
                full[:, np.asarray(seen, dtype=np.int64)] = p
                columns[col] = full
        return columns[0] if self.n_outputs_ == 1 else columns

    @available_if(_tasks_answer("predict_quantiles"))
    def predict_quantiles(self, X):
        """Quantiles per column of the tasks that predict them (quantile tasks).

        Returns
        -------
        quantiles : ndarray of shape (n_samples, n_quantiles) or list
            One array per column of ``Y`` (None for the columns of other
            task types); a single column gives the array itself.
        """
        X = self._validate_X(X)
        columns = [None] * self.n_outputs_
        for task, est in zip(self.tasks_, self.estimators_):
            if "predict_quantiles" in task.type_.responses:
                for col, q in zip(task.columns_, _task_quantiles(task, est, X)):
                    columns[col] = np.asarray(q, dtype=np.float64)
        return columns[0] if self.n_outputs_ == 1 else columns


class PooledBaseline(_BaselineMixin, BaseEstimator):
    """One model for all tasks, fitted on every labelled (sample, task) pair.

    The full-pooling reference: the tasks are treated as one. Each column of
    ``Y`` contributes its labelled rows to one long training set; with
    ``task_indicators=True`` a one-hot column per output is appended to ``X``
    so that the pooled model can learn a per-task offset. Tasks of different
    kinds (regression and classification) cannot share one model: give a
    dict of estimators and the tasks are pooled per entry (e.g. one pooled
    regressor for the regression tasks and one pooled classifier for the
    binary ones).

    Parameters
    ----------
    estimator : estimator or dict
        The pooled model (a regressor for regression tasks, a classifier for
        classification tasks), or a dict mapping task types (``"binary"``,
        ``"regression"``, ...), estimator types (``"classifier"``,
        ``"regressor"``) or task names to models: the tasks that a key
        selects (as in :class:`SingleTaskBaseline`) are pooled into one
        model of their own.
    tasks : list of Task, default=None
        Task of each column (a DataFrame's columns are matched to them by
        name); None makes one task per column, as in
        :class:`SingleTaskBaseline`.
    task_indicators : bool, default=False
        Append one-hot output indicators to the features (one per column of
        the tasks pooled together).
    n_jobs : int, default=None
        Given to the pooled estimator as its own ``n_jobs`` when it has one
        (e.g. ``RandomForestRegressor``); None leaves the estimator's value.
        Pooling fits one model per pool, so there is no loop over tasks to
        parallelize here.

    Attributes
    ----------
    estimator_ : estimator
        The fitted pooled model (when ``estimator`` is one model).
    named_estimators_ : dict
        ``{key: fitted pooled model}``, one per pool: the keys of
        ``estimator`` that the tasks use (the key None for a single model).
    tasks_ : list of Task
    classes_ : ndarray or list of ndarray
        Class labels of each column (classification tasks only).
    n_features_in_ : int
    n_outputs_ : int

    See Also
    --------
    SingleTaskBaseline : One model per task.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression, LogisticRegression
    >>> from skmtl import PooledBaseline, Task
    >>> X = np.arange(6.0)[:, None]
    >>> Y = np.c_[X[:, 0], X[:, 0] + 1.0]
    >>> est = PooledBaseline(LinearRegression(), task_indicators=True).fit(X, Y)
    >>> np.round(est.predict([[10.0]]), 6)
    array([[10., 11.]])
    >>> mixed = PooledBaseline({"regressor": LinearRegression(),
    ...                         "classifier": LogisticRegression()},
    ...                        tasks=[Task("a"), Task("b"), Task("c", "binary")])
    >>> Y3 = np.c_[Y, X[:, 0] > 2]
    >>> sorted(mixed.fit(X, Y3).named_estimators_)
    ['classifier', 'regressor']
    """

    def __init__(self, estimator, tasks=None, task_indicators=False, n_jobs=None):
        self.estimator = estimator
        self.tasks = tasks
        self.task_indicators = task_indicators
        self.n_jobs = n_jobs

    def _pooled_estimator(self, estimator):
        est = clone(estimator)
        if self.n_jobs is not None and "n_jobs" in est.get_params(deep=False):
            est.set_params(n_jobs=self.n_jobs)
        return est

    def _pools(self):
        """``{key: [task, ...]}``: the tasks pooled into each model."""
        if not isinstance(self.estimator, dict):
            kinds = {t.type_.estimator_type for t in self.tasks_}
            if len(kinds) > 1:
                by_kind = {kind: [t.name for t in self.tasks_
                                  if t.type_.estimator_type == kind]
                           for kind in sorted(kinds)}
                shown = "; ".join(f"{kind} tasks {names}"
                                  for kind, names in by_kind.items())
                raise ValueError(
                    f"PooledBaseline cannot pool tasks of different kinds into one "
                    f"model ({shown}); give a dict of models, one per kind or "
                    f"task type, e.g. PooledBaseline({{'regressor': RidgeCV(), "
                    f"'classifier': LogisticRegression()}}), to pool each kind "
                    f"into a model of its own.")
            return {None: list(self.tasks_)}
        pools = {}
        for task in self.tasks_:
            key = next((k for k in (task.name, task.type, task.type_.estimator_type)
                        if k in self.estimator), None)
            if key is None:
                _estimator_for(self.estimator, task)  # raises, naming the task
            pools.setdefault(key, []).append(task)
        for key, tasks in pools.items():
            if len({t.is_classification for t in tasks}) > 1:
                raise ValueError(
                    f"PooledBaseline: the entry {key!r} pools the tasks "
                    f"{[t.name for t in tasks]}, some with class labels and some "
                    f"without; key the dict by task type or estimator type.")
        return pools

    def _with_indicator(self, X, position, width):
        if not self.task_indicators:
            return X
        indicator = np.zeros((X.shape[0], width))
        indicator[:, position] = 1.0
        if sp.issparse(X):
            return sp.hstack([X, sp.csr_matrix(indicator)], format="csr")
        return np.hstack([X, indicator])

    def _pool_input(self, X, column):
        """The pooled model of ``column`` of ``Y`` and its input for ``X``."""
        key, position, width = self._column_pool[column]
        return self.named_estimators_[key], self._with_indicator(X, position, width)

    @unfit_on_error
    def fit(self, X, y, sample_weight=None):
        """Fit one model per pool on all its labelled (sample, task) pairs.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets ``Y``, one column per task output, ``NaN`` where a label is
            missing.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights, passed on to the wrapped estimator's ``fit`` (for
            the rows it is fitted on). Negative, NaN or infinite weights, a
            wrong length or all-zero weights raise ``ValueError``.

        Returns
        -------
        self : object
        """
        _check_estimators(self.estimator)
        X, Y = self._validate_fit_data(X, y)
        pools = self._pools()
        sample_weight = check_sample_weight(sample_weight, X.shape[0])
        labelled = ~missing_mask(Y)
        self.named_estimators_, self._pooled_classes, self._column_pool = {}, {}, {}
        for key, tasks in pools.items():
            columns = np.concatenate([t.columns_ for t in tasks])
            Xs, ys, sws = [], [], []
            for position, column in enumerate(columns):
                self._column_pool[int(column)] = (key, position, len(columns))
                rows = np.flatnonzero(labelled[:, column])
                Xs.append(self._with_indicator(X[rows], position, len(columns)))
                ys.append(Y[rows, column])
                if sample_weight is not None:
                    sws.append(sample_weight[rows])
            X_long = sp.vstack(Xs, format="csr") if sp.issparse(X) else np.vstack(Xs)
            y_long = np.concatenate(ys)
            if tasks[0].is_classification:
                classes = np.unique(np.concatenate([t.classes_ for t in tasks]))
                self._pooled_classes[key] = classes
                y_long = np.searchsorted(classes, _label_values(y_long, classes))
            else:
                y_long = y_long.astype(np.float64)
            sw = None if sample_weight is None else np.concatenate(sws)
            estimator = _estimator_for(self.estimator, tasks[0]) if key is not None \
                else self.estimator
            self.named_estimators_[key] = _fit_one(
                self._pooled_estimator(estimator), X_long, y_long, sw)
        if not isinstance(self.estimator, dict):
            self.estimator_ = self.named_estimators_[None]
        self._set_classes()
        return self

    def _column_proba(self, X, column, task):
        model, X_in = self._pool_input(X, column)
        pooled_classes = self._pooled_classes[self._column_pool[column][0]]
        proba = model.predict_proba(X_in)
        full = np.zeros((X.shape[0], len(pooled_classes)))
        full[:, np.asarray(model.classes_, dtype=np.int64)] = proba
        positions = np.searchsorted(pooled_classes, task.classes_)
        restricted = full[:, positions]
        total = restricted.sum(axis=1, keepdims=True)
        uniform = np.full_like(restricted, 1.0 / restricted.shape[1])
        return np.where(total > 0, restricted / np.where(total > 0, total, 1),
                        uniform)

    def predict(self, X):
        """Predict every task for every row with its pooled model.

        Returns
        -------
        Y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        X = self._validate_X(X)
        check_is_fitted(self)
        per_task = []
        for task in self.tasks_:
            columns = []
            for column in task.columns_:
                if task.is_classification:
                    proba = self._column_proba(X, int(column), task)
                    columns.append(task.classes_[np.argmax(proba, axis=1)])
                else:
                    model, X_in = self._pool_input(X, int(column))
                    columns.append(np.asarray(model.predict(X_in), dtype=np.float64))
            per_task.append(np.column_stack(columns))
        return self._format_prediction(self._assemble(per_task))

    @available_if(_estimators_have("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities per column, restricted to each task's classes.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes) or list
            One array per column of ``Y``, None for the columns of tasks
            without class labels; a single column gives the array itself.
        """
        X = self._validate_X(X)
        columns = [None] * self.n_outputs_
        for task in self.tasks_:
            if task.is_classification:
                for column in task.columns_:
                    columns[column] = self._column_proba(X, int(column), task)
        if all(c is None for c in columns):
            raise AttributeError("predict_proba needs classification tasks.")
        return columns[0] if self.n_outputs_ == 1 else columns

    @available_if(_tasks_answer("predict_quantiles"))
    def predict_quantiles(self, X):
        """Quantiles per column of the quantile tasks, from the pooled model.

        Returns
        -------
        quantiles : ndarray of shape (n_samples, n_quantiles) or list
            One array per column of ``Y`` (None for the columns of other
            task types); a single column gives the array itself.
        """
        X = self._validate_X(X)
        columns = [None] * self.n_outputs_
        for task in self.tasks_:
            if "predict_quantiles" in task.type_.responses:
                for column in task.columns_:
                    model, X_in = self._pool_input(X, int(column))
                    q, = _task_quantiles(task, model, X_in)
                    columns[column] = np.asarray(q, dtype=np.float64)
        return columns[0] if self.n_outputs_ == 1 else columns


def _label_values(values, classes):
    """Labels as the dtype of ``classes`` (Y stores numeric labels as float)."""
    if classes.dtype.kind in "iub":
        return values.astype(np.float64).astype(classes.dtype)
    if classes.dtype.kind in "US":
        return values.astype(str)
    return values

