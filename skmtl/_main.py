"""``python -m skmtl``: fit every multi-task model on a default problem.

The main job trains the baselines and every multi-task estimator the package
has on a generated problem with related tasks and prints a table of per-task
test scores with their mean. New estimators join by adding an entry to
:data:`ESTIMATORS`.
"""

import argparse
import sys
import time
import warnings

import numpy as np
from sklearn.model_selection import train_test_split

from .metrics import per_task_scores


def _regression_data(structure):
    def make(seed):
        from .datasets import make_multitask_regression

        return make_multitask_regression(
            n_features=30, n_tasks=8, n_informative=6, structure=structure,
            task_similarity=0.8, samples_per_task=60, noise=1.0,
            random_state=seed,
        )

    return make


def _classification_data(seed):
    from .datasets import make_multitask_classification

    return make_multitask_classification(
        n_features=30, n_tasks=6, n_informative=6, task_similarity=0.8,
        samples_per_task=80, class_sep=3.0, random_state=seed,
    )


def _mixed_data(seed):
    """Regression and classification tasks on one shared support."""
    from .datasets import make_multitask_regression

    X, Y = make_multitask_regression(
        n_samples=400, n_features=30, n_tasks=6, n_informative=6,
        structure="shared_support", task_similarity=0.8, missing_rate=0.3,
        noise=0.5, random_state=seed)
    Y = Y.astype(object)
    for j in (3, 4, 5):
        column = Y[:, j].astype(float)
        labelled = ~np.isnan(column)
        cut = np.median(column[labelled])
        Y[labelled, j] = np.where(column[labelled] > cut, "high", "low")
        Y[~labelled, j] = np.nan
    return X, Y


DATASETS = {
    "shared_support": ("regressor", _regression_data("shared_support"),
                       "8 regression tasks, 60 samples each, 6 of 30 features "
                       "shared (default)"),
    "low_rank": ("regressor", _regression_data("low_rank"),
                 "8 regression tasks whose weights span a rank-2 subspace"),
    "clusters": ("regressor", _regression_data("clusters"),
                 "8 regression tasks in 2 clusters"),
    "two_class": ("classifier", _classification_data,
                       "6 two-class tasks, 80 samples each, shared support"),
    "mixed": ("mixed", _mixed_data,
              "3 regression and 3 two-class tasks on one shared support, 30% "
              "of labels missing"),
}


def _single_task(kind, seed):
    from sklearn.linear_model import LogisticRegressionCV, RidgeCV

    from .baselines import SingleTaskBaseline

    classifier = LogisticRegressionCV(Cs=5, max_iter=500)
    regressor = RidgeCV(alphas=np.logspace(-3, 3, 13))
    if kind == "classifier":
        return SingleTaskBaseline(classifier)
    if kind == "mixed":
        return SingleTaskBaseline({"classifier": classifier, "regressor": regressor})
    return SingleTaskBaseline(regressor)


def _pooled(kind, seed):
    from sklearn.linear_model import LogisticRegressionCV, RidgeCV

    from .baselines import PooledBaseline

    classifier = LogisticRegressionCV(Cs=5, max_iter=500)
    regressor = RidgeCV(alphas=np.logspace(-3, 3, 13))
    if kind == "mixed":
        # one pooled model per kind of task
        return PooledBaseline({"classifier": classifier, "regressor": regressor},
                              task_indicators=True)
    return PooledBaseline(classifier if kind == "classifier" else regressor,
                          task_indicators=True)


def _linear(penalty):
    def build(kind, seed):
        from .linear import MultiTaskLinearRegressorCV, MultiTaskLogisticClassifierCV

        cls = (MultiTaskLogisticClassifierCV if kind == "classifier"
               else MultiTaskLinearRegressorCV)
        return cls(penalty, n_alphas=8, cv=3)

    return build


def _network(architecture, **options):
    def build(kind, seed):
        from .neural import (
            MultiTaskClassifier,
            MultiTaskEstimator,
            MultiTaskRegressor,
        )

        cls = {"regressor": MultiTaskRegressor,
               "classifier": MultiTaskClassifier}.get(kind, MultiTaskEstimator)
        return cls(architecture=architecture, hidden_layer_sizes=(64,), lr=3e-3,
                   max_epochs=40, batch_size=32, optimizer__weight_decay=1e-3,
                   n_threads=1, random_state=seed, **options)

    return build


ESTIMATORS = {
    "single-task": (_single_task, "one ridge / logistic model per task "
                                  "(no sharing)"),
    "pooled": (_pooled, "one ridge / logistic model for all tasks, with task "
                        "indicators"),
    "l21": (_linear("l21"), "joint feature selection (L2,1), alpha by CV"),
    "trace_norm": (_linear("trace_norm"), "low-rank W (trace norm), alpha by CV"),
    "mean_regularized": (_linear("mean_regularized"),
                         "tasks close to their mean (Evgeniou-Pontil), alpha by CV"),
    "mtrl": (_linear("task_relationship"),
             "task covariance learned with W (MTRL), alpha by CV"),
    "mtl-mlp": (_network("hard"), "multi-task network: shared MLP (64) and one "
                                  "head per task, 40 epochs"),
    "mtl-mmoe": (_network("mmoe", module__n_experts=3),
                 "multi-gate mixture of 3 MLP experts, 40 epochs"),
}
"""Estimators of the main job: name -> (builder(kind, seed), description).

A builder returns None when the estimator does not apply to the data kind."""

TRANSFER_DEFAULT = "l21"
"""The multi-task estimator whose transfer report the main job prints."""


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m skmtl",
        description="Fit the baselines and every multi-task estimator of skmtl on "
                    "a problem with related tasks and print per-task test scores.",
    )
    parser.add_argument("--dataset", default="shared_support", choices=DATASETS,
                        help="problem to solve (default: %(default)s)")
    parser.add_argument("--estimators", default="all",
                        help="comma-separated estimator names, or 'all' "
                             f"({', '.join(ESTIMATORS)})")
    parser.add_argument("--seed", type=int, default=0,
                        help="random seed of the data and the models "
                             "(default: %(default)s)")
    parser.add_argument("--test-size", type=float, default=0.3,
                        help="fraction of rows held out (default: %(default)s)")
    parser.add_argument("--transfer", default=TRANSFER_DEFAULT,
                        help="estimator whose per-task transfer report (5-fold CV "
                             "against the single-task and pooled baselines) is "
                             "printed; 'none' skips it (default: %(default)s)")
    parser.add_argument("--list", action="store_true",
                        help="list the data sets and estimators, then exit")
    return parser


def _format_table(task_names, results, metric):
    names = list(results)
    width = max(12, *(len(n) for n in names))
    first = max(8, *(len(t) for t in task_names), len("mean"), len("fit (s)"))
    lines = [f"{'task':<{first}}  " + "  ".join(f"{n:>{width}}" for n in names)]
    lines.append("-" * len(lines[0]))
    for i, task in enumerate(task_names):
        lines.append(f"{task:<{first}}  " + "  ".join(
            f"{results[n]['scores'][i]:>{width}.3f}" for n in names))
    lines.append("-" * len(lines[0]))
    lines.append(f"{'mean':<{first}}  " + "  ".join(
        f"{np.nanmean(results[n]['scores']):>{width}.3f}" for n in names))
    lines.append(f"{'fit (s)':<{first}}  " + "  ".join(
        f"{results[n]['fit_time']:>{width}.3f}" for n in names))
    return f"test {metric} per task\n" + "\n".join(lines)


def run(dataset="shared_support", estimators="all", seed=0, test_size=0.3,
        transfer=None, out=None):
    """Fit the chosen estimators on the chosen data set and print the table.

    With ``transfer`` set to an estimator name, also print that estimator's
    transfer report (5-fold cross-validation on all rows against the
    single-task and pooled baselines).

    Returns
    -------
    results : dict
        ``{estimator name: {"scores": per-task test scores, "fit_time": s}}``,
        plus ``"transfer_report"`` when one was made.
    """
    out = sys.stdout if out is None else out
    if dataset not in DATASETS:
        raise ValueError(f"unknown data set {dataset!r}; choose from "
                         f"{list(DATASETS)}.")
    kind, make, _ = DATASETS[dataset]
    X, Y = make(seed)
    X_train, X_test, Y_train, Y_test = train_test_split(
        X, Y, test_size=test_size, random_state=seed)
    chosen = list(ESTIMATORS) if estimators == "all" else [
        e.strip() for e in estimators.split(",") if e.strip()]
    unknown = [e for e in chosen if e not in ESTIMATORS]
    if unknown:
        raise ValueError(f"unknown estimator(s) {unknown}; choose from "
                         f"{list(ESTIMATORS)}.")
    n_tasks = Y.shape[1]
    print(f"data set {dataset!r}: {X_train.shape[0]} training rows, "
          f"{X_test.shape[0]} test rows, {X.shape[1]} features, {n_tasks} tasks "
          f"({kind})", file=out)
    results = {}
    metric = None
    for name in chosen:
        builder, _ = ESTIMATORS[name]
        estimator = builder(kind, seed)
        if estimator is None:
            continue
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            estimator.fit(X_train, Y_train)
        fit_time = time.perf_counter() - start
        table = per_task_scores(Y_test, estimator.predict(X_test), estimator.tasks_,
                                as_frame=False)
        metric = "/".join(sorted(set(table["metric"])))
        results[name] = {"scores": table["score"], "fit_time": fit_time}
        task_names = list(table["task"])
    if not results:
        print("no estimator applies to this data set", file=out)
        return results
    print(_format_table(task_names, results, metric), file=out)
    if transfer is not None and transfer != "none":
        results["transfer_report"] = _transfer(transfer, kind, seed, X, Y, out)
    return results


def _transfer(name, kind, seed, X, Y, out):
    from .model_selection import transfer_report

    if name not in ESTIMATORS:
        raise ValueError(f"unknown estimator {name!r} for --transfer; choose from "
                         f"{list(ESTIMATORS)} or 'none'.")
    estimator = ESTIMATORS[name][0](kind, seed)
    if estimator is None:
        print(f"\nno transfer report: {name!r} does not apply to this data set",
              file=out)
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = transfer_report(estimator, X, Y, cv=5, random_state=seed)
    print(f"\ntransfer report of {name!r}: 5-fold CV on all {X.shape[0]} rows "
          f"against the single-task and pooled baselines (negative = significantly "
          f"worse than single-task, > {report.threshold:g} standard errors)",
          file=out)
    print(report, file=out)
    return report


def main(argv=None):
    args = _parser().parse_args(argv)
    if args.list:
        print("data sets:")
        for name, (_, _, description) in DATASETS.items():
            print(f"  {name:<16} {description}")
        print("estimators:")
        for name, (_, description) in ESTIMATORS.items():
            print(f"  {name:<16} {description}")
        return 0
    run(args.dataset, args.estimators, args.seed, args.test_size,
        transfer=args.transfer)
    return 0
