"""UPGrad: unconflicting projection of gradients, through torchjd."""

import numpy as np
import torch

from ._base import WEIGHTINGS
from ._jacobian import GradientWeighting

__all__ = ["UPGrad"]


def _upgrad_weighting(pref_vector):
    try:
        from torchjd.aggregation import UPGradWeighting
    except ImportError as exc:
        raise ImportError("UPGrad needs torchjd with its quadprog projector; install "
                          "it with: pip install 'skmtl[weighting]'") from exc
    pref = None if pref_vector is None else torch.as_tensor(
        np.asarray(pref_vector, dtype=float))
    weighting = UPGradWeighting(pref)
    try:
        weighting(torch.eye(2, dtype=torch.float64) if pref is None
                  else torch.eye(len(pref), dtype=torch.float64))
    except ImportError as exc:
        raise ImportError("UPGrad needs torchjd's quadprog projector; install it "
                          "with: pip install 'skmtl[weighting]'") from exc
    return weighting



class UPGrad(GradientWeighting):
    """Unconflicting projection of gradients (Quinton & Rey, 2024), via torchjd.

    Each task gradient is projected onto the dual cone of all task
    gradients (the set of directions that conflict with none of them) and
    the projections are averaged (weighted by ``pref_vector``). The result
    conflicts with no task: ``d . g_k >= 0`` for every ``k``. Each head
    keeps its own task's gradient. The weights come from torchjd's
    ``UPGradWeighting`` on the Gram matrix of the task gradients, the same
    computation as torchjd's ``UPGrad`` aggregator.

    Parameters
    ----------
    pref_vector : None or array-like of shape (n_tasks,), default=None
        Weights of the projected gradients; None is the mean.
    on : {"parameters", "representation"}, default="parameters"
        Task gradients of the shared parameters, or of the shared
        representation (the cheap form; see :class:`GradientWeighting`).

    Notes
    -----
    Needs the optional dependency torchjd with its quadprog projector:
    ``pip install 'skmtl[weighting]'``. One backward pass per task.
    Reference: [1]_.

    References
    ----------
    .. [1] P. Quinton and V. Rey, "Jacobian descent for multi-objective
       optimization", 2024, arXiv:2406.16232.

    Examples
    --------
    >>> from skmtl.neural.weighting import UPGrad
    >>> UPGrad()
    UPGrad()
    """

    def __init__(self, pref_vector=None, on="parameters"):
        self.pref_vector = pref_vector
        self.on = on

    def initialize(self, tasks):
        super().initialize(tasks)
        if self.pref_vector is not None and len(self.pref_vector) != self.n_tasks_:
            raise ValueError(f"UPGrad: pref_vector has {len(self.pref_vector)} "
                             f"entries but there are {self.n_tasks_} tasks.")
        # fails early without torchjd; kept out of the module's tree (it is
        # a cache, rebuilt after unpickling)
        object.__setattr__(self, "_weighting", _upgrad_weighting(None))
        return self

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_weighting", None)  # rebuilt on demand
        return state

    def gram_weights(self, gram):
        if self.pref_vector is None:
            weighting = vars(self).get("_weighting")
            if weighting is None:
                weighting = _upgrad_weighting(None)
                object.__setattr__(self, "_weighting", weighting)
        else:
            pref = np.asarray(self.pref_vector, dtype=float)[self._active]
            weighting = _upgrad_weighting(pref)
        with torch.no_grad():
            weights = weighting(torch.as_tensor(gram, dtype=torch.float64))
        return weights.numpy()


WEIGHTINGS.register("upgrad", UPGrad)
