"""Dependent tasks in the neural estimators: conditional and joint
predictions, scorers, pickling, and the entire-space model against the naive
conditional one on a planted funnel."""

import pickle

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from skmtl import Task
from skmtl.datasets import make_funnel
from skmtl.metrics import funnel_targets, make_multitask_scorer
from skmtl.neural import MultiTaskEstimator


def _chain(n=600, seed=0):
    """Context features, a click -> cart -> purchase funnel and a revenue
    after each purchase."""
    X, Y = make_funnel(n, n_users=20, n_items=10, stages=("click", "cart", "purchase"),
                       rates=(0.4, 0.5, 0.5), as_frame=False, random_state=seed)
    rng = np.random.RandomState(seed)
    revenue = np.where(Y[:, 2] == 1, np.exp(X[:, 2] + 0.1 * rng.randn(n)), np.nan)
    return X[:, 2:], np.c_[Y, revenue]


CHAIN = [Task("click", "binary"), Task("cart", "binary", given="click"),
         Task("purchase", "binary", given="cart"), Task("revenue", given="purchase")]


@pytest.fixture(scope="module")
def fitted():
    X, Y = _chain()
    est = MultiTaskEstimator(tasks=CHAIN, hidden_layer_sizes=(16,), lr=0.01,
                             max_epochs=5, random_state=0).fit(X, Y)
    return est, X, Y


def test_joint_predictions_multiply_along_the_chain(fitted):
    est, X, _ = fitted
    conditional = est.predict_proba(X)
    joint = est.predict_proba(X, funnel="joint")
    assert joint[3] is None and conditional[3] is None
    reach = np.ones(len(X))
    for k in range(3):
        np.testing.assert_allclose(joint[k][:, 1], reach * conditional[k][:, 1],
                                   rtol=1e-12)
        np.testing.assert_allclose(joint[k].sum(axis=1), 1.0)
        reach = reach * conditional[k][:, 1]
    pred = est.predict(X)
    pred_joint = est.predict(X, funnel="joint")
    # hurdle mean: P(click and cart and purchase) * E[revenue | purchase]
    np.testing.assert_allclose(pred_joint[:, 3], reach * pred[:, 3], rtol=1e-12)
    np.testing.assert_array_equal(pred_joint[:, 2], joint[2][:, 1] > 0.5)
    np.testing.assert_array_equal(pred[:, 0], pred_joint[:, 0])
    with pytest.raises(ValueError, match="funnel must be one of"):
        est.predict(X, funnel="entire")


def test_pickle_round_trip_gives_identical_predictions(fitted):
    est, X, _ = fitted
    loaded = pickle.loads(pickle.dumps(est))
    for funnel in ("conditional", "joint"):
        np.testing.assert_array_equal(loaded.predict(X, funnel=funnel),
                                      est.predict(X, funnel=funnel))
        for a, b in zip(loaded.predict_proba(X, funnel=funnel),
                        est.predict_proba(X, funnel=funnel)):
            if a is not None:
                np.testing.assert_array_equal(a, b)


def test_scorers_say_what_they_score(fitted):
    est, X, Y = fitted
    joint_target = funnel_targets(Y, est.tasks_, "joint")[:, 2]
    rows = ~np.isnan(joint_target)
    joint = est.predict_proba(X, funnel="joint")[2][:, 1]
    auc = {"purchase": "roc_auc"}
    scorer = make_multitask_scorer(auc, task="purchase", funnel="joint")
    assert "funnel='joint'" in repr(scorer)
    assert scorer(est, X, Y) == pytest.approx(
        roc_auc_score(joint_target[rows], joint[rows]))
    assert rows.sum() > (~np.isnan(Y[:, 2])).sum()  # the entire space
    cart = Y[:, 1] == 1
    conditional = est.predict_proba(X)[2][:, 1]
    assert make_multitask_scorer(auc, task="purchase")(est, X, Y) == \
        pytest.approx(roc_auc_score(Y[cart, 2], conditional[cart]))
    hurdle = make_multitask_scorer({"revenue": "neg_mean_squared_error"},
                                   task="revenue", funnel="joint")
    revenue = funnel_targets(Y, est.tasks_, "joint")[:, 3]
    known = ~np.isnan(revenue)
    mean = est.predict(X, funnel="joint")[:, 3]
    assert hurdle(est, X, Y) == pytest.approx(-np.mean((revenue - mean)[known] ** 2))


def test_a_scorer_for_joint_predictions_needs_an_estimator_that_gives_them():
    from sklearn.linear_model import LogisticRegression

    from skmtl import SingleTaskBaseline

    X, Y = _chain(n=300)
    model = SingleTaskBaseline(LogisticRegression(), tasks=CHAIN[:2]).fit(X, Y[:, :2])
    with pytest.raises(ValueError, match="takes no funnel="):
        make_multitask_scorer("roc_auc", funnel="joint")(model, X, Y[:, :2])


def test_implied_labels_train_the_same_model_as_nan():
    X, Y = _chain(n=300)
    implied = funnel_targets(Y, [t for t in _fitted_tasks(Y)], "joint")
    kwargs = dict(tasks=CHAIN, hidden_layer_sizes=(8,), max_epochs=2, random_state=0)
    a = MultiTaskEstimator(**kwargs).fit(X, Y)
    b = MultiTaskEstimator(**kwargs).fit(X, implied)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    np.testing.assert_array_equal(a.history_[:, "train_loss"],
                                  b.history_[:, "train_loss"])


def _fitted_tasks(Y):
    from skmtl.tasks import resolve_tasks

    return resolve_tasks(CHAIN, Y)
