"""Loss-level strategies that look at gradients: GradNorm and MetaWeighting.

Both return task weights ``lambda`` and back-propagate ``sum_k lambda_k L_k``,
but they choose ``lambda`` from gradients: GradNorm from the tasks' gradient
norms on the last shared layer, MetaWeighting from a one-step lookahead of the
whole model. Their weights have their own optimizer (not the net's): they
must not follow the gradient of the weighted loss itself, which would drive
every weight to zero.
"""

import torch

from ._base import (
    ALIASES,
    WEIGHTINGS,
    _move_parameter,
    _RunningMean,
    _StepAveraged,
)
from ._jacobian import per_task_representation, representation_gradients

__all__ = ["GradNorm", "MetaWeighting"]


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
        published one) cost 1.96x an equal-weight step with 3 tasks and
        3.54x with 10 in one run of ``bench_weighting.py --part cost``, a
        fixed ``every=20`` 1.05x and 1.17x, and the default 1.03x and
        1.00x (measured on the fused Adam default); spacing the updates in
        proportion to the number of tasks keeps the amortized cost about
        constant.

    Attributes
    ----------
    weights_ : torch.Tensor of shape (n_tasks,)
        The current ``lambda``.
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
        self._step = 0
        self.weights_ = torch.ones(self.n_tasks_, requires_grad=True)
        self._optimizer = torch.optim.Adam([self.weights_], lr=self.lr)
        self.initial_losses_ = None
        self._mean = _RunningMean(self.n_tasks_)
        return self

    def to(self, device):
        _move_parameter(self.weights_, self._optimizer, device)
        if self.initial_losses_ is not None:
            self.initial_losses_ = self.initial_losses_.to(device)
        return self

    def combine(self, task_losses, training=True):
        return (self.weights_.detach() * task_losses).sum()

    def backward(self, task_losses, net, penalty=None):
        step, self._step = self._step, self._step + 1
        if step % self._every:
            return self._weighted_backward(task_losses, penalty)
        layer = _last_shared_weight(net.module_, "GradNorm")
        recorded = per_task_representation(net.module_)
        if recorded is not None:
            # every task's gradient of the representation in one pass through
            # the heads, then one batched pass down to the layer
            features, aliases = recorded
            per_task, _ = representation_gradients(task_losses, aliases)
            (grads,) = torch.autograd.grad(features, layer, grad_outputs=per_task,
                                           is_grads_batched=True, retain_graph=True,
                                           allow_unused=True)
            norms = (torch.zeros(self.n_tasks_, device=layer.device) if grads is None
                     else torch.linalg.vector_norm(grads.flatten(1), dim=1))
        else:
            norms = torch.stack([
                _norm(torch.autograd.grad(task_losses[k], layer, retain_graph=True,
                                          allow_unused=True)[0], layer)
                for k in range(self.n_tasks_)])
        total = self._weighted_backward(task_losses, penalty)
        self._update(task_losses.detach(), norms)
        return total

    def _weighted_backward(self, task_losses, penalty):
        """Back-propagate ``sum_k w_k L_k`` (+ penalty) at the current weights."""
        weights = self.weights_.detach().clone()
        total = (weights * task_losses).sum()
        if penalty is not None:
            total = total + penalty
        total.backward()
        self._mean.add(weights)
        return total

    def _update(self, losses, norms):
        if self.initial_losses_ is None:
            self.initial_losses_ = losses.clone()
        # a task unlabelled in the first batches gets L(0) when first seen
        self.initial_losses_ = torch.where(self.initial_losses_ > 0,
                                           self.initial_losses_, losses)
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
            self.weights_.grad = torch.where(active, gradient,
                                             torch.zeros_like(gradient))
        self._optimizer.step()
        with torch.no_grad():
            w = self.weights_.clamp_min(1e-3)
            self.weights_.copy_(self.n_tasks_ * w / w.sum())


def _check_every(owner, every):
    if isinstance(every, bool) or int(every) != every or every < 1:
        raise ValueError(f"{owner}: every must be a positive integer, got "
                         f"{every!r}.")


def _norm(gradient, like):
    if gradient is None:
        return torch.zeros((), device=like.device, dtype=like.dtype)
    return torch.linalg.vector_norm(gradient)


def _take(batch, index):
    """Rows ``index`` of a batch part: a tensor, an array, or a tuple or dict of
    them (the targets of a batch with query ids or sample weights are a dict)."""
    if isinstance(batch, tuple | list):
        return type(batch)(_take(b, index) for b in batch)
    if isinstance(batch, dict):
        return {key: _take(value, index) for key, value in batch.items()}
    if batch is None:
        return None
    if isinstance(batch, torch.Tensor):
        return batch[index.to(batch.device)]
    return batch[index.numpy()]


class MetaWeighting(_StepAveraged):
    """Task weights learned by meta-gradient: keep what helps held-out data.

    The weights are ``lambda = K softmax(psi)`` (they sum to the number of
    tasks ``K``). Every ``every`` steps, the training batch is split at
    random into a held-out part (a fraction ``holdout`` of its rows) and
    the rest; a one-step lookahead of the whole model,

        ``theta' = theta - eta grad_theta sum_k lambda_k L_k^rest(theta)``,

    is evaluated on the held-out rows, and ``psi`` takes an Adam step (rate
    ``lr``) down the gradient of the held-out loss ``sum_{k in main}
    L_k^held-out(theta')`` with respect to ``psi``, through the lookahead
    (``torch.func.functional_call``, second-order). To first order that
    gradient is ``-eta lambda_k`` times the inner product of task ``k``'s
    gradient on the rest with the main tasks' gradient on the held-out
    rows: a task whose gradient does not carry over to unseen rows (noisy
    labels, an unrelated auxiliary task) loses weight. The network is then
    trained on the whole batch with ``sum_k lambda_k L_k``.

    Parameters
    ----------
    lr : float, default=0.01
        Learning rate of ``psi`` (its own Adam optimizer).
    holdout : float, default=0.25
        Fraction of each training batch held out for the meta-objective.
    main_tasks : None or list of str, default=None
        Names of the tasks whose held-out loss the weights should lower;
        None uses every task. Name only the main task(s) when the others are
        auxiliary.
    lookahead_lr : float, default=None
        ``eta``, the step size of the lookahead; None uses the learning rate
        of the net's optimizer.
    every : int, default=25
        Update the weights every ``every`` training steps: a meta step costs
        about three ordinary steps, so ``every=1`` (the per-step form of
        the papers) cost 2.99x an equal-weight step with 3 tasks and 3.26x
        with 10 in one run of ``bench_weighting.py --part cost`` (on the
        fused Adam default), the default 1.08x and 1.08x.

    Attributes
    ----------
    logits_ : torch.Tensor of shape (n_tasks,)
        ``psi``.

    See Also
    --------
    GradNorm : Adapts the weights from gradient norms on one layer.

    Notes
    -----
    The held-out rows come from the training batch (a fresh random split
    each step), so no data are set aside from training: the network learns
    from every row, and each meta-gradient still compares gradients on
    disjoint rows, which is what reveals a task whose gradient does not
    generalize. (With few epochs the held-out rows are nearly unseen; later
    they were seen in earlier epochs, and only the disjointness within the
    step remains.) Weighting tasks by the meta-gradient of a held-out loss
    through a lookahead follows learning-to-reweight [1]_ and its
    multi-task forms, e.g. auxiliary-task weighting [2]_.

    References
    ----------
    .. [1] M. Ren, W. Zeng, B. Yang and R. Urtasun, "Learning to reweight
       examples for robust deep learning", ICML 2018.
    .. [2] B. Shi, J. Hoffman, K. Saenko, T. Darrell and H. Xu, "Auxiliary
       task reweighting for minimum-data learning", NeurIPS 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural import MultiTaskEstimator
    >>> from skmtl.neural.weighting import MetaWeighting
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(300, 4)
    >>> Y = np.c_[X[:, 0] - X[:, 1], rng.randn(300)]  # task_1 is noise
    >>> est = MultiTaskEstimator(weighting=MetaWeighting(lr=0.05, every=1),
    ...                          hidden_layer_sizes=(16,), max_epochs=10,
    ...                          batch_size=32, random_state=0).fit(X, Y)
    >>> weights = est.task_weights_history_[-1]
    >>> bool(weights[1] < weights[0])
    True
    """

    level = "loss"

    def __init__(self, lr=0.01, holdout=0.25, main_tasks=None, lookahead_lr=None,
                 every=25):
        self.lr = lr
        self.holdout = holdout
        self.main_tasks = main_tasks
        self.lookahead_lr = lookahead_lr
        self.every = every

    def initialize(self, tasks):
        super().initialize(tasks)
        if not 0 < self.holdout < 1:
            raise ValueError(f"MetaWeighting: holdout must be in (0, 1), got "
                             f"{self.holdout!r}.")
        _check_every("MetaWeighting", self.every)
        if not self.lr > 0:
            raise ValueError(f"MetaWeighting: lr must be > 0, got {self.lr!r}.")
        names = [t.name for t in tasks]
        main = names if self.main_tasks is None else list(self.main_tasks)
        unknown = [m for m in main if m not in names]
        if unknown or not main:
            raise ValueError(f"MetaWeighting: main_tasks {unknown or main} must name "
                             f"tasks among {names}.")
        self.main_mask_ = torch.tensor([float(n in main) for n in names])
        self.logits_ = torch.zeros(self.n_tasks_, requires_grad=True)
        self._optimizer = torch.optim.Adam([self.logits_], lr=self.lr)
        self._step = 0
        self._mean = _RunningMean(self.n_tasks_)
        return self

    def to(self, device):
        _move_parameter(self.logits_, self._optimizer, device)
        self.main_mask_ = self.main_mask_.to(device)
        return self

    def _lambda(self):
        return self.n_tasks_ * torch.softmax(self.logits_, dim=0)

    def combine(self, task_losses, training=True):
        return (self._lambda().detach() * task_losses).sum()

    def backward(self, task_losses, net, penalty=None):
        if self._step % int(self.every) == 0:
            self._meta_step(net)
        self._step += 1
        weights = self._lambda().detach()
        total = (weights * task_losses).sum()
        if penalty is not None:
            total = total + penalty
        total.backward()
        self._mean.add(weights)
        return total

    def _meta_step(self, net):
        X, y = net.train_batch_
        n = len(X)
        n_held = int(round(self.holdout * n))
        if n_held < 1 or n_held >= n:
            return
        order = torch.randperm(n)
        held, rest = order[:n_held], order[n_held:]
        named = [(name, p) for name, p in net.module_.named_parameters()
                 if p.requires_grad]
        params = [p for _, p in named]
        lam = self._lambda()
        inner = (lam * net.batch_task_losses(_take(X, rest), _take(y, rest))).sum()
        grads = torch.autograd.grad(inner, params, create_graph=True,
                                    allow_unused=True)
        eta = self.lookahead_lr
        if eta is None:
            eta = net.optimizer_.param_groups[0]["lr"]
        lookahead = {name: p if g is None else p - eta * g
                     for (name, p), g in zip(named, grads)}
        held_losses = net.batch_task_losses(_take(X, held), _take(y, held),
                                            parameters=lookahead)
        meta = (self.main_mask_ * held_losses).sum()
        (gradient,) = torch.autograd.grad(meta, self.logits_, allow_unused=True)
        if gradient is None:
            return
        self._optimizer.zero_grad()
        self.logits_.grad = gradient.detach()
        self._optimizer.step()


WEIGHTINGS["gradnorm"] = GradNorm
WEIGHTINGS["meta_weighting"] = MetaWeighting
ALIASES["meta"] = "meta_weighting"
