"""PerTaskScoreDisplay, drawn on Agg."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, r2_score

from skmtl import PooledBaseline, SingleTaskBaseline, Task
from skmtl.datasets import make_multitask_regression
from skmtl.metrics import per_task_scores
from skmtl.plotting import PerTaskScoreDisplay


def _heights(container):
    return np.array([patch.get_height() for patch in container.patches])


def _ticks(ax):
    return [t.get_text() for t in ax.get_xticklabels()]


@pytest.fixture(scope="module")
def fitted():
    X, Y = make_multitask_regression(n_samples=120, n_features=6, n_tasks=3,
                                     missing_rate=0.3, random_state=0)
    models = {"single-task": SingleTaskBaseline(Ridge()).fit(X, Y),
              "pooled": PooledBaseline(Ridge()).fit(X, Y)}
    return X, Y, models


def _masked_r2(Y, P):
    return np.array([r2_score(Y[~np.isnan(Y[:, k]), k], P[~np.isnan(Y[:, k]), k])
                     for k in range(Y.shape[1])])


def test_bars_from_estimators_match_masked_scores(fitted):
    X, Y, models = fitted
    display = PerTaskScoreDisplay.from_estimators(models, X, Y, metric="r2")
    assert list(display.bars_) == ["single-task", "pooled"]
    for name, model in models.items():
        bars = display.bars_[name]
        assert len(bars.patches) == 3
        np.testing.assert_allclose(_heights(bars), _masked_r2(Y, model.predict(X)))
    assert _ticks(display.ax_) == ["task_0", "task_1", "task_2"]
    assert display.ax_.get_ylabel() == "r2"
    assert [t.get_text() for t in display.ax_.get_legend().get_texts()] == [
        "single-task", "pooled"]
    assert len(display.ax_.patches) == 6
    # Bars of one task sit side by side around the task's tick.
    x = [[p.get_x() + p.get_width() / 2 for p in display.bars_[m].patches]
         for m in models]
    np.testing.assert_allclose(np.mean(x, axis=0), [0, 1, 2])
    assert display.reference_line_ is None


def test_bars_relative_to_a_baseline(fitted):
    X, Y, models = fitted
    fig, ax = plt.subplots()
    display = PerTaskScoreDisplay.from_estimators(
        models, X, Y, metric="r2", relative_to="single-task", ax=ax)
    assert display.ax_ is ax and display.figure_ is fig
    assert list(display.bars_) == ["pooled"]
    expected = (_masked_r2(Y, models["pooled"].predict(X))
                - _masked_r2(Y, models["single-task"].predict(X)))
    np.testing.assert_allclose(_heights(display.bars_["pooled"]), expected)
    assert display.reference_line_.get_ydata() == [0.0, 0.0]
    assert display.ax_.get_ylabel() == "r2 gain over single-task"
    with pytest.raises(ValueError, match="relative_to='ridge' is not one of"):
        PerTaskScoreDisplay.from_estimators(models, X, Y, relative_to="ridge")


def test_mixed_task_types_use_each_default_metric():
    rng = np.random.RandomState(0)
    X = rng.randn(80, 3)
    Y = np.empty((80, 2), dtype=object)
    Y[:, 0] = np.where(X[:, 0] > 0, "yes", "no")
    Y[:, 1] = X[:, 1] * 3.0
    Y[::5, 0] = np.nan
    tasks = [Task("label", "binary"), Task("amount")]
    model = SingleTaskBaseline({"binary": LogisticRegression(),
                                "regression": Ridge()}, tasks=tasks).fit(X, Y)
    display = PerTaskScoreDisplay.from_estimators({"single": model}, X, Y)
    assert _ticks(display.ax_) == ["label\n(accuracy)", "amount\n(r2)"]
    assert display.ax_.get_ylabel() == "score"
    P = model.predict(X)
    labelled = np.array([isinstance(v, str) for v in Y[:, 0]])
    np.testing.assert_allclose(_heights(display.bars_["single"]), [
        accuracy_score(Y[labelled, 0].astype(str), P[labelled, 0].astype(str)),
        r2_score(Y[:, 1].astype(float), P[:, 1].astype(float))])


def test_from_scores_tables():
    tasks = [Task("a"), Task("b")]
    Y = np.array([[1.0, 2.0], [2.0, np.nan], [3.0, 5.0], [4.0, 1.0]])
    good = per_task_scores(Y, Y + 0.1, tasks, ["r2", "neg_mean_absolute_error"],
                           as_frame=False)
    off = np.array([[4.0, 5.0], [3.0, 0.0], [2.0, 2.0], [1.0, 4.0]])
    bad = per_task_scores(Y, off, tasks, ["r2", "neg_mean_absolute_error"])
    tables = {"good": good, "bad": bad}
    with pytest.raises(ValueError, match="several scores for task 'a'; choose one "
                                         "metric"):
        PerTaskScoreDisplay.from_scores(tables)
    display = PerTaskScoreDisplay.from_scores(tables,
                                              metric="neg_mean_absolute_error")
    np.testing.assert_allclose(_heights(display.bars_["good"]), [-0.1, -0.1])
    np.testing.assert_allclose(_heights(display.bars_["bad"]), [-2.0, -3.0])
    assert display.ax_.get_ylabel() == "neg_mean_absolute_error"
    # A long table; a missing (model, task) pair draws no bar.
    long = pd.DataFrame({"model": ["m1", "m1", "m2"], "task": ["a", "b", "a"],
                         "score": [0.5, 0.7, 0.9]})
    display = PerTaskScoreDisplay.from_scores(long, legend=False)
    np.testing.assert_allclose(_heights(display.bars_["m1"]), [0.5, 0.7])
    heights = _heights(display.bars_["m2"])
    assert heights[0] == 0.9 and np.isnan(heights[1])
    assert display.ax_.get_legend() is None
    assert display.ax_.get_ylabel() == "score"
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['model'\]"):
        PerTaskScoreDisplay.from_scores(long.drop(columns="model"))
    with pytest.raises(ValueError, match="no row has metric 'mae'; the table holds "
                                         r"\['neg_mean_absolute_error', 'r2'\]"):
        PerTaskScoreDisplay.from_scores(tables, metric="mae")


def test_from_estimators_errors(fitted):
    X, Y, models = fitted
    other = SingleTaskBaseline(Ridge()).fit(X, Y[:, :2])
    with pytest.raises(ValueError, match="model 'other' predicts the tasks"):
        PerTaskScoreDisplay.from_estimators(
            {"two": SingleTaskBaseline(Ridge()).fit(X, Y[:, :2]), "other":
             SingleTaskBaseline(Ridge(), tasks=[Task("u"), Task("v")]).fit(
                 X, Y[:, :2])}, X, Y[:, :2])
    with pytest.raises(TypeError, match="non-empty dict"):
        PerTaskScoreDisplay.from_estimators([other], X, Y)
    with pytest.raises(ValueError, match="one metric per task"):
        PerTaskScoreDisplay.from_estimators(models, X, Y, metric=["r2", "mae"])


def test_constructor_validates_names():
    with pytest.raises(ValueError, match="got 1 model names for 2 models"):
        PerTaskScoreDisplay(np.ones((2, 3)), task_names=list("abc"),
                            model_names=["m"]).plot()
