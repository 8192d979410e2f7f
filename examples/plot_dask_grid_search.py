"""
=====================================================
Tuning task weights on a Dask cluster
=====================================================

How much should each task count in a multi-task network's loss? A grid
search over ``task_weights`` answers it by cross-validation, at the price of
one network per candidate and fold. Those fits are independent, so they can
run anywhere: scikit-learn's ``GridSearchCV`` sends them through joblib, and
``joblib.parallel_config(backend="dask")`` sends joblib's jobs to a Dask
cluster. Nothing in the estimator changes, and the results are the ones of
a local run.

Here the cluster is a ``LocalCluster`` of two worker processes on this
machine; on a real cluster only the ``Client`` line changes. A script that
starts worker processes needs the ``if __name__ == "__main__":`` guard:
each worker imports the main module, and must not start a cluster of its
own.
"""

# %%
# Three tasks, one of them noisy
# ------------------------------
#
# Three regression tasks share their relevant features; the third one is
# measured with ten times more noise, and a fifth of the labels are missing.
import numpy as np

from skmtl.datasets import make_multitask_regression

X, Y = make_multitask_regression(n_samples=300, n_features=10, n_tasks=3,
                                 n_informative=4, missing_rate=0.2, noise=0.3,
                                 random_state=0)
Y[:, 2] += 3.0 * np.random.RandomState(1).randn(len(Y))

# %%
# Start a local Dask cluster
# --------------------------
#
# Two worker processes with one thread each (the networks are small: one
# torch thread per fit is fastest, ``n_threads=1`` below).
from distributed import Client, LocalCluster

if __name__ == "__main__":
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address=None)
    client = Client(cluster)
    print(client)

# %%
# The grid search, on the cluster
# -------------------------------
#
# Five candidate weightings of the noisy task, three folds: fifteen
# networks. ``make_multitask_scorer`` averages each task's R² over its
# labelled entries (the plain ``"r2"`` string would be wrong with missing
# labels).
from joblib import parallel_config
from sklearn.model_selection import GridSearchCV, KFold

from skmtl.metrics import make_multitask_scorer
from skmtl.neural import MultiTaskRegressor

net = MultiTaskRegressor(hidden_layer_sizes=(32,), lr=0.01, max_epochs=20,
                         batch_size=32, n_threads=1, random_state=0)
grid = {"task_weights": [(1, 1, w) for w in (0.0, 0.1, 0.3, 1.0, 3.0)]}
search = GridSearchCV(net, grid, scoring=make_multitask_scorer(),
                      cv=KFold(3, shuffle=True, random_state=0), n_jobs=2)

if __name__ == "__main__":
    with parallel_config(backend="dask"):
        search.fit(X, Y)
    for params, score in zip(search.cv_results_["params"],
                             search.cv_results_["mean_test_score"]):
        print(f"task_weights={params['task_weights']}: mean R² {score:.3f}")

# %%
# Same results as a local run
# ---------------------------
#
# With ``random_state`` set, each fit computes the same floats in a Dask
# worker as in a local process.
from sklearn.base import clone

if __name__ == "__main__":
    local = clone(search).fit(X, Y)
    same = np.array_equal(local.cv_results_["mean_test_score"],
                          search.cv_results_["mean_test_score"])
    print("identical to the default backend:", same)

# %%
# Which weight for the noisy task?
# --------------------------------
#
# The score is the mean R² over the three tasks on held-out rows. A weight
# of 0 leaves the noisy task's head untrained; a large weight lets its noise
# shape the shared layer that the two clean tasks rely on.
import matplotlib.pyplot as plt

if __name__ == "__main__":
    weights = [w[2] for w in search.cv_results_["param_task_weights"]]
    mean = search.cv_results_["mean_test_score"]
    std = search.cv_results_["std_test_score"]
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.errorbar(range(len(weights)), mean, yerr=std, marker="o", capsize=3)
    ax.set_xticks(range(len(weights)), [str(w) for w in weights])
    ax.set_xlabel("weight of the noisy task")
    ax.set_ylabel("mean R² over tasks (3-fold CV)")
    fig.tight_layout()

# %%
# A linear model's regularization path, fold by fold
# --------------------------------------------------
#
# The ``...CV`` linear estimators fit one warm-started path per fold, the
# folds in parallel (``n_jobs``): the same ``parallel_config`` moves them to
# the cluster.
from skmtl.linear import MultiTaskLinearRegressorCV

if __name__ == "__main__":
    with parallel_config(backend="dask"):
        linear = MultiTaskLinearRegressorCV("l21", n_alphas=20, cv=3,
                                            n_jobs=2).fit(X, Y)
    best = linear.mse_path_.mean(axis=1).min()
    print(f"chosen alpha: {linear.alpha_:.4f} (cross-validated masked MSE "
          f"{best:.3f})")
    client.close()
    cluster.close()
