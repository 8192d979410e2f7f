"""Transfer report, task affinity and task grouping on planted structure."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import Ridge, RidgeCV
from sklearn.model_selection import KFold

from skmtl import PooledBaseline, SingleTaskBaseline
from skmtl.base import MultiTaskMixin
from skmtl.datasets import make_multitask_regression
from skmtl.metrics import masked_r2_score
from skmtl.model_selection import (
    grouping_score,
    suggest_task_groups,
    task_affinity,
    transfer_report,
)


def test_pooling_identical_tasks_is_positive_transfer():
    X, Y = make_multitask_regression(n_tasks=3, n_features=30, n_informative=10,
                                     samples_per_task=40, noise=1.0,
                                     task_similarity=1.0, random_state=0)
    report = transfer_report(PooledBaseline(RidgeCV()), X, Y, cv=5)
    assert np.all(report.difference > 0)
    assert not report.negative_transfer.any()
    table = report.to_table(as_frame=False)
    assert list(table["task"]) == ["task_0", "task_1", "task_2"]
    assert set(table) >= {"multitask", "single_task", "pooled", "difference",
                          "std_error", "negative_transfer"}
    assert "positive" in str(report)


def test_pooling_unrelated_tasks_is_flagged_as_negative_transfer():
    X, Y = make_multitask_regression(n_tasks=3, samples_per_task=80, noise=0.1,
                                     structure="independent", random_state=1)
    report = transfer_report(PooledBaseline(Ridge()), X, Y, cv=5, pooled=None)
    assert report.negative_transfer.all()
    assert set(report.fold_scores) == {"multitask", "single_task"}
    assert "negative" in str(report)


def test_fold_scores_and_std_error_by_hand():
    X, Y = make_multitask_regression(n_tasks=2, n_samples=60, missing_rate=0.2,
                                     random_state=2)
    cv = KFold(4, shuffle=True, random_state=3)
    mtl = PooledBaseline(Ridge(), task_indicators=True)
    single = SingleTaskBaseline(Ridge())
    report = transfer_report(mtl, X, Y, baseline=single, pooled=None, cv=cv)
    differences = []
    for f, (train, test) in enumerate(cv.split(X)):
        expected = masked_r2_score(Y[test], mtl.fit(X[train], Y[train]).predict(
            X[test]), multioutput="raw_values")
        np.testing.assert_allclose(report.fold_scores["multitask"][f], expected)
        base = masked_r2_score(Y[test], single.fit(X[train], Y[train]).predict(
            X[test]), multioutput="raw_values")
        differences.append(expected - base)
    d = np.array(differences)
    np.testing.assert_allclose(report.difference, d.mean(axis=0))
    corrected = np.sqrt((1 / 4 + 15 / 45) * d.var(axis=0, ddof=1))
    np.testing.assert_allclose(report.std_error, corrected)


def _clustered(seed=0):
    return make_multitask_regression(
        n_features=10, n_tasks=6, n_informative=6, structure="clusters",
        n_clusters=2, task_similarity=0.97, samples_per_task=25, noise=0.5,
        random_state=seed, return_structure=True)


def _planted_groups(clusters):
    return sorted(sorted(np.flatnonzero(clusters == c).tolist())
                  for c in np.unique(clusters))


def test_pairwise_affinity_recovers_planted_clusters():
    X, Y, info = _clustered()
    affinity = task_affinity(PooledBaseline(RidgeCV(), task_indicators=True), X, Y,
                             cv=3)
    same = info.clusters[:, None] == info.clusters[None, :]
    off_diagonal = ~np.eye(6, dtype=bool)
    assert affinity[same & off_diagonal].mean() > 0 > affinity[~same].mean()
    assert suggest_task_groups(affinity, 2) == _planted_groups(info.clusters)


def test_coefficient_affinity_recovers_planted_clusters():
    X, Y, info = _clustered(1)
    affinity = task_affinity(SingleTaskBaseline(Ridge()), X, Y,
                             method="coefficients")
    np.testing.assert_allclose(np.diag(affinity), 1.0)
    np.testing.assert_allclose(affinity, affinity.T)
    assert suggest_task_groups(affinity, 2) == _planted_groups(info.clusters)


class _CovarianceModel(MultiTaskMixin, RegressorMixin, BaseEstimator):
    """A stand-in task-relationship model with a fixed learned covariance."""

    def __init__(self, tasks=None):
        self.tasks = tasks

    def fit(self, X, y):
        X, Y = self._validate_fit_data(X, y)
        self.task_covariance_ = np.array([[4.0, 1.0], [1.0, 1.0]])
        return self


def test_covariance_affinity_is_the_learned_correlation():
    X, Y = make_multitask_regression(n_tasks=2, random_state=0)
    affinity = task_affinity(_CovarianceModel(), X, Y, method="covariance")
    np.testing.assert_allclose(affinity, [[1.0, 0.5], [0.5, 1.0]])
    with pytest.raises(ValueError, match="learns no task covariance"):
        task_affinity(SingleTaskBaseline(Ridge()), X, Y, method="covariance")
    with pytest.raises(ValueError, match="method must be one of"):
        task_affinity(SingleTaskBaseline(Ridge()), X, Y, method="magic")


def test_grouping_score_by_hand():
    A = np.array([[0.0, 2.0, 1.0], [4.0, 0.0, -1.0], [3.0, 5.0, 0.0]])
    # groups {0, 1}, {2}: task 0 gets A[1, 0] = 4, task 1 gets A[0, 1] = 2
    assert grouping_score(A, [0, 0, 1]) == pytest.approx(6.0)
    # one group: task 0 mean(4, 3), task 1 mean(2, 5), task 2 mean(1, -1)
    assert grouping_score(A, [0, 0, 0]) == pytest.approx(3.5 + 3.5 + 0.0)


def test_local_search_finds_planted_groups_of_a_large_problem():
    rng = np.random.RandomState(0)
    planted = np.repeat([0, 1, 2], 5)
    rng.shuffle(planted)
    A = np.where(planted[:, None] == planted[None, :], 1.0, -1.0)
    A += 0.3 * rng.randn(15, 15)
    groups, score = suggest_task_groups(A, 3, return_score=True)
    assert groups == _planted_groups(planted)
    assert score == pytest.approx(grouping_score(A, planted))
    names = [f"t{k}" for k in range(15)]
    assert suggest_task_groups(A, 3, task_names=names)[0][0] == f"t{groups[0][0]}"


@pytest.mark.parametrize("affinity, n_groups, message", [
    (np.ones((2, 3)), 1, "square"),
    (np.ones((3, 3)), 4, "between 1 and the number of tasks"),
    (np.full((2, 2), np.nan), 1, "NaN or inf"),
])
def test_grouping_errors(affinity, n_groups, message):
    with pytest.raises(ValueError, match=message):
        suggest_task_groups(affinity, n_groups)


@pytest.mark.filterwarnings("ignore:One or more of the test scores are non-finite")
def test_a_failed_fit_in_a_search_is_reported_as_scikit_learn_does():
    # a failed fit clears the fitted state, but not the callback context that
    # GridSearchCV attaches to the estimator around the fit (deleting it made
    # the search crash with an AttributeError)
    from sklearn.exceptions import FitFailedWarning
    from sklearn.model_selection import GridSearchCV

    from skmtl.linear import MultiTaskLinearRegressor

    X, Y = make_multitask_regression(n_samples=60, n_features=5, n_tasks=2,
                                     random_state=0)
    grid = {"penalty": ["l21", "nope"]}
    with pytest.warns(FitFailedWarning, match="unknown penalty 'nope'"):
        search = GridSearchCV(MultiTaskLinearRegressor(), grid,
                              cv=2).fit(X, Y)
    scores = search.cv_results_["mean_test_score"]
    assert np.isfinite(scores[0]) and np.isnan(scores[1])
    with pytest.raises(ValueError, match="unknown penalty 'nope'"):
        GridSearchCV(MultiTaskLinearRegressor(), grid, cv=2,
                     error_score="raise").fit(X, Y)


# -- ordinary cases: Pipelines, DataFrames, precomputed folds, mixed types ----

def _frame_data(seed=0):
    import pandas as pd

    X, Y = make_multitask_regression(n_tasks=3, n_features=4, n_informative=3,
                                     samples_per_task=40,
                                     task_similarity=0.9, random_state=seed)
    X = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    X["note"] = "unused"                   # only a name-selecting step drops it
    Y = pd.DataFrame(Y, columns=["math", "reading", "writing"])
    return X, Y


def _by_name_pipeline(estimator):
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    select = ColumnTransformer([("numbers", StandardScaler(), ["a", "b", "c", "d"])])
    return make_pipeline(select, estimator)


def test_transfer_report_on_a_pipeline_with_a_dataframe_and_precomputed_folds():
    from skmtl import Task

    X, Y = _frame_data()
    tasks = [Task("writing"), Task("math"), Task("reading")]
    pipe = _by_name_pipeline(PooledBaseline(Ridge(), tasks=tasks,
                                            task_indicators=True))
    folds = list(KFold(4, shuffle=True, random_state=0).split(X))
    report = transfer_report(pipe, X, Y, cv=folds)
    assert report.tasks == ["writing", "math", "reading"]
    assert set(report.fold_scores) == {"multitask", "single_task", "pooled"}
    assert report.fold_scores["multitask"].shape == (4, 3)
    # the same folds from the splitter give the same report
    same = transfer_report(pipe, X, Y, cv=KFold(4, shuffle=True, random_state=0))
    for name, scores in report.fold_scores.items():
        np.testing.assert_allclose(scores, same.fold_scores[name])
    # fold by fold, the multi-task scores are those of the Pipeline itself
    Y_in_task_order = Y[["writing", "math", "reading"]].to_numpy()
    for f, (train, test) in enumerate(folds):
        fitted = pipe.fit(X.iloc[train], Y.iloc[train])
        expected = masked_r2_score(Y_in_task_order[test], fitted.predict(
            X.iloc[test]), multioutput="raw_values")
        np.testing.assert_allclose(report.fold_scores["multitask"][f], expected)


def test_task_affinity_on_a_pipeline_with_a_dataframe_and_precomputed_folds():
    X, Y = _frame_data()
    pipe = _by_name_pipeline(PooledBaseline(Ridge(), task_indicators=True))
    folds = list(KFold(3, shuffle=True, random_state=0).split(X))
    affinity = task_affinity(pipe, X, Y, cv=folds)
    assert affinity.shape == (3, 3) and np.all(np.isfinite(affinity))
    np.testing.assert_allclose(affinity, task_affinity(
        pipe, X, Y, cv=KFold(3, shuffle=True, random_state=0)))
    from skmtl.linear import MultiTaskLinearRegressor

    coefficients = task_affinity(_by_name_pipeline(MultiTaskLinearRegressor()),
                                 X, Y, method="coefficients")
    np.testing.assert_allclose(np.diag(coefficients), 1.0)


def test_transfer_report_with_mixed_task_types_has_a_pooled_reference():
    from skmtl import Task
    from skmtl.neural import MultiTaskEstimator

    rng = np.random.RandomState(0)
    X = rng.randn(150, 4)
    Y = np.c_[X @ [1.0, 2.0, 0.0, 0.0], X @ [1.0, 1.5, 0.5, 0.0],
              (X[:, 0] > 0).astype(float)]
    tasks = [Task("y1"), Task("y2"), Task("flag", "binary")]
    mtl = MultiTaskEstimator(tasks=tasks, hidden_layer_sizes=(8,), max_epochs=3,
                             batch_size=32, random_state=0)
    report = transfer_report(mtl, X, Y, cv=3)
    assert set(report.fold_scores) == {"multitask", "single_task", "pooled"}
    assert np.all(np.isfinite(report.fold_scores["pooled"]))
    # regression tasks pooled apart from the binary one: a high R² for both
    pooled = report.mean_scores()["pooled"]
    assert pooled[0] > 0.9 and pooled[1] > 0.9 and pooled[2] > 0.8


def test_default_pooled_baseline_pools_each_estimator_type():
    from skmtl import Task
    from skmtl.model_selection import default_baselines
    from skmtl.neural import MultiTaskEstimator

    rng = np.random.RandomState(0)
    Y = np.c_[rng.randn(40), rng.randint(0, 3, 40), rng.randint(0, 2, 40),
              rng.poisson(2.0, 40), rng.randn(40)].astype(object)
    Y[:, 1] = np.array(["a", "b", "c"], dtype=object)[Y[:, 1].astype(int)]
    tasks = [Task("price"), Task("kind", "classification"), Task("flag", "binary"),
             Task("visits", "count"), Task("q", "quantile")]
    _, pooled = default_baselines(MultiTaskEstimator(tasks=tasks), Y)
    # regression and count share RidgeCV but quantile has its own model, and
    # the class labels mix strings and numbers: one pool per type
    assert sorted(pooled.estimator) == ["binary", "classification", "count",
                                        "quantile", "regression"]
    # string labels throughout and one regressor model: one pool per kind
    Y[:, 2] = np.where(Y[:, 2] == 1, "yes", "no")
    _, pooled = default_baselines(MultiTaskEstimator(tasks=tasks[:4]), Y[:, :4])
    assert sorted(pooled.estimator) == ["classifier", "regressor"]
    fitted = pooled.fit(rng.randn(40, 3), Y[:, :4])
    assert fitted.predict(np.zeros((2, 3))).shape == (2, 4)
    assert set(fitted.predict(np.zeros((2, 3)))[:, 2]) <= {"yes", "no"}


def test_precomputed_folds_beyond_the_data_name_the_problem():
    X, Y = make_multitask_regression(n_tasks=2, n_samples=60, random_state=0)
    folds = [(np.arange(50), np.arange(50, 80))]
    with pytest.raises(ValueError, match=r"fold 0's test part holds the row index "
                                         r"79 but the data has 60 rows.*int or a "
                                         r"splitter"):
        transfer_report(PooledBaseline(Ridge()), X, Y, cv=folds)
    with pytest.raises(ValueError, match="fold 0 is 3, not a"):
        transfer_report(PooledBaseline(Ridge()), X, Y, cv=[3])
