"""ReliabilityDisplay: the drawn points are the bins' means, per binary task."""

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import calibration_curve

from skmtl import Task
from skmtl.linear import MultiTaskLogisticClassifier
from skmtl.metrics import masked_expected_calibration_error
from skmtl.plotting import ReliabilityDisplay

NAN = np.nan


def _bins_by_hand(y, p, n_bins, weight=None):
    """Weighted mean of p and of y in each non-empty uniform bin, by a loop."""
    weight = np.ones(len(y)) if weight is None else weight
    edges = np.linspace(0, 1, n_bins + 1)
    points = []
    for b in range(n_bins):
        low, high = edges[b], edges[b + 1]
        rows = (p > low) & (p <= high) if b else (p >= low) & (p <= high)
        if weight[rows].sum() > 0:
            points.append((np.average(p[rows], weights=weight[rows]),
                           np.average(y[rows], weights=weight[rows])))
    return np.array(points)


def test_points_are_the_bins_means_on_labelled_entries_only():
    rng = np.random.RandomState(0)
    n = 400
    P = rng.beta(2, 5, size=(n, 2))
    Y = (rng.rand(n, 2) < P ** 0.8).astype(float)
    Y[Y[:, 0] == 0, 1] = NAN  # the second task is observed where the first is 1
    display = ReliabilityDisplay.from_predictions(
        pd.DataFrame(Y, columns=["click", "conversion"]), P, n_bins=8)
    assert list(display.lines_) == ["click", "conversion"]
    for j, name in enumerate(["click", "conversion"]):
        labelled = ~np.isnan(Y[:, j])
        expected = _bins_by_hand(Y[labelled, j], P[labelled, j], 8)
        np.testing.assert_allclose(display.lines_[name].get_xydata(), expected)
        prob_true, prob_pred = calibration_curve(Y[labelled, j], P[labelled, j],
                                                 n_bins=8)
        np.testing.assert_allclose(display.prob_pred[j], prob_pred)
        np.testing.assert_allclose(display.prob_true[j], prob_true)
        # the ECE is the bin-weighted distance of the curve from the diagonal
        assert np.average(np.abs(display.prob_pred[j] - display.prob_true[j]),
                          weights=display.bin_weights[j]) == pytest.approx(
            masked_expected_calibration_error(Y[:, j], P[:, j], n_bins=8))
    np.testing.assert_allclose(display.reference_line_.get_xydata(),
                               [[0, 0], [1, 1]])
    assert display.ax_.get_xlabel() == "mean predicted probability"
    # sample weights weigh the bins' means
    w = rng.rand(n)
    weighted = ReliabilityDisplay.from_predictions(Y[:, 0], P[:, 0], n_bins=5,
                                                   sample_weight=w)
    np.testing.assert_allclose(weighted.lines_["task_0"].get_xydata(),
                               _bins_by_hand(Y[:, 0], P[:, 0], 5, w))


def test_from_estimator_draws_each_binary_task_and_skips_the_others():
    rng = np.random.RandomState(1)
    X = rng.randn(300, 3)
    Y = np.column_stack([
        (rng.rand(300) < 1 / (1 + np.exp(-2 * X[:, 0]))),
        (rng.rand(300) < 1 / (1 + np.exp(-X[:, 1]))),
        np.digitize(X[:, 2], [-0.5, 0.5]),
    ]).astype(float)
    Y[Y[:, 0] == 0, 1] = NAN
    tasks = [Task("click", "binary"), Task("buy", "binary"),
             Task("grade", "classification")]
    est = MultiTaskLogisticClassifier(tasks=tasks).fit(X, Y)
    display = ReliabilityDisplay.from_estimator(est, X, Y, n_bins=6,
                                                strategy="quantile")
    assert list(display.lines_) == ["click", "buy"]
    proba = est.predict_proba(X)
    for j, name in enumerate(["click", "buy"]):
        labelled = ~np.isnan(Y[:, j])
        prob_true, prob_pred = calibration_curve(
            Y[labelled, j], proba[j][labelled, 1], n_bins=6, strategy="quantile")
        np.testing.assert_allclose(display.lines_[name].get_xydata(),
                                   np.column_stack([prob_pred, prob_true]))
    only = ReliabilityDisplay.from_estimator(est, X, Y, tasks=["buy"])
    assert list(only.lines_) == ["buy"]
    with pytest.raises(ValueError, match="task 'grade' has 3 classes; reliability"):
        ReliabilityDisplay.from_estimator(est, X, Y, tasks=["grade"])
    with pytest.raises(ValueError, match=r"tasks \['nope'\] are not among"):
        ReliabilityDisplay.from_estimator(est, X, Y, tasks=["nope"])


def test_bad_input_names_the_task():
    y = np.array([[0, 1], [1, 2], [1, 0.0]])
    p = np.full((3, 2), 0.5)
    with pytest.raises(ValueError, match=r"task 'buy': the reliability curve: labels "
                                         r"\[2.0\] are not among the classes"):
        ReliabilityDisplay.from_predictions(y, p, task_names=["click", "buy"])
    with pytest.raises(ValueError, match=r"task 'click': the reliability curve needs "
                                         r"probabilities in \[0, 1\]"):
        ReliabilityDisplay.from_predictions(y[:, 0], np.array([0.2, 1.5, 0.3]),
                                            task_names=["click"])
    with pytest.raises(ValueError, match="strategy must be one of"):
        ReliabilityDisplay.from_predictions(y[:, 0], p[:, 0], strategy="kmeans")
    with pytest.warns(UserWarning, match="task 'buy' has no labelled entry"):
        display = ReliabilityDisplay.from_predictions(
            np.array([[0, NAN], [1, NAN]]), np.full((2, 2), 0.5),
            task_names=["click", "buy"])
    assert list(display.lines_) == ["click"]
