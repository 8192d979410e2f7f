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

It ends on real data: the look-ahead affinity of a network trained on three
tasks about penguins.
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

# %%
# On real data: three tasks about penguins
# ----------------------------------------
#
# The Palmer penguins carry three labels of mixed types: the species
# (classification), the sex (binary, missing for some birds) and the body mass
# (regression). A small network with a shared layer learns them together;
# ``method="lookahead"`` measures the affinity inside one training run: every
# batch, a gradient step on one task's loss alone is tried and the change of
# every task's loss recorded (Fifty et al. 2021).
from sklearn.preprocessing import StandardScaler

from skmtl.datasets import load_penguins
from skmtl.neural import MultiTaskEstimator

penguins = load_penguins()
X_penguins = StandardScaler().fit_transform(penguins.data)
network = MultiTaskEstimator(tasks=penguins.tasks, hidden_layer_sizes=(32,),
                             lr=0.01, max_epochs=30, batch_size=32,
                             random_state=0, n_threads=1)
penguin_affinity = task_affinity(network, X_penguins, penguins.target,
                                 method="lookahead")
plot_task_affinity(penguin_affinity,
                   task_names=[t.name for t in penguins.tasks],
                   values_format=".4f")
plt.title("Look-ahead affinity of the penguin tasks")
plt.tight_layout()

# %%
# Each row is the task stepped on, each column the task affected; the
# diagonal is a task's effect on itself. Learning the sex helps the two
# others a little, and no task hurts another. The transfer report confirms it
# on held-out birds: the shared network is at least as good as one model per
# task on every task.
print(transfer_report(network, X_penguins, penguins.target, cv=5))
