"""add_tasks: new heads on a fitted network, frozen or fine-tuned sharing."""

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from skmtl import Task
from skmtl.metrics import make_multitask_scorer
from skmtl.neural import (
    HardSharing,
    MultiTaskClassifier,
    MultiTaskEstimator,
    MultiTaskRegressor,
    PerTaskCheckpoint,
    SoftSharing,
)
from skmtl.neural.weighting import Uncertainty


def _data(n=400, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 6)
    shared = np.tanh(X[:, 0] + X[:, 1]) + X[:, 2]
    Y = np.c_[shared + 0.1 * rng.randn(n), shared - X[:, 3]]
    new = np.c_[2 * shared + X[:, 4], (shared > 0).astype(float)]
    return X, Y, new


def _fitted(**params):
    X, Y, _ = _data()
    defaults = dict(tasks=[Task("a"), Task("b")], hidden_layer_sizes=(32,), lr=0.02,
                    max_epochs=15, batch_size=32, random_state=0, n_threads=1)
    return MultiTaskEstimator(**{**defaults, **params}).fit(X, Y)


def test_frozen_sharing_keeps_the_old_predictions_identical_and_learns_the_new():
    X, Y, new = _data()
    est = _fitted()
    before = est.predict(X)
    trunk = {k: v.clone() for k, v in est.net_.module_.state_dict().items()}
    est.add_tasks([Task("c"), Task("d", "binary")], X, new, max_epochs=20)
    after = est.predict(X)
    assert after.shape == (len(X), 4)
    np.testing.assert_array_equal(after[:, :2], before)
    for key, value in trunk.items():
        torch.testing.assert_close(est.net_.module_.state_dict()[key], value,
                                   rtol=0, atol=0)
    # the new heads learned their tasks from the frozen features
    X_test, Y_test, new_test = _data(seed=1)
    full = np.c_[Y_test, new_test]
    table = est.score(X_test, full)
    assert table > 0.8
    assert (est.predict(X_test)[:, 3] == new_test[:, 1]).mean() > 0.9
    assert [t.name for t in est.tasks_] == ["a", "b", "c", "d"]
    assert (est.n_tasks_, est.n_outputs_) == (4, 4)
    assert len(est.target_mean_) == 4 and est.target_scale_[2] == pytest.approx(
        new[:, 0].std())
    assert len(est.history_) == 35
    assert est.task_weights_history_.shape == (35, 4)
    assert np.isnan(est.task_weights_history_[0, 2:]).all()
    assert list(est.tasks_[3].classes_) == [0.0, 1.0]
    assert "train_loss_c" in est.history_[-1]
    scores, _ = make_multitask_scorer().table(est, X_test, full)
    assert list(scores["task"]) == ["a", "b", "c", "d"]
    assert list(scores["metric"]) == ["r2", "r2", "r2", "accuracy"]
    assert np.nanmean(scores["score"]) == pytest.approx(table)


def test_frozen_sharing_with_dropout_and_batch_norm_in_the_trunk():
    class Trunk(nn.Module):
        def __init__(self, input_shape):
            super().__init__()
            self.layers = nn.Sequential(nn.Linear(input_shape[0], 16),
                                        nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3))
            self.out_features = 16

        def forward(self, X):
            return self.layers(X)

    X, Y, new = _data()
    est = _fitted(trunk=Trunk)
    before = est.predict(X)
    est.add_tasks(Task("c"), X, new[:, :1], max_epochs=3)
    np.testing.assert_array_equal(est.predict(X)[:, :2], before)
    # the trunk trains again (its mode and gradients are back) afterwards
    assert all(p.requires_grad for p in est.net_.module_.parameters())
    est.net_.module_.train()
    assert est.net_.module_.trunk.layers[1].training
    est.set_params(warm_start=True, max_epochs=1).fit(X, np.c_[Y, new[:, :1]])
    assert not np.array_equal(est.predict(X)[:, :2], before)


def test_fine_tuning_trains_the_shared_part_on_every_task():
    X, Y, new = _data()
    est = _fitted()
    before = est.predict(X)
    trunk = [p.detach().clone() for p in est.net_.module_.trunk.parameters()]
    est.add_tasks(Task("c"), X, np.c_[Y, new[:, :1]], freeze_shared=False,
                  max_epochs=10)
    assert not np.array_equal(est.predict(X)[:, :2], before)
    assert not any(torch.equal(p, q) for p, q in
                   zip(est.net_.module_.trunk.parameters(), trunk))
    assert est.score(X, np.c_[Y, new[:, :1]]) > 0.8


def test_old_labels_may_be_missing_and_a_dataframe_is_matched_by_name():
    X, Y, new = _data()
    est = _fitted()
    before = est.predict(X)
    frame = pd.DataFrame({"d": new[:, 1], "c": new[:, 0]})
    est.add_tasks([Task("c"), Task("d", "binary")], X, frame, max_epochs=5)
    np.testing.assert_array_equal(est.predict(X)[:, :2], before)
    assert est.target_mean_[2] == pytest.approx(new[:, 0].mean())
    # a full-width Y with NaN in the old columns works alike
    other = _fitted()
    full = np.c_[np.full_like(Y, np.nan), new]
    other.add_tasks([Task("c"), Task("d", "binary")], X, full, max_epochs=5)
    np.testing.assert_array_equal(other.predict(X), est.predict(X))


def test_add_tasks_through_pickle_and_then_warm_start():
    X, Y, new = _data()
    est = _fitted(warm_start=True)
    loaded = pickle.loads(pickle.dumps(est))
    loaded.add_tasks(Task("c"), X, new[:, :1], max_epochs=5)
    est.add_tasks(Task("c"), X, new[:, :1], max_epochs=5)
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    again = pickle.loads(pickle.dumps(loaded))
    np.testing.assert_array_equal(again.predict(X), est.predict(X))
    # warm-started fit goes on with every task
    again.set_params(max_epochs=3).fit(X, np.c_[Y, new[:, :1]])
    assert len(again.history_) == 15 + 5 + 3
    assert again.predict(X).shape == (len(X), 3)


def test_classifier_classes_and_probabilities_grow():
    X, _, new = _data()
    Y = np.c_[X[:, 0] > 0, X[:, 1] > 0].astype(int)
    est = MultiTaskClassifier(hidden_layer_sizes=(16,), lr=0.02, max_epochs=5,
                              random_state=0).fit(X, Y)
    before = est.predict_proba(X)
    labels = np.where(X[:, 2] > 0.5, "high", np.where(X[:, 2] < -0.5, "low", "mid"))
    est.add_tasks(Task("level", "classification"), X, labels, max_epochs=20)
    proba = est.predict_proba(X)
    assert len(proba) == 3 and proba[2].shape == (len(X), 3)
    for p, q in zip(proba[:2], before):
        np.testing.assert_array_equal(p, q)
    assert list(est.classes_[2]) == ["high", "low", "mid"]
    assert (est.predict(X)[:, 2] == labels).mean() > 0.6  # chance: 0.38


def test_mmoe_soft_sharing_named_and_categorical_inputs():
    X, Y, new = _data()
    est = _fitted(architecture="mmoe", module__n_experts=2)
    before = est.predict(X)
    est.add_tasks(Task("c"), X, new[:, :1], max_epochs=3)
    np.testing.assert_array_equal(est.predict(X)[:, :2], before)
    assert len(est.net_.module_.gates) == 3

    est = _fitted(architecture="soft", module__strength=0.1)
    before = est.predict(X)
    est.add_tasks(Task("c"), X, new[:, :1], max_epochs=1)
    np.testing.assert_array_equal(est.predict(X)[:, :2], before)
    assert len(est.net_.module_.trunks) == 3

    class Tokens(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(20, 8)
            self.out_features = 8

        def forward(self, tokens):
            return self.embedding(tokens).mean(1)

    tokens = np.random.RandomState(0).randint(0, 20, (200, 5))
    est = MultiTaskRegressor(trunk=Tokens, max_epochs=3, random_state=0).fit(
        {"tokens": tokens}, (tokens < 10).mean(1))
    before = est.predict({"tokens": tokens})
    est.add_tasks(Task("odd"), {"tokens": tokens}, (tokens % 2).mean(1),
                  max_epochs=3)
    np.testing.assert_array_equal(est.predict({"tokens": tokens})[:, 0], before)

    rng = np.random.RandomState(0)
    df = pd.DataFrame({"city": pd.Categorical(rng.choice(list("abcd"), 300)),
                       "x": rng.randn(300)})
    y = (df["x"] + (df["city"] == "a")).to_numpy()  # 1-D: 1-D predictions
    est = MultiTaskRegressor(hidden_layer_sizes=(8,), max_epochs=3, random_state=0,
                             categorical_features="from_dtype").fit(df, y)
    before = est.predict(df)
    assert before.shape == (300,)
    est.add_tasks(Task("b"), df, (df["city"] == "b").to_numpy(float), max_epochs=3)
    assert est.predict(df).shape == (300, 2)
    np.testing.assert_array_equal(est.predict(df)[:, 0], before)


def test_per_task_checkpoints_follow_the_added_tasks():
    X, Y, new = _data()
    est = _fitted(train_split=0.25, callbacks=[PerTaskCheckpoint()])
    before = est.predict(X)
    est.add_tasks(Task("c"), X, new[:, :1], max_epochs=6)
    np.testing.assert_array_equal(est.predict(X)[:, :2], before)
    assert set(est.best_epochs_) == {"a", "b", "c"}
    assert est.best_epochs_["c"] > 15


def test_weighting_strategies_are_rebuilt_for_every_task():
    X, Y, new = _data()
    est = _fitted(weighting=Uncertainty(), warm_start=True)
    est.add_tasks(Task("c"), X, new[:, :1], max_epochs=2)
    assert est.net_.weighting_.task_names_ == ["a", "b", "c"]
    est.set_params(max_epochs=2).fit(X, np.c_[Y, new[:, :1]])
    assert np.isfinite(est.task_weights_history_[-1]).all()
    est = _fitted(task_weights=(1.0, 2.0))
    with pytest.raises(ValueError, match="task_weights"):
        est.add_tasks(Task("c"), X, new[:, :1])
    assert [t.name for t in est.tasks_] == ["a", "b"]  # unchanged


def test_bad_new_tasks_are_refused_before_anything_changes():
    X, Y, new = _data()
    est = _fitted()
    before = est.predict(X)
    with pytest.raises(ValueError, match="'a' is already a task of the model"):
        est.add_tasks(Task("a"), X, new[:, :1])
    with pytest.raises(ValueError, match="'c' is given twice"):
        est.add_tasks([Task("c"), Task("c")], X, new)
    with pytest.raises(ValueError, match="y has 3 column"):
        est.add_tasks([Task("c"), Task("d")], X, np.c_[new, new[:, 0]])
    with pytest.raises(ValueError, match="'c' has no labelled sample"):
        est.add_tasks(Task("c"), X, np.full(len(X), np.nan))
    with pytest.raises(ValueError, match="X has 10 samples"):
        est.add_tasks(Task("c"), X[:10], new[:, :1])
    with pytest.raises(TypeError, match="freeze_shared must be True or False"):
        est.add_tasks(Task("c"), X, new[:, :1], freeze_shared="yes")
    with pytest.raises(ValueError, match="max_epochs must be a positive integer"):
        est.add_tasks(Task("c"), X, new[:, :1], max_epochs=0)
    with pytest.raises(TypeError, match="Task objects"):
        est.add_tasks(["c"], X, new[:, :1])
    with pytest.raises(ValueError, match="is a classification task but"):
        MultiTaskRegressor(max_epochs=1).fit(X, Y).add_tasks(
            Task("k", "classification"), X, new[:, 1])
    assert est.n_tasks_ == 2
    np.testing.assert_array_equal(est.predict(X), before)
    with pytest.raises(TypeError, match="CrossStitch cannot add tasks"):
        _fitted(architecture="cross_stitch", max_epochs=1).add_tasks(
            Task("c"), X, new[:, :1])


def test_module_add_tasks_appends_heads_and_starts_soft_trunks_at_the_mean():
    torch.manual_seed(0)
    module = SoftSharing([1, 2], input_shape=(3,))
    with torch.no_grad():
        for p in module.trunks[1].parameters():
            p.add_(1.0)
    X = torch.randn(4, 3)
    before = [out.detach() for out in module(X)]
    added = module.add_tasks([3])
    after = module(X)
    assert [tuple(o.shape) for o in after] == [(4, 1), (4, 2), (4, 3)]
    for old, new in zip(before, after):
        assert torch.equal(old, new)
    for p, a, b in zip(module.trunks[2].parameters(), module.trunks[0].parameters(),
                       module.trunks[1].parameters()):
        torch.testing.assert_close(p, (a + b) / 2)
    assert module.output_sizes == [1, 2, 3]
    assert {id(p) for p in added} == {id(p) for p in module.trunks[2].parameters()} | {
        id(p) for p in module.heads[2].parameters()}
    hard = HardSharing([1], input_shape=(3,), head_hidden=(4,))
    hard.add_tasks([2, 5])
    assert [tuple(o.shape) for o in hard(X)] == [(4, 1), (4, 2), (4, 5)]
