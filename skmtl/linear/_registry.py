"""Penalty names: one lower_snake_case name per penalty, plus short names.

This module sits above every penalty module (it imports them all, none
imports it), so that the estimators resolve ``penalty="trace"`` without an
import cycle between the penalty modules.
"""

from sklearn.base import clone

from ..utils._validation import resolve_option, valid_options
from ._composite import MeanLowRank, SparseLowRank
from ._penalties import L1, L21, Dirty, Penalty, Ridge, TraceNorm
from ._quadratic import GraphLaplacian, MeanRegularized
from ._structured import Clustered, TaskRelationship

__all__ = ["PENALTIES", "resolve_penalty"]

_CHOICES = {
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
}
_ALIASES = {
    "l2": "ridge",
    "trace": "trace_norm",
    "mean": "mean_regularized",
    "graph": "graph_laplacian",
    "mtrl": "task_relationship",
    "relationship": "task_relationship",
}

PENALTIES = tuple(valid_options(_CHOICES, _ALIASES))
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
        return resolve_option("penalty", penalty, _CHOICES, _ALIASES)()
    if not isinstance(penalty, Penalty):
        raise TypeError(f"penalty must be a Penalty (e.g. L21(alpha=0.1)) or one of "
                        f"{list(PENALTIES)}, got {penalty!r}.")
    return clone(penalty)
