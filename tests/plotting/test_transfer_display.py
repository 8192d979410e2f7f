"""Transfer report bars and the affinity heatmap."""

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from skmtl import PooledBaseline
from skmtl.datasets import make_multitask_regression
from skmtl.model_selection import transfer_report
from skmtl.plotting import TransferReportDisplay, plot_task_affinity


def test_transfer_display_draws_one_coloured_bar_per_task():
    X, Y = make_multitask_regression(n_tasks=3, samples_per_task=60,
                                     structure="independent", random_state=1)
    report = transfer_report(PooledBaseline(Ridge()), X, Y, pooled=None)
    display = TransferReportDisplay.from_report(report)
    heights = [bar.get_height() for bar in display.bars_.patches]
    np.testing.assert_allclose(heights, report.difference)
    assert display.verdicts_ == ["negative"] * 3
    red = display.bars_.patches[0].get_facecolor()
    assert red[0] > 0.8 and red[1] < 0.3  # tab:red
    assert [t.get_text() for t in display.ax_.get_xticklabels()] == report.tasks
    assert "r2 gain over single-task" in display.ax_.get_ylabel()
    segments = display.errorbars_.lines[2][0].get_segments()
    np.testing.assert_allclose([s[1, 1] - s[0, 1] for s in segments],
                               2 * report.std_error)


def test_transfer_display_from_estimator_keeps_the_report():
    X, Y = make_multitask_regression(n_tasks=2, samples_per_task=30, random_state=0)
    display = TransferReportDisplay.from_estimator(PooledBaseline(Ridge()), X, Y,
                                                   cv=3, pooled=None)
    assert display.report_.fold_scores["multitask"].shape == (3, 2)
    assert len(display.bars_.patches) == 2


def test_transfer_display_errors():
    with pytest.raises(ValueError, match="1-D of one length"):
        TransferReportDisplay([0.1, 0.2], [0.1], task_names=["a", "b"]).plot()


def test_affinity_heatmap_labels_and_symmetric_scale():
    affinity = np.array([[0.0, 0.3], [-0.6, 0.0]])
    display = plot_task_affinity(affinity, task_names=["a", "b"])
    np.testing.assert_array_equal(display.im_.get_array(), affinity)
    assert display.im_.get_clim() == (-0.6, 0.6)
    assert display.ax_.get_xlabel() == "helped task j"
    assert display.colorbar_.ax.get_ylabel() == "score gain of task j from task i"
