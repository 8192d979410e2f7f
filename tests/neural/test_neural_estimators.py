"""MultiTaskEstimator and its conveniences: the scikit-learn contract on mixed
tasks, what training records, parameters routing, devices and inputs."""

import copy
import pickle

import numpy as np
import pytest
import sklearn
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, GroupKFold, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback
from torch import nn

import skmtl
from skmtl import Task
from skmtl.metrics import make_multitask_scorer, per_task_scores
from skmtl.neural import (
    ConvNet,
    MultiTaskClassifier,
    MultiTaskEstimator,
    MultiTaskNet,
    MultiTaskRegressor,
)

TASKS = [Task("value"), Task("kind", "classification"), Task("flag", "binary"),
         Task("visits", "count")]


def mixed_data(n=160, seed=0, missing=0.2):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 5)
    value = X[:, 0] - 2 * X[:, 1] + 0.1 * rng.randn(n)
    kind = np.array(["low", "mid", "high"], dtype=object)[
        np.digitize(X[:, 2] + X[:, 0], [-0.6, 0.6])]
    flag = (X[:, 3] > 0).astype(float)
    visits = rng.poisson(np.exp(0.5 * X[:, 4] + 0.5)).astype(float)
    Y = np.empty((n, 4), dtype=object)
    Y[:, 0], Y[:, 1], Y[:, 2], Y[:, 3] = value, kind, flag, visits
    hidden = rng.rand(n, 4) < missing
    Y[hidden] = np.nan
    return X, Y


def small(cls=MultiTaskEstimator, **params):
    defaults = dict(tasks=TASKS, hidden_layer_sizes=(32,), lr=0.02, max_epochs=25,
                    batch_size=32, random_state=0)
    if cls is not MultiTaskEstimator:
        defaults.pop("tasks")
    defaults.update(params)
    return cls(**defaults)


@pytest.fixture(scope="module")
def fitted():
    X, Y = mixed_data()
    return small().fit(X, Y), X, Y


def test_raw_outputs_do_not_depend_on_how_they_travel_to_the_cpu(fitted, monkeypatch):
    # one transfer per batch (a tiny budget) or one for everything
    from skmtl.neural import _net

    est, X, _ = fitted
    together = est.net_.predict_raw(X)
    monkeypatch.setattr(_net, "_PREDICT_TRANSFER", 1)
    per_batch = est.net_.predict_raw(X)
    assert [r.shape for r in together] == [(len(X), 1), (len(X), 3), (len(X), 1),
                                           (len(X), 1)]
    for a, b in zip(together, per_batch):
        assert a.dtype == np.float32 and a.flags.c_contiguous
        np.testing.assert_array_equal(a, b)


def test_mixed_tasks_predict_every_task_with_decoded_labels(fitted):
    est, X, Y = fitted
    P = est.predict(X)
    assert P.shape == Y.shape and P.dtype == object
    assert set(P[:, 1]) <= {"low", "mid", "high"}
    assert set(P[:, 2]) <= {0.0, 1.0}
    assert np.all(P[:, 3].astype(float) > 0)
    table = per_task_scores(Y, P, est.tasks_, as_frame=False)
    scores = dict(zip(table["task"], table["score"]))
    assert scores["value"] > 0.9 and scores["kind"] > 0.8 and scores["flag"] > 0.85
    assert scores["visits"] > 0.2  # D² of a Poisson with log-rate 0.5 x
    assert est.score(X, Y) == pytest.approx(np.mean(table["score"]))


def test_predict_proba_per_classification_column(fitted):
    est, X, _ = fitted
    proba = est.predict_proba(X)
    assert proba[0] is None and proba[3] is None
    assert proba[1].shape == (len(X), 3) and proba[2].shape == (len(X), 2)
    for p in proba[1:3]:
        np.testing.assert_allclose(p.sum(axis=1), 1.0)
    P = est.predict(X)
    kind = est.tasks_[1].classes_[proba[1].argmax(axis=1)]
    np.testing.assert_array_equal(kind, P[:, 1])
    regression_only = small(tasks=[Task("a")]).fit(X, X[:, 0])
    assert not hasattr(regression_only, "predict_proba")


def test_clone_pickle_pipeline_on_mixed_tasks(fitted):
    est, X, Y = fitted
    cloned = clone(est)
    assert cloned.get_params()["tasks"] == TASKS and not hasattr(cloned, "net_")
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.predict(X), est.predict(X))
    assert restored.score(X, Y) == est.score(X, Y)
    pipe = make_pipeline(StandardScaler(), clone(est)).fit(X * 10 + 3, Y)
    assert pipe.predict(X).shape == Y.shape
    assert pipe.score(X * 10 + 3, Y) > 0.7


@pytest.mark.parametrize("grid", [
    {"task_weights": [(1.0, 1.0, 1.0, 1.0), (1.0, 3.0, 1.0, 0.5)]},
    {"task_weights": [{"kind": 2.0}, {"value": 0.5, "visits": 2.0}]},
    {"task_weights__kind": [1.0, 4.0]},
], ids=["tuples", "dicts", "one task"])
def test_grid_search_over_task_weights_on_mixed_tasks(grid):
    X, Y = mixed_data(n=120)
    search = GridSearchCV(small(max_epochs=8), grid, scoring=make_multitask_scorer(),
                          cv=KFold(3, shuffle=True, random_state=0),
                          error_score="raise").fit(X, Y)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    # the weights reached the network: recorded in the refitted net's history
    weights = search.best_estimator_.task_weights_history_
    assert weights.shape == (8, 4)
    expected = search.best_params_.get("task_weights") or {
        "kind": search.best_params_["task_weights__kind"]}
    if isinstance(expected, dict):
        expected = [expected.get(t.name, 1.0) for t in TASKS]
    np.testing.assert_allclose(weights[-1], expected)


def test_set_params_of_one_task_weight():
    est = small(task_weights=(1.0, 2.0, 1.0, 1.0))
    est.set_params(task_weights__flag=5.0)
    assert est.task_weights == {"value": 1.0, "kind": 2.0, "flag": 5.0, "visits": 1.0}
    assert small(task_weights=None).set_params(
        task_weights__kind=3).task_weights == {"kind": 3}
    with pytest.raises(ValueError, match="task names are unknown before fit"):
        MultiTaskRegressor(task_weights=(1.0, 2.0)).set_params(task_weights__a=1)


def test_same_random_state_same_predictions_and_torch_rng_untouched():
    X, Y = mixed_data(n=80)
    torch.manual_seed(123)
    expected_draw = torch.rand(1)
    torch.manual_seed(123)
    a = small(max_epochs=5, random_state=7).fit(X, Y)
    assert torch.rand(1) == expected_draw  # fit restores torch's generator
    b = small(max_epochs=5, random_state=7).fit(X, Y)
    c = small(max_epochs=5, random_state=8).fit(X, Y)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    assert not np.array_equal(a.predict_proba(X)[1], c.predict_proba(X)[1])


@pytest.mark.parametrize("missing", [0.0, 0.3], ids=["complete", "missing"])
def test_per_task_losses_in_history_are_masked_means_by_hand(missing):
    X, Y = mixed_data(n=90, missing=missing)
    # a learning rate of ~0 keeps the network fixed, so the epoch's mean loss
    # of each task is its masked mean loss over the whole training set
    est = small(optimizer=torch.optim.SGD, lr=1e-12, max_epochs=2, batch_size=16,
                standardize_targets=False, task_weights=(1.0, 2.0, 0.5, 1.0)).fit(X, Y)
    targets = torch.tensor(est._encode_targets(Y), dtype=torch.float32)
    with torch.no_grad():
        outputs = est.net_.module_(torch.tensor(X, dtype=torch.float32))
        losses, _ = est.net_.criterion_(outputs, targets, complete=False)
    last = est.history_[-1]
    recorded = [last[f"train_loss_{t.name}"] for t in TASKS]
    np.testing.assert_allclose(recorded, losses.numpy(), rtol=1e-5)
    assert last["task_weights"] == [1.0, 2.0, 0.5, 1.0]
    if missing == 0.0:
        # every batch complete: the batch-averaged objective is sum_k lambda_k L_k
        assert last["train_loss"] == pytest.approx(
            np.dot([1.0, 2.0, 0.5, 1.0], recorded), rel=1e-5)


def test_validation_split_records_per_task_validation_losses():
    X, Y = mixed_data(n=100)
    est = small(max_epochs=3, train_split=0.25).fit(X, Y)
    keys = set(est.history_[-1])
    assert {f"valid_loss_{t.name}" for t in TASKS} <= keys
    assert np.all(np.isfinite([est.history_[-1, f"valid_loss_{t.name}"]
                               for t in TASKS]))


class _Snapshot(Callback):
    def on_train_begin(self, net, **kwargs):
        self.heads = copy.deepcopy(net.module_.heads.state_dict())


def test_a_zero_task_weight_leaves_its_head_untrained():
    X, Y = mixed_data(n=80)
    snapshot = _Snapshot()
    est = small(max_epochs=3, task_weights={"flag": 0.0}, callbacks=[snapshot])
    est.fit(X, Y)
    start = next(cb for _, cb in est.net_.callbacks_
                 if isinstance(cb, _Snapshot)).heads
    now = est.net_.module_.heads.state_dict()
    for key in start:
        same = torch.equal(start[key], now[key])
        assert same == key.startswith("2."), key  # head 2 is the flag task's


class _Poison(Callback):
    def on_epoch_begin(self, net, **kwargs):
        if len(net.history) == 2:
            with torch.no_grad():
                net.module_.heads[2][-1].bias.fill_(float("nan"))


def test_a_non_finite_loss_stops_training_naming_the_task_and_epoch():
    X, Y = mixed_data(n=80, missing=0.0)
    est = small(max_epochs=5, callbacks=[_Poison()])
    with pytest.raises(ValueError, match=r"loss of task 'flag' became nan at epoch 2"):
        est.fit(X, Y)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_requested_without_cuda_is_a_clear_error():
    X, Y = mixed_data(n=20)
    with pytest.raises(ValueError, match="CUDA is not available"):
        small(device="cuda").fit(X, Y)
    with pytest.raises(ValueError, match="is not a torch device"):
        small(device="gpu0").fit(X, Y)


def test_device_moves_and_pickles_on_cpu(fitted):
    est, X, _ = fitted
    moved = pickle.loads(pickle.dumps(est)).to("cpu")
    assert moved.net_.device == "cpu"
    np.testing.assert_array_equal(moved.predict(X), est.predict(X))
    assert next(moved.net_.module_.parameters()).device.type == "cpu"
    # per-epoch training state (tensors on the training device) is not pickled
    assert not {"epoch_sums_", "complete_", "train_batch_"} & set(vars(moved.net_))


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_a_net_saved_on_cuda_loads_on_a_machine_without_it(fitted):
    est, X, _ = fitted
    saved = copy.deepcopy(est)
    saved.net_.device = "cuda"  # as if fitted there: skorch maps it back
    with pytest.warns(UserWarning) as caught:
        restored = pickle.loads(pickle.dumps(saved))
    assert any("no CUDA devices are available" in str(w.message) for w in caught)
    assert torch.device(restored.net_.device).type == "cpu"
    np.testing.assert_array_equal(restored.predict(X), est.predict(X))


def test_partial_fit_trains_one_epoch_per_call():
    X, Y = mixed_data(n=90)
    est = small()
    est.partial_fit(X[:45], Y[:45], classes={"kind": ["low", "mid", "high"],
                                              "flag": [0.0, 1.0]})
    assert len(est.history_) == 1
    first = est.predict(X)
    est.partial_fit(X[45:], Y[45:])
    assert len(est.history_) == 2
    assert not np.array_equal(first[:, 0], est.predict(X)[:, 0])
    with pytest.raises(ValueError, match="X has 4 features"):
        est.partial_fit(X[:, :4], Y)
    with pytest.raises(ValueError, match="y has 3 column"):
        est.partial_fit(X, Y[:, :3])


def test_partial_fit_classes_for_single_type_classifiers():
    X = np.random.RandomState(0).randn(40, 3)
    y = (X[:, 0] > 0).astype(int)
    est = small(MultiTaskClassifier, max_epochs=1)
    est.partial_fit(X[y == 0], y[y == 0], classes=[0, 1])
    np.testing.assert_array_equal(est.classes_, [0, 1])
    assert est.predict_proba(X).shape == (40, 2)


def test_prefixed_parameters_reach_module_optimizer_and_trunk():
    X, Y = mixed_data(n=60)
    est = small(architecture="mmoe", max_epochs=1, module__n_experts=3,
                optimizer__weight_decay=0.1, trunk__activation="tanh")
    params = est.get_params()
    assert params["module__n_experts"] == 3 and params["trunk__activation"] == "tanh"
    est.fit(X, Y)
    module = est.net_.module_
    assert len(module.experts) == 3
    assert isinstance(module.experts[0][0][2], nn.Tanh)
    assert est.net_.optimizer_.param_groups[0]["weight_decay"] == 0.1
    est.set_params(module__n_experts=2).fit(X, Y)
    assert len(est.net_.module_.experts) == 2
    assert clone(est).get_params()["module__n_experts"] == 2
    search = GridSearchCV(est, {"module__n_experts": [1, 2],
                                "optimizer__weight_decay": [0.0, 0.01]},
                          scoring=make_multitask_scorer(), cv=2,
                          error_score="raise").fit(X, Y)
    assert len(search.best_estimator_.net_.module_.experts) == \
        search.best_params_["module__n_experts"]
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['hidden'\]"):
        small(hidden=3).fit(X, Y)
    with pytest.raises(ValueError, match="module__ parameters"):
        small(architecture=nn.Linear(5, 2), module__x=1).fit(X, Y)


def test_single_type_estimators_refuse_other_task_types():
    X, Y = mixed_data(n=40)
    with pytest.raises(ValueError, match="task 'kind' is a classification task but "
                                         "MultiTaskRegressor"):
        small(MultiTaskRegressor, tasks=TASKS).fit(X, Y)
    with pytest.raises(ValueError, match="task 'value' is a regression task but "
                                         "MultiTaskClassifier"):
        small(MultiTaskClassifier, tasks=TASKS).fit(X, Y)


def test_trunk_and_architecture_instances_are_not_trained_in_place():
    X, Y = mixed_data(n=60)
    trunk = nn.Sequential(nn.Linear(5, 8), nn.ReLU())
    before = copy.deepcopy(trunk.state_dict())
    est = small(trunk=trunk, max_epochs=2).fit(X, Y)
    assert all(torch.equal(before[k], v) for k, v in trunk.state_dict().items())
    assert est.net_.module_.trunk is not trunk

    class Heads(nn.Module):  # a user module returning a dict by task name
        def __init__(self):
            super().__init__()
            self.body = nn.Linear(5, 16)
            self.out = nn.ModuleDict({"value": nn.Linear(16, 1),
                                      "kind": nn.Linear(16, 3),
                                      "flag": nn.Linear(16, 1),
                                      "visits": nn.Linear(16, 1)})

        def forward(self, X):
            h = torch.relu(self.body(X))
            return {name: head(h) for name, head in self.out.items()}

    module = Heads()
    weights = copy.deepcopy(module.state_dict())
    est = small(architecture=module, max_epochs=10).fit(X, Y)
    assert est.score(X, Y) > 0.5
    assert all(torch.equal(weights[k], v) for k, v in module.state_dict().items())


def test_mixed_tasks_on_image_input():
    rng = np.random.RandomState(0)
    X = rng.rand(120, 3, 8, 8).astype(np.float32)
    brightness = X[:, 0].mean(axis=(1, 2)) - X[:, 1].mean(axis=(1, 2))
    Y = np.c_[brightness * 10, (brightness > 0).astype(float)]
    Y[::5, 0] = np.nan
    est = MultiTaskEstimator(tasks=[Task("contrast"), Task("redder", "binary")],
                             trunk=ConvNet, trunk__channels=(8,),
                             trunk__out_features=16, lr=0.01, max_epochs=30,
                             batch_size=32, random_state=0).fit(X, Y)
    assert est.input_shape_ == (3, 8, 8)
    P = est.predict(X)
    assert P.shape == (120, 2) and P.dtype == np.float64
    assert est.score(X, Y) > 0.8
    with pytest.raises(ValueError, match="expecting 3 features"):
        est.predict(X[:, :2])
    with pytest.raises(ValueError, match=r"samples of shape \(3, 6, 6\) but the "
                                         r"network was fitted on samples of shape "
                                         r"\(3, 8, 8\)"):
        est.predict(X[:, :, :6, :6])


def test_ranking_within_groups_needs_and_uses_query_ids():
    rng = np.random.RandomState(0)
    n = 240
    groups = np.repeat(np.arange(24), 10)
    X = rng.randn(n, 3)
    # relevance follows x0 within a query; queries differ by a large offset in x1
    X[:, 1] = groups
    relevance = np.zeros(n)
    for g in range(24):
        rows = groups == g
        relevance[rows] = np.argsort(np.argsort(X[rows, 0])) // 3
    Y = relevance[:, None]
    ranker = MultiTaskRegressor(tasks=[Task("rel", "ranking", group="query")],
                                hidden_layer_sizes=(16,), lr=0.01, max_epochs=30,
                                batch_size=40, random_state=0)
    with pytest.raises(ValueError, match="pass the query ids as fit"):
        clone(ranker).fit(X, Y)
    ranker.fit(X, Y, groups=groups)
    assert ranker.score(X, Y) > 0.95  # NDCG
    scores = ranker.predict(X)[:, 0]
    # within each query the learned score orders items by x0, the relevance
    # signal (across queries it may carry any offset: only order within a
    # query is trained)
    within = [np.corrcoef(scores[groups == g], X[groups == g, 0])[0, 1]
              for g in range(24)]
    assert np.mean(within) > 0.95
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(ranker.set_fit_request(groups=True),
                              {"lr": [0.01, 0.02]}, cv=GroupKFold(3),
                              scoring=make_multitask_scorer()).fit(X, Y,
                                                                   groups=groups)
    assert search.best_score_ > 0.9


def test_standardized_targets_give_predictions_in_original_units():
    rng = np.random.RandomState(0)
    X = rng.randn(200, 2)
    Y = np.c_[1000 + 300 * X[:, 0], -0.01 * X[:, 1]]
    Y[::4, 1] = np.nan
    est = small(MultiTaskRegressor, max_epochs=40).fit(X, Y)
    np.testing.assert_allclose(est.target_mean_, np.nanmean(Y, axis=0))
    np.testing.assert_allclose(est.target_scale_, np.nanstd(Y, axis=0))
    assert est.score(X, Y) > 0.98
    assert abs(np.mean(est.predict(X)[:, 0]) - np.mean(Y[:, 0])) < 0.05 * 300


def test_verbose_prints_per_task_losses(capsys):
    X, Y = mixed_data(n=40)
    small(max_epochs=2, verbose=1).fit(X, Y)
    out = capsys.readouterr().out
    for task in TASKS:
        assert f"train_loss_{task.name}" in out
    assert "task_weights" not in out


def test_top_level_names_are_lazy_and_unfitted_attributes_raise():
    assert skmtl.MultiTaskEstimator is MultiTaskEstimator
    assert skmtl.MultiTaskNet is MultiTaskNet
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        skmtl.Nope  # noqa: B018
    with pytest.raises(NotFittedError):
        MultiTaskEstimator().history_  # noqa: B018
    with pytest.raises(NotFittedError):
        MultiTaskEstimator().predict(np.zeros((2, 2)))


def _small_fit(**params):
    X, Y = mixed_data(n=96)
    est = MultiTaskEstimator(tasks=TASKS, hidden_layer_sizes=(8,), max_epochs=3,
                             batch_size=32, random_state=0, verbose=0, **params)
    return est.fit(X, Y), X, Y


def test_adam_runs_the_fused_update_unless_the_user_chooses_one():
    # torch 2.13 (CI) has the fused Adam kernel on the CPU
    est, X, Y = _small_fit()
    assert est.net_.optimizer_.defaults["fused"] is True
    assert "optimizer__fused" not in est.get_params()   # not a parameter
    assert est.net_.optimizer_.defaults.get("foreach") is None
    unfused, _, _ = _small_fit(optimizer__fused=False)
    assert not unfused.net_.optimizer_.defaults["fused"]
    foreach, _, _ = _small_fit(optimizer__foreach=True)
    assert foreach.net_.optimizer_.defaults["foreach"] is True
    assert not foreach.net_.optimizer_.defaults["fused"]
    adamw, _, _ = _small_fit(optimizer=torch.optim.AdamW)
    assert adamw.net_.optimizer_.defaults["fused"] is True
    sgd, _, _ = _small_fit(optimizer=torch.optim.SGD, lr=0.05)
    assert not sgd.net_.optimizer_.defaults.get("fused")
    # the same algorithm: the runs differ in rounding only
    X32 = X.astype(np.float32)
    for other in (unfused, foreach):
        for a, b in zip(est.net_.predict_raw(X32), other.net_.predict_raw(X32)):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_to_keeps_the_optimizer_state_and_training_continues_identically():
    moved, X, Y = _small_fit()
    staying, _, _ = _small_fit()
    moved.to("cpu")
    moved.partial_fit(X, Y)
    staying.partial_fit(X, Y)
    X32 = X.astype(np.float32)
    for a, b in zip(moved.net_.predict_raw(X32), staying.net_.predict_raw(X32)):
        np.testing.assert_array_equal(a, b)
    state = next(iter(moved.net_.optimizer_.state.values()))
    assert state["exp_avg"].device.type == "cpu"
