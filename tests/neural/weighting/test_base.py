"""skmtl/neural/weighting/_base.py: the interface, the registry, and a strategy
as a torch module (parameters, buffers, devices, state_dict, pickle, the
optimizer, scikit-learn's clone)."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from weighting_problems import _data, _est

from skmtl import Task
from skmtl.metrics import make_multitask_scorer
from skmtl.neural import MultiTaskRegressor
from skmtl.neural.weighting import (
    ALIASES,
    FAMO,
    IMTL,
    WEIGHTINGS,
    Fixed,
    Uncertainty,
    Weighting,
    resolve_weighting,
)


def _two_tasks(n=64, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 3)
    Y = np.c_[X[:, 0] - X[:, 1], 5 * X[:, 2] + rng.randn(n)]
    return X, Y


def _trained(name, **params):
    if name == "upgrad":
        pytest.importorskip("torchjd.aggregation")
        pytest.importorskip("quadprog")
    X, Y = _two_tasks()
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
    X, Y = _two_tasks()
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

    X, Y = _two_tasks()
    est = MultiTaskRegressor(weighting=Learned(2.0), hidden_layer_sizes=(4,),
                             max_epochs=2, random_state=0).fit(X, Y)
    strategy = est.net_.weighting_
    assert [n for n, _ in strategy.named_parameters()] == ["lambdas_"]
    in_optimizer = [p for g in est.net_.optimizer_.param_groups for p in g["params"]]
    assert any(p is strategy.lambdas_ for p in in_optimizer)
    # trained by the net's optimizer (toward 0: nothing holds the weights up)
    assert np.all(strategy.weights() < 2.0)


# -- the interface: names, Fixed as the default, strategies that plug in --


def test_weighting_by_name_class_or_object():
    assert isinstance(resolve_weighting(None), Fixed)
    assert isinstance(resolve_weighting("fixed"), Fixed)
    assert isinstance(resolve_weighting(Fixed), Fixed)
    strategy = Fixed()
    assert resolve_weighting(strategy) is strategy
    assert "fixed" in WEIGHTINGS
    with pytest.raises(ValueError, match="unknown weighting 'nope'"):
        resolve_weighting("nope")


def test_every_name_and_alias_resolves_and_names_are_canonical():
    for name, cls in WEIGHTINGS.items():
        assert name == name.lower() and "-" not in name and " " not in name
        assert type(resolve_weighting(name)) is cls
    # one name per idea: no class registered twice
    assert len(set(WEIGHTINGS.values())) == len(WEIGHTINGS)
    for alias, name in ALIASES.items():
        assert alias not in WEIGHTINGS
        assert type(resolve_weighting(alias)) is WEIGHTINGS[name]
    expected = {"uw": "Uncertainty", "nash": "NashMTL", "meta": "MetaWeighting",
                "equal": "Fixed"}
    for alias, cls_name in expected.items():
        assert type(resolve_weighting(alias)).__name__ == cls_name
    for name in ("fixed", "uncertainty", "dwa", "rlw", "famo", "gradnorm",
                 "meta_weighting", "pcgrad", "mgda", "mgda_ub", "cagrad", "nash_mtl",
                 "upgrad"):
        assert name in WEIGHTINGS


def test_an_unknown_weighting_lists_every_valid_choice():
    with pytest.raises(ValueError) as info:
        resolve_weighting("nashmtl")
    message = str(info.value)
    for choice in list(WEIGHTINGS) + list(ALIASES):
        assert repr(choice) in message
    with pytest.raises(ValueError, match="did you mean 'mgda_ub'"):
        resolve_weighting("MGDA-UB")
    X, Y = _data()
    with pytest.raises(ValueError, match="unknown weighting 'metaweighting'"):
        _est(weighting="metaweighting").fit(X, Y)
    with pytest.raises(TypeError, match="weighting must be None"):
        resolve_weighting(3)


def test_estimator_weighting_object_is_copied_and_grid_searchable():
    X, Y = _data()
    strategy = Fixed((1.0, 2.0))
    est = _est(weighting=strategy).fit(X, Y)
    assert est.net_.weighting_ is not strategy
    assert not hasattr(strategy, "weights_")  # the parameter was not fitted
    np.testing.assert_allclose(est.task_weights_history_, [[1.0, 2.0]] * 3)
    assert clone(est).get_params()["weighting__task_weights"] == (1.0, 2.0)
    search = GridSearchCV(_est(weighting=Fixed()),
                          {"weighting__task_weights": [(1.0, 1.0), (1.0, 5.0)]},
                          scoring=make_multitask_scorer(), cv=2).fit(X, Y)
    np.testing.assert_allclose(search.best_estimator_.task_weights_history_[-1],
                               search.best_params_["weighting__task_weights"])


class _TrendWeights(Weighting):
    """A loss-level strategy whose weights follow the epoch's losses."""

    def initialize(self, tasks):
        super().initialize(tasks)
        self.current_ = np.ones(self.n_tasks_)
        self.seen_ = []
        return self

    def combine(self, task_losses, training=True):
        weights = torch.as_tensor(self.current_, dtype=task_losses.dtype)
        return (weights * task_losses).sum()

    def on_epoch_end(self, net, task_losses):
        self.seen_.append(task_losses.copy())
        self.current_ = self.n_tasks_ * task_losses / task_losses.sum()

    def weights(self):
        return self.current_.copy()


class _FirstTaskOnly(Weighting):
    """A gradient-level strategy: keep only task 0's gradient on shared layers."""

    level = "gradient"

    def combine(self, task_losses, training=True):
        return task_losses.sum()

    def backward(self, task_losses, net, penalty=None):
        shared = net.module_.shared_parameters()
        grads = torch.autograd.grad(task_losses[0], shared, retain_graph=True)
        task_losses.sum().backward()  # heads get their own task's gradient
        for param, grad in zip(shared, grads):
            param.grad = grad
        self.calls_ = getattr(self, "calls_", 0) + 1
        return task_losses.sum()

    def weights(self):
        return np.array([1.0, 0.0])


def test_a_loss_level_strategy_plugs_in_and_its_weights_are_recorded():
    X, Y = _data()
    est = _est(weighting=_TrendWeights(), max_epochs=4).fit(X, Y)
    strategy = est.net_.weighting_
    history = est.history_
    # on_epoch_end received the recorded mean training loss of each task
    for epoch, seen in enumerate(strategy.seen_):
        np.testing.assert_allclose(seen, [history[epoch, "train_loss_a"],
                                          history[epoch, "train_loss_b"]])
    # the weights recorded for an epoch are those used during it: ones first,
    # then those computed from the previous epoch's losses
    weights = est.task_weights_history_
    np.testing.assert_allclose(weights[0], [1.0, 1.0])
    for epoch in range(1, 4):
        previous = strategy.seen_[epoch - 1]
        np.testing.assert_allclose(weights[epoch], 2 * previous / previous.sum(),
                                   rtol=1e-6)


def test_a_gradient_level_strategy_plugs_in():
    X, Y = _data()
    plain = _est().fit(X, Y)
    only_a = _est(weighting=_FirstTaskOnly()).fit(X, Y)
    assert only_a.net_.weighting_.calls_ == 3 * 5  # 80 rows / 16 per batch
    # the shared trunk followed task a alone, so it differs from joint training
    trunk_plain = plain.net_.module_.trunk[0][1].weight
    trunk_a = only_a.net_.module_.trunk[0][1].weight
    assert not torch.allclose(trunk_plain, trunk_a)
    np.testing.assert_allclose(only_a.task_weights_history_[-1], [1.0, 0.0])


def test_the_base_class_requires_combine_and_weights():
    with pytest.raises(NotImplementedError, match="must implement combine"):
        Weighting().combine(torch.zeros(2))
    with pytest.raises(NotImplementedError, match="must implement weights"):
        Weighting().weights()
