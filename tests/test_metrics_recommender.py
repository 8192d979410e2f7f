"""GAUC, calibration and log-loss of binary tasks: hand computations and scorers."""

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.calibration import calibration_curve
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import GroupKFold, cross_validate

from skmtl import SingleTaskBaseline, Task
from skmtl.linear import MultiTaskLogisticClassifier
from skmtl.metrics import (
    make_multitask_scorer,
    make_per_task_scorers,
    masked_calibration_ratio,
    masked_expected_calibration_error,
    masked_gauc_score,
    per_task_scores,
)
from skmtl.tasks import resolve_tasks

NAN = np.nan


def _gauc_by_loop(y, p, groups, weight=None):
    """GAUC as its definition reads: sklearn's AUC per group, weighted."""
    labelled = ~np.isnan(y)
    y, p, groups = y[labelled], p[labelled], groups[labelled]
    weight = np.ones(len(y)) if weight is None else weight[labelled]
    values, weights = [], []
    for g in np.unique(groups):
        rows = groups == g
        if len(np.unique(y[rows])) < 2:
            continue
        values.append(roc_auc_score(y[rows], p[rows], sample_weight=weight[rows]))
        weights.append(weight[rows].sum())
    return np.average(values, weights=weights)


def test_gauc_by_hand_on_a_small_table():
    # user a: positives 0.9, 0.5; negatives 0.5, 0.1 -> pairs (.9>.5) (.9>.1)
    #   (.5=.5 tie: 1/2) (.5>.1): AUC 3.5/4 over 4 impressions
    # user b: positive 0.2, negatives 0.7, 0.3 -> AUC 0 over 3 impressions
    # user c: positives only -> skipped; user d: one label missing, one class
    y = np.array([1, 1, 0, 0, 1, 0, 0, 1, 1, 0, NAN])
    p = np.array([.9, .5, .5, .1, .2, .7, .3, .6, .4, .8, .1])
    users = np.array(["a"] * 4 + ["b"] * 3 + ["c"] * 2 + ["d"] * 2)
    assert masked_gauc_score(y, p, groups=users) == pytest.approx(
        (4 * 3.5 / 4 + 3 * 0.0) / 7)
    # with weights: a group weighs its summed weight, a pair the product
    w = np.array([1, 2, 1, 1, 3, 1, 1, 1, 1, 1, 1.0])
    pairs_a = (1 * 1 + 1 * 1) + 2 * (0.5 * 1 + 1)  # pos 0.9 (w1), pos 0.5 (w2)
    auc_a = pairs_a / (3 * 2)
    assert masked_gauc_score(y, p, groups=users, sample_weight=w) == pytest.approx(
        (5 * auc_a + 5 * 0.0) / 10)


@pytest.mark.parametrize("weighted", [False, True])
def test_gauc_equals_a_loop_over_sklearn_auc(weighted):
    rng = np.random.RandomState(0)
    n = 600
    groups = rng.randint(40, size=n)
    Y = (rng.rand(n, 2) < 0.3).astype(float)
    Y[rng.rand(n, 2) < 0.2] = NAN
    # rounded scores make ties within groups
    P = np.round(0.3 * Y + rng.rand(n, 2), 1).clip(0, 1)
    P = np.where(np.isnan(P), 0.5, P)
    weight = rng.rand(n) * 3 if weighted else None
    expected = [_gauc_by_loop(Y[:, j], P[:, j], groups, weight) for j in range(2)]
    np.testing.assert_allclose(
        masked_gauc_score(Y, P, groups=groups, sample_weight=weight,
                          multioutput="raw_values"), expected, rtol=1e-12)
    # the list form that predict_proba returns gives the same
    proba = [np.column_stack([1 - P[:, j], P[:, j]]) for j in range(2)]
    np.testing.assert_allclose(
        masked_gauc_score(Y, proba, groups=groups, sample_weight=weight,
                          multioutput="raw_values"), expected, rtol=1e-12)


def test_gauc_with_one_group_is_the_auc_and_labels_follow_classes():
    rng = np.random.RandomState(1)
    y = rng.choice(["no", "yes"], size=80)
    p = rng.rand(80)
    assert masked_gauc_score(y, p, groups=np.zeros(80), classes=["no", "yes"]) == \
        pytest.approx(roc_auc_score(y == "yes", p))


def test_gauc_without_a_group_with_both_classes_is_nan_with_a_warning():
    y = np.array([[1, 0], [1, 1], [0, 0], [0, 1.0]])
    p = np.full((4, 2), 0.5)
    groups = [0, 0, 1, 1]  # column 0: each user one class; column 1: both
    with pytest.warns(UndefinedMetricWarning, match="no group holds both"):
        raw = masked_gauc_score(y, p, groups=groups, multioutput="raw_values")
    assert np.isnan(raw[0]) and raw[1] == pytest.approx(0.5)
    with pytest.warns(UndefinedMetricWarning):
        assert masked_gauc_score(y, p, groups=groups) == pytest.approx(0.5)


def test_gauc_bad_input_messages():
    y = np.array([[1, 0], [0, 1], [1, 1]])
    p = np.full((3, 2), 0.5)
    with pytest.raises(ValueError, match="column 0 of Y: gauc is the AUC within"):
        masked_gauc_score(y, p, groups=None)
    with pytest.raises(ValueError, match="groups has 2 rows but y_true has 3"):
        masked_gauc_score(y, p, groups=[0, 1])
    with pytest.raises(ValueError, match=r"column 1 of Y: gauc: labels \[2\] are "
                                         r"not among the classes \[0, 1\]"):
        masked_gauc_score(np.array([[1, 0], [0, 2], [1, 1]]), p, groups=[0, 0, 0])
    with pytest.raises(ValueError, match=r"Y_proba has shape \(3, 3\)"):
        masked_gauc_score(y, np.zeros((3, 3)), groups=[0, 0, 0])


def test_calibration_ratio_on_known_numbers():
    y = np.array([[1, 0], [0, NAN], [0, 1], [1, 1], [0, 0]])
    p = np.array([[.5, .1], [.2, .9], [.2, .7], [.3, .6], [.4, .2]])
    # column 0: predicted 1.6 for 2 positives; column 1: 1.6 for 2 positives
    np.testing.assert_allclose(
        masked_calibration_ratio(y, p, multioutput="raw_values"), [0.8, 0.8])
    w = np.array([1, 1, 1, 2, 1.0])
    # column 0: (.5 + .2 + .2 + .6 + .4) / (1 + 2); column 1: (.1 + .7 + 1.2 + .2) / 3
    np.testing.assert_allclose(
        masked_calibration_ratio(y, p, sample_weight=w, multioutput="raw_values"),
        [1.9 / 3, 2.2 / 3])
    with pytest.warns(UndefinedMetricWarning, match="no positive"):
        assert np.isnan(masked_calibration_ratio([0, 0], [0.1, 0.2]))
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        masked_calibration_ratio([0, 1], [-2.0, 3.0])


def test_expected_calibration_error_by_hand_and_against_sklearn_bins():
    y = np.array([0, 0, 1, 1, 1, 0, NAN])
    p = np.array([.05, .35, .3, .75, .95, .5, .2])
    # n_bins=2, a probability on an inner edge goes to the lower bin:
    # [0, .5]: .05 .35 .3 .5 -> mean .3, rate 1/4; (.5, 1]: .75 .95 -> .85, 1
    expected = (4 * abs(0.3 - 0.25) + 2 * abs(0.85 - 1.0)) / 6
    assert masked_expected_calibration_error(y, p, n_bins=2) == pytest.approx(expected)
    rng = np.random.RandomState(0)
    y = (rng.rand(500) < 0.3).astype(float)
    p = rng.beta(1, 3, size=500)
    for strategy in ("uniform", "quantile"):
        prob_true, prob_pred = calibration_curve(y, p, n_bins=7, strategy=strategy)
        edges = (np.linspace(0, 1, 8) if strategy == "uniform"
                 else np.percentile(p, np.linspace(0, 100, 8)))
        counts = np.bincount(np.searchsorted(edges[1:-1], p), minlength=7)
        counts = counts[counts > 0]
        assert masked_expected_calibration_error(
            y, p, n_bins=7, strategy=strategy) == pytest.approx(
            np.average(np.abs(prob_true - prob_pred), weights=counts))
    # integer weights equal repeated rows
    w = rng.randint(0, 3, size=500)
    assert masked_expected_calibration_error(y, p, sample_weight=w) == pytest.approx(
        masked_expected_calibration_error(np.repeat(y, w), np.repeat(p, w)))
    with pytest.raises(ValueError, match="strategy must be one of"):
        masked_expected_calibration_error(y, p, strategy="kmeans")


def _binary_problem(seed=0, n=400):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 4)
    users = rng.randint(25, size=n)
    logits = X[:, :2] @ np.array([[1.5, -1.0], [0.5, 2.0]]) + 0.3 * users[:, None] / 25
    Y = (rng.rand(n, 2) < 1 / (1 + np.exp(-logits))).astype(float)
    Y[rng.rand(n) < 0.3, 1] = NAN
    return X, Y, users


def test_log_loss_of_binary_tasks_of_a_multitask_y_and_as_a_scorer():
    X, Y, _ = _binary_problem()
    tasks = [Task("click", "binary"), Task("buy", "binary")]
    est = MultiTaskLogisticClassifier(tasks=tasks).fit(X, Y)
    proba = est.predict_proba(X)
    expected = [log_loss(Y[~np.isnan(Y[:, j]), j], proba[j][~np.isnan(Y[:, j])])
                for j in range(2)]
    table = per_task_scores(Y, est.predict(X), est.tasks_, metric="log_loss",
                            Y_proba=proba, as_frame=False)
    np.testing.assert_allclose(table["score"], expected)
    assert list(table["n_labelled"]) == [400, int((~np.isnan(Y[:, 1])).sum())]
    for name in ("log_loss", "neg_log_loss"):
        assert make_multitask_scorer(name)(est, X, Y) == pytest.approx(
            -np.mean(expected))
    assert make_multitask_scorer("neg_log_loss", task="buy")(est, X, Y) == \
        pytest.approx(-expected[1])


def test_recommender_metrics_as_scorers_and_in_score_tables():
    X, Y, users = _binary_problem()
    est = SingleTaskBaseline(LogisticRegression()).fit(X, Y)
    proba = est.predict_proba(X)
    gauc = masked_gauc_score(Y, proba, groups=users, multioutput="raw_values")
    ratio = masked_calibration_ratio(Y, proba, multioutput="raw_values")
    ece = masked_expected_calibration_error(Y, proba, multioutput="raw_values")
    table = per_task_scores(Y, est.predict(X), est.tasks_,
                            metric=["gauc", "calibration_ratio",
                                    "expected_calibration_error"],
                            Y_proba=proba, groups=users, as_frame=False)
    np.testing.assert_allclose(table["score"].reshape(2, 3),
                               np.column_stack([gauc, ratio, ece]))
    assert make_multitask_scorer("gauc")(est, X, Y, groups=users) == pytest.approx(
        gauc.mean())
    # the ratio is neither a score nor a loss: the scorer returns it unchanged
    assert make_multitask_scorer("calibration_ratio")(est, X, Y) == pytest.approx(
        ratio.mean())
    for name in ("expected_calibration_error", "neg_expected_calibration_error"):
        assert make_multitask_scorer(name)(est, X, Y) == pytest.approx(-ece.mean())
    scorers = make_per_task_scorers(est.tasks_, "gauc")
    assert scorers["task_1"](est, X, Y, groups=users) == pytest.approx(gauc[1])
    with pytest.raises(ValueError, match="neither a score nor a loss"):
        make_multitask_scorer("neg_calibration_ratio")


def test_bad_input_to_the_scorers_names_the_task():
    X, Y, users = _binary_problem()
    tasks = [Task("click", "binary"), Task("buy", "binary")]
    est = MultiTaskLogisticClassifier(tasks=tasks).fit(X, Y)
    with pytest.raises(ValueError, match="task 'click': gauc is the AUC within "
                                         "each user or query: pass their ids"):
        make_multitask_scorer("gauc")(est, X, Y)
    with pytest.raises(ValueError, match="task 'click': gauc: groups has 3 rows"):
        make_multitask_scorer("gauc")(est, X, Y, groups=[0, 1, 2])
    three = resolve_tasks([Task("digit", "classification")], np.array([[0], [1], [2]]))
    with pytest.raises(ValueError, match="task 'digit': calibration_ratio scores "
                                         "binary columns; this one has 3 classes"):
        per_task_scores(np.array([[0], [2]]), np.array([[0], [2]]), three,
                        metric="calibration_ratio",
                        Y_proba=np.array([[.5, .25, .25], [.1, .1, .8]]))


def test_groups_reach_the_scorer_through_metadata_routing():
    X, Y, users = _binary_problem(n=300)
    model = SingleTaskBaseline(LogisticRegression())
    folds = list(GroupKFold(3).split(X, Y, users))
    expected = []
    for train, test in folds:
        fitted = sklearn.clone(model).fit(X[train], Y[train])
        expected.append(masked_gauc_score(Y[test], fitted.predict_proba(X[test]),
                                          groups=users[test]))
    with sklearn.config_context(enable_metadata_routing=True):
        scorer = make_multitask_scorer("gauc").set_score_request(groups=True)
        result = cross_validate(model, X, Y, params={"groups": users}, cv=folds,
                                scoring=scorer)
        np.testing.assert_allclose(result["test_score"], expected)
        # an alias: the scorer reads "users", the splitter its own "groups"
        aliased = make_multitask_scorer("gauc").set_score_request(groups="users")
        result = cross_validate(model, X, Y, cv=GroupKFold(3),
                                params={"groups": users, "users": users},
                                scoring={"gauc": aliased})
        np.testing.assert_allclose(result["test_gauc"], expected)
        with pytest.raises(ValueError, match="takes groups and sample_weight"):
            make_multitask_scorer("gauc").set_score_request(users=True)
    with pytest.raises(RuntimeError, match="enable_metadata_routing=True"):
        make_multitask_scorer("gauc").set_score_request(groups=True)
    # without a request the scorer gets no groups, as before: GAUC fails loudly
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = cross_validate(model, X, Y, groups=users, cv=GroupKFold(3),
                                scoring=make_multitask_scorer("gauc"))
    assert np.all(np.isnan(result["test_score"]))
