"""Choosing a weighting strategy by cross-validation: ``{"weighting": [...]}``."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import GridSearchCV, KFold

from skmtl import Task
from skmtl.metrics import make_multitask_scorer, make_per_task_scorers, per_task_scores
from skmtl.neural import MultiTaskEstimator
from skmtl.neural.weighting import ALIASES, DWA, FAMO, WEIGHTINGS, Fixed, Uncertainty

TASKS = [Task("a"), Task("b", "classification")]


def _data(n=96, seed=0, missing=0.0):
    """A regression task and a 3-class task read from the same inputs."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 4)
    Y = np.c_[X[:, 0] + X[:, 1] + 0.1 * rng.randn(n),
              np.digitize(X[:, 1] - X[:, 2], [-0.5, 0.5])].astype(float)
    for k in range(2):
        Y[rng.rand(n) < missing, k] = np.nan
    return X, Y


def _est(**params):
    defaults = dict(tasks=TASKS, hidden_layer_sizes=(8,), lr=0.01, max_epochs=3,
                    batch_size=32, random_state=0, n_threads=1)
    defaults.update(params)
    return MultiTaskEstimator(**defaults)


class _Recorder:
    """A multi-task scorer that also records what each scored fit trained with."""

    def __init__(self):
        self.score = make_multitask_scorer()
        self.seen = []

    def __call__(self, estimator, X, Y):
        self.seen.append((estimator.weighting, estimator.net_.weighting_,
                          estimator.task_weights_history_[-1]))
        return self.score(estimator, X, Y)


def test_a_grid_over_names_and_objects_fits_each_candidate_with_its_strategy():
    X, Y = _data()
    uncertainty = Uncertainty(lr=0.05)
    before = uncertainty.get_params()
    grid = ["equal", "uncertainty", "dwa", "famo", uncertainty]
    recorder = _Recorder()
    search = GridSearchCV(_est(), {"weighting": grid}, scoring=recorder,
                          cv=2).fit(X, Y)

    # one row per candidate, in the grid's order, each scored on both folds
    assert [p["weighting"] for p in search.cv_results_["params"]] == grid
    assert list(search.cv_results_["param_weighting"]) == grid
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_index_ == np.argmax(search.cv_results_["mean_test_score"])

    # each name was resolved to its class for the fit; the object kept its lr
    expected = {"equal": Fixed, "uncertainty": Uncertainty, "dwa": DWA,
                "famo": FAMO}
    fold_fits = recorder.seen[:2 * len(grid)]
    assert len(fold_fits) == 2 * len(grid)
    for parameter, fitted, _ in fold_fits:
        if isinstance(parameter, str):
            assert type(fitted) is expected[parameter]
        else:
            assert type(fitted) is Uncertainty and fitted.lr == 0.05
            assert parameter is not uncertainty  # a clone was fitted
        assert fitted is not parameter
        assert fitted.n_tasks_ == 2

    # the object in the grid was neither changed nor fitted
    assert uncertainty.get_params() == before
    assert not hasattr(uncertainty, "n_tasks_")

    # the refit estimator holds the chosen value, as given
    chosen = search.best_params_["weighting"]
    best = search.best_estimator_
    if isinstance(chosen, str):
        assert best.weighting == chosen
    else:
        assert chosen is uncertainty
        assert type(best.weighting) is Uncertainty
        assert best.weighting.get_params() == before
    assert best.get_params()["weighting"] is best.weighting
    assert best.net_.weighting_ is not best.weighting


def test_the_refit_estimator_keeps_an_object_unfitted():
    X, Y = _data()
    uncertainty = Uncertainty(lr=0.05)
    search = GridSearchCV(_est(), {"weighting": [uncertainty]}, cv=2,
                          scoring=make_multitask_scorer()).fit(X, Y)
    assert search.best_params_["weighting"] is uncertainty
    best = search.best_estimator_.weighting
    assert type(best) is Uncertainty
    assert best.get_params() == Uncertainty(lr=0.05).get_params()
    assert not hasattr(best, "n_tasks_")  # the net trained its own copy
    assert search.best_estimator_.net_.weighting_.n_tasks_ == 2
    assert not hasattr(uncertainty, "n_tasks_")
    # the refit model is the candidate fitted on all rows
    twin = clone(_est(weighting=Uncertainty(lr=0.05))).fit(X, Y)
    np.testing.assert_array_equal(search.best_estimator_.predict(X), twin.predict(X))


@pytest.mark.filterwarnings("ignore:One or more of the test scores are non-finite")
def test_task_weights_beside_a_strategy_fail_as_scikit_learn_reports_fit_errors():
    # (a failed fit used to delete the callback context GridSearchCV attaches
    # to the estimator, so the search crashed with an AttributeError instead)
    X, Y = _data()
    grid = {"weighting": ["fixed", "dwa"], "task_weights": [None, {"b": 3.0}]}

    # task_weights is shorthand for Fixed(task_weights): fine beside "fixed"
    recorder = _Recorder()
    with pytest.warns(FitFailedWarning,
                      match="DWA chooses the task weights itself"):
        search = GridSearchCV(_est(), grid, scoring=recorder, cv=2).fit(X, Y)
    params = search.cv_results_["params"]
    scores = search.cv_results_["mean_test_score"]
    refused = [p["weighting"] == "dwa" and p["task_weights"] is not None
               for p in params]
    assert sum(refused) == 1
    assert np.isnan(scores[refused]).all()  # error_score=np.nan, as in sklearn
    assert np.isfinite(scores[~np.array(refused)]).all()
    assert not refused[search.best_index_]
    weighted = [w for parameter, _, w in recorder.seen
                if parameter == "fixed" and not np.allclose(w, [1.0, 1.0])]
    np.testing.assert_allclose(weighted, [[1.0, 3.0]] * len(weighted))
    assert len(weighted) >= 2  # both folds of ("fixed", {"b": 3.0})

    # with error_score="raise" the search stops on the estimator's own error
    with pytest.raises(ValueError, match="task_weights is shorthand for "
                                         "weighting=Fixed"):
        GridSearchCV(_est(), grid, cv=2, error_score="raise",
                     scoring=make_multitask_scorer()).fit(X, Y)


def test_an_unknown_name_in_the_grid_lists_every_valid_choice():
    X, Y = _data()
    search = GridSearchCV(_est(), {"weighting": ["dwa", "nashmtl"]}, cv=2,
                          error_score="raise", scoring=make_multitask_scorer())
    with pytest.raises(ValueError, match="unknown weighting 'nashmtl'") as info:
        search.fit(X, Y)
    for choice in list(WEIGHTINGS) + list(ALIASES):
        assert repr(choice) in str(info.value)


def test_selection_is_on_the_masked_per_task_scores():
    X, Y = _data(n=120, missing=0.3)
    # task b at weight 0: its head never learns, so its score must fall
    grid = {"weighting": [Fixed({"b": 0.0}), "equal"]}
    folds = list(KFold(2, shuffle=True, random_state=0).split(X))
    scoring = make_per_task_scorers(TASKS)  # "a", "b" and their "mean"
    search = GridSearchCV(_est(max_epochs=5), grid, scoring=scoring, refit="mean",
                          cv=folds).fit(X, Y)
    results = search.cv_results_
    assert results["mean_test_b"][1] > results["mean_test_b"][0] + 0.1
    assert search.best_params_["weighting"] == "equal"
    np.testing.assert_allclose(
        results["mean_test_mean"],
        (results["mean_test_a"] + results["mean_test_b"]) / 2)

    # a fold's score is the per-task score on that fold's labelled entries
    train, test = folds[0]
    fitted = _est(max_epochs=5, weighting="equal").fit(X[train], Y[train])
    table = per_task_scores(Y[test], fitted.predict(X[test]), fitted.tasks_)
    assert (table["n_labelled"] < len(test)).all()  # NaN entries left out
    np.testing.assert_allclose(results["split0_test_a"][1], table["score"][0])
    np.testing.assert_allclose(results["split0_test_b"][1], table["score"][1])

    # the plain scorer strings cannot score NaN-masked Y
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = GridSearchCV(_est(), {"weighting": ["equal"]}, scoring="r2",
                             cv=folds, error_score=np.nan, refit=False).fit(X, Y)
    assert np.isnan(plain.cv_results_["mean_test_score"]).all()
