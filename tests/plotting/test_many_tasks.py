"""Every task display stays readable with 150 tasks (School has 139): the tick
labels drawn do not overlap, measured on the Agg renderer."""

import numpy as np
import pytest

from skmtl.plotting import (
    CoefficientHeatmapDisplay,
    PerTaskScoreDisplay,
    TaskSimilarityDisplay,
    TransferReportDisplay,
    plot_task_affinity,
)

N_TASKS = 150
NAMES = [f"school_{k + 1}" for k in range(N_TASKS)]


def _boxes(figure, labels):
    renderer = figure.canvas.get_renderer()
    return [label.get_window_extent(renderer) for label in labels
            if label.get_visible() and label.get_text()]


def _assert_readable(ax, axis, n_categories, names=NAMES):
    """Labels drawn on ``axis`` do not overlap, and at least a few are drawn,
    each at the position of the category it names."""
    figure = ax.figure
    figure.canvas.draw()
    labels = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
    boxes = _boxes(figure, labels)
    assert 5 <= len(boxes) <= n_categories
    for first, second in zip(boxes, boxes[1:]):
        assert not first.overlaps(second), (first, second)
    # the names drawn are category names at their own positions
    positions = ax.get_xticks() if axis == "x" else ax.get_yticks()
    texts = [label.get_text() for label in labels]
    for position, text in zip(positions, texts):
        assert text.startswith(names[int(round(position))])
    return texts


def _overlapping_pairs(ax, axis):
    """Overlapping neighbours when every label is drawn (the old behaviour)."""
    figure = ax.figure
    figure.canvas.draw()
    labels = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
    boxes = _boxes(figure, labels)
    return sum(a.overlaps(b) for a, b in zip(boxes, boxes[1:]))


def test_per_task_score_display():
    rng = np.random.RandomState(0)
    display = PerTaskScoreDisplay(rng.rand(2, N_TASKS), task_names=NAMES,
                                  model_names=["multitask", "single-task"],
                                  metric_names=["r2"] * N_TASKS).plot()
    texts = _assert_readable(display.ax_, "x", N_TASKS)
    assert display.task_ticks_ == texts
    assert "150 tasks" in display.ax_.get_xlabel()
    # the bars are all there
    assert len(display.bars_["multitask"].patches) == N_TASKS
    # drawing every label would overlap: the check above can fail
    display.ax_.set_xticks(np.arange(N_TASKS), labels=NAMES)
    assert _overlapping_pairs(display.ax_, "x") > 0


def test_per_task_score_display_sorted_with_two_line_labels():
    rng = np.random.RandomState(1)
    scores = rng.rand(2, N_TASKS)
    metrics = ["r2"] * 75 + ["accuracy"] * 75       # labels "name\n(metric)"
    display = PerTaskScoreDisplay(scores, task_names=NAMES,
                                  model_names=["multitask", "single-task"],
                                  metric_names=metrics).plot(
        relative_to="single-task", sort_by="multitask")
    gains = scores[0] - scores[1]
    order = np.argsort(gains, kind="stable")
    np.testing.assert_array_equal(display.task_order_, order)
    texts = _assert_readable(display.ax_, "x", N_TASKS,
                             names=[NAMES[k] for k in order])
    assert texts[0] == f"{NAMES[order[0]]}\n({metrics[order[0]]})"
    heights = [bar.get_height() for bar in display.bars_["multitask"].patches]
    assert np.all(np.diff(heights) >= 0)


def test_transfer_report_display():
    rng = np.random.RandomState(2)
    difference = rng.randn(N_TASKS) * 0.1
    display = TransferReportDisplay(difference, np.full(N_TASKS, 0.02),
                                    task_names=NAMES).plot(sort=True)
    order = np.argsort(difference)
    texts = _assert_readable(display.ax_, "x", N_TASKS,
                             names=[NAMES[k] for k in order])
    assert texts[0] == NAMES[order[0]]
    assert display.verdicts_[0] == "negative"
    unsorted = TransferReportDisplay(difference, np.full(N_TASKS, 0.02),
                                     task_names=NAMES).plot()
    _assert_readable(unsorted.ax_, "x", N_TASKS)
    assert unsorted.task_ticks_[0] == NAMES[0]


@pytest.mark.parametrize("draw", ["coefficients", "similarity", "affinity"])
def test_heatmaps(draw):
    rng = np.random.RandomState(3)
    if draw == "coefficients":
        display = CoefficientHeatmapDisplay(rng.randn(N_TASKS, 12),
                                            task_names=NAMES).plot()
        _assert_readable(display.ax_, "x", N_TASKS)
        # 12 features fit down the side: every one is named
        assert [t.get_text() for t in display.ax_.get_yticklabels()] == [
            f"x{j}" for j in range(12)]
        return
    matrix = np.corrcoef(rng.randn(N_TASKS, 300))
    if draw == "similarity":
        display = TaskSimilarityDisplay(matrix, task_names=NAMES).plot()
        assert display.text_ is None     # no values written in 22,500 cells
    else:
        display = plot_task_affinity(matrix, task_names=NAMES)
    _assert_readable(display.ax_, "x", N_TASKS)
    _assert_readable(display.ax_, "y", N_TASKS)


def test_few_tasks_are_all_named():
    display = TransferReportDisplay([0.1, -0.2, 0.0], [0.01, 0.01, 0.01],
                                    task_names=["math", "reading", "writing"]).plot()
    assert display.task_ticks_ == ["math", "reading", "writing"]
    assert display.ax_.get_xlabel() == "task"
    assert [t.get_rotation() for t in display.ax_.get_xticklabels()] == [0.0] * 3
