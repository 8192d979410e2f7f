"""Nash-MTL: the Nash bargaining solution of the tasks, and its kernel."""

import numpy as np
import torch

from ._base import WEIGHTINGS, backward_total
from ._jacobian import GradientWeighting, check_gram
from ._processes import plain_module, sum_gradients, task_shares

__all__ = ["NashMTL", "nash_weights"]


class NashMTL(GradientWeighting):
    """Multi-task learning as a bargaining game: Nash-MTL (Navon et al., 2022).

    The weights ``alpha > 0`` solve ``alpha_k (G alpha)_k = 1`` for every
    task on the Gram matrix ``G = J J^T`` of the task gradients: along
    ``d = alpha @ J`` each task's gain ``g_k . d`` equals ``1 / alpha_k``,
    the Nash bargaining solution. It is invariant to the scale of each
    task's loss: multiplying ``L_k`` by ``c`` divides ``alpha_k`` by ``c``
    and leaves ``d`` unchanged; with orthogonal gradients ``alpha_k = 1 /
    ||g_k||``. The whole model is trained on ``sum_k alpha_k L_k``: the
    heads get their gradient scaled by ``alpha_k``.

    Parameters
    ----------
    update_every : int, default=1
        Recompute ``alpha`` every ``update_every`` steps and train on
        ``sum_k alpha_k L_k`` with the last ``alpha`` in between (plain,
        cheap steps); the authors use up to 25 on large models.
    on : {"parameters", "representation"}, default="parameters"
        Task gradients of the shared parameters, or of the shared
        representation (the cheap form; see :class:`GradientWeighting`).

    Notes
    -----
    ``alpha`` is found by damped Newton steps on the strictly convex problem
    whose stationarity conditions are ``G alpha = 1 / alpha``
    (:func:`~skmtl.neural.weighting._nash_mtl.nash_weights`), instead of the
    authors' sequence of convex programs. It is solved on ``G / ||G||_F``
    (better conditioned) and rescaled by ``||G||_F ** -1/2`` to solve the
    equations on ``G`` itself; the authors' code returns the weights of the
    normalized problem unchanged, an update that grows as ``||G||_F ** 1/2``
    (proportional to the gradients' scale) instead of being scale-free.
    Reference: [1]_.

    References
    ----------
    .. [1] A. Navon, A. Shamsian, I. Achituve, H. Maron, K. Kawaguchi,
       G. Chechik and E. Fetaya, "Multi-task learning as a bargaining game",
       ICML 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl import Task
    >>> from skmtl.neural.weighting import NashMTL
    >>> strategy = NashMTL().initialize([Task("a"), Task("b")])
    >>> strategy.gram_weights(np.diag([4.0, 1.0])).round(6).tolist()  # 1 / ||g_k||
    [0.5, 1.0]
    >>> NashMTL(update_every=5).get_params()
    {'on': 'parameters', 'update_every': 5}
    """

    def __init__(self, update_every=1, on="parameters"):
        self.update_every = update_every
        self.on = on

    def initialize(self, tasks):
        super().initialize(tasks)
        if int(self.update_every) != self.update_every or self.update_every < 1:
            raise ValueError(f"NashMTL: update_every must be a positive integer, "
                             f"got {self.update_every!r}.")
        self._step = 0
        # the weights of the last update, used until the next
        self.register_buffer("alpha_", torch.zeros(self.n_tasks_, dtype=torch.float64))
        return self

    def backward(self, task_losses, net, penalty=None):
        step, self._step = self._step, self._step + 1
        if step % int(self.update_every) == 0:
            return super().backward(task_losses, net, penalty)
        # in between: a plain step on sum_k alpha_k L_k with the last alpha
        alpha = self.alpha_.to(task_losses.dtype)
        shares = task_shares(net, task_losses)
        if shares is None:
            backward_total((alpha * task_losses).sum(), penalty)
        else:
            # this process's part of the global batch's step, summed across
            # processes; the penalty, the same on each, counted once
            backward_total((alpha * shares * task_losses).sum(),
                           None if penalty is None else penalty / net.n_processes)
            sum_gradients(net, plain_module(net).parameters())
        self.record_weights(self.alpha_)
        return task_losses.detach().sum() + (0 if penalty is None
                                             else penalty.detach())

    def gram_weights(self, gram):
        # solved on G / ||G||_F for conditioning; if alpha_n solves
        # alpha_n * (G/s alpha_n) = 1, then alpha = alpha_n / sqrt(s) solves
        # alpha * (G alpha) = 1 on the raw Gram matrix
        scale = np.linalg.norm(gram)
        return nash_weights(gram / scale) / np.sqrt(scale)

    _gram_combination = True   # the default's, then weights of its own

    def combine_jacobian(self, jacobian, task_losses, parameters):
        direction, weights = super().combine_jacobian(jacobian, task_losses,
                                                      parameters)
        self.alpha_.copy_(torch.from_numpy(weights))
        return direction, weights

    _weighted_loss_step = True   # head_coefficients are the weights

    def head_coefficients(self, weights, task_losses):
        # the whole model is trained on sum_k alpha_k L_k
        return weights



def nash_weights(gram, *, tol=1e-10, max_iter=100):
    """Nash-bargaining weights of Nash-MTL (Navon et al. 2022).

    Finds ``alpha > 0`` with ``G @ alpha = 1 / alpha`` (element-wise): each
    task's gain along ``d = alpha @ J`` is inversely proportional to its
    weight. These are the stationarity conditions of the strictly convex
    problem ``min_{alpha > 0} alpha @ G @ alpha / 2 - sum(log(alpha))``,
    solved here by damped Newton steps (exact to ``tol``), instead of the
    sequence of convex programs of the original paper.

    Parameters
    ----------
    gram : array-like of shape (n_tasks, n_tasks)
    tol : float, default=1e-10
        Tolerance on the Newton decrement.
    max_iter : int, default=100

    Returns
    -------
    alpha : ndarray of shape (n_tasks,)

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural.weighting._nash_mtl import nash_weights
    >>> np.round(nash_weights(np.diag([4.0, 1.0])), 6).tolist()  # 1/||g_k||
    [0.5, 1.0]
    """
    G = check_gram(gram)
    # A tiny ridge, relative to each task's own squared norm (so that the
    # solution stays invariant to the scale of each task), keeps the problem
    # strictly convex when gradients are collinear.
    G = G + np.diag(1e-12 * np.maximum(np.diag(G), 1e-300))
    alpha = 1.0 / np.sqrt(np.maximum(np.diag(G), 1e-30))

    def objective(a):
        return 0.5 * a @ G @ a - np.sum(np.log(a))

    return _positive_newton(
        objective, lambda a: G @ a - 1.0 / a,
        lambda a: G + np.diag(1.0 / a ** 2), alpha, tol, max_iter)



def _positive_newton(objective, gradient_of, hessian_of, x, tol, max_iter):
    """Minimise a strictly convex ``objective`` over ``x > 0`` by damped Newton
    steps (halved to stay positive, then Armijo backtracking)."""
    for _ in range(max_iter):
        gradient = gradient_of(x)
        direction = -np.linalg.solve(hessian_of(x), gradient)
        decrement = -gradient @ direction
        if decrement / 2 <= tol:
            break
        step = 1.0
        while np.any(x + step * direction <= 0):
            step /= 2
        value = objective(x)
        while objective(x + step * direction) > value - 0.25 * step * decrement:
            step /= 2
            if step < 1e-16:
                break
        x = x + step * direction
    return x


WEIGHTINGS.register("nash_mtl", NashMTL, aliases=("nash",))
