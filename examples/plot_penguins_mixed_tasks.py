"""
==========================================
Mixed task types on the Palmer penguins
==========================================

Three tasks of three types on the same birds: the species
(classification, three classes), the sex (binary, not recorded for some
birds) and the body mass (regression), from bill and flipper measurements
and the island. One NaN-masked ``Y`` holds them all; the tasks say what each
column is.

This example needs the ``palmerpenguins`` package (``pip install
'skmtl[datasets]'``).
"""

# %%
# One ``Y`` for three task types
# ------------------------------
#
# :func:`~skmtl.datasets.load_penguins` returns ``Y`` as an object array:
# the class labels stay strings, the body mass is a float, and a missing sex
# is ``NaN``. The tasks come with their classes declared.

from skmtl.datasets import load_penguins

data = load_penguins()
X, Y, tasks = data.data, data.target, data.tasks
print(data.feature_names)
print(Y[:3])
for task in tasks:
    print(task)
print("birds without a recorded sex:",
      sum(not isinstance(sex, str) for sex in Y[:, 1]))

# %%
# One model per task
# ------------------
#
# :class:`~skmtl.SingleTaskBaseline` takes a dict from task type to model:
# a scaled logistic regression for the two class-label tasks, a ridge
# regression for the body mass. Each task's model is fitted on the rows where
# that task is labelled, so the birds without a sex still teach the species
# and the mass. Predictions come back in label space.
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmtl import SingleTaskBaseline

classifier = make_pipeline(StandardScaler(), LogisticRegression())
model = SingleTaskBaseline({"classification": classifier, "binary": classifier,
                            "regression": make_pipeline(StandardScaler(), Ridge())},
                           tasks=tasks)
model.fit(X, Y)
print(model.predict(X[:3]))

# %%
# Scores that fit each task
# -------------------------
#
# The multi-task scorer scores each task with its type's metric (accuracy
# for the class labels, R² for the mass) on its labelled birds. The rows are
# sorted by species, so the folds are shuffled.
import pandas as pd
from sklearn.model_selection import KFold, cross_validate

from skmtl.metrics import make_per_task_scorers

cv = KFold(5, shuffle=True, random_state=0)
result = cross_validate(model, X, Y, cv=cv, scoring=make_per_task_scorers(tasks))
print(pd.Series({task.name: result[f"test_{task.name}"].mean()
                 for task in tasks}).round(3))

# %%
# Against a model that ignores the measurements
# ---------------------------------------------
#
# A baseline of constant predictions (the most frequent class, the mean
# mass) sets the floor each task's score should be read against.
# :class:`~skmtl.plotting.PerTaskScoreDisplay` draws both on held-out birds,
# each task with its own metric (the constant mass scores an R² of about 0,
# hence no visible bar).
import matplotlib.pyplot as plt
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.model_selection import train_test_split

from skmtl.plotting import PerTaskScoreDisplay

X_train, X_test, Y_train, Y_test = train_test_split(X, Y, test_size=0.3,
                                                    random_state=0)
constant = SingleTaskBaseline({"classification": DummyClassifier(),
                               "binary": DummyClassifier(),
                               "regression": DummyRegressor()}, tasks=tasks)
fitted = {"per-task linear models": model.fit(X_train, Y_train),
          "constant": constant.fit(X_train, Y_train)}
fig, ax = plt.subplots(layout="constrained")
PerTaskScoreDisplay.from_estimators(fitted, X_test, Y_test, ax=ax)
ax.set_title("Held-out score of each task")
plt.show()

# %%
# Which tasks use the features alike?
# -----------------------------------
#
# The coefficients of the three tasks live on different scales (a log-odds
# per class, grams of body mass), but their directions compare. The cosine
# similarity of the coefficient vectors
# (:class:`~skmtl.plotting.TaskSimilarityDisplay`) shows that the body mass
# and the sex ("male") point the same way, and that "Gentoo" shares that
# direction too: males and Gentoo penguins are the heavy ones.
from skmtl.plotting import TaskSimilarityDisplay

fig, ax = plt.subplots(figsize=(7, 5.5), layout="constrained")
display = TaskSimilarityDisplay.from_estimator(model.fit(X, Y), ax=ax)
ax.set_title("Cosine similarity of the tasks' coefficients")
plt.show()

similarity = display.im_.get_array()
names = [label.get_text() for label in display.ax_.get_xticklabels()]
mass = names.index("body_mass_g")
print({name: round(float(similarity[mass, j]), 2) for j, name in enumerate(names)})
