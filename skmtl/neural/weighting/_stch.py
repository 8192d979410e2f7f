"""STCH: smooth Tchebycheff scalarization of the task losses."""

import torch

from ._base import WEIGHTINGS, _StepAveraged

__all__ = ["STCH"]


_STCH_NORMALIZATIONS = ("initial", "none")



class STCH(_StepAveraged):
    """Smooth Tchebycheff scalarization (Lin et al., 2024).

    The objective is a smooth maximum of the (normalized) task losses,

        ``mu log sum_k exp(p_k Lt_k / mu)``, ``Lt_k = L_k / L_k(0)``,

    with preferences ``p`` (ones by default) and smoothing ``mu``: as
    ``mu -> 0`` it tends to ``max_k p_k Lt_k`` (the Tchebycheff
    scalarization, which trains the worst task), and its gradient is that
    of ``sum_k lambda_k L_k`` with ``lambda_k = softmax(p Lt / mu)_k p_k /
    L_k(0)``, weights that move smoothly toward the tasks with the largest
    normalized losses.

    Parameters
    ----------
    mu : float, default=1.0
        Smoothing; the smaller, the closer to the maximum.
    pref_vector : None or array-like of shape (n_tasks,), default=None
        Preferences ``p``; None is ones.
    normalization : {"initial", "none"}, default="initial"
        Divide each loss by its value on the first batch that labels it
        (``L_k(0)``, so that the maximum compares progress, not units) or
        use the raw losses (the scalarization of the paper's theory, with
        the ideal point 0).

    See Also
    --------
    GLS : The geometric mean of the losses.

    Notes
    -----
    Lin et al. [1]_ show that, unlike the weighted sum, every Pareto
    solution is reachable by a choice of preferences. The ideal point is
    taken as 0 (a perfect fit), true of every task type's loss.

    References
    ----------
    .. [1] X. Lin, X. Zhang, Z. Yang, F. Liu, Z. Wang and Q. Zhang, "Smooth
       Tchebycheff scalarization for multi-objective optimization", ICML
       2024.

    Examples
    --------
    >>> import torch
    >>> from skmtl import Task
    >>> from skmtl.neural.weighting import STCH
    >>> strategy = STCH(mu=0.01, normalization="none").initialize(
    ...     [Task("a"), Task("b")])
    >>> round(float(strategy.combine(torch.tensor([1.0, 3.0]))), 4)  # the maximum
    3.0
    """

    def __init__(self, mu=1.0, pref_vector=None, normalization="initial"):
        self.mu = mu
        self.pref_vector = pref_vector
        self.normalization = normalization

    def initialize(self, tasks):
        super().initialize(tasks)
        if not self.mu > 0:
            raise ValueError(f"STCH: mu must be > 0, got {self.mu!r}.")
        if self.normalization not in _STCH_NORMALIZATIONS:
            raise ValueError(f"STCH: normalization must be one of "
                             f"{_STCH_NORMALIZATIONS}, got {self.normalization!r}.")
        pref = (torch.ones(self.n_tasks_) if self.pref_vector is None
                else torch.as_tensor(self.pref_vector, dtype=torch.float32))
        if pref.shape != (self.n_tasks_,) or not bool((pref > 0).all()):
            raise ValueError(f"STCH: pref_vector must hold {self.n_tasks_} positive "
                             f"values, got {self.pref_vector!r}.")
        self.register_buffer("pref_", pref)
        self.register_buffer("initial_losses_", torch.zeros(self.n_tasks_))
        return self

    def combine(self, task_losses, training=True):
        losses = task_losses.detach()
        active = losses > 0
        if self.normalization == "initial":
            if training:
                self.initial_losses_.copy_(torch.where(self.initial_losses_ > 0,
                                                       self.initial_losses_, losses))
            scale = torch.where(self.initial_losses_ > 0, self.initial_losses_,
                                torch.ones_like(losses))
        else:
            scale = torch.ones_like(losses)
        scores = self.pref_ * task_losses / scale / float(self.mu)
        scores = torch.where(active, scores, torch.full_like(scores, -torch.inf))
        if not bool(active.any()):
            return task_losses.sum()
        value = float(self.mu) * torch.logsumexp(scores, dim=0)
        if training:
            with torch.no_grad():
                weights = torch.softmax(scores, dim=0) * self.pref_ / scale
            self.record_weights(weights)
        return value


WEIGHTINGS.register("stch", STCH)
