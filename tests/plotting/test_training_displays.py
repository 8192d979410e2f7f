"""TaskWeightsDisplay and LearningCurveDisplay, drawn on Agg."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmtl import SingleTaskBaseline, Task
from skmtl.plotting import LearningCurveDisplay, TaskWeightsDisplay

torch = pytest.importorskip("torch")
from skmtl.neural import MultiTaskEstimator  # noqa: E402

TASKS = [Task("value"), Task("kind", "classification"), Task("flag", "binary")]


def _data(n=90, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 3)
    Y = np.c_[X[:, 0], X[:, 1] > 0, X[:, 2] > 0].astype(float)
    Y[::4, 0] = np.nan
    return X, Y


@pytest.fixture(scope="module")
def fitted():
    X, Y = _data()
    est = MultiTaskEstimator(tasks=TASKS, weighting="dwa", hidden_layer_sizes=(6,),
                             max_epochs=5, batch_size=30, train_split=0.3, lr=0.01,
                             random_state=0)
    return est.fit(X, Y)


def test_task_weights_lines_are_the_recorded_weights(fitted):
    display = TaskWeightsDisplay.from_estimator(fitted)
    assert list(display.lines_) == ["value", "kind", "flag"]
    weights = fitted.task_weights_history_
    for k, line in enumerate(display.lines_.values()):
        np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3, 4, 5])
        np.testing.assert_allclose(line.get_ydata(), weights[:, k])
    # DWA changed the weights from the third epoch on
    assert not np.allclose(weights[-1], 1.0)
    ax = display.ax_
    assert len(ax.get_lines()) == 3
    assert ax.get_title() == "DWA"
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "task weight"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "value", "kind", "flag"]


def test_task_weights_from_values_and_on_given_axes():
    _, ax = plt.subplots()
    display = TaskWeightsDisplay([[1.0, 1.0], [0.5, 1.5]], task_names=["a", "b"])
    assert display.plot(ax=ax, legend=False) is display
    assert display.ax_ is ax and ax.get_legend() is None
    np.testing.assert_allclose(display.lines_["b"].get_ydata(), [1.0, 1.5])
    with pytest.raises(ValueError, match=r"weights must be \(n_epochs, n_tasks\)"):
        TaskWeightsDisplay([1.0, 2.0]).plot()
    with pytest.raises(ValueError, match="got 3 epochs for 2 rows"):
        TaskWeightsDisplay([[1.0], [2.0]], epochs=[1, 2, 3]).plot()


def test_learning_curves_are_the_recorded_train_and_valid_losses(fitted):
    display = LearningCurveDisplay.from_estimator(fitted, yscale="log")
    history = fitted.history_
    assert len(display.ax_.get_lines()) == 6
    for task in TASKS:
        train = display.lines_[(task.name, "train")]
        valid = display.lines_[(task.name, "valid")]
        np.testing.assert_allclose(train.get_ydata(),
                                   history[:, f"train_loss_{task.name}"])
        np.testing.assert_allclose(valid.get_ydata(),
                                   history[:, f"valid_loss_{task.name}"])
        assert valid.get_color() == train.get_color()
        assert valid.get_linestyle() == "--" and train.get_linestyle() == "-"
    colors = {display.lines_[(t.name, "train")].get_color() for t in TASKS}
    assert len(colors) == 3
    assert display.ax_.get_yscale() == "log"


def test_learning_curves_without_validation_split_and_through_a_pipeline():
    X, Y = _data()
    pipe = make_pipeline(StandardScaler(), MultiTaskEstimator(
        tasks=TASKS, hidden_layer_sizes=(4,), max_epochs=3, random_state=0))
    pipe.fit(X, Y)
    display = LearningCurveDisplay.from_estimator(pipe)
    assert sorted(display.lines_) == sorted((t.name, "train") for t in TASKS)
    weights = TaskWeightsDisplay.from_estimator(pipe)
    np.testing.assert_allclose(weights.lines_["kind"].get_ydata(), 1.0)
    with pytest.raises(ValueError, match="valid_losses has shape"):
        LearningCurveDisplay([[1.0, 2.0]], valid_losses=[[1.0]]).plot()


def test_training_displays_need_a_fitted_neural_estimator():
    with pytest.raises(NotFittedError, match="needs a fitted estimator"):
        TaskWeightsDisplay.from_estimator(MultiTaskEstimator())
    X, Y = _data()
    baseline = SingleTaskBaseline(Ridge()).fit(X, Y[:, :1])
    with pytest.raises(TypeError, match="neural multi-task estimator"):
        LearningCurveDisplay.from_estimator(baseline)
