"""A table of bad inputs across the estimator families.

Each entry builds an estimator, makes one bad call and expects a
``ValueError`` or ``TypeError`` whose message names the problem (the task,
the parameter or the shape at fault). After a failed ``fit`` the estimator
holds no fitted attribute (a fresh one stays fresh; a fitted one is cleanly
unfitted, see ``test_failed_refit_leaves_the_estimator_unfitted``); after a
failed ``predict``/``score``/``partial_fit`` on a fitted model the model is
unchanged.
"""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression, Ridge

from skmtl import (
    MultiTaskLinearRegressor,
    MultiTaskLinearRegressorCV,
    MultiTaskLogisticClassifier,
    MultiTaskLogisticClassifierCV,
    PooledBaseline,
    SingleTaskBaseline,
    Task,
)
from skmtl.linear import L21
from skmtl.neural import (
    ConvNet,
    MultiTaskClassifier,
    MultiTaskEstimator,
    MultiTaskRegressor,
)

RNG = np.random.RandomState(0)
X = RNG.randn(40, 3)
Y = np.c_[X[:, 0], X[:, 1] - X[:, 2]]
Y_CLASSES = (Y > 0).astype(float)
IMAGES = RNG.rand(20, 1, 8, 8)
IMAGE_TARGETS = RNG.randn(20, 2)


def _with(array, index, value):
    array = np.array(array, dtype=object if isinstance(value, str) else float)
    array[index] = value
    return array


X_NAN = _with(X, (0, 0), np.nan)
X_INF = _with(X, (1, 2), np.inf)
Y_INF = _with(Y, (2, 1), np.inf)
Y_EMPTY = _with(Y, (slice(None), 1), np.nan)
Y_STRINGS = np.array([["a", "b"]] * 40, dtype=object)
Y_ONE_LABEL = _with(Y, (slice(1, None), 1), np.nan)  # task_1: one labelled row
Y_ONE_CLASS = _with(Y_CLASSES, (slice(1, None), 1), np.nan)
Y_UNSEEN = _with(Y_CLASSES, (0, 0), 7.0)


def net(cls=MultiTaskRegressor, **params):
    return cls(**{"hidden_layer_sizes": (4,), "max_epochs": 1, "batch_size": 16,
                  "random_state": 0, **params})


def fit(X_, Y_, **kwargs):
    return lambda est: est.fit(X_, Y_, **kwargs)


def _image_net():
    return net(trunk=ConvNet, trunk__channels=(2,), trunk__out_features=4)


# (id, estimator factory, bad call, expected exception, message pattern)
FIT_CASES = [
    ("nan-X-single-task", lambda: SingleTaskBaseline(Ridge()), fit(X_NAN, Y),
     ValueError, "contains NaN"),
    ("inf-X-pooled", lambda: PooledBaseline(Ridge()), fit(X_INF, Y),
     ValueError, "contains infinity"),
    ("nan-X-linear", MultiTaskLinearRegressor, fit(X_NAN, Y),
     ValueError, "contains NaN"),
    ("inf-X-neural", net, fit(X_INF, Y), ValueError, "contains infinity"),
    ("inf-Y-single-task", lambda: SingleTaskBaseline(Ridge()), fit(X, Y_INF),
     ValueError, "task 'task_1': Y holds inf"),
    ("inf-Y-linear", MultiTaskLinearRegressor, fit(X, Y_INF),
     ValueError, "task 'task_1': Y holds inf"),
    ("inf-Y-neural", net, fit(X, Y_INF), ValueError, "task 'task_1': Y holds inf"),
    ("empty-task-single-task", lambda: SingleTaskBaseline(Ridge()), fit(X, Y_EMPTY),
     ValueError, "task 'task_1' has no labelled sample"),
    ("empty-task-linear-cv", lambda: MultiTaskLinearRegressorCV(n_alphas=3, cv=2),
     fit(X, Y_EMPTY), ValueError, "task 'task_1' has no labelled sample"),
    ("empty-task-neural", net, fit(X, Y_EMPTY),
     ValueError, "task 'task_1' has no labelled sample"),
    ("Y-width-linear", lambda: MultiTaskLinearRegressor(tasks=[Task("a")]),
     fit(X, Y), ValueError, r"Y has 2 column\(s\) but the tasks describe 1"),
    ("Y-width-neural",
     lambda: net(MultiTaskEstimator, tasks=[Task("a"), Task("b", n_outputs=2)]),
     fit(X, Y), ValueError, r"Y has 2 column\(s\) but the tasks describe 3"),
    ("Y-3d-linear", MultiTaskLinearRegressor, fit(X, Y[:, :, None]),
     ValueError, "Y must be 1-D or 2-D"),
    ("task-weights-unknown-name-linear",
     lambda: MultiTaskLinearRegressor(task_weights={"zz": 1.0}), fit(X, Y),
     ValueError, r"task_weights names unknown task\(s\) \['zz'\]"),
    ("task-weights-unknown-name-neural", lambda: net(task_weights={"zz": 1.0}),
     fit(X, Y), ValueError, r"unknown task\(s\) \['zz'\]"),
    ("task-weights-negative-linear",
     lambda: MultiTaskLinearRegressor(task_weights=(1.0, -1.0)), fit(X, Y),
     ValueError, "task_weights for task 'task_1' is -1"),
    ("task-weights-all-zero-neural", lambda: net(task_weights=(0.0, 0.0)),
     fit(X, Y), ValueError, "task_weights are all zero"),
    ("task-weights-length-logistic-cv",
     lambda: MultiTaskLogisticClassifierCV(task_weights=(1, 2, 3), n_alphas=2, cv=2),
     fit(X, Y_CLASSES), ValueError, "task_weights has 3 entries but there are 2"),
    ("strings-in-regression-linear", MultiTaskLinearRegressor, fit(X, Y_STRINGS),
     ValueError, "task 'task_0' is a regression task but its labels hold "
                 "non-numeric"),
    ("strings-in-regression-neural",
     lambda: net(MultiTaskEstimator, tasks=[Task("a"), Task("b")]),
     fit(X, Y_STRINGS), ValueError, "task 'a' is a regression task"),
    ("strings-in-regression-single-task",
     lambda: SingleTaskBaseline(Ridge(), tasks=[Task("a"), Task("b")]),
     fit(X, Y_STRINGS), ValueError, "task 'a' is a regression task"),
    ("one-sample-class-task-logistic", MultiTaskLogisticClassifier,
     fit(X, Y_ONE_CLASS), ValueError, "task 'task_1' has only one class"),
    ("one-sample-class-task-neural", lambda: net(MultiTaskClassifier),
     fit(X, Y_ONE_CLASS), ValueError, "task 'task_1' has only one class"),
    ("one-sample-task-in-cv-folds", lambda: MultiTaskLinearRegressorCV(cv=3),
     fit(X, Y_ONE_LABEL), ValueError,
     "task 'task_1' has no labelled sample in the training rows of "
     "cross-validation fold"),
    ("X-Y-length-linear", MultiTaskLinearRegressor, fit(X[:-1], Y),
     ValueError, r"inconsistent numbers of samples: \[39, 40\]"),
    ("X-Y-length-neural", net, fit(X[:-1], Y),
     ValueError, r"inconsistent numbers of samples"),
    ("conv-trunk-on-tabular-X", _image_net, fit(X, Y),
     ValueError, r"ConvNet needs images shaped \(channels, height, width\)"),
    ("strings-in-X-neural", net,
     fit(np.c_[X[:, :2].astype(object), np.where(X[:, 2] > 0, "yes", "no")], Y),
     ValueError, r"X column 2 holds categories or strings .*'(yes|no)'.* "
                 r"categorical_features"),
    ("categorical-features-unknown-column",
     lambda: net(categorical_features=[5]), fit(X, Y),
     ValueError, r"categorical_features holds column indices \[5\] outside"),
    ("categorical-on-sparse-X", lambda: net(categorical_features=[0]),
     fit(sp.csr_matrix(X), Y), ValueError, "categorical_features needs a dense"),
    ("device-cuda-7", lambda: net(device="cuda:7"), fit(X, Y),
     ValueError, r"device='cuda:7' was requested but"),
    ("device-unknown", lambda: net(device="nope"), fit(X, Y),
     ValueError, "device='nope' is not a torch device"),
    ("architecture-unknown", lambda: net(architecture="nope"), fit(X, Y),
     ValueError, "unknown architecture 'nope'; valid choices are 'aitm', 'cgc'"),
    ("weighting-unknown", lambda: net(weighting="nope"), fit(X, Y),
     ValueError, "unknown weighting 'nope'"),
    ("penalty-unknown", lambda: MultiTaskLinearRegressor(penalty="nope"),
     fit(X, Y), ValueError, "unknown penalty 'nope'"),
    ("alpha-negative", lambda: MultiTaskLinearRegressor(penalty=L21(-1.0)),
     fit(X, Y), ValueError, r"alpha=-1.0 must be in \[0.0, inf\)"),
    ("alphas-negative-cv", lambda: MultiTaskLinearRegressorCV(alphas=[-1, 1], cv=2),
     fit(X, Y), ValueError, "alphas must be a non-empty array of finite values"),
    ("lr-zero", lambda: net(lr=0.0), fit(X, Y), ValueError, "'lr' parameter"),
    ("max-epochs-zero", lambda: net(max_epochs=0), fit(X, Y),
     ValueError, "'max_epochs' parameter"),
    ("batch-size-zero", lambda: net(batch_size=0), fit(X, Y),
     ValueError, "'batch_size' parameter"),
    ("hidden-layer-zero", lambda: net(hidden_layer_sizes=(0,)), fit(X, Y),
     ValueError, "hidden_layer_sizes must hold positive integers"),
    ("unprefixed-extra-parameter", lambda: net(bogus=1), fit(X, Y),
     ValueError, r"unknown parameter\(s\) \['bogus'\]"),
    ("module-parameter-unknown", lambda: net(module__bogus=1), fit(X, Y),
     ValueError, r"unknown parameter\(s\) module__bogus for the architecture "
                 r"HardSharing; it takes module__head_hidden"),
    ("on-divergence-unknown", lambda: net(on_divergence="ignore"), fit(X, Y),
     ValueError, "'on_divergence' parameter"),
    ("estimator-none", lambda: SingleTaskBaseline(None), fit(X, Y),
     TypeError, "estimator must be a scikit-learn estimator"),
    ("tasks-as-strings", lambda: MultiTaskLinearRegressor(tasks=["a", "b"]),
     fit(X, Y), TypeError, "tasks must be Task objects"),
    ("ranking-without-query-ids",
     lambda: net(MultiTaskEstimator, tasks=[Task("r", "ranking", group="query")]),
     fit(X, np.abs(Y[:, 0])), ValueError, "pass the query ids as fit"),
]

if not torch.cuda.is_available():
    FIT_CASES.append(("device-cuda-without-cuda", lambda: net(device="cuda"),
                      fit(X, Y), ValueError, "CUDA is not available"))


def _fitted_attributes(est):
    return sorted(k for k in vars(est)
                  if (k.endswith("_") or k.startswith("_")) and not k.startswith("__")
                  and k not in ("_metadata_request", "_sklearn_output_config"))


def test_the_table_covers_the_families():
    assert len(FIT_CASES) + len(FITTED_CASES) >= 25
    made = {type(make()).__name__ for _, make, *_ in FIT_CASES if make is not None}
    assert {"SingleTaskBaseline", "PooledBaseline", "MultiTaskLinearRegressor",
            "MultiTaskLinearRegressorCV", "MultiTaskLogisticClassifierCV",
            "MultiTaskRegressor", "MultiTaskEstimator",
            "MultiTaskClassifier"} <= made


@pytest.mark.parametrize("make, call, error, match",
                         [case[1:] for case in FIT_CASES],
                         ids=[case[0] for case in FIT_CASES])
def test_bad_fit_input_raises_and_leaves_no_fitted_state(make, call, error, match):
    est = make()
    with pytest.raises(error, match=match):
        call(est)
    assert _fitted_attributes(est) == []
    with pytest.raises(NotFittedError):
        est.predict(X)


# Bad calls on a fitted model: (id, fitted model key, bad call, error, match)
FITTED_CASES = [
    ("unseen-class-at-score-logistic", "logistic",
     lambda est: est.score(X, Y_UNSEEN), ValueError,
     "task 'task_0': label 7 was not seen during fit"),
    ("unseen-class-at-score-neural", "classifier",
     lambda est: est.score(X, Y_UNSEEN), ValueError,
     "task 'task_0': label 7 was not seen during fit"),
    ("unseen-class-at-partial-fit", "classifier",
     lambda est: est.partial_fit(X, Y_UNSEEN), ValueError,
     "task 'task_0': label 7 was not seen during fit"),
    ("partial-fit-Y-width", "classifier",
     lambda est: est.partial_fit(X, Y_CLASSES[:, :1]), ValueError,
     r"y has 1 column\(s\) but the model was fitted on 2"),
    ("predict-features-linear", "linear", lambda est: est.predict(X[:, :2]),
     ValueError, "X has 2 features, but MultiTaskLinearRegressor is expecting 3"),
    ("predict-nan-X-single-task", "single_task", lambda est: est.predict(X_NAN),
     ValueError, "contains NaN"),
    ("predict-image-shape", "images",
     lambda est: est.predict(RNG.rand(3, 1, 10, 10)), ValueError,
     r"samples of shape \(1, 10, 10\) but the network was fitted on samples of "
     r"shape \(1, 8, 8\)"),
    ("predict-flat-X-for-images", "images", lambda est: est.predict(RNG.rand(3, 64)),
     ValueError, r"samples of shape \(64,\) but the network was fitted on samples "
                 r"of shape \(1, 8, 8\)"),
    ("move-to-unknown-device", "regressor", lambda est: est.to("nope"),
     ValueError, "not a torch device"),
]


@pytest.fixture(scope="module")
def fitted():
    return {
        "logistic": MultiTaskLogisticClassifier().fit(X, Y_CLASSES),
        "classifier": net(MultiTaskClassifier, max_epochs=2).fit(X, Y_CLASSES),
        "regressor": net(max_epochs=2).fit(X, Y),
        "linear": MultiTaskLinearRegressor().fit(X, Y),
        "single_task": SingleTaskBaseline(Ridge()).fit(X, Y),
        "images": _image_net().fit(IMAGES, IMAGE_TARGETS),
    }


@pytest.mark.parametrize("key, call, error, match",
                         [case[1:] for case in FITTED_CASES],
                         ids=[case[0] for case in FITTED_CASES])
def test_bad_input_to_a_fitted_model_raises_and_leaves_it_unchanged(
        fitted, key, call, error, match):
    est = fitted[key]
    X_ok = IMAGES if key == "images" else X
    before = est.predict(X_ok)
    n_epochs = len(est.history_) if hasattr(est, "net_") else None
    with pytest.raises(error, match=match):
        call(est)
    np.testing.assert_array_equal(est.predict(X_ok), before)
    if n_epochs is not None:
        assert len(est.history_) == n_epochs


@pytest.mark.parametrize("make, bad", [
    (lambda: SingleTaskBaseline(LogisticRegression()),
     {"estimator": "not an estimator"}),
    (lambda: MultiTaskLinearRegressor(), {"task_weights": {"zz": 1.0}}),
    (lambda: MultiTaskLinearRegressorCV(n_alphas=3, cv=2), {"alphas": [-1.0]}),
    (lambda: net(), {"weighting": "nope"}),
], ids=["single-task", "linear", "linear-cv", "neural"])
def test_failed_refit_leaves_the_estimator_unfitted(make, bad):
    # A fit that fails does not keep the previous model: its parameters no
    # longer describe it. The estimator is cleanly unfitted instead.
    Y_fit = Y_CLASSES if "Logistic" in repr(make()) else Y
    est = make().fit(X, Y_fit)
    est.set_params(**bad)
    with pytest.raises((ValueError, TypeError)):
        est.fit(X, Y_fit)
    assert _fitted_attributes(est) == []
    with pytest.raises(NotFittedError):
        est.predict(X)
    assert est.get_params()[next(iter(bad))] == next(iter(bad.values()))
