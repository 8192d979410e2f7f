"""Masked metrics against hand computations, score tables and scorers."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.multioutput import MultiOutputRegressor

from skmtl import SingleTaskBaseline, Task
from skmtl.metrics import (
    make_multitask_scorer,
    make_per_task_scorers,
    masked_accuracy_score,
    masked_explained_variance_score,
    masked_log_loss,
    masked_mean_absolute_error,
    masked_mean_squared_error,
    masked_ndcg_score,
    masked_r2_score,
    masked_roc_auc_score,
    per_task_scores,
)
from skmtl.tasks import resolve_tasks

NAN = np.nan
Y_TRUE = np.array([[1.0, 2.0], [2.0, NAN], [NAN, 0.0], [4.0, 4.0]])
Y_PRED = np.array([[1.5, 2.0], [2.0, 99.0], [-50.0, 1.0], [3.0, 3.0]])


def test_regression_metrics_by_hand_skip_missing_rows():
    # column 0: labelled rows 0, 1, 3 -> errors 0.5, 0, -1; mean of y = 7/3
    mse0 = (0.25 + 0 + 1) / 3
    mse1 = (0 + 1 + 1) / 3  # rows 0, 2, 3
    np.testing.assert_allclose(
        masked_mean_squared_error(Y_TRUE, Y_PRED, multioutput="raw_values"),
        [mse0, mse1])
    assert masked_mean_squared_error(Y_TRUE, Y_PRED) == pytest.approx(
        (mse0 + mse1) / 2)
    np.testing.assert_allclose(
        masked_mean_absolute_error(Y_TRUE, Y_PRED, multioutput="raw_values"),
        [1.5 / 3, 2 / 3])
    ss_tot0 = (1 - 7 / 3) ** 2 + (2 - 7 / 3) ** 2 + (4 - 7 / 3) ** 2
    ss_tot1 = (2 - 2) ** 2 + (0 - 2) ** 2 + (4 - 2) ** 2
    np.testing.assert_allclose(
        masked_r2_score(Y_TRUE, Y_PRED, multioutput="raw_values"),
        [1 - 1.25 / ss_tot0, 1 - 2 / ss_tot1])
    # explained variance: 1 - Var(residual) / Var(y); residuals 0.5, 0, -1
    resid0 = np.array([-0.5, 0.0, 1.0])
    resid1 = np.array([0.0, -1.0, 1.0])
    np.testing.assert_allclose(
        masked_explained_variance_score(Y_TRUE, Y_PRED, multioutput="raw_values"),
        [1 - resid0.var() / (ss_tot0 / 3), 1 - resid1.var() / (ss_tot1 / 3)])


def test_sample_weight_and_weighted_multioutput():
    w = np.array([1.0, 2.0, 5.0, 1.0])
    # column 0 rows 0,1,3 with weights 1,2,1: squared errors 0.25, 0, 1
    expected0 = (0.25 * 1 + 0 * 2 + 1 * 1) / 4
    expected1 = (0 * 1 + 1 * 5 + 1 * 1) / 7
    np.testing.assert_allclose(
        masked_mean_squared_error(Y_TRUE, Y_PRED, sample_weight=w,
                                  multioutput="raw_values"), [expected0, expected1])
    assert masked_mean_squared_error(Y_TRUE, Y_PRED, sample_weight=w,
                                     multioutput=[3, 1]) == pytest.approx(
        (3 * expected0 + expected1) / 4)


def test_column_without_labels_is_nan_and_left_out():
    Y_true = np.array([[1.0, NAN], [2.0, NAN]])
    raw = masked_mean_squared_error(Y_true, np.zeros((2, 2)),
                                    multioutput="raw_values")
    assert raw[0] == pytest.approx(2.5) and np.isnan(raw[1])
    assert masked_mean_squared_error(Y_true, np.zeros((2, 2))) == pytest.approx(2.5)


def test_accuracy_with_string_labels_and_missing():
    Y_true = np.array([["a", 1], [None, 0], ["b", NAN], ["b", 1]], dtype=object)
    Y_pred = np.array([["a", 1], ["b", 1], ["a", 0], ["b", 0]], dtype=object)
    np.testing.assert_allclose(
        masked_accuracy_score(Y_true, Y_pred, multioutput="raw_values"),
        [2 / 3, 1 / 3])


def test_log_loss_and_roc_auc_by_hand():
    y = np.array([0.0, 1.0, NAN, 1.0, 0.0])
    p1 = np.array([0.2, 0.7, 0.99, 0.4, 0.6])
    proba = np.column_stack([1 - p1, p1])
    labelled = ~np.isnan(y)
    expected = -np.mean(np.log(np.where(y[labelled] == 1, p1[labelled],
                                        1 - p1[labelled])))
    assert masked_log_loss(y, proba, classes=[0, 1]) == pytest.approx(expected)
    # AUC: positives (0.7, 0.4) vs negatives (0.2, 0.6): pairs won 3 of 4
    assert masked_roc_auc_score(y, proba, classes=[0, 1]) == pytest.approx(0.75)


def test_multiclass_roc_auc_and_log_loss_with_classes_absent_from_sample():
    y = np.array(["a", "b", "b", None, "a"], dtype=object)
    proba = np.array([[0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.5, 0.4, 0.1],
                      [0.1, 0.1, 0.8], [0.3, 0.3, 0.4]])
    # labelled: a (0.6), b (0.7), b (0.4), a (0.3) over classes a, b, c
    expected = -np.mean(np.log([0.6, 0.7, 0.4, 0.3]))
    assert masked_log_loss(y, proba, classes=["a", "b", "c"]) == pytest.approx(
        expected)
    # one-vs-rest over the present classes a and b:
    # a: scores of a's (0.6, 0.3) vs b's (0.2, 0.5): wins 0.6>0.2, 0.6>0.5,
    # 0.3>0.2 -> 3/4;  b: scores of b's (0.7, 0.4) vs a's (0.3, 0.3) -> 4/4
    assert masked_roc_auc_score(y, proba, classes=["a", "b", "c"]) == pytest.approx(
        (0.75 + 1.0) / 2)


def test_ndcg_by_hand_within_groups():
    rel = np.array([3.0, 1.0, 0.0, 2.0, 0.0, NAN])
    score = np.array([0.1, 0.9, 0.5, 2.0, 1.0, 7.0])
    groups = np.array([0, 0, 0, 1, 1, 1])

    def dcg(gains):
        return sum(g / np.log2(i + 2) for i, g in enumerate(gains))

    # group 0 ranked by score: rel 1, 0, 3; ideal 3, 1, 0
    ndcg0 = dcg([1, 0, 3]) / dcg([3, 1, 0])
    # group 1 (third item unlabelled): ranked rel 2, 0 = ideal
    assert masked_ndcg_score(rel, score, groups=groups) == pytest.approx(
        (ndcg0 + 1.0) / 2)
    # without groups: one list of the five labelled items
    order = np.argsort(-score[:5])
    assert masked_ndcg_score(rel, score) == pytest.approx(
        dcg(rel[:5][order]) / dcg(np.sort(rel[:5])[::-1]))


def test_per_task_scores_table_and_defaults():
    Y_true = np.array([[1.0, 0, 0.5, 1], [2.0, 1, 0.5, 0], [NAN, 1, 1.5, 1],
                       [4.0, NAN, 2.0, 0]])
    Y_pred = np.array([[1.0, 0, 0.5, 1], [3.0, 0, 0.5, 1], [0.0, 1, 0.5, 1],
                       [4.0, 1, 1.5, 0]])
    tasks = [Task("price"), Task("flag", "binary"), Task("box", n_outputs=2)]
    table = per_task_scores(Y_true, Y_pred, tasks)
    assert isinstance(table, pd.DataFrame)
    assert list(table["task"]) == ["price", "flag", "box"]
    assert list(table["metric"]) == ["r2", "accuracy", "r2"]
    assert list(table["n_labelled"]) == [3, 3, 8]
    r2_price = 1 - 1.0 / ((1 - 7 / 3) ** 2 + (2 - 7 / 3) ** 2 + (4 - 7 / 3) ** 2)
    box = masked_r2_score(Y_true[:, 2:], Y_pred[:, 2:])
    np.testing.assert_allclose(table["score"], [r2_price, 2 / 3, box])
    as_dict = per_task_scores(Y_true, Y_pred, tasks,
                              metric={"price": "mean_absolute_error"}, as_frame=False)
    assert as_dict["metric"][0] == "mean_absolute_error"
    assert as_dict["score"][0] == pytest.approx(1 / 3)
    several = per_task_scores(Y_true[:, :1], Y_pred[:, :1], [Task("price")],
                              metric=["r2", "neg_mean_squared_error"], as_frame=False)
    assert several["score"][1] == pytest.approx(-1 / 3)


def test_per_task_scores_with_probabilities_and_unseen_classes():
    Y_train = np.array([[0.0], [1.0], [2.0]])
    task = resolve_tasks([Task("digit", "classification")], Y_train)[0]
    Y_true = np.array([[0.0], [2.0], [NAN]])
    proba = np.array([[0.5, 0.25, 0.25], [0.1, 0.1, 0.8], [1.0, 0.0, 0.0]])
    table = per_task_scores(Y_true, np.array([[0.0], [2.0], [0.0]]), [task],
                            metric="log_loss", Y_proba=proba, as_frame=False)
    assert table["score"][0] == pytest.approx(-np.mean(np.log([0.5, 0.8])))
    with pytest.raises(ValueError, match="needs class probabilities"):
        per_task_scores(Y_true, Y_true, [task], metric="roc_auc")
    with pytest.raises(ValueError, match="task 'digit': label 7 was not seen"):
        per_task_scores(np.array([[7.0]]), np.array([[0.0]]), [task])
    with pytest.raises(ValueError, match=r"Y has 1 column\(s\) but the tasks"):
        per_task_scores(Y_true, Y_true, [Task("a"), Task("b")])


def test_unknown_metric_names_the_choices():
    with pytest.raises(ValueError, match="unknown metric 'r3'"):
        make_multitask_scorer("r3")
    with pytest.raises(ValueError, match="'r2' is a score, not a loss"):
        per_task_scores(Y_TRUE, Y_PRED, metric="neg_r2")


def _masked_regression(seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(90, 4)
    Y = X @ rng.randn(4, 3) + 0.1 * rng.randn(90, 3)
    Y[rng.rand(90, 3) < 0.3] = NAN
    return X, Y


def test_scorer_matches_score_and_handles_losses_and_weights():
    X, Y = _masked_regression()
    est = SingleTaskBaseline(Ridge()).fit(X, Y)
    assert make_multitask_scorer()(est, X, Y) == pytest.approx(est.score(X, Y))
    per_task = masked_mean_squared_error(Y, est.predict(X), multioutput="raw_values")
    assert make_multitask_scorer("mean_squared_error")(est, X, Y) == pytest.approx(
        -per_task.mean())
    assert make_multitask_scorer("neg_mean_squared_error")(est, X, Y) == pytest.approx(
        -per_task.mean())
    weighted = make_multitask_scorer("neg_mean_squared_error", aggregate="weighted",
                                     task_weights={"task_0": 2.0, "task_2": 0.0})
    assert weighted(est, X, Y) == pytest.approx(-(2 * per_task[0] + per_task[1]) / 3)
    only = make_multitask_scorer("neg_mean_squared_error", task="task_1")
    assert only(est, X, Y) == pytest.approx(-per_task[1])
    with pytest.raises(ValueError, match="no such task"):
        make_multitask_scorer(task="nope")(est, X, Y)
    with pytest.raises(ValueError, match="aggregate must be"):
        make_multitask_scorer(aggregate="median")


@pytest.mark.filterwarnings("ignore:Scoring failed")
def test_plain_r2_string_is_wrong_on_masked_y_and_our_scorer_is_right():
    X, Y = _masked_regression(1)
    est = SingleTaskBaseline(Ridge())
    ours = cross_validate(est, X, Y, cv=3, scoring=make_multitask_scorer("r2"))
    assert np.all(ours["test_score"] > 0.9)
    plain = cross_validate(est, X, Y, cv=3, scoring="r2", error_score=np.nan)
    assert np.all(np.isnan(plain["test_score"]))  # NaN labels break the plain scorer


def test_per_task_scorers_in_cross_validate_and_grid_search():
    X, Y = _masked_regression(2)
    scoring = make_per_task_scorers(["task_0", "task_1", "task_2"])
    result = cross_validate(SingleTaskBaseline(Ridge()), X, Y, cv=3, scoring=scoring)
    per_task = np.column_stack([result[f"test_task_{k}"] for k in range(3)])
    np.testing.assert_allclose(per_task.mean(axis=1), result["test_mean"])
    search = GridSearchCV(SingleTaskBaseline(Ridge()),
                          {"estimator__alpha": [1e-3, 1e4]},
                          scoring=make_multitask_scorer(), cv=KFold(3))
    search.fit(X, Y)
    assert search.best_params_ == {"estimator__alpha": 1e-3}


def test_scorer_on_plain_sklearn_estimators():
    X, Y = _masked_regression(3)
    Y_full = np.nan_to_num(Y)
    reg = MultiOutputRegressor(Ridge()).fit(X, Y_full)
    expected = masked_r2_score(Y, reg.predict(X))
    assert make_multitask_scorer("r2")(reg, X, Y) == pytest.approx(expected)
    y = (X[:, 0] > 0).astype(int)
    clf = LogisticRegression().fit(X, y)
    assert make_multitask_scorer()(clf, X, y) == pytest.approx(clf.score(X, y))
    assert make_multitask_scorer("roc_auc")(clf, X, y) > 0.95
