"""One prediction decoder (skmtl/base.py: assemble_predictions), and
predict_proba exactly where a classification task is."""

import numpy as np
import pytest

from skmtl import Task
from skmtl.base import assemble_predictions
from skmtl.neural import MultiTaskClassifier, MultiTaskEstimator, MultiTaskRegressor


def _X(n=40, seed=0):
    return np.random.RandomState(seed).randn(n, 3)


def _columns(kind, n=40, seed=0):
    rng = np.random.RandomState(seed)
    if kind == "values":
        return rng.randn(n)
    if kind == "ints":
        return rng.randint(0, 3, n)
    return np.array(["cat", "dog"], dtype=object)[rng.randint(0, 2, n)]


@pytest.mark.parametrize("kinds, dtype", [
    (("values", "values"), np.float64),
    (("ints", "ints"), np.int64),
    (("strings", "strings"), np.dtype("<U3")),
    (("values", "ints"), np.float64),
    (("values", "strings"), object),
])
def test_the_net_and_the_estimator_decode_predictions_alike(kinds, dtype):
    X = _X()
    Y = np.empty((len(X), len(kinds)), dtype=object)
    tasks = []
    for k, kind in enumerate(kinds):
        Y[:, k] = _columns(kind, seed=k)
        tasks.append(Task(f"t{k}", "regression" if kind == "values"
                          else "classification"))
    if all(kind == "values" for kind in kinds):
        Y = Y.astype(float)
    # unstandardized targets: the net's own predictions are the estimator's
    est = MultiTaskEstimator(tasks=tasks, hidden_layer_sizes=(4,), max_epochs=1,
                             standardize_targets=False, random_state=0).fit(X, Y)
    from_estimator = est.predict(X)
    from_net = est.net_.predict(X.astype(np.float32))
    assert from_estimator.dtype == dtype
    assert from_net.dtype == from_estimator.dtype
    assert from_net.shape == from_estimator.shape == (len(X), len(kinds))
    np.testing.assert_array_equal(from_net, from_estimator)


def test_assemble_predictions_places_each_task_in_its_columns():
    from skmtl.tasks import resolve_tasks

    Y = np.c_[np.arange(4.0), np.arange(4.0), np.arange(4) % 2]
    tasks = resolve_tasks([Task("box", "regression", n_outputs=2),
                           Task("flag", "binary")], Y)
    out = assemble_predictions(tasks, [np.ones((4, 2), np.float32),
                                       np.array([0, 1, 1, 0])])
    assert out.dtype == np.float64 and out.shape == (4, 3)
    np.testing.assert_array_equal(out[:, 2], [0, 1, 1, 0])


def test_predict_proba_exists_exactly_where_a_classification_task_is():
    X = _X()
    values, labels = _columns("values"), _columns("ints")
    # before fit: the tasks given, or the estimator's type; unknown types
    # (MultiTaskEstimator without tasks) give no method rather than one
    # that disappears after fit
    assert not hasattr(MultiTaskEstimator(), "predict_proba")
    assert not hasattr(MultiTaskRegressor(), "predict_proba")
    assert hasattr(MultiTaskClassifier(), "predict_proba")
    assert hasattr(MultiTaskEstimator(tasks=[Task("a", "classification")]),
                   "predict_proba")
    assert not hasattr(MultiTaskEstimator(tasks=[Task("a")]), "predict_proba")
    # after fit: exactly when a fitted task is a classification
    params = dict(hidden_layer_sizes=(4,), max_epochs=1, random_state=0)
    regression = MultiTaskEstimator(**params).fit(X, np.c_[values, values])
    assert not hasattr(regression, "predict_proba")
    mixed = MultiTaskEstimator(tasks=[Task("v"), Task("c", "classification")],
                               **params).fit(X, np.c_[values, labels])
    inferred = MultiTaskEstimator(**params).fit(X, _columns("strings"))
    assert inferred.tasks_[0].is_classification
    assert inferred.predict_proba(X).shape == (len(X), 2)
    proba = mixed.predict_proba(X)
    assert proba[0] is None and proba[1].shape == (len(X), 3)
    np.testing.assert_allclose(proba[1].sum(axis=1), 1.0, rtol=1e-5)
