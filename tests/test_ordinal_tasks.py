"""Ordinal tasks: ordered classes, cumulative logits with ordered thresholds."""

import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from skmtl import Task
from skmtl.linear import MultiTaskLogisticClassifier
from skmtl.metrics import masked_mean_absolute_rank_error, per_task_scores
from skmtl.tasks import TASK_TYPES, resolve_tasks

ORDINAL = TASK_TYPES["ordinal"]
LEVELS = ["low", "mid", "high", "top"]


def _task(classes=LEVELS, n_outputs=1):
    Y = np.array(classes * 3, dtype=object).reshape(-1, 1).repeat(n_outputs, axis=1)
    return resolve_tasks(Task("o", "ordinal", n_outputs, classes=classes), Y)[0]


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def test_probabilities_follow_ordered_cumulative_logits():
    task = _task()
    rng = np.random.RandomState(0)
    raw = rng.randn(30, 3) * 4
    proba = task.predict_proba(raw)[0]
    # By hand: c1 = a, c2 = c1 + softplus(d2), c3 = c2 + softplus(d3).
    c1 = raw[:, 0]
    c2 = c1 + np.logaddexp(0, raw[:, 1])
    c3 = c2 + np.logaddexp(0, raw[:, 2])
    cumulative = np.c_[_sigmoid(c1), _sigmoid(c2), _sigmoid(c3)]
    assert np.all(np.diff(cumulative, axis=1) >= 0)  # thresholds never cross
    np.testing.assert_allclose(np.cumsum(proba, axis=1)[:, :3], cumulative,
                               rtol=1e-10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.all(proba >= 0)
    np.testing.assert_array_equal(task.transform(raw)[:, 0],
                                  np.array(LEVELS, dtype=object)[proba.argmax(1)])


def test_loss_is_the_negative_log_likelihood():
    task = _task()
    rng = np.random.RandomState(1)
    raw = rng.randn(40, 3) * 3
    target = rng.randint(0, 4, size=(40, 1)).astype(float)
    loss = ORDINAL.per_entry_loss(task, torch.tensor(raw), torch.tensor(target))
    proba = task.predict_proba(raw)[0]
    expected = -np.log(proba[np.arange(40), target[:, 0].astype(int)])
    np.testing.assert_allclose(loss.numpy()[:, 0], expected, rtol=1e-8)


def test_two_classes_are_the_logistic_loss():
    task = _task(classes=[0, 1])
    raw = torch.tensor(np.random.RandomState(2).randn(20, 1))
    target = torch.tensor(np.random.RandomState(3).randint(0, 2, (20, 1)) * 1.0)
    # P(y <= 0) = sigmoid(c): class 1 has logit -c.
    np.testing.assert_allclose(
        ORDINAL.per_entry_loss(task, raw, target).numpy(),
        F.binary_cross_entropy_with_logits(-raw, target, reduction="none").numpy(),
        rtol=1e-10)


def test_gradient_matches_finite_differences():
    task = _task()
    rng = np.random.RandomState(4)
    raw = torch.tensor(rng.randn(10, 3), requires_grad=True)
    target = torch.tensor(rng.randint(0, 4, size=(10, 1)).astype(float))
    assert torch.autograd.gradcheck(
        lambda r: ORDINAL.per_entry_loss(task, r, target).sum(), (raw,))


def test_declared_order_is_the_class_order():
    task = _task()
    np.testing.assert_array_equal(task.classes_, LEVELS)
    Y = np.array([["top"], ["low"], [None], ["mid"]], dtype=object)
    np.testing.assert_array_equal(task.encode(Y)[:, 0], [3, 0, np.nan, 1])
    with pytest.raises(ValueError, match="order is unknown: pass"):
        resolve_tasks(Task("o", "ordinal"), Y)
    numeric = resolve_tasks(Task("o", "ordinal"), np.array([[3.0], [1.0], [2.0]]))[0]
    np.testing.assert_array_equal(numeric.classes_, [1, 2, 3])
    with pytest.raises(ValueError, match=r"labels \['huge'\] are not among"):
        resolve_tasks(Task("o", "ordinal", classes=LEVELS),
                      np.array([["huge"], ["low"]], dtype=object))


def test_mean_absolute_rank_error_by_hand():
    Y_true = np.array([["low"], ["top"], [None], ["mid"]], dtype=object)
    Y_pred = np.array([["mid"], ["low"], ["low"], ["mid"]], dtype=object)
    assert masked_mean_absolute_rank_error(Y_true, Y_pred, classes=LEVELS) == \
        pytest.approx((1 + 3 + 0) / 3)
    table = per_task_scores(Y_true, Y_pred, [Task("o", "ordinal", classes=LEVELS)],
                            metric=["accuracy", "neg_mean_absolute_rank_error"],
                            as_frame=False)
    np.testing.assert_allclose(table["score"], [1 / 3, -4 / 3])


def test_network_learns_an_ordinal_task():
    from skmtl.neural import MultiTaskClassifier

    rng = np.random.RandomState(0)
    X = rng.randn(800, 4)
    latent = X[:, 0] + 0.5 * X[:, 1] + 0.3 * rng.randn(800)
    labels = np.array(LEVELS, dtype=object)[np.digitize(latent, [-1, 0, 1])]
    Y = np.c_[labels, (X[:, 2] > 0)].astype(object)
    Y[::6, 0] = None
    est = MultiTaskClassifier(tasks=[Task("o", "ordinal", classes=LEVELS),
                                     Task("b", "binary")],
                              hidden_layer_sizes=(32,), lr=0.01, max_epochs=40,
                              random_state=0).fit(X, Y)
    proba = est.predict_proba(X)[0]
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    labelled = Y[:, 0] != None  # noqa: E711
    pred = est.predict(X)
    assert (pred[labelled, 0] == Y[labelled, 0]).mean() > 0.8
    errors = masked_mean_absolute_rank_error(Y[:, [0]], pred[:, [0]], classes=LEVELS)
    assert errors < 0.25
    assert est.score(X, Y) > 0.85
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.predict(X), pred)


def test_linear_models_refuse_ordinal_tasks_naming_the_type():
    X = np.random.RandomState(0).randn(20, 3)
    Y = np.array(LEVELS * 5, dtype=object)
    with pytest.raises(ValueError, match="task 'o': no linear multi-task model "
                                         "fits ordinal tasks"):
        MultiTaskLogisticClassifier(
            tasks=[Task("o", "ordinal", classes=LEVELS)]).fit(X, Y)
