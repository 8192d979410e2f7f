"""A weighted average of linear multi-task models, weights chosen by CV."""

import itertools
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.model_selection import KFold, check_cv
from sklearn.utils._param_validation import Interval

from ..base import MultiTaskMixin, unfit_on_error
from ..metrics import masked_mean_squared_error
from ..utils._validation import check_folds, check_sample_weight
from ._cv import MultiTaskLinearRegressorCV
from ._estimators import MultiTaskLinearRegressor, coef_attributes
from ._penalties import TraceNorm
from ._quadratic import MeanRegularized

__all__ = ["LinearModelAverage"]


def simplex_grid(n_models, n_weights):
    """Weight vectors on the simplex with steps of ``1 / (n_weights - 1)``.

    Returns an array of shape (n_points, n_models): every vector of
    non-negative multiples of the step that sums to one.
    """
    steps = n_weights - 1
    points = [c + (steps - sum(c),)
              for c in itertools.product(range(steps + 1), repeat=n_models - 1)
              if sum(c) <= steps]
    return np.asarray(points, dtype=float) / steps


def _with_chosen_hyperparameters(fitted, estimator):
    """An unfitted model that refits ``fitted``'s chosen hyper-parameters.

    A :class:`MultiTaskLinearRegressorCV` becomes the plain regressor with
    the penalty it chose (``alpha_``, ``ratio_``), so that refitting it on a
    fold does not run its cross-validation again; any other estimator is
    cloned (it chooses its hyper-parameters again on the fold, if it has
    any to choose).
    """
    if isinstance(fitted, MultiTaskLinearRegressorCV):
        # The parameters the two classes share (tasks, solver, tol, ...).
        shared = MultiTaskLinearRegressor().get_params(deep=False).keys()
        params = {name: value for name, value in fitted.get_params(deep=False).items()
                  if name in shared and name != "penalty"}
        return MultiTaskLinearRegressor(penalty=clone(fitted.penalty_), **params)
    return clone(estimator)


def _check_linear(fitted, n_outputs, n_features):
    coef = np.asarray(getattr(fitted, "coef_", None), dtype=float)
    if coef.shape != (n_outputs, n_features) or not hasattr(fitted, "intercept_"):
        raise ValueError(
            f"{type(fitted).__name__} fitted no coef_ of shape ({n_outputs}, "
            f"{n_features}) and intercept_; LinearModelAverage averages linear "
            f"multi-task regressors (MultiTaskLinearRegressor(CV)).")
    return coef, np.broadcast_to(np.asarray(fitted.intercept_, dtype=float),
                                 (n_outputs,))


class LinearModelAverage(MultiTaskMixin, RegressorMixin, BaseEstimator):
    r"""Weighted average of linear multi-task regressors, weights chosen by CV.

    .. math::
        \hat W = \sum_m \beta_m \hat W_m, \qquad
        \hat b = \sum_m \beta_m \hat b_m, \qquad
        \beta_m \ge 0,\ \sum_m \beta_m = 1

    where :math:`\hat W_m, \hat b_m` are the coefficients and intercepts of
    each model fitted on all the rows. Models that share in different ways
    (a shared mean for :class:`MeanRegularized`, a shared subspace for
    :class:`TraceNorm`) make different errors; their average is often more
    accurate than the better of the two.

    Fitting takes three steps:

    1. every model of ``estimators`` is fitted on all the rows (a
       :class:`MultiTaskLinearRegressorCV` chooses its ``alpha``, and its
       ratio, by its own cross-validation);
    2. on each fold of ``cv``, every model is refitted on the fold's
       training rows with the hyper-parameters it chose in step 1 and
       predicts the held-out rows (another estimator is cloned and fitted
       on the fold);
    3. the weights :math:`\beta` are the point of the grid on the simplex
       (steps of ``1 / (n_weights - 1)``) whose average of the held-out
       predictions has the smallest masked mean squared error (each task's
       MSE on its labelled held-out rows, averaged over the tasks and the
       folds, weighted by ``sample_weight``), as the CV estimators choose
       ``alpha``.

    Parameters
    ----------
    estimators : list of regressors, default=None
        The linear multi-task models to average, each fitting ``coef_`` of
        shape (n_outputs, n_features) and ``intercept_``. None averages
        ``MultiTaskLinearRegressorCV(TraceNorm())`` and
        ``MultiTaskLinearRegressorCV(MeanRegularized())``.
    n_weights : int, default=11
        Number of values of each weight on the grid, from 0 to 1: 11 gives
        steps of 0.1 (11 points for two models, 66 for three).
    cv : int, cross-validation generator or iterable, default=5
        Folds of step 2. An integer gives a shuffled ``KFold(cv,
        shuffle=True, random_state=0)``, as in
        :class:`MultiTaskLinearRegressorCV`. Every task needs labels in
        every training fold; passing the folds that the models' own ``cv``
        uses keeps one set of folds for all the choices.
    tasks : list of Task, default=None
        Task of each column of ``Y``, given to every model that takes
        ``tasks``; None makes one task per column (and leaves the models'
        own ``tasks``).

    Attributes
    ----------
    estimators_ : list of estimators
        The models fitted on all the rows (step 1).
    weights_ : ndarray of shape (n_estimators,)
        The chosen weights :math:`\beta`.
    weight_grid_ : ndarray of shape (n_points, n_estimators)
        The weights tried.
    mse_path_ : ndarray of shape (n_points, n_folds)
        Held-out masked MSE of each point of the grid on each fold.
    coef_ : ndarray of shape (n_outputs, n_features)
        :math:`\hat W^\top` (``(n_features,)`` for 1-D ``y``).
    intercept_ : ndarray of shape (n_outputs,) or float
    tasks_ : list of Task
    n_features_in_ : int
    n_outputs_ : int

    See Also
    --------
    MultiTaskLinearRegressorCV : The models to average.
    sklearn.ensemble.StackingRegressor : Stacking of single-output models
        (its held-out predictions refit each model with its own search).

    Notes
    -----
    Breiman (1996), "Stacked regressions", Machine Learning 24(1): a
    combination of regressions with non-negative weights fitted on held-out
    predictions; here the weights also sum to one, so the average of models
    that each predict the tasks' scale stays on that scale. Refitting with
    the hyper-parameters chosen on all the rows (step 2) costs one fit per
    model and fold instead of a nested search; the held-out errors are then
    slightly optimistic for every model, not for one in particular.

    Examples
    --------
    >>> from skmtl.datasets import make_multitask_regression
    >>> from skmtl.linear import (LinearModelAverage, MeanRegularized,
    ...                           MultiTaskLinearRegressorCV, TraceNorm)
    >>> X, Y = make_multitask_regression(n_samples=90, n_features=6, n_tasks=4,
    ...                                  missing_rate=0.2, random_state=0)
    >>> models = [MultiTaskLinearRegressorCV(TraceNorm(), n_alphas=5, cv=3),
    ...           MultiTaskLinearRegressorCV(MeanRegularized(), n_alphas=5, cv=3)]
    >>> est = LinearModelAverage(models, n_weights=5, cv=3).fit(X, Y)
    >>> est.weight_grid_.shape, est.mse_path_.shape
    ((5, 2), (5, 3))
    >>> float(est.weights_.sum())
    1.0
    """

    _accept_sparse = True
    _parameter_constraints = {
        "estimators": [list, None],
        "n_weights": [Interval(Integral, 2, None, closed="left")],
        "cv": ["cv_object"],
        "tasks": "no_validation",
    }

    def __init__(self, estimators=None, *, n_weights=11, cv=5, tasks=None):
        self.estimators = estimators
        self.n_weights = n_weights
        self.cv = cv
        self.tasks = tasks

    def _models(self):
        if self.estimators is None:
            return [MultiTaskLinearRegressorCV(TraceNorm()),
                    MultiTaskLinearRegressorCV(MeanRegularized())]
        if not self.estimators:
            raise ValueError("estimators is an empty list; give at least one "
                             "regressor to average.")
        return list(self.estimators)

    @unfit_on_error
    def fit(self, X, y, sample_weight=None):
        """Fit every model, choose the weights on held-out rows, average.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            NaN-masked targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each row: given to every model's ``fit`` (on all the
            rows and on each fold) and weighting the held-out errors that
            choose the weights.

        Returns
        -------
        self : object
        """
        self._validate_params()
        X, Y = self._validate_fit_data(X, y)
        sample_weight = check_sample_weight(sample_weight, X.shape[0])

        def weights_of(rows):
            if sample_weight is None:
                return {}
            return {"sample_weight": sample_weight[rows]}

        everything = np.arange(X.shape[0])
        models = self._models()
        self.estimators_ = [clone(model).set_params(**self._tasks_param(model))
                            .fit(X, Y, **weights_of(everything)) for model in models]
        shape = (self.n_outputs_, X.shape[1])
        parts = [_check_linear(fitted, *shape) for fitted in self.estimators_]
        cv = (KFold(self.cv, shuffle=True, random_state=0)
              if isinstance(self.cv, Integral) else check_cv(self.cv))
        folds = check_folds(cv.split(X), X.shape[0], f"{type(self).__name__}'s cv")
        grid = simplex_grid(len(models), self.n_weights)
        path = np.empty((len(grid), len(folds)))
        for f, (train, test) in enumerate(folds):
            held_out = np.stack([
                _with_chosen_hyperparameters(fitted, fitted_from)
                .fit(X[train], Y[train], **weights_of(train))
                .predict(X[test]).reshape(len(test), -1)
                for fitted, fitted_from in zip(self.estimators_, models, strict=True)])
            for i, weights in enumerate(grid):
                path[i, f] = masked_mean_squared_error(
                    Y[test], np.tensordot(weights, held_out, 1), **weights_of(test))
        self.weight_grid_, self.mse_path_ = grid, path
        self.weights_ = grid[int(np.nanargmin(np.nanmean(path, axis=1)))]
        # float32 X gives float32 coefficients (and predictions), as in the
        # models averaged
        dtype = np.float32 if X.dtype == np.float32 else np.float64
        coef = sum(w * c for w, (c, _) in zip(self.weights_, parts, strict=True)
                   ).astype(dtype)
        intercept = sum(w * b for w, (_, b) in zip(self.weights_, parts, strict=True)
                        ).astype(dtype)
        self._coef_full, self._intercept_full = coef, intercept
        self.coef_, self.intercept_ = coef_attributes(coef, intercept, self._y_was_1d)
        return self

    def _tasks_param(self, model):
        """This estimator's ``tasks``, given to a model that takes them."""
        if self.tasks is None or "tasks" not in model.get_params(deep=False):
            return {}
        return {"tasks": self.tasks}

    def predict(self, X):
        """Predict every task for every row: the weighted average of the models.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        Y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        X = self._validate_X(X)
        Y_pred = np.asarray(X @ self._coef_full.T) + self._intercept_full
        return self._format_prediction(Y_pred)
