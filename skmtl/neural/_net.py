"""MultiTaskNet: a skorch NeuralNet whose module returns one output per task."""

from collections.abc import Mapping

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, PrintLog
from skorch.dataset import get_len, unpack_data
from skorch.utils import to_device, to_tensor

from ..base import assemble_predictions
from ._callbacks import DivergenceGuard, StarvationMonitor
from ._checkpoints import find_per_task_checkpoint
from ._data import BatchIterator, TaskDataset, labelled_columns, n_rows
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


def split_batch_targets(y_true):
    """``(targets, groups, sample_weight, loss_inputs)`` of a batch's ``y``
    (see TaskDataset)."""
    if isinstance(y_true, dict):
        return (y_true["targets"], y_true.get("groups"),
                y_true.get("sample_weight"), y_true.get("loss_inputs"))
    return y_true, None, None, None


def _implements(callback, method_name):
    """Whether ``callback`` does something in ``method_name``."""
    if not isinstance(callback, Callback):
        return True
    return getattr(type(callback), method_name, None) is not getattr(
        Callback, method_name, None)


def _write(parts, buffers, row):
    """Write each task's batches (``parts[k]``, on the module's device) into
    its CPU float32 buffer from ``row`` on (rows past the buffer's end pad
    the last batch and are dropped); one transfer per task: on a GPU each
    transfer waits for the device. Returns the next row."""
    end = row
    for k, batches in enumerate(parts):
        if not batches:
            continue
        joined = batches[0] if len(batches) == 1 else torch.cat(batches)
        stop = min(row + joined.shape[0], buffers[k].shape[0])
        buffers[k][row:stop] = joined[:stop - row]
        batches.clear()
        end = stop
    return end


class MultiTaskNet(NeuralNet):
    """skorch ``NeuralNet`` for modules that return one output per task.

    The loss of a batch is ``sum_k lambda_k L_k``: ``L_k`` is task ``k``'s
    loss (its type's masked loss: the mean over the task's labelled entries in
    the batch, weighted by the sample weights when the dataset has them, 0
    when there is none, never NaN) and ``lambda`` comes from the
    ``weighting`` strategy. The module's :meth:`~MultiTaskModule.penalty`, if
    any, is added during training. Each epoch the history gets
    ``train_loss_<task>`` (and ``valid_loss_<task>`` with a validation split),
    the mean of the task's loss over its labelled entries, and
    ``task_weights``.

    The net trains what it is given: :class:`MultiTaskEstimator` resolves its
    hyper-parameters (tasks, module, weighting) and hands the results over.
    A non-finite loss is caught by the default ``divergence`` callback
    (:class:`~skmtl.neural.DivergenceGuard`): it raises a ``ValueError``
    naming the task and the epoch, or restores the best epoch
    (``callbacks__divergence__on_divergence="restore"``).

    Data go through :class:`TaskDataset` and :class:`BatchIterator` by
    default: a whole batch is fetched by slicing tensors, and predictions are
    computed batch by batch and returned as NumPy.

    Parameters
    ----------
    module : nn.Module class or instance
        Returns a tuple (task order), a dict keyed by task name, or a tensor
        (one task). A class is built by skorch with the ``module__...``
        parameters (the architectures of :mod:`skmtl.neural` take
        ``module__tasks`` and ``module__input_shape``).
    tasks : list of Task
        Fitted tasks (see :func:`skmtl.tasks.resolve_tasks`), in output order.
    weighting : None, str or Weighting, default=None
        Task-weighting strategy; None is :class:`~skmtl.neural.weighting.Fixed`
        (every weight 1). An instance is used as given (initialized for the
        tasks unless it already is), as skorch uses a module instance.
    criterion : default=None
        None computes the tasks' own losses (:class:`TaskLosses`); another
        criterion must take the same arguments.
    optimizer : torch optimizer class, default=torch.optim.Adam
    lr : float, default=1e-3
    max_epochs : int, default=10
    batch_size : int, default=128
    iterator_train, iterator_valid : default=BatchIterator
    dataset : default=TaskDataset
    train_split : callable or None, default=None
        skorch's internal validation split (e.g. ``ValidSplit(0.2)``); None
        trains on everything.
    **kwargs
        Every other :class:`skorch.NeuralNet` parameter, including prefixed
        ones (``module__...``, ``optimizer__...``, ``callbacks__...``).

    Attributes
    ----------
    module_ : nn.Module
    criterion_ : TaskLosses
    weighting_ : Weighting
        The strategy being trained, a torch module registered with skorch:
        its parameters are in the optimizer, and it moves with the net.
    train_batch_ : tuple
        The batch ``(X, y)`` of the training step in progress, for strategies
        that evaluate the model again on it.
    history_ : skorch History

    See Also
    --------
    MultiTaskEstimator : The scikit-learn estimator that builds this net.

    Notes
    -----
    ``y`` is the 2-D matrix of encoded targets (``Task.encode``, NaN where
    missing), not a dict: scikit-learn's splitters index it like ``X``.
    Query ids of ranking tasks and sample weights travel in the dataset:
    ``TaskDataset(X, y, groups=encode_groups(groups, tasks, n),
    sample_weight=w)``.

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

    # Prefixes: "module" and "weighting" cover the parameter and the fitted
    # attribute. The estimator hands the net the module and the strategy it
    # trains, so parameter and attribute are one object: they are pickled
    # together (staying one object) and mapped to the CPU together. (skorch
    # registers the strategy, a torch module, as "weighting_" by itself: it
    # moves it and puts its parameters in the optimizer.)
    cuda_dependent_attributes_ = NeuralNet.cuda_dependent_attributes_ + [
        "module", "weighting", "criterion_"]

    def __init__(self, module, tasks, *, weighting=None, criterion=None,
                 optimizer=torch.optim.Adam, lr=1e-3, max_epochs=10, batch_size=128,
                 iterator_train=BatchIterator, iterator_valid=BatchIterator,
                 dataset=TaskDataset, train_split=None, **kwargs):
        # set before skorch's __init__: skorch refuses a torch module (a
        # strategy) as a plain attribute of an initialized net
        self.tasks = tasks
        self.weighting = weighting
        kwargs.setdefault("iterator_train__shuffle", True)
        if iterator_valid is BatchIterator:
            kwargs.setdefault("iterator_valid__pad_last", True)
        super().__init__(module, criterion=criterion, optimizer=optimizer, lr=lr,
                         max_epochs=max_epochs, batch_size=batch_size,
                         iterator_train=iterator_train, iterator_valid=iterator_valid,
                         dataset=dataset, train_split=train_split, **kwargs)

    # per-epoch accumulators and the current batch: tensors on the training
    # device, rebuilt every epoch, never pickled
    _TRANSIENT = ("epoch_sums_", "complete_", "checked_datasets_", "train_batch_",
                  "listeners_")

    def __getstate__(self):
        state = super().__getstate__()
        for key in self._TRANSIENT:
            state.pop(key, None)
        return state

    # -- initialization ------------------------------------------------------

    def get_default_callbacks(self):
        # per-task lists do not fit in skorch's printed table
        log = PrintLog(keys_ignored=["task_weights", "task_share",
                                     "task_gradient_norms", "task_gradient_cosines"])
        callbacks = [(name, log) if name == "print_log" else (name, cb)
                     for name, cb in super().get_default_callbacks()]
        return callbacks + [("divergence", DivergenceGuard()),
                            ("starvation", StarvationMonitor())]

    def initialize_callbacks(self):
        super().initialize_callbacks()
        self.listeners_ = {}
        return self

    def notify(self, method_name, **cb_kwargs):
        """skorch's notify, skipping the callbacks that leave ``method_name``
        as :class:`skorch.callbacks.Callback` defines it (a no-op): most
        callbacks act once per epoch, and a batch notifies three times."""
        getattr(self, method_name)(self, **cb_kwargs)
        for cb in self._listeners(method_name):
            getattr(cb, method_name)(self, **cb_kwargs)

    def _listeners(self, method_name):
        """The callbacks that do something in ``method_name``."""
        listeners = vars(self).setdefault("listeners_", {})
        callbacks = listeners.get(method_name)
        if callbacks is None:
            callbacks = listeners[method_name] = [
                cb for _, cb in self.callbacks_ if _implements(cb, method_name)]
        return callbacks

    def initialize(self):
        check_device(self.device)
        if not self.tasks:
            raise ValueError("MultiTaskNet needs the list of fitted tasks (tasks=).")
        return super().initialize()

    def initialize_criterion(self):
        if self.criterion is None:
            self.criterion_ = TaskLosses(self.tasks)
            return self
        return super().initialize_criterion()

    def initialize_module(self):
        super().initialize_module()
        weighting = resolve_weighting(self.weighting)
        if getattr(weighting, "task_names_", None) != [t.name for t in self.tasks]:
            weighting.initialize(self.tasks)
        self.weighting_ = weighting.to(self.compute_device())
        return self

    def compute_device(self):
        """Where the module computes: ``device`` (the accelerator's device when
        Accelerate places the tensors, see AcceleratedMultiTaskNet)."""
        return self.device

    def initialize_optimizer(self, triggered_directly=None):
        """skorch's optimizer; tables with sparse gradients get their own.

        The module's ``sparse_parameters()`` (embedding tables built with
        ``sparse=True``, see :class:`EmbeddedInputs`) go to
        ``torch.optim.SparseAdam`` as ``sparse_optimizer_`` (at the net's
        learning rate), every other parameter to ``optimizer`` as usual:
        dense optimizers reject sparse gradients.
        """
        sparse_fn = getattr(self.module_, "sparse_parameters", None)
        sparse = list(sparse_fn()) if callable(sparse_fn) else []
        if not sparse:
            return super().initialize_optimizer(triggered_directly)
        ids = {id(p) for p in sparse}
        named = [(name, p) for name, p in self.get_all_learnable_params()
                 if id(p) not in ids]
        args, kwargs = self.get_params_for_optimizer("optimizer", named)
        self.optimizer_ = self.optimizer(*args, **kwargs)
        lr = self.get_params_for("optimizer").get("lr", self.lr)
        self.sparse_optimizer_ = torch.optim.SparseAdam(sparse, lr=lr)
        return self

    def infer(self, x, **fit_params):
        """The module's outputs on a batch; named inputs (a dict) reach the
        module as one argument, which hands them to its trunk as keyword
        arguments (see :class:`HardSharing`)."""
        if isinstance(x, Mapping) and not fit_params:
            if all(isinstance(v, torch.Tensor) for v in x.values()):
                # the batches of TaskDataset: skip skorch's recursive to_tensor
                return self.module_({k: v.to(self.device) for k, v in x.items()})
            return self.module_(to_tensor(x, device=self.device))
        return super().infer(x, **fit_params)

    def get_all_learnable_params(self):
        """skorch's learnable parameters (the module's, the strategy's: skorch
        registers both), the strategy's named ``weighting.<name>`` so that an
        ``optimizer__param_groups`` pattern such as ``"weighting.*"`` finds
        them."""
        weighting = getattr(self, "weighting_", None)
        own = set() if weighting is None else {id(p) for p in weighting.parameters()}
        for name, param in super().get_all_learnable_params():
            yield (f"weighting.{name}" if id(param) in own else name), param

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
        own = {id(p) for p in weighting.parameters()}
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

    # -- losses --------------------------------------------------------------

    def get_task_losses(self, y_pred, y_true, X=None, training=False):
        """Per-task masked losses of a batch.

        Returns
        -------
        losses : torch.Tensor of shape (n_tasks,)
        counts : torch.Tensor of shape (n_tasks,) or None
            Labelled entries of each task in the batch (weighted by the
            sample weights); None when every entry is labelled and the batch
            is unweighted.
        """
        device = torch.device(self.device) if self.device is not None else None
        targets, groups, weights, loss_inputs = (
            part if part is None or device is None or (
                isinstance(part, torch.Tensor) and part.device == device)
            else to_device(part, device) for part in split_batch_targets(y_true))
        complete = getattr(self, "complete_", {}).get(
            "train" if training else "valid")
        # loss inputs exist only where the criterion computed them (see
        # get_iterator)
        extra = {} if loss_inputs is None else {"loss_inputs": loss_inputs}
        return self.criterion_(y_pred, targets, groups, complete=complete,
                               sample_weight=weights, **extra)

    def batch_task_losses(self, X, y, parameters=None, training=True):
        """Per-task losses of the module on a batch (tensor of shape (n_tasks,)).

        Parameters
        ----------
        X, y
            A batch as the iterator yields it (``y``: encoded targets, or the
            dict of targets, query ids and sample weights).
        parameters : dict, default=None
            Values to use instead of the module's parameters, by name (a
            one-step lookahead, with ``torch.func.functional_call``).
        training : bool, default=True
        """
        losses, _ = self._batch_losses_and_counts(X, y, parameters, training)
        return losses

    def _batch_losses_and_counts(self, X, y, parameters, training):
        if parameters is None:
            y_pred = self.infer(X)
        else:
            y_pred = torch.func.functional_call(
                self.module_, parameters, (to_device(X, self.device),))
        return self.get_task_losses(y_pred, y, X=X, training=training)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """The weighted joint loss ``sum_k lambda_k L_k`` of a batch."""
        losses, _ = self.get_task_losses(y_pred, y_true, X=X, training=training)
        return self.weighting_.combine(losses, training=training)

    def plain_module(self):
        """The module itself (a subclass that wraps ``module_`` for data
        parallelism returns the wrapped one): where the architecture's
        methods (``shared_parameters``, ``penalty``) are."""
        return self.module_

    def _penalty(self):
        penalty = getattr(self.plain_module(), "penalty", None)
        return penalty() if callable(penalty) else None

    def _set_mode(self, training):
        # only when the mode changes: a walk over the module tree costs
        # about as much as a small layer, on every batch
        if self.module_.training != training:
            self.module_.train(training)

    def _record(self, prefix, losses, counts, n_rows):
        """Accumulate the batch's task losses for the epoch means (no sync)."""
        sums = self.epoch_sums_[prefix]
        losses = losses.detach()
        if counts is None:
            sums[2].add_(losses, alpha=n_rows)
            sums[3] += n_rows
        else:
            sums[0].add_(losses * counts)
            sums[1].add_(counts)
        return losses

    # -- steps ---------------------------------------------------------------

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """skorch's epoch loop, counting each batch's rows with :func:`n_rows`
        for tensors and dicts of them: skorch's generic ``get_len`` walks
        the batch's structure, which on every batch costs about what a small
        layer does."""
        if iterator is None:
            return
        batch_count = 0
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            self.history.record_batch(prefix + "_loss", step["loss"].item())
            Xb = batch[0] if isinstance(batch, tuple | list) else batch
            self.history.record_batch(
                prefix + "_batch_size",
                n_rows(Xb) if isinstance(Xb, torch.Tensor | dict) else get_len(Xb))
            self.notify("on_batch_end", batch=batch, training=training, **step)
            batch_count += 1
        self.history.record(prefix + "_batch_count", batch_count)

    def train_step_single(self, batch, **fit_params):
        self._set_mode(True)
        Xi, yi = unpack_data(batch)
        self.train_batch_ = (Xi, yi)
        y_pred = self.infer(Xi, **fit_params)
        losses, counts = self.get_task_losses(y_pred, yi, X=Xi, training=True)
        task_losses = self._record("train", losses, counts, n_rows(Xi))
        loss = self.weighting_.backward(losses, self, penalty=self._penalty())
        return {"loss": loss, "y_pred": y_pred, "task_losses": task_losses}

    def validation_step(self, batch, **fit_params):
        self._set_mode(False)
        Xi, yi = unpack_data(batch)
        with torch.no_grad():
            y_pred = self.infer(Xi, **fit_params)
            losses, counts = self.get_task_losses(y_pred, yi, X=Xi, training=False)
            loss = self.weighting_.combine(losses, training=False)
        task_losses = self._record("valid", losses, counts, n_rows(Xi))
        return {"loss": loss, "y_pred": y_pred, "task_losses": task_losses}

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        super().on_batch_end(net, batch=batch, training=training, **kwargs)
        if training:
            self.weighting_.after_step(self)

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_begin(net, dataset_train=dataset_train,
                               dataset_valid=dataset_valid, **kwargs)
        n = len(self.tasks)
        # per prefix: loss sums and entry counts of incomplete or weighted
        # batches, loss sums (weighted by rows) and row count of the others
        device = self.compute_device()
        self.epoch_sums_ = {
            p: [torch.zeros(n, device=device), torch.zeros(n, device=device),
                torch.zeros(n, device=device), 0] for p in ("train", "valid")}
        # a fit's datasets stay the same from epoch to epoch: checked once
        checked = vars(self).setdefault("checked_datasets_", {})
        self.complete_ = {}
        for prefix, dataset in (("train", dataset_train), ("valid", dataset_valid)):
            if prefix not in checked or checked[prefix][0] is not dataset:
                checked[prefix] = (dataset, self._completeness(dataset))
            self.complete_[prefix] = checked[prefix][1]

    def _completeness(self, dataset):
        """Whether every target of ``dataset`` is labelled, for each task
        when the criterion is :class:`TaskLosses` (a task whose columns are
        complete takes its type's fused loss, whatever the other tasks),
        else as one bool; None when it cannot tell."""
        labelled = labelled_columns(dataset)
        if labelled is None:
            return None
        if isinstance(self.criterion_, TaskLosses):
            return tuple(bool(labelled[task.columns_].all()) for task in self.tasks)
        return bool(labelled.all())

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_end(net, dataset_train=dataset_train,
                             dataset_valid=dataset_valid, **kwargs)
        train_means = None
        outputs_per_task = self.criterion_.outputs_per_task
        for prefix, (sums, counts, sums_rows, rows) in self.epoch_sums_.items():
            # row-counted batches added loss * rows; a row holds
            # outputs_per_task entries of each task
            counts = counts.cpu().numpy() + rows * outputs_per_task
            if not counts.any():
                continue
            sums = sums.cpu().numpy() + sums_rows.cpu().numpy() * outputs_per_task
            with np.errstate(invalid="ignore", divide="ignore"):
                means = np.where(counts > 0, sums / counts, np.nan)
            for task, value in zip(self.tasks, means):
                self.history.record(f"{prefix}_loss_{task.name}", float(value))
            if prefix == "train":
                train_means = means
        self.history.record("task_weights", self.weighting_.weights().tolist())
        if train_means is not None:
            self.weighting_.on_epoch_end(self, train_means)

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        self.checked_datasets_ = {}

    def on_train_end(self, net, X=None, y=None, **kwargs):
        super().on_train_end(net, X=X, y=y, **kwargs)
        self.train_batch_ = None
        self.checked_datasets_ = {}

    # -- prediction ----------------------------------------------------------

    def get_iterator(self, dataset, training=False):
        """skorch's iterator; a :class:`BatchIterator` also hands each batch
        its rows of the criterion's ``loss_inputs`` (what the losses read
        from the targets alone, such as the masks of dependent tasks:
        computed once per epoch instead of once per batch)."""
        iterator = super().get_iterator(dataset, training=training)
        compute = getattr(getattr(self, "criterion_", None), "loss_inputs", None)
        if isinstance(iterator, BatchIterator) and callable(compute):
            iterator.hand_over_loss_inputs(compute)
        return iterator

    def get_dataset(self, X, y=None):
        if (y is None and self.dataset is TaskDataset
                and not self.get_params_for("dataset")
                and not isinstance(X, torch.utils.data.Dataset)):
            # prediction only reads X: no need for a copy
            return TaskDataset(X, copy=False)
        return super().get_dataset(X, y)

    def predict_raw(self, X, checkpoints=True):
        """Raw outputs of every task (logits, values), computed batch by batch.

        The module runs in evaluation mode under ``torch.inference_mode``,
        one batch of ``iterator_valid`` at a time, through :meth:`infer`.
        The outputs travel to the CPU once per 4M values, one transfer per
        task (not one per batch and task: on a GPU each transfer waits for
        the device).

        Parameters
        ----------
        X : input data
        checkpoints : bool, default=True
            With a :class:`~skmtl.neural.PerTaskCheckpoint` callback that
            holds states, compute each task from its best epoch's state;
            False uses the module's current parameters for every task.

        Returns
        -------
        raw : list of ndarray
            One ``(n_samples, task.n_model_outputs)`` float32 array per task.
        """
        self.check_is_fitted()
        checkpoint = find_per_task_checkpoint(self) if checkpoints else None
        if checkpoint is not None:
            return checkpoint.predict_raw(self, X)
        names = [t.name for t in self.tasks]
        dataset = self.get_dataset(X)
        n = len(dataset)
        # Each batch's outputs are written into buffers of n rows made once:
        # many small outputs kept until a join would sit between the batches'
        # freed activations and fragment the heap (glibc kept 370 MB more
        # resident after a prediction of 1M rows than with the buffers).
        buffers = None
        pending = [[] for _ in names]
        pending_size, row = 0, 0
        self._set_mode(False)
        with torch.inference_mode():
            for Xi, _ in self.get_iterator(dataset, training=False):
                outputs = [out.reshape(out.shape[0], -1)
                           for out in outputs_by_task(self.infer(Xi), names)]
                if buffers is None:
                    buffers = [torch.empty((n, out.shape[1]), dtype=torch.float32)
                               for out in outputs]
                if outputs[0].device.type == "cpu":
                    row = _write([[out] for out in outputs], buffers, row)
                    continue
                for k, out in enumerate(outputs):
                    pending[k].append(out)
                    pending_size += out.numel()
                if pending_size >= _PREDICT_TRANSFER:
                    row = _write(pending, buffers, row)
                    pending_size = 0
            if pending_size:
                row = _write(pending, buffers, row)
        if buffers is None:
            return [np.empty((0, t.n_model_outputs), dtype=np.float32)
                    for t in self.tasks]
        return [buffer.numpy() for buffer in buffers]

    def predict(self, X):
        """Predictions of every task in label space, ``(n_samples, n_outputs)``.

        Class labels for classification tasks, values for the others, in the
        tasks' columns, decoded as the estimators decode them
        (:func:`~skmtl.base.assemble_predictions`): int64 when every task
        predicts integer labels, float64 for numbers, an object array when
        string labels sit beside numbers.
        """
        return assemble_predictions(self.tasks, [
            task.transform(raw) for task, raw in zip(self.tasks, self.predict_raw(X))])

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
