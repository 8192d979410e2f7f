"""From validated data to a datafit, a prepared penalty and a solver run.

Shared by the estimators, the CV estimators and ``regularization_path``:
the public side validates, these helpers build the problem once (Gram
matrices, centering) and solve it for one or many penalties.
"""

import warnings
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from ..base import resolve_task_weights
from ._cd import coordinate_descent
from ._datafits import Logistic, Quadratic
from ._solvers import (
    SolverResult,
    alternating,
    check_capabilities,
    choose_solver,
    fista,
)
from ._sweeps import blas_threads


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


def regression_problem(estimator, X, Y, sample_weight, tasks, fit_intercept,
                       task_weights):
    """Squared-loss datafit for regression tasks (one model column per output)."""
    for task in tasks:
        if task.type != "regression":
            raise ValueError(
                f"task {task.name!r} is a {task.type} task; "
                f"{type(estimator).__name__} fits regression tasks (use "
                f"MultiTaskLogisticClassifier for classification and binary tasks).")
        if task.loss not in (None, "squared_error"):
            raise ValueError(
                f"task {task.name!r} asks for loss={task.loss!r}; linear multi-task "
                f"models use the squared error.")
    weights = resolve_task_weights(task_weights, tasks)
    column_task = np.concatenate([np.full(t.n_outputs, i) for i, t in enumerate(tasks)])
    column_weights = weights[column_task]
    datafit = Quadratic(X, np.asarray(Y, dtype=float), sample_weight, column_weights,
                        fit_intercept=fit_intercept)
    return datafit, column_task


def classification_layout(tasks):
    """Model columns of classification / binary tasks.

    Returns ``groups`` (one array of columns per task output), ``column_task``
    (the task of each column) and ``layout`` (per task, a list of
    ``(Y column, model columns, kind)`` with kind ``"binary"`` / ``"softmax"``).
    """
    groups, column_task, layout = [], [], []
    start = 0
    for index, task in enumerate(tasks):
        if not task.is_classification:
            raise ValueError(
                f"task {task.name!r} is a {task.type} task; "
                f"MultiTaskLogisticClassifier fits classification and binary tasks "
                f"(use MultiTaskLinearRegressor for regression tasks).")
        n_classes = len(task.classes_)
        if n_classes < 2:
            raise ValueError(
                f"task {task.name!r} has only one class ({task.classes_[0]!r}) in Y; "
                f"a classifier needs at least two classes per task.")
        entries = []
        for y_col in task.columns_:
            width = 1 if (task.type == "binary" or n_classes == 2) else n_classes
            cols = np.arange(start, start + width)
            start += width
            groups.append(cols)
            column_task.extend([index] * width)
            entries.append((int(y_col), cols, "binary" if width == 1 else "softmax"))
        layout.append(entries)
    return groups, np.asarray(column_task), layout


def classification_problem(X, T_encoded, tasks, sample_weight, fit_intercept,
                           task_weights):
    """Logistic datafit for classification / binary tasks."""
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


def _product_size(datafit):
    """Multiply-adds of one gradient: small problems run on one BLAS thread."""
    X = datafit.X
    per_column = X.nnz if sp.issparse(X) else X.shape[0] * X.shape[1]
    if getattr(datafit, "mode", "x") == "gram":
        per_column = min(per_column, X.shape[1] ** 2)
    return per_column * datafit.n_columns


def solve(datafit, penalty, column_task, solver, V0, b0=None, max_iter=1000, tol=1e-4,
          warn=True, owner="estimator", selection="cyclic", random_state=None,
          state=None):
    """Prepare the penalty for this problem, run the solver, warn if it stops early.

    The prepared penalty (task matrices, factorizations, a learned task
    covariance) lives only in this call: ``penalty`` is never changed.
    ``state`` continues a run that stopped at ``max_iter`` (see
    ``SolverResult.state``). Returns ``(result, solver)``; a
    ``ConvergenceWarning`` is raised when ``warn`` and the solver stops at
    ``max_iter``.
    """
    prepared = penalty.prepare(column_task)
    if solver == "auto":
        solver = choose_solver(prepared, datafit)
    check_capabilities(solver, prepared, datafit, name=type(penalty).__name__)
    learns_structure = hasattr(prepared, "structure_step")
    if datafit.is_quadratic and datafit.yy == 0:
        # Constant targets: W = 0 is optimal for every penalty.
        V = np.zeros_like(V0)
        W = prepared.coef(V)
        covariance = None
        if learns_structure:
            prepared.structure_step(W)
            covariance = prepared.task_covariance
        return SolverResult(V, datafit.intercept(W), 0, 0.0, True, [0.0],
                            inner_iter=0, task_covariance=covariance), solver
    with blas_threads(_product_size(datafit)):
        if solver == "cd":
            result = coordinate_descent(datafit, prepared, V0, max_iter=max_iter,
                                        tol=tol, selection=selection,
                                        random_state=random_state, state=state)
        elif solver == "alternating":
            result = alternating(datafit, prepared, V0, b0=b0, max_iter=max_iter,
                                 tol=tol, inner_max_iter=1000)
        else:
            result = fista(datafit, prepared, V0, b0=b0, max_iter=max_iter, tol=tol,
                           state=state)
            if learns_structure:
                # The task structure that goes with the solution.
                prepared.structure_step(prepared.coef(result.coef))
    if learns_structure:
        result.task_covariance = prepared.task_covariance
    if warn and not result.converged:
        criterion = ("duality gap" if np.isfinite(result.dual_gap)
                     else "relative objective change")
        warnings.warn(
            f"{owner}: solver {solver!r} did not converge in max_iter={max_iter} "
            f"iterations ({criterion} above tol={tol}); increase max_iter, raise tol "
            f"or scale the features.", ConvergenceWarning, stacklevel=3)
    return result, solver
