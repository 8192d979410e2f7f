"""ConFIG: the conflict-free direction of equal cosines, and its kernel."""

import numpy as np

from ._base import WEIGHTINGS, _check_pref
from ._jacobian import GradientWeighting, check_gram

__all__ = ["ConFIG", "config_weights"]


class ConFIG(GradientWeighting):
    """Conflict-free inverse gradients (Liu et al., 2025).

    The direction ``v`` has the same cosine with every task gradient:
    ``v = U^+ pref`` with ``U`` the unit task gradients (rows ``g_k /
    ||g_k||``), so ``u_k . v = pref_k``; the shared parameters get it at
    the length of the sum of the gradients' projections onto it,
    ``(sum_k g_k . v') v'`` with ``v' = v / ||v||``. With positive
    preferences it conflicts with no task. Each head keeps its own task's
    gradient.

    Parameters
    ----------
    pref_vector : None or array-like of shape (n_tasks,), default=None
        None is ones (equal cosines).
    on : {"parameters", "representation"}, default="parameters"
        Task gradients of the shared parameters, or of the shared
        representation (the cheap form; see :class:`GradientWeighting`).

    Notes
    -----
    Computed on the Gram matrix
    (:func:`~skmtl.neural.weighting._config.config_weights`), the same
    direction as torchjd's ``ConFIG`` aggregator. One backward pass per
    task. Reference: [1]_.

    References
    ----------
    .. [1] Q. Liu, M. Chu and N. Thuerey, "ConFIG: towards conflict-free
       training of physics informed neural networks", ICLR 2025.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl import Task
    >>> from skmtl.neural.weighting import ConFIG
    >>> strategy = ConFIG().initialize([Task("a"), Task("b")])
    >>> J = np.array([[2.0, 0.0], [0.0, 1.0]])
    >>> (strategy.gram_weights(J @ J.T) @ J).tolist()  # the diagonal, length 3/sqrt2
    [1.5, 1.5]
    """

    def __init__(self, pref_vector=None, on="parameters"):
        self.pref_vector = pref_vector
        self.on = on

    def initialize(self, tasks):
        super().initialize(tasks)
        self._pref = _check_pref("ConFIG", self.pref_vector, self.n_tasks_)
        return self

    def gram_weights(self, gram):
        pref = None if self._pref is None else self._pref[self._active]
        return config_weights(gram, pref)



def config_weights(gram, pref_vector=None):
    """Weights of ConFIG, the conflict-free direction (Liu et al. 2025).

    With unit gradients ``u_k = g_k / ||g_k||``, the direction ``v = U^+
    pref`` has ``u_k . v = pref_k`` (equal cosines with every task for
    equal preferences); ConFIG returns ``(sum_k g_k . v') v'`` with ``v' =
    v / ||v||``: that direction, with the length of the sum of the
    gradients' projections on it. On the Gram matrix: ``v = c @ J`` with
    ``c = D^-1 (D^-1 G D^-1)^+ pref`` (``D = diag(||g_k||)``).

    Parameters
    ----------
    gram : array-like of shape (n_tasks, n_tasks)
    pref_vector : array-like of shape (n_tasks,), default=None
        None is ones.

    Returns
    -------
    w : ndarray of shape (n_tasks,)

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural.weighting._config import config_weights
    >>> config_weights(np.diag([4.0, 1.0])).round(6).tolist()  # d = (1.5, 1.5)
    [0.75, 1.5]
    """
    G = check_gram(gram)
    n = len(G)
    pref = np.ones(n) if pref_vector is None else np.asarray(pref_vector, float)
    norms = np.sqrt(np.maximum(np.diag(G), 1e-300))
    unit_gram = G / np.outer(norms, norms)
    c = (np.linalg.pinv(unit_gram, hermitian=True) @ pref) / norms
    squared = c @ G @ c
    if not squared > 0:
        return np.zeros(n)
    return c * (np.sum(G @ c) / squared)


WEIGHTINGS.register("config", ConFIG)
