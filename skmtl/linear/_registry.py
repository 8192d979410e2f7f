"""Penalty and solver names: one lower_snake_case name each, plus short names.

This module sits above every penalty and solver module (it imports them all,
none imports it), so that the estimators resolve ``penalty="trace"`` and
``solver="cd"`` without an import cycle between those modules.
"""

from sklearn.base import clone

from ..utils._registry import Registry
from ._cd import CoordinateDescent
from ._composite import MeanLowRank, SparseLowRank
from ._gram_cd import GramCoordinateDescent
from ._penalties import L1, L21, Dirty, Penalty, Ridge, TraceNorm
from ._quadratic import GraphLaplacian, MeanRegularized
from ._solvers import FISTA, Alternating, Solver
from ._structured import Clustered, TaskRelationship

__all__ = ["PENALTIES", "PENALTY_REGISTRY", "SOLVERS", "SOLVER_REGISTRY",
           "resolve_penalty", "resolve_solver"]

PENALTY_REGISTRY = Registry("penalty", {
    "ridge": Ridge,
    "l1": L1,
    "l21": L21,
    "trace_norm": TraceNorm,
    "mean_regularized": MeanRegularized,
    "graph_laplacian": GraphLaplacian,
    "clustered": Clustered,
    "dirty": Dirty,
    "task_relationship": TaskRelationship,
    "sparse_low_rank": SparseLowRank,
    "mean_low_rank": MeanLowRank,
}, aliases={
    "l2": "ridge",
    "trace": "trace_norm",
    "mean": "mean_regularized",
    "graph": "graph_laplacian",
    "mtrl": "task_relationship",
    "relationship": "task_relationship",
}, base=Penalty)
"""Penalties by name (a :class:`~skmtl.utils.Registry`), with their short names."""

PENALTIES = tuple(PENALTY_REGISTRY.names())
"""Names accepted by ``penalty=``: each builds the penalty with its defaults.

The lower_snake_case names (``"trace_norm"``) come first, then the short
names (``"trace"``)."""


def resolve_penalty(penalty):
    """A fresh penalty object from a penalty or one of :data:`PENALTIES`.

    Raises
    ------
    ValueError
        For an unknown name; the message lists every valid name.
    TypeError
        For anything that is neither a name nor a :class:`Penalty`.
    """
    if isinstance(penalty, str):
        return PENALTY_REGISTRY.resolve(penalty)()
    if not isinstance(penalty, Penalty):
        raise TypeError(f"penalty must be a Penalty (e.g. L21(alpha=0.1)) or one of "
                        f"{PENALTY_REGISTRY.names()}, got {penalty!r}.")
    return clone(penalty)


SOLVER_REGISTRY = Registry("solver", {
    "gram_cd": GramCoordinateDescent,
    "cd": CoordinateDescent,
    "fista": FISTA,
    "alternating": Alternating,
}, base=Solver)
"""Solvers by name (a :class:`~skmtl.utils.Registry`), in the order
``solver="auto"`` tries them: the first that accepts the problem and suits it
(:meth:`Solver.suits`; ``"gram_cd"`` suits more samples than features), else
the first that accepts it."""

SOLVERS = ("auto", *SOLVER_REGISTRY.names())
"""Names accepted by ``solver=``: ``"auto"`` and each solver with its defaults."""


def _with_options(cls, options):
    """``cls`` built with the estimator-level options it takes (``selection``...)."""
    names = cls._get_param_names()
    return cls(**{k: v for k, v in options.items() if k in names})


def resolve_solver(solver, penalty, datafit, penalty_name=None, **options):
    """The solver object of a fit, checked against the penalty and the datafit.

    Parameters
    ----------
    solver : str or Solver
        ``"auto"`` (the first registered solver that accepts the penalty
        and the datafit and suits them, see :meth:`Solver.suits`; else the
        first that accepts them), a name of :data:`SOLVERS`, or a :class:`Solver`
        (copied; its own options are kept).
    penalty : prepared penalty
    datafit : Datafit
    penalty_name : str, default=None
        The penalty's name for messages.
    **options
        Estimator-level options (``selection``, ``random_state``) given to
        the named solvers that take them.

    Returns
    -------
    solver : Solver

    Raises
    ------
    ValueError
        For an unknown name, or a solver that lacks a method it needs (the
        message names the method and the solvers that would work).
    TypeError
        For anything that is neither a name nor a :class:`Solver`.
    """
    candidates = [_with_options(cls, options) for cls in SOLVER_REGISTRY.values()]
    accepting = [c.name for c in candidates if c.accepts(penalty, datafit)]
    if isinstance(solver, str) and solver == "auto":
        if not accepting:
            datafit_name = getattr(datafit, "name", None) or type(datafit).__name__
            raise ValueError(
                f"no solver accepts the penalty "
                f"{penalty_name or type(penalty).__name__} with {datafit_name}: "
                f"each lacks a method that the solvers need (see "
                f"Solver.penalty_needs and Solver.datafit_needs).")
        suiting = [c for c in candidates
                   if c.name in accepting and c.suits(penalty, datafit)]
        return suiting[0] if suiting else next(
            c for c in candidates if c.name == accepting[0])
    if isinstance(solver, str):
        solver = _with_options(SOLVER_REGISTRY.resolve(solver), options)
    elif isinstance(solver, Solver):
        solver = clone(solver)
    else:
        raise TypeError(f"solver must be a Solver (e.g. CoordinateDescent()) or one "
                        f"of {list(SOLVERS)}, got {solver!r}.")
    solver.check(penalty, datafit, penalty_name,
                 alternatives=[name for name in accepting if name != solver.name])
    return solver
