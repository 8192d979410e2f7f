"""MetaWeighting: loss weights learned by the meta-gradient of a held-out loss.

A loss-level strategy that looks at gradients: a one-step lookahead of the
whole model. Its weights have their own optimizer (not the net's)."""

import torch

from .._data import n_rows
from ._base import (
    WEIGHTINGS,
    _check_every,
    _OwnAdam,
    _StepAveraged,
    backward_total,
)

__all__ = ["MetaWeighting"]


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
        the papers) cost 2.92x an equal-weight step with 3 tasks and 3.06x
        with 10 in one run of ``bench_weighting.py --part cost`` (on the
        fused Adam default), the default 1.09x and 1.16x.

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
        self.register_buffer("main_mask_",
                             torch.tensor([float(n in main) for n in names]))
        self.register_buffer("logits_", torch.zeros(self.n_tasks_))
        self.logits_adam_ = _OwnAdam(self.logits_, lr=self.lr)
        self._step = 0
        return self

    def _lambda(self, logits=None):
        logits = self.logits_ if logits is None else logits
        return self.n_tasks_ * torch.softmax(logits, dim=0)

    def combine(self, task_losses, training=True):
        return (self._lambda() * task_losses).sum()

    def backward(self, task_losses, net, penalty=None):
        if self._step % int(self.every) == 0:
            self._meta_step(net)
        self._step += 1
        weights = self._lambda().detach()
        total = backward_total((weights * task_losses).sum(), penalty)
        self.record_weights(weights)
        return total

    def _meta_step(self, net):
        X, y = net.train_batch_
        n = n_rows(X)  # a dict of named inputs too
        n_held = int(round(self.holdout * n))
        if n_held < 1 or n_held >= n:
            return
        order = torch.randperm(n)
        held, rest = order[:n_held], order[n_held:]
        named = [(name, p) for name, p in net.module_.named_parameters()
                 if p.requires_grad]
        params = [p for _, p in named]
        logits = self.logits_.detach().requires_grad_(True)
        lam = self._lambda(logits)
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
        (gradient,) = torch.autograd.grad(meta, logits, allow_unused=True)
        if gradient is None:
            return
        self.logits_adam_.step(self.logits_, gradient.detach())


WEIGHTINGS.register("meta_weighting", MetaWeighting, aliases=("meta",))
