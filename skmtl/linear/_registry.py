"""Penalty names: one lower_snake_case name per penalty, plus short names.

This module sits above every penalty module (it imports them all, none
imports it), so that the estimators resolve ``penalty="trace"`` without an
import cycle between the penalty modules.
"""

from sklearn.base import clone

from ..utils._registry import Registry
from ._composite import MeanLowRank, SparseLowRank
from ._penalties import L1, L21, Dirty, Penalty, Ridge, TraceNorm
from ._quadratic import GraphLaplacian, MeanRegularized
from ._structured import Clustered, TaskRelationship

__all__ = ["PENALTIES", "PENALTY_REGISTRY", "resolve_penalty"]

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
