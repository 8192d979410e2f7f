"""
==========================================================
Does sharing help? Baselines and the multi-task scorer
==========================================================

Multi-task learning pays off when each task has few labels and the tasks are
related. Before reaching for a multi-task model, measure the two extremes it
sits between:

* :class:`~skmtl.SingleTaskBaseline`, one model per task (no sharing), and
* :class:`~skmtl.PooledBaseline`, one model for all tasks (full sharing).

This example compares them on generated tasks that each have their own
samples, scores them correctly on the NaN-masked targets, and shows task by
task where sharing helps.
"""

# %%
# Eight tasks with their own samples
# ----------------------------------
#
# Each task has 30 samples of its own: a row of ``Y`` is labelled for one
# task and ``NaN`` for the others. The tasks depend on the same 5 of the 30
# features, with similar weights (``task_similarity=0.95``).
import numpy as np

from skmtl.datasets import make_multitask_regression

X, Y, planted = make_multitask_regression(
    n_features=30, n_tasks=8, n_informative=5, task_similarity=0.95,
    noise=1.0, samples_per_task=30, random_state=0, return_structure=True)
task_index = np.argmax(~np.isnan(Y), axis=1)  # the task of each row
print(X.shape, Y.shape)
print(Y[28:32].round(1))

# %%
# Score with the multi-task scorer, not with ``"r2"``
# ---------------------------------------------------
#
# scikit-learn's ``"r2"`` string scores every entry of ``Y``, ``NaN``
# included: every fold fails, and ``cross_val_score`` reports ``nan``.
# :func:`~skmtl.metrics.make_multitask_scorer` scores each task on its
# labelled rows and averages the tasks.
#
# The folds are stratified by task, so that every task has training rows in
# every fold.
import warnings

from sklearn.linear_model import RidgeCV
from sklearn.model_selection import StratifiedKFold, cross_val_score

from skmtl import PooledBaseline, SingleTaskBaseline
from skmtl.metrics import make_multitask_scorer

cv = list(StratifiedKFold(5, shuffle=True, random_state=0).split(X, task_index))
alphas = np.logspace(-2, 3, 12)
single = SingleTaskBaseline(RidgeCV(alphas=alphas))

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # "Scoring failed" on every fold
    print("plain 'r2':   ", cross_val_score(single, X, Y, cv=cv, scoring="r2"))
scorer = make_multitask_scorer("r2")
print("masked R2:    ", cross_val_score(single, X, Y, cv=cv, scoring=scorer).round(3))

# %%
# Single-task against pooled, task by task
# ----------------------------------------
#
# :func:`~skmtl.metrics.make_per_task_scorers` gives one scorer per task for
# ``cross_validate``. The pooled model gets one indicator column per task, so
# that it can learn a per-task offset.
import pandas as pd
from sklearn.model_selection import cross_validate

from skmtl.metrics import make_per_task_scorers

models = {
    "single-task": single,
    "pooled": PooledBaseline(RidgeCV(alphas=alphas), task_indicators=True),
}
task_names = [f"task_{k}" for k in range(Y.shape[1])]
scoring = make_per_task_scorers(task_names, "r2")
table = pd.DataFrame({
    name: {task: cross_validate(model, X, Y, cv=cv, scoring=scoring)[
        f"test_{task}"].mean() for task in task_names + ["mean"]}
    for name, model in models.items()})
print(table.round(3))

# %%
# With 30 samples for 30 features, a model per task has too little data;
# the tasks are nearly alike, so pooling their samples wins on most tasks.
#
# On a held-out split, :class:`~skmtl.plotting.PerTaskScoreDisplay` draws
# the comparison; ``relative_to`` shows the gain over the single-task models,
# and bars below zero would be negative transfer.
import matplotlib.pyplot as plt

from skmtl.plotting import PerTaskScoreDisplay

train, test = cv[0]
fitted = {name: model.fit(X[train], Y[train]) for name, model in models.items()}

fig, (ax_scores, ax_gain) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
PerTaskScoreDisplay.from_estimators(fitted, X[test], Y[test], metric="r2",
                                    ax=ax_scores)
ax_scores.set_title("Held-out R² per task")
PerTaskScoreDisplay.from_estimators(fitted, X[test], Y[test], metric="r2",
                                    relative_to="single-task", ax=ax_gain)
ax_gain.set_title("Gain of pooling over single-task models")
for ax in (ax_scores, ax_gain):
    ax.tick_params(axis="x", labelrotation=45)
plt.show()

# %%
# What the single-task models learned
# -----------------------------------
#
# The tasks share their relevant features, but each single-task model looks
# for them on its own, from 24 training samples. The heatmap of the 10
# features with the largest coefficients across tasks mixes the planted
# features (full rows, same sign in every task) with spurious ones (weaker,
# of changing sign): the noise that a model choosing the features of all
# tasks at once would remove.
from skmtl.plotting import CoefficientHeatmapDisplay

fig, ax = plt.subplots(layout="constrained")
display = CoefficientHeatmapDisplay.from_estimator(fitted["single-task"],
                                                   max_features=10, ax=ax)
ax.set_title("Single-task coefficients (10 strongest features)")
print("planted support:", planted.support)
print("strongest rows: ", display.feature_indices_)
print("planted features among them:",
      np.isin(planted.support, display.feature_indices_).sum(), "of 5")
plt.show()

# %%
# When the tasks are not alike
# ----------------------------
#
# The same comparison on tasks with unrelated weights (``task_similarity=0``)
# turns around: pooling forces one model on tasks that differ, and loses to
# the single-task models. Whether sharing helps depends on the tasks; the
# per-task comparison is how to find out.
for similarity in (0.95, 0.5, 0.0):
    X_s, Y_s = make_multitask_regression(
        n_features=30, n_tasks=8, n_informative=5, task_similarity=similarity,
        noise=1.0, samples_per_task=30, random_state=0)
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(
        X_s, np.argmax(~np.isnan(Y_s), axis=1)))
    scores = {name: cross_val_score(model, X_s, Y_s, cv=folds,
                                    scoring=scorer).mean()
              for name, model in models.items()}
    print(f"task_similarity={similarity:4}: "
          + ", ".join(f"{name} {score:.3f}" for name, score in scores.items()))
