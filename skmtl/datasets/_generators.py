"""Generated multi-task problems with known shared structure."""

import numbers

import numpy as np
from sklearn.utils import Bunch, check_random_state

__all__ = ["make_multitask_regression", "make_multitask_classification"]

STRUCTURES = ("shared_support", "low_rank", "clusters", "graph", "independent")


def _check_positive_int(value, name, minimum=1):
    if not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")


def _coefficients(structure, n_features, n_tasks, n_informative, rank, n_clusters,
                  task_similarity, rng):
    """Coefficient matrix ``W`` (n_features, n_tasks) with the planted structure."""
    info = {}
    support = np.sort(rng.choice(n_features, n_informative, replace=False))
    W = np.zeros((n_features, n_tasks))
    if structure == "shared_support":
        shared = rng.randn(n_informative, 1)
        W[support] = (task_similarity * shared
                      + np.sqrt(1 - task_similarity ** 2)
                      * rng.randn(n_informative, n_tasks))
    elif structure == "low_rank":
        _check_positive_int(rank, "rank")
        if rank > min(n_informative, n_tasks):
            raise ValueError(f"rank={rank} exceeds min(n_informative, n_tasks)="
                             f"{min(n_informative, n_tasks)}.")
        W[support] = rng.randn(n_informative, rank) @ rng.randn(rank, n_tasks) / np.sqrt(
            rank)
        info["rank"] = rank
    elif structure == "clusters":
        _check_positive_int(n_clusters, "n_clusters")
        if n_clusters > n_tasks:
            raise ValueError(f"n_clusters={n_clusters} exceeds n_tasks={n_tasks}.")
        clusters = np.concatenate([np.arange(n_clusters),
                                   rng.randint(n_clusters, size=n_tasks - n_clusters)])
        rng.shuffle(clusters)
        centers = rng.randn(n_informative, n_clusters)
        W[support] = (task_similarity * centers[:, clusters]
                      + np.sqrt(1 - task_similarity ** 2)
                      * rng.randn(n_informative, n_tasks))
        info["clusters"] = clusters
    elif structure == "graph":
        # Tasks on a chain: each task's weights are a small step from its
        # neighbour's, so neighbours in the graph are similar.
        steps = rng.randn(n_informative, n_tasks) * np.sqrt(1 - task_similarity ** 2)
        steps[:, 0] = rng.randn(n_informative)
        W[support] = np.cumsum(steps, axis=1)
        adjacency = np.zeros((n_tasks, n_tasks))
        idx = np.arange(n_tasks - 1)
        adjacency[idx, idx + 1] = adjacency[idx + 1, idx] = 1.0
        info["graph"] = adjacency
    else:
        W[support] = rng.randn(n_informative, n_tasks)
    info["support"] = support
    return W, info


def _sample_rows(n_samples, n_tasks, samples_per_task, missing_rate, rng):
    """Label mask (n_rows, n_tasks): which entries of ``Y`` are observed."""
    if samples_per_task is not None:
        counts = (np.full(n_tasks, samples_per_task)
                  if isinstance(samples_per_task, numbers.Integral)
                  else np.asarray(samples_per_task))
        if counts.shape != (n_tasks,) or np.any(counts < 1):
            raise ValueError(f"samples_per_task must be a positive int or {n_tasks} "
                             f"positive ints, got {samples_per_task!r}.")
        owner = np.repeat(np.arange(n_tasks), counts)
        observed = np.zeros((owner.size, n_tasks), dtype=bool)
        observed[np.arange(owner.size), owner] = True
        return observed
    if not 0.0 <= missing_rate < 1.0:
        raise ValueError(f"missing_rate must be in [0, 1), got {missing_rate!r}.")
    observed = rng.rand(n_samples, n_tasks) >= missing_rate
    for k in np.flatnonzero(observed.sum(axis=0) < 2):
        observed[rng.choice(n_samples, 2, replace=False), k] = True
    return observed


def make_multitask_regression(n_samples=200, n_features=20, n_tasks=5, *,
                              n_informative=5, structure="shared_support",
                              task_similarity=0.5, rank=2, n_clusters=2, noise=0.1,
                              samples_per_task=None, missing_rate=0.0,
                              random_state=None, return_structure=False):
    """Regression tasks that share a planted structure.

    ``Y[:, k] = X @ coef[:, k] + noise * N(0, 1)``, with ``coef`` drawn so that
    the tasks share the chosen structure:

    - ``"shared_support"``: the same ``n_informative`` features matter for every
      task (joint feature selection, L21); ``task_similarity`` in [0, 1] sets
      how alike the non-zero weights are;
    - ``"low_rank"``: ``coef`` has rank ``rank`` (trace norm);
    - ``"clusters"``: tasks fall in ``n_clusters`` groups with similar weights;
    - ``"graph"``: tasks on a chain, neighbours similar (graph Laplacian);
    - ``"independent"``: unrelated tasks on a shared support (a negative control).

    Parameters
    ----------
    n_samples : int, default=200
        Rows of ``X`` (ignored when ``samples_per_task`` is given).
    n_features : int, default=20
    n_tasks : int, default=5
    n_informative : int, default=5
        Features with non-zero weights.
    structure : str, default="shared_support"
    task_similarity : float, default=0.5
        In [0, 1]: 1 gives identical tasks within the structure.
    rank : int, default=2
        Rank of ``coef`` for ``structure="low_rank"``.
    n_clusters : int, default=2
        Number of task clusters for ``structure="clusters"``.
    noise : float, default=0.1
        Standard deviation of the Gaussian noise.
    samples_per_task : int or list of int, default=None
        Give each task its own samples (each row labelled for one task only),
        as in the "different samples per task" setting.
    missing_rate : float, default=0.0
        Fraction of entries of ``Y`` set to ``NaN`` (every task keeps at least
        two labels).
    random_state : int, RandomState or None, default=None
    return_structure : bool, default=False
        Also return a Bunch of what was planted.

    Returns
    -------
    X : ndarray of shape (n_rows, n_features)
    Y : ndarray of shape (n_rows, n_tasks)
        ``NaN`` where a label is missing.
    structure : Bunch
        Only with ``return_structure=True``: ``coef`` (n_features, n_tasks),
        ``support``, ``Y_full`` (the targets of every entry before masking), and
        ``clusters``, ``graph`` or ``rank`` for those structures.

    Examples
    --------
    >>> from skmtl.datasets import make_multitask_regression
    >>> X, Y, info = make_multitask_regression(n_samples=50, n_tasks=3,
    ...                                        random_state=0, return_structure=True)
    >>> X.shape, Y.shape, info.coef.shape
    ((50, 20), (50, 3), (20, 3))
    """
    rng = check_random_state(random_state)
    _check_positive_int(n_samples, "n_samples")
    _check_positive_int(n_features, "n_features")
    _check_positive_int(n_tasks, "n_tasks")
    _check_positive_int(n_informative, "n_informative")
    if n_informative > n_features:
        raise ValueError(f"n_informative={n_informative} exceeds n_features="
                         f"{n_features}.")
    if structure not in STRUCTURES:
        raise ValueError(f"structure must be one of {STRUCTURES}, got {structure!r}.")
    if not 0.0 <= task_similarity <= 1.0:
        raise ValueError(f"task_similarity must be in [0, 1], got "
                         f"{task_similarity!r}.")
    W, info = _coefficients(structure, n_features, n_tasks, n_informative, rank,
                            n_clusters, task_similarity, rng)
    observed = _sample_rows(n_samples, n_tasks, samples_per_task, missing_rate, rng)
    X = rng.randn(observed.shape[0], n_features)
    Y_full = X @ W + noise * rng.randn(observed.shape[0], n_tasks)
    Y = np.where(observed, Y_full, np.nan)
    if return_structure:
        return X, Y, Bunch(coef=W, Y_full=Y_full, **info)
    return X, Y


def make_multitask_classification(n_samples=200, n_features=20, n_tasks=5, *,
                                  n_classes=2, n_informative=5,
                                  task_similarity=0.5, class_sep=2.0,
                                  samples_per_task=None, missing_rate=0.0,
                                  random_state=None, return_structure=False):
    """Classification tasks whose class scores share a feature support.

    Task ``k`` draws labels from ``softmax(class_sep * X @ coef_k)``, where every
    ``coef_k`` (n_features, n_classes) is non-zero on the same ``n_informative``
    features and the tasks' weights are alike to the degree
    ``task_similarity``.

    Parameters
    ----------
    n_samples, n_features, n_tasks : int
    n_classes : int, default=2
        Classes per task (labels 0 .. n_classes-1).
    n_informative : int, default=5
    task_similarity : float, default=0.5
    class_sep : float, default=2.0
        Scale of the class scores; larger is easier.
    samples_per_task, missing_rate, random_state, return_structure
        As in :func:`make_multitask_regression`.

    Returns
    -------
    X : ndarray of shape (n_rows, n_features)
    Y : ndarray of shape (n_rows, n_tasks)
        Integer labels stored as float, ``NaN`` where missing.
    structure : Bunch
        Only with ``return_structure=True``: ``coef`` (n_tasks, n_features,
        n_classes), ``support``.

    Examples
    --------
    >>> from skmtl.datasets import make_multitask_classification
    >>> X, Y = make_multitask_classification(n_samples=40, n_tasks=2, random_state=0)
    >>> sorted(set(Y[:, 0].tolist()))
    [0.0, 1.0]
    """
    rng = check_random_state(random_state)
    _check_positive_int(n_classes, "n_classes", minimum=2)
    _check_positive_int(n_tasks, "n_tasks")
    _check_positive_int(n_features, "n_features")
    _check_positive_int(n_informative, "n_informative")
    if n_informative > n_features:
        raise ValueError(f"n_informative={n_informative} exceeds n_features="
                         f"{n_features}.")
    support = np.sort(rng.choice(n_features, n_informative, replace=False))
    shared = rng.randn(n_informative, n_classes)
    coef = np.zeros((n_tasks, n_features, n_classes))
    for k in range(n_tasks):
        coef[k, support] = (task_similarity * shared + np.sqrt(1 - task_similarity ** 2)
                            * rng.randn(n_informative, n_classes))
    coef /= np.sqrt(n_informative)
    observed = _sample_rows(n_samples, n_tasks, samples_per_task, missing_rate, rng)
    X = rng.randn(observed.shape[0], n_features)
    Y = np.empty((observed.shape[0], n_tasks))
    for k in range(n_tasks):
        scores = class_sep * X @ coef[k]
        scores -= scores.max(axis=1, keepdims=True)
        p = np.exp(scores)
        p /= p.sum(axis=1, keepdims=True)
        cumulative = p.cumsum(axis=1)
        Y[:, k] = (rng.rand(len(X), 1) > cumulative[:, :-1]).sum(axis=1)
    Y = np.where(observed, Y, np.nan)
    if return_structure:
        return X, Y, Bunch(coef=coef, support=support)
    return X, Y
