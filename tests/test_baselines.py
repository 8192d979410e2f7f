"""SingleTaskBaseline and PooledBaseline against the models they reduce to."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.svm import SVR

from skmtl import PooledBaseline, SingleTaskBaseline, Task, stack_tasks


def _data(seed=0, n=80, p=4, k=3, missing=0.3):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, p)
    Y = X @ rng.randn(p, k) + 0.1 * rng.randn(n, k)
    Y[rng.rand(n, k) < missing] = np.nan
    return X, Y


def test_single_task_equals_one_sklearn_fit_per_task_on_labelled_rows():
    X, Y = _data()
    est = SingleTaskBaseline(Ridge(alpha=2.0)).fit(X, Y)
    for k in range(Y.shape[1]):
        rows = ~np.isnan(Y[:, k])
        ref = Ridge(alpha=2.0).fit(X[rows], Y[rows, k])
        np.testing.assert_allclose(est.estimators_[k].coef_, ref.coef_)
        np.testing.assert_allclose(est.predict(X)[:, k], ref.predict(X))


def test_single_task_parallel_equals_sequential_and_sample_weight_is_repetition():
    X, Y = _data(1)
    sequential = SingleTaskBaseline(Ridge()).fit(X, Y).predict(X)
    parallel = SingleTaskBaseline(Ridge(), n_jobs=2).fit(X, Y).predict(X)
    np.testing.assert_allclose(parallel, sequential)
    w = np.r_[np.full(40, 2.0), np.ones(40)]
    weighted = SingleTaskBaseline(Ridge()).fit(X, Y, sample_weight=w)
    repeated = SingleTaskBaseline(Ridge()).fit(np.r_[X[:40], X], np.r_[Y[:40], Y])
    np.testing.assert_allclose(weighted.predict(X), repeated.predict(X))


def test_multi_output_task_uses_rows_with_every_output_labelled():
    X, Y = _data(2, k=4, missing=0.0)
    Y[:10, 1] = np.nan  # rows 0-9 are only partly labelled for the box
    tasks = [Task("a"), Task("box", n_outputs=3)]
    est = SingleTaskBaseline(SVR(), tasks=tasks).fit(X, Y)
    box_model = est.estimators_[1]
    assert type(box_model).__name__ == "MultiOutputRegressor"  # SVR is single-output
    ref = SVR().fit(X[10:], Y[10:, 1])
    np.testing.assert_allclose(est.predict(X)[:, 1], ref.predict(X))
    assert est.predict(X).shape == (80, 4)


def test_mixed_task_types_with_a_dict_of_estimators():
    rng = np.random.RandomState(3)
    X = rng.randn(120, 3)
    Y = np.empty((120, 2), dtype=object)
    Y[:, 0] = X[:, 0] * 2.0
    Y[:, 1] = np.where(X[:, 1] > 0, "up", "down")
    Y[::4, 1] = None
    Y[1::5, 0] = np.nan
    tasks = [Task("size"), Task("direction", "classification")]
    est = SingleTaskBaseline({"regression": LinearRegression(),
                              "classification": LogisticRegression()}, tasks=tasks)
    est.fit(X, Y)
    assert est.__sklearn_tags__().estimator_type is None
    Y_pred = est.predict(X)
    assert Y_pred.dtype == object
    np.testing.assert_allclose(Y_pred[:, 0].astype(float), X[:, 0] * 2.0)
    assert set(Y_pred[:, 1]) == {"up", "down"}
    assert est.score(X, Y) > 0.95
    proba = est.predict_proba(X)
    assert proba[0] is None and proba[1].shape == (120, 2)
    with pytest.raises(ValueError, match="no entry for task 'size'"):
        SingleTaskBaseline({"classification": LogisticRegression()},
                           tasks=tasks).fit(X, Y)


def test_declared_class_absent_from_training_gets_zero_probability():
    rng = np.random.RandomState(4)
    X = rng.randn(60, 2)
    y = (X[:, 0] > 0).astype(float)
    est = SingleTaskBaseline(LogisticRegression(),
                             tasks=[Task("d", "classification", classes=[0, 1, 2])])
    proba = est.fit(X, y).predict_proba(X)
    assert proba.shape == (60, 3)
    np.testing.assert_array_equal(proba[:, 2], 0.0)
    np.testing.assert_array_equal(est.classes_, [0, 1, 2])


def test_pooled_equals_one_model_on_the_long_table():
    X, Y = _data(5)
    est = PooledBaseline(Ridge(alpha=0.5)).fit(X, Y)
    rows = [np.flatnonzero(~np.isnan(Y[:, k])) for k in range(3)]
    X_long = np.vstack([X[r] for r in rows])
    y_long = np.concatenate([Y[r, k] for k, r in enumerate(rows)])
    ref = Ridge(alpha=0.5).fit(X_long, y_long)
    np.testing.assert_allclose(est.estimator_.coef_, ref.coef_)
    for k in range(3):
        np.testing.assert_allclose(est.predict(X)[:, k], ref.predict(X))


def test_pooled_task_indicators_learn_per_task_offsets():
    rng = np.random.RandomState(6)
    Xs = [rng.randn(30, 2) for _ in range(3)]
    ys = [x @ [1.0, -1.0] + offset for x, offset in zip(Xs, (0.0, 5.0, -3.0))]
    X, Y = stack_tasks(Xs, ys)
    with_indicators = PooledBaseline(LinearRegression(), task_indicators=True)
    Y_pred = with_indicators.fit(X, Y).predict(np.zeros((1, 2)))
    np.testing.assert_allclose(Y_pred[0], [0.0, 5.0, -3.0], atol=1e-8)
    without = PooledBaseline(LinearRegression()).fit(X, Y).predict(np.zeros((1, 2)))
    # Without indicators every task gets the same prediction, near the
    # average offset rather than its own.
    np.testing.assert_allclose(without[0], without[0, 0])
    assert abs(without[0, 1] - 5.0) > 3.0 and abs(without[0, 0] - 2 / 3) < 0.1
    sparse = PooledBaseline(LinearRegression(), task_indicators=True)
    np.testing.assert_allclose(sparse.fit(sp.csr_matrix(X), Y).predict(
        sp.csr_matrix(np.zeros((1, 2)))), Y_pred, atol=1e-8)


def test_pooled_classification_predicts_within_each_tasks_classes():
    rng = np.random.RandomState(7)
    X = rng.randn(100, 2)
    Y = np.full((100, 2), np.nan)
    Y[:50, 0] = (X[:50, 0] > 0).astype(float)          # classes 0, 1
    Y[50:, 1] = 1.0 + 2 * (X[50:, 0] > 0)              # classes 1, 3
    est = PooledBaseline(LogisticRegression()).fit(X, Y)
    Y_pred = est.predict(X)
    assert set(np.unique(Y_pred[:, 0])) <= {0, 1}
    assert set(np.unique(Y_pred[:, 1])) <= {1, 3}
    proba = est.predict_proba(X)
    np.testing.assert_allclose(proba[1].sum(axis=1), 1.0)
    with pytest.raises(ValueError, match=r"cannot pool tasks of different kinds "
                                         r"into one model \(classifier tasks "
                                         r"\['b'\]; regressor tasks \['a'\]\)"):
        PooledBaseline(LogisticRegression(), tasks=[Task("a"), Task(
            "b", "classification")]).fit(X, np.nan_to_num(Y))
    with pytest.raises(ValueError, match="estimator dict has no entry for task "
                                         "'task_0'"):
        PooledBaseline({"binary": LogisticRegression()}).fit(X, np.nan_to_num(Y))


def test_pooled_mixed_types_pool_each_kind_into_its_own_model():
    """One pooled model per dict entry: each equals the pooled model of its
    tasks alone."""
    rng = np.random.RandomState(8)
    X = rng.randn(120, 3)
    Y = np.full((120, 4), np.nan)
    Y[:60, 0] = X[:60] @ [1.0, 2.0, 0.0]
    Y[60:, 1] = X[60:] @ [1.0, 1.5, 0.5] + 3.0
    Y[::2, 2] = (X[::2, 0] > 0).astype(float)
    Y[1::2, 3] = (X[1::2, 1] > 0).astype(float)
    tasks = [Task("a"), Task("b"), Task("c", "binary"), Task("d", "binary")]
    mixed = PooledBaseline({"regressor": Ridge(), "binary": LogisticRegression()},
                           tasks=tasks, task_indicators=True).fit(X, Y)
    assert set(mixed.named_estimators_) == {"regressor", "binary"}
    assert not hasattr(mixed, "estimator_")
    regression = PooledBaseline(Ridge(), tasks=tasks[:2],
                                task_indicators=True).fit(X, Y[:, :2])
    binary = PooledBaseline(LogisticRegression(), tasks=tasks[2:],
                            task_indicators=True).fit(X, Y[:, 2:])
    Y_pred = mixed.predict(X)
    np.testing.assert_allclose(Y_pred[:, :2].astype(float), regression.predict(X))
    np.testing.assert_array_equal(Y_pred[:, 2:], binary.predict(X))
    proba = mixed.predict_proba(X)
    assert proba[0] is None and proba[1] is None
    np.testing.assert_allclose(proba[3], binary.predict_proba(X)[1])
    assert mixed.score(X, Y) > 0.8
    clone_of = pickle.loads(pickle.dumps(mixed))
    np.testing.assert_array_equal(clone_of.predict(X), Y_pred)


def test_regressor_baselines_hide_predict_proba():
    assert not hasattr(SingleTaskBaseline(Ridge()), "predict_proba")
    assert not hasattr(PooledBaseline(Ridge()), "predict_proba")
    assert hasattr(SingleTaskBaseline(LogisticRegression()), "predict_proba")


def test_pooled_n_jobs_reaches_the_pooled_estimator_only_when_it_has_one():
    from sklearn.ensemble import RandomForestRegressor

    from skmtl.datasets import make_multitask_regression

    X, Y = make_multitask_regression(n_samples=40, n_features=6, n_tasks=2,
                                     random_state=0)
    forest = PooledBaseline(RandomForestRegressor(n_estimators=3, random_state=0),
                            n_jobs=2).fit(X, Y)
    assert forest.estimator_.n_jobs == 2 and forest.estimator.n_jobs is None
    ridge = PooledBaseline(Ridge(), n_jobs=2).fit(X, Y)  # no n_jobs: left alone
    np.testing.assert_allclose(ridge.predict(X), PooledBaseline(Ridge()).fit(
        X, Y).predict(X))
    assert PooledBaseline(RandomForestRegressor()).get_params()["n_jobs"] is None
