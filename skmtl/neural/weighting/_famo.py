"""FAMO: fast adaptive multitask optimization."""

import torch

from ._base import WEIGHTINGS, _OwnAdam, _StepAveraged

__all__ = ["FAMO"]


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
        self.register_buffer("logits_", torch.zeros(self.n_tasks_))
        self.logits_adam_ = _OwnAdam(self.logits_, lr=self.lr,
                                     weight_decay=self.weight_decay,
                                     decoupled=self.decay == "decoupled")
        # the losses of the last step, until they are compared with the next
        self.register_buffer("previous_losses_", torch.zeros(self.n_tasks_))
        self._pending = False
        return self

    def combine(self, task_losses, training=True):
        if not training:
            return task_losses.sum()
        losses = task_losses.detach()
        if self.update == "next_batch" and self._pending:
            self._update_logits(self.previous_losses_, losses)
        active = losses > 0
        with torch.no_grad():
            z = torch.softmax(self.logits_, dim=0)
            inverse = torch.where(active, z / (losses + self._eps),
                                  torch.zeros_like(z))
            weights = self.n_tasks_ * inverse / inverse.sum().clamp_min(1e-30)
        self.record_weights(weights)
        self.previous_losses_.copy_(losses)
        self._pending = True
        # the gradient of K sum_k z_k / c log L_k, with a readable value
        return (weights * task_losses).sum()

    def after_step(self, net):
        if self.update != "same_batch" or not self._pending:
            return
        X, y = net.train_batch_
        with torch.no_grad():
            losses = net.batch_task_losses(X, y, training=True)
        self._update_logits(self.previous_losses_, losses)
        self._pending = False

    def _update_logits(self, before, after):
        active = (before > 0) & (after > 0)
        delta = torch.where(active, torch.log(before + self._eps)
                            - torch.log(after + self._eps), torch.zeros_like(before))
        with torch.no_grad():
            z = torch.softmax(self.logits_, dim=0)
            # the gradient of softmax(xi) along delta
            gradient = z * (delta - (z * delta).sum())
        self.logits_adam_.step(self.logits_, gradient)


WEIGHTINGS.register("famo", FAMO)
