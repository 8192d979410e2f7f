"""MultiTaskNet: a skorch NeuralNet whose module returns one output per task."""

import copy
import math
import warnings

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import PrintLog
from skorch.dataset import unpack_data
from skorch.utils import TeeGenerator, to_device

from ._data import BatchIterator, TaskDataset, is_complete
from ._losses import TaskLosses, outputs_by_task
from .weighting import resolve_weighting

__all__ = ["MultiTaskNet", "check_device"]

# Predicted values gathered on the device before one transfer to the CPU
# (16 MB of float32).
_PREDICT_TRANSFER = 1 << 22


def check_device(device):
    """Raise a clear ``ValueError`` when ``device`` is unknown or unavailable."""
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device={device!r} is not a torch device (e.g. 'cpu', "
                         f"'cuda', 'cuda:1'): {exc}") from None
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device={device!r} was requested but CUDA is not "
                             f"available (torch.cuda.is_available() is False: no "
                             f"GPU, or a CPU-only torch build); use device='cpu'.")
        if parsed.index is not None and parsed.index >= torch.cuda.device_count():
            raise ValueError(f"device={device!r} was requested but only "
                             f"{torch.cuda.device_count()} CUDA device(s) exist.")
    elif parsed.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device={device!r} was requested but MPS is not "
                         f"available; use device='cpu'.")
    return parsed


class MultiTaskNet(NeuralNet):
    """skorch ``NeuralNet`` for modules that return one output per task.

    The loss of a batch is ``sum_k lambda_k L_k``: ``L_k`` is task ``k``'s
    loss (its type's masked loss: the mean over the task's labelled entries in
    the batch, 0 when there is none, never NaN) and ``lambda`` comes from the
    ``weighting`` strategy (by default fixed ``task_weights``). The module's
    :meth:`~MultiTaskModule.penalty`, if any, is added during training. Each
    epoch the history gets ``train_loss_<task>`` (and ``valid_loss_<task>``
    with a validation split), the mean of the task's loss over its labelled
    entries, and ``task_weights``. A non-finite task loss stops training with
    a ``ValueError`` naming the task and the epoch, or, with
    ``on_divergence="restore"``, restores the parameters of the best epoch
    of the run (lowest weighted loss) and stops with a warning.

    Data go through :class:`TaskDataset` and :class:`BatchIterator` by
    default: a whole batch is fetched by slicing tensors, and predictions are
    computed batch by batch and returned as NumPy.

    Parameters
    ----------
    module : nn.Module class or instance
        Returns a tuple (task order), a dict keyed by task name, or a tensor
        (one task). The architectures of :mod:`skmtl.neural` are built with
        ``module__tasks``, ``module__input_shape`` and ``module__trunk``.
    tasks : list of Task
        Fitted tasks (see :func:`skmtl.tasks.resolve_tasks`), in output order.
    weighting : None, str or Weighting, default=None
        Task-weighting strategy; None is :class:`~skmtl.neural.weighting.Fixed`
        with ``task_weights``.
    task_weights : None, sequence of float or dict, default=None
        Manual task weights (tuple in task order, or dict by task name).
    criterion : default=None
        Unused: the tasks define the losses. Kept for skorch's interface.
    optimizer : torch optimizer class, default=torch.optim.Adam
    lr : float, default=1e-3
    max_epochs : int, default=10
    batch_size : int, default=128
    iterator_train, iterator_valid : default=BatchIterator
    dataset : default=TaskDataset
    train_split : callable or None, default=None
        skorch's internal validation split (e.g. ``ValidSplit(0.2)``); None
        trains on everything.
    on_divergence : {"raise", "restore"}, default="raise"
        What a non-finite task loss does: ``"raise"`` stops training with a
        ``ValueError`` naming the task and the epoch; ``"restore"`` puts back
        the module, optimizer and weighting state saved at the end of the
        best epoch of this call of ``fit``/``partial_fit`` (lowest weighted
        validation loss, or training loss without a validation split; the
        initial state if the first epoch diverged), drops the unfinished
        epoch from the history and stops training with a
        ``RuntimeWarning``. Each improving epoch costs one copy of the
        parameters and optimizer state.
    **kwargs
        Every other :class:`skorch.NeuralNet` parameter, including prefixed
        ones (``module__...``, ``optimizer__...``, ``callbacks__...``).

    Attributes
    ----------
    module_ : nn.Module
    weighting_ : Weighting
        The initialized copy of the strategy.
    history_ : skorch History

    See Also
    --------
    MultiTaskEstimator : The scikit-learn estimator that builds this net.

    Notes
    -----
    ``y`` is the 2-D matrix of encoded targets (``Task.encode``, NaN where
    missing), not a dict: scikit-learn's splitters index it like ``X``.
    Query ids of ranking tasks travel in the dataset:
    ``TaskDataset(X, y, groups=encode_groups(groups, tasks, n))``.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from skmtl.tasks import resolve_tasks
    >>> from skmtl.neural import HardSharing, MultiTaskNet
    >>> X = np.random.RandomState(0).randn(64, 3).astype("float32")
    >>> Y = np.c_[X[:, 0], X[:, 1] - X[:, 2]]
    >>> tasks = resolve_tasks(None, Y)
    >>> net = MultiTaskNet(HardSharing, tasks=tasks, module__tasks=tasks,
    ...                    module__input_shape=(3,), max_epochs=2, verbose=0)
    >>> _ = torch.manual_seed(0)
    >>> net = net.fit(X, Y)
    >>> sorted(k for k in net.history[-1] if k.startswith("train_loss_task"))
    ['train_loss_task_0', 'train_loss_task_1']
    >>> net.predict(X).shape
    (64, 2)
    """

    cuda_dependent_attributes_ = NeuralNet.cuda_dependent_attributes_ + [
        "weighting_", "task_losses_"]

    def __init__(self, module, tasks, *, weighting=None, task_weights=None,
                 criterion=None, optimizer=torch.optim.Adam, lr=1e-3, max_epochs=10,
                 batch_size=128, iterator_train=BatchIterator,
                 iterator_valid=BatchIterator, dataset=TaskDataset, train_split=None,
                 on_divergence="raise", **kwargs):
        kwargs.setdefault("iterator_train__shuffle", True)
        if iterator_valid is BatchIterator:
            kwargs.setdefault("iterator_valid__pad_last", True)
        super().__init__(module, criterion=criterion, optimizer=optimizer, lr=lr,
                         max_epochs=max_epochs, batch_size=batch_size,
                         iterator_train=iterator_train, iterator_valid=iterator_valid,
                         dataset=dataset, train_split=train_split, **kwargs)
        self.tasks = tasks
        self.weighting = weighting
        self.task_weights = task_weights
        self.on_divergence = on_divergence

    # transient per-epoch state: tensors on the training device, not pickled
    _TRANSIENT = ("_epoch_sums_", "_last_losses_", "_complete_", "_good_state_",
                  "_train_batch_")

    def __getstate__(self):
        state = super().__getstate__()
        for key in self._TRANSIENT:
            state.pop(key, None)
        return state

    # -- initialization ------------------------------------------------------

    @property
    def _default_callbacks(self):
        callbacks = super()._default_callbacks
        return [(name, PrintLog(keys_ignored=["task_weights"]))
                if name == "print_log" else (name, cb) for name, cb in callbacks]

    def initialize(self):
        if self.on_divergence not in ("raise", "restore"):
            raise ValueError(f"on_divergence must be 'raise' or 'restore', got "
                             f"{self.on_divergence!r}.")
        check_device(self.device)
        return super().initialize()

    def initialize_criterion(self):
        if self.criterion is None:
            self.criterion_ = None
            return self
        return super().initialize_criterion()

    def initialize_module(self):
        super().initialize_module()
        if not self.tasks:
            raise ValueError("MultiTaskNet needs the list of fitted tasks (tasks=).")
        self.task_losses_ = TaskLosses(self.tasks)
        strategy = copy.deepcopy(resolve_weighting(self.weighting))
        if self.task_weights is not None:
            from .weighting import Fixed

            if not isinstance(strategy, Fixed) or strategy.task_weights is not None:
                raise ValueError(
                    f"task_weights is shorthand for weighting=Fixed(task_weights), "
                    f"but weighting={self.weighting!r} was given too: "
                    f"{type(strategy).__name__} chooses the task weights itself; "
                    f"drop task_weights, or give the weights as Fixed(...).")
            strategy = Fixed(self.task_weights)
        self.weighting_ = strategy.initialize(self.tasks).to(self._compute_device())
        return self

    def _compute_device(self):
        """Where the module computes (``device``; the accelerator's device when
        Accelerate places the tensors, see AcceleratedMultiTaskNet)."""
        return self.device

    def get_all_learnable_params(self):
        yield from super().get_all_learnable_params()
        weighting = getattr(self, "weighting_", None)
        if weighting is not None:
            for name, param in weighting.named_parameters():
                yield f"weighting.{name}", param

    def get_params_for_optimizer(self, prefix, named_parameters):
        """skorch's optimizer arguments, with the strategy's own parameter group.

        When the weighting strategy asks for its own optimizer options (e.g.
        ``Uncertainty(lr=0.05)``), its parameters go to a separate parameter
        group with those options, unless an ``optimizer__param_groups``
        pattern already placed them.
        """
        args, kwargs = super().get_params_for_optimizer(prefix, named_parameters)
        weighting = getattr(self, "weighting_", None)
        options = weighting.optimizer_options() if (
            weighting is not None and prefix == "optimizer") else {}
        if not options:
            return args, kwargs
        own = {id(p) for _, p in weighting.named_parameters()}
        groups = list(args[0])
        for group in groups:
            if set(group) != {"params"}:
                continue  # a group configured by the user keeps its options
            mine = [p for p in group["params"] if id(p) in own]
            if mine:
                group["params"] = [p for p in group["params"] if id(p) not in own]
                groups.append({"params": mine, **options})
                break
        groups = [g for g in groups if g["params"]]
        return (groups,) + tuple(args[1:]), kwargs

    def _set_training(self, training=True):
        # skorch switches every submodule's mode on every batch; switching only
        # when the mode changes saves a walk over the module tree per batch.
        for name in self._modules + self._criteria:
            module = getattr(self, name + "_")
            if isinstance(module, torch.nn.Module) and module.training != training:
                module.train(training)

    # -- losses --------------------------------------------------------------

    def _split_targets(self, y_true):
        if isinstance(y_true, tuple | list):
            targets, groups = y_true
            return (to_device(targets, self.device), to_device(groups, self.device))
        return to_device(y_true, self.device), None

    def get_task_losses(self, y_pred, y_true, X=None, training=False):
        """Per-task masked losses of a batch.

        Returns
        -------
        losses : torch.Tensor of shape (n_tasks,)
        counts : torch.Tensor of shape (n_tasks,) or None
            Labelled entries of each task in the batch; None when every
            entry is labelled.
        """
        targets, groups = self._split_targets(y_true)
        complete = getattr(self, "_complete_", {}).get(
            "train" if training else "valid")
        return self.task_losses_(y_pred, targets, groups, complete=complete)

    def batch_task_losses(self, X, y, parameters=None, training=True):
        """Per-task losses of the module on a batch (tensor of shape (n_tasks,)).

        Parameters
        ----------
        X, y
            A batch as the iterator yields it (``y``: encoded targets, or the
            pair (targets, query ids)).
        parameters : dict, default=None
            Values to use instead of the module's parameters, by name (a
            one-step lookahead, with ``torch.func.functional_call``).
        training : bool, default=True
        """
        if parameters is None:
            y_pred = self.infer(X)
        else:
            y_pred = torch.func.functional_call(
                self.module_, parameters, (to_device(X, self.device),))
        losses, _ = self.get_task_losses(y_pred, y, X=X, training=training)
        return losses

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """The weighted joint loss ``sum_k lambda_k L_k`` of a batch."""
        losses, _ = self.get_task_losses(y_pred, y_true, X=X, training=training)
        return self.weighting_.combine(losses, training=training)

    def _penalty(self):
        penalty = getattr(self.module_, "penalty", None)
        return penalty() if callable(penalty) else None

    def _record(self, prefix, losses, counts, n_rows):
        """Accumulate the batch's task losses for the epoch means (no sync)."""
        sums = self._epoch_sums_[prefix]
        self._last_losses_ = losses.detach()
        if counts is None:
            sums[2].add_(self._last_losses_, alpha=n_rows)
            sums[3] += n_rows
        else:
            sums[0].add_(self._last_losses_ * counts)
            sums[1].add_(counts)

    def _check_finite(self, loss, training):
        if math.isfinite(loss):
            return
        values = self._last_losses_.cpu().numpy()
        bad = np.flatnonzero(~np.isfinite(values))
        which = (", ".join(f"task {self.tasks[k].name!r} became {values[k]}"
                           for k in bad)
                 if bad.size else f"objective became {loss}")
        where = (f"the {'training' if training else 'validation'} loss of {which} "
                 f"at epoch {self.history[-1, 'epoch']} (batch "
                 f"{len(self.history[-1, 'batches'])})")
        advice = ("Lower the learning rate, scale the inputs and targets, or lower "
                  "this task's weight.")
        if self.on_divergence == "restore" and getattr(self, "_good_state_", None):
            epoch = self._restore_good_state()
            warnings.warn(f"{where}; restored the parameters at the end of epoch "
                          f"{epoch} (the lowest loss of this run) and stopped "
                          f"training. {advice}", RuntimeWarning, stacklevel=2)
            raise KeyboardInterrupt  # skorch's way to stop the fit loop
        raise ValueError(f"{where}; training stopped. {advice}")

    # -- divergence: snapshot of the last good epoch --------------------------

    def _save_good_state(self, loss=np.inf):
        """Keep a copy of the state when ``loss`` is the run's best so far."""
        if self.on_divergence != "restore":
            return
        best = getattr(self, "_good_state_", None)
        if best is not None and not loss < best["loss"]:
            return
        if not all(bool(torch.isfinite(p).all()) for p in self.module_.parameters()):
            return
        self._good_state_ = {
            "loss": loss,
            "epoch": len(self.history) if self.history else 0,
            "module": {k: v.detach().clone()
                       for k, v in self.module_.state_dict().items()},
            "optimizers": {name: copy.deepcopy(getattr(self, name + "_").state_dict())
                           for name in self._optimizers},
            "weighting": copy.deepcopy(self.weighting_),
        }

    def _restore_good_state(self):
        """Put the last good state back; drop the unfinished epoch; its number."""
        good = self._good_state_
        self.module_.load_state_dict(good["module"])
        self.weighting_ = copy.deepcopy(good["weighting"])
        # the optimizer is rebuilt so that it holds the restored weighting's
        # parameters, then gets its saved state (moments, step counts) back
        self._initialize_optimizer()
        for name, state in good["optimizers"].items():
            getattr(self, name + "_").load_state_dict(state)
        if self.history and len(self.history) > good["epoch"]:
            self.history.pop()
        return good["epoch"]

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        self._good_state_ = None
        self._save_good_state()

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        # the batch, for strategies that evaluate the model again on it
        self._train_batch_ = (Xi, yi)
        y_pred = self.infer(Xi, **fit_params)
        losses, counts = self.get_task_losses(y_pred, yi, X=Xi, training=True)
        self._record("train", losses, counts, Xi.shape[0])
        loss = self.weighting_.backward(losses, self, penalty=self._penalty())
        return {"loss": loss, "y_pred": y_pred}

    def validation_step(self, batch, **fit_params):
        self._set_training(False)
        Xi, yi = unpack_data(batch)
        with torch.no_grad():
            y_pred = self.infer(Xi, **fit_params)
            losses, counts = self.get_task_losses(y_pred, yi, X=Xi, training=False)
            loss = self.weighting_.combine(losses, training=False)
        self._record("valid", losses, counts, Xi.shape[0])
        return {"loss": loss, "y_pred": y_pred}

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        super().on_batch_end(net, batch=batch, training=training, **kwargs)
        loss = kwargs.get("loss")
        if loss is not None:
            self._check_finite(loss.item(), training)
            good = getattr(self, "_good_state_", None)
            if training and good is not None and good["loss"] == np.inf:
                # the run's first batch: its loss is the initial state's, so
                # that an epoch that blows up on the way never counts as best
                good["loss"] = float(np.nansum(
                    self.weighting_.weights() * self._last_losses_.cpu().numpy()))

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_begin(net, dataset_train=dataset_train,
                               dataset_valid=dataset_valid, **kwargs)
        n = len(self.tasks)
        # per prefix: loss sums and entry counts of incomplete batches, loss
        # sums (weighted by rows) and row count of complete batches
        device = self._compute_device()
        self._epoch_sums_ = {
            p: [torch.zeros(n, device=device), torch.zeros(n, device=device),
                torch.zeros(n, device=device), 0] for p in ("train", "valid")}
        self._complete_ = {"train": is_complete(dataset_train),
                           "valid": is_complete(dataset_valid)}

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_end(net, dataset_train=dataset_train,
                             dataset_valid=dataset_valid, **kwargs)
        train_means = monitored = None
        per_task = self.task_losses_.outputs_per_task
        for prefix, (sums, counts, sums_complete, rows) in self._epoch_sums_.items():
            # complete batches added loss * rows; each row holds per_task entries
            counts = counts.cpu().numpy() + rows * per_task
            if not counts.any():
                continue
            sums = sums.cpu().numpy() + sums_complete.cpu().numpy() * per_task
            with np.errstate(invalid="ignore", divide="ignore"):
                means = np.where(counts > 0, sums / counts, np.nan)
            for task, value in zip(self.tasks, means):
                self.history.record(f"{prefix}_loss_{task.name}", float(value))
            if prefix == "train":
                train_means = means
            monitored = means  # the validation losses when there are some
        weights = self.weighting_.weights()
        self.history.record("task_weights", weights.tolist())
        if train_means is not None:
            self.weighting_.on_epoch_end(self, train_means)
        if monitored is not None:
            self._save_good_state(float(np.nansum(weights * monitored)))

    def train_step(self, batch, **fit_params):
        # skorch wraps the step in a closure for optimizers that re-evaluate
        # the loss (LBFGS); others get the cheaper direct call.
        if isinstance(self.optimizer_, torch.optim.LBFGS):
            step = super().train_step(batch, **fit_params)
        else:
            self._zero_grad_optimizer()
            step = self.train_step_single(batch, **fit_params)
            self.notify("on_grad_computed",
                        named_parameters=TeeGenerator(self.get_all_learnable_params()),
                        batch=batch, training=True)
            self._step_optimizer(None)
        self.weighting_.after_step(self)
        return step

    # -- fitting -------------------------------------------------------------

    def partial_fit(self, X, y=None, classes=None, epochs=None, **fit_params):
        """Train without re-initializing, for ``epochs`` (default ``max_epochs``)."""
        if not self.initialized_:
            self.initialize()
        routing_method = fit_params.pop("_routing_method", "partial_fit")
        self.notify("on_train_begin", X=X, y=y)
        try:
            self.fit_loop(X, y, epochs=epochs, _routing_method=routing_method,
                          **fit_params)
        except KeyboardInterrupt:
            pass
        self.notify("on_train_end", X=X, y=y)
        return self

    # -- prediction ----------------------------------------------------------

    def get_dataset(self, X, y=None):
        if (y is None and self.dataset is TaskDataset
                and not self.get_params_for("dataset")
                and not isinstance(X, torch.utils.data.Dataset)):
            # prediction only reads X: no need for a copy
            return TaskDataset(X, copy=False)
        return super().get_dataset(X, y)

    def predict_raw(self, X):
        """Raw outputs of every task (logits, values), computed batch by batch.

        The module runs in evaluation mode under ``torch.inference_mode``,
        one batch of ``iterator_valid`` at a time, through :meth:`infer`.
        The outputs of all tasks travel to the CPU together, in one transfer
        per 4M values (not one per batch and task: on a GPU each transfer
        waits for the device).

        Returns
        -------
        raw : list of ndarray
            One ``(n_samples, task.n_model_outputs)`` float32 array per task.
        """
        self.check_is_fitted()
        names = [t.name for t in self.tasks]
        dataset = self.get_dataset(X)
        n = len(dataset)
        moved, pending, pending_size, widths = [], [], 0, None
        self._set_training(False)
        with torch.inference_mode():
            for Xi, _ in self.get_iterator(dataset, training=False):
                output = [out.reshape(out.shape[0], -1) for out in
                          outputs_by_task(self.infer(Xi), names)]
                widths = [out.shape[1] for out in output]
                pending.append(torch.cat(output, dim=1).to(torch.float32))
                pending_size += pending[-1].numel()
                if pending_size >= _PREDICT_TRANSFER:
                    moved.append(torch.cat(pending).cpu())
                    pending, pending_size = [], 0
            if pending:
                moved.append(torch.cat(pending).cpu())
        if not moved:
            return [np.empty((0, t.n_model_outputs), dtype=np.float32)
                    for t in self.tasks]
        # [:n] drops the rows that pad the last batch (see BatchIterator)
        everything = torch.cat(moved)[:n]
        return [part.contiguous().numpy()
                for part in torch.split(everything, widths, dim=1)]

    def predict(self, X):
        """Predictions of every task in label space, ``(n_samples, n_outputs)``.

        Class labels for classification tasks, values for the others, columns
        in the tasks' order; an object array when the tasks' labels mix types.
        """
        per_task = [task.transform(raw) for task, raw in
                    zip(self.tasks, self.predict_raw(X))]
        kinds = {np.asarray(p).dtype.kind for p in per_task}
        if kinds <= set("biuf"):
            return np.hstack(per_task)
        return np.hstack([np.asarray(p, dtype=object) for p in per_task])

    def predict_proba(self, X):
        """Class probabilities of each classification column (list of arrays)."""
        columns = []
        for task, raw in zip(self.tasks, self.predict_raw(X)):
            proba = task.predict_proba(raw)
            if proba is not None:
                columns.extend(proba)
        if not columns:
            raise AttributeError("predict_proba needs a classification or binary "
                                 "task.")
        return columns
