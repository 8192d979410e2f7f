"""The weighting interface: Fixed weights, and that new strategies plug in."""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from skmtl import Task
from skmtl.metrics import make_multitask_scorer
from skmtl.neural import MultiTaskEstimator
from skmtl.neural.weighting import (
    ALIASES,
    WEIGHTINGS,
    Fixed,
    Weighting,
    resolve_weighting,
)

TASKS = [Task("a"), Task("b")]


def _data(n=80, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 3)
    return X, np.c_[X[:, 0] + X[:, 1], X[:, 1] - X[:, 2]]


def _est(**params):
    defaults = dict(tasks=TASKS, hidden_layer_sizes=(8,), lr=0.01, max_epochs=3,
                    batch_size=16, random_state=0)
    defaults.update(params)
    return MultiTaskEstimator(**defaults)


def test_fixed_weights_by_task_order_or_name():
    fitted = resolve_tasks_pair()
    assert Fixed([1.0, 2.0]).initialize(fitted).weights().tolist() == [1.0, 2.0]
    assert Fixed().initialize(fitted).weights().tolist() == [1.0, 1.0]
    fixed = Fixed({"b": 4.0}).initialize(fitted)
    assert fixed.weights().tolist() == [1.0, 4.0]
    losses = torch.tensor([0.5, 0.25], requires_grad=True)
    total = fixed.combine(losses)
    assert total.item() == pytest.approx(0.5 + 4.0 * 0.25)
    total.backward()
    assert losses.grad.tolist() == [1.0, 4.0]
    with pytest.raises(ValueError, match="unknown task"):
        Fixed({"c": 1.0}).initialize(fitted)


def resolve_tasks_pair():
    from skmtl.tasks import resolve_tasks

    return resolve_tasks(TASKS, np.zeros((2, 2)))


def test_fixed_has_scikit_learn_parameters():
    fixed = Fixed((1.0, 3.0))
    assert fixed.get_params() == {"task_weights": (1.0, 3.0)}
    assert repr(fixed) == "Fixed(task_weights=(1.0, 3.0))"
    assert repr(Fixed()) == "Fixed()"
    assert fixed.set_params(task_weights=None).task_weights is None
    with pytest.raises(ValueError, match="Fixed has no parameter 'alpha'"):
        fixed.set_params(alpha=1)


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
