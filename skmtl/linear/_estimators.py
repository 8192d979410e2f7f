"""Regularized linear multi-task estimators (squared and logistic losses)."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.utils._param_validation import Interval, StrOptions

from ..base import MultiTaskMixin, unfit_on_error
from ..utils._registry import resolve_components
from ..utils._validation import check_sample_weight
from ._problem import (
    Problem,
    classification_problem,
    initial_variable,
    raw_outputs,
    regression_problem,
    solve,
)
from ._registry import PENALTY_REGISTRY, SOLVERS, resolve_penalty
from ._solvers import Solver
from ._structured import task_correlation

__all__ = ["MultiTaskLinearRegressor", "MultiTaskLogisticClassifier"]


def coef_attributes(W, b, y_was_1d):
    """``(coef_, intercept_)`` of a regressor from its full coefficients.

    ``W`` of shape (n_outputs, n_features) and ``b`` of shape (n_outputs,)
    are copied; for a 1-D ``y`` they become a vector and a float, as in
    scikit-learn.
    """
    if y_was_1d:
        return W[0].copy(), float(b[0])
    return W.copy(), b.copy()


class _LinearMultiTask:
    # Comes first in the bases, before MultiTaskMixin (whose masked score wins
    # over RegressorMixin's / ClassifierMixin's).
    _accept_sparse = True

    _parameter_constraints = {
        "penalty": "no_validation",
        "tasks": "no_validation",
        "fit_intercept": ["boolean"],
        "task_weights": "no_validation",
        "solver": [StrOptions(set(SOLVERS)), Solver],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
    }

    def __init__(self, penalty="l21", *, tasks=None, fit_intercept=True,
                 task_weights=None, solver="auto", max_iter=1000, tol=1e-4,
                 warm_start=False):
        self.penalty = penalty
        self.tasks = tasks
        self.fit_intercept = fit_intercept
        self.task_weights = task_weights
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start

    def set_params(self, **params):
        """Set parameters; ``penalty__alpha=...`` also works on a string penalty.

        A penalty given by name (here or in the same call) is first replaced
        by the penalty object with its defaults, so that
        ``GridSearchCV(est, {"penalty__alpha": [...]})`` works on
        ``MultiTaskLinearRegressor(penalty="l21")``.
        """
        params = resolve_components(self, params, {"penalty": (PENALTY_REGISTRY, None)})
        return super().set_params(**params)

    def _warm_start(self, penalty, solver, p, M):
        """Starting variable, intercepts and solver state of this fit.

        With ``warm_start``, the previous fit's variable (if its shape
        fits); its solver state too when that fit stopped at ``max_iter``
        with the same penalty and solver, so that the solver continues
        where it stopped.
        """
        previous = getattr(self, "_solver_variable", None)
        start = initial_variable(penalty, p, M)
        if not (getattr(self, "warm_start", False) and previous is not None
                and previous.shape == start.shape):
            return start, None, None
        state = None
        resume = getattr(self, "_resume", None)
        if (resume is not None and resume["solver"] == solver
                and resume["penalty"] == penalty):
            state = resume["state"]
        return previous.copy(), self._solver_intercept, state

    def _solver_options(self):
        return {}

    def solve_path(self, problem, alphas, penalty=None):
        """Fit ``problem`` for each alpha in turn, warm-started; yield after each.

        The path interface that :func:`regularization_path` and the CV
        estimators use: build the problem once with :meth:`build_problem`,
        then fit it (or row subsets of it, rebuilt per fold) along a
        decreasing grid, each fit starting from the previous solution.

        Parameters
        ----------
        problem : Problem
            What :meth:`build_problem` returned.
        alphas : iterable of float or None
            The values of ``alpha``, in order; None keeps the penalty's own.
        penalty : Penalty, default=None
            The penalty to use (default: the estimator's). It is copied for
            each ``alpha``; neither it nor ``self.penalty`` is changed.

        Yields
        ------
        self : object
            Fitted at the current ``alpha``: every fitted attribute is set.
        """
        datafit, column_task = problem.datafit, problem.column_task
        p, M = datafit.n_features, datafit.n_columns
        # float32 X gives float32 coefficients (and predictions), as in
        # scikit-learn; the solvers compute in float64.
        dtype = np.float32 if problem.X.dtype == np.float32 else np.float64
        penalty = resolve_penalty(self.penalty if penalty is None else penalty)
        V, b, state = self._warm_start(penalty, self.solver, p, M)
        alphas = list(alphas)
        if hasattr(datafit, "mixed_precision"):
            # One solve: a float32 Gram matrix refined in float64 is cheaper;
            # a path reuses the float64 one for every alpha.
            datafit.mixed_precision = len(alphas) == 1
        for alpha in alphas:
            if alpha is not None:
                penalty = clone(penalty).set_params(alpha=float(alpha))
            result, solver = solve(datafit, penalty, column_task, self.solver, V, b,
                                   max_iter=self.max_iter, tol=self.tol,
                                   owner=type(self).__name__, state=state,
                                   **self._solver_options())
            V, b, state = result.coef, result.intercept, None
            self._store(penalty, result, solver, column_task, dtype)
            yield self

    def _fit_problem(self, problem):
        for _ in self.solve_path(problem, [None]):
            pass
        return self

    def _store(self, penalty, result, solver, column_task, dtype=np.float64):
        W = penalty.coef(result.coef) if penalty.n_parts > 1 else result.coef
        self.penalty_ = penalty
        self.solver_ = solver
        self._solver_variable = result.coef
        self._solver_intercept = np.asarray(result.intercept, dtype=float)
        self._resume = {"solver": self.solver, "penalty": penalty,
                        "state": result.state}
        self._intercept_full = np.asarray(result.intercept, dtype=dtype)
        self._coef_full = W.T.astype(dtype)
        self.n_iter_ = result.n_iter
        self.n_inner_iter_ = result.inner_iter
        self.dual_gap_ = result.dual_gap
        self.objective_ = np.asarray(result.objective)
        for name, part in zip(penalty.part_names, result.coef, strict=False):
            setattr(self, f"{name}_coef_", part.T.astype(dtype))
        if result.task_covariance is not None:
            # Float64 whatever X: a learned structure, not a prediction weight.
            self.task_covariance_ = result.task_covariance
            self.task_correlation_ = task_correlation(result.task_covariance)
        self._set_coef_attributes(column_task)

    def _raw(self, X):
        return np.asarray(X @ self._coef_full.T) + self._intercept_full

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class MultiTaskLinearRegressor(_LinearMultiTask, MultiTaskMixin, RegressorMixin,
                               BaseEstimator):
    r"""Regularized linear regression of several tasks at once.

    Minimizes, over ``W`` (n_features, n_outputs) and intercepts ``b``,

    .. math::
        \sum_k \frac{\lambda_k}{2 n_k} \sum_{i \in L_k} s_i
            (y_{ik} - x_i^\top w_k - b_k)^2 + \Omega(W)

    where :math:`L_k` are the rows where output ``k`` is labelled (``Y`` is
    NaN elsewhere) and :math:`\Omega` is the penalty that makes the tasks
    share structure.

    Parameters
    ----------
    penalty : Penalty or str, default="l21"
        What the tasks share: a penalty object (:class:`L21`, :class:`L1`,
        :class:`Ridge`, :class:`TraceNorm`, :class:`MeanRegularized`,
        :class:`GraphLaplacian`, :class:`Clustered`, :class:`Dirty`,
        :class:`TaskRelationship`, :class:`SparseLowRank`,
        :class:`MeanLowRank`) whose parameters
        reach ``set_params`` and ``GridSearchCV`` as ``penalty__alpha``, or a
        name from ``skmtl.linear.PENALTIES`` (``"l21"``, ``"trace_norm"`` or
        its short name ``"trace"``, ...: the penalty with its defaults). The
        penalty object is never changed by ``fit``.
    tasks : list of Task, default=None
        Task of each column of ``Y`` (a DataFrame's columns are matched to
        them by name); None makes one task per column, named after the
        DataFrame's columns.
    fit_intercept : bool, default=True
        Fit one intercept per model column (not penalized).
    task_weights : sequence or dict, default=None
        ``lambda_k`` multiplying each task's averaged loss (see Notes).
    solver : {"auto", "gram_cd", "cd", "fista", "alternating"} or Solver
        Default ``"auto"``. ``"fista"`` (:class:`FISTA`): accelerated
        proximal gradient with restart, on the Gram matrix (built once)
        when ``n_features < 2 n_samples`` and the Gram matrices fit in
        memory, on ``X`` otherwise; ``"cd"``
        (:class:`CoordinateDescent`): working-set block coordinate descent
        with gap-safe screening and dual extrapolation (squared loss,
        row-separable penalties: :class:`L1`, :class:`L21`, :class:`Ridge`),
        on the rows of the Gram matrix that its working sets need or through
        ``X`` in the same cases; ``"gram_cd"``
        (:class:`GramCoordinateDescent`): the same with every product on the
        Gram matrix, one per task with missing labels; ``"alternating"``
        (:class:`Alternating`): alternating minimization (:class:`Clustered`,
        :class:`TaskRelationship`). ``"auto"`` picks ``"gram_cd"`` when
        ``n_samples > n_features`` and the Gram matrices (one per task
        column with missing labels) hold at most 2.5e7 entries, otherwise
        the first of ``"cd"``, ``"fista"``, ``"alternating"`` that has what
        it needs of the penalty and the datafit. A solver object (one of
        these with other options, or a :class:`Solver` of your own) is used
        as given. A solver that cannot handle the penalty fails with a
        message naming the missing capability.
    max_iter : int, default=1000
        Maximum number of iterations (outer iterations for ``"cd"`` and
        ``"alternating"``). It bounds the inner work too: each outer
        iteration of ``"cd"`` runs at most 100 sweeps over its working set
        (1000 proximal steps when the working set is one block of at most 64
        features), each outer iteration of ``"alternating"`` at most 1000
        FISTA steps, so a fit makes at most ``1000 * max_iter`` inner
        iterations (``n_inner_iter_``) whatever ``tol``.
    tol : float, default=1e-4
        Stop when the duality gap is below ``tol`` times the loss of the
        intercept-only model (squared loss with a penalty that has a
        conjugate, as scikit-learn's ``MultiTaskLasso``), otherwise when the
        relative change of the objective is below ``tol``.
    warm_start : bool, default=False
        Start from the previous fit's coefficients. When that fit stopped at
        ``max_iter`` with the same penalty and solver, the solver also
        continues from its own state (momentum, working set), so fitting
        ``k`` iterations twice equals fitting ``2 k`` once. ``n_iter_``
        counts the iterations of the last call, as in scikit-learn.
    selection : {"cyclic", "random"}, default="cyclic"
        Order in which each sweep of ``solver="cd"`` visits the blocks of
        features of its working set: in turn, or in a new random order every
        sweep, as scikit-learn's ``selection``. It changes the path to the
        solution, not the solution; no effect on the other solvers (or on a
        working set of one block, which is solved by FISTA).
    random_state : int, RandomState instance or None, default=None
        Seed of the random order (``selection="random"``).

    Attributes
    ----------
    coef_ : ndarray of shape (n_outputs, n_features)
        One row per column of ``Y`` (``(n_features,)`` for 1-D ``y``).
    intercept_ : ndarray of shape (n_outputs,) or float
    n_iter_ : int
        Iterations run by the solver in the last call to ``fit``.
    n_inner_iter_ : int or None
        Inner iterations of the last fit: sweeps over working sets
        (``"cd"``), FISTA steps (``"alternating"``); None for ``"fista"``.
    dual_gap_ : float
        Final duality gap (NaN when the penalty has no conjugate).
    objective_ : ndarray
        Objective value after each iteration (each check for ``"cd"``).
    penalty_ : Penalty
        The penalty of the fit (a copy of ``penalty``, with the ``alpha``
        chosen by the CV estimators); hyper-parameters only.
    solver_ : str
        The solver used.
    group_coef_, sparse_coef_ : ndarray of shape (n_outputs, n_features)
        For :class:`Dirty`: the group-sparse and element-sparse parts of
        ``coef_``.
    low_rank_coef_, sparse_coef_ : ndarray of shape (n_outputs, n_features)
        For :class:`SparseLowRank`: the low-rank and sparse parts.
    mean_coef_, low_rank_coef_ : ndarray of shape (n_outputs, n_features)
        For :class:`MeanLowRank`: the shared model (every row the same) and
        the low-rank deviations.
    task_covariance_, task_correlation_ : ndarray of shape (n_outputs, n_outputs)
        For :class:`TaskRelationship` and :class:`Clustered`: the learned
        task covariance and its correlation form.
    tasks_ : list of Task
    n_features_in_ : int
    n_outputs_ : int

    See Also
    --------
    MultiTaskLinearRegressorCV : Choose ``alpha`` by cross-validation.
    MultiTaskLogisticClassifier : The same penalties with the logistic loss.
    sklearn.linear_model.MultiTaskLasso : The L21 penalty without missing labels.

    Notes
    -----
    With ``D_ik = lambda_k s_i / n_k`` on labelled entries (``s`` the sample
    weights, ``n_k`` the summed weight of task ``k``'s labelled rows, 0 where a
    label is missing), each task's loss is averaged over its own labelled
    rows and multiplied by its task weight. With every label present, unit
    weights and the squared loss this is scikit-learn's
    ``1/(2 n) ||Y - X W||_F^2``, so ``penalty=L21(alpha)`` equals
    ``MultiTaskLasso(alpha)``. Task weights are used as given (not
    normalized).

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.datasets import make_multitask_regression
    >>> from skmtl.linear import L21, MultiTaskLinearRegressor
    >>> X, Y = make_multitask_regression(n_samples=100, n_features=10, n_tasks=3,
    ...                                  n_informative=3, missing_rate=0.2,
    ...                                  random_state=0)
    >>> est = MultiTaskLinearRegressor(penalty=L21(alpha=0.05)).fit(X, Y)
    >>> est.coef_.shape
    (3, 10)
    >>> int((np.abs(est.coef_).sum(axis=0) > 0).sum())  # features kept by all tasks
    3
    """

    _default_task_type = "regressor"
    _parameter_constraints = {
        **_LinearMultiTask._parameter_constraints,
        "selection": [StrOptions({"cyclic", "random"})],
        "random_state": ["random_state"],
    }

    def __init__(self, penalty="l21", *, tasks=None, fit_intercept=True,
                 task_weights=None, solver="auto", max_iter=1000, tol=1e-4,
                 warm_start=False, selection="cyclic", random_state=None):
        super().__init__(penalty, tasks=tasks, fit_intercept=fit_intercept,
                         task_weights=task_weights, solver=solver,
                         max_iter=max_iter, tol=tol, warm_start=warm_start)
        self.selection = selection
        self.random_state = random_state

    def _solver_options(self):
        return {"selection": self.selection, "random_state": self.random_state}

    @unfit_on_error
    def fit(self, X, y, sample_weight=None):
        """Fit the model on NaN-masked targets.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets ``Y``, one column per task output, ``NaN`` where missing.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each row in every task's loss: 0 drops the row, an
            integer ``k`` counts it ``k`` times. Negative, NaN or infinite
            weights, a wrong length or all-zero weights raise ``ValueError``.

        Returns
        -------
        self : object
        """
        return self._fit_problem(self.build_problem(X, y, sample_weight))

    def build_problem(self, X, y, sample_weight=None):
        """Validate the data and build the solver's problem; see :meth:`solve_path`.

        Checks the parameters, infers ``tasks_`` and returns the
        ``Problem`` (datafit, column-to-task map, the
        validated ``X``, ``Y`` and ``sample_weight``).
        """
        self._validate_params()
        X, Y = self._validate_fit_data(X, y)
        sample_weight = check_sample_weight(sample_weight, X.shape[0])
        datafit, column_task = regression_problem(
            self, X, Y, sample_weight, self.tasks_, self.fit_intercept,
            self.task_weights)
        return Problem(datafit, column_task, X, Y, sample_weight)

    def _set_coef_attributes(self, column_task):
        self.coef_, self.intercept_ = coef_attributes(
            self._coef_full, self._intercept_full, self._y_was_1d)

    def predict(self, X):
        """Predict every task for every row.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        Y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        X = self._validate_X(X)
        return self._format_prediction(self._raw(X))


class MultiTaskLogisticClassifier(_LinearMultiTask, MultiTaskMixin, ClassifierMixin,
                                  BaseEstimator):
    r"""Regularized logistic regression of several classification tasks at once.

    Minimizes

    .. math::
        \sum_k \frac{\lambda_k}{n_k} \sum_{i \in L_k} s_i\,
            \ell_k(y_{ik}, x_i^\top W_k + b_k) + \Omega(W)

    with :math:`\ell_k` the logistic loss of a two-class task or binary
    column (one model column) and the multinomial (softmax) loss of a task
    with more than two classes (one model column per class).

    Parameters
    ----------
    penalty : Penalty or str, default="l21"
        What the tasks share: a penalty object (:class:`L21`, :class:`L1`,
        :class:`Ridge`, :class:`TraceNorm`, :class:`MeanRegularized`,
        :class:`GraphLaplacian`, :class:`Clustered`, :class:`Dirty`,
        :class:`TaskRelationship`, :class:`SparseLowRank`,
        :class:`MeanLowRank`) whose parameters
        reach ``set_params`` and ``GridSearchCV`` as ``penalty__alpha``, or a
        name from ``skmtl.linear.PENALTIES`` (``"l21"``, ``"trace_norm"`` or
        its short name ``"trace"``, ...: the penalty with its defaults). The
        penalty object is never changed by ``fit``.
    tasks : list of Task, default=None
        Task of each column of ``Y`` (a DataFrame's columns are matched to
        them by name); None makes one task per column, named after the
        DataFrame's columns.
    fit_intercept : bool, default=True
        Fit one intercept per model column (not penalized).
    task_weights : sequence or dict, default=None
        ``lambda_k`` multiplying each task's averaged loss (see Notes).
    solver : {"auto", "fista", "cd", "alternating"} or Solver, default="auto"
        ``"fista"`` (:class:`FISTA`): accelerated proximal gradient with
        restart, the one that fits the logistic loss with any penalty that
        has a proximal operator; ``"alternating"`` (:class:`Alternating`):
        alternating minimization (:class:`Clustered`,
        :class:`TaskRelationship`); ``"cd"`` and ``"gram_cd"`` fit the
        squared loss only and refuse it with a message. ``"auto"`` picks the
        first that has what it needs of the penalty and the datafit. A
        solver object (one of these with other options, or a :class:`Solver`
        of your own) is used as given. A solver that cannot handle the
        penalty fails with a message naming the missing capability.
    max_iter : int, default=1000
        Maximum number of iterations (outer iterations for ``"cd"`` and
        ``"alternating"``). It bounds the inner work too: each outer
        iteration of ``"cd"`` runs at most 100 sweeps over its working set
        (1000 proximal steps when the working set is one block of at most 64
        features), each outer iteration of ``"alternating"`` at most 1000
        FISTA steps, so a fit makes at most ``1000 * max_iter`` inner
        iterations (``n_inner_iter_``) whatever ``tol``.
    tol : float, default=1e-4
        Stop when the duality gap is below ``tol`` times the loss of the
        intercept-only model (squared loss with a penalty that has a
        conjugate, as scikit-learn's ``MultiTaskLasso``), otherwise when the
        relative change of the objective is below ``tol``.
    warm_start : bool, default=False
        Start from the previous fit's coefficients. When that fit stopped at
        ``max_iter`` with the same penalty and solver, the solver also
        continues from its own state (momentum, working set), so fitting
        ``k`` iterations twice equals fitting ``2 k`` once. ``n_iter_``
        counts the iterations of the last call, as in scikit-learn.

    Attributes
    ----------
    coef_ : ndarray of shape (n_model_columns, n_features)
        One row per model column: a two-class task or a binary column has one
        row (the logit of its second class), a task with ``C > 2`` classes has
        ``C`` rows (one score per class, in the order of its ``classes_``).
        ``coef_task_`` gives the task index of each row.
    intercept_ : ndarray of shape (n_model_columns,)
    coef_task_ : ndarray of shape (n_model_columns,)
    classes_ : ndarray or list of ndarray
        Class labels, per column of ``Y``.
    n_iter_ : int
    dual_gap_ : float
        NaN (convergence is measured by the relative objective change).
    objective_ : ndarray
    penalty_ : Penalty
    task_covariance_, task_correlation_ : ndarray
        For :class:`TaskRelationship` and :class:`Clustered` (over model
        columns).
    tasks_ : list of Task

    See Also
    --------
    MultiTaskLogisticClassifierCV : Choose ``alpha`` by cross-validation.
    MultiTaskLinearRegressor : The squared-loss version.

    Notes
    -----
    With ``D_ik = lambda_k s_i / n_k`` on labelled entries (``s`` the sample
    weights, ``n_k`` the summed weight of task ``k``'s labelled rows, 0 where a
    label is missing), each task's loss is averaged over its own labelled
    rows and multiplied by its task weight. With every label present, unit
    weights and the logistic loss this is scikit-learn's
    ``LogisticRegression(C)`` up to the scaling ``Ridge(alpha=1 / (C n))``.
    Task weights are used as given (not normalized).

    Penalties that couple tasks treat every model column as a task, so the
    classes of a multinomial task are coupled like tasks; use binary tasks
    when that is not wanted.

    Examples
    --------
    >>> from skmtl.datasets import make_multitask_classification
    >>> from skmtl.linear import MultiTaskLogisticClassifier
    >>> X, Y = make_multitask_classification(n_samples=200, n_tasks=3,
    ...                                      class_sep=4.0, random_state=0)
    >>> clf = MultiTaskLogisticClassifier(penalty="l21").fit(X, Y)
    >>> clf.predict(X[:2]).shape
    (2, 3)
    """

    _default_task_type = "classifier"

    @unfit_on_error
    def fit(self, X, y, sample_weight=None):
        """Fit the classifier on NaN-masked class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels, one column per task output, ``NaN`` (or None) where
            missing.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each row in every task's loss: 0 drops the row, an
            integer ``k`` counts it ``k`` times. Negative, NaN or infinite
            weights, a wrong length or all-zero weights raise ``ValueError``.

        Returns
        -------
        self : object
        """
        return self._fit_problem(self.build_problem(X, y, sample_weight))

    def build_problem(self, X, y, sample_weight=None):
        """Validate the data and build the solver's problem; see :meth:`solve_path`.

        Checks the parameters, infers ``tasks_`` and returns the
        ``Problem`` (datafit, column-to-task map, the
        validated ``X``, ``Y`` and ``sample_weight``).
        """
        self._validate_params()
        X, Y = self._validate_fit_data(X, y)
        sample_weight = check_sample_weight(sample_weight, X.shape[0])
        T = self._encode_targets(Y)
        datafit, column_task, layout = classification_problem(
            self, X, T, self.tasks_, sample_weight, self.fit_intercept,
            self.task_weights)
        self._layout = layout
        columns = [t.classes_ for t in self.tasks_ for _ in t.columns_]
        self.classes_ = columns[0] if len(columns) == 1 else columns
        return Problem(datafit, column_task, X, Y, sample_weight)

    def _set_coef_attributes(self, column_task):
        self.coef_ = self._coef_full.copy()
        self.intercept_ = self._intercept_full.copy()
        self.coef_task_ = column_task

    def _raw_per_task(self, X):
        return raw_outputs(self.tasks_, self._layout, self._raw(X))

    def predict(self, X):
        """Predict the class of every task for every row.

        Returns
        -------
        Y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        X = self._validate_X(X)
        return self._format_prediction(self._decode_raw(self._raw_per_task(X)))

    def predict_proba(self, X):
        """Class probabilities per column of ``Y``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes) or list of ndarray
            One array per column of ``Y`` (columns ordered as ``classes_``);
            the array itself when ``Y`` has one column.
        """
        X = self._validate_X(X)
        return self._proba_from_raw(self._raw_per_task(X))

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        proba = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            if isinstance(proba, list):
                return [np.log(p) for p in proba]
            return np.log(proba)
