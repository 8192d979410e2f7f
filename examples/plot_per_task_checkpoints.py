"""
=============================================
Each task's best epoch, and adding a new task
=============================================

The tasks of one network rarely peak at the same epoch. Here one task has a
few, very noisy labels and overfits within a few epochs; the other has a
clean label on every row and improves for the whole run. Early stopping on
the total validation loss keeps one epoch for both, too late for the first
task and too early for the second. :class:`~skmtl.neural.PerTaskCheckpoint`
keeps each task's own best epoch and predicts each task from it.

Then :meth:`~skmtl.neural.MultiTaskRegressor.add_tasks` puts a third task on
the fitted network, training only its new head: the first two tasks'
predictions do not change.
"""

# %%
# Two tasks that peak apart
# -------------------------
#
# Task ``a`` is ``x0`` plus noise twice its size, labelled on 30% of the
# rows; task ``b`` is a linear function of 20 other features, labelled on
# every row. The test targets are the noise-free functions.
import matplotlib.pyplot as plt
import numpy as np

from skmtl import Task
from skmtl.neural import MultiTaskRegressor, PerTaskCheckpoint

weights = np.random.RandomState(42).randn(20)


def make(n, seed):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 40)
    truth = np.column_stack([X[:, 0], X[:, 1:21] @ weights])
    Y = truth + np.column_stack([2.0 * rng.randn(n), 0.1 * rng.randn(n)])
    Y[rng.rand(n) > 0.3, 0] = np.nan
    return X, Y, truth


X, Y, _ = make(800, 2)
X_test, _, truth = make(2000, 100)

params = dict(hidden_layer_sizes=(64,), lr=2e-3, max_epochs=40, batch_size=32,
              train_split=0.4, random_state=2, n_threads=1)
est = MultiTaskRegressor(**params, callbacks=[PerTaskCheckpoint()]).fit(X, Y)
print("best epoch of each task:", est.best_epochs_)

# %%
# The validation losses, each task's best epoch marked, and the epoch of the
# lowest total validation loss (what skorch's ``Checkpoint`` would keep):
history = est.history_
total_best = int(np.argmin(history[:, "valid_loss"])) + 1
fig, ax = plt.subplots(figsize=(6, 3.5))
for name in ("task_0", "task_1"):
    losses = history[:, f"valid_loss_{name}"]
    line, = ax.plot(range(1, len(losses) + 1), losses, label=name)
    ax.axvline(est.best_epochs_[name], color=line.get_color(), linestyle=":")
ax.axvline(total_best, color="grey", linestyle="--", label="best total")
ax.set_xlabel("epoch")
ax.set_ylabel("validation loss (standardized)")
ax.legend()
fig.tight_layout()

# %%
# Held-out error to the noise-free functions: each task from its best epoch,
# against one network stopped at the epoch of the lowest total validation
# loss (the same run: every epoch is seeded from ``random_state``), and the
# last epoch's network.


def mse(model):
    return ((model.predict(X_test) - truth) ** 2).mean(axis=0)


single = MultiTaskRegressor(**{**params, "max_epochs": total_best}).fit(X, Y)
last = MultiTaskRegressor(**params).fit(X, Y)
print("                       task_0  task_1")
for label, model in [("per-task best epochs", est), ("best total epoch", single),
                     ("last epoch", last)]:
    print(f"{label:22s} {mse(model)[0]:6.3f}  {mse(model)[1]:6.3f}")

# %%
# Adding a task
# -------------
#
# A third task, ``c``, reads the same features as ``b``. ``add_tasks`` builds
# its head on the fitted network and trains it with the shared layers frozen;
# the two first tasks predict exactly as before (from their best epochs).
before = est.predict(X_test)
c = X[:, 1:21] @ weights[::-1]
est.add_tasks(Task("c"), X, c, max_epochs=20)
after = est.predict(X_test)
print("old tasks unchanged:", np.array_equal(after[:, :2], before))
c_test = X_test[:, 1:21] @ weights[::-1]
print(f"R² of the new task on the test rows: "
      f"{1 - np.mean((after[:, 2] - c_test) ** 2) / np.var(c_test):.3f}")
