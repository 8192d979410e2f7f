"""PerTaskCheckpoint: each task's best epoch, predictions from it, patience."""

import copy
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import Callback
from skorch.helper import SliceDict
from torch import nn

from skmtl import Task
from skmtl.metrics import make_multitask_scorer
from skmtl.neural import (
    MultiTaskClassifier,
    MultiTaskEstimator,
    MultiTaskRegressor,
    PerTaskCheckpoint,
)


class StateRecorder(Callback):
    """The module's state at the end of every epoch, by epoch number."""

    def initialize(self):
        self.states = {}
        return self

    def on_epoch_end(self, net, **kwargs):
        self.states[len(net.history)] = copy.deepcopy(net.module_.state_dict())


def _recorder(est):
    return next(cb for _, cb in est.net_.callbacks_ if isinstance(cb, StateRecorder))


def _checkpoint(est):
    return next(cb for _, cb in est.net_.callbacks_
                if isinstance(cb, PerTaskCheckpoint))


def _at(est, state):
    """A copy of ``est`` whose every task uses the module in ``state``."""
    restored = copy.deepcopy(est)
    restored.net_.module_.load_state_dict(state)
    _checkpoint(restored).states_ = {}
    return restored


def _regression_at(est, state, X):
    """Predictions of every task with the module in ``state``."""
    return _at(est, state).predict(X)


def _planted(seed, n=800, p=40):
    """Task ``a``: few, very noisy labels of ``x0`` (overfits within a few
    epochs); task ``b``: a dense linear function of 20 features, every row
    labelled, low noise (improves for many epochs)."""
    weights = np.random.RandomState(42).randn(20)
    rng = np.random.RandomState(seed)
    X = rng.randn(n, p)
    a = X[:, 0] + 2.0 * rng.randn(n)
    b = X[:, 1:21] @ weights + np.tanh(X[:, 1] * X[:, 2]) + 0.1 * rng.randn(n)
    Y = np.c_[a, b]
    Y[rng.rand(n) > 0.3, 0] = np.nan
    truth = np.c_[X[:, 0], X[:, 1:21] @ weights + np.tanh(X[:, 1] * X[:, 2])]
    return X, Y, truth


def test_per_task_checkpoints_beat_the_single_best_epoch_on_both_tasks():
    # held-out MSE against the noise-free functions, summed over 4 runs:
    # each task from its own best epoch beats the best epoch of the total
    # validation loss (skorch's Checkpoint/EarlyStopping) and the last epoch
    X_test, _, truth = _planted(100, n=2000)
    errors = {"per_task": 0.0, "total_best": 0.0, "last": 0.0}
    for seed in range(1, 5):
        X, Y, _ = _planted(seed)
        est = MultiTaskRegressor(
            hidden_layer_sizes=(64,), lr=2e-3, max_epochs=40, batch_size=32,
            train_split=0.4, random_state=seed, n_threads=1,
            callbacks=[PerTaskCheckpoint(), StateRecorder()]).fit(X, Y)
        best = est.best_epochs_
        total_best = int(np.argmin(est.history_[:, "valid_loss"])) + 1
        # the tasks peak apart, the total in between
        assert best["task_0"] < best["task_1"]
        states = _recorder(est).states

        def mse(P):
            return ((P - truth) ** 2).mean(axis=0)

        errors["per_task"] += mse(est.predict(X_test))
        errors["total_best"] += mse(_regression_at(est, states[total_best], X_test))
        errors["last"] += mse(_regression_at(est, states[len(est.history_)], X_test))
    assert np.all(errors["per_task"] < errors["total_best"]), errors
    # the last epoch is the overfitted one for a; b peaks at or near the end
    assert errors["per_task"][0] < 0.5 * errors["last"][0], errors
    assert errors["per_task"][1] < 1.01 * errors["last"][1], errors


def _two_tasks(n=300, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 6)
    Y = np.c_[X[:, 0] + 0.5 * rng.randn(n), X[:, 1] * X[:, 2] + X[:, 3]]
    Y[rng.rand(n) < 0.6, 0] = np.nan
    return X, Y


def _small(**params):
    defaults = dict(hidden_layer_sizes=(32,), lr=0.01, max_epochs=12, batch_size=32,
                    train_split=0.3, random_state=0, n_threads=1)
    return MultiTaskRegressor(**{**defaults, **params})


def test_each_task_is_predicted_from_the_state_of_its_best_epoch():
    X, Y = _two_tasks()
    est = _small(callbacks=[PerTaskCheckpoint(), StateRecorder()]).fit(X, Y)
    best = est.best_epochs_
    assert best["task_0"] != best["task_1"]  # else the test shows nothing
    states = _recorder(est).states
    predicted = est.predict(X)
    for k, name in enumerate(["task_0", "task_1"]):
        restored = _regression_at(est, states[best[name]], X)
        np.testing.assert_array_equal(predicted[:, k], restored[:, k])
        # differs from the last epoch's prediction
        last = _regression_at(est, states[len(est.history_)], X)
        assert not np.array_equal(predicted[:, k], last[:, k]) or (
            best[name] == len(est.history_))
    # a fresh fit stopped at a task's best epoch gives the same prediction
    # (every epoch is seeded from the run's seed)
    name = min(best, key=best.get)
    k = ["task_0", "task_1"].index(name)
    short = _small(max_epochs=best[name]).fit(X, Y)
    np.testing.assert_array_equal(predicted[:, k], short.predict(X)[:, k])
    # a task's copy holds the head of the other task only if that one
    # improved at the same epoch
    kept = _checkpoint(est).states_
    for k, (name, other) in enumerate([("task_0", "task_1"), ("task_1", "task_0")]):
        both = est.history_[best[name] - 1, f"valid_loss_{other}_best"]
        keys = list(kept[name])
        assert any(key.startswith(f"heads.{1 - k}.") for key in keys) == both
        assert any(key.startswith(f"heads.{k}.") for key in keys)
        assert any(key.startswith("trunk.") for key in keys)
    # the module itself keeps the last epoch's parameters
    np.testing.assert_array_equal(
        est.net_.module_.state_dict()["heads.0.1.weight"],
        states[len(est.history_)]["heads.0.1.weight"])


def test_history_records_each_tasks_best_epochs():
    X, Y = _two_tasks()
    est = _small(callbacks=[PerTaskCheckpoint()]).fit(X, Y)
    history = est.history_
    checkpoint = _checkpoint(est)
    for name in ("task_0", "task_1"):
        losses = np.asarray(history[:, f"valid_loss_{name}"])
        flags = np.asarray(history[:, f"valid_loss_{name}_best"])
        assert flags.dtype == bool and flags[0]
        # True exactly where the loss reached a new minimum
        np.testing.assert_array_equal(
            flags, losses == np.minimum.accumulate(losses))
        assert est.best_epochs_[name] == int(np.flatnonzero(flags)[-1]) + 1
        assert checkpoint.best_scores_[name] == losses.min()
    assert checkpoint.stopped_epoch_ is None


def test_training_stops_when_every_task_has_stalled_for_patience_epochs():
    X, Y = _two_tasks()
    est = _small(lr=0.05, max_epochs=300,
                 callbacks=[PerTaskCheckpoint(patience=4)]).fit(X, Y)
    n_epochs = len(est.history_)
    assert n_epochs < 300
    stalled = {name: n_epochs - epoch for name, epoch in est.best_epochs_.items()}
    # every task stalled for 4 epochs; the last one to stall just did
    assert min(stalled.values()) == 4, stalled
    assert _checkpoint(est).stopped_epoch_ == n_epochs


def test_pickle_round_trip_keeps_the_per_task_predictions():
    X, Y = _two_tasks()
    est = _small(callbacks=[PerTaskCheckpoint()]).fit(X, Y)
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    assert loaded.best_epochs_ == est.best_epochs_
    # tasks that peaked at the same epoch still share one copy
    states = _checkpoint(loaded).states_
    for a in states:
        for b in states:
            if loaded.best_epochs_[a] == loaded.best_epochs_[b]:
                assert states[a] is states[b]
    assert all(t.device.type == "cpu" for s in states.values() for t in s.values())


def test_warm_start_continues_the_best_states():
    X, Y = _two_tasks()
    est = _small(max_epochs=6, warm_start=True,
                 callbacks=[PerTaskCheckpoint()]).fit(X, Y)
    first = dict(_checkpoint(est).best_scores_)
    est.fit(X, Y)
    assert len(est.history_) == 12
    checkpoint = _checkpoint(est)
    for name in ("task_0", "task_1"):
        losses = np.asarray(est.history_[:, f"valid_loss_{name}"])
        assert checkpoint.best_scores_[name] == losses.min() <= first[name]
        assert est.best_epochs_[name] == int(np.argmin(losses)) + 1


def test_cross_validation_clones_the_callback():
    X, Y = _two_tasks()
    est = _small(max_epochs=4, callbacks=[PerTaskCheckpoint(patience=2)])
    search = GridSearchCV(est, {"callbacks__PerTaskCheckpoint__patience": [1, 3]},
                          cv=2, scoring=make_multitask_scorer()).fit(X, Y)
    best = search.best_estimator_
    assert _checkpoint(best).patience == search.best_params_[
        "callbacks__PerTaskCheckpoint__patience"]
    # the estimator's own callback is copied at fit, never trained
    assert not hasattr(est.callbacks[0], "states_")


def test_classifier_probabilities_and_score_use_the_best_states():
    rng = np.random.RandomState(0)
    X = rng.randn(300, 5)
    Y = np.c_[X[:, 0] > 0, X[:, 1] + X[:, 2] > 0].astype(float)
    est = MultiTaskClassifier(hidden_layer_sizes=(16,), lr=0.02, max_epochs=10,
                              train_split=0.3, random_state=0, n_threads=1,
                              callbacks=[PerTaskCheckpoint(), StateRecorder()])
    est.fit(X, Y)
    proba = est.predict_proba(X)
    states = _recorder(est).states
    for k, name in enumerate(["task_0", "task_1"]):
        expected = _at(est, states[est.best_epochs_[name]]).predict_proba(X)[k]
        np.testing.assert_array_equal(proba[k], expected)
    assert est.score(X, Y) == np.mean(
        [(est.predict(X)[:, k] == Y[:, k]).mean() for k in range(2)])


class Tokens(nn.Module):
    def __init__(self, dim=8):
        super().__init__()
        self.embedding = nn.Embedding(20, dim)
        self.out_features = dim

    def forward(self, tokens, weight):
        return self.embedding(tokens).mean(1) * weight


def test_named_and_categorical_inputs():
    rng = np.random.RandomState(0)
    tokens = rng.randint(0, 20, (200, 5)).astype(np.int64)
    weight = rng.rand(200, 1).astype(np.float32)
    X = SliceDict(tokens=tokens, weight=weight)
    Y = np.c_[(tokens < 10).mean(1), (tokens % 2).mean(1)]
    est = _small(trunk=Tokens, callbacks=[PerTaskCheckpoint(), StateRecorder()])
    est.fit(X, Y)
    states = _recorder(est).states
    for k, name in enumerate(["task_0", "task_1"]):
        restored = _regression_at(est, states[est.best_epochs_[name]], X)
        np.testing.assert_array_equal(est.predict(X)[:, k], restored[:, k])

    df = pd.DataFrame({"city": pd.Categorical(rng.choice(list("abcde"), 200)),
                       "x": rng.randn(200)})
    Y = np.c_[df["x"] + (df["city"] == "a"), (df["city"] == "b") * 2.0]
    est = MultiTaskEstimator(tasks=[Task("u"), Task("v")], hidden_layer_sizes=(16,),
                             lr=0.02, max_epochs=8, train_split=0.3, random_state=0,
                             categorical_features="from_dtype",
                             callbacks=[PerTaskCheckpoint(), StateRecorder()])
    est.fit(df, Y)
    states = _recorder(est).states
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(loaded.predict(df), est.predict(df))
    for k, name in enumerate(["u", "v"]):
        restored = _regression_at(est, states[est.best_epochs_[name]], df)
        np.testing.assert_array_equal(est.predict(df)[:, k], restored[:, k])


def test_without_a_validation_split_it_says_what_to_do():
    X, Y = _two_tasks()
    with pytest.raises(ValueError, match=r"valid_loss_task_0.*train_split"):
        _small(train_split=None, callbacks=[PerTaskCheckpoint()]).fit(X, Y)
    with pytest.raises(ValueError, match="patience must be a positive integer"):
        _small(callbacks=[PerTaskCheckpoint(patience=0)]).fit(X, Y)
    est = _small(max_epochs=1).fit(X, Y)
    with pytest.raises(AttributeError, match="PerTaskCheckpoint"):
        est.best_epochs_  # noqa: B018


def test_a_task_without_validation_labels_is_predicted_from_the_last_epoch():
    X, Y = _two_tasks()
    Y[:, 0] = np.nan
    Y[:5, 0] = 1.0  # only a handful of labels: none may reach the validation split
    est = _small(train_split=lambda ds, y=None: (ds, _tail(ds)),
                 callbacks=[PerTaskCheckpoint(), StateRecorder()])
    with pytest.warns(UserWarning, match="task 'task_0'"):
        est.fit(X, Y)
    assert est.best_epochs_["task_0"] is None
    last = _regression_at(est, _recorder(est).states[len(est.history_)], X)
    np.testing.assert_array_equal(est.predict(X)[:, 0], last[:, 0])


def _tail(dataset):
    from torch.utils.data import Subset

    return Subset(dataset, range(200, len(dataset)))
