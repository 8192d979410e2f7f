"""Which tasks to train together: partition tasks by their affinity."""

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["suggest_task_groups", "grouping_score"]

_EXHAUSTIVE_LIMIT = 200_000


def _check_affinity(affinity):
    A = np.asarray(affinity, dtype=float)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"affinity must be a square (n_tasks, n_tasks) matrix, got "
                         f"shape {A.shape}.")
    if not np.all(np.isfinite(A)):
        raise ValueError("affinity holds NaN or inf; every pair needs a value.")
    return A


def grouping_score(affinity, labels):
    """Total within-group affinity of a partition.

    Each task ``j`` scores the mean affinity ``A[i, j]`` from the other members
    ``i`` of its group (zero when it is alone); the partition scores the sum
    over tasks. Averaging (rather than summing) keeps large groups from
    winning by size alone.

    Parameters
    ----------
    affinity : array-like of shape (n_tasks, n_tasks)
        ``affinity[i, j]``: how much task i helps task j.
    labels : array-like of shape (n_tasks,)
        Group of each task.

    Returns
    -------
    score : float
    """
    A = _check_affinity(affinity)
    labels = np.asarray(labels)
    same = labels[:, None] == labels[None, :]
    np.fill_diagonal(same, False)
    counts = same.sum(axis=0)
    totals = (A * same).sum(axis=0)
    return float(np.sum(np.where(counts > 0, totals / np.maximum(counts, 1), 0.0)))


def _partitions(n, k):
    """All partitions of range(n) into exactly k non-empty groups (labels)."""
    labels = np.zeros(n, dtype=int)

    def extend(i, used):
        if n - i < k - used:
            return
        if i == n:
            if used == k:
                yield labels.copy()
            return
        for g in range(min(used + 1, k)):
            labels[i] = g
            yield from extend(i + 1, max(used, g + 1))

    yield from extend(1, 1) if n else iter(())


def _stirling2(n, k):
    row = [1] + [0] * k
    for i in range(1, n + 1):
        new = [0] * (k + 1)
        for j in range(1, min(i, k) + 1):
            new[j] = j * row[j] + row[j - 1]
        row = new
    return row[k]


def _local_search(A, labels, n_groups):
    """Move single tasks between groups while the score improves."""
    best = grouping_score(A, labels)
    improved = True
    while improved:
        improved = False
        for t in range(len(labels)):
            for g in range(n_groups):
                if g == labels[t] or np.sum(labels == labels[t]) == 1:
                    continue
                candidate = labels.copy()
                candidate[t] = g
                score = grouping_score(A, candidate)
                if score > best + 1e-12:
                    labels, best, improved = candidate, score, True
    return labels, best


def suggest_task_groups(affinity, n_groups, *, task_names=None, n_init=20,
                        random_state=0, return_score=False):
    """Split tasks into ``n_groups`` groups that maximise within-group affinity.

    The partition maximises :func:`grouping_score`: each task's mean affinity
    from the other tasks of its group, summed over tasks. Small problems are
    solved exactly by enumerating every partition; larger ones by local search
    (single-task moves) from ``n_init`` starts.

    Parameters
    ----------
    affinity : array-like of shape (n_tasks, n_tasks)
        ``affinity[i, j]``: how much task i helps task j (e.g. from
        :func:`task_affinity`); need not be symmetric.
    n_groups : int
        Number of groups, between 1 and ``n_tasks``.
    task_names : list of str, default=None
        Return groups of names instead of indices.
    n_init : int, default=20
        Starts of the local search (large problems only).
    random_state : int, default=0
    return_score : bool, default=False
        Also return the partition's score.

    Returns
    -------
    groups : list of list
        Task indices (or names) of each group, each sorted, groups ordered by
        their first task.
    score : float
        Only with ``return_score=True``.

    See Also
    --------
    task_affinity : Measure the affinity between tasks.

    Notes
    -----
    The objective follows the group-selection step of Fifty et al. (2021),
    "Efficiently identifying task groupings for multi-task learning", with
    each task in exactly one group.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.model_selection import suggest_task_groups
    >>> A = np.array([[0, 1, -1, -1], [1, 0, -1, -1], [-1, -1, 0, 2],
    ...               [-1, -1, 2, 0]])
    >>> suggest_task_groups(A, 2)
    [[0, 1], [2, 3]]
    """
    A = _check_affinity(affinity)
    n_tasks = A.shape[0]
    if not isinstance(n_groups, int | np.integer) or not 1 <= n_groups <= n_tasks:
        raise ValueError(f"n_groups must be an integer between 1 and the number of "
                         f"tasks ({n_tasks}), got {n_groups!r}.")
    if task_names is not None and len(task_names) != n_tasks:
        raise ValueError(f"task_names has {len(task_names)} names for {n_tasks} "
                         f"tasks.")
    if _stirling2(n_tasks, n_groups) <= _EXHAUSTIVE_LIMIT:
        best_labels, best = None, -np.inf
        for labels in _partitions(n_tasks, n_groups):
            score = grouping_score(A, labels)
            if score > best + 1e-12:
                best_labels, best = labels, score
    else:
        rng = check_random_state(random_state)
        best_labels, best = None, -np.inf
        for _ in range(n_init):
            labels = np.concatenate([np.arange(n_groups),
                                     rng.randint(n_groups, size=n_tasks - n_groups)])
            rng.shuffle(labels)
            labels, score = _local_search(A, labels, n_groups)
            if score > best:
                best_labels, best = labels, score
    groups = [sorted(np.flatnonzero(best_labels == g).tolist())
              for g in np.unique(best_labels)]
    groups.sort(key=lambda g: g[0])
    if task_names is not None:
        groups = [[task_names[t] for t in g] for g in groups]
    return (groups, best) if return_score else groups
