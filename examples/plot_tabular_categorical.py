"""
=======================================
Tabular data with categorical columns
=======================================

Recommender and tabular data come as tables whose most informative columns
are categories and ids: who saw the item, which item it was. This example
predicts two stages of a funnel (click, then conversion after a click) from
an impression log with a ``user_id`` and an ``item_id`` column and a few
numeric context columns, with three models:

* a multi-task network that learns an **embedding** of each id column
  (``categorical_features=``), in a ``Pipeline`` that scales the numeric
  columns;
* the same network on **one-hot** encoded ids (the sparse output of a
  ``OneHotEncoder``, which the network densifies one batch at a time);
* one **HistGradientBoosting** model per task
  (:class:`~skmtl.SingleTaskBaseline`), the ids target-encoded.
"""

# %%
# An impression log
# -----------------
#
# :func:`~skmtl.datasets.make_funnel` draws impressions of items to users;
# users and items have latent factors shared by the two stages, so that
# what a click reveals about a user also serves the conversion task.
# A conversion is labelled only where there was a click (``NaN``
# elsewhere).
import numpy as np

from skmtl.datasets import make_funnel

df, Y = make_funnel(n_impressions=30_000, n_users=2_000, n_items=300,
                    n_numeric=4, rates=(0.2, 0.3), random_state=0)
Y = np.asarray(Y, dtype=float)
ids = ["user_id", "item_id"]
numeric = [c for c in df.columns if c not in ids]
print(df.head())
print(f"{df['user_id'].nunique()} users, {df['item_id'].nunique()} items; "
      f"click rate {np.nanmean(Y[:, 0]):.2f}, conversions labelled on "
      f"{np.mean(~np.isnan(Y[:, 1])):.0%} of the rows")

# %%
# Train on the first 22,000 impressions, test on the last 8,000 (users and
# items unseen in training still get a prediction: they share the reserved
# row of unknown categories).
train, test = slice(0, 22_000), slice(22_000, None)
X_train, X_test = df.iloc[train], df.iloc[test]
Y_train, Y_test = Y[train], Y[test]

# %%
# Three models
# ------------
#
# The two networks are the same multi-task estimator (one hidden layer of
# 64 units shared by both tasks); only the input differs.
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler, TargetEncoder

from skmtl import SingleTaskBaseline, Task
from skmtl.neural import MultiTaskEstimator

tasks = [Task("click", "binary"), Task("conversion", "binary")]


def network(**params):
    return MultiTaskEstimator(tasks=tasks, hidden_layer_sizes=(64,), lr=3e-3,
                              batch_size=256, max_epochs=6, random_state=0,
                              **params)


scale = ColumnTransformer([("numeric", StandardScaler(), numeric)],
                          remainder="passthrough", verbose_feature_names_out=False)
scale.set_output(transform="pandas")  # keep the id columns by name
embeddings = make_pipeline(
    scale, network(categorical_features=ids, embedding_dim=16))

one_hot = make_pipeline(
    ColumnTransformer([("numeric", StandardScaler(), numeric),
                       ("ids", OneHotEncoder(handle_unknown="ignore"), ids)]),
    network())

# SingleTaskBaseline hands each task's model an array: the id columns by
# position
id_positions = [df.columns.get_loc(c) for c in ids]
folds = KFold(5, shuffle=True, random_state=0)  # TargetEncoder's cross-fitting
boosting = SingleTaskBaseline(
    make_pipeline(ColumnTransformer([("ids", TargetEncoder(cv=folds), id_positions)],
                                    remainder="passthrough"),
                  HistGradientBoostingClassifier(random_state=0)),
    tasks=tasks)

# %%
# Fit each and score it on the test impressions: the ROC AUC of each task on
# its labelled rows.
import time

from sklearn.metrics import roc_auc_score

models = {"network, embeddings": embeddings, "network, one-hot (sparse)": one_hot,
          "HistGradientBoosting per task": boosting}
auc, seconds = {}, {}
for name, model in models.items():
    start = time.perf_counter()
    model.fit(X_train, Y_train)
    seconds[name] = time.perf_counter() - start
    proba = model.predict_proba(X_test)
    auc[name] = []
    for k in range(Y.shape[1]):
        labelled = ~np.isnan(Y_test[:, k])
        auc[name].append(roc_auc_score(Y_test[labelled, k],
                                       proba[k][labelled, 1]))
    print(f"{name:<32} click AUC {auc[name][0]:.3f}  conversion AUC "
          f"{auc[name][1]:.3f}  fit {seconds[name]:.1f} s")

# %%
# The embedding network learns a vector per user and per item that both
# tasks read; the one-hot network has a weight per id and per hidden unit,
# learned from the same rows but without the low-dimensional structure, and
# the boosted trees see each id only through its mean target.
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(7, 3.5))
width = 0.25
for i, (name, values) in enumerate(auc.items()):
    ax.bar(np.arange(2) + (i - 1) * width, values, width, label=name)
ax.set_xticks(np.arange(2), [t.name for t in tasks])
ax.set_ylabel("test ROC AUC")
ax.set_ylim(0.5, max(max(v) for v in auc.values()) + 0.05)
ax.legend(loc="upper right", fontsize="small")
ax.set_title("Impression log: ids as embeddings, one-hot, or boosted trees")
fig.tight_layout()

# %%
# What the embedding network learned
# -----------------------------------
#
# The fitted network keeps the categories of each id column and the size
# of each embedding; ``categories_[0]`` are the users seen in training.
est = embeddings[-1]
print([len(c) for c in est.categories_], est.embedding_dims_)
print(est.net_.module_.embeddings)
