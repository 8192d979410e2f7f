"""PCGrad: projecting conflicting gradients, and its kernel on the Gram matrix."""

import numpy as np
import torch

from ._base import WEIGHTINGS
from ._jacobian import GradientWeighting, check_gram

__all__ = ["PCGrad", "pcgrad_weights"]


class PCGrad(GradientWeighting):
    """Projecting conflicting gradients, "gradient surgery" (Yu et al., 2020).

    Each task's gradient ``g_i`` is projected, over the other tasks in a
    random order, onto the normal plane of every gradient ``g_j`` it
    conflicts with (``g_i . g_j < 0``): ``g_i <- g_i - (g_i . g_j) /
    ||g_j||² g_j``. The shared parameters get the sum of the projected
    gradients; each head keeps its own task's gradient. Without conflict the
    result is the plain sum of the gradients.

    Parameters
    ----------
    on : {"parameters", "representation"}, default="parameters"
        Task gradients of the shared parameters, or of the shared
        representation (the cheap form; see :class:`GradientWeighting`).

    See Also
    --------
    CAGrad, MGDA, UPGrad : Other combinations of conflicting gradients.

    Notes
    -----
    The projections are computed on the Gram matrix of the task gradients
    (:func:`~skmtl.neural.weighting._pcgrad.pcgrad_weights`): the result
    is ``w @ J`` with weights tracked through the projections. The visiting
    order is drawn from torch's generator each step. The per-task gradients
    cost a backward pass per task through the shared layers (batched into
    one with :class:`~skmtl.neural.HardSharing`). The recorded weights are
    the epoch means of ``w``. Reference: [1]_.

    References
    ----------
    .. [1] T. Yu, S. Kumar, A. Gupta, S. Levine, K. Hausman and C. Finn,
       "Gradient surgery for multi-task learning", NeurIPS 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural import MultiTaskRegressor
    >>> from skmtl.neural.weighting import PCGrad
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(100, 3)
    >>> Y = np.c_[X[:, 0], -X[:, 0] + X[:, 1]]
    >>> est = MultiTaskRegressor(weighting=PCGrad(), hidden_layer_sizes=(8,),
    ...                          max_epochs=3, random_state=0).fit(X, Y)
    >>> est.task_weights_history_.shape
    (3, 2)
    """

    def __init__(self, on="parameters"):
        self.on = on

    def gram_weights(self, gram):
        order = torch.randperm(len(gram)).numpy()
        return pcgrad_weights(gram, order=order)



def pcgrad_weights(gram, order=None):
    """Weights of PCGrad's "gradient surgery" direction.

    Each task gradient is projected, in turn over the other tasks in
    ``order``, onto the normal plane of every gradient it conflicts with
    (negative inner product); the projected gradients are summed (Yu et al.
    2020). Projections are tracked as combinations of the original gradients,
    so only the Gram matrix is needed.

    Parameters
    ----------
    gram : array-like of shape (n_tasks, n_tasks)
    order : array-like of int, default=None
        Order in which the other tasks are visited (PCGrad shuffles it each
        step); None visits them by index.

    Returns
    -------
    w : ndarray of shape (n_tasks,)
        ``d = w @ J`` is the PCGrad direction.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural.weighting._pcgrad import pcgrad_weights
    >>> J = np.array([[1.0, 0.0], [-0.5, 1.0]])
    >>> (pcgrad_weights(J @ J.T) @ J).tolist()
    [0.8, 1.4]
    """
    G = check_gram(gram)
    n = G.shape[0]
    order = np.arange(n) if order is None else np.asarray(order)
    total = np.zeros(n)
    for i in range(n):
        c = np.zeros(n)
        c[i] = 1.0
        for j in order:
            if j == i:
                continue
            inner = c @ G[:, j]
            if inner < 0 and G[j, j] > 0:
                c[j] -= inner / G[j, j]
        total += c
    return total


WEIGHTINGS.register("pcgrad", PCGrad)
