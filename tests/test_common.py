"""Every public estimator through scikit-learn's checks and our common contract.

``check_estimator`` covers the scikit-learn API; the tests below it cover what
no scikit-learn check exercises: NaN-masked ``Y`` through clone, pickle,
``Pipeline`` and ``GridSearchCV`` with the multi-task scorer.

To add an estimator: export it (``__all__``) so ``all_estimators`` finds it,
give it instances in ``INSTANCES`` if its constructor needs arguments, a small
grid in ``GRIDS``, and list any expected check failure with its reason in
``EXPECTED_FAILED_CHECKS``.
"""

import pickle

import joblib
import numpy as np
import pytest
from sklearn.base import clone, is_classifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks, set_random_state

from skmtl import (
    MultiTaskClassifier,
    MultiTaskEstimator,
    MultiTaskRegressor,
    PooledBaseline,
    SingleTaskBaseline,
)
from skmtl.base import MultiTaskMixin
from skmtl.datasets import make_multitask_classification, make_multitask_regression
from skmtl.linear import (
    L21,
    LinearModelAverage,
    MeanRegularized,
    MultiTaskLinearRegressorCV,
    TraceNorm,
)
from skmtl.metrics import make_multitask_scorer
from skmtl.neural.weighting import PCGrad, Uncertainty
from skmtl.utils import all_estimators

# Estimators whose constructor needs arguments, as the instances to check.
INSTANCES = {
    "SingleTaskBaseline": [SingleTaskBaseline(Ridge()),
                           SingleTaskBaseline(LogisticRegression())],
    "PooledBaseline": [PooledBaseline(Ridge()),
                       PooledBaseline(LogisticRegression(), task_indicators=True)],
    # Small, fast networks: every check's fit takes a few milliseconds.
    # ... and with a gradient-level and a learned loss-level weighting
    "MultiTaskRegressor": [MultiTaskRegressor(hidden_layer_sizes=(16,), lr=0.02,
                                              max_epochs=20, batch_size=32,
                                              random_state=0),
                           MultiTaskRegressor(hidden_layer_sizes=(16,), lr=0.02,
                                              max_epochs=20, batch_size=32,
                                              weighting=PCGrad(), random_state=0)],
    "MultiTaskClassifier": [MultiTaskClassifier(hidden_layer_sizes=(16,), lr=0.02,
                                                max_epochs=20, batch_size=32,
                                                random_state=0),
                            MultiTaskClassifier(hidden_layer_sizes=(16,), lr=0.02,
                                                max_epochs=20, batch_size=32,
                                                weighting=Uncertainty(lr=0.05),
                                                random_state=0)],
    "MultiTaskEstimator": [MultiTaskEstimator(hidden_layer_sizes=(16,), lr=0.02,
                                              max_epochs=20, batch_size=32,
                                              random_state=0)],
    # Short alpha paths: each fit runs two CV searches and 3 x 2 refits.
    "LinearModelAverage": [LinearModelAverage(
        [MultiTaskLinearRegressorCV(TraceNorm(), n_alphas=5, cv=3),
         MultiTaskLinearRegressorCV(MeanRegularized(), n_alphas=5, cv=3)], cv=3)],
}

def _network_weights_grid(est):
    """Task weights, or the strategy's parameter when it chooses them itself."""
    if est.weighting is None:
        return {"task_weights": [None, (1.0, 3.0, 1.0)]}
    if hasattr(est.weighting, "lr"):
        return {"weighting__lr": [0.01, 0.05]}
    return {"weighting": [est.weighting, "mgda"]}


# A small grid per estimator class for the GridSearchCV test.
GRIDS = {
    "SingleTaskBaseline": lambda est: (
        {"estimator__C": [0.1, 1.0]} if is_classifier(est)
        else {"estimator__alpha": [0.1, 10.0]}),
    "PooledBaseline": lambda est: {"task_indicators": [False, True]},
    "MultiTaskLinearRegressor": lambda est: {"penalty__alpha": [0.01, 0.1]},
    "MultiTaskLogisticClassifier": lambda est: {"penalty": [L21(0.01), "ridge"]},
    "MultiTaskLinearRegressorCV": lambda est: {"n_alphas": [3, 4]},
    "MultiTaskLogisticClassifierCV": lambda est: {"eps": [1e-2, 1e-1]},
    "LinearModelAverage": lambda est: {"n_weights": [3, 5]},
    "MultiQuantileRegressor": lambda est: {"quantiles": [(0.5,), (0.25, 0.75)]},
    # task weights as tuples, and a prefixed parameter routed to the optimizer
    **{name: lambda est: {**_network_weights_grid(est),
                          "optimizer__weight_decay": [0.0, 1e-3]}
       for name in ("MultiTaskRegressor", "MultiTaskClassifier",
                    "MultiTaskEstimator")},
}

# {estimator class name: {check name: reason}}; every entry needs a reason.
_MINIBATCH = ("minibatch training: repeating a row changes the batches and the "
              "number of steps per epoch, so the fitted network differs; the "
              "weighted losses and gradients equal those of repeated rows "
              "(tests/neural/test_neural_sample_weight.py)")
_FOLDS = ("the weights are chosen on KFold folds of the rows: a row's copies "
          "fall into other folds than the weighted row, so the held-out errors "
          "and the chosen weights differ; with the copies in the row's fold, "
          "integer weights equal repeated rows (tests/linear/test_average.py)")
_NO_CLASSIFIER_TAGS = (
    "the sparse checks read tags.classifier_tags whenever predict_proba exists "
    "(here: the inferred classification task of the check's y), but the mixed "
    "estimator has no estimator type, so those tags are None; sparse X itself "
    "works (tests/neural/test_neural_inputs.py, and these checks pass for "
    "MultiTaskRegressor and MultiTaskClassifier)")
EXPECTED_FAILED_CHECKS = {
    **{name: {"check_sample_weight_equivalence_on_dense_data": _MINIBATCH,
              "check_sample_weight_equivalence_on_sparse_data": _MINIBATCH}
       for name in ("MultiTaskEstimator", "MultiTaskRegressor",
                    "MultiTaskClassifier")},
    "LinearModelAverage": {
        "check_sample_weight_equivalence_on_dense_data": _FOLDS,
        "check_sample_weight_equivalence_on_sparse_data": _FOLDS},
}
EXPECTED_FAILED_CHECKS["MultiTaskEstimator"] = {
    **EXPECTED_FAILED_CHECKS["MultiTaskEstimator"],
    "check_estimator_sparse_array": _NO_CLASSIFIER_TAGS,
    "check_estimator_sparse_matrix": _NO_CLASSIFIER_TAGS}


def _instances():
    for name, cls in all_estimators():
        yield from INSTANCES.get(name, None) or [cls()]


ESTIMATORS = list(_instances())
# The estimators of NaN-masked multi-task Y (the tests below check_estimator);
# the others (MultiQuantileRegressor, the single-task model of quantile tasks)
# take the plain y of scikit-learn's regressors.
MASKED = [e for e in ESTIMATORS if isinstance(e, MultiTaskMixin)]


def _expected_failures(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


def _id(estimator):
    return repr(estimator).replace("\n", "").replace(" ", "")


def test_every_estimator_is_covered():
    names = {name for name, _ in all_estimators()}
    assert {"SingleTaskBaseline", "PooledBaseline", "MultiTaskLinearRegressor",
            "MultiTaskLogisticClassifier", "MultiTaskLinearRegressorCV",
            "MultiTaskLogisticClassifierCV", "MultiTaskEstimator",
            "MultiTaskRegressor", "MultiTaskClassifier"} <= names
    assert names <= set(GRIDS), f"add a grid for {sorted(names - set(GRIDS))}"
    for reasons in EXPECTED_FAILED_CHECKS.values():
        assert all(isinstance(r, str) and r for r in reasons.values())


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failures)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def _masked_data(estimator, seed=0):
    """NaN-masked data suited to the estimator's type, 20% labels missing."""
    if is_classifier(estimator):
        X, Y = make_multitask_classification(
            n_samples=120, n_features=6, n_tasks=3, n_informative=3, class_sep=4.0,
            missing_rate=0.2, random_state=seed)
    else:
        X, Y = make_multitask_regression(
            n_samples=120, n_features=6, n_tasks=3, n_informative=3,
            missing_rate=0.2, random_state=seed)
    return X * 10 + 3, Y  # off-scale features, so that scaling matters


@pytest.mark.parametrize("estimator", MASKED, ids=_id)
def test_clone_keeps_params_and_drops_fit(estimator):
    X, Y = _masked_data(estimator)
    fitted = clone(estimator).fit(X, Y)
    cloned = clone(fitted)
    assert cloned.get_params().keys() == estimator.get_params().keys()
    assert not hasattr(cloned, "tasks_")
    assert hasattr(fitted, "tasks_") and hasattr(fitted, "n_features_in_")


@pytest.mark.parametrize("estimator", MASKED, ids=_id)
def test_pickle_and_joblib_round_trips_give_identical_predictions(estimator,
                                                                  tmp_path):
    X, Y = _masked_data(estimator)
    fitted = clone(estimator).fit(X, Y)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict(X), fitted.predict(X))
    assert restored.score(X, Y) == fitted.score(X, Y)
    joblib.dump(fitted, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(loaded.predict(X), fitted.predict(X))


def _fitted_arrays(est, prefix=""):
    """Every fitted array of ``est``: its ``..._`` arrays, those of the models
    it wraps (``estimator_``, ``estimators_``) and a network's parameters."""
    for name, value in sorted(vars(est).items()):
        if not name.endswith("_") or name.startswith("__"):
            continue
        if isinstance(value, np.ndarray) and value.dtype != object:
            yield prefix + name, value
        elif name == "estimator_":
            yield from _fitted_arrays(value, f"{prefix}{name}.")
        elif name == "estimators_":
            for k, inner in enumerate(value):
                yield from _fitted_arrays(inner, f"{prefix}{name}[{k}].")
        elif name == "net_":
            for key, tensor in value.module_.state_dict().items():
                yield f"{prefix}net_.module_.{key}", tensor.cpu().numpy()


@pytest.mark.parametrize("estimator", MASKED, ids=_id)
def test_same_random_state_gives_identical_fits(estimator):
    X, Y = _masked_data(estimator)
    first = clone(estimator)
    set_random_state(first, 0)
    second = clone(first)
    np.testing.assert_array_equal(first.fit(X, Y).predict(X),
                                  second.fit(X, Y).predict(X))
    arrays = dict(_fitted_arrays(first))
    others = dict(_fitted_arrays(second))
    assert arrays.keys() == others.keys()
    assert any("coef" in k or "net_" in k for k in arrays), sorted(arrays)
    for name, value in arrays.items():
        np.testing.assert_array_equal(value, others[name], err_msg=name)


@pytest.mark.parametrize("estimator", MASKED, ids=_id)
def test_predicts_every_task_for_every_row_with_missing_labels(estimator):
    X, Y = _masked_data(estimator)
    fitted = clone(estimator).fit(X, Y)
    Y_pred = fitted.predict(X)
    assert Y_pred.shape == Y.shape
    assert not np.any(np.isnan(Y_pred.astype(float)))
    score = fitted.score(X, Y)
    assert np.isfinite(score)
    scorer = make_multitask_scorer()
    assert scorer(fitted, X, Y) == pytest.approx(score)


@pytest.mark.parametrize("estimator", MASKED, ids=_id)
def test_pipeline_with_scaler(estimator):
    X, Y = _masked_data(estimator)
    pipe = make_pipeline(StandardScaler(), clone(estimator)).fit(X, Y)
    assert pipe.predict(X).shape == Y.shape
    assert pipe.score(X, Y) == pytest.approx(pipe[-1].score(pipe[0].transform(X), Y))
    assert make_multitask_scorer()(pipe, X, Y) == pytest.approx(pipe.score(X, Y))


@pytest.mark.parametrize("estimator", MASKED, ids=_id)
def test_grid_search_on_masked_targets(estimator):
    X, Y = _masked_data(estimator)
    grid = GRIDS[type(estimator).__name__](estimator)
    search = GridSearchCV(clone(estimator), grid, scoring=make_multitask_scorer(),
                          cv=KFold(3, shuffle=True, random_state=0),
                          error_score="raise")
    search.fit(X, Y)
    scores = search.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores))
    assert search.best_score_ == scores.max()
    assert search.predict(X).shape == Y.shape
