"""
========================================================
Choosing an architecture: hard, soft, cross-stitch, MMoE
========================================================

A multi-task network decides *how* its tasks share parameters: one trunk for
all tasks (hard sharing), a trunk per task kept close by a penalty (soft
sharing), trunks that exchange their activations (cross-stitch), or shared
experts mixed by a gate per task (MMoE, CGC). The ``architecture``
parameter of the estimators picks one; everything else stays the same.

We compare them on generated tasks whose relatedness we set, with the
independent networks (no sharing at all) as the reference. The user guide
page :ref:`architectures` explains each architecture.
"""

# %%
# Four tasks, more or less related
# --------------------------------
#
# Every task is a combination of three hidden factors of the 16 features
# (``tanh`` of random projections). A share ``shared`` of each task's
# factors is common to all tasks, the rest is its own: ``shared=1`` gives
# four views of the same factors, ``shared=0`` four unrelated tasks. There
# are 300 training rows, every task labelled on each.
import numpy as np


def make_tasks(shared, n_train=300, n_test=2000, random_state=0):
    rng = np.random.RandomState(random_state)
    X = rng.randn(n_train + n_test, 16)

    def factors():
        return np.tanh(X @ rng.randn(16, 3) / 4 * 2.5)

    common = factors()
    Y = np.column_stack([
        (np.sqrt(shared) * common + np.sqrt(1 - shared) * factors()) @ rng.randn(3)
        for _ in range(4)])
    Y = Y / Y.std(axis=0) + 0.2 * rng.randn(*Y.shape)
    return X[:n_train], Y[:n_train], X[n_train:], Y[n_train:]


# %%
# The architectures
# -----------------
#
# Each architecture gets the same trunk, an MLP with one hidden layer of 16
# units, and linear heads. ``module__...`` parameters reach the
# architecture: ``SoftSharing`` with ``strength=0`` is a set of independent
# networks, the no-sharing reference; ``strength=0.1`` pulls the trunks
# together. :class:`~skmtl.neural.MultiTaskRegressor` learns the four
# regression tasks of ``Y``.
from skmtl.neural import MultiTaskRegressor

architectures = {
    "independent": dict(architecture="soft", module__strength=0.0),
    "hard sharing": dict(architecture="hard"),
    "soft sharing": dict(architecture="soft", module__strength=0.1),
    "cross-stitch": dict(architecture="cross_stitch"),
    "MMoE": dict(architecture="mmoe", module__n_experts=4),
    "CGC": dict(architecture="cgc"),
}


def make_network(random_state, **params):
    return MultiTaskRegressor(hidden_layer_sizes=(16,), lr=0.01, max_epochs=40,
                              batch_size=64, random_state=random_state,
                              n_threads=1, **params)


# %%
# Fit and score
# -------------
#
# For each relatedness, two draws of the data (and of the initial weights);
# the score is the test R² averaged over the four tasks and the two draws.
# The table also gives each network's number of parameters and its training
# time (40 epochs).
import pandas as pd

scores, sizes, times = {}, {}, {}
for shared in (1.0, 0.5, 0.0):
    for seed in (0, 1):
        X_train, Y_train, X_test, Y_test = make_tasks(shared, random_state=seed)
        for name, params in architectures.items():
            network = make_network(seed, **params).fit(X_train, Y_train)
            # skorch records each epoch's duration in the history.
            times.setdefault(name, []).append(sum(network.history_[:, "dur"]))
            scores.setdefault(name, {}).setdefault(f"shared={shared:g}", []).append(
                network.score(X_test, Y_test))
            sizes[name] = sum(p.numel() for p in network.net_.module_.parameters())

table = pd.DataFrame({name: {problem: np.mean(values)
                             for problem, values in by_problem.items()}
                      for name, by_problem in scores.items()}).T
table["parameters"] = pd.Series(sizes)
table["fit time (s)"] = pd.Series({name: np.mean(t) for name, t in times.items()})
print(table.round(3).to_string())

# %%
# The same scores as bars, each architecture against the independent
# networks:
import matplotlib.pyplot as plt

problems = [column for column in table.columns if column.startswith("shared")]
fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
width = 0.8 / len(table)
for i, (name, row) in enumerate(table.iterrows()):
    ax.bar(np.arange(len(problems)) + i * width, row[problems], width, label=name)
ax.set_xticks(np.arange(len(problems)) + 0.4 - width / 2,
              labels=["related (shared=1)", "partly (shared=0.5)",
                      "unrelated (shared=0)"])
ax.set(ylabel="test R² (mean over tasks)",
       ylim=(table[problems].to_numpy().min() - 0.05, None))
ax.legend(ncols=3, fontsize="small")
plt.show()

# %%
# What to read from it
# --------------------
#
# * With 300 rows, **hard sharing** is hard to beat when the tasks are
#   related: it has the fewest parameters (one trunk instead of four),
#   trains fastest, and its trunk learns from four times as many labels.
# * **Soft sharing** with a strong enough pull behaves much like hard
#   sharing, at the cost of one trunk per task; with ``strength=0`` it *is*
#   the independent networks, so its strength is a knob between the two.
# * **CGC** gives each task an expert of its own next to a shared one, and
#   a gate to mix them: when the tasks are unrelated, that is what they
#   need, and it does best there. **MMoE** shares all of its experts;
#   with more parameters to learn from 300 rows, it is not ahead here. The
#   gated architectures were designed for large data sets with many,
#   partly conflicting tasks (recommendation), where they pay off.
# * **Cross-stitch** learns how much each layer shares, starting close to
#   independent networks; on this little data it stays close to them.
#
# Start with hard sharing; try the others when a per-task comparison with
# single-task models (:func:`~skmtl.model_selection.transfer_report`) shows
# some tasks losing from it.
