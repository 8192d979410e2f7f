"""
===========================================
Cross-validating task weights in a pipeline
===========================================

A network trained on several tasks minimizes ``sum_k lambda_k L_k``; the
task weights ``lambda_k`` say how much each task matters. They are
hyper-parameters like any other: ``task_weights`` is a parameter of
:class:`~skmtl.neural.MultiTaskEstimator`, so ``GridSearchCV`` can choose it,
inside a ``Pipeline``, scored on the task we care about.

The setting here is the common one of a *main* task with few labels and an
*auxiliary* task with many: the auxiliary task is there only to help the
network learn features that the main task needs. Its weight decides how
much it may shape them.
"""

# %%
# A main task with 40 labels, an auxiliary task with 1000
# --------------------------------------------------------
#
# Both tasks read the same two hidden factors ``H`` of the 50 features. The
# main task is one combination of them, observed for 40 of the 1000 training
# rows (``NaN`` elsewhere); the auxiliary task has two outputs, two other
# combinations, observed on every row. A test set of 1000 rows with the main
# label scores the final model.
import numpy as np

rng = np.random.RandomState(0)
X = rng.randn(2000, 50)
H = np.tanh(X @ rng.randn(50, 2) / np.sqrt(50) * 2)
main = H @ rng.randn(2)
auxiliary = H @ rng.randn(2, 2)
Y = np.column_stack([main, auxiliary])
Y = Y / Y.std(axis=0) + 0.3 * rng.randn(*Y.shape)

X_train, Y_train, X_test, Y_test = X[:1000], Y[:1000].copy(), X[1000:], Y[1000:]
Y_train[rng.permutation(1000)[40:], 0] = np.nan
print("main labels:", np.sum(~np.isnan(Y_train[:, 0])),
      " auxiliary labels:", np.sum(~np.isnan(Y_train[:, 1])))

# %%
# The pipeline and the scorer
# ---------------------------
#
# A ``StandardScaler`` and a small network with a shared hidden layer of 8
# units and a head per task. The tasks are named, so that their weights can
# be set by name. The scorer scores the main task alone
# (:func:`~skmtl.metrics.make_multitask_scorer` with ``task="main"``), on
# its labelled rows only. The folds are stratified on whether a row has a
# main label, so that each fold tests on 10 of them.
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmtl import Task
from skmtl.metrics import make_multitask_scorer
from skmtl.neural import MultiTaskEstimator

tasks = [Task("main"), Task("auxiliary", n_outputs=2)]
pipeline = make_pipeline(
    StandardScaler(),
    MultiTaskEstimator(tasks=tasks, hidden_layer_sizes=(8,), lr=0.01,
                       max_epochs=30, batch_size=64, random_state=0, n_threads=1))
main_r2 = make_multitask_scorer("r2", task="main")
has_main_label = ~np.isnan(Y_train[:, 0])
cv = list(StratifiedKFold(4, shuffle=True, random_state=0).split(X_train,
                                                                 has_main_label))

# %%
# Does the auxiliary task help at all?
# ------------------------------------
#
# ``task_weights`` takes one weight per task, in task order: ``(1, 0)``
# trains on the main task alone (the auxiliary head learns nothing and the
# shared layer ignores it), ``(1, 1)`` weighs both tasks alike. Within a
# pipeline the parameter gets the step's prefix.
import pandas as pd
from sklearn.model_selection import GridSearchCV

search = GridSearchCV(
    pipeline, {"multitaskestimator__task_weights": [(1, 0), (1, 1)]},
    scoring=main_r2, cv=cv).fit(X_train, Y_train)
print(pd.DataFrame(search.cv_results_)[[
    "param_multitaskestimator__task_weights", "mean_test_score",
    "std_test_score"]].round(3).to_string(index=False))

# %%
# How much weight?
# ----------------
#
# ``task_weights__<task>`` sets one task's weight by name and leaves the
# others as they are (``task_weights`` becomes a dict), so a grid can sweep
# the auxiliary task's weight alone.
weights = [0, 0.1, 1, 10, 100, 1000]
search = GridSearchCV(
    pipeline, {"multitaskestimator__task_weights__auxiliary": weights},
    scoring=main_r2, cv=cv).fit(X_train, Y_train)
results = pd.DataFrame(search.cv_results_)
print(results[["param_multitaskestimator__task_weights__auxiliary",
               "mean_test_score", "std_test_score"]].round(3).to_string(index=False))
print("best:", search.best_params_)

# %%
# The cross-validated R² of the main task against the auxiliary task's
# weight (the band is one standard deviation over the folds; weight 0, the
# main task alone, is the dashed line). The more the auxiliary task weighs,
# the better the main task does, until the score levels off at the largest
# weights (which score alike, within their spread over the folds).
#
# This is less odd than it looks. The network is trained by Adam, which
# scales each parameter's step by the size of its own gradients: the main
# task's head learns at the same pace whatever the weights, and the weights
# only decide which task shapes the *shared* layer. Here the auxiliary task
# measures the very factors the main task needs, from 25 times more labels,
# so the best shared layer is the one it learns. An auxiliary task that is
# only loosely related would pull the shared layer away from what the main
# task needs, and a large weight would hurt the main task instead:
# cross-validation is how to tell.
import matplotlib.pyplot as plt

mean, std = results["mean_test_score"], results["std_test_score"]
positive = np.array(weights) > 0
fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
ax.plot(np.array(weights)[positive], mean[positive], marker="o",
        label="main + auxiliary")
ax.fill_between(np.array(weights)[positive], (mean - std)[positive],
                (mean + std)[positive], alpha=0.2)
ax.axhline(mean[0], color="black", linestyle="--", label="main task alone")
ax.set(xscale="log", xlabel="weight of the auxiliary task (main task: 1)",
       ylabel="cross-validated R² of the main task")
ax.legend()
plt.show()

# %%
# On the held-out rows
# --------------------
#
# ``GridSearchCV`` refits the pipeline with the best weight on all training
# rows. On the 1000 test rows, against the main task trained alone:
alone = pipeline.set_params(multitaskestimator__task_weights__auxiliary=0)
alone.fit(X_train, Y_train)
best_weight = search.best_params_["multitaskestimator__task_weights__auxiliary"]
print(f"main task alone:                   R² = {main_r2(alone, X_test, Y_test):.3f}")
print(f"with the auxiliary task (weight {best_weight:g}): "
      f"R² = {main_r2(search, X_test, Y_test):.3f}")
