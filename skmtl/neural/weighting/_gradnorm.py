"""GradNorm: loss weights that balance the tasks' gradient norms.

A loss-level strategy that looks at gradients: its weights have their own
optimizer (not the net's), since they must not follow the gradient of the
weighted loss itself, which would drive every weight to zero."""

import torch

from ._base import (
    WEIGHTINGS,
    _check_every,
    _OwnAdam,
    _StepAveraged,
    backward_total,
)
from ._jacobian import (
    heads_separate_tasks,
    per_task_representation,
    representation_gradients,
)
from ._processes import plain_module, sum_gradients, task_shares

__all__ = ["GradNorm"]


def _last_shared_weight(module, owner):
    """The last weight matrix (or tensor) among the module's shared parameters."""
    shared = [p for p in module.shared_parameters() if p.requires_grad]
    if not shared:
        raise ValueError(f"{owner} balances gradient norms on the last shared layer, "
                         f"but {type(module).__name__} shares no parameter "
                         f"(shared_parameters() is empty); use a loss-level strategy "
                         f"such as DWA or Uncertainty.")
    matrices = [p for p in shared if p.ndim >= 2]
    return (matrices or shared)[-1]



class GradNorm(_StepAveraged):
    """Gradient normalization (Chen et al., 2018): balance the tasks' training rates.

    With ``W`` the last shared layer's weights and ``G_k = lambda_k ||grad_W
    L_k||`` the norm of task ``k``'s weighted gradient there, GradNorm moves
    the weights so that each ``G_k`` approaches

        ``mean_j(G_j) * r_k ** alpha``, ``r_k = (L_k / L_k(0)) / mean_j(L_j / L_j(0))``,

    the inverse training rate ``r_k`` being large for a task whose loss has
    fallen less than the others': slow tasks get larger gradients. Each
    step takes an Adam step on ``sum_k |G_k - target_k|`` (targets held
    constant) with respect to ``lambda``, then renormalizes ``lambda`` to
    sum to the number of tasks. The network itself is trained on ``sum_k
    lambda_k L_k``.

    Parameters
    ----------
    alpha : float, default=1.5
        Strength of the pull toward equal training rates; 0 balances the
        gradient norms alone.
    lr : float, default=0.025
        Learning rate of the weights (their own Adam optimizer).
    every : int or None, default=None
        Update the weights every ``every`` training steps (the steps in
        between are plain weighted steps at no extra cost); None updates
        every ``10 * n_tasks`` steps (20 for two tasks). An update needs
        each task's gradient of the last shared layer, so its cost grows
        with the number of tasks: the per-step form ``every=1`` (the
        published one) cost 2.10x an equal-weight step with 3 tasks and
        3.24x with 10 in one run of ``bench_weighting.py --part cost``, a
        fixed ``every=20`` 1.15x and 1.24x, and the default 1.10x and
        1.18x (on the fused Adam default, a busy machine: a plain step's
        own spread was about a tenth); spacing the updates in
        proportion to the number of tasks keeps the amortized cost about
        constant.

    Attributes
    ----------
    weights_ : torch.Tensor of shape (n_tasks,)
        The current ``lambda`` (a buffer, updated by its own Adam step).
    initial_losses_ : torch.Tensor of shape (n_tasks,)
        ``L_k(0)``: each task's loss on the first batch that labels it.

    See Also
    --------
    DWA : Reacts to the training rates too, once per epoch and at no cost.

    Notes
    -----
    The "last shared layer" is the last weight matrix of the architecture's
    :meth:`~skmtl.neural.MultiTaskModule.shared_parameters` (for
    :class:`~skmtl.neural.HardSharing`, the trunk's last layer). Each step
    differentiates every task's loss with respect to that layer only, a
    backward pass through the heads and one layer per task. Chen et al. [1]_
    use ``alpha`` between 0.12 and 3 depending on the problem.

    References
    ----------
    .. [1] Z. Chen, V. Badrinarayanan, C.-Y. Lee and A. Rabinovich,
       "GradNorm: gradient normalization for adaptive loss balancing in deep
       multitask networks", ICML 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl import Task
    >>> from skmtl.neural import MultiTaskEstimator
    >>> from skmtl.neural.weighting import GradNorm
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(200, 3)
    >>> Y = np.c_[X[:, 0], rng.randn(200)]  # task "noise" cannot be learned
    >>> est = MultiTaskEstimator(weighting=GradNorm(alpha=1.0, every=1),
    ...                          hidden_layer_sizes=(16,), max_epochs=10,
    ...                          random_state=0).fit(X, Y)
    >>> weights = est.task_weights_history_[-1]
    >>> round(float(weights.sum()), 6), bool(weights[1] > weights[0])
    (2.0, True)
    """

    level = "loss"

    def __init__(self, alpha=1.5, lr=0.025, every=None):
        self.alpha = alpha
        self.lr = lr
        self.every = every

    def initialize(self, tasks):
        super().initialize(tasks)
        if not self.lr > 0:
            raise ValueError(f"GradNorm: lr must be > 0, got {self.lr!r}.")
        if self.every is not None:
            _check_every("GradNorm", self.every)
        self._every = (10 * self.n_tasks_ if self.every is None
                       else int(self.every))
        self._separate = heads_separate_tasks(tasks)
        self._step = 0
        self.register_buffer("weights_", torch.ones(self.n_tasks_))
        self.weights_adam_ = _OwnAdam(self.weights_, lr=self.lr)
        # 0 until the task is labelled in a batch
        self.register_buffer("initial_losses_", torch.zeros(self.n_tasks_))
        return self

    def combine(self, task_losses, training=True):
        return (self.weights_.detach() * task_losses).sum()

    @property
    def distributed_step(self):
        # the per-task gradients of the last shared layer are summed across
        # processes (each scaled by the process's share of the task's labels)
        return "jacobian"

    def backward(self, task_losses, net, penalty=None):
        step, self._step = self._step, self._step + 1
        # on several processes: this process's share of each task's labels
        shares = task_shares(net, task_losses)
        if step % self._every:
            return self._weighted_backward(task_losses, net, penalty, shares)
        module = plain_module(net)
        layer = _last_shared_weight(module, "GradNorm")
        recorded = per_task_representation(module, getattr(self, "_separate", True))
        if recorded is not None:
            # every task's gradient of the representation in one pass through
            # the heads, then one batched pass down to the layer
            features, aliases = recorded
            per_task, _ = representation_gradients(task_losses, aliases)
            (grads,) = torch.autograd.grad(features, layer, grad_outputs=per_task,
                                           is_grads_batched=True, retain_graph=True,
                                           allow_unused=True)
        else:
            grads = [torch.autograd.grad(task_losses[k], layer, retain_graph=True,
                                         allow_unused=True)[0]
                     for k in range(self.n_tasks_)]
            grads = (None if all(g is None for g in grads) else torch.stack(
                [torch.zeros_like(layer) if g is None else g for g in grads]))
        if grads is None:
            grads = layer.new_zeros((self.n_tasks_,) + tuple(layer.shape))
        losses = task_losses.detach()
        if shares is not None:
            # the global batch's per-task gradients of the layer and losses
            scale = shares.view((-1,) + (1,) * layer.ndim).to(grads.dtype)
            grads, losses = net.sum_across_processes(
                [grads.detach() * scale, losses * shares])
        norms = torch.linalg.vector_norm(grads.flatten(1), dim=1)
        total = self._weighted_backward(task_losses, net, penalty, shares)
        self._update(losses, norms)
        return total

    def _weighted_backward(self, task_losses, net, penalty, shares=None):
        """Back-propagate ``sum_k w_k L_k`` (+ penalty) at the current weights
        (on several processes, this process's part of the global batch's,
        summed across processes)."""
        weights = self.weights_.detach().clone()
        if shares is None:
            total = backward_total((weights * task_losses).sum(), penalty)
        else:
            # the penalty, the same on every process, counted once
            backward_total((weights * shares * task_losses).sum(),
                           None if penalty is None else penalty / net.n_processes)
            sum_gradients(net, plain_module(net).parameters())
            total = (weights * task_losses.detach()).sum()
            if penalty is not None:
                total = total + penalty.detach()
        self.record_weights(weights)
        return total

    def _update(self, losses, norms):
        # a task unlabelled in the first batches gets L(0) when first seen
        self.initial_losses_.copy_(torch.where(self.initial_losses_ > 0,
                                               self.initial_losses_, losses))
        active = (losses > 0) & (self.initial_losses_ > 0) & (norms > 0)
        if not bool(active.any()):
            return
        ratio = torch.where(active, losses / self.initial_losses_.clamp_min(1e-30),
                            torch.zeros_like(losses))
        inverse_rate = ratio / ratio[active].mean()
        with torch.no_grad():
            G = self.weights_ * norms
            target = G[active].mean() * inverse_rate ** float(self.alpha)
            gradient = torch.sign(G - target) * norms
            gradient = torch.where(active, gradient, torch.zeros_like(gradient))
        self.weights_adam_.step(self.weights_, gradient)
        with torch.no_grad():
            w = self.weights_.clamp_min(1e-3)
            self.weights_.copy_(self.n_tasks_ * w / w.sum())



WEIGHTINGS.register("gradnorm", GradNorm)
