"""Properties every strategy shares, and comparisons across strategies."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from weighting_problems import (
    MIXED,
    PARAMS,
    STRATEGIES,
    TWO,
    _conflicting,
    _conflicting_problem,
    _mixed,
    _needs_torchjd,
    _step,
)

from skmtl import Task
from skmtl.metrics import make_multitask_scorer
from skmtl.neural import MultiTaskEstimator, MultiTaskRegressor
from skmtl.neural.weighting import (
    FAMO,
    WEIGHTINGS,
    AlignedMTL,
    ConFIG,
    FairGrad,
    GradNorm,
    MetaWeighting,
)
from skmtl.neural.weighting._aligned_mtl import aligned_mtl_weights
from skmtl.neural.weighting._config import config_weights
from skmtl.neural.weighting._fairgrad import fairgrad_weights


def test_adaptive_strategies_refuse_manual_task_weights():
    X, Y = _conflicting_problem()
    with pytest.raises(ValueError, match="DWA chooses the task weights itself"):
        MultiTaskRegressor(weighting="dwa", task_weights=(1, 2),
                           hidden_layer_sizes=(4,), max_epochs=1).fit(X, Y)


@pytest.mark.parametrize("cls", STRATEGIES, ids=lambda c: c.__name__)
def test_every_strategy_fits_mixed_tasks_with_missing_labels_and_pickles(cls):
    _needs_torchjd(cls)
    X, Y = _mixed()
    est = MultiTaskEstimator(tasks=MIXED, weighting=cls(), hidden_layer_sizes=(8,),
                             lr=0.01, max_epochs=3, batch_size=32, device="cpu",
                             random_state=0).fit(X, Y)
    P = est.predict(X)
    assert P.shape == (96, 3)
    assert est.task_weights_history_.shape == (3, 3)
    assert np.isfinite(est.task_weights_history_).all()
    assert np.isfinite([est.history_[-1, f"train_loss_{t.name}"] for t in MIXED]).all()
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(X), P)
    # same seed, same model
    twin = clone(est).fit(X, Y)
    np.testing.assert_array_equal(twin.predict(X), P)
    # by name too
    name = next(k for k, v in WEIGHTINGS.items() if v is cls)
    assert isinstance(clone(est).set_params(weighting=name).fit(X, Y).net_.weighting_,
                      cls)


@pytest.mark.parametrize("cls", sorted(PARAMS, key=lambda c: c.__name__),
                         ids=lambda c: c.__name__)
def test_strategy_parameters_are_grid_searchable(cls):
    _needs_torchjd(cls)
    name, values = PARAMS[cls]
    X, Y = _mixed()
    est = MultiTaskEstimator(tasks=MIXED, weighting=cls(), hidden_layer_sizes=(4,),
                             max_epochs=2, batch_size=48, random_state=0)
    assert f"weighting__{name}" in est.get_params()
    search = GridSearchCV(est, {f"weighting__{name}": values}, cv=2,
                          scoring=make_multitask_scorer()).fit(X, Y)
    assert len(search.cv_results_["params"]) == 2
    assert getattr(search.best_estimator_.weighting, name) in values
    assert repr(cls().set_params(**{name: values[1]})).startswith(cls.__name__)


def test_network_steps_of_the_gram_based_strategies_follow_their_kernels():
    X, Y = _conflicting(seed=1)
    for strategy, kernel in ((AlignedMTL(), aligned_mtl_weights),
                             (ConFIG(), config_weights),
                             (FairGrad(alpha=2.0),
                              lambda G: fairgrad_weights(G, alpha=2.0))):
        _, d, J, _ = _step(strategy, X, Y)
        np.testing.assert_allclose(d, kernel(J @ J.T) @ J, rtol=1e-4, atol=1e-8)


@pytest.mark.parametrize("name", ["imtl", "db_mtl", "aligned_mtl", "config", "gradvac",
                                  "graddrop", "fairgrad", "excess_mtl", "gls", "stch"])
def test_new_strategies_are_registered_and_record_finite_weights(name):
    X, Y = _conflicting(n=96)
    est = MultiTaskRegressor(weighting=name, hidden_layer_sizes=(6,), max_epochs=2,
                             batch_size=32, random_state=0).fit(X, Y)
    assert type(est.net_.weighting_) is WEIGHTINGS[name]
    assert est.task_weights_history_.shape == (2, 2)
    assert np.isfinite(est.task_weights_history_).all()


def test_cheap_defaults_update_every_k_steps():
    assert FAMO().update == "next_batch"
    assert GradNorm().every is None and MetaWeighting().every == 25
    # GradNorm's update costs more with more tasks: by default it comes every
    # 10 * n_tasks steps
    assert GradNorm().initialize(TWO)._every == 20
    assert GradNorm().initialize([Task(f"t{k}") for k in range(10)])._every == 100
    assert GradNorm(every=7).initialize(TWO)._every == 7
    X, Y = _conflicting(n=160)
    est = MultiTaskRegressor(weighting=GradNorm(every=4), hidden_layer_sizes=(6,),
                             max_epochs=1, batch_size=16, random_state=0).fit(X, Y)
    strategy = est.net_.weighting_
    # 10 steps, updates at steps 0, 4, 8: three Adam steps of the weights
    assert strategy.weights_adam_.steps == 3
    with pytest.raises(ValueError, match="GradNorm: every must be a positive"):
        GradNorm(every=0).initialize(TWO)
