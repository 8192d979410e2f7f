"""The interface every task-weighting strategy implements."""

import numpy as np

from ...utils._registry import ParamsMixin, Registry

__all__ = ["Weighting", "WEIGHTINGS", "ALIASES", "resolve_weighting"]


class Weighting(ParamsMixin):
    """Base class of task-weighting strategies: how ``L_1, ..., L_K`` become one step.

    The joint objective of a multi-task network is ``sum_k lambda_k L_k``;
    a strategy decides the ``lambda_k`` (loss level) or how the per-task
    gradients of the shared parameters are combined (gradient level).
    :class:`~skmtl.neural.MultiTaskNet` deep-copies the strategy it is given
    (so the constructor parameter is never changed by training), calls
    :meth:`initialize` once per fit, then for every training batch
    :meth:`backward` with the vector of masked per-task losses and, after
    the optimizer's step, :meth:`after_step`; and :meth:`on_epoch_end`
    after each epoch. Just before that call, the
    weights returned by :meth:`weights` are recorded in the net's ``history``
    (key ``"task_weights"``): they should be the weights used during the epoch
    (their mean, for strategies that change them every step).

    Like scikit-learn estimators, strategies store their constructor
    arguments unchanged and expose them through :meth:`get_params` and
    :meth:`set_params`, so ``GridSearchCV`` reaches them as
    ``weighting__<param>``.

    To write a strategy: a **loss-level** one (``level = "loss"``)
    implements :meth:`combine`, returning the scalar objective for a vector
    of task losses (e.g. ``(lambda * task_losses).sum()``), and
    :meth:`weights`. Its
    learnable parameters (e.g. log-variances) are returned by
    :meth:`named_parameters` and trained by the net's optimizer, in a
    parameter group of their own when :meth:`optimizer_options` returns
    options (e.g. a learning rate).

    A **gradient-level** strategy (``level = "gradient"``) overrides
    :meth:`backward`: it may compute per-task gradients of
    ``net.module_.shared_parameters()`` with ``torch.autograd.grad``, combine
    them and write the parameters' ``.grad``; it must leave the gradients of
    every learnable parameter set for the optimizer step that follows, and
    return the scalar loss to report.

    During a training step, ``net.batch_task_losses(X, y, parameters=...)``
    evaluates the task losses on any batch, optionally with other parameter
    values (a lookahead), and ``net.train_batch_`` holds the current batch
    ``(X, y)``.

    Attributes
    ----------
    level : {"loss", "gradient"}
        Where the strategy acts.
    n_tasks_ : int
        Number of tasks (after :meth:`initialize`).
    """

    level = "loss"

    # -- training hooks ------------------------------------------------------

    def initialize(self, tasks):
        """Prepare for training (once per fit); returns self.

        Parameters
        ----------
        tasks : list of Task
            The fitted tasks, in the order of the loss vector.
        """
        self.n_tasks_ = len(tasks)
        self.task_names_ = [t.name for t in tasks]
        return self

    def named_parameters(self):
        """Learnable parameters of the strategy, as ``(name, tensor)`` pairs."""
        return iter(())

    def optimizer_options(self):
        """Options of the optimizer's parameter group for :meth:`named_parameters`.

        A dict such as ``{"lr": 0.05}``; empty (the default) puts the
        strategy's parameters in the net's default group.
        """
        return {}

    def to(self, device):
        """Move the strategy's tensors to ``device``; returns self."""
        return self

    def combine(self, task_losses, training=True):
        """Scalar objective from the per-task losses (tensor of shape (n_tasks,))."""
        raise NotImplementedError(f"{type(self).__name__} must implement combine().")

    def backward(self, task_losses, net, penalty=None):
        """Back-propagate one training batch and return the loss to report.

        The default (loss level) back-propagates ``combine(task_losses)`` plus
        the architecture's ``penalty``.

        Parameters
        ----------
        task_losses : torch.Tensor of shape (n_tasks,)
            Masked mean loss of each task on the batch (0 for a task without
            labels in the batch).
        net : MultiTaskNet
            The net being trained (its ``module_`` gives
            ``shared_parameters()``).
        penalty : torch.Tensor or None
            Regularization of the architecture (e.g. soft sharing's pull).

        Returns
        -------
        loss : torch.Tensor, scalar
        """
        total = self.combine(task_losses, training=True)
        if penalty is not None:
            total = total + penalty
        total.backward()
        return total

    @property
    def uses_gradients(self):
        """Whether a training step does more than back-propagate :meth:`combine`.

        False when :meth:`backward` is the default one (the step is
        ``combine(task_losses) + penalty`` back-propagated once): such a
        strategy trains the same wherever that backward runs, e.g. under an
        accelerator. True for gradient-level strategies and for loss-level
        ones that compute gradients in their own :meth:`backward`
        (:class:`GradNorm`, :class:`MetaWeighting`).
        """
        return self.level != "loss" or type(self).backward is not Weighting.backward

    def after_step(self, net):
        """Called after the optimizer's step of every training batch."""

    def on_epoch_end(self, net, task_losses):
        """Called after each epoch with the epoch's mean training loss per task."""

    def weights(self):
        """The current task weights ``lambda`` (ndarray of shape (n_tasks,))."""
        raise NotImplementedError(f"{type(self).__name__} must implement weights().")


def _move_parameter(parameter, optimizer, device):
    """Move a strategy's own parameter and its optimizer's state to ``device``.

    In place (``.data``), so that the optimizer keeps referring to the
    parameter; the step counters stay where torch keeps them.
    """
    parameter.data = parameter.data.to(device)
    for state in optimizer.state.values():
        for key, value in state.items():
            if hasattr(value, "to") and key != "step":
                state[key] = value.to(device)


class _StepAveraged(Weighting):
    """A strategy whose weights change every step: it records their epoch mean.

    Subclasses create ``self._mean = _RunningMean(n_tasks)`` in
    ``initialize`` and ``add`` the weights of each step to it.
    """

    def on_epoch_end(self, net, task_losses):
        self._mean.close_epoch()

    def weights(self):
        return self._mean.value()


class _RunningMean:
    """Mean of the weights used over an epoch, accumulated without a device sync."""

    def __init__(self, n_tasks):
        self.last = np.ones(n_tasks)
        self.reset()

    def reset(self):
        self.total = None
        self.count = 0

    def add(self, weights):
        if hasattr(weights, "detach"):
            weights = weights.detach()
        self.total = weights + 0 if self.total is None else self.total + weights
        self.count += 1

    def value(self):
        """The mean since the last reset (the previous mean if nothing was added)."""
        if self.count:
            total = self.total
            if hasattr(total, "cpu"):
                total = total.cpu().numpy()
            self.last = np.asarray(total, dtype=float) / self.count
        return self.last.copy()

    def close_epoch(self):
        self.value()
        self.reset()


WEIGHTINGS = Registry("weighting", base=Weighting)
"""Strategies by their lower_snake_case name, as ``MultiTaskEstimator(weighting=...)``
accepts them (the short names users type are in :data:`ALIASES`); a
:class:`~skmtl.utils.Registry`: ``WEIGHTINGS.register("mine", MyStrategy)``
makes ``weighting="mine"`` work."""

ALIASES = WEIGHTINGS.aliases
"""Short names of strategies: ``{alias: name in WEIGHTINGS}``."""


def resolve_weighting(weighting):
    """A strategy instance from None, a name, a class or an instance.

    Parameters
    ----------
    weighting : None, str, Weighting subclass or Weighting
        None is :class:`Fixed` (equal weights); a string is a name of
        :data:`WEIGHTINGS` or an alias of :data:`ALIASES`.

    Returns
    -------
    Weighting

    Raises
    ------
    ValueError
        For an unknown name; the message lists every valid name and alias.

    Examples
    --------
    >>> from skmtl.neural.weighting import resolve_weighting
    >>> resolve_weighting("nash")
    NashMTL()
    """
    return WEIGHTINGS.build(weighting, default="fixed")
