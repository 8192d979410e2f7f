"""A DataFrame Y is matched to the tasks by column name, in every family; its
names name the inferred tasks and reach the score tables, scorers and plots."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression, Ridge

from skmtl import PooledBaseline, SingleTaskBaseline, Task
from skmtl.linear import MultiTaskLinearRegressor
from skmtl.metrics import make_multitask_scorer, per_task_scores

TASKS = [Task("rating"), Task("price")]


def _data(n=120, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 4)
    rating = 3.0 + X[:, 0] + 0.1 * rng.randn(n)           # around 3
    price = 185.0 + 20.0 * X[:, 1] + 0.1 * rng.randn(n)   # around 185
    Y = np.c_[rating, price]
    Y[rng.rand(n) < 0.2, 0] = np.nan
    return X, Y


def _frame(Y, columns=("rating", "price")):
    return pd.DataFrame(Y, columns=list(columns))


def _reordered(Y):
    return _frame(Y)[["price", "rating"]]


@pytest.mark.parametrize("make", [
    lambda: MultiTaskLinearRegressor(tasks=TASKS),
    lambda: SingleTaskBaseline(Ridge(), tasks=TASKS),
    lambda: PooledBaseline(Ridge(), tasks=TASKS, task_indicators=True),
], ids=["linear", "single_task", "pooled"])
def test_reordered_frame_gives_the_model_of_the_ordered_array(make):
    X, Y = _data()
    on_array = make().fit(X, Y)
    on_frame = make().fit(X, _reordered(Y))
    assert [t.name for t in on_frame.tasks_] == ["rating", "price"]
    np.testing.assert_array_equal(on_frame.predict(X), on_array.predict(X))
    # scoring with the columns in yet another order matches them by name too
    assert on_frame.score(X, _reordered(Y)) == pytest.approx(on_array.score(X, Y))


def test_network_trains_each_task_on_its_own_column():
    """The issue's case: 'rating' was trained on the price column and
    predicted 185 as a rating."""
    from skmtl.neural import MultiTaskEstimator

    X, Y = _data()
    params = dict(tasks=TASKS, hidden_layer_sizes=(16,), lr=0.02, max_epochs=15,
                  batch_size=32, random_state=0)
    on_frame = MultiTaskEstimator(**params).fit(X, _reordered(Y))
    on_array = MultiTaskEstimator(**params).fit(X, Y)
    predicted = on_frame.predict(X)
    np.testing.assert_allclose(predicted, on_array.predict(X), rtol=1e-6)
    assert abs(np.nanmean(predicted[:, 0]) - 3.0) < 1.0      # a rating
    assert abs(np.nanmean(predicted[:, 1]) - 185.0) < 10.0   # a price
    assert on_frame.score(X, _reordered(Y)) == pytest.approx(
        on_array.score(X, Y), rel=1e-6)
    # partial_fit and a warm start read the columns by name too
    on_frame.partial_fit(X, _reordered(Y))
    on_array.partial_fit(X, Y)
    np.testing.assert_allclose(on_frame.predict(X), on_array.predict(X), rtol=1e-5)


def test_missing_or_unknown_column_lists_both_sides():
    X, Y = _data()
    with pytest.raises(ValueError, match=r"\['rating', 'cost'\].*\['rating', "
                                         r"'price'\].*no column for \['price'\]"
                                         r".*no task for \['cost'\]"):
        MultiTaskLinearRegressor(tasks=TASKS).fit(X, _frame(Y, ("rating", "cost")))
    with pytest.raises(ValueError, match="no column for"):
        MultiTaskLinearRegressor(tasks=TASKS).fit(X, _frame(Y)[["rating"]])
    with pytest.raises(ValueError, match="no task for"):
        SingleTaskBaseline(Ridge(), tasks=[Task("rating")]).fit(X, _frame(Y))
    # a named Series is a one-column frame
    with pytest.raises(ValueError, match=r"no task for \['price'\]"):
        SingleTaskBaseline(Ridge(), tasks=[Task("rating")]).fit(
            X, _frame(Y)["price"].fillna(0.0))


def test_unnamed_columns_stay_positional():
    X, Y = _data()
    est = MultiTaskLinearRegressor(tasks=TASKS).fit(X, pd.DataFrame(Y))
    ref = MultiTaskLinearRegressor(tasks=TASKS).fit(X, Y)
    np.testing.assert_array_equal(est.coef_, ref.coef_)


def test_multi_output_task_reads_numbered_columns():
    rng = np.random.RandomState(0)
    X = rng.randn(60, 3)
    Y = X @ rng.randn(3, 3)
    tasks = [Task("box", n_outputs=2), Task("size")]
    frame = pd.DataFrame(Y, columns=["box_0", "box_1", "size"])
    ref = MultiTaskLinearRegressor(tasks=tasks).fit(X, Y)
    est = MultiTaskLinearRegressor(tasks=tasks).fit(X, frame[["size", "box_1",
                                                              "box_0"]])
    np.testing.assert_array_equal(est.coef_, ref.coef_)


def test_frame_names_name_inferred_tasks_and_reach_the_tables():
    X, Y = _data()
    frame = _reordered(Y)
    est = SingleTaskBaseline(Ridge()).fit(X, frame)
    assert [t.name for t in est.tasks_] == ["price", "rating"]
    table = per_task_scores(frame, est.predict(X), as_frame=False)
    assert list(table["task"]) == ["price", "rating"]
    # a frame in another order is matched to the fitted tasks by name
    scorer = make_multitask_scorer(task="rating")
    assert scorer(est, X, _frame(Y)) == pytest.approx(scorer(est, X, frame))
    by_name = per_task_scores(_frame(Y), pd.DataFrame(est.predict(X),
                                                      columns=["price", "rating"]),
                              est.tasks_, as_frame=False)
    assert list(by_name["task"]) == ["price", "rating"]
    np.testing.assert_allclose(
        by_name["score"], per_task_scores(frame, est.predict(X), est.tasks_,
                                          as_frame=False)["score"])


def test_classifier_frame_by_name():
    rng = np.random.RandomState(0)
    X = rng.randn(100, 3)
    Y = np.c_[X[:, 0] > 0, X[:, 1] > 0].astype(float)
    tasks = [Task("a", "binary"), Task("b", "binary")]
    frame = pd.DataFrame(Y, columns=["a", "b"])[["b", "a"]]
    est = SingleTaskBaseline(LogisticRegression(), tasks=tasks).fit(X, frame)
    ref = SingleTaskBaseline(LogisticRegression(), tasks=tasks).fit(X, Y)
    np.testing.assert_array_equal(est.predict(X), ref.predict(X))
    assert est.score(X, frame) == pytest.approx(ref.score(X, Y))


def test_plot_shows_the_frame_names():
    import matplotlib

    matplotlib.use("Agg")
    from skmtl.plotting import PerTaskScoreDisplay

    X, Y = _data()
    est = SingleTaskBaseline(Ridge()).fit(X, _frame(Y))
    display = PerTaskScoreDisplay.from_estimators({"ridge": est}, X, _frame(Y))
    labels = [t.get_text() for t in display.ax_.get_xticklabels()]
    assert labels == ["rating", "price"]
    import matplotlib.pyplot as plt

    plt.close(display.figure_)
