"""The neural wing extends from user code, and its parts keep to their roles.

Two weighting strategies (loss level, gradient level) and an architecture
defined here (subclassing the public bases) fit, predict, pickle and
grid-search without any change to the package. The estimator resolves and
the net trains: the net overrides only skorch's public hooks and holds no
copy of the estimator's parameters.
"""

import inspect
import pickle

import numpy as np
import pytest
import torch
from sklearn.model_selection import GridSearchCV, KFold
from skorch import NeuralNet
from torch import nn

from skmtl import Task
from skmtl.neural import (
    ARCHITECTURES,
    TRUNKS,
    DivergenceGuard,
    MultiTaskEstimator,
    MultiTaskModule,
    MultiTaskNet,
    MultiTaskRegressor,
)
from skmtl.neural.weighting import (
    WEIGHTINGS,
    Fixed,
    GradientWeighting,
    Uncertainty,
    Weighting,
)


class LargestLossFirst(Weighting):
    """Weight ``boost`` on the task with the largest loss of the batch."""

    def __init__(self, boost=2.0):
        self.boost = boost

    def initialize(self, tasks):
        super().initialize(tasks)
        self.total_ = np.zeros(self.n_tasks_)
        self.steps_ = 0
        return self

    def combine(self, task_losses, training=True):
        weights = torch.ones_like(task_losses)
        weights[task_losses.detach().argmax()] = self.boost
        if training:
            self.total_ += weights.cpu().numpy()
            self.steps_ += 1
        return (weights * task_losses).sum()

    def weights(self):
        return self.total_ / max(self.steps_, 1)

    def on_epoch_end(self, net, task_losses):
        self.total_[:] = 0
        self.steps_ = 0


class TwoTowers(MultiTaskModule):
    """One small tower per task, nothing shared: the no-sharing architecture."""

    def __init__(self, tasks, input_shape, width=8):
        super().__init__(tasks, input_shape)
        self.names = [t.name for t in tasks]
        self.towers = nn.ModuleList(
            nn.Sequential(nn.Flatten(), nn.Linear(int(np.prod(input_shape)), width),
                          nn.ReLU(), nn.Linear(width, t.n_model_outputs))
            for t in tasks)

    def forward(self, X):
        return {name: tower(X) for name, tower in zip(self.names, self.towers)}

    def shared_parameters(self):
        return []


def _data(n=80, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 3)
    return X, np.c_[X[:, 0] - X[:, 1], 3 * X[:, 2] + 10]


def test_a_user_weighting_strategy_fits_records_pickles_and_grid_searches():
    X, Y = _data()
    est = MultiTaskRegressor(weighting=LargestLossFirst(boost=3.0),
                             hidden_layer_sizes=(8,), max_epochs=30, lr=0.02,
                             random_state=0).fit(X, Y)
    weights = est.task_weights_history_
    assert weights.shape == (30, 2)
    # per step one task gets 3, the other 1: the epoch means sum to 4
    np.testing.assert_allclose(weights.sum(axis=1), 4.0)
    assert est.score(X, Y) > 0.5
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    # the constructor parameter is untouched, its copy trained
    assert not hasattr(est.weighting, "total_")
    grid = GridSearchCV(est, {"weighting__boost": [1.0, 5.0]}, cv=KFold(2)).fit(X, Y)
    assert grid.best_params_["weighting__boost"] in (1.0, 5.0)


class UnitGradients(GradientWeighting):
    """Every task's gradient of the shared layers scaled to the length ``scale``.

    A gradient-level strategy gives only its combination: the base class
    computes the task Jacobian, writes the gradients and records the weights.
    """

    def __init__(self, scale=1.0):
        self.scale = scale

    def gram_weights(self, gram):
        return self.scale / np.sqrt(np.diag(gram))


def test_a_user_gradient_level_strategy_gives_only_its_combination():
    X, Y = _data()
    est = MultiTaskRegressor(weighting=UnitGradients(scale=2.0),
                             hidden_layer_sizes=(8,), max_epochs=3, lr=0.02,
                             random_state=0).fit(X, Y)
    assert est.task_weights_history_.shape == (3, 2)
    assert np.all(est.task_weights_history_ > 0)
    # one more step by hand: the shared layers get sum_k 2 g_k / ||g_k||
    net, module = est.net_, est.net_.module_
    module.train()
    Xt = torch.as_tensor(X[:32], dtype=torch.float32)
    yt = torch.as_tensor(Y[:32], dtype=torch.float32)
    shared = module.shared_parameters()
    rows = []
    for k in range(2):
        module.zero_grad()
        losses, _ = net.get_task_losses(net.infer(Xt), yt, training=True)
        losses[k].backward()
        rows.append(torch.cat([p.grad.flatten() for p in shared]).clone())
    module.zero_grad()
    losses, _ = net.get_task_losses(net.infer(Xt), yt, training=True)
    net.weighting_.backward(losses, net)
    direction = torch.cat([p.grad.flatten() for p in shared])
    expected = sum(2.0 * g / g.norm() for g in rows)
    torch.testing.assert_close(direction, expected, rtol=1e-4, atol=1e-6)
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    grid = GridSearchCV(est, {"weighting__scale": [0.5, 1.0]}, cv=KFold(2)).fit(X, Y)
    assert grid.best_params_["weighting__scale"] in (0.5, 1.0)


def test_a_user_architecture_fits_by_class_with_module_parameters():
    X, Y = _data()
    est = MultiTaskRegressor(architecture=TwoTowers, module__width=16,
                             max_epochs=40, lr=0.02, random_state=0).fit(X, Y)
    assert isinstance(est.net_.module_, TwoTowers)
    assert est.net_.module_.towers[0][1].out_features == 16
    assert est.score(X, Y) > 0.8
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    est.set_params(module__width=4)
    assert est.fit(X, Y).net_.module_.towers[0][1].out_features == 4


def test_the_net_overrides_only_public_skorch_hooks():
    overridden = [name for name, value in vars(MultiTaskNet).items()
                  if callable(value) and hasattr(NeuralNet, name)
                  and not (name.startswith("__") and name.endswith("__"))]
    assert overridden, "MultiTaskNet overrides skorch's hooks"
    private = [name for name in overridden if name.startswith("_")]
    assert private == [], f"MultiTaskNet overrides private skorch methods {private}"
    # and it calls no private skorch method of its own either
    source = inspect.getsource(MultiTaskNet)
    for name in ("_set_training", "_zero_grad_optimizer", "_step_optimizer",
                 "_default_callbacks", "_optimizers"):
        assert f".{name}" not in source


def test_the_net_holds_resolved_objects_not_copies_of_estimator_parameters():
    X, Y = _data()
    est = MultiTaskRegressor(task_weights={"task_1": 3.0}, hidden_layer_sizes=(4,),
                             max_epochs=2, on_divergence="restore",
                             random_state=0).fit(X, Y)
    net = est.net_
    init_params = set(inspect.signature(MultiTaskNet.__init__).parameters)
    assert not {"task_weights", "on_divergence", "architecture", "trunk",
                "hidden_layer_sizes", "standardize_targets"} & (
        init_params | set(vars(net)))
    # task_weights is shorthand for Fixed: one stored value, in one strategy
    assert type(net.weighting_) is Fixed
    assert net.weighting_.weights().tolist() == [1.0, 3.0]
    assert net.weighting is net.weighting_  # handed over, initialized
    assert isinstance(net.module, nn.Module) and net.module is net.module_
    guard = dict(net.callbacks_)["divergence"]
    assert isinstance(guard, DivergenceGuard) and guard.on_divergence == "restore"


def test_task_weights_beside_another_strategy_is_refused():
    X, Y = _data()
    for weighting in (Uncertainty(), "dwa", Fixed((1.0, 2.0))):
        with pytest.raises(ValueError, match="task_weights is shorthand for "
                                             "weighting=Fixed"):
            MultiTaskRegressor(weighting=weighting, task_weights=(1.0, 2.0),
                               max_epochs=1).fit(X, Y)
    # "fixed" by name or an empty Fixed take the shorthand
    for weighting in ("fixed", Fixed()):
        est = MultiTaskRegressor(weighting=weighting, task_weights=(1.0, 2.0),
                                 hidden_layer_sizes=(4,), max_epochs=1).fit(X, Y)
        assert est.task_weights_history_[-1].tolist() == [1.0, 2.0]


@pytest.mark.parametrize("kind, value, expected", [
    ("architecture", "hard", "HardSharing"),
    ("architecture", "hard_sharing", "HardSharing"),
    ("architecture", "soft", "SoftSharing"),
    ("architecture", "cross_stitch", "CrossStitch"),
    ("trunk", "mlp", "MLP"),
    ("trunk", "conv", "ConvNet"),
    ("trunk", "conv_net", "ConvNet"),
])
def test_names_and_short_names_resolve(kind, value, expected):
    rng = np.random.RandomState(0)
    X = rng.randn(20, 1, 8, 8) if expected == "ConvNet" else rng.randn(20, 3)
    Y = rng.randn(20, 2)
    params = {kind: value, "max_epochs": 1}
    if expected == "ConvNet":
        params.update(trunk__channels=(2,), trunk__out_features=4)
    est = MultiTaskRegressor(**params).fit(X, Y)
    module = est.net_.module_
    found = type(module).__name__ if kind == "architecture" else type(
        module.trunk).__name__
    assert found == expected


@pytest.mark.parametrize("kind, choices", [
    ("architecture", ARCHITECTURES), ("trunk", TRUNKS), ("weighting", WEIGHTINGS)])
def test_an_unknown_name_lists_every_valid_choice(kind, choices):
    X, Y = _data()
    with pytest.raises(ValueError, match=f"unknown {kind} 'nope'") as info:
        MultiTaskRegressor(**{kind: "nope"}, max_epochs=1).fit(X, Y)
    for name in choices:
        assert repr(name) in str(info.value)


def test_mixed_tasks_with_a_user_architecture_and_strategy():
    rng = np.random.RandomState(0)
    X = rng.randn(60, 3)
    Y = np.c_[X[:, 0], X[:, 1] > 0].astype(float)
    Y[::4, 0] = np.nan
    est = MultiTaskEstimator(tasks=[Task("value"), Task("sign", "binary")],
                             architecture=TwoTowers, weighting=LargestLossFirst(),
                             max_epochs=3, random_state=0).fit(X, Y)
    assert est.predict(X).shape == (60, 2)
