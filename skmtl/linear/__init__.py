"""Regularized linear multi-task models: penalties, solvers, paths and CV.

``W`` (n_features, n_tasks) is learned with a datafit (squared loss for
regression, logistic for classification) averaged over each task's labelled
rows, plus a penalty that makes the tasks share structure. See
:class:`MultiTaskLinearRegressor` and :class:`MultiTaskLogisticClassifier`.
"""

from ._average import LinearModelAverage
from ._cd import CoordinateDescent
from ._composite import MeanLowRank, SparseLowRank
from ._cv import (
    MultiTaskLinearRegressorCV,
    MultiTaskLogisticClassifierCV,
    regularization_path,
)
from ._datafits import Datafit
from ._estimators import MultiTaskLinearRegressor, MultiTaskLogisticClassifier
from ._gram_cd import GramCoordinateDescent
from ._penalties import L1, L21, Dirty, Penalty, Ridge, TraceNorm
from ._quadratic import GraphLaplacian, MeanRegularized
from ._registry import PENALTIES, SOLVERS
from ._solvers import FISTA, Alternating, Solver, SolverResult
from ._structured import Clustered, TaskRelationship

__all__ = [
    "PENALTIES",
    "SOLVERS",
    "Alternating",
    "Clustered",
    "CoordinateDescent",
    "Datafit",
    "FISTA",
    "Dirty",
    "GramCoordinateDescent",
    "GraphLaplacian",
    "L1",
    "L21",
    "LinearModelAverage",
    "MeanLowRank",
    "MeanRegularized",
    "MultiTaskLinearRegressor",
    "MultiTaskLinearRegressorCV",
    "MultiTaskLogisticClassifier",
    "MultiTaskLogisticClassifierCV",
    "Penalty",
    "Ridge",
    "Solver",
    "SolverResult",
    "SparseLowRank",
    "TaskRelationship",
    "TraceNorm",
    "regularization_path",
]
