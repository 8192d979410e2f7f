"""Regularization paths and cross-validated choice of ``alpha`` (and a ratio)."""

from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.model_selection import KFold, check_cv
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval

from ..base import unfit_on_error
from ..metrics import masked_mean_squared_error
from ..tasks import missing_mask
from ..utils._validation import check_folds
from ._estimators import MultiTaskLinearRegressor, MultiTaskLogisticClassifier
from ._registry import resolve_penalty

__all__ = ["regularization_path", "alpha_grid", "MultiTaskLinearRegressorCV",
           "MultiTaskLogisticClassifierCV"]


def alpha_grid(datafit, penalty, n_alphas=20, eps=1e-3):
    """Decreasing geometric grid from ``alpha_max`` to ``eps * alpha_max``.

    ``alpha_max`` is the smallest ``alpha`` giving ``W = 0`` for penalties
    that have one (L1, L2,1, trace norm, dirty); for smooth penalties it is
    ten times the Lipschitz constant of the datafit's gradient, where the
    fit is already shrunk to nearly zero.
    """
    V0, _ = datafit.negative_gradient_at_zero()
    alpha_max = penalty.alpha_max(V0)  # a prepared penalty
    if alpha_max is None or not np.isfinite(alpha_max):
        alpha_max = 10.0 * datafit.lipschitz()
    if alpha_max <= 0:
        alpha_max = 1.0
    return np.geomspace(alpha_max, alpha_max * eps, n_alphas)


def _estimator_for(loss, penalty, **params):
    cls = MultiTaskLinearRegressor if loss == "squared" else MultiTaskLogisticClassifier
    return cls(penalty=penalty, **params)


def regularization_path(X, y, penalty="l21", *, loss="squared", alphas=None,
                        n_alphas=20, eps=1e-3, tasks=None, fit_intercept=True,
                        task_weights=None, sample_weight=None, solver="auto",
                        max_iter=1000, tol=1e-4):
    """Fit a multi-task linear model along a decreasing path of ``alpha``.

    Each fit starts from the previous solution (warm start), so the whole
    path costs little more than its hardest point; Gram matrices and
    centering are computed once.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples, n_outputs)
        NaN-masked targets (class labels for ``loss="logistic"``).
    penalty : Penalty or str, default="l21"
        Its ``alpha`` is replaced by each value of the path.
    loss : {"squared", "logistic"}, default="squared"
    alphas : array-like, default=None
        Values of ``alpha`` (sorted decreasing); None builds ``n_alphas``
        values from ``alpha_max`` down to ``eps * alpha_max``.
    n_alphas : int, default=20
    eps : float, default=1e-3
    tasks, fit_intercept, task_weights, solver, max_iter, tol
        As in :class:`MultiTaskLinearRegressor`.
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    path : Bunch
        ``alphas`` (n_alphas,), ``coefs`` (n_columns, n_features, n_alphas)
        and ``intercepts`` (n_columns, n_alphas) as in
        ``sklearn.linear_model.enet_path``, ``dual_gaps`` and ``n_iters``
        (n_alphas,).

    Examples
    --------
    >>> from skmtl.datasets import make_multitask_regression
    >>> from skmtl.linear import regularization_path
    >>> X, Y = make_multitask_regression(n_samples=60, n_features=8, n_tasks=3,
    ...                                  random_state=0)
    >>> path = regularization_path(X, Y, "l21", n_alphas=5)
    >>> path.coefs.shape
    (3, 8, 5)
    >>> int(abs(path.coefs[:, :, 0]).sum())  # alpha_max: every coefficient is 0
    0
    """
    if loss not in ("squared", "logistic"):
        raise ValueError(f"loss must be 'squared' or 'logistic', got {loss!r}.")
    est = _estimator_for(loss, resolve_penalty(penalty), tasks=tasks,
                         fit_intercept=fit_intercept, task_weights=task_weights,
                         solver=solver, max_iter=max_iter, tol=tol)
    problem = est.build_problem(X, y, sample_weight)
    if alphas is None:
        prepared = resolve_penalty(penalty).prepare(problem.column_task)
        alphas = alpha_grid(problem.datafit, prepared, n_alphas, eps)
    else:
        alphas = _check_alphas(alphas)
    p = problem.datafit.n_features
    coefs, intercepts, gaps, iters = [], [], [], []
    for fitted in est.solve_path(problem, alphas):
        coefs.append(np.reshape(fitted.coef_, (-1, p)).copy())
        intercepts.append(np.atleast_1d(fitted.intercept_).copy())
        gaps.append(fitted.dual_gap_)
        iters.append(fitted.n_iter_)
    return Bunch(alphas=alphas, coefs=np.stack(coefs, axis=-1),
                 intercepts=np.stack(intercepts, axis=-1), dual_gaps=np.asarray(gaps),
                 n_iters=np.asarray(iters))


def _check_alphas(alphas):
    alphas = np.sort(np.asarray(alphas, dtype=float).ravel())[::-1]
    if alphas.size == 0 or not np.all(np.isfinite(alphas)) or np.any(alphas < 0):
        raise ValueError(f"alphas must be a non-empty array of finite values >= 0, "
                         f"got {alphas!r}.")
    return alphas


def _fold_path(estimator, problem, train, test, penalty, alphas, scorer):
    """Held-out errors (or scores) of one fold along one penalty's path."""
    est = clone(estimator)
    sw = problem.sample_weight
    X, Y = problem.X, problem.Y
    fold = est.build_problem(X[train], Y[train], None if sw is None else sw[train])
    X_test, Y_test = X[test], Y[test]
    sw_test = None if sw is None else sw[test]
    values = []
    for fitted in est.solve_path(fold, alphas, penalty=penalty):
        if sw_test is not None and not sw_test.any():
            values.append(np.nan)  # no held-out weight: nothing to score
        elif scorer is None:
            values.append(masked_mean_squared_error(Y_test, fitted.predict(X_test),
                                                    sample_weight=sw_test))
        elif sw_test is None:
            values.append(scorer(fitted, X_test, Y_test))
        else:
            values.append(scorer(fitted, X_test, Y_test, sample_weight=sw_test))
    return np.asarray(values)


def _check_folds_have_labels(tasks, Y, folds):
    """Every task needs a label in every training fold (else its fit fails)."""
    labelled = ~missing_mask(Y)
    for f, (train, _) in enumerate(folds):
        for task in tasks:
            if not labelled[np.ix_(train, task.columns_)].any():
                n_labelled = int(labelled[:, task.columns_].any(axis=1).sum())
                raise ValueError(
                    f"task {task.name!r} has no labelled sample in the training "
                    f"rows of cross-validation fold {f} ({n_labelled} labelled "
                    f"row(s) in all); use fewer folds, a shuffled or stratified "
                    f"splitter, or more labels.")


class _CVMixin:
    """Cross-validated ``alpha`` (and ratio) on warm-started paths, in parallel."""

    _cv_constraints = {
        "alphas": ["array-like", None],
        "n_alphas": [Interval(Integral, 1, None, closed="left")],
        "eps": [Interval(Real, 0, None, closed="neither")],
        "ratios": ["array-like", Real, None],
        "cv": ["cv_object"],
        "n_jobs": [Integral, None],
        "scoring": [callable, str, None],
    }
    _path_params = ("tasks", "fit_intercept", "task_weights", "solver", "max_iter",
                    "tol")

    def _base_estimator(self):
        params = {k: getattr(self, k) for k in self._path_params}
        return self._base_class(penalty=resolve_penalty(self.penalty), **params)

    def _scorer(self):
        from ..metrics import make_multitask_scorer

        if self.scoring is None:
            return None if self._minimize_mse else make_multitask_scorer()
        if callable(self.scoring):
            return self.scoring
        return make_multitask_scorer(self.scoring)

    def _penalties(self, penalty):
        """One penalty per value of ``ratios`` (or the penalty alone)."""
        if self.ratios is None:
            return [penalty], None
        name = penalty.ratio_name
        if name is None:
            raise ValueError(f"ratios={self.ratios!r} needs a penalty with a second "
                             f"hyper-parameter; {type(penalty).__name__} has only "
                             f"alpha.")
        ratios = np.atleast_1d(np.asarray(self.ratios, dtype=float))
        if ratios.ndim != 1 or ratios.size == 0:
            raise ValueError(f"ratios must be a number or a non-empty 1-D list of "
                             f"values of {type(penalty).__name__}.{name}, got "
                             f"{self.ratios!r}.")
        return [clone(penalty).set_params(**{name: float(r)}) for r in ratios], ratios

    @unfit_on_error
    def fit(self, X, y, sample_weight=None):
        """Choose ``alpha`` (and the ratio) by cross-validation, then refit on all rows.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            NaN-masked targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows, in the fits of every fold and in the
            held-out errors (each column's MSE is the weighted mean over its
            labelled held-out rows), so that an integer weight ``k`` equals
            repeating the row ``k`` times within its fold.

        Returns
        -------
        self : object
        """
        base = self._base_estimator()
        # Validate once on all the data (tasks, alpha grid, the final refit):
        # the final model is fitted on this problem, by this estimator.
        problem = self.build_problem(X, y, sample_weight)
        penalties, ratios = self._penalties(resolve_penalty(self.penalty))
        if self.alphas is None:
            grids = [alpha_grid(problem.datafit, pen.prepare(problem.column_task),
                                self.n_alphas, self.eps) for pen in penalties]
        else:
            alphas = _check_alphas(self.alphas)
            grids = [alphas] * len(penalties)
        cv = (KFold(self.cv, shuffle=True, random_state=0)
              if isinstance(self.cv, Integral) else check_cv(self.cv))
        folds = check_folds(cv.split(problem.X), problem.X.shape[0],
                            f"{type(self).__name__}'s cv")
        _check_folds_have_labels(self.tasks_, problem.Y, folds)
        scorer = self._scorer()
        paths = Parallel(n_jobs=self.n_jobs)(
            delayed(_fold_path)(base, problem, train, test, pen, grid, scorer)
            for pen, grid in zip(penalties, grids, strict=True)
            for train, test in folds)
        # (n_ratios, n_alphas, n_folds), as scikit-learn's mse_path_
        path = np.stack([np.column_stack(paths[i:i + len(folds)])
                         for i in range(0, len(paths), len(folds))])
        mean = np.nanmean(path, axis=2)
        flat = int(np.nanargmin(mean) if scorer is None else np.nanargmax(mean))
        best_ratio, best = np.unravel_index(flat, mean.shape)
        if ratios is None:
            path, alphas_ = path[0], grids[0]
        else:
            alphas_ = np.stack(grids)
            self.ratios_ = ratios
            self.ratio_ = float(ratios[best_ratio])
        if scorer is None:
            self.mse_path_ = path
        else:
            self.scores_path_ = path
        self.alphas_ = alphas_
        self.alpha_ = float(grids[best_ratio][best])
        # Refit on all data along the path down to alpha_ (warm starts): the
        # path fits this estimator itself, which sets every fitted attribute.
        for _ in self.solve_path(problem, grids[best_ratio][:best + 1],
                                 penalty=penalties[best_ratio]):
            pass
        return self


class MultiTaskLinearRegressorCV(_CVMixin, MultiTaskLinearRegressor):
    """:class:`MultiTaskLinearRegressor` with ``alpha`` chosen by cross-validation.

    Each fold fits a warm-started path of ``alpha`` values (folds run in
    parallel through joblib) and scores it on the held-out rows, on their
    labelled entries only; the ``alpha`` with the best mean score over the
    folds is refit on all the data. With ``ratios``, the penalty's second
    hyper-parameter is searched too (a 2-D grid, one path per value); every
    other hyper-parameter of the penalty stays as given.

    Parameters
    ----------
    penalty : Penalty or str, default="l21"
        The penalty whose ``alpha`` is chosen.
    alphas : array-like, default=None
        Values of ``alpha`` to try; None builds ``n_alphas`` values from
        ``alpha_max`` (the smallest ``alpha`` giving ``W = 0``, where the
        penalty has one) down to ``eps * alpha_max``.
    n_alphas : int, default=20
    eps : float, default=1e-3
    ratios : float or array-like, default=None
        Values of the penalty's second hyper-parameter to search jointly
        with ``alpha`` (a 2-D grid): ``l1_ratio`` for :class:`L21` and
        :class:`L1` (as ``MultiTaskElasticNetCV(l1_ratio=[...])``),
        ``sparse_ratio`` for :class:`Dirty` and :class:`SparseLowRank`,
        ``mean_ratio`` for :class:`MeanRegularized` and :class:`MeanLowRank`,
        ``graph_ratio`` for :class:`GraphLaplacian`, ``relationship_ratio`` for
        :class:`TaskRelationship`, ``within_ratio`` for :class:`Clustered`
        (the penalty's ``ratio_name``). Each value gets its own warm-started
        path of ``alpha`` (its own grid from its ``alpha_max``). None keeps
        the penalty's value.
    cv : int, cross-validation generator or iterable, default=5
        Splitting of the rows. An integer gives a *shuffled*
        ``KFold(cv, shuffle=True, random_state=0)``: NaN-masked data with
        different samples per task is often sorted by task, and unshuffled
        folds would leave a task without training labels. Every task needs
        labels in every training fold.
    n_jobs : int, default=None
        Paths (one per fold and ratio) fitted in parallel through joblib.
    scoring : callable or str, default=None
        None selects the smallest masked mean squared error (averaged over
        the outputs); a metric name of :mod:`skmtl.metrics` or a scorer
        ``scorer(estimator, X, Y)`` selects the largest score.
    tasks, fit_intercept, task_weights, solver, max_iter, tol, selection, random_state
        As in :class:`MultiTaskLinearRegressor`.

    Attributes
    ----------
    alpha_ : float
        The chosen ``alpha``.
    alphas_ : ndarray of shape (n_alphas,) or (n_ratios, n_alphas)
        The grid (one row per ratio with ``ratios``).
    ratio_ : float
        The chosen ratio (with ``ratios``).
    ratios_ : ndarray of shape (n_ratios,)
        The ratios searched (with ``ratios``).
    mse_path_ : ndarray of shape (n_alphas, n_folds) or (n_ratios, n_alphas, n_folds)
        Held-out masked MSE (``scoring=None``), weighted by ``sample_weight``.
    scores_path_ : ndarray, same shape
        Held-out scores (when ``scoring`` is given).
    coef_, intercept_, n_iter_, dual_gap_, penalty_, tasks_
        Of the model refit with ``alpha_`` (and ``ratio_``: ``penalty_``
        holds both).

    See Also
    --------
    regularization_path : The path itself.
    sklearn.linear_model.MultiTaskLassoCV : The L2,1 case without missing labels.
    sklearn.linear_model.MultiTaskElasticNetCV : ``L21`` with ``ratios`` as
        its ``l1_ratio`` list.

    Examples
    --------
    >>> from skmtl.datasets import make_multitask_regression
    >>> from skmtl.linear import MultiTaskLinearRegressorCV
    >>> X, Y = make_multitask_regression(n_samples=80, n_features=10, n_tasks=3,
    ...                                  missing_rate=0.2, random_state=0)
    >>> est = MultiTaskLinearRegressorCV("l21", n_alphas=8, cv=3).fit(X, Y)
    >>> est.mse_path_.shape
    (8, 3)
    >>> est = MultiTaskLinearRegressorCV("l21", ratios=[0.5, 1.0], n_alphas=8,
    ...                                  cv=3).fit(X, Y)
    >>> est.mse_path_.shape  # (n_ratios, n_alphas, n_folds)
    (2, 8, 3)
    """

    _base_class = MultiTaskLinearRegressor
    _minimize_mse = True
    _parameter_constraints = {**MultiTaskLinearRegressor._parameter_constraints,
                              **_CVMixin._cv_constraints}
    _parameter_constraints.pop("warm_start")
    _path_params = _CVMixin._path_params + ("selection", "random_state")

    def __init__(self, penalty="l21", *, alphas=None, n_alphas=20, eps=1e-3,
                 ratios=None, cv=5, n_jobs=None, scoring=None, tasks=None,
                 fit_intercept=True, task_weights=None, solver="auto", max_iter=1000,
                 tol=1e-4, selection="cyclic", random_state=None):
        self.penalty = penalty
        self.alphas = alphas
        self.n_alphas = n_alphas
        self.eps = eps
        self.ratios = ratios
        self.cv = cv
        self.n_jobs = n_jobs
        self.scoring = scoring
        self.tasks = tasks
        self.fit_intercept = fit_intercept
        self.task_weights = task_weights
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.selection = selection
        self.random_state = random_state


class MultiTaskLogisticClassifierCV(_CVMixin, MultiTaskLogisticClassifier):
    """:class:`MultiTaskLogisticClassifier` with ``alpha`` chosen by cross-validation.

    Parameters
    ----------
    penalty : Penalty or str, default="l21"
        The penalty whose ``alpha`` is chosen.
    alphas : array-like, default=None
        Values of ``alpha`` to try; None builds ``n_alphas`` values from
        ``alpha_max`` (the smallest ``alpha`` giving ``W = 0``, where the
        penalty has one) down to ``eps * alpha_max``.
    n_alphas : int, default=20
    eps : float, default=1e-3
    ratios : float or array-like, default=None
        Values of the penalty's second hyper-parameter to search jointly
        with ``alpha`` (a 2-D grid): ``l1_ratio`` for :class:`L21` and
        :class:`L1` (as ``MultiTaskElasticNetCV(l1_ratio=[...])``),
        ``sparse_ratio`` for :class:`Dirty` and :class:`SparseLowRank`,
        ``mean_ratio`` for :class:`MeanRegularized` and :class:`MeanLowRank`,
        ``graph_ratio`` for :class:`GraphLaplacian`, ``relationship_ratio`` for
        :class:`TaskRelationship`, ``within_ratio`` for :class:`Clustered`
        (the penalty's ``ratio_name``). Each value gets its own warm-started
        path of ``alpha`` (its own grid from its ``alpha_max``). None keeps
        the penalty's value.
    cv : int, cross-validation generator or iterable, default=5
        Splitting of the rows. An integer gives a *shuffled*
        ``KFold(cv, shuffle=True, random_state=0)``: NaN-masked data with
        different samples per task is often sorted by task, and unshuffled
        folds would leave a task without training labels. Every task needs
        labels in every training fold.
    n_jobs : int, default=None
        Paths (one per fold and ratio) fitted in parallel through joblib.
    scoring : callable or str, default=None
        None: mean over tasks of the masked accuracy; otherwise a metric name
        of :mod:`skmtl.metrics` (e.g. ``"neg_log_loss"``) or a scorer.
    tasks, fit_intercept, task_weights, solver, max_iter, tol
        As in :class:`MultiTaskLogisticClassifier`.

    Attributes
    ----------
    alpha_ : float
    alphas_ : ndarray of shape (n_alphas,) or (n_ratios, n_alphas)
    ratio_, ratios_ : float, ndarray
        With ``ratios``: the chosen ratio and the ratios searched.
    scores_path_ : ndarray of shape (n_alphas, n_folds) or (n_ratios, n_alphas, n_folds)
        Held-out scores per (ratio,) ``alpha`` and fold.
    coef_, intercept_, classes_, n_iter_, penalty_, tasks_
        Of the model refit with ``alpha_``.

    Examples
    --------
    >>> from skmtl.datasets import make_multitask_classification
    >>> from skmtl.linear import MultiTaskLogisticClassifierCV
    >>> X, Y = make_multitask_classification(n_samples=120, n_tasks=2,
    ...                                      class_sep=4.0, random_state=0)
    >>> clf = MultiTaskLogisticClassifierCV(n_alphas=4, cv=3).fit(X, Y)
    >>> clf.scores_path_.shape
    (4, 3)
    """

    _base_class = MultiTaskLogisticClassifier
    _minimize_mse = False
    _parameter_constraints = {**MultiTaskLogisticClassifier._parameter_constraints,
                              **_CVMixin._cv_constraints}
    _parameter_constraints.pop("warm_start")

    def __init__(self, penalty="l21", *, alphas=None, n_alphas=20, eps=1e-3,
                 ratios=None, cv=5, n_jobs=None, scoring=None, tasks=None,
                 fit_intercept=True, task_weights=None, solver="auto", max_iter=1000,
                 tol=1e-4):
        self.penalty = penalty
        self.alphas = alphas
        self.n_alphas = n_alphas
        self.eps = eps
        self.ratios = ratios
        self.cv = cv
        self.n_jobs = n_jobs
        self.scoring = scoring
        self.tasks = tasks
        self.fit_intercept = fit_intercept
        self.task_weights = task_weights
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
