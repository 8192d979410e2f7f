"""From validated data to a datafit, a prepared penalty and a solver run.

Shared by the estimators, the CV estimators and ``regularization_path``:
the public side validates, these helpers build the problem once (Gram
matrices, centering) and solve it for one or many penalties.
"""

import warnings
from typing import NamedTuple

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ..base import resolve_task_weights
from ._datafits import Logistic, Quadratic
from ._registry import resolve_solver
from ._solvers import SolverResult
from ._sweeps import blas_threads

# The estimator that fits the tasks of each linear loss, for messages.
_ESTIMATOR_OF_LOSS = {"squared": "MultiTaskLinearRegressor",
                      "logistic": "MultiTaskLogisticClassifier"}


class Problem(NamedTuple):
    """One validated fitting problem: the datafit and what built it.

    ``X`` and ``Y`` are the validated arrays, ``sample_weight`` the validated
    weights (None for unit weights) and ``column_task`` the task of each
    model column.
    """

    datafit: object
    column_task: np.ndarray
    X: object
    Y: np.ndarray
    sample_weight: np.ndarray | None


def check_linear_tasks(estimator, tasks, loss):
    """Raise ``ValueError`` unless the ``loss`` datafit serves every task.

    Each task type says which linear datafit serves it
    (:meth:`~skmtl.TaskType.linear_datafit`, which itself refuses the types
    that no linear datafit serves, naming the type).
    """
    for task in tasks:
        served = task.type_.linear_datafit(task)
        if served != loss:
            raise ValueError(
                f"task {task.name!r} is a {task.type} task, which the {served} "
                f"loss fits; {type(estimator).__name__} fits tasks of the {loss} "
                f"loss (use {_ESTIMATOR_OF_LOSS.get(served, 'another estimator')} "
                f"for {task.type} tasks).")


def regression_problem(estimator, X, Y, sample_weight, tasks, fit_intercept,
                       task_weights):
    """Squared-loss datafit (one model column per output of ``Y``)."""
    check_linear_tasks(estimator, tasks, "squared")
    weights = resolve_task_weights(task_weights, tasks)
    column_task = np.concatenate([np.full(t.n_outputs, i) for i, t in enumerate(tasks)])
    column_weights = weights[column_task]
    datafit = Quadratic(X, np.asarray(Y, dtype=float), sample_weight, column_weights,
                        fit_intercept=fit_intercept)
    return datafit, column_task


def _n_auxiliary(task):
    """Raw outputs after the logits that a linear model does not fit (the
    imputed error of ``counterfactual="dr"``, a term of the neural loss
    only): raw_outputs gives them as zeros."""
    return int(task.counterfactual == "dr")


def classification_layout(tasks):
    """Model columns of the tasks of the logistic loss.

    A task whose raw outputs are one logit per column of ``Y``
    (``n_model_outputs == n_outputs``) gets one sigmoid column per output;
    a task whose raw outputs are the logits of its classes gets one softmax
    group of ``n_classes`` columns, or one sigmoid column for two classes
    (the same model, as scikit-learn's ``LogisticRegression``).

    Returns ``groups`` (one array of columns per task output), ``column_task``
    (the task of each column) and ``layout`` (per task, a list of
    ``(Y column, model columns, kind)`` with kind ``"sigmoid"`` / ``"softmax"``).
    """
    groups, column_task, layout = [], [], []
    start = 0
    for index, task in enumerate(tasks):
        n_classes = len(task.classes_)
        per_column = task.n_model_outputs - _n_auxiliary(task) == task.n_outputs
        entries = []
        for y_col in task.columns_:
            width = 1 if (per_column or n_classes == 2) else n_classes
            cols = np.arange(start, start + width)
            start += width
            groups.append(cols)
            column_task.extend([index] * width)
            entries.append((int(y_col), cols, "sigmoid" if width == 1 else "softmax"))
        layout.append(entries)
    return groups, np.asarray(column_task), layout


def raw_outputs(tasks, layout, Z):
    """Each task's raw outputs (what ``TaskType.transform`` reads) from the
    linear scores ``Z`` of the logistic model."""
    raw = []
    for task, entries in zip(tasks, layout, strict=True):
        if task.n_model_outputs - _n_auxiliary(task) == task.n_outputs:
            columns = [Z[:, cols[0]] for _, cols, _ in entries]
            columns += [np.zeros(len(Z))] * _n_auxiliary(task)
            raw.append(np.column_stack(columns))
        elif entries[0][2] == "sigmoid":
            z = Z[:, entries[0][1][0]]
            raw.append(np.column_stack([np.zeros_like(z), z]))
        else:
            raw.append(Z[:, entries[0][1]])
    return raw


def classification_problem(estimator, X, T_encoded, tasks, sample_weight,
                           fit_intercept, task_weights):
    """Logistic datafit for the tasks of the logistic loss."""
    check_linear_tasks(estimator, tasks, "logistic")
    for task in tasks:
        task.type_.check_trainable(task)
    groups, column_task, layout = classification_layout(tasks)
    weights = resolve_task_weights(task_weights, tasks)
    n = X.shape[0]
    M = len(column_task)
    T = np.full((n, M), np.nan)
    group_weights = []
    for index, entries in enumerate(layout):
        for y_col, cols, _ in entries:
            T[:, cols] = T_encoded[:, [y_col]]
            group_weights.append(weights[index])
    datafit = Logistic(X, T, groups, sample_weight, group_weights,
                       fit_intercept=fit_intercept)
    return datafit, column_task, layout


def initial_variable(penalty, p, M, coef=None):
    """Zero (or warm-start) solver variable for ``penalty``."""
    if penalty.n_parts > 1:
        V = np.zeros((penalty.n_parts, p, M))
        if coef is not None:
            V[0] = coef
        return V
    return np.zeros((p, M)) if coef is None else np.array(coef, dtype=float)


def solve(datafit, penalty, column_task, solver, V0, b0=None, max_iter=1000,
          tol=1e-4, warn=True, owner="estimator", state=None, **options):
    """Prepare the penalty for this problem, run the solver, warn if it stops early.

    The prepared penalty (task matrices, factorizations, a learned task
    covariance) lives only in this call: ``penalty`` is never changed.
    ``solver`` is a name or a :class:`~skmtl.linear.Solver`; ``options``
    (``selection``, ``random_state``) reach the named solvers that take
    them. ``state`` continues a run that stopped at ``max_iter`` (see
    ``SolverResult.state``). Returns ``(result, solver name)``; a
    ``ConvergenceWarning`` is raised when ``warn`` and the solver stops at
    ``max_iter``.
    """
    prepared = penalty.prepare(column_task)
    solver = resolve_solver(solver, prepared, datafit, type(penalty).__name__,
                            **options)
    learns_structure = hasattr(prepared, "structure_step")
    if datafit.trivial:
        # W = 0 is optimal for every penalty (constant targets).
        V = np.zeros_like(V0)
        W = prepared.coef(V)
        result = SolverResult(V, datafit.intercept(W, b0), 0, 0.0, True, [0.0],
                              inner_iter=0)
    else:
        with blas_threads(datafit.gradient_cost()):
            result = solver.solve(datafit, prepared, V0, b0, max_iter=max_iter,
                                  tol=tol, state=state)
    if learns_structure:
        # The task structure that goes with the solution (a function of W).
        prepared.structure_step(prepared.coef(result.coef))
        result.task_covariance = prepared.task_covariance
    if warn and not result.converged:
        criterion = ("duality gap" if np.isfinite(result.dual_gap)
                     else "relative objective change")
        warnings.warn(
            f"{owner}: solver {solver.name!r} did not converge in max_iter="
            f"{max_iter} iterations ({criterion} above tol={tol}); increase "
            f"max_iter, raise tol or scale the features.", ConvergenceWarning,
            stacklevel=3)
    return result, solver.name
