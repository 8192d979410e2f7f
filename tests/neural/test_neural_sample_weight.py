"""sample_weight in the neural wing: a weight scales its row in every task's loss.

Weight 0 equals dropping the row and an integer weight k equals repeating the
row k times: exactly for the full-batch losses and gradients of a fixed
module (minibatch training differs, since repeating rows changes the
batches). Bad weights raise a ValueError; the weights route through
Pipeline and GridSearchCV.
"""

import numpy as np
import pytest
import sklearn
import torch
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmtl import Task
from skmtl.neural import (
    HardSharing,
    MultiTaskClassifier,
    MultiTaskEstimator,
    MultiTaskNet,
    MultiTaskRegressor,
    TaskDataset,
    encode_groups,
)
from skmtl.tasks import resolve_tasks

NAN = float("nan")

TASKS = [Task("value"), Task("pair", n_outputs=2), Task("robust", loss="huber"),
         Task("kind", "classification"), Task("flags", "binary", n_outputs=2),
         Task("count", "count"), Task("rank", "ranking", group="query")]


def _data(n=40, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 5)
    Y = np.c_[X[:, 0], X[:, 1], X[:, 2] - X[:, 0], X[:, 3] * 2,
              rng.randint(0, 3, n), rng.randint(0, 2, (n, 2)),
              rng.poisson(2.0, n), rng.randint(0, 4, n)].astype(float)
    Y[rng.rand(n, Y.shape[1]) < 0.2] = NAN  # missing labels everywhere
    Y[0, :] = Y[1, :]
    return X, Y, rng.randint(0, 4, n)  # query ids of the ranking task


def _full_batch(tasks, X, targets, groups, sample_weight=None):
    """Every task's full-batch loss and the gradient of their sum, on a
    module whose parameters are fixed by the seed."""
    torch.manual_seed(0)
    net = MultiTaskNet(HardSharing, tasks=tasks, module__tasks=tasks,
                       module__input_shape=(X.shape[1],), batch_size=len(X),
                       iterator_train__shuffle=False, max_epochs=1,
                       verbose=0).initialize()
    dataset = TaskDataset(X, targets, encode_groups(groups, tasks, len(X)),
                          sample_weight=sample_weight)
    Xb, yb = dataset.batch(slice(None))
    losses = net.batch_task_losses(Xb, yb)
    grads = torch.autograd.grad(losses.sum(), list(net.module_.parameters()))
    return losses.detach().numpy(), [g.numpy() for g in grads]


def _encoded(tasks, Y):
    out = np.empty(Y.shape)
    for task in tasks:
        out[:, task.columns_] = task.encode(Y[:, task.columns_])
    return out


def test_integer_weights_equal_repeated_rows_and_zero_equals_dropping():
    X, Y, groups = _data()
    tasks = resolve_tasks(TASKS, Y)
    targets = _encoded(tasks, Y)
    weights = np.random.RandomState(1).randint(0, 4, len(X)).astype(float)
    weights[:3] = [0, 1, 3]
    weighted = _full_batch(tasks, X, targets, groups, weights)

    rows = np.repeat(np.arange(len(X)), weights.astype(int))
    repeated = _full_batch(tasks, X[rows], targets[rows], groups[rows])
    np.testing.assert_allclose(weighted[0], repeated[0], rtol=1e-5, atol=1e-7)
    for g_w, g_r in zip(weighted[1], repeated[1]):
        np.testing.assert_allclose(g_w, g_r, rtol=1e-4, atol=1e-6)

    kept = weights > 0
    binary = _full_batch(tasks, X, targets, groups, kept.astype(float))
    dropped = _full_batch(tasks, X[kept], targets[kept], groups[kept])
    np.testing.assert_allclose(binary[0], dropped[0], rtol=1e-5, atol=1e-7)
    for g_w, g_r in zip(binary[1], dropped[1]):
        np.testing.assert_allclose(g_w, g_r, rtol=1e-4, atol=1e-6)
    # and the weights do change the losses (the test can fail)
    unweighted = _full_batch(tasks, X, targets, groups)
    assert not np.allclose(unweighted[0], weighted[0], rtol=1e-3)


@pytest.mark.parametrize("k", range(len(TASKS)), ids=[t.name for t in TASKS])
def test_weighted_loss_is_the_weighted_mean_over_labelled_entries(k):
    rng = np.random.RandomState(0)
    X, Y, groups = _data()
    fitted = resolve_tasks(TASKS, Y)[k]
    target = torch.tensor(fitted.encode(Y[:, fitted.columns_]))
    raw = torch.tensor(rng.randn(len(X), fitted.n_model_outputs))
    weights = torch.tensor(rng.rand(len(X)) * 3)
    g = torch.tensor(groups) if fitted.type == "ranking" else None
    loss = fitted.loss_fn(raw, target, groups=g, sample_weight=weights).item()
    w = weights.numpy()
    num = den = 0.0
    if fitted.type == "ranking":
        rel, score = target[:, 0].numpy(), raw[:, 0].numpy()
        for i in range(len(X)):
            for j in range(len(X)):
                if (np.isnan(rel[i]) or np.isnan(rel[j]) or rel[i] <= rel[j]
                        or groups[i] != groups[j]):
                    continue
                num += w[i] * w[j] * np.log1p(np.exp(-(score[i] - score[j])))
                den += w[i] * w[j]
    else:
        # by hand: each labelled entry's own loss (a batch of one entry),
        # weighted by its row's weight
        for i in range(len(X)):
            for j in range(fitted.n_outputs):
                if np.isnan(target[i, j].item()):
                    continue
                if fitted.type == "classification":
                    entry = fitted.loss_fn(raw[i:i + 1], target[i:i + 1])
                else:
                    entry = fitted.loss_fn(raw[i:i + 1, j:j + 1],
                                           target[i:i + 1, j:j + 1])
                num += w[i] * entry.item()
                den += w[i]
    assert den > 0 and loss == pytest.approx(num / den, rel=1e-9)


def test_estimator_weights_change_the_fit_and_zero_weight_rows_do_not_count():
    X, Y, _ = _data(n=120)
    Y = Y[:, :2]
    Y[np.isnan(Y)] = 0.0
    rng = np.random.RandomState(0)
    weights = np.ones(len(X))
    weights[:40] = 0.0
    Y_noisy = Y.copy()
    Y_noisy[:40] = rng.randn(40, 2) * 100  # garbage rows, weight 0
    params = dict(hidden_layer_sizes=(8,), max_epochs=15, lr=0.01, random_state=0,
                  standardize_targets=False, batch_size=120)
    with_garbage = MultiTaskRegressor(**params).fit(X, Y_noisy, sample_weight=weights)
    clean = MultiTaskRegressor(**params).fit(X[40:], Y[40:])
    # full-batch training: zero-weight rows change nothing
    np.testing.assert_allclose(with_garbage.predict(X), clean.predict(X),
                               rtol=1e-4, atol=1e-5)
    unweighted = MultiTaskRegressor(**params).fit(X, Y_noisy)
    assert not np.allclose(unweighted.predict(X), clean.predict(X), atol=1e-2)
    # per-task training losses in history are the weighted means too
    assert with_garbage.history_[-1, "train_loss_task_0"] == pytest.approx(
        clean.history_[-1, "train_loss_task_0"], rel=1e-4)


@pytest.mark.parametrize("weights, message", [
    (-np.ones(30), "negative weight"),
    (np.r_[np.nan, np.ones(29)], "non-finite weight"),
    (np.r_[np.inf, np.ones(29)], "non-finite weight"),
    (np.ones(29), "sample_weight has 29 weights but X has 30 rows"),
    (np.zeros(30), "zero for every row"),
    (np.ones((30, 2)), "must be 1-D"),
])
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_bad_sample_weights_raise_and_leave_no_fitted_state(weights, message, method):
    X, Y, _ = _data(n=30)
    est = MultiTaskRegressor(hidden_layer_sizes=(4,), max_epochs=1)
    with pytest.raises(ValueError, match=message):
        getattr(est, method)(X, np.nan_to_num(Y[:, :2]), sample_weight=weights)
    assert not hasattr(est, "net_")
    fitted = MultiTaskRegressor(hidden_layer_sizes=(4,), max_epochs=1,
                                random_state=0).fit(X, np.nan_to_num(Y[:, :2]))
    before = fitted.predict(X)
    with pytest.raises(ValueError, match=message):
        fitted.partial_fit(X, np.nan_to_num(Y[:, :2]), sample_weight=weights)
    np.testing.assert_array_equal(fitted.predict(X), before)


def test_partial_fit_and_warm_start_take_sample_weight():
    X, Y, _ = _data(n=60)
    Y = np.nan_to_num(Y[:, :2])
    weights = np.r_[np.zeros(20), np.ones(40)]
    est = MultiTaskRegressor(hidden_layer_sizes=(4,), max_epochs=1, random_state=0,
                             batch_size=60, warm_start=True)
    est.partial_fit(X, Y, sample_weight=weights)
    est.fit(X, Y, sample_weight=weights)
    reference = MultiTaskRegressor(hidden_layer_sizes=(4,), max_epochs=1,
                                   random_state=0, batch_size=60, warm_start=True)
    Y_other = Y.copy()
    Y_other[:20] = 50.0  # only the zero-weight rows differ
    reference.partial_fit(X, Y_other, sample_weight=weights)
    reference.fit(X, Y_other, sample_weight=weights)
    assert len(est.history_) == 2
    np.testing.assert_allclose(est.predict(X), reference.predict(X), rtol=1e-5)


def test_sample_weight_routes_through_pipeline_and_grid_search():
    X, Y, _ = _data(n=60)
    Y = np.nan_to_num(Y[:, 4:5])  # one classification column
    weights = np.r_[np.zeros(20), np.ones(40)]
    params = dict(hidden_layer_sizes=(4,), max_epochs=2, random_state=0,
                  batch_size=60)
    pipe = make_pipeline(StandardScaler(), MultiTaskClassifier(**params))
    pipe.fit(X, Y, multitaskclassifier__sample_weight=weights)
    direct = MultiTaskClassifier(**params).fit(
        StandardScaler().fit_transform(X), Y, sample_weight=weights)
    np.testing.assert_array_equal(
        pipe.predict_proba(X), direct.predict_proba(StandardScaler().fit_transform(X)))
    unweighted = make_pipeline(StandardScaler(), MultiTaskClassifier(**params)).fit(
        X, Y)
    assert not np.array_equal(pipe.predict_proba(X), unweighted.predict_proba(X))

    seen = []

    class Recording(MultiTaskClassifier):
        def fit(self, X, y, groups=None, sample_weight=None):
            seen.append(None if sample_weight is None else sample_weight.copy())
            return super().fit(X, y, groups=groups, sample_weight=sample_weight)

    grid = GridSearchCV(Recording(**params), {"lr": [1e-3, 1e-2]}, cv=KFold(2),
                        refit=False)
    grid.fit(X, Y, sample_weight=weights)  # without metadata routing
    assert len(seen) == 4 and all(len(w) == 30 for w in seen)
    seen.clear()
    with sklearn.config_context(enable_metadata_routing=True):
        est = Recording(**params).set_fit_request(sample_weight=True)
        est.set_score_request(sample_weight=False)
        GridSearchCV(est, {"lr": [1e-3]}, cv=KFold(2), refit=False).fit(
            X, Y, sample_weight=weights)
    assert len(seen) == 2 and all(w is not None and len(w) == 30 for w in seen)


def test_mixed_estimator_with_weights_and_missing_labels_fits_and_scores():
    X, Y, groups = _data(n=80)
    est = MultiTaskEstimator(tasks=TASKS, hidden_layer_sizes=(8,), max_epochs=3,
                             random_state=0)
    weights = np.random.RandomState(0).rand(80) * 2
    est.fit(X, Y, groups=groups, sample_weight=weights)
    assert np.isfinite(est.history_[-1, "train_loss"])
    assert est.predict(X).shape == Y.shape
