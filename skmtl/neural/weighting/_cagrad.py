"""CAGrad: conflict-averse gradient descent, and its kernel on the Gram matrix."""

import numpy as np

from ._base import WEIGHTINGS
from ._jacobian import GradientWeighting, check_gram

__all__ = ["CAGrad", "cagrad_weights", "project_simplex"]


class CAGrad(GradientWeighting):
    """Conflict-averse gradient descent (Liu et al., 2021).

    With ``g0`` the average task gradient, CAGrad looks within the ball of
    radius ``c ||g0||`` around ``g0`` for the direction that most improves
    the worst task: ``d = g0 + c ||g0|| g_w / ||g_w||``, where ``g_w = w @ J``
    and ``w`` on the simplex minimizes ``g_w . g0 + c ||g0|| ||g_w||``; the
    result is divided by ``1 + c²``. ``c = 0`` is the average gradient.
    Each head keeps its own task's gradient.

    Parameters
    ----------
    c : float, default=0.4
        Radius of the ball, relative to ``||g0||`` (the authors use 0.4).
    rescale : bool, default=True
        Divide the direction by ``1 + c²``.
    on : {"parameters", "representation"}, default="parameters"
        Task gradients of the shared parameters, or of the shared
        representation (the cheap form; see :class:`GradientWeighting`).

    Notes
    -----
    The dual problem is solved on the Gram matrix by projected gradient
    (:func:`~skmtl.neural.weighting._cagrad.cagrad_weights`). One
    backward pass per task. Reference: [1]_.

    References
    ----------
    .. [1] B. Liu, X. Liu, X. Jin, P. Stone and Q. Liu, "Conflict-averse
       gradient descent for multi-task learning", NeurIPS 2021.

    Examples
    --------
    >>> from skmtl.neural.weighting import CAGrad
    >>> CAGrad(c=0.2)
    CAGrad(c=0.2)
    """

    def __init__(self, c=0.4, rescale=True, on="parameters"):
        self.c = c
        self.rescale = rescale
        self.on = on

    def initialize(self, tasks):
        super().initialize(tasks)
        if not self.c >= 0:
            raise ValueError(f"CAGrad: c must be >= 0, got {self.c!r}.")
        return self

    def gram_weights(self, gram):
        return cagrad_weights(gram, c=float(self.c), rescale=bool(self.rescale))



def cagrad_weights(gram, c=0.5, *, rescale=True, max_iter=500, tol=1e-10):
    """Weights of the conflict-averse gradient (CAGrad, Liu et al. 2021).

    With the average gradient ``g0`` and ``phi = c**2 ||g0||**2``, CAGrad solves
    ``min_{w in simplex} g_w . g0 + sqrt(phi) ||g_w||`` (``g_w = w @ J``) and
    returns ``d = g0 + sqrt(phi) / ||g_w|| * g_w``, divided by ``1 + c**2`` when
    ``rescale``. The inner problem is solved by projected gradient descent
    with backtracking on the Gram matrix.

    Parameters
    ----------
    gram : array-like of shape (n_tasks, n_tasks)
    c : float, default=0.5
        Radius of the ball around ``g0`` where the worst task is improved;
        ``c=0`` gives the average gradient.
    rescale : bool, default=True
    max_iter : int, default=500
    tol : float, default=1e-10

    Returns
    -------
    w : ndarray of shape (n_tasks,)
        ``d = w @ J``.
    """
    G = check_gram(gram)
    n = G.shape[0]
    mean = np.full(n, 1.0 / n)
    g0_norm = np.sqrt(max(mean @ G @ mean, 0.0))
    sqrt_phi = c * g0_norm
    if sqrt_phi == 0:
        return mean / (1 + c ** 2) if rescale else mean
    b = G @ mean  # g_j . g0

    def objective(w):
        return w @ b + sqrt_phi * np.sqrt(max(w @ G @ w, 1e-30))

    w = mean.copy()
    value = objective(w)
    step = 1.0 / max(np.linalg.norm(G, 2), 1e-30)
    for _ in range(max_iter):
        norm = np.sqrt(max(w @ G @ w, 1e-30))
        gradient = b + sqrt_phi * (G @ w) / norm
        while True:
            candidate = project_simplex(w - step * gradient)
            new_value = objective(candidate)
            if new_value <= value - 1e-4 * gradient @ (w - candidate) or step < 1e-20:
                break
            step /= 2
        if abs(value - new_value) <= tol * max(1.0, abs(value)):
            w, value = candidate, new_value
            break
        w, value = candidate, new_value
        step *= 2
    gw_norm = np.sqrt(max(w @ G @ w, 1e-30))
    weights = mean + sqrt_phi / gw_norm * w
    return weights / (1 + c ** 2) if rescale else weights



def project_simplex(v):
    """Euclidean projection of ``v`` onto the probability simplex.

    Parameters
    ----------
    v : array-like of shape (n,)

    Returns
    -------
    w : ndarray of shape (n,)
        ``argmin_{w >= 0, sum w = 1} ||w - v||``.

    Examples
    --------
    >>> from skmtl.neural.weighting._cagrad import project_simplex
    >>> project_simplex([0.5, 2.0, -1.0]).tolist()
    [0.0, 1.0, 0.0]
    """
    v = np.asarray(v, dtype=np.float64)
    u = np.sort(v)[::-1]
    cumulative = np.cumsum(u) - 1.0
    index = np.arange(1, len(v) + 1)
    rho = np.nonzero(u - cumulative / index > 0)[0][-1]
    theta = cumulative[rho] / (rho + 1)
    return np.maximum(v - theta, 0.0)


WEIGHTINGS.register("cagrad", CAGrad)
