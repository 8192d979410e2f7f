"""Speed of skmtl.linear against scikit-learn, measured in the same run.

    python benchmarks/bench_linear.py [--quick]

Prints fit time ratios (skmtl / scikit-learn) for L21 vs MultiTaskLasso at
alpha_max/10 and alpha_max/100, for a 20-alpha CV path vs MultiTaskLassoCV
with the same folds, and the time and iterations of every other penalty to
tol=1e-4. 20 tasks, every label present.
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.linear_model import MultiTaskLasso, MultiTaskLassoCV
from sklearn.model_selection import KFold

from skmtl.datasets import make_multitask_regression
from skmtl.linear import (
    L1,
    L21,
    Clustered,
    Dirty,
    GraphLaplacian,
    MeanRegularized,
    MultiTaskLinearRegressor,
    MultiTaskLinearRegressorCV,
    Ridge,
    TaskRelationship,
    TraceNorm,
)


def timed(fn, repeat=1):
    best = np.inf
    out = None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def main(quick=False):
    warnings.simplefilter("ignore")
    shapes = [(2000, 1000), (500, 5000)]
    if quick:
        shapes = [(400, 200), (100, 1000)]
    rows = []
    for n, p in shapes:
        X, Y = make_multitask_regression(n_samples=n, n_features=p, n_tasks=20,
                                         n_informative=50, noise=1.0, random_state=0)
        Xc, Yc = X - X.mean(0), Y - Y.mean(0)
        alpha_max = np.sqrt(((Xc.T @ Yc) ** 2).sum(1)).max() / n
        for factor in (10, 100):
            alpha = alpha_max / factor
            t_sk, sk = timed(lambda a=alpha, X=X, Y=Y: MultiTaskLasso(
                alpha=a, tol=1e-4, max_iter=10000).fit(X, Y))
            for solver in ("auto", "fista", "cd"):
                t_us, us = timed(lambda a=alpha, s=solver, X=X, Y=Y:
                                 MultiTaskLinearRegressor(
                    L21(alpha=a), solver=s, tol=1e-4, max_iter=10000).fit(X, Y))
                diff = np.abs(us.coef_ - sk.coef_).max()
                rows.append((f"L21 n={n} p={p} amax/{factor} [{us.solver_}]",
                             solver == "auto", t_us, t_sk, us.n_iter_, diff))
    print(f"{'case':<42} {'skmtl (s)':>10} {'sklearn (s)':>12} {'ratio':>7} "
          f"{'n_iter':>7} {'max|dW|':>9}")
    for name, auto, t_us, t_sk, it, diff in rows:
        mark = "*" if auto else " "
        print(f"{mark}{name:<41} {t_us:>10.3f} {t_sk:>12.3f} {t_us / t_sk:>7.2f} "
              f"{it:>7d} {diff:>9.1e}")
    print("(* = solver='auto'; ratio = skmtl / sklearn; target <= 0.5 at n=2000, "
          "p=1000 and <= 1.0 at n=500, p=5000)")

    n, p = shapes[0]
    X, Y = make_multitask_regression(n_samples=n, n_features=p, n_tasks=20,
                                     n_informative=50, noise=1.0, random_state=0)
    cv = KFold(5)
    t_sk, sk = timed(lambda: MultiTaskLassoCV(alphas=20, cv=cv, tol=1e-4,
                                              max_iter=10000).fit(X, Y))
    t_us, us = timed(lambda: MultiTaskLinearRegressorCV(
        L21(), n_alphas=20, cv=cv, tol=1e-4, max_iter=10000).fit(X, Y))
    print()
    print(f"{'CV path, 20 alphas, 5 folds':<42} {'skmtl (s)':>10} {'sklearn (s)':>12} "
          f"{'ratio':>7} {'alpha_ ratio':>13}")
    print(f" n={n} p={p:<34} {t_us:>10.3f} {t_sk:>12.3f} {t_us / t_sk:>7.2f} "
          f"{us.alpha_ / sk.alpha_:>13.3f}")
    print("(target ratio <= 1.0; both n_jobs=None)")

    print()
    print(f"{f'penalty (tol=1e-4), n={n} p={p}':<42} {'time (s)':>10} "
          f"{'solver':>12} {'n_iter':>7} {'gap':>9}")
    for pen in (Ridge(0.01), L1(alpha_max_l1(X, Y)), TraceNorm(0.05),
                MeanRegularized(0.05), GraphLaplacian(0.05), Dirty(0.02),
                Clustered(0.05, n_clusters=3), TaskRelationship(0.05)):
        t, est = timed(lambda pen=pen: MultiTaskLinearRegressor(
            pen, tol=1e-4, max_iter=2000).fit(X, Y))
        print(f" {pen!r:<41} {t:>10.3f} {est.solver_:>12} {est.n_iter_:>7d} "
              f"{est.dual_gap_:>9.1e}")


def alpha_max_l1(X, Y):
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    return float(np.abs(Xc.T @ Yc).max() / len(X) / 10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small shapes")
    main(parser.parse_args().quick)
