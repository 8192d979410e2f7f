"""
===========================================================
Learning how tasks relate: multi-task relationship learning
===========================================================

Which tasks resemble each other is often not known in advance.
:class:`~skmtl.linear.TaskRelationship` (multi-task relationship learning,
MTRL) learns it: its penalty
``alpha/2 [||W||² + gamma tr(W Sigma⁻¹ Wᵀ)]`` couples the tasks' weight
vectors through a task covariance ``Sigma`` that is fitted together with
the weights. Tasks with a large learned correlation borrow strength from
each other; the correlation itself is a result worth looking at.

We generate tasks whose relationships we know (clusters of similar tasks,
then a chain of tasks), and compare the task correlation MTRL learns with
the planted one in a :class:`~skmtl.plotting.TaskSimilarityDisplay`.
"""

# %%
# Nine tasks in three clusters
# ----------------------------
#
# Each task has 100 samples of its own, 20 for training and 80 for testing,
# and weights on 20 features. Tasks in the same cluster have similar weights
# (``task_similarity=0.9``); the clusters are unrelated. We put the tasks of
# a cluster next to each other and name them by cluster, so that the
# planted structure shows as blocks.
import numpy as np
from sklearn.model_selection import train_test_split

from skmtl.datasets import make_multitask_regression

X, Y, planted = make_multitask_regression(
    n_features=20, n_tasks=9, n_informative=20, structure="clusters",
    n_clusters=3, task_similarity=0.9, noise=1.0, samples_per_task=100,
    random_state=0, return_structure=True)
order = np.argsort(planted.clusters, kind="stable")
Y, coef, clusters = Y[:, order], planted.coef[:, order], planted.clusters[order]
names = [f"{'ABC'[c]}{np.sum(clusters[:k] == c) + 1}"
         for k, c in enumerate(clusters)]
task_of_row = np.argmax(~np.isnan(Y), axis=1)
X_train, X_test, Y_train, Y_test, task_train, _ = train_test_split(
    X, Y, task_of_row, train_size=0.2, stratify=task_of_row, random_state=0)
print("tasks:", names)
print("training rows per task:", np.bincount(task_train))

# %%
# Fit MTRL and its baselines
# --------------------------
#
# ``alpha`` is chosen by cross-validation over folds stratified by task;
# ``relationship_ratio`` (``gamma`` above) is left at 10, which makes the
# learned covariance matter more than the plain ridge part. The baselines
# are a ridge model per task (no sharing) and one ridge model for all tasks.
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import StratifiedKFold

from skmtl import PooledBaseline, SingleTaskBaseline
from skmtl.linear import MultiTaskLinearRegressorCV, TaskRelationship


def fit_models(X_train, Y_train, task_train):
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(
        X_train, task_train))
    ridge_alphas = np.logspace(-2, 3, 12)
    models = {
        "single-task ridge": SingleTaskBaseline(RidgeCV(alphas=ridge_alphas)),
        "pooled ridge": PooledBaseline(RidgeCV(alphas=ridge_alphas),
                                       task_indicators=True),
        "TaskRelationship": MultiTaskLinearRegressorCV(
            TaskRelationship(relationship_ratio=10.0),
            alphas=np.logspace(-5, 1, 25), cv=folds),
    }
    return {name: model.fit(X_train, Y_train) for name, model in models.items()}


models = fit_models(X_train, Y_train, task_train)

# %%
# The learned task correlation
# ----------------------------
#
# Left, the correlation of the planted weight vectors; middle, the task
# correlation MTRL learned (``task_correlation_``, drawn by
# :meth:`~skmtl.plotting.TaskSimilarityDisplay.from_estimator`); right, for
# comparison, the cosine similarity of the weights of the single-task ridge
# models, each fitted alone on 20 rows.
import matplotlib.pyplot as plt

from skmtl.plotting import TaskSimilarityDisplay


def compare_similarities(coef, models, names, title):
    fig, axes = plt.subplots(1, 3, figsize=(13, 4), layout="constrained")
    displays = [
        TaskSimilarityDisplay(np.corrcoef(coef.T), task_names=names).plot(
            ax=axes[0], colorbar=False, include_values=False),
        TaskSimilarityDisplay.from_estimator(
            models["TaskRelationship"], task_names=names, ax=axes[1],
            colorbar=False, include_values=False),
        TaskSimilarityDisplay.from_estimator(
            models["single-task ridge"], task_names=names, ax=axes[2],
            include_values=False),
    ]
    for ax, label in zip(axes, ["planted (correlation of the weights)",
                                "learned by TaskRelationship",
                                "cosine of single-task ridge weights"]):
        ax.set_title(label)
    fig.suptitle(title)
    plt.show()
    return [display.im_.get_array() for display in displays]


planted_corr, learned, single = compare_similarities(
    coef, models, names, "Nine tasks in three clusters")

# %%
# The three blocks of the planted structure stand out in what MTRL learned.
# The single-task weights show them as well (these clusters are far apart),
# and follow the planted correlation about as closely (the correlation of
# their off-diagonal entries with the planted ones, below). What MTRL adds
# is that it *uses* the relationships while fitting: each task borrows from
# the tasks of its cluster, and the test R² (on the held-out rows, averaged
# over tasks) rises well above that of the ridge models. Pooling all tasks
# into one model ignores the clusters and fails.
import pandas as pd

from skmtl.metrics import make_multitask_scorer

r2 = make_multitask_scorer("r2")


def summary(planted_corr, learned, single, models):
    off_diagonal = np.triu_indices(len(planted_corr), k=1)

    def agreement(matrix):
        return np.corrcoef(np.asarray(matrix)[off_diagonal],
                           planted_corr[off_diagonal])[0, 1]

    return pd.DataFrame({
        "agreement with planted": {"TaskRelationship": agreement(learned),
                                   "single-task ridge": agreement(single)},
        "test R²": {name: r2(model, X_test, Y_test)
                    for name, model in models.items()},
    }).round(3).to_string(na_rep="")


print(summary(planted_corr, learned, single, models))

# %%
# A chain of tasks
# ----------------
#
# With ``structure="graph"`` the tasks lie on a chain: each task's weights
# are a small step from its neighbour's, so a task resembles its neighbours
# strongly and distant tasks weakly. MTRL is not told about the chain; the
# band along the diagonal of its learned correlation shows that it found it,
# and here it follows the planted correlation more closely than the
# single-task weights do. Neighbouring tasks are similar enough for the
# pooled model to do better than single-task models, but not as well as
# MTRL, which shares along the chain only.
X, Y, planted = make_multitask_regression(
    n_features=20, n_tasks=8, n_informative=20, structure="graph",
    task_similarity=0.9, noise=1.0, samples_per_task=100, random_state=0,
    return_structure=True)
task_of_row = np.argmax(~np.isnan(Y), axis=1)
X_train, X_test, Y_train, Y_test, task_train, _ = train_test_split(
    X, Y, task_of_row, train_size=0.2, stratify=task_of_row, random_state=0)
models = fit_models(X_train, Y_train, task_train)
names = [f"t{k}" for k in range(8)]
print(summary(*compare_similarities(planted.coef, models, names,
                                    "Eight tasks on a chain"), models))
