"""
=====================================================
Which tasks should be trained together?
=====================================================

Training tasks together helps when they are related and hurts when they are
not (*negative transfer*). This example measures both on generated tasks
that fall into two planted clusters:

1. a **transfer report** compares a model that shares everything with
   single-task training, task by task;
2. a **task affinity** matrix measures how much learning task *i* helps
   task *j*;
3. :func:`~skmtl.model_selection.suggest_task_groups` turns the affinity
   into groups of tasks to train together, and recovers the clusters.
"""

# %%
# Six tasks in two clusters
# -------------------------
#
# Each task has 25 samples of its own. Tasks of one cluster have nearly the
# same weights; the two clusters have unrelated weights.
import numpy as np

from skmtl.datasets import make_multitask_regression

X, Y, planted = make_multitask_regression(
    n_features=10, n_tasks=6, n_informative=6, structure="clusters",
    n_clusters=2, task_similarity=0.97, samples_per_task=25, noise=0.5,
    random_state=0, return_structure=True)
print("planted clusters:", planted.clusters)

# %%
# Pooling all tasks: a transfer report
# ------------------------------------
#
# A pooled ridge model (one model for all tasks, with a per-task offset) is
# the crudest way to share. The report cross-validates it next to one ridge
# model per task; each task's score gain comes with a standard error
# corrected for overlapping training folds.
import matplotlib.pyplot as plt
from sklearn.linear_model import RidgeCV

from skmtl import PooledBaseline
from skmtl.model_selection import transfer_report
from skmtl.plotting import TransferReportDisplay

pooled = PooledBaseline(RidgeCV(), task_indicators=True)
report = transfer_report(pooled, X, Y, cv=5, pooled=None)
print(report)
TransferReportDisplay.from_report(report)
plt.title("Pooling six tasks from two clusters")
plt.tight_layout()

# %%
# Pooling everything hurts: each task is pulled towards the other cluster.
#
# Task affinity
# -------------
#
# ``task_affinity`` fits the pooled model on every pair of tasks and
# measures, with cross-validation, how much each task gains from its
# partner compared with being learned alone.
from skmtl.model_selection import suggest_task_groups, task_affinity
from skmtl.plotting import plot_task_affinity

affinity = task_affinity(pooled, X, Y, cv=3)
plot_task_affinity(affinity)
plt.title("Gain of task j when trained with task i")
plt.tight_layout()

# %%
# Groups to train together
# ------------------------
#
# The partition into two groups that maximises the affinity within groups
# is the planted one.
groups = suggest_task_groups(affinity, n_groups=2)
print("suggested groups:", groups)
print("planted groups:  ", [np.flatnonzero(planted.clusters == c).tolist()
                            for c in np.unique(planted.clusters)])

# %%
# Training each group on its own removes the negative transfer: pool the
# tasks of each suggested group and compare with single-task training again.
gains = np.empty(Y.shape[1])
for group in groups:
    rows = ~np.isnan(Y[:, group]).all(axis=1)
    group_report = transfer_report(pooled, X[rows], Y[np.ix_(rows, group)], cv=5,
                                   pooled=None)
    gains[group] = group_report.difference
print("gain of grouped pooling per task:", gains.round(3))
print("gain of pooling everything:      ", report.difference.round(3))
