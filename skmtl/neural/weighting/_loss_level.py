"""Loss-level strategies: they return the task weights ``lambda`` each step."""

import numpy as np
import torch

from ...base import resolve_task_weights
from ._base import (
    ALIASES,
    WEIGHTINGS,
    Weighting,
    _move_parameter,
    _RunningMean,
    _StepAveraged,
)

__all__ = ["Fixed", "Uncertainty", "DWA", "RLW", "FAMO"]


class Fixed(Weighting):
    """Constant task weights: ``loss = sum_k lambda_k L_k`` with given ``lambda``.

    The manual importance of each task. The estimator's ``task_weights``
    parameter is shorthand for this strategy: ``MultiTaskEstimator(
    task_weights=w)`` trains with ``Fixed(w)`` (so that
    ``GridSearchCV(est, {"task_weights": [...]})`` tunes them).

    Parameters
    ----------
    task_weights : None, sequence of float or dict, default=None
        One weight per task, or a dict ``{task name: weight}`` (unnamed tasks
        get 1). None gives every task weight 1.

    See Also
    --------
    Weighting : The interface of the strategies.

    Examples
    --------
    >>> import torch
    >>> from skmtl import Task
    >>> from skmtl.neural.weighting import Fixed
    >>> strategy = Fixed({"b": 3.0}).initialize([Task("a"), Task("b")])
    >>> strategy.weights()
    array([1., 3.])
    >>> float(strategy.combine(torch.tensor([0.5, 0.5])))
    2.0
    """

    def __init__(self, task_weights=None):
        self.task_weights = task_weights

    def initialize(self, tasks):
        super().initialize(tasks)
        weights = resolve_task_weights(self.task_weights, tasks)
        self.weights_ = np.asarray(weights, dtype=float)
        self._lambda = torch.as_tensor(self.weights_, dtype=torch.float32)
        self._unit = bool(np.all(self.weights_ == 1.0))
        return self

    def to(self, device):
        self._lambda = self._lambda.to(device)
        return self

    def combine(self, task_losses, training=True):
        if self._unit:
            return task_losses.sum()
        if self._lambda.device != task_losses.device:
            self._lambda = self._lambda.to(task_losses.device)
        return (self._lambda * task_losses).sum()

    def weights(self):
        return self.weights_.copy()


WEIGHTINGS["fixed"] = Fixed


class Uncertainty(_StepAveraged):
    """Learned homoscedastic uncertainty weights (Kendall, Gal & Cipolla, 2018).

    Each task ``k`` gets a learned log-variance ``s_k = log sigma_k²`` and
    the objective is

        ``sum_k c_k exp(-s_k) L_k + s_k / 2``,

    the negative log-likelihood of the tasks under a noise of scale
    ``sigma_k``: the constant ``c_k`` is the task type's
    ``uncertainty_scale``, ``1/2`` for a Gaussian likelihood (regression and
    count tasks, ``L / (2 sigma²) + log sigma``) and ``1`` for the others
    (scaled softmax or Laplace: classification, binary, ranking, ordinal,
    quantile tasks, ``L / sigma² + log sigma``).
    The weights are ``lambda_k = c_k exp(-s_k)``; at the optimum of ``s_k``,
    ``lambda_k = 1 / (2 L_k)``: tasks with a larger loss (noisier labels)
    get less weight, and two regression tasks with noise variances
    ``sigma_1²`` and ``sigma_2²`` end with weights in the ratio
    ``sigma_2² / sigma_1²``.

    Parameters
    ----------
    lr : float, default=None
        Learning rate of the log-variances, in an optimizer parameter group
        of their own; None uses the net's learning rate, with which the
        log-variances of a short training barely move (their gradient is of
        order 1, a network's rate of order 1e-3). A learning-rate schedule
        that sets every group's rate (e.g. ``OneCycleLR`` with one
        ``max_lr``) overrides it.
    init_log_variance : float, default=0.0
        Starting value of every ``s_k``.

    Attributes
    ----------
    log_variances_ : torch.nn.Parameter of shape (n_tasks,)
        The learned ``s_k`` (trained by the net's optimizer).

    See Also
    --------
    DWA, GradNorm, FAMO : Other adaptive loss weights.

    Notes
    -----
    The recorded weights of an epoch are the mean of ``lambda`` over its
    steps. Kendall et al. [1]_ introduced the weighting for scene geometry
    and semantics; the classification form follows their Boltzmann
    likelihood with temperature ``sigma²``.

    References
    ----------
    .. [1] A. Kendall, Y. Gal and R. Cipolla, "Multi-task learning using
       uncertainty to weigh losses for scene geometry and semantics", CVPR
       2018.

    Examples
    --------
    >>> import torch
    >>> from skmtl import Task
    >>> from skmtl.neural.weighting import Uncertainty
    >>> strategy = Uncertainty().initialize(
    ...     [Task("value"), Task("kind", "classification")])
    >>> strategy.combine(torch.tensor([2.0, 2.0])).item()  # 2/2 + 2/1
    3.0
    >>> [name for name, _ in strategy.named_parameters()]
    ['log_variances']
    """

    def __init__(self, lr=None, init_log_variance=0.0):
        self.lr = lr
        self.init_log_variance = init_log_variance

    def initialize(self, tasks):
        super().initialize(tasks)
        if self.lr is not None and not self.lr > 0:
            raise ValueError(f"Uncertainty: lr must be a positive float or None, got "
                             f"{self.lr!r}.")
        self.log_variances_ = torch.nn.Parameter(
            torch.full((self.n_tasks_,), float(self.init_log_variance)))
        self.scales_ = torch.tensor([float(t.type_.uncertainty_scale)
                                     for t in tasks])
        self._mean = _RunningMean(self.n_tasks_)
        self._mean.last = self.scales_.numpy() * np.exp(-self.init_log_variance)
        return self

    def named_parameters(self):
        yield "log_variances", self.log_variances_

    def optimizer_options(self):
        return {} if self.lr is None else {"lr": float(self.lr)}

    def to(self, device):
        # in place, so that the optimizer keeps referring to the parameter
        self.log_variances_.data = self.log_variances_.data.to(device)
        self.scales_ = self.scales_.to(device)
        return self

    def combine(self, task_losses, training=True):
        s = self.log_variances_
        weights = self.scales_ * torch.exp(-s)
        if training:
            self._mean.add(weights)
        return (weights * task_losses).sum() + 0.5 * s.sum()


class DWA(Weighting):
    """Dynamic weight average (Liu, Johns & Davison, 2019).

    The weights of epoch ``t`` follow how fast each task's mean training
    loss fell over the two previous epochs:

        ``lambda_k(t) = K exp(r_k / T) / sum_i exp(r_i / T)``, with
        ``r_k = L_k(t-1) / L_k(t-2)``,

    so a task whose loss decreases slowly (``r_k`` near 1) gets more weight;
    the weights sum to the number of tasks ``K`` and are 1 for the first two
    epochs.

    Parameters
    ----------
    temperature : float, default=2.0
        ``T``: a large temperature makes the weights equal.

    See Also
    --------
    GradNorm : Balances the tasks' gradient norms instead.

    Notes
    -----
    Costs nothing per step: the weights change once per epoch, from the
    losses the net records anyway. Proposed with the multi-task attention
    network [1]_.

    References
    ----------
    .. [1] S. Liu, E. Johns and A. J. Davison, "End-to-end multi-task
       learning with attention", CVPR 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl import Task
    >>> from skmtl.neural.weighting import DWA
    >>> strategy = DWA(temperature=1.0).initialize([Task("a"), Task("b")])
    >>> strategy.on_epoch_end(None, np.array([1.0, 1.0]))
    >>> strategy.on_epoch_end(None, np.array([0.5, 1.0]))  # task a learns faster
    >>> np.round(strategy.weights(), 3).tolist()
    [0.755, 1.245]
    """

    def __init__(self, temperature=2.0):
        self.temperature = temperature

    def initialize(self, tasks):
        super().initialize(tasks)
        if not self.temperature > 0:
            raise ValueError(f"DWA: temperature must be > 0, got "
                             f"{self.temperature!r}.")
        self.history_ = []
        self.weights_ = np.ones(self.n_tasks_)
        self._lambda = torch.ones(self.n_tasks_)
        return self

    def to(self, device):
        self._lambda = self._lambda.to(device)
        return self

    def combine(self, task_losses, training=True):
        if self._lambda.device != task_losses.device:
            self._lambda = self._lambda.to(task_losses.device)
        return (self._lambda * task_losses).sum()

    def on_epoch_end(self, net, task_losses):
        self.history_ = (self.history_ + [np.asarray(task_losses, dtype=float)])[-2:]
        if len(self.history_) < 2:
            return
        before, last = self.history_
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = last / before
        ratio = np.where(np.isfinite(ratio), ratio, 1.0)
        z = ratio / self.temperature
        z = np.exp(z - z.max())
        self.weights_ = self.n_tasks_ * z / z.sum()
        self._lambda = torch.as_tensor(self.weights_, dtype=torch.float32,
                                       device=self._lambda.device)

    def weights(self):
        return self.weights_.copy()


_RLW_DISTRIBUTIONS = ("normal", "uniform", "dirichlet")


class RLW(_StepAveraged):
    """Random loss weighting (Lin et al., 2022): new random weights every step.

    Each training step draws ``lambda = K * p`` with ``p`` on the simplex:
    ``p = softmax(z)``, ``z ~ N(0, I)`` (``"normal"``, the paper's default),
    ``p = u / sum(u)`` with ``u ~ U(0, 1)`` (``"uniform"``) or ``p ~
    Dirichlet(1)`` (``"dirichlet"``). The weights average to about one per
    task; the validation loss uses ``lambda = 1``.

    Parameters
    ----------
    distribution : {"normal", "uniform", "dirichlet"}, default="normal"

    Notes
    -----
    Lin et al. [1]_ show that random weights match many adaptive methods
    at no cost: a strong baseline. The draws come from torch's generator,
    which the estimator seeds with ``random_state``. The recorded weights of
    an epoch are the mean of its draws.

    References
    ----------
    .. [1] B. Lin, F. Ye, Y. Zhang and I. W. Tsang, "Reasonable
       effectiveness of random weighting: a litmus test for multi-task
       learning", TMLR 2022.

    Examples
    --------
    >>> import torch
    >>> from skmtl import Task
    >>> from skmtl.neural.weighting import RLW
    >>> strategy = RLW().initialize([Task("a"), Task("b"), Task("c")])
    >>> _ = torch.manual_seed(0)
    >>> loss = strategy.combine(torch.ones(3))  # the weights sum to 3
    >>> round(float(loss), 4)
    3.0
    """

    def __init__(self, distribution="normal"):
        self.distribution = distribution

    def initialize(self, tasks):
        super().initialize(tasks)
        if self.distribution not in _RLW_DISTRIBUTIONS:
            raise ValueError(f"RLW: distribution must be one of {_RLW_DISTRIBUTIONS}, "
                             f"got {self.distribution!r}.")
        self._mean = _RunningMean(self.n_tasks_)
        return self

    def _draw(self, device):
        K = self.n_tasks_
        if self.distribution == "normal":
            p = torch.softmax(torch.randn(K, device=device), dim=0)
        elif self.distribution == "uniform":
            u = torch.rand(K, device=device)
            p = u / u.sum()
        else:
            e = -torch.log(torch.rand(K, device=device).clamp_min(1e-12))
            p = e / e.sum()
        return K * p

    def combine(self, task_losses, training=True):
        if not training:
            return task_losses.sum()
        weights = self._draw(task_losses.device)
        self._mean.add(weights)
        return (weights * task_losses).sum()


_FAMO_UPDATES = ("same_batch", "next_batch")
_FAMO_DECAYS = ("decoupled", "l2")


class FAMO(_StepAveraged):
    """Fast adaptive multitask optimization (Liu et al., 2023).

    FAMO keeps task logits ``xi`` and minimizes ``sum_k z_k log L_k`` with
    ``z = softmax(xi)``, which decreases every task's loss at a rate close
    to the same *relative* rate. The gradient is that of ``sum_k lambda_k
    L_k`` with

        ``lambda_k = K z_k / (c L_k)``, ``c = sum_i z_i / L_i``

    (scaled here by the number of tasks ``K``, so that equal weights are
    ones). After each step, the logits move (Adam, with ``lr`` and
    ``weight_decay``) against the gradient of ``softmax(xi)`` along the
    observed decrease of the log-losses: a task whose loss fell less than
    the others gains weight.

    Parameters
    ----------
    lr : float, default=0.1
        Learning rate of the logits (their own Adam optimizer). The authors
        use 0.025; see Notes for why the default is larger.
    weight_decay : float, default=0.01
        Regularization ``gamma`` of the logits toward equal weights.
    update : {"next_batch", "same_batch"}, default="next_batch"
        Which losses measure the decrease: the next batch's losses (free:
        the step costs what an equal-weight step costs) or the batch's
        losses after the step (as the authors' code; one extra forward pass
        without gradients per step, about 1.4x the cost of a plain step).
    decay : {"decoupled", "l2"}, default="decoupled"
        How ``weight_decay`` acts: decoupled from the gradient (AdamW, a
        pull of ``lr * gamma * xi`` per step) or added to the gradient as an
        L2 term (Adam's ``weight_decay``, as in the authors' code).

    Notes
    -----
    **Why the defaults differ from the paper.** ``lambda_k`` is proportional
    to ``z_k / L_k``: a task whose loss falls fast gets a weight that grows
    as fast, unless the logits follow. On ``bench_weighting.py``'s digits
    problem (class cross-entropy and box MSE on standardized coordinates,
    2.30 and 0.39 after the first batches) the box's MSE fell five-fold in
    the first epoch while the class's cross-entropy stayed on its plateau
    near ``log 10``; with the published form (``lr=0.025``,
    ``decay="l2"``, ``update="same_batch"``) the weights went to 0.34 / 1.66
    in epoch 1 and 0.08 / 1.92 in epoch 8, the class loss ended at 2.14
    (0.69 with equal weights) and the test accuracy at 0.24 (0.73; box IoU
    0.89 against 0.79; seed 0). Two things kept the logits from following:
    with the L2 form, the decay term ``gamma xi`` is as large as the logits'
    gradient (a per-step change of the log-losses, of order 1e-2) once
    ``xi`` is of order one, so Adam's normalized step cancels; and Adam
    moves a logit by at most ``lr`` per step, slower than the box's
    log-loss fell (about 0.06 per step in epoch 1). Decoupled decay and
    ``lr=0.1`` gave 0.72 / 0.76 (seed 0) and 0.70 / 0.78 (seed 1), equal
    weights 0.73 / 0.79 and 0.71 / 0.78; over 3 seeds 0.632 / 0.797 against
    0.714 / 0.789 (``--part digits --seeds 3``): some seeds still lean to
    the box. A larger rate (0.25) overshoots (IoU 0.63). These figures
    (``benchmarks/weighting_notes.py famo equal``) were measured on the
    fused Adam default (December 2026); the earlier ones moved by at most
    0.01. The published form is ``FAMO(lr=0.025, decay="l2",
    update="same_batch")``.

    The losses must be non-negative with 0 at a perfect fit (true of every
    task type's loss). A task with no label in a batch is left out of that
    step's weights and update. FAMO [1]_ is a loss-level method: its cost
    does not grow with the number of tasks.

    References
    ----------
    .. [1] B. Liu, Y. Feng, P. Stone and Q. Liu, "FAMO: fast adaptive
       multitask optimization", NeurIPS 2023.

    Examples
    --------
    >>> import torch
    >>> from skmtl import Task
    >>> from skmtl.neural.weighting import FAMO
    >>> strategy = FAMO().initialize([Task("a"), Task("b")])
    >>> losses = torch.tensor([1.0, 4.0])
    >>> _ = strategy.combine(losses)
    >>> strategy.weights().round(3).tolist()  # equal z: lambda ~ 1 / L
    [1.6, 0.4]
    """

    _eps = 1e-8

    def __init__(self, lr=0.1, weight_decay=0.01, update="next_batch",
                 decay="decoupled"):
        self.lr = lr
        self.weight_decay = weight_decay
        self.update = update
        self.decay = decay

    def initialize(self, tasks):
        super().initialize(tasks)
        if self.update not in _FAMO_UPDATES:
            raise ValueError(f"FAMO: update must be one of {_FAMO_UPDATES}, got "
                             f"{self.update!r}.")
        if self.decay not in _FAMO_DECAYS:
            raise ValueError(f"FAMO: decay must be one of {_FAMO_DECAYS}, got "
                             f"{self.decay!r}.")
        if not self.lr > 0:
            raise ValueError(f"FAMO: lr must be > 0, got {self.lr!r}.")
        if not self.weight_decay >= 0:
            raise ValueError(f"FAMO: weight_decay must be >= 0, got "
                             f"{self.weight_decay!r}.")
        self.logits_ = torch.zeros(self.n_tasks_, requires_grad=True)
        optimizer = torch.optim.AdamW if self.decay == "decoupled" else torch.optim.Adam
        self._optimizer = optimizer([self.logits_], lr=self.lr,
                                    weight_decay=self.weight_decay)
        self._previous = None
        self._mean = _RunningMean(self.n_tasks_)
        return self

    def to(self, device):
        _move_parameter(self.logits_, self._optimizer, device)
        return self

    def combine(self, task_losses, training=True):
        if not training:
            return task_losses.sum()
        losses = task_losses.detach()
        if self.update == "next_batch" and self._previous is not None:
            self._update_logits(self._previous, losses)
        active = losses > 0
        with torch.no_grad():
            z = torch.softmax(self.logits_, dim=0)
            inverse = torch.where(active, z / (losses + self._eps),
                                  torch.zeros_like(z))
            weights = self.n_tasks_ * inverse / inverse.sum().clamp_min(1e-30)
        self._mean.add(weights)
        self._previous = losses
        # the gradient of K sum_k z_k / c log L_k, with a readable value
        return (weights * task_losses).sum()

    def after_step(self, net):
        if self.update != "same_batch" or self._previous is None:
            return
        X, y = net.train_batch_
        with torch.no_grad():
            losses = net.batch_task_losses(X, y, training=True)
        self._update_logits(self._previous, losses)
        self._previous = None

    def _update_logits(self, before, after):
        active = (before > 0) & (after > 0)
        delta = torch.where(active, torch.log(before + self._eps)
                            - torch.log(after + self._eps), torch.zeros_like(before))
        with torch.no_grad():
            z = torch.softmax(self.logits_, dim=0)
            # the gradient of softmax(xi) along delta
            self.logits_.grad = z * (delta - (z * delta).sum())
        self._optimizer.step()


WEIGHTINGS["uncertainty"] = Uncertainty
WEIGHTINGS["dwa"] = DWA
WEIGHTINGS["rlw"] = RLW
WEIGHTINGS["famo"] = FAMO
ALIASES["equal"] = "fixed"
ALIASES["uw"] = "uncertainty"
