"""
==========================================
Comparing task-weighting strategies
==========================================

A multi-task network minimizes a combination of its task losses. With equal
weights, a task with noisy labels pulls the shared layers as hard as the
clean ones. :mod:`skmtl.neural.weighting` offers the usual alternatives
behind one parameter, ``weighting=``; every strategy records the weights it
used, and :class:`~skmtl.plotting.TaskWeightsDisplay` draws them.

Here four regression tasks share a low-rank structure; the labels of
``task_3`` carry noise twice as large as its signal. We train the same
network with a few strategies and compare what they do to the weights and
to the test scores.
"""

# %%
# The data
# --------
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from skmtl.datasets import make_multitask_regression
from skmtl.metrics import masked_r2_score
from skmtl.neural import MultiTaskRegressor
from skmtl.neural.weighting import DWA, MGDAUB, Fixed, GradNorm, PCGrad, Uncertainty
from skmtl.plotting import LearningCurveDisplay, TaskWeightsDisplay

X, Y = make_multitask_regression(n_samples=1400, n_features=20, n_tasks=4,
                                 structure="low_rank", rank=2, noise=0.1,
                                 random_state=0)
rng = np.random.RandomState(0)
Y[:, 3] += 2.0 * Y[:, 3].std() * rng.randn(len(Y))  # a noisy task
X_train, Y_train, X_test, Y_test = X[:400], Y[:400], X[400:], Y[400:]

# %%
# One network, several strategies
# -------------------------------
# Loss-level strategies (``Fixed``, ``Uncertainty``, ``DWA``, ``GradNorm``)
# choose the weights of the losses; gradient-level ones (``PCGrad``,
# ``MGDAUB``) combine the tasks' gradients of the shared layers.
# ``Uncertainty`` learns one noise level per task; its log-variances get a
# learning rate of their own (``lr=0.05``), as the network's rate would
# barely move them in 40 epochs.
strategies = {
    "equal": Fixed(),
    "Uncertainty": Uncertainty(lr=0.05),
    "DWA": DWA(),
    "GradNorm": GradNorm(alpha=1.5),
    "PCGrad": PCGrad(),
    "MGDA-UB": MGDAUB(),
}
models = {}
for name, weighting in strategies.items():
    models[name] = MultiTaskRegressor(weighting=weighting, hidden_layer_sizes=(64,),
                                      lr=1e-3, max_epochs=40, batch_size=32,
                                      random_state=0, n_threads=1)
    models[name].fit(X_train, Y_train)

# %%
# What the strategies did to the weights
# --------------------------------------
# (Log scale: the weights span orders of magnitude.) ``Uncertainty`` weights
# each task by about ``1 / (2 L_k)``: the clean tasks, whose training loss
# becomes tiny, end with weights in the hundreds, the noisy ``task_3`` below
# one. ``GradNorm`` does the opposite: it sees a task that learns slowly and
# pushes it; ``DWA`` too, a little and for a while (its weights follow the
# ratio of successive epoch losses, which soon fall at similar rates).
# ``PCGrad`` stays near equal weights: the tasks' gradients rarely conflict.
# ``MGDA-UB`` takes a convex combination (weights summing to one) that all
# but drops the noisy task.
fig, axes = plt.subplots(2, 3, figsize=(12, 6.5), sharex=True)
for ax, (name, model) in zip(axes.ravel(), models.items()):
    TaskWeightsDisplay.from_estimator(model, ax=ax, yscale="log",
                                      legend=name == "equal")
    ax.set_title(name)
fig.tight_layout()

# %%
# Test scores
# -----------
# R² of each task on held-out rows (the noisy task's ceiling is low: its
# test labels are noisy too).
scores = pd.DataFrame(
    {name: masked_r2_score(Y_test, model.predict(X_test), multioutput="raw_values")
     for name, model in models.items()},
    index=[t.name for t in models["equal"].tasks_]).T
scores["mean"] = scores.mean(axis=1)
scores.round(3)

# %%
# The per-task losses
# -------------------
# :class:`~skmtl.plotting.LearningCurveDisplay` draws each task's training
# loss (and validation loss, with ``train_split=``) over the epochs; here for
# ``Uncertainty``.
display = LearningCurveDisplay.from_estimator(models["Uncertainty"], yscale="log")
display.ax_.set_title("Uncertainty: per-task training loss")
plt.show()
