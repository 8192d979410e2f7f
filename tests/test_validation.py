"""Bad input raises a clear error naming the task and the problem."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge

from skmtl import PooledBaseline, SingleTaskBaseline, Task

X = np.random.RandomState(0).randn(6, 2)
Y = np.array([[1.0, 0.0], [2.0, 1.0], [np.nan, 1.0], [3.0, 0.0], [1.0, np.nan],
              [0.5, 1.0]])


@pytest.mark.parametrize("make", [lambda: SingleTaskBaseline(Ridge()),
                                  lambda: PooledBaseline(Ridge())])
@pytest.mark.parametrize("X_bad, Y_bad, tasks, error, message", [
    (np.where(np.eye(6, 2, dtype=bool), np.nan, X), Y, None, ValueError,
     "Input X contains NaN"),
    (np.where(np.eye(6, 2, dtype=bool), np.inf, X), Y, None, ValueError,
     "Input X contains infinity"),
    (X, np.where(Y == 3.0, np.inf, Y), None, ValueError, "task 'task_0': Y holds inf"),
    (X, np.c_[Y[:, 0], np.full(6, np.nan)], None, ValueError,
     "task 'task_1' has no labelled sample"),
    (X, Y, [Task("a"), Task("b"), Task("c")], ValueError,
     r"Y has 2 column\(s\) but the tasks describe 3 \(a: 1, b: 1, c: 1\)"),
    (X, Y, [Task("a"), Task("b", "classification")], None, None),
    (X, np.c_[Y[:, 0], Y[:, 1] + 0.5], [Task("a"), Task("b", "classification")],
     ValueError, "task 'b' is a classification task but its labels include the "
     "non-integer value 0.5"),
    (X[:5], Y, None, ValueError, "inconsistent numbers of samples"),
    (X, Y, ["a", "b"], TypeError, "tasks must be Task objects"),
    (X, Y.astype(object) + np.array([0, 0], dtype=object), [Task("a", "count"),
     Task("b")], None, None),
    (X, np.where(Y == 2.0, -2.0, Y), [Task("a", "count"), Task("b")], ValueError,
     "task 'a' is a count task but its labels include the negative value -2.0"),
])
def test_bad_fit_input(make, X_bad, Y_bad, tasks, error, message):
    est = make().set_params(tasks=tasks)
    if "classification" in {getattr(t, "type", None) for t in tasks or []}:
        est.set_params(estimator={"regression": Ridge(),
                                  "classification": LogisticRegression()})
    if error is None:
        est.fit(X_bad, Y_bad)
        assert est.predict(X_bad).shape == Y_bad.shape
        return
    with pytest.raises(error, match=message):
        est.fit(X_bad, Y_bad)
    assert not hasattr(est, "tasks_") or message.startswith("task '")


def test_failed_fit_leaves_no_fitted_model_behind():
    est = SingleTaskBaseline(Ridge())
    with pytest.raises(ValueError):
        est.fit(X, np.c_[Y[:, 0], np.full(6, np.nan)])
    assert not hasattr(est, "estimators_")


def test_bad_predict_and_score_input():
    est = SingleTaskBaseline({"regression": Ridge(),
                              "classification": LogisticRegression()},
                             tasks=[Task("size"), Task("kind", "classification")])
    est.fit(X, Y)
    with pytest.raises(ValueError, match="X has 3 features, but SingleTaskBaseline "
                                         "is expecting 2 features"):
        est.predict(np.ones((2, 3)))
    with pytest.raises(ValueError, match="Input X contains NaN"):
        est.predict(np.full((1, 2), np.nan))
    Y_unseen = Y.copy()
    Y_unseen[0, 1] = 5.0
    with pytest.raises(ValueError, match="task 'kind': label 5 was not seen during "
                                         "fit"):
        est.score(X, Y_unseen)
    with pytest.raises(ValueError, match="Y_true has shape"):
        est.score(X, Y[:, :1])


def test_error_messages_say_what_to_do():
    with pytest.raises(ValueError, match="remove the task or provide labels"):
        SingleTaskBaseline(Ridge()).fit(X, np.c_[Y[:, 0], np.full(6, np.nan)])
    est = SingleTaskBaseline(LogisticRegression(),
                             tasks=[Task("kind", "classification")]).fit(X, Y[:, 1])
    with pytest.raises(ValueError, match=r"pass Task\('kind', 'classification', "
                                         r"classes=\[\.\.\.\]\)"):
        est.score(X, np.r_[Y[:5, 1], 4.0])
