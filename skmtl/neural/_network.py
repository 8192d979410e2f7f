"""The implementation shared by the neural estimators (see _estimators.py)."""

import contextlib
import copy
import functools
import inspect
import numbers

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch.dataset import ValidSplit
from torch import nn

from ..base import check_targets, clear_fitted_state, unfit_on_error
from ..tasks import Task, infer_tasks
from ._architectures import ARCHITECTURES
from ._callbacks import EpochSeed
from ._data import TaskDataset, encode_groups
from ._net import MultiTaskNet, check_device
from ._trunks import MLP

__all__ = []

_NET_PREFIXES = ("optimizer__", "iterator_train__", "iterator_valid__",
                 "callbacks__", "dataset__")
_PREFIXES = ("module__", "trunk__") + _NET_PREFIXES


def _has_classification_task(est):
    tasks = getattr(est, "tasks_", None)
    if tasks is None:
        if est._default_task_type in ("classification", "auto") and est.tasks is None:
            return True
        tasks = [est.tasks] if isinstance(est.tasks, Task) else (est.tasks or [])
    return any(t.is_classification for t in tasks)


def _accepted(callable_, names):
    """The subset of ``names`` that ``callable_`` takes as keyword arguments."""
    try:
        params = inspect.signature(callable_).parameters
    except (TypeError, ValueError):
        return set(names)
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return set(names)
    return {n for n in names if n in params}


@contextlib.contextmanager
def _torch_threads(n_threads):
    """Use ``n_threads`` torch threads inside the block (None: leave as is)."""
    if n_threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class _MultiTaskNetwork(BaseEstimator):
    """Shared implementation of the neural estimators (see MultiTaskEstimator)."""

    _expected_kind = None  # "regression" or "classification" for the conveniences

    _parameter_constraints = {
        "tasks": [list, tuple, Task, None],
        "trunk": [None, callable],
        "architecture": [StrOptions(set(ARCHITECTURES)), callable],
        "hidden_layer_sizes": ["array-like"],
        "task_weights": [None, dict, "array-like"],
        "weighting": "no_validation",
        "optimizer": [callable],
        "lr": [Interval(numbers.Real, 0, None, closed="neither")],
        "max_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "standardize_targets": ["boolean"],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callbacks": [None, list],
        "train_split": [None, Interval(numbers.Real, 0, 1, closed="neither"),
                        Interval(numbers.Integral, 2, None, closed="left"), callable],
        "n_threads": [None, Interval(numbers.Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
        "on_divergence": [StrOptions({"raise", "restore"})],
        "accelerator": "no_validation",
    }

    def __init__(self, tasks=None, trunk=None, architecture="hard",
                 hidden_layer_sizes=(100,), task_weights=None, weighting=None,
                 optimizer=torch.optim.Adam, lr=1e-3, max_epochs=100, batch_size=128,
                 standardize_targets=True, device="cpu", random_state=None, verbose=0,
                 callbacks=None, train_split=None, n_threads=None, warm_start=False,
                 on_divergence="raise", accelerator=None, **kwargs):
        self.tasks = tasks
        self.trunk = trunk
        self.architecture = architecture
        self.hidden_layer_sizes = hidden_layer_sizes
        self.task_weights = task_weights
        self.weighting = weighting
        self.optimizer = optimizer
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.standardize_targets = standardize_targets
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.train_split = train_split
        self.n_threads = n_threads
        self.warm_start = warm_start
        self.on_divergence = on_divergence
        self.accelerator = accelerator
        vars(self).update(kwargs)

    # -- parameters ----------------------------------------------------------

    def _prefixed_params(self):
        """Constructor keyword arguments beyond the named parameters.

        Valid ones carry a prefix (``module__``, ``optimizer__``, ...); fit
        rejects the others, as scikit-learn's ``__init__`` never validates.
        """
        named = set(self._get_param_names())
        return {k: v for k, v in vars(self).items()
                if k not in named and not k.startswith("_") and not k.endswith("_")}

    def get_params(self, deep=True):
        """Parameters of the estimator, including the prefixed ones
        (``module__...``, ``optimizer__...``, ``trunk__...``, ...)."""
        params = super().get_params(deep=deep)
        params.update(self._prefixed_params())
        return params

    def set_params(self, **params):
        """Set parameters; accepts prefixed ones and ``task_weights__<task>``.

        ``task_weights__bbox=3`` sets the weight of task ``"bbox"`` alone
        (turning ``task_weights`` into a dict), so that a grid can tune one
        task's weight.
        """
        plain = {}
        extra = self._prefixed_params()
        for key, value in params.items():
            if key.startswith(_PREFIXES) or key in extra:
                setattr(self, key, value)
            elif key.startswith("task_weights__"):
                self.task_weights = self._with_task_weight(
                    key[len("task_weights__"):], value)
            else:
                plain[key] = value
        return super().set_params(**plain)

    def _with_task_weight(self, name, value):
        weights = self.task_weights
        if weights is None:
            return {name: value}
        if isinstance(weights, dict):
            return {**weights, name: value}
        tasks = getattr(self, "tasks_", None) or (
            [self.tasks] if isinstance(self.tasks, Task) else self.tasks)
        if not tasks:
            raise ValueError(f"cannot set task_weights__{name}: task_weights is a "
                             f"sequence and the task names are unknown before fit; "
                             f"give task_weights as a dict or pass tasks=.")
        names = [t.name for t in tasks]
        if len(names) != len(weights):
            raise ValueError(f"task_weights has {len(weights)} entries but there are "
                             f"{len(names)} tasks {names}.")
        return {**dict(zip(names, weights)), name: value}

    # -- building ------------------------------------------------------------

    def _check_extra_params(self):
        unknown = sorted(k for k in self._prefixed_params()
                         if not k.startswith(_PREFIXES))
        if unknown:
            raise ValueError(f"unknown parameter(s) {unknown}; prefixed parameters "
                             f"must start with one of {list(_PREFIXES)}.")

    def _check_tasks(self):
        for task in self.tasks_:
            if task.type == "classification" and len(task.classes_) < 2:
                raise ValueError(
                    f"task {task.name!r} has only one class ({task.classes_[0]!r}) "
                    f"in Y; a classifier needs at least two classes per task "
                    f"(declare them with Task({task.name!r}, 'classification', "
                    f"classes=[...]) if later data holds the others).")
        kind = self._expected_kind
        if kind is None:
            return
        for task in self.tasks_:
            if task.is_classification != (kind == "classification"):
                raise ValueError(
                    f"task {task.name!r} is a {task.type} task but "
                    f"{type(self).__name__} learns {kind} tasks only; use "
                    f"MultiTaskEstimator for mixed task types.")

    def _trunk_spec(self):
        kwargs = {k[len("trunk__"):]: v for k, v in self._prefixed_params().items()
                  if k.startswith("trunk__")}
        trunk = self.trunk
        if trunk is None:
            return functools.partial(
                MLP, hidden_layer_sizes=tuple(self.hidden_layer_sizes), **kwargs)
        if isinstance(trunk, nn.Module):
            if kwargs:
                raise ValueError(f"trunk__ parameters {sorted(kwargs)} need a trunk "
                                 f"class, but trunk is an instance of "
                                 f"{type(trunk).__name__}.")
            return trunk
        return functools.partial(trunk, **kwargs) if kwargs else trunk

    def _module(self, input_shape):
        """(module, module kwargs) for MultiTaskNet."""
        kwargs = {k[len("module__"):]: v for k, v in self._prefixed_params().items()
                  if k.startswith("module__")}
        arch = self.architecture
        if isinstance(arch, nn.Module):
            if kwargs:
                raise ValueError(f"module__ parameters {sorted(kwargs)} need an "
                                 f"architecture class or name, but architecture is "
                                 f"an instance of {type(arch).__name__}.")
            return copy.deepcopy(arch), {}
        if isinstance(arch, str):
            if arch not in ARCHITECTURES:
                raise ValueError(f"unknown architecture {arch!r}; choose one of "
                                 f"{sorted(ARCHITECTURES)} or pass an nn.Module "
                                 f"class or instance.")
            arch = ARCHITECTURES[arch]
        given = {"tasks": self.tasks_, "input_shape": tuple(input_shape),
                 "trunk": self._trunk_spec()}
        for name in _accepted(arch, list(given)):
            kwargs.setdefault(name, given[name])
        return arch, kwargs

    def _train_split(self, seed):
        split = self.train_split
        if split is None or callable(split):
            return split
        return ValidSplit(split, stratified=False, random_state=seed)

    def _build_net(self, input_shape, seed):
        module, module_kwargs = self._module(input_shape)
        net_kwargs = {k: v for k, v in self._prefixed_params().items()
                      if k.startswith(_NET_PREFIXES)}
        net_kwargs.update({f"module__{k}": v for k, v in module_kwargs.items()})
        # every epoch's randomness follows from (seed, epoch): resumable runs
        callbacks = [("epoch_seed", EpochSeed(seed))] + list(
            copy.deepcopy(self.callbacks) or [])
        net_class, device = MultiTaskNet, self.device
        if self.accelerator is not None:
            from ._accelerate import accelerated_net_kwargs

            net_class, device, extra = accelerated_net_kwargs(self, net_kwargs)
            net_kwargs.update(extra)
        return net_class(
            module, tasks=self.tasks_, weighting=copy.deepcopy(self.weighting),
            task_weights=self.task_weights, optimizer=self.optimizer, lr=self.lr,
            max_epochs=self.max_epochs, batch_size=self.batch_size,
            train_split=self._train_split(seed), callbacks=callbacks,
            verbose=self.verbose, device=device, on_divergence=self.on_divergence,
            **net_kwargs)

    # -- targets -------------------------------------------------------------

    def _fit_target_scaling(self, targets):
        n_outputs = targets.shape[1]
        self.target_mean_ = np.zeros(n_outputs)
        self.target_scale_ = np.ones(n_outputs)
        if not self.standardize_targets:
            return
        for task in self.tasks_:
            if task.type != "regression":
                continue
            block = targets[:, task.columns_]
            mean = np.nanmean(block, axis=0)
            scale = np.nanstd(block, axis=0)
            self.target_mean_[task.columns_] = mean
            self.target_scale_[task.columns_] = np.where(scale > 0, scale, 1.0)

    def _dataset(self, X, targets, groups):
        """TaskDataset of ``X``, the encoded ``targets`` and the query ids."""
        targets = (targets - self.target_mean_) / self.target_scale_
        codes = encode_groups(groups, self.tasks_, X.shape[0])
        return TaskDataset(X, targets, codes)

    # -- fit -----------------------------------------------------------------

    def _seed(self):
        return int(check_random_state(self.random_state).randint(2 ** 31 - 1))

    def _train(self, dataset, seed, epochs=None):
        """Train ``epochs`` epochs (building the net first when there is none).

        torch's global random state is restored afterwards; inside, the
        weights are initialized from ``seed`` and every epoch is seeded
        from ``(seed, epoch number)`` by the net's ``EpochSeed`` callback.
        """
        device = self._torch_device()
        forked = [device.index or 0] if device.type == "cuda" else []
        with _torch_threads(self.n_threads), torch.random.fork_rng(devices=forked):
            if not hasattr(self, "net_"):
                torch.manual_seed(seed)
                self.net_ = self._build_net(self.input_shape_, seed)
                self.net_.initialize()
            self.net_.partial_fit(dataset, None, epochs=epochs)

    def _torch_device(self):
        if self.accelerator is not None:
            from ._accelerate import require_accelerate

            require_accelerate()
            return torch.device(self.accelerator.device)
        return check_device(self.device)

    def _start(self, X, y, tasks=None):
        self._validate_params()
        self._check_extra_params()
        self._torch_device()
        X, Y = self._validate_fit_data(X, y, tasks=tasks)
        self._check_tasks()
        self.input_shape_ = tuple(X.shape[1:])
        targets = self._encode_targets(Y)
        self._fit_target_scaling(targets)
        if hasattr(self, "net_"):
            del self.net_
        self._set_classes()
        return X, targets

    @unfit_on_error
    def fit(self, X, y, groups=None):
        """Build the network and train it for ``max_epochs`` epochs.

        With ``warm_start=True`` and a fitted network, train it
        ``max_epochs`` more epochs instead (on the data given now; tasks,
        classes and target scaling stay those of the first fit).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            Inputs: tabular rows or N-D samples such as images
            ``(n_samples, channels, height, width)``; used as float32.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets ``Y``, one column per task output, ``NaN`` where a label
            is missing.
        groups : array-like of shape (n_samples,) or dict, default=None
            Query ids of the ranking tasks that rank within groups
            (``Task(..., "ranking", group=name)``): one array for all of them,
            or a dict ``{group name: array}``. Items are paired within a query
            and within a batch. In ``GridSearchCV`` with metadata routing
            enabled, request it with ``set_fit_request(groups=True)``.

        Returns
        -------
        self : object
        """
        if self.warm_start and hasattr(self, "net_"):
            self._validate_params()
            X, Y = self._continue_data(X, y)
            dataset = self._dataset(X, self._encode_targets(Y), groups)
            self._train(dataset, self._train_seed, epochs=self.max_epochs)
            return self
        X, targets = self._start(X, y)
        seed = self._seed()
        self._train_seed = seed
        self._train(self._dataset(X, targets, groups), seed,
                    epochs=self.max_epochs)
        return self

    def _continue_data(self, X, y):
        X = self._check_input_shape(
            validate_data(self, X, reset=False, **self._x_params()))
        Y, _, _ = check_targets(y)
        if Y.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} samples but y has {Y.shape[0]}.")
        if Y.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {Y.shape[1]} column(s) but the model was fitted "
                             f"on {self.n_outputs_}.")
        if Y.dtype.kind == "f" and np.isinf(Y).any():
            raise ValueError("Y holds inf; labels must be finite (use NaN for a "
                             "missing label).")
        return X, Y

    def partial_fit(self, X, y, groups=None, classes=None):
        """Train for one epoch, building the network on the first call.

        One call is one pass over the chunk ``(X, y)``, recorded as one epoch
        in ``history_``; calling it on successive chunks trains on a stream
        of data too large for memory (see the user guide on scaling). The
        first call fixes the tasks (it needs a label of every task), their
        classes (pass ``classes`` when the first chunk may not show them
        all) and, with
        ``standardize_targets``, the target scaling (from that chunk).

        A chunk that fails validation raises and leaves the model as it was;
        a failure during training (a diverging loss) leaves it unfitted.

        Parameters
        ----------
        X, y, groups
            As in :meth:`fit`.
        classes : array-like, list or dict, default=None
            Every class of the classification tasks, needed on the first call
            when a batch may not show them all: an array for a single
            classification column, else a dict ``{task name: classes}`` or a
            list in the order of the classification tasks. Ignored later.

        Returns
        -------
        self : object
        """
        if not hasattr(self, "net_"):
            return self._first_partial_fit(X, y, groups, classes)
        X, Y = self._continue_data(X, y)
        dataset = self._dataset(X, self._encode_targets(Y), groups)
        try:
            self._train(dataset, self._train_seed, epochs=1)
        except Exception:
            clear_fitted_state(self)
            raise
        return self

    @unfit_on_error
    def _first_partial_fit(self, X, y, groups, classes):
        Y_checked, names, _ = check_targets(y)
        tasks = self._tasks_with_classes(Y_checked, names, classes)
        X, targets = self._start(X, y, tasks=tasks)
        self._train_seed = self._seed()
        self._train(self._dataset(X, targets, groups), self._train_seed, epochs=1)
        return self

    def _tasks_with_classes(self, Y, names, classes):
        if classes is None:
            return None
        tasks = self.tasks
        if tasks is None:
            tasks = infer_tasks(Y, default_type=self._default_task_type, names=names)
        tasks = [tasks] if isinstance(tasks, Task) else list(tasks)
        categorical = [t for t in tasks if t.type in ("classification", "binary")]
        if isinstance(classes, dict):
            by_name = classes
        elif len(categorical) == 1 and np.ndim(classes) == 1 and not (
                len(classes) and np.ndim(classes[0]) > 0):
            by_name = {categorical[0].name: classes}
        else:
            if len(classes) != len(categorical):
                raise ValueError(f"classes has {len(classes)} entries but there are "
                                 f"{len(categorical)} classification tasks.")
            by_name = {t.name: c for t, c in zip(categorical, classes)}
        out = []
        for t in tasks:
            if t.name in by_name:
                t = Task(t.name, t.type, t.n_outputs, loss=t.loss,
                         huber_delta=t.huber_delta, classes=list(by_name[t.name]),
                         group=t.group)
            out.append(t)
        return out

    def _set_classes(self):
        if self._expected_kind == "classification":
            classes = [t.classes_ for t in self.tasks_ for _ in t.columns_]
            self.classes_ = classes[0] if len(classes) == 1 else classes

    # -- prediction ----------------------------------------------------------

    def _check_input_shape(self, X):
        if tuple(X.shape[1:]) != self.input_shape_:
            raise ValueError(f"X has samples of shape {tuple(X.shape[1:])} but the "
                             f"network was fitted on samples of shape "
                             f"{self.input_shape_}.")
        return X

    def _validate_input(self, X):
        ndim = getattr(X, "ndim", None)
        if ndim is not None and ndim >= 2 and hasattr(self, "input_shape_") and (
                ndim != len(self.input_shape_) + 1):
            raise ValueError(f"X has samples of shape {tuple(X.shape[1:])} but the "
                             f"network was fitted on samples of shape "
                             f"{self.input_shape_}.")
        return self._check_input_shape(self._validate_X(X))

    def _raw_outputs(self, X):
        raw = self.net_.predict_raw(X)
        out = []
        for task, r in zip(self.tasks_, raw):
            if task.type == "regression":
                cols = task.columns_
                r = r * self.target_scale_[cols] + self.target_mean_[cols]
            out.append(r)
        return out

    def predict(self, X):
        """Predict every task for every sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)

        Returns
        -------
        Y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            float64 values for regression-like tasks, class labels for
            classification tasks (1-D when ``y`` was 1-D at fit).
        """
        X = self._validate_input(X)
        with _torch_threads(self.n_threads):
            raw = self._raw_outputs(X)
        return self._format_prediction(self._decode_raw(raw))

    @available_if(_has_classification_task)
    def predict_proba(self, X):
        """Class probabilities of each classification column.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes) or list
            The array itself for a single column; otherwise one entry per
            column of ``Y`` (None for the columns of other task types).
        """
        X = self._validate_input(X)
        with _torch_threads(self.n_threads):
            raw = self._raw_outputs(X)
        return self._proba_from_raw(raw)

    # -- fitted state --------------------------------------------------------

    @property
    def history_(self):
        """The training history of the net (skorch ``History``)."""
        check_is_fitted(self, "net_")
        return self.net_.history

    @property
    def task_weights_history_(self):
        """Task weights used in each epoch, ndarray (n_epochs, n_tasks)."""
        return np.asarray(self.history_[:, "task_weights"], dtype=float)

    def __setstate__(self, state):
        super().__setstate__(state)
        net = vars(self).get("net_")
        if net is not None and net.device is not None \
                and getattr(self, "accelerator", None) is None \
                and str(net.device) != str(self.device):
            # skorch loaded the tensors of a model pickled on a device that
            # this machine lacks (CUDA) onto the CPU, with a DeviceWarning;
            # later training and prediction use where the tensors are.
            self.device = str(net.device)

    def to(self, device):
        """Move the fitted network to ``device`` and use it from now on.

        E.g. ``est.to("cpu")`` after training on ``"cuda"``, before pickling
        the model for a machine without a GPU. Moves the module, the
        optimizer state and the weighting strategy, and sets the ``device``
        parameter (so a later ``partial_fit`` or warm-started ``fit`` trains
        there too). A model pickled on a GPU also loads on a CPU-only
        machine: skorch maps its tensors to the CPU (with a
        ``DeviceWarning``) and ``device`` becomes ``"cpu"``.

        Parameters
        ----------
        device : str or torch.device

        Returns
        -------
        self : object
        """
        check_is_fitted(self, "net_")
        check_device(device)
        net = self.net_
        net.module_.to(device)
        if getattr(net, "optimizer_", None) is not None:
            for state in net.optimizer_.state.values():
                for key, value in state.items():
                    if isinstance(value, torch.Tensor) and key != "step":
                        state[key] = value.to(device)
        net.weighting_.to(device)
        net.device = device
        self.device = device
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.non_deterministic = self.random_state is None
        return tags
