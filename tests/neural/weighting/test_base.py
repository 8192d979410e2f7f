"""A strategy is a torch module: parameters, buffers, devices, state_dict, pickle,
the optimizer, and scikit-learn's clone (skmtl/neural/weighting/_base.py)."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone

from skmtl import Task
from skmtl.neural import MultiTaskRegressor
from skmtl.neural.weighting import FAMO, IMTL, WEIGHTINGS, Uncertainty, Weighting


def _data(n=64, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 3)
    Y = np.c_[X[:, 0] - X[:, 1], 5 * X[:, 2] + rng.randn(n)]
    return X, Y


def _trained(name, **params):
    if name == "upgrad":
        pytest.importorskip("torchjd.aggregation")
        pytest.importorskip("quadprog")
    X, Y = _data()
    strategy = WEIGHTINGS[name](**params)
    est = MultiTaskRegressor(weighting=strategy, hidden_layer_sizes=(6,),
                             batch_size=16, max_epochs=2, random_state=0).fit(X, Y)
    return est


def _tensors(strategy):
    return dict(strategy.state_dict())


@pytest.mark.parametrize("name", sorted(WEIGHTINGS))
def test_a_trained_strategy_round_trips_through_its_state_dict_and_pickle(name):
    est = _trained(name)
    strategy = est.net_.weighting_
    assert isinstance(strategy, torch.nn.Module)
    state = _tensors(strategy)
    fresh = type(strategy)(**strategy.get_params()).initialize(est.tasks_)
    fresh.load_state_dict(strategy.state_dict())   # strict: same keys
    for key, value in _tensors(fresh).items():
        torch.testing.assert_close(value, state[key], rtol=0, atol=0)
    np.testing.assert_array_equal(fresh.weights(), strategy.weights())
    copy = pickle.loads(pickle.dumps(strategy))
    for key, value in _tensors(copy).items():
        torch.testing.assert_close(value, state[key], rtol=0, atol=0)
    np.testing.assert_array_equal(copy.weights(), strategy.weights())


@pytest.mark.parametrize("name", sorted(WEIGHTINGS))
def test_to_moves_and_casts_every_tensor_of_a_trained_strategy(name):
    strategy = _trained(name).net_.weighting_
    tensors = list(strategy.parameters()) + list(strategy.buffers())
    assert tensors   # every strategy keeps at least the recorded weights
    strategy.to(torch.float16)
    tensors = list(strategy.parameters()) + list(strategy.buffers())
    assert all(t.dtype == torch.float16 for t in tensors if t.is_floating_point())
    strategy.to("meta")
    assert all(t.device.type == "meta" for t in list(strategy.parameters())
               + list(strategy.buffers()))


def test_the_state_of_a_strategy_is_in_its_buffers():
    est = _trained("famo")
    state = est.net_.weighting_.state_dict()
    # FAMO's logits move by their own Adam step: buffers, with the moments
    assert {"logits_", "logits_adam_.exp_avg", "logits_adam_.exp_avg_sq",
            "previous_losses_", "_weights_sum", "_weights_count",
            "_epoch_weights"} <= set(state)
    assert not list(est.net_.weighting_.parameters())
    state = _trained("db_mtl").net_.weighting_.state_dict()
    n_shared = sum(p.numel() for p in _trained("db_mtl").net_.module_
                   .shared_parameters())
    assert state["gradient_average_"].shape == (2, n_shared)


def test_the_optimizer_trains_the_learnable_weights_and_only_those():
    est = _trained("uncertainty", lr=0.05)
    strategy = est.net_.weighting_
    groups = est.net_.optimizer_.param_groups
    own = [g for g in groups if any(p is strategy.log_variances_ for p in g["params"])]
    assert len(own) == 1 and own[0]["lr"] == 0.05
    assert own[0]["params"] == [strategy.log_variances_]
    for name in ("imtl", "famo", "gradnorm", "meta_weighting"):
        est = _trained(name)
        in_optimizer = {id(p) for g in est.net_.optimizer_.param_groups
                        for p in g["params"]}
        strategy = est.net_.weighting_
        learnable = [p for p in strategy.parameters()]
        assert all(id(p) in in_optimizer for p in learnable)
        # weights with an update of their own stay out of the net's optimizer
        for buffer in strategy.buffers():
            assert id(buffer) not in in_optimizer
    assert [n for n, _ in IMTL().initialize([Task("a"), Task("b")])
            .named_parameters()] == ["log_scales_"]
    assert not list(IMTL(form="gradient").initialize([Task("a")]).parameters())


def test_a_strategy_is_cloned_and_deep_copied_with_its_parameters():
    strategy = FAMO(lr=0.2, update="same_batch")
    copy = clone(strategy, safe=False)
    assert copy is not strategy and copy.get_params() == strategy.get_params()
    est = MultiTaskRegressor(weighting=Uncertainty(lr=0.3))
    assert clone(est).weighting.get_params() == {"init_log_variance": 0.0, "lr": 0.3}
    assert repr(Uncertainty(lr=0.3)) == "Uncertainty(lr=0.3)"
    # fitting never changes the strategy given as a parameter
    X, Y = _data()
    given = Uncertainty(lr=0.3)
    fitted = MultiTaskRegressor(weighting=given, hidden_layer_sizes=(4,),
                                max_epochs=1).fit(X, Y)
    assert not hasattr(given, "log_variances_")
    assert fitted.net_.weighting_ is not given
    assert fitted.net_.weighting is fitted.net_.weighting_   # one object
    loaded = pickle.loads(pickle.dumps(fitted))
    assert loaded.net_.weighting is loaded.net_.weighting_
    torch.testing.assert_close(loaded.net_.weighting_.log_variances_,
                               fitted.net_.weighting_.log_variances_)


def test_a_user_strategy_needs_no_call_to_the_module_init():
    class Learned(Weighting):
        def __init__(self, start=1.0):
            self.start = start

        def initialize(self, tasks):
            super().initialize(tasks)
            self.lambdas_ = torch.nn.Parameter(torch.full((len(tasks),), self.start))
            return self

        def combine(self, task_losses, training=True):
            return (self.lambdas_ * task_losses).sum()

        def weights(self):
            return self.lambdas_.detach().numpy().copy()

    X, Y = _data()
    est = MultiTaskRegressor(weighting=Learned(2.0), hidden_layer_sizes=(4,),
                             max_epochs=2, random_state=0).fit(X, Y)
    strategy = est.net_.weighting_
    assert [n for n, _ in strategy.named_parameters()] == ["lambdas_"]
    in_optimizer = [p for g in est.net_.optimizer_.param_groups for p in g["params"]]
    assert any(p is strategy.lambdas_ for p in in_optimizer)
    # trained by the net's optimizer (toward 0: nothing holds the weights up)
    assert np.all(strategy.weights() < 2.0)
