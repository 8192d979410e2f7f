"""Per-task early stopping and checkpoints.

The tasks of one network rarely peak together: a task with few noisy labels
overfits after a few epochs while another needs many. :class:`PerTaskCheckpoint`
watches each task's validation loss, keeps the module state of each task's
best epoch, predicts every task from its own best state and stops training
once every task has stalled.
"""

import warnings

import numpy as np
from skorch.callbacks import Callback
from torch import nn

__all__ = ["PerTaskCheckpoint", "find_per_task_checkpoint"]


def find_per_task_checkpoint(net):
    """The net's :class:`PerTaskCheckpoint` holding states, or None."""
    for _, callback in getattr(net, "callbacks_", None) or ():
        if isinstance(callback, PerTaskCheckpoint) and callback.states_:
            return callback
    return None


def _head_prefixes(module, n_tasks):
    """``state_dict`` prefix of each task's head (``"heads.<k>."``), or None
    when the module has no single list of one head per task.

    The architectures of :mod:`skmtl.neural` compute task ``k``'s output from
    the parameters outside the heads and from ``heads[k]``: a task's state
    needs no other task's head.
    """
    found = [name for name, child in module.named_modules()
             if name.rsplit(".", 1)[-1] == "heads" and isinstance(child, nn.ModuleList)
             and len(child) == n_tasks]
    if len(found) != 1:
        return None
    return [f"{found[0]}.{k}." for k in range(n_tasks)]


class PerTaskCheckpoint(Callback):
    """Keep each task's best epoch; predict each task from it; stop when all stall.

    After every epoch, each task's validation loss (``valid_loss_<task>``,
    which :class:`~skmtl.neural.MultiTaskNet` records on skorch's internal
    validation split) is compared with that task's best so far. The tasks
    that improve get a copy of the module's state (``state_dict``, on the
    CPU), shared by all the tasks that improve at that epoch; ``predict``,
    ``predict_proba`` and ``score`` of the estimator (and the net's
    :meth:`~skmtl.neural.MultiTaskNet.predict_raw`) then compute each task
    from its own best state, with one pass over ``X`` per distinct best
    epoch. Training stops once every task has gone ``patience`` epochs
    without improving.

    The module itself keeps the last epoch's parameters, so that a
    warm-started ``fit`` or ``partial_fit`` goes on from there; the best
    states carry over (a later epoch replaces a task's state only by beating
    it) while the patience counts start again with each call.

    Parameters
    ----------
    monitor : str, default="valid_loss"
        The history key of task ``k`` is ``f"{monitor}_{name_k}"``: the
        validation loss by default, or a per-task score recorded by a
        callback of your own (then set ``lower_is_better=False``).
    patience : int or None, default=None
        Stop once every task has gone this many epochs (of the current
        call of ``fit``/``partial_fit``) without improving; None never
        stops (states are still kept).
    lower_is_better : bool, default=True
    threshold : float, default=0.0
        Relative improvement needed to count as better: a loss must fall
        below ``best * (1 - threshold)`` (rise above ``best * (1 +
        threshold)`` for a score).

    Attributes
    ----------
    best_epochs_ : dict
        Task name -> epoch (1-based, as in ``history``) of its best state,
        None while a task has no finite monitored value.
    best_scores_ : dict
        Task name -> best monitored value.
    states_ : dict
        Task name -> its best state (a dict of CPU tensors, one object for
        the tasks that share an epoch).
    stopped_epoch_ : int or None
        The epoch after which the last call stopped early, else None.

    Notes
    -----
    Memory: up to one copy of the module per task (each task's best state
    is kept until a later epoch beats it; tasks that peak at the same epoch
    share one copy, and a copy leaves out the heads of the tasks that did not
    peak at that epoch). Copies live on the CPU and are loaded into the
    module on its device for prediction. Each improving epoch costs one copy
    of the module's state to the CPU.

    Prediction loads the best states into the module and puts its own
    parameters back afterwards (a copy of the parameters it replaces): one
    fitted estimator should not predict in several threads at once.

    The history gets ``f"{monitor}_{name}_best"`` (True at the epochs where
    the task improved), which skorch's printed log highlights.

    Keeping the best epoch of one validation loss is skorch's
    ``Checkpoint``/``EarlyStopping``; per task, it answers the model
    selection that multi-task trainers leave open when tasks peak at
    different epochs.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural import MultiTaskRegressor, PerTaskCheckpoint
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(300, 5)
    >>> Y = np.c_[X[:, 0], X[:, 1] * X[:, 2]]
    >>> est = MultiTaskRegressor(hidden_layer_sizes=(16,), lr=0.01, max_epochs=40,
    ...                          train_split=0.2, random_state=0,
    ...                          callbacks=[PerTaskCheckpoint(patience=5)])
    >>> est = est.fit(X, Y)
    >>> sorted(est.best_epochs_)
    ['task_0', 'task_1']
    """

    def __init__(self, monitor="valid_loss", patience=None, lower_is_better=True,
                 threshold=0.0):
        self.monitor = monitor
        self.patience = patience
        self.lower_is_better = lower_is_better
        self.threshold = threshold

    def initialize(self):
        if self.patience is not None and not (
                isinstance(self.patience, (int, np.integer)) and self.patience >= 1):
            raise ValueError(f"PerTaskCheckpoint: patience must be a positive "
                             f"integer or None, got {self.patience!r}.")
        if not (isinstance(self.threshold, (int, float)) and 0 <= self.threshold < 1):
            raise ValueError(f"PerTaskCheckpoint: threshold must be in [0, 1), got "
                             f"{self.threshold!r}.")
        self.best_epochs_ = {}
        self.best_scores_ = {}
        self.states_ = {}
        self.misses_ = {}
        self.unwatched_ = set()
        self.stopped_epoch_ = None
        return self

    def key(self, name):
        """The history key watched for task ``name``."""
        return f"{self.monitor}_{name}"

    def on_train_begin(self, net, **kwargs):
        self.misses_ = {}
        self.stopped_epoch_ = None

    def _improves(self, value, best):
        if not np.isfinite(value):
            return False
        if best is None:
            return True
        if self.lower_is_better:
            return value < best - abs(best) * self.threshold
        return value > best + abs(best) * self.threshold

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        names = [task.name for task in net.tasks]
        missing = [self.key(n) for n in names if self.key(n) not in row]
        if missing:
            raise ValueError(
                f"PerTaskCheckpoint watches {missing[0]!r}, which the history "
                f"does not record; the per-task validation losses need an "
                f"internal validation split (train_split=0.2, say), and a "
                f"monitor other than 'valid_loss' needs a callback that "
                f"records '<monitor>_<task>' for every task.")
        improved = []
        for name in names:
            value = float(row[self.key(name)])
            if not np.isfinite(value) and name not in self.best_scores_:
                if name not in self.unwatched_:
                    self.unwatched_.add(name)
                    warnings.warn(
                        f"PerTaskCheckpoint: {self.key(name)!r} is {value} at epoch "
                        f"{row['epoch']} (no label of task {name!r} in the "
                        f"validation split?); the task is predicted from the "
                        f"last epoch until it gets a finite value.",
                        UserWarning, stacklevel=2)
            if self._improves(value, self.best_scores_.get(name)):
                improved.append(name)
                self.best_scores_[name] = value
                self.best_epochs_[name] = int(row["epoch"])
                self.misses_[name] = 0
            else:
                self.misses_[name] = self.misses_.get(name, 0) + 1
                self.best_epochs_.setdefault(name, None)
            net.history.record(f"{self.key(name)}_best", name in improved)
        if improved:
            state = self._snapshot(net.module_, [names.index(n) for n in improved],
                                   len(names))
            for name in improved:
                self.states_[name] = state
        if self.patience is not None and all(
                self.misses_[n] >= self.patience for n in names):
            self.stopped_epoch_ = int(row["epoch"])
            if net.verbose:
                print(f"Stopping since every task's {self.monitor} has not "
                      f"improved in the last {self.patience} epochs (best epochs "
                      f"{self.best_epochs_}).")
            raise KeyboardInterrupt  # skorch's way to stop the fit loop

    @staticmethod
    def _snapshot(module, tasks, n_tasks):
        """CPU copy of the module's state, without the heads of the tasks
        other than ``tasks``."""
        prefixes = _head_prefixes(module, n_tasks)
        skip = () if prefixes is None else tuple(
            p for k, p in enumerate(prefixes) if k not in tasks)
        return {key: value.detach().to("cpu", copy=True)
                for key, value in module.state_dict().items()
                if not (skip and key.startswith(skip))}

    def predict_raw(self, net, X):
        """Raw outputs of every task, each from its own best state.

        Tasks without a state use the module's current one. The module's
        parameters are put back afterwards.

        Parameters
        ----------
        net : MultiTaskNet
        X : input data

        Returns
        -------
        raw : list of ndarray
            As :meth:`MultiTaskNet.predict_raw`.
        """
        names = [task.name for task in net.tasks]
        groups = {}
        for k, name in enumerate(names):
            state = self.states_.get(name)
            groups.setdefault(id(state), (state, []))[1].append(k)
        module = net.module_
        current = module.state_dict()
        touched = {key for state, _ in groups.values() if state is not None
                   for key in state}
        saved = {key: current[key].detach().clone() for key in touched}
        raw = [None] * len(names)
        try:
            # the tasks without a state first, while the module is untouched
            for state, tasks in sorted(groups.values(), key=lambda g: g[0] is not None):
                if state is not None:
                    module.load_state_dict(state, strict=False)
                outputs = net.predict_raw(X, checkpoints=False)
                for k in tasks:
                    raw[k] = outputs[k]
        finally:
            if saved:
                module.load_state_dict(saved, strict=False)
        return raw
