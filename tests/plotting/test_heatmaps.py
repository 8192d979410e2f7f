"""CoefficientHeatmapDisplay and TaskSimilarityDisplay, drawn on Agg."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestRegressor
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression, MultiTaskLasso, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmtl import SingleTaskBaseline, Task
from skmtl.datasets import make_multitask_regression
from skmtl.plotting import (
    CoefficientHeatmapDisplay,
    TaskSimilarityDisplay,
    task_coefficients,
)


def _ticks(labels):
    return [t.get_text() for t in labels]


@pytest.fixture(scope="module")
def sparse_problem():
    return make_multitask_regression(n_samples=150, n_features=12, n_tasks=4,
                                     n_informative=3, noise=0.1, random_state=0,
                                     return_structure=True)


def test_coefficient_heatmap_of_multitask_lasso(sparse_problem):
    X, Y, info = sparse_problem
    model = MultiTaskLasso(alpha=0.05).fit(X, Y)
    display = CoefficientHeatmapDisplay.from_estimator(model)
    image = display.im_.get_array()
    np.testing.assert_allclose(image, model.coef_.T)
    assert image.shape == (12, 4)
    assert _ticks(display.ax_.get_yticklabels()) == [f"x{j}" for j in range(12)]
    assert _ticks(display.ax_.get_xticklabels()) == [f"task_{k}" for k in range(4)]
    limit = np.abs(model.coef_).max()
    assert display.im_.get_clim() == pytest.approx((-limit, limit))
    assert display.colorbar_.ax.get_ylabel() == "coefficient"
    assert display.figure_ is display.ax_.figure
    assert display.text_ is None
    # Joint feature selection found the planted support: the top rows.
    top = CoefficientHeatmapDisplay.from_estimator(model, max_features=3)
    np.testing.assert_array_equal(top.feature_indices_, info.support)
    np.testing.assert_allclose(top.im_.get_array(), model.coef_[:, info.support].T)
    assert _ticks(top.ax_.get_yticklabels()) == [f"x{j}" for j in info.support]


def test_coefficient_heatmap_names_values_and_axes(sparse_problem):
    X, Y, _ = sparse_problem
    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(12)])
    model = make_pipeline(StandardScaler(), MultiTaskLasso(alpha=0.05)).fit(frame, Y)
    fig, ax = plt.subplots()
    display = CoefficientHeatmapDisplay.from_estimator(
        model, ax=ax, task_names=list("abcd"), include_values=True,
        values_format=".1f", colorbar=False)
    assert display.ax_ is ax and display.figure_ is fig
    assert display.colorbar_ is None and len(fig.axes) == 1
    assert _ticks(ax.get_yticklabels()) == list(frame.columns)
    assert _ticks(ax.get_xticklabels()) == list("abcd")
    coef = model[-1].coef_
    assert display.text_.shape == (12, 4)
    expected = [format(v + 0.0, ".1f") for v in coef.T.ravel()]
    assert [t.get_text() for t in display.text_.ravel()] == expected
    assert "-0.0" not in expected


def test_coefficient_heatmap_of_single_task_baseline():
    rng = np.random.RandomState(0)
    X = rng.randn(60, 3)
    W = np.array([[1.0, 0.0], [2.0, -1.0], [0.0, 3.0]])
    Y = X @ W
    Y[::4, 1] = np.nan
    model = SingleTaskBaseline(Ridge(alpha=1e-8)).fit(X, Y)
    display = CoefficientHeatmapDisplay.from_estimator(model)
    np.testing.assert_allclose(display.im_.get_array(), W, atol=1e-6)
    # Inside a fitted search too.
    search = GridSearchCV(SingleTaskBaseline(Ridge()),
                          {"estimator__alpha": [1e-8, 1e-7]}, cv=2).fit(X, Y)
    np.testing.assert_allclose(task_coefficients(search)[0], W.T, atol=1e-5)


def test_coefficient_rows_per_class_and_per_output():
    rng = np.random.RandomState(1)
    X = rng.randn(90, 4)
    species = np.array(["a", "b", "c"], dtype=object)[np.argmax(X[:, :3], axis=1)]
    Y = np.empty((90, 3), dtype=object)
    Y[:, 0] = species
    Y[:, 1] = X[:, 0] * 2.0
    Y[:, 2] = X[:, 1] - X[:, 3]
    tasks = [Task("species", "classification"), Task("box", n_outputs=2)]
    model = SingleTaskBaseline({"classification": make_pipeline(
        StandardScaler(), LogisticRegression()), "regression": Ridge()},
        tasks=tasks).fit(X, Y)
    coef, labels, _ = task_coefficients(model)
    assert labels == ["species=a", "species=b", "species=c", "box[0]", "box[1]"]
    np.testing.assert_allclose(coef[:3], model.estimators_[0][-1].coef_)
    np.testing.assert_allclose(coef[3:], model.estimators_[1].coef_)
    display = CoefficientHeatmapDisplay.from_estimator(model)
    assert _ticks(display.ax_.get_xticklabels()) == labels


def test_coefficient_heatmap_errors(sparse_problem):
    X, Y, _ = sparse_problem
    with pytest.raises(NotFittedError):
        CoefficientHeatmapDisplay.from_estimator(MultiTaskLasso())
    forest = SingleTaskBaseline(RandomForestRegressor(n_estimators=2)).fit(X, Y)
    with pytest.raises(TypeError, match="model of task 'task_0'.*no coef_"):
        CoefficientHeatmapDisplay.from_estimator(forest)
    with pytest.raises(TypeError, match="RandomForestRegressor has no coef_"):
        CoefficientHeatmapDisplay.from_estimator(
            RandomForestRegressor(n_estimators=2).fit(X, Y))
    with pytest.raises(ValueError, match="got 2 feature names for 3 features"):
        CoefficientHeatmapDisplay(np.ones((2, 3)), feature_names=["a", "b"]).plot()
    with pytest.raises(ValueError, match="finite"):
        CoefficientHeatmapDisplay(np.array([[np.nan, 1.0]])).plot()


def test_similarity_from_a_matrix():
    matrix = np.array([[1.0, -0.5, np.nan], [-0.5, 1.0, 0.25],
                       [np.nan, 0.25, 1.0]])
    display = TaskSimilarityDisplay(matrix, task_names=["a", "b", "c"]).plot()
    image = display.im_.get_array()
    np.testing.assert_array_equal(np.ma.getmaskarray(image), np.isnan(matrix))
    np.testing.assert_array_equal(image.filled(np.nan), matrix)
    assert display.im_.get_clim() == (-1.0, 1.0)
    assert [t.get_text() for t in display.text_.ravel()] == [
        "1.00", "-0.50", "", "-0.50", "1.00", "0.25", "", "0.25", "1.00"]
    assert _ticks(display.ax_.get_xticklabels()) == ["a", "b", "c"]
    assert _ticks(display.ax_.get_yticklabels()) == ["a", "b", "c"]
    assert display.colorbar_.ax.get_ylabel() == "task correlation"
    big = TaskSimilarityDisplay(np.eye(13)).plot()
    assert big.text_ is None  # "auto": no values past 12 tasks
    with pytest.raises(ValueError, match="square"):
        TaskSimilarityDisplay(np.ones((2, 3))).plot()


class _RelationshipModel:
    """Stands in for a fitted relationship model (MTRL) of the linear family."""

    def __init__(self, covariance=None, correlation=None):
        if covariance is not None:
            self.task_covariance_ = np.asarray(covariance)
        if correlation is not None:
            self.task_correlation_ = np.asarray(correlation)
        self.tasks_ = [Task("math"), Task("reading")]


def test_similarity_from_learned_covariance():
    model = _RelationshipModel(covariance=[[4.0, 2.0], [2.0, 9.0]])
    display = TaskSimilarityDisplay.from_estimator(model)
    np.testing.assert_allclose(display.im_.get_array(),
                               [[1.0, 1 / 3], [1 / 3, 1.0]])
    assert display.kind == "correlation"
    assert _ticks(display.ax_.get_xticklabels()) == ["math", "reading"]
    raw = TaskSimilarityDisplay.from_estimator(model, kind="covariance")
    np.testing.assert_array_equal(raw.im_.get_array(), [[4.0, 2.0], [2.0, 9.0]])
    assert raw.im_.get_clim() == (-9.0, 9.0)
    assert raw.colorbar_.ax.get_ylabel() == "task covariance"
    learned = _RelationshipModel(covariance=[[4.0, 2.0], [2.0, 9.0]],
                                 correlation=[[1.0, 0.9], [0.9, 1.0]])
    display = TaskSimilarityDisplay.from_estimator(learned, kind="correlation")
    np.testing.assert_array_equal(display.im_.get_array(), [[1.0, 0.9], [0.9, 1.0]])


def test_similarity_cosine_of_coefficients():
    rng = np.random.RandomState(0)
    X = rng.randn(80, 3)
    W = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 2.0]])
    model = SingleTaskBaseline(Ridge(alpha=1e-8)).fit(X, X @ W)
    display = TaskSimilarityDisplay.from_estimator(model)
    s = 1 / np.sqrt(2)
    np.testing.assert_allclose(display.im_.get_array(),
                               [[1, s, 0], [s, 1, 0], [0, 0, 1]], atol=1e-6)
    assert display.kind == "cosine"
    assert display.colorbar_.ax.get_ylabel() == "cosine similarity of coefficients"
    # A task with no coefficient at all has no direction: a blank cell.
    lasso = MultiTaskLasso(alpha=0.1).fit(X, np.column_stack([X @ W[:, :2],
                                                              np.zeros(80)]))
    display = TaskSimilarityDisplay.from_estimator(lasso)
    blank = np.ma.getmaskarray(display.im_.get_array())  # NaN cells are masked
    assert blank[2].all() and blank[:, 2].all() and not blank[:2, :2].any()
    assert display.text_[2, 0].get_text() == ""


def test_similarity_errors():
    model = SingleTaskBaseline(Ridge()).fit(np.eye(3), np.eye(3))
    with pytest.raises(ValueError, match="no task_covariance_; use kind='cosine'"):
        TaskSimilarityDisplay.from_estimator(model, kind="covariance")
    with pytest.raises(ValueError, match="no task correlation or covariance"):
        TaskSimilarityDisplay.from_estimator(model, kind="correlation")
    with pytest.raises(ValueError, match="kind must be one of"):
        TaskSimilarityDisplay.from_estimator(model, kind="pearson")
