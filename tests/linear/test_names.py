"""One name per penalty: lower_snake_case names plus short names."""

import pytest

from skmtl.datasets import make_multitask_regression
from skmtl.linear import (
    L1,
    L21,
    PENALTIES,
    Clustered,
    Dirty,
    GraphLaplacian,
    MeanLowRank,
    MeanRegularized,
    MultiTaskLinearRegressor,
    Ridge,
    SparseLowRank,
    TaskRelationship,
    TraceNorm,
)
from skmtl.linear._registry import resolve_penalty

NAMES = {"ridge": Ridge, "l1": L1, "l21": L21, "trace_norm": TraceNorm,
         "mean_regularized": MeanRegularized, "graph_laplacian": GraphLaplacian,
         "clustered": Clustered, "dirty": Dirty, "task_relationship": TaskRelationship,
         "sparse_low_rank": SparseLowRank, "mean_low_rank": MeanLowRank}
SHORT = {"l2": Ridge, "trace": TraceNorm, "mean": MeanRegularized,
         "graph": GraphLaplacian, "mtrl": TaskRelationship,
         "relationship": TaskRelationship}


def test_every_name_and_short_name_builds_its_penalty_with_defaults():
    for name, cls in {**NAMES, **SHORT}.items():
        penalty = resolve_penalty(name)
        assert type(penalty) is cls and penalty == cls(), name
    assert set(PENALTIES) == set(NAMES) | set(SHORT)
    # Names first (sorted), then the short names.
    assert list(PENALTIES[:len(NAMES)]) == sorted(NAMES)
    assert all(name == name.lower() and "-" not in name for name in PENALTIES)


@pytest.mark.parametrize("gone", ["trace-norm", "mean-reg", "Trace_Norm", "L21"])
def test_other_spellings_are_refused_with_every_choice_listed(gone):
    with pytest.raises(ValueError) as info:
        resolve_penalty(gone)
    message = str(info.value)
    assert f"unknown penalty {gone!r}" in message
    for name in PENALTIES:
        assert repr(name) in message
    if gone in ("Trace_Norm", "L21"):
        assert "did you mean" in message


def test_a_name_fits_like_its_object():
    X, Y = make_multitask_regression(n_samples=50, n_features=6, n_tasks=3,
                                     random_state=0)
    by_name = MultiTaskLinearRegressor("trace_norm").fit(X, Y)
    by_object = MultiTaskLinearRegressor(TraceNorm()).fit(X, Y)
    assert by_name.coef_.tolist() == by_object.coef_.tolist()
    with pytest.raises(TypeError, match="penalty must be a Penalty"):
        MultiTaskLinearRegressor(3).fit(X, Y)
