"""Scalarizations other than the weighted sum: geometric mean and Tchebycheff."""

import torch

from ._base import WEIGHTINGS, _RunningMean, _StepAveraged

__all__ = ["GLS", "STCH"]


class GLS(_StepAveraged):
    """Geometric loss strategy: train on the geometric mean of the task losses.

    The objective is ``(prod_k L_k) ** (1/K)``, whose gradient is that of
    ``sum_k lambda_k L_k`` with

        ``lambda_k = (prod_j L_j) ** (1/K) / (K L_k)``:

    each task's gradient is divided by its own loss, so the method does not
    depend on the scale of any loss (multiplying ``L_k`` by ``c`` multiplies
    the objective, not the direction).

    See Also
    --------
    FAMO : Balances the decrease of the log-losses, adaptively.
    STCH : A smooth version of the worst normalized loss.

    Notes
    -----
    Chennupati et al. [1]_. Tasks without a label in a batch (zero loss)
    are left out of the product for that step. The recorded weights are
    the epoch means of ``lambda``. **On bench_weighting.py's digits
    problem** the published form starves the class task as FAMO's did
    (see :class:`FAMO`): the gradient of each task is divided by its loss,
    the box's MSE falls twenty-fold while the class's cross-entropy sits on
    its plateau, and the box ends with most of the weight. Test accuracy /
    mean IoU 0.168 / 0.889 against 0.714 / 0.789 for equal weights (ConvNet
    (16, 32), 8 epochs, mean of 3 seeds, ``--part digits --seeds 3``), and
    0.273 / 0.902 against 0.819 / 0.820 on the seed's network trained for 30
    epochs (``--part seed --seeds 1``):
    the class falls far below 0.9x equal weighting. The method has no
    scale to fix (it is free of the losses' scales by construction), so
    there is no robust default to give it: prefer :class:`STCH` or
    :class:`DBMTL` when one task's loss falls much faster than another's.

    References
    ----------
    .. [1] S. Chennupati, G. Sistu, S. Yogamani and S. A. Rawashdeh,
       "MultiNet++: multi-stream feature aggregation and geometric loss
       strategy for multi-task learning", CVPR Workshops 2019.

    Examples
    --------
    >>> import torch
    >>> from skmtl import Task
    >>> from skmtl.neural.weighting import GLS
    >>> strategy = GLS().initialize([Task("a"), Task("b")])
    >>> float(strategy.combine(torch.tensor([1.0, 4.0])))  # sqrt(1 * 4)
    2.0
    >>> strategy.weights().tolist()  # 2 / (2 * L_k)
    [1.0, 0.25]
    """

    def __init__(self):
        pass

    def initialize(self, tasks):
        super().initialize(tasks)
        self._mean = _RunningMean(self.n_tasks_)
        return self

    def combine(self, task_losses, training=True):
        active = task_losses.detach() > 0
        if not bool(active.any()):
            return task_losses.sum()
        logs = torch.where(active, torch.log(task_losses.clamp_min(1e-30)),
                           torch.zeros_like(task_losses))
        value = torch.exp(logs.sum() / active.sum())
        if training:
            with torch.no_grad():
                weights = torch.where(active, value / (active.sum() * task_losses),
                                      torch.zeros_like(task_losses))
            self._mean.add(weights)
        return value


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
        self.pref_ = pref
        self.initial_losses_ = torch.zeros(self.n_tasks_)
        self._mean = _RunningMean(self.n_tasks_)
        return self

    def to(self, device):
        self.pref_ = self.pref_.to(device)
        self.initial_losses_ = self.initial_losses_.to(device)
        return self

    def combine(self, task_losses, training=True):
        if self.pref_.device != task_losses.device:
            self.to(task_losses.device)
        losses = task_losses.detach()
        active = losses > 0
        if self.normalization == "initial":
            if training:
                self.initial_losses_ = torch.where(self.initial_losses_ > 0,
                                                   self.initial_losses_, losses)
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
            self._mean.add(weights)
        return value


WEIGHTINGS["gls"] = GLS
WEIGHTINGS["stch"] = STCH
