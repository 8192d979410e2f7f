"""Shared base classes and checks of every skmtl estimator.

``check_targets`` and ``resolve_task_weights`` live in
:mod:`skmtl.utils._targets` (the metrics need them, and this module imports
the metrics for ``score``: imports go one way) and are re-exported here.
"""

import functools

import numpy as np
from sklearn.utils import check_consistent_length
from sklearn.utils.validation import check_is_fitted, validate_data

from ._dependencies import TaskGraph, check_dependencies, check_funnel
from .tasks import missing_mask, resolve_tasks
from .utils._targets import check_targets, resolve_task_weights

__all__ = ["MultiTaskMixin", "resolve_task_weights", "check_targets",
           "unfit_on_error", "assemble_predictions"]

# Instance attributes that scikit-learn itself sets (``set_fit_request``,
# ``set_output``, ``set_callbacks``, and the callback context a meta-estimator
# such as GridSearchCV attaches around a fit and deletes after it, failed or
# not): its state, not the estimator's fitted state.
_SKLEARN_CONFIG = ("_metadata_request", "_sklearn_output_config", "_skl_callbacks",
                   "_parent_callback_ctx", "_callback_fit_ctx",
                   "_skl_callbacks_to_teardown")


def clear_fitted_state(estimator):
    """Delete every fitted attribute of ``estimator``, leaving its parameters.

    Fitted state is every instance attribute ending in ``_`` (``coef_``,
    ``tasks_``, ``net_``) and every private one (``_y_was_1d``); constructor
    parameters, prefixed parameters (``module__...``) and scikit-learn's own
    state (metadata requests, output config, callbacks and the callback
    context of a meta-estimator) stay.
    """
    for name in list(vars(estimator)):
        if name.startswith("__") or name in _SKLEARN_CONFIG:
            continue
        if name.endswith("_") or name.startswith("_"):
            delattr(estimator, name)


def unfit_on_error(fit):
    """Decorate a ``fit`` method so that a failure leaves the estimator unfitted.

    A fit that raises (bad input, a diverging network, a solver error)
    would otherwise leave some attributes of the new fit beside others of a
    previous one (``n_features_in_`` set, ``coef_`` stale). The wrapper
    deletes every fitted attribute (see :func:`clear_fitted_state`) before
    re-raising, so ``predict`` then raises ``NotFittedError``, whether the
    estimator was fitted before or not.
    """
    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        try:
            return fit(self, *args, **kwargs)
        except Exception:
            clear_fitted_state(self)
            raise

    return wrapper


def assemble_predictions(tasks, per_task, n_outputs=None):
    """One ``(n_samples, n_outputs)`` array from each task's predictions.

    The one decoder of skmtl's predictions (the estimators' ``predict`` and
    :meth:`~skmtl.neural.MultiTaskNet.predict`): integer class labels stay
    integers (int64) when every task predicts integers; numbers become
    float64; string labels of every task give their common string dtype;
    anything else (strings beside numbers) gives an object array.

    Parameters
    ----------
    tasks : list of Task
        Fitted tasks (their ``columns_`` place each task's predictions).
    per_task : list of array-like
        Each task's predictions, ``(n_samples,)`` or ``(n_samples,
        task.n_outputs)``, in label space.
    n_outputs : int, default=None
        Columns of the result; None is the tasks' total.

    Returns
    -------
    Y_pred : ndarray of shape (n_samples, n_outputs)

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.base import assemble_predictions
    >>> from skmtl.tasks import resolve_tasks
    >>> tasks = resolve_tasks(None, np.array([[0.5, 1], [1.5, 2]]),
    ...                       default_type="auto")
    >>> assemble_predictions(tasks, [np.float32([0.5, 1.5]), np.array([1, 2])])
    array([[0.5, 1. ],
           [1.5, 2. ]])
    """
    per_task = [np.asarray(p) for p in per_task]
    kinds = {p.dtype.kind for p in per_task}
    if kinds <= set("biu"):
        dtype = np.int64
    elif kinds <= set("biuf"):
        dtype = np.float64
    elif kinds <= set("US"):
        dtype = np.result_type(*per_task)
    else:
        dtype = object
    if n_outputs is None:
        n_outputs = sum(task.n_outputs for task in tasks)
    n = per_task[0].shape[0]
    Y_pred = np.empty((n, n_outputs), dtype=dtype)
    for task, p in zip(tasks, per_task):
        Y_pred[:, task.columns_] = p.reshape(n, task.n_outputs)
    return Y_pred


class MultiTaskMixin:
    """Validation, prediction shape and masked scoring shared by estimators.

    Subclasses set ``_default_task_type`` (the type of inferred tasks when
    ``tasks=None``: an estimator type, ``"regressor"`` or ``"classifier"``,
    for the type registered as its default, or ``"auto"``) and call
    :meth:`_validate_fit_data` in ``fit`` and :meth:`_validate_X` in
    ``predict``.
    """

    _default_task_type = "regressor"
    _accept_sparse = False
    _allow_nd = False

    def _x_params(self):
        return dict(accept_sparse=self._accept_sparse and ["csr", "csc"],
                    allow_nd=self._allow_nd, dtype="numeric",
                    ensure_all_finite=True)

    def _validate_fit_data(self, X, Y, tasks=None):
        # ``Y`` is the ``y`` of scikit-learn's API: 2-D, NaN where missing.
        """Validate ``X`` and ``Y``, resolve the tasks and set fitted attributes.

        The columns of a DataFrame ``Y`` are matched to the tasks by name
        and returned in task order. Sets ``tasks_``, ``n_tasks_``,
        ``n_outputs_`` (and ``n_features_in_``, ``feature_names_in_``).
        Returns ``X`` and the 2-D ``Y``.
        """
        if Y is None:
            validate_data(self, X, None)  # raises sklearn's "requires y" error
        tasks = self.tasks if tasks is None else tasks
        # A DataFrame Y is matched to the tasks by column name (and put in
        # task order); with tasks=None its column names name the tasks.
        Y_checked, names, was_1d = check_targets(Y, tasks=tasks)
        X = self._validate_fit_X(X, Y_checked)
        self.tasks_ = resolve_tasks(tasks, Y_checked,
                                    default_type=self._default_task_type,
                                    names=names)
        self.n_tasks_ = len(self.tasks_)
        self.n_outputs_ = Y_checked.shape[1]
        self._y_was_1d = was_1d
        return X, Y_checked

    def _validate_fit_X(self, X, Y):
        """Validated ``X`` at fit, with as many rows as ``Y`` (sets
        ``n_features_in_``, ``feature_names_in_``); estimators with other
        kinds of inputs override it."""
        X, _ = validate_data(
            self, X, Y, reset=True,
            validate_separately=(self._x_params(),
                                 dict(ensure_2d=False, dtype=None,
                                      ensure_all_finite=False)),
        )
        check_consistent_length(X, Y)
        return X

    def _validate_X(self, X):
        check_is_fitted(self)
        return validate_data(self, X, reset=False, **self._x_params())

    def _format_prediction(self, Y_pred):
        """Predictions follow the shape of ``Y`` at fit (1-D for 1-D ``Y``)."""
        if self._y_was_1d:
            return Y_pred[:, 0]
        return Y_pred

    def _encode_targets(self, Y):
        """Encoded float targets of every task, NaN where missing."""
        out = np.empty(Y.shape, dtype=np.float64)
        for task in self.tasks_:
            out[:, task.columns_] = task.encode(Y[:, task.columns_])
        if any(task.given is not None for task in self.tasks_):
            # a dependent task's label where its parent path did not happen is
            # implied, not a label of its conditional model (any other label
            # there is an error, also in later partial_fit chunks)
            check_dependencies(self.tasks_, Y, encoded=out)
            TaskGraph(self.tasks_).blank_not_applicable(out)
        return out

    def _assemble(self, per_task):
        """One ``(n, n_outputs)`` array from each task's predictions (see
        :func:`assemble_predictions`)."""
        return assemble_predictions(self.tasks_, per_task, self.n_outputs_)

    def _decode_raw(self, raw_per_task, funnel="conditional"):
        """Predictions in label space from each task's raw outputs:
        conditional on the parent, or joint (``funnel``)."""
        reach = self._reach(raw_per_task, funnel)
        return self._assemble([
            task.transform(raw) if r is None
            else task.type_.joint_transform(task, raw, r)
            for task, raw, r in zip(self.tasks_, raw_per_task, reach)])

    def _reach(self, raw_per_task, funnel):
        """``P(parent path)`` of each task for joint predictions (None for the
        tasks without parent, and for conditional ones)."""
        check_funnel(funnel)
        if funnel == "conditional" or not any(
                task.given is not None for task in self.tasks_):
            return [None] * len(self.tasks_)
        return TaskGraph(self.tasks_).reach_proba(raw_per_task)

    def _proba_from_raw(self, raw_per_task, funnel="conditional"):
        """Per-column class probabilities (None for non-probabilistic columns):
        conditional on the parent, or joint (``funnel``)."""
        reach = self._reach(raw_per_task, funnel)
        if all(r is None for r in reach):
            return self._columns_from_raw(raw_per_task, "predict_proba")
        columns = [None] * self.n_outputs_
        for task, raw, r in zip(self.tasks_, raw_per_task, reach):
            values = (task.type_.predict_proba(task, raw) if r is None
                      else task.type_.joint_proba(task, raw, r))
            if values is not None:
                for col, p in zip(task.columns_, values):
                    columns[col] = p
        return columns[0] if self.n_outputs_ == 1 else columns

    def _quantiles_from_raw(self, raw_per_task):
        """Per-column quantiles (None for the columns of other types)."""
        return self._columns_from_raw(raw_per_task, "predict_quantiles")

    def _columns_from_raw(self, raw_per_task, response):
        """One array per column of ``Y`` from each task type's ``response``
        (``"predict_proba"``, ``"predict_quantiles"``), None where a type
        has none; the array itself for a single column."""
        columns = [None] * self.n_outputs_
        for task, raw in zip(self.tasks_, raw_per_task):
            values = getattr(task.type_, response)(task, raw)
            if values is not None:
                for col, p in zip(task.columns_, values):
                    columns[col] = p
        if self.n_outputs_ == 1:
            return columns[0]
        return columns

    def score(self, X, y, sample_weight=None):
        """Mean over tasks of each task's default metric on its labelled entries.

        Each type's ``default_metric``: R² for regression, accuracy for
        classification, binary and ordinal tasks, NDCG for ranking, D²
        (Poisson) for count and D² pinball for quantile tasks; entries where
        ``Y`` is ``NaN`` are ignored. A task with no label in ``Y`` is left
        out.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True labels, ``NaN`` where missing.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        from .metrics import make_multitask_scorer

        # The scorer asks for what the default metrics need (quantiles too).
        table, _ = make_multitask_scorer().table(self, X, y,
                                                 sample_weight=sample_weight)
        scores = np.asarray(table["score"], dtype=float)
        if np.all(np.isnan(scores)):
            return np.nan
        return float(np.nanmean(scores))

    def _labelled_rows(self, Y, task):
        """Rows where every column of ``task`` is labelled (for a dependent
        task, and its parent path happened: elsewhere its label is implied)."""
        rows = ~missing_mask(Y[:, task.columns_]).any(axis=1)
        if task.given is not None:
            k = [t.name for t in self.tasks_].index(task.name)
            rows &= ~TaskGraph(self.tasks_).not_applicable(Y, k)
        return rows

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.input_tags.sparse = self._accept_sparse
        return tags
