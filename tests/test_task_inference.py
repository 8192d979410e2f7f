"""tasks=None on the mixed estimator infers each column's type as
scikit-learn's type_of_target does, and says so in tasks_."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.multiclass import type_of_target

from skmtl import Task
from skmtl.tasks import TASK_TYPES, infer_tasks, resolve_tasks

rng = np.random.RandomState(0)
COLUMNS = {
    "churn": rng.randint(0, 2, 60).astype(float),             # 0/1
    "yes_no": rng.choice(["yes", "no"], 60).astype(object),   # two strings
    "stars": rng.randint(1, 6, 60).astype(float),             # a few integers
    "colour": rng.choice(["red", "green", "blue"], 60).astype(object),
    "price": rng.lognormal(3.0, 1.0, 60),                     # floats
}
EXPECTED = {"churn": "binary", "yes_no": "binary", "stars": "classification",
            "colour": "classification", "price": "regression"}


def _frame():
    frame = pd.DataFrame(COLUMNS)
    frame.loc[::7, "price"] = np.nan      # missing labels are left out
    frame.loc[1::9, "colour"] = None
    return frame


def test_inferred_types_follow_type_of_target():
    frame = _frame()
    tasks = resolve_tasks(None, frame.to_numpy(dtype=object), default_type="auto",
                          names=list(frame.columns))
    assert {t.name: t.type for t in tasks} == EXPECTED
    for task in tasks:
        kind = type_of_target(frame[task.name].dropna().to_numpy())
        assert kind in TASK_TYPES[task.type].inferred_from


def test_many_distinct_integers_are_a_regression_target():
    # scikit-learn warns that such "classes" could be a regression problem
    ages = np.arange(18, 118, dtype=float)
    assert type_of_target(ages) == "multiclass"
    assert infer_tasks(ages[:, None], "auto")[0].type == "regression"
    assert infer_tasks(ages[:20, None], "auto")[0].type == "classification"


def test_mixed_label_types_name_the_column():
    Y = np.array([[1.0], ["a"], [2.0]], dtype=object)
    with pytest.raises(ValueError, match="column 'task_0' mixes label types"):
        infer_tasks(Y, "auto")


def test_estimator_infers_binary_and_shows_it():
    from skmtl.neural import MultiTaskEstimator

    frame = _frame()
    X = np.random.RandomState(1).randn(len(frame), 3)
    est = MultiTaskEstimator(hidden_layer_sizes=(8,), max_epochs=2, batch_size=32,
                             random_state=0).fit(X, frame)
    assert {t.name: t.type for t in est.tasks_} == EXPECTED
    shown = repr(est.tasks_)
    assert "Task('churn', 'binary', classes_=[0, 1])" in shown
    assert "Task('colour', 'classification', classes_=['blue', 'green', 'red'])" \
        in shown
    assert "Task('price', 'regression')" in shown
    predicted = est.predict(X)
    churn = list(frame.columns).index("churn")
    assert set(predicted[:, churn]) <= {0, 1}     # labels, not 0.918
    assert len(est.predict_proba(X)) == frame.shape[1]


def test_fitted_repr_cuts_long_class_lists():
    task = resolve_tasks([Task("digit", "classification")],
                         np.arange(20.0)[:, None])[0]
    assert repr(task) == ("Task('digit', 'classification', classes_=[0, 1, 2, 3, "
                          "4, 5, 6, ... (20 classes)])")


def test_binary_task_with_one_label_warns():
    Y = np.zeros((10, 1))
    with pytest.warns(UserWarning, match=r"task 'churn' is binary but every "
                                         r"label in Y is 0.*classes=\[0, 1\]"):
        fitted = resolve_tasks([Task("churn", "binary")], Y)
    np.testing.assert_array_equal(fitted[0].classes_, [0, 1])
    with pytest.warns(UserWarning, match="every label in Y is 0"):
        resolve_tasks(None, Y, default_type="auto")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resolve_tasks([Task("churn", "binary", classes=[0, 1])], Y)


def test_network_refuses_one_row():
    from skmtl.neural import MultiTaskEstimator, MultiTaskRegressor

    X, Y = np.ones((1, 3)), np.ones((1, 1))
    for cls in (MultiTaskEstimator, MultiTaskRegressor):
        with pytest.raises(ValueError, match="at least 2 samples.*n_samples = 1"):
            cls(max_epochs=1).fit(X, Y + 0.5)
        with pytest.raises(ValueError, match="n_samples = 1"):
            cls(max_epochs=1).partial_fit(X, Y + 0.5)
