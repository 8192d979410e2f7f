"""The interface every task-weighting strategy implements."""

import numpy as np
import torch
from torch.optim.adam import adam

from ...utils._registry import ParamsMixin, Registry

__all__ = ["Weighting", "WEIGHTINGS", "ALIASES", "resolve_weighting", "backward_total"]


class Weighting(ParamsMixin, torch.nn.Module):
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

    A strategy is a ``torch.nn.Module``: what it learns through the net's
    optimizer is an ``nn.Parameter`` (e.g. :class:`Uncertainty`'s
    log-variances), what it keeps from step to step is a buffer (running
    means, initial losses, weights updated by a rule of its own), so
    ``.to(device)``, ``state_dict`` and pickling come from torch, and the
    net's optimizer finds the parameters as it finds the module's. Its
    ``__init__`` need not call ``super().__init__()``: the module is set up
    before ``__init__`` runs. Step counters stay Python integers (reading a
    tensor on a GPU every step would wait for the device).

    To write a strategy: a **loss-level** one (``level = "loss"``)
    implements :meth:`combine`, returning the scalar objective for a vector
    of task losses (e.g. ``(lambda * task_losses).sum()``), and
    :meth:`weights`. Its
    learnable parameters (``nn.Parameter`` attributes, e.g. log-variances)
    are trained by the net's optimizer, in a parameter group of their own
    when :meth:`optimizer_options` returns options (e.g. a learning rate).

    A **gradient-level** strategy subclasses :class:`GradientWeighting`,
    which computes the task Jacobian of the shared parameters, writes the
    gradients and finishes the step: the strategy gives only its
    combination (:meth:`GradientWeighting.gram_weights` from the Gram
    matrix, or :meth:`GradientWeighting.combine_jacobian`). A strategy with
    a step of another kind (``level = "gradient"``) overrides
    :meth:`backward` itself: it must leave the gradients of every learnable
    parameter set for the optimizer step that follows, and return the
    scalar loss to report.

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

    def __new__(cls, *args, **kwargs):
        self = super().__new__(cls)
        # the module's registries exist before the subclass's __init__ stores
        # its arguments (which, as in scikit-learn, calls no parent __init__)
        torch.nn.Module.__init__(self)
        return self

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # a buffer shaped by the network (per-parameter statistics) is None
        # until the first step: loading a state gives it its shape
        here = next((t.device for t in self._buffers.values() if t is not None),
                    None)
        for name, buffer in self._buffers.items():
            if buffer is None and prefix + name in state_dict:
                self._buffers[name] = torch.empty_like(state_dict[prefix + name],
                                                       device=here)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

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

    def optimizer_options(self):
        """Options of the optimizer's parameter group for the strategy's parameters.

        A dict such as ``{"lr": 0.05}``; empty (the default) puts the
        strategy's parameters in the net's default group.
        """
        return {}

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
        return backward_total(self.combine(task_losses, training=True), penalty)

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

    @property
    def distributed_step(self):
        """How a training step becomes the same on several processes.

        ``"loss"``: the step is the combined loss back-propagated once; the
        strategy combines the task losses of the global batch (all the
        processes' shards), and each process back-propagates its part of
        that combination, which ``DistributedDataParallel`` averages.
        ``"jacobian"`` (:class:`GradientWeighting`): the per-task gradients
        of the shared parameters and the task losses are averaged across
        processes before the strategy combines them. ``"gram"`` (the
        representation form, ``on="representation"``, and
        :class:`MGDAUB`): the Gram matrix of the tasks' gradients of the
        representation is summed across processes, and each process
        back-propagates the combination's rows of its own shard. None: the
        step cannot be distributed (:class:`GradNorm`,
        :class:`MetaWeighting`, and the representation forms of
        :class:`GradDrop`, :class:`DBMTL` and :class:`ExcessMTL`, whose
        combinations read the rows themselves); ``accelerator=`` refuses
        such a strategy on several processes.
        """
        return None if self.uses_gradients else "loss"

    def after_step(self, net):
        """Called after the optimizer's step of every training batch."""

    def on_epoch_end(self, net, task_losses):
        """Called after each epoch with the epoch's mean training loss per task."""

    def weights(self):
        """The current task weights ``lambda`` (ndarray of shape (n_tasks,))."""
        raise NotImplementedError(f"{type(self).__name__} must implement weights().")


class _StepAveraged(Weighting):
    """A strategy whose weights change every step: it records their epoch mean.

    The mean lives in buffers (accumulated on the training device, read
    once per epoch): a subclass calls :meth:`record_weights` with the
    weights of each step.
    """

    def initialize(self, tasks):
        super().initialize(tasks)
        n = self.n_tasks_
        self.register_buffer("_weights_sum", torch.zeros(n, dtype=torch.float64))
        self.register_buffer("_weights_count", torch.zeros((), dtype=torch.int64))
        self.register_buffer("_epoch_weights", torch.ones(n, dtype=torch.float64))
        return self

    def record_weights(self, weights):
        """Add the task weights of a step (tensor or ndarray) to the epoch's mean."""
        if isinstance(weights, np.ndarray):
            weights = torch.from_numpy(weights)
        total = self._weights_sum
        total.add_(weights.detach().to(total.device))
        self._weights_count.add_(1)

    def on_epoch_end(self, net, task_losses):
        self.weights()
        self._weights_sum.zero_()
        self._weights_count.zero_()

    def weights(self):
        """The mean weights since the epoch began (the last epoch's if none)."""
        count = int(self._weights_count)
        if count:
            self._epoch_weights.copy_(self._weights_sum / count)
        return self._epoch_weights.cpu().numpy().copy()


class _OwnAdam(torch.nn.Module):
    """Adam's moments for a tensor that a strategy updates by a rule of its own.

    GradNorm's, FAMO's and MetaWeighting's weights must not follow the
    gradient of the weighted loss (the net's optimizer), so they are buffers
    updated by their own Adam step, whose moments are buffers here (torch's
    functional Adam: the same update as ``torch.optim.Adam``/``AdamW``).
    """

    def __init__(self, like, lr, weight_decay=0.0, decoupled=False):
        super().__init__()
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.decoupled = bool(decoupled)
        self.steps = 0
        self.register_buffer("exp_avg", torch.zeros_like(like))
        self.register_buffer("exp_avg_sq", torch.zeros_like(like))

    def step(self, value, gradient):
        """Update ``value`` in place with ``gradient``."""
        step = torch.tensor(float(self.steps))  # on the CPU, as torch.optim keeps it
        with torch.no_grad():
            adam(
                [value], [gradient], [self.exp_avg], [self.exp_avg_sq], [], [step],
                decoupled_weight_decay=self.decoupled, amsgrad=False, beta1=0.9,
                beta2=0.999, lr=self.lr, weight_decay=self.weight_decay, eps=1e-8,
                maximize=False)
        self.steps += 1


def backward_total(total, penalty=None):
    """Back-propagate the joint loss ``total`` plus the architecture's ``penalty``.

    The loss-level step; returns what was back-propagated.
    """
    if penalty is not None:
        total = total + penalty
    total.backward()
    return total


def _check_every(owner, every):
    if isinstance(every, bool) or int(every) != every or every < 1:
        raise ValueError(f"{owner}: every must be a positive integer, got "
                         f"{every!r}.")


def _check_pref(owner, pref_vector, n_tasks):
    if pref_vector is None:
        return None
    pref = np.asarray(pref_vector, dtype=float)
    if pref.shape != (n_tasks,) or not np.all(pref > 0):
        raise ValueError(f"{owner}: pref_vector must hold {n_tasks} positive values, "
                         f"got {pref_vector!r}.")
    return pref


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
