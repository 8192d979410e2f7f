"""Task affinity: how much does learning task i help task j?"""

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone, is_classifier
from sklearn.utils import _safe_indexing

from ..base import check_targets
from ..metrics import per_task_scores
from ..tasks import missing_mask, resolve_tasks
from ._transfer import (
    _greater_is_better_scores,
    _rows_of,
    _splits,
    declared_tasks,
    final_step,
)

__all__ = ["task_affinity", "AFFINITY_METHODS"]

AFFINITY_METHODS = ("pairwise", "lookahead", "covariance", "coefficients")


def _resolve(estimator, Y, names):
    default = "classifier" if is_classifier(estimator) else "auto"
    return resolve_tasks(declared_tasks(estimator), Y, default_type=default,
                         names=names)


def _subset_fold_scores(estimator, X, Y, tasks, subset, train, test, metric):
    """Test scores of each task in ``subset``, fitted on ``subset`` only, one fold."""
    columns = np.concatenate([tasks[k].columns_ for k in subset])
    rows = ~missing_mask(Y[:, columns]).all(axis=1)
    model = clone(estimator)
    specs = declared_tasks(model)
    if specs is not None:
        specs = [specs] if hasattr(specs, "n_outputs") else list(specs)
        _, prefix = final_step(model)
        model.set_params(**{f"{prefix}tasks": [specs[k] for k in subset]})
    train = train[rows[train]]
    test = test[rows[test]]
    fitted = model.fit(_safe_indexing(X, train), Y[np.ix_(train, columns)])
    table = per_task_scores(Y[np.ix_(test, columns)],
                            fitted.predict(_safe_indexing(X, test)),
                            final_step(fitted)[0].tasks_, metric, as_frame=False)
    return _greater_is_better_scores(table)


def _pairwise(estimator, X, Y, tasks, cv, metric, n_jobs, random_state):
    n_tasks = len(tasks)
    splits = _splits(cv, X, Y, random_state)
    subsets = [(k,) for k in range(n_tasks)] + [
        (i, j) for i in range(n_tasks) for j in range(i + 1, n_tasks)]
    # one job per (subset, fold): enough jobs to keep every worker busy
    scores = Parallel(n_jobs=n_jobs)(
        delayed(_subset_fold_scores)(estimator, X, Y, tasks, s, train, test, metric)
        for s in subsets for train, test in splits)
    n_folds = len(splits)
    results = [(s, np.vstack(scores[i * n_folds:(i + 1) * n_folds]))
               for i, s in enumerate(subsets)]
    alone = np.empty((n_folds, n_tasks))
    together = {}
    for subset, scores in results:
        if len(subset) == 1:
            alone[:, subset[0]] = scores[:, 0]
        else:
            i, j = subset
            together[(i, j)] = scores[:, 1]  # score of j trained with i
            together[(j, i)] = scores[:, 0]  # score of i trained with j
    affinity = np.zeros((n_tasks, n_tasks))
    for (i, j), scores in together.items():
        affinity[i, j] = np.nanmean(scores - alone[:, j])
    return affinity


def _task_coefficients(fitted):
    """Per-task coefficient vectors of a fitted model, (n_tasks, n_features)."""
    coef = getattr(fitted, "coef_", None)
    if coef is None and hasattr(fitted, "estimators_"):
        coef = np.vstack([np.ravel(e.coef_) for e in fitted.estimators_])
    if coef is None:
        raise ValueError(f"{type(fitted).__name__} exposes no coefficients (coef_ or "
                         f"estimators_[k].coef_); use method='pairwise'.")
    return np.asarray(coef, dtype=float).reshape(len(fitted.tasks_), -1)


def _lookahead(estimator, X, Y, every):
    step, prefix = final_step(estimator)
    if "callbacks" not in step.get_params():
        raise ValueError(f"method='lookahead' needs a neural multi-task estimator "
                         f"(skmtl.neural.MultiTaskEstimator); got "
                         f"{type(step).__name__}. Use method='pairwise'.")
    from ..neural import LookaheadAffinity

    model = clone(estimator)
    name = "skmtl_lookahead_affinity"
    callbacks = list(final_step(model)[0].get_params()["callbacks"] or [])
    model.set_params(**{f"{prefix}callbacks": callbacks + [
        (name, LookaheadAffinity(every=every))]})
    model.fit(X, Y)
    affinity = dict(final_step(model)[0].net_.callbacks_)[name].affinity_
    if affinity is None:
        raise ValueError("no training step was measured; train for at least one "
                         "batch.")
    return affinity


def task_affinity(estimator, X, y, *, method="pairwise", cv=3, metric=None,
                  every=1, n_jobs=None, random_state=0):
    """An ``n_tasks × n_tasks`` matrix of how much task i helps task j.

    Methods:

    - ``"pairwise"`` (any estimator): ``A[i, j]`` is the cross-validated gain in
      task j's score when the estimator learns tasks i and j together instead of
      task j alone. It costs ``n_tasks`` + ``n_tasks (n_tasks - 1) / 2`` fits per
      fold, so it suits linear models and small networks.
    - ``"lookahead"`` (neural estimators): one training run in which, every
      ``every`` batches, a gradient step on task i's loss alone is tried and the
      relative change of task j's loss recorded (Fifty et al. 2021; see
      :class:`~skmtl.neural.LookaheadAffinity`).
    - ``"covariance"``: the task correlation a task-relationship model learns
      (``task_correlation_`` or ``task_covariance_`` after one fit).
    - ``"coefficients"``: cosine similarity of the per-task coefficient
      vectors of one fit (``coef_``, or each ``estimators_[k].coef_``).

    Parameters
    ----------
    estimator : estimator
        A multi-task model, or a Pipeline ending in one (its tasks are read,
        and set for each subset, on the last step).
    X : array-like of shape (n_samples, n_features)
        A DataFrame stays one in every fold, as in :func:`transfer_report`.
    y : array-like of shape (n_samples, n_outputs)
        NaN-masked targets.
    method : {"pairwise", "lookahead", "covariance", "coefficients"}, \
            default="pairwise"
    cv : int, splitter or iterable of (train, test), default=3
        Folds of the pairwise method (an int gives shuffled folds stratified by
        label pattern, as in :func:`transfer_report`; precomputed folds are
        used as given).
    metric : str or dict, default=None
        Per-task metric (greater is better; losses negated).
    every : int, default=1
        Measure every ``every``-th batch (``method="lookahead"``).
    n_jobs : int, default=None
        Parallel fits of the pairwise method (one joblib job per subset of
        tasks and fold).
    random_state : int, default=0

    Returns
    -------
    affinity : ndarray of shape (n_tasks, n_tasks)
        ``affinity[i, j]``: effect of task i on task j (zero diagonal for the
        pairwise gain; ones for similarities; a task's effect on itself for
        the look-ahead).

    See Also
    --------
    suggest_task_groups : Groups of tasks to train together from an affinity.

    Notes
    -----
    The pairwise gain is the direct measurement that Standley et al. (2020),
    "Which tasks should be learned together in multi-task learning?" (ICML),
    approximate; Fifty et al. (2021), "Efficiently identifying task groupings
    for multi-task learning" (NeurIPS), measure it inside one training run by a
    look-ahead step (``method="lookahead"``).

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from skmtl import PooledBaseline
    >>> from skmtl.datasets import make_multitask_regression
    >>> from skmtl.model_selection import task_affinity
    >>> X, Y = make_multitask_regression(n_tasks=3, samples_per_task=20,
    ...                                  random_state=0)
    >>> task_affinity(PooledBaseline(Ridge()), X, Y).shape
    (3, 3)
    """
    if method not in AFFINITY_METHODS:
        raise ValueError(f"method must be one of {AFFINITY_METHODS}, got {method!r}.")
    Y, names, _ = check_targets(y, tasks=declared_tasks(estimator))
    X = _rows_of(X)
    tasks = _resolve(estimator, Y, names)
    if method == "pairwise":
        if len(tasks) < 2:
            raise ValueError("task affinity needs at least two tasks.")
        return _pairwise(estimator, X, Y, tasks, cv, metric, n_jobs, random_state)
    if method == "lookahead":
        return _lookahead(estimator, X, Y, every)
    fitted = final_step(clone(estimator).fit(X, Y))[0]
    if method == "covariance":
        matrix = getattr(fitted, "task_correlation_", None)
        if matrix is None:
            covariance = getattr(fitted, "task_covariance_", None)
            if covariance is None:
                raise ValueError(f"{type(fitted).__name__} learns no task covariance "
                                 f"(task_correlation_ / task_covariance_); use a "
                                 f"task-relationship model or method='pairwise'.")
            scale = np.sqrt(np.diag(covariance))
            matrix = covariance / np.outer(scale, scale)
        return np.asarray(matrix, dtype=float)
    coef = _task_coefficients(fitted)
    norms = np.linalg.norm(coef, axis=1)
    norms[norms == 0] = 1.0
    unit = coef / norms[:, None]
    return unit @ unit.T
