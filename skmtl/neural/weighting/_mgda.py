"""MGDA: the minimum-norm point of the task gradients' convex hull, and its kernel."""

import numpy as np

from ._base import WEIGHTINGS
from ._jacobian import GradientWeighting, check_gram

__all__ = ["MGDA", "min_norm_weights"]


class MGDA(GradientWeighting):
    """Multiple-gradient descent: the minimum-norm point of the gradients' hull.

    The shared parameters get ``d = w @ J`` with ``w`` on the simplex
    minimizing ``||w @ J||``: the minimum-norm element of the convex hull of
    the task gradients. When ``d`` is not zero it is a common descent
    direction (``d . g_k >= ||d||² > 0`` for every task); ``d = 0`` means the
    parameters are Pareto-stationary. Each head keeps its own task's
    gradient. With a ``normalization`` the weights are those of the
    normalized gradients, rescaled for the raw losses (they no longer sum
    to one).

    Parameters
    ----------
    normalization : {"loss+", "l2", "loss", "none"}, default="loss+"
        What each task's gradient is divided by before the min-norm point
        is found: its loss times its norm (``"loss+"``), its norm, its loss,
        or nothing (``"none"``, the plain method). The raw losses then get
        ``w_k mean(n) / n_k``: the min-norm direction of the normalized
        gradients at the raw gradients' scale. These are the normalizations
        of Sener & Koltun's code.
    on : {"parameters", "representation"}, default="parameters"
        Task gradients of the shared parameters, or of the shared
        representation (the cheap form; see :class:`GradientWeighting`).

    See Also
    --------
    MGDAUB : ``MGDA(on="representation")`` with heads scaled by the weights.

    Notes
    -----
    Solved exactly for any number of tasks by Wolfe's minimum-norm-point
    algorithm on the Gram matrix
    (:func:`~skmtl.neural.weighting._mgda.min_norm_weights`); Sener &
    Koltun [1]_ use Frank-Wolfe iterations. One backward pass per task.

    **Why normalized by default.** The min-norm point of the raw gradients
    leans on the task with the smallest gradient. On ``bench_weighting.py``'s
    digits problem the class's cross-entropy sits on its plateau for the
    first epochs while the box's MSE falls five-fold; with
    ``normalization="none"`` the accuracy / IoU were 0.69 / 0.86 (equal
    weights: 0.73 / 0.79): the box gained and the class lost. With
    ``"loss+"`` a task's gradient counts relative to its loss and norm:
    0.78 / 0.75 and 0.74 / 0.72 (seeds 0 and 1; equal weights 0.73 / 0.79
    and 0.71 / 0.78). ``"l2"``: 0.74 / 0.82 (seed 0). Single runs of
    ``benchmarks/weighting_notes.py mgda equal`` on the fused Adam default
    (December 2026); the figures before it moved by at most 0.01.

    References
    ----------
    .. [1] O. Sener and V. Koltun, "Multi-task learning as multi-objective
       optimization", NeurIPS 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural import MultiTaskRegressor
    >>> from skmtl.neural.weighting import MGDA
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(100, 3)
    >>> Y = np.c_[X[:, 0], X[:, 1], X[:, 2]]
    >>> est = MultiTaskRegressor(weighting=MGDA(normalization="none"),
    ...                          hidden_layer_sizes=(8,), max_epochs=2,
    ...                          random_state=0).fit(X, Y)
    >>> np.allclose(est.task_weights_history_.sum(axis=1), 1.0)
    True
    """

    def __init__(self, normalization="loss+", on="parameters"):
        self.normalization = normalization
        self.on = on

    def initialize(self, tasks):
        super().initialize(tasks)
        _check_normalization("MGDA", self.normalization)
        return self

    def gram_weights(self, gram):
        return _normalized_min_norm(gram, self._active_losses(), self.normalization)



_NORMALIZATIONS = ("l2", "loss", "loss+", "none")



def _check_normalization(owner, normalization):
    if normalization not in _NORMALIZATIONS:
        raise ValueError(f"{owner}: normalization must be one of {_NORMALIZATIONS}, "
                         f"got {normalization!r}.")



def _normalized_min_norm(gram, losses, normalization):
    """MGDA's raw-loss weights, from the min-norm point of normalized gradients.

    Each task's gradient is divided by ``n_k`` (its norm for ``"l2"``, its
    loss for ``"loss"``, both for ``"loss+"``, 1 for ``"none"``), the
    min-norm weights ``w`` of the normalized gradients are found, and the
    raw losses get ``w_k mean(n) / n_k``: the direction is the min-norm
    point of the normalized gradients, at the scale of the raw gradients.
    """
    if normalization == "none":
        return min_norm_weights(gram)
    norms = np.sqrt(np.maximum(np.diag(gram), 1e-300))
    if normalization == "l2":
        n = norms
    elif normalization == "loss":
        n = np.maximum(losses, 1e-12)
    else:
        n = np.maximum(losses, 1e-12) * norms
    w = min_norm_weights(gram / np.outer(n, n))
    return w * n.mean() / n



def min_norm_weights(gram, *, tol=1e-12, max_iter=1000):
    """Convex weights of the minimum-norm point of the tasks' gradient hull.

    Solves ``min_{w in simplex} w @ G @ w`` exactly with Wolfe's (1976)
    minimum-norm-point algorithm on the Gram matrix: the direction
    ``d = w @ J`` is MGDA's common descent direction (Désidéri 2012; Sener &
    Koltun 2018), for any number of tasks.

    Parameters
    ----------
    gram : array-like of shape (n_tasks, n_tasks)
        Gram matrix ``J @ J.T`` of the task gradients.
    tol : float, default=1e-12
        Relative optimality tolerance.
    max_iter : int, default=1000

    Returns
    -------
    w : ndarray of shape (n_tasks,)
        Non-negative weights summing to one.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural.weighting._mgda import min_norm_weights
    >>> J = np.array([[1.0, 0.0], [-0.5, 1.0]])
    >>> np.round(min_norm_weights(J @ J.T) @ J, 4).tolist()
    [0.3077, 0.4615]
    """
    G = check_gram(gram)
    n = G.shape[0]
    scale = max(np.max(np.diag(G)), np.finfo(float).tiny)
    alpha = _interior_min_norm(G, tol, scale)
    if alpha is not None:
        return alpha
    # Start from the point of smallest norm.
    start = int(np.argmin(np.diag(G)))
    S = [start]
    lam = np.array([1.0])
    for _ in range(max_iter):
        w = np.zeros(n)
        w[S] = lam
        gradient = G @ w  # x . g_j for every vertex j
        norm2 = w @ gradient
        j = int(np.argmin(gradient))
        # Wolfe's stopping rule: no vertex improves on the current point.
        if norm2 - gradient[j] <= tol * scale or j in S:
            return w
        S.append(j)
        lam = np.append(lam, 0.0)
        while True:
            alpha = _affine_minimizer(G, S)
            if np.all(alpha > tol):
                lam = alpha
                break
            # Move towards the affine minimizer until a weight hits zero, drop it.
            negative = alpha <= tol
            ratios = lam[negative] / np.maximum(lam[negative] - alpha[negative],
                                                np.finfo(float).tiny)
            theta = min(1.0, float(np.min(ratios)))
            lam = theta * alpha + (1 - theta) * lam
            keep = lam > tol
            S = [s for s, k in zip(S, keep) if k]
            lam = lam[keep]
            lam = lam / lam.sum()
    w = np.zeros(n)
    w[S] = lam
    return w



def _interior_min_norm(G, tol, scale):
    """Weights of the min-norm point of the affine hull of all the gradients,
    when they are all positive and pass Wolfe's stopping rule; else None.

    That point is then in the convex hull, so it is the hull's min-norm
    point, the one Wolfe's algorithm ends on (tasks that conflict little,
    the usual case with few tasks): one solve of the optimality system
    instead of the iterations (a tenth of the time with 10 tasks; in a
    training step ``np.linalg.solve`` costs about half of ``lstsq``).
    A singular system (affinely dependent gradients) goes to the
    iterations; for gradients dependent up to rounding, whose min-norm
    point has many weightings, the weights may differ from the iterations'
    (e.g. split between two equal gradients), the point is the same.
    """
    n = G.shape[0]
    system = np.ones((n + 1, n + 1))
    system[:n, :n] = G
    system[n, n] = 0.0
    rhs = np.zeros(n + 1)
    rhs[n] = 1.0
    try:
        alpha = np.linalg.solve(system, rhs)[:n]
    except np.linalg.LinAlgError:
        return None
    if not np.all(alpha > tol):
        return None
    gradient = G @ alpha
    if alpha @ gradient - gradient.min() > tol * scale:
        return None
    return alpha


def _affine_minimizer(G, S):
    """Weights on ``S`` of the minimum-norm point of the affine hull of ``S``."""
    k = len(S)
    system = np.zeros((k + 1, k + 1))
    system[:k, :k] = G[np.ix_(S, S)]
    system[:k, k] = system[k, :k] = 1.0
    rhs = np.zeros(k + 1)
    rhs[k] = 1.0
    solution = np.linalg.lstsq(system, rhs, rcond=None)[0]
    return solution[:k]


WEIGHTINGS.register("mgda", MGDA)
