"""Loops over folds, tasks and alphas run on a Dask cluster through joblib.

Skipped when ``dask[distributed]`` is not installed (the ``dask`` extra).
"""

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold

from skmtl import PooledBaseline, SingleTaskBaseline
from skmtl.datasets import make_multitask_regression
from skmtl.metrics import make_multitask_scorer
from skmtl.model_selection import transfer_report

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
