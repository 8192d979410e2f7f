"""Loops over folds, tasks and alphas run on a Dask cluster through joblib.

Skipped when ``dask[distributed]`` is not installed (the ``dask`` extra).
"""

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold

from skmtl import (
    MultiTaskLinearRegressorCV,
    MultiTaskLogisticClassifierCV,
    PooledBaseline,
    SingleTaskBaseline,
)
from skmtl.datasets import make_multitask_classification, make_multitask_regression
from skmtl.metrics import make_multitask_scorer
from skmtl.model_selection import task_affinity, transfer_report

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def dask_client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1,
                                       processes=True, host="127.0.0.1",
                                       dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def _data():
    return make_multitask_regression(n_samples=90, n_features=6, n_tasks=3,
                                     missing_rate=0.2, random_state=0)


def test_grid_search_on_dask_equals_default_backend(dask_client):
    X, Y = _data()
    search = GridSearchCV(SingleTaskBaseline(Ridge()),
                          {"estimator__alpha": [0.01, 1.0, 100.0]},
                          scoring=make_multitask_scorer(), cv=KFold(3), n_jobs=2)
    local = search.fit(X, Y).cv_results_["mean_test_score"]
    with parallel_config(backend="dask"):
        remote = search.fit(X, Y).cv_results_["mean_test_score"]
    np.testing.assert_allclose(remote, local)
    assert len(dask_client.scheduler_info()["workers"]) == 2


def test_task_loop_and_transfer_report_on_dask(dask_client):
    X, Y = _data()
    local = SingleTaskBaseline(Ridge(), n_jobs=2).fit(X, Y).predict(X)
    local_report = transfer_report(PooledBaseline(Ridge()), X, Y, n_jobs=2)
    with parallel_config(backend="dask"):
        remote = SingleTaskBaseline(Ridge(), n_jobs=2).fit(X, Y).predict(X)
        remote_report = transfer_report(PooledBaseline(Ridge()), X, Y, n_jobs=2)
    np.testing.assert_allclose(remote, local)
    np.testing.assert_allclose(remote_report.difference, local_report.difference)


def test_grid_search_over_network_task_weights_on_dask(dask_client):
    from skmtl.neural import MultiTaskEstimator

    X, Y = _data()
    # tiny networks, one torch thread: the same floats in every process
    net = MultiTaskEstimator(hidden_layer_sizes=(8,), lr=0.02, max_epochs=5,
                             batch_size=32, random_state=0, n_threads=1)
    search = GridSearchCV(net, {"task_weights": [(1, 1, 1), (1, 3, 1), (3, 1, 1)]},
                          scoring=make_multitask_scorer(), cv=KFold(3), n_jobs=2)
    local = clone(search).fit(X, Y)
    with parallel_config(backend="dask"):
        remote = clone(search).fit(X, Y)
    scores = local.cv_results_["mean_test_score"]
    assert np.unique(scores).size == 3  # the weights matter
    np.testing.assert_array_equal(remote.cv_results_["mean_test_score"], scores)
    assert remote.best_params_ == local.best_params_
    np.testing.assert_array_equal(remote.predict(X), local.predict(X))


def test_linear_cv_folds_on_dask(dask_client):
    X, Y = _data()
    local = MultiTaskLinearRegressorCV("l21", n_alphas=6, cv=3, n_jobs=2).fit(X, Y)
    with parallel_config(backend="dask"):
        remote = MultiTaskLinearRegressorCV("l21", n_alphas=6, cv=3,
                                            n_jobs=2).fit(X, Y)
    np.testing.assert_array_equal(remote.mse_path_, local.mse_path_)
    assert remote.alpha_ == local.alpha_
    np.testing.assert_array_equal(remote.coef_, local.coef_)

    Xc, Yc = make_multitask_classification(n_samples=90, n_tasks=2, class_sep=2.0,
                                           random_state=0)
    local = MultiTaskLogisticClassifierCV(n_alphas=3, cv=3, n_jobs=2).fit(Xc, Yc)
    with parallel_config(backend="dask"):
        remote = MultiTaskLogisticClassifierCV(n_alphas=3, cv=3, n_jobs=2).fit(Xc, Yc)
    np.testing.assert_array_equal(remote.scores_path_, local.scores_path_)


def test_task_affinity_on_dask(dask_client):
    X, Y = _data()
    local = task_affinity(SingleTaskBaseline(Ridge()), X, Y, n_jobs=2)
    with parallel_config(backend="dask"):
        remote = task_affinity(SingleTaskBaseline(Ridge()), X, Y, n_jobs=2)
    np.testing.assert_allclose(remote, local)
