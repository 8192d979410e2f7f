"""FairGrad: an alpha-fair allocation of the step across tasks, and its kernel."""

import numpy as np

from ._base import WEIGHTINGS
from ._jacobian import GradientWeighting, check_gram
from ._nash_mtl import _positive_newton, nash_weights

__all__ = ["FairGrad", "fairgrad_weights"]


class FairGrad(GradientWeighting):
    """Fair resource allocation in multi-task learning (Ban & Ji, 2024).

    The step ``d = w @ J`` is chosen so that the tasks' gains ``g_k . d``
    (their first-order loss decreases) are an alpha-fair allocation: ``w >
    0`` solves

        ``(G w)_k = w_k ** (-1 / alpha)`` for every task ``k``,

    on the Gram matrix ``G = J J^T``. ``alpha = 1`` is proportional
    fairness (Nash-MTL's bargaining solution); larger ``alpha`` favours the
    task with the smallest gain (max-min fairness as ``alpha -> inf``);
    ``alpha -> 0`` approaches the plain sum. Each head keeps its own task's
    gradient.

    Parameters
    ----------
    alpha : float, default=2.0
        Fairness.
    on : {"parameters", "representation"}, default="parameters"
        Task gradients of the shared parameters, or of the shared
        representation (the cheap form; see :class:`GradientWeighting`).

    See Also
    --------
    NashMTL : The case ``alpha = 1``, heads included.

    Notes
    -----
    Solved exactly by damped Newton steps on a strictly convex problem
    (:func:`~skmtl.neural.weighting._fairgrad.fairgrad_weights`) instead
    of the authors' least-squares iterations (as torchjd's ``FairGrad``).
    One backward pass per task. Reference: [1]_.

    References
    ----------
    .. [1] H. Ban and K. Ji, "Fair resource allocation in multi-task
       learning", ICML 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl import Task
    >>> from skmtl.neural.weighting import FairGrad
    >>> strategy = FairGrad(alpha=1.0).initialize([Task("a"), Task("b")])
    >>> strategy.gram_weights(np.diag([4.0, 1.0])).round(6).tolist()  # Nash
    [0.5, 1.0]
    """

    def __init__(self, alpha=2.0, on="parameters"):
        self.alpha = alpha
        self.on = on

    def initialize(self, tasks):
        super().initialize(tasks)
        if not self.alpha > 0:
            raise ValueError(f"FairGrad: alpha must be > 0, got {self.alpha!r}.")
        return self

    def gram_weights(self, gram):
        return fairgrad_weights(gram, alpha=float(self.alpha))



def fairgrad_weights(gram, alpha=1.0, *, tol=1e-10, max_iter=100):
    """Weights of FairGrad's alpha-fair allocation (Ban & Ji 2024).

    Finds ``w > 0`` with ``(G @ w)_k = w_k ** (-1 / alpha)``: along
    ``d = w @ J`` the gain of task ``k`` is ``w_k ** (-1/alpha)``, the
    alpha-fair resource allocation. ``alpha = 1`` is Nash-MTL's
    bargaining solution. These are the stationarity conditions of the
    strictly convex ``w @ G @ w / 2 - sum_k F(w_k)`` with ``F(w) = w ** (1 -
    1/alpha) / (1 - 1/alpha)`` (``log w`` when ``alpha = 1``), solved by
    damped Newton steps.

    Parameters
    ----------
    gram : array-like of shape (n_tasks, n_tasks)
    alpha : float, default=1.0
        Fairness: 1 is proportional fairness, large values approach the
        max-min allocation.
    tol : float, default=1e-10
    max_iter : int, default=100

    Returns
    -------
    w : ndarray of shape (n_tasks,)

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural.weighting._fairgrad import fairgrad_weights
    >>> np.round(fairgrad_weights(np.diag([4.0, 1.0]), alpha=2.0), 6).tolist()
    [0.39685, 1.0]
    """
    G = check_gram(gram)
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha!r}.")
    if alpha == 1:
        return nash_weights(G, tol=tol, max_iter=max_iter)
    G = G + np.diag(1e-12 * np.maximum(np.diag(G), 1e-300))
    p = 1.0 / alpha
    w = np.maximum(np.diag(G), 1e-30) ** (-alpha / (alpha + 1))

    def objective(v):
        return 0.5 * v @ G @ v - np.sum(v ** (1 - p)) / (1 - p)

    return _positive_newton(
        objective, lambda v: G @ v - v ** (-p),
        lambda v: G + np.diag(p * v ** (-p - 1)), w, tol, max_iter)


WEIGHTINGS.register("fairgrad", FairGrad)
