"""The scikit-learn estimators of the neural family.

The estimator owns every hyper-parameter. ``fit`` validates the data,
resolves the hyper-parameters into fitted objects (``tasks_``, the built
module, the initialized weighting strategy, skorch's settings; see
_build.py) and hands them to a :class:`~skmtl.neural.MultiTaskNet`, which
trains them.
"""

import contextlib
import copy
import numbers

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ..base import MultiTaskMixin, check_targets, clear_fitted_state, unfit_on_error
from ..tasks import TASK_TYPES, Task, infer_tasks
from ..utils import check_sample_weight, resolve_components
from ._build import (
    PREFIXES,
    build_module,
    build_train_split,
    build_trunk_spec,
    build_weighting,
    check_prefixed,
    optimizer_defaults,
    predict_batch_size,
    split_prefixed,
    tasks_with_classes,
)
from ._callbacks import EpochSeed, epoch_seed
from ._checkpoints import PerTaskCheckpoint
from ._data import TaskDataset, encode_groups, is_named_inputs, n_rows
from ._inputs import (
    CategoricalEncoder,
    EmbeddedInputs,
    categorical_mask,
    embedding_size,
    string_column_error,
)
from ._net import MultiTaskNet, check_device
from ._new_tasks import grow_net, new_task_targets, training_new_tasks
from ._shards import ShardedDataset
from ._stream import StreamedData, check_stream_call, plan_stream
from .weighting import WEIGHTINGS

__all__ = ["MultiTaskEstimator", "MultiTaskRegressor", "MultiTaskClassifier"]


def _has_classification_task(est):
    """available_if check of ``predict_proba``: a fitted model has it exactly
    when one of its tasks is a classification; before fit, when the tasks
    given (or the type inferred by a classifier) are. The inferred types of
    ``MultiTaskEstimator(tasks=None)`` are unknown until fit: no method then,
    rather than one that disappears when the data are not classes."""
    tasks = getattr(est, "tasks_", None)
    if tasks is None:
        if est._default_task_type == "classifier" and est.tasks is None:
            return True
        tasks = [est.tasks] if isinstance(est.tasks, Task) else (est.tasks or [])
    return any(t.is_classification for t in tasks)


def _has_quantile_task(est):
    """A task (fitted, or given as ``tasks``) whose type predicts quantiles."""
    tasks = getattr(est, "tasks_", None)
    if tasks is None:
        tasks = [est.tasks] if isinstance(est.tasks, Task) else (est.tasks or [])
    return any("predict_quantiles" in t.type_.responses for t in tasks)


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


class _NeuralEstimator(BaseEstimator):
    """What the three neural estimators share (see MultiTaskEstimator); the
    public classes put :class:`~skmtl.base.MultiTaskMixin` first, for its
    masked ``score``."""

    _expected_kind = None  # "regressor" or "classifier" for the conveniences

    _parameter_constraints = {
        "tasks": [list, tuple, Task, None],
        "trunk": [None, str, callable],
        "architecture": [str, callable],
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
        "categorical_features": [None, StrOptions({"from_dtype"}), "array-like"],
        "embedding_dim": [None, Interval(numbers.Integral, 1, None, closed="left"),
                          dict],
        "min_frequency": [None, Interval(numbers.Integral, 1, None, closed="left"),
                          Interval(numbers.Real, 0, 1, closed="neither")],
        "sparse_embeddings": ["boolean"],
    }

    def __init__(self, tasks=None, trunk=None, architecture="hard",
                 hidden_layer_sizes=(100,), task_weights=None, weighting=None,
                 optimizer=torch.optim.Adam, lr=1e-3, max_epochs=100, batch_size=128,
                 standardize_targets=True, device="cpu", random_state=None, verbose=0,
                 callbacks=None, train_split=None, n_threads=None, warm_start=False,
                 on_divergence="raise", accelerator=None, categorical_features=None,
                 embedding_dim=None, min_frequency=None, sparse_embeddings=False,
                 **kwargs):
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
        self.categorical_features = categorical_features
        self.embedding_dim = embedding_dim
        self.min_frequency = min_frequency
        self.sparse_embeddings = sparse_embeddings
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
        task's weight. ``weighting__<param>`` reaches the strategy's
        parameters, also when ``weighting`` is a name (here or in the same
        call; it becomes the strategy object it names, as ``penalty``
        does for the linear models) or None (:class:`Fixed`).
        """
        params = resolve_components(self, params, {"weighting": (WEIGHTINGS, "fixed")})
        plain = {}
        extra = self._prefixed_params()
        for key, value in params.items():
            if key.startswith(PREFIXES) or key in extra:
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

    # -- fit -----------------------------------------------------------------

    @unfit_on_error
    def fit(self, X, y=None, groups=None, sample_weight=None):
        """Build the network and train it for ``max_epochs`` epochs.

        With ``warm_start=True`` and a fitted network, train it
        ``max_epochs`` more epochs instead (on the data given now; tasks,
        classes and target scaling stay those of the first fit).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...), \
or ShardedDataset
            Inputs: tabular rows or N-D samples such as images
            ``(n_samples, channels, height, width)``; used as float32. A
            :class:`ShardedDataset` (a log on disk, larger than memory; then
            no ``y``) is streamed chunk by chunk.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets ``Y``, one column per task output, ``NaN`` where a label
            is missing.
        groups : array-like of shape (n_samples,) or dict, default=None
            Query ids of the ranking tasks that rank within groups
            (``Task(..., "ranking", group=name)``): one array for all of them,
            or a dict ``{group name: array}``. Items are paired within a query
            and within a batch. In ``GridSearchCV`` with metadata routing
            enabled, request it with ``set_fit_request(groups=True)``.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each row in every task's loss: each task's loss is the
            weighted mean over its labelled entries, so a weight of 0 drops a
            row and an integer weight ``k`` counts it ``k`` times. Weights
            must be finite, non-negative and not all zero.

        Returns
        -------
        self : object
        """
        if isinstance(X, ShardedDataset):
            return self._fit_stream(X, y, groups, sample_weight)
        if self.warm_start and hasattr(self, "net_"):
            self._validate_params()
            dataset = self._continuation_dataset(X, y, groups, sample_weight)
            self._train(dataset, epochs=self.max_epochs)
            return self
        dataset = self._first_dataset(X, y, groups, sample_weight)
        self._train(dataset, epochs=self.max_epochs)
        return self

    def partial_fit(self, X, y=None, groups=None, classes=None, sample_weight=None,
                    categories=None):
        """Train for one epoch, building the network on the first call.

        One call is one pass over the chunk ``(X, y)``, recorded as one epoch
        in ``history_``; calling it on successive chunks trains on a stream
        of data too large for memory (see the user guide on scaling). The
        first call fixes the tasks (it needs a label of every task), their
        classes (pass ``classes`` when the first chunk may not show them
        all) and, with ``standardize_targets``, the target scaling (from
        that chunk).

        A chunk that fails validation raises and leaves the model as it was;
        a failure during training (a diverging loss) leaves it unfitted.

        Parameters
        ----------
        X, y, groups, sample_weight
            As in :meth:`fit`.
        classes : array-like, list or dict, default=None
            Every class of the classification tasks, needed on the first call
            when a batch may not show them all: an array for a single
            classification column, else a dict ``{task name: classes}`` or a
            list in the order of the classification tasks. Ignored later.
        categories : list or dict of array-like, default=None
            Every category of the categorical columns
            (``categorical_features``), needed on the first call when the
            first chunk may not show them all (the embedding tables are sized
            from them): a dict ``{column name or index: categories}`` or a
            list in the order of the categorical columns; a column left out
            takes the first chunk's categories. Categories not declared map
            to the reserved row of unknown categories, in this chunk and
            later ones (``min_frequency`` does not apply to declared
            categories). Ignored later.

        Returns
        -------
        self : object
        """
        if isinstance(X, ShardedDataset):
            if classes is not None or categories is not None:
                raise ValueError("a ShardedDataset's classes and categories are "
                                 "read from the shards on the first call; do not "
                                 "pass classes= or categories=.")
            try:
                return self._fit_stream(X, y, groups, sample_weight, partial=True)
            except Exception:
                clear_fitted_state(self)
                raise
        if not hasattr(self, "net_"):
            return self._first_partial_fit(X, y, groups, classes, sample_weight,
                                           categories)
        dataset = self._continuation_dataset(X, y, groups, sample_weight)
        try:
            self._train(dataset, epochs=1)
        except Exception:
            clear_fitted_state(self)
            raise
        return self

    def add_tasks(self, tasks, X, y, groups=None, sample_weight=None, *,
                  freeze_shared=True, max_epochs=None):
        """Add tasks to the fitted network and train their new heads.

        A new head (and, for :class:`SoftSharing`, a trunk that starts at the
        mean of the others; for :class:`MMoE`, a gate) is built for each new
        task and trained for ``max_epochs`` epochs on ``(X, y)``. With
        ``freeze_shared=True`` only the new heads train: every other
        parameter is frozen and runs in evaluation mode (dropout off,
        batch-norm statistics fixed), so the predictions of the model's
        tasks stay exactly what they were. With ``freeze_shared=False`` the
        whole network trains on the joint loss of every task: give the
        old tasks' labels too, or they drift with the shared layers.

        Afterwards ``tasks_``, ``n_tasks_``, ``n_outputs_``, the target
        scaling (``target_mean_``, ``target_scale_``, fitted on the new
        columns) and ``classes_`` cover every task; ``predict`` returns the
        old columns first, then the new ones, and ``score``, ``partial_fit``
        and a warm-started ``fit`` take ``y`` with every column (NaN where
        missing). The optimizer and the weighting strategy start afresh for
        the extended task list (while frozen, the new tasks' losses are
        summed with weight 1). A non-warm-started ``fit`` builds the network
        of the ``tasks`` parameter again, without the added ones.

        Parameters
        ----------
        tasks : Task or list of Task
            The new tasks; their names must differ from the model's tasks
            and from each other. Dependent tasks (``given=``) cannot be added.
        X : array-like of shape (n_samples, ...)
            Inputs, as at fit.
        y : array-like or DataFrame
            Labels of the new tasks only (one column per new output, or a
            DataFrame matched by name), or of every task (the model's columns
            first, NaN where missing). Each new task needs a label.
        groups, sample_weight
            As in :meth:`fit`.
        freeze_shared : bool, default=True
            Train only the new heads (True) or fine-tune the whole network
            on every task's labels (False).
        max_epochs : int, default=None
            Epochs of training; None is the ``max_epochs`` parameter. They
            are recorded in ``history_`` after the earlier epochs.

        Returns
        -------
        self : object
        """
        check_is_fitted(self, "net_")
        self._validate_params()
        epochs = self.max_epochs if max_epochs is None else max_epochs
        if not isinstance(epochs, numbers.Integral) or epochs < 1:
            raise ValueError(f"max_epochs must be a positive integer, got "
                             f"{max_epochs!r}.")
        if not isinstance(freeze_shared, bool | np.bool_):
            raise TypeError(f"freeze_shared must be True or False, got "
                            f"{freeze_shared!r}.")
        new_tasks, Y = new_task_targets(self.tasks_, tasks, y,
                                        self._default_task_type)
        X = self._check_input_shape(self._validate_X(X))
        if Y.shape[0] != n_rows(X):
            raise ValueError(f"X has {n_rows(X)} samples but y has {Y.shape[0]}.")
        sample_weight = check_sample_weight(sample_weight, n_rows(X))
        old_tasks = self.tasks_
        every_task = list(old_tasks) + new_tasks
        # everything that can fail on the user's input before the model changes
        strategy = build_weighting(self.weighting, self.task_weights, every_task)
        self.tasks_ = every_task
        try:
            self._check_tasks()
            targets = self._encode_targets(Y)
        finally:
            self.tasks_ = old_tasks
        self.tasks_, self.n_tasks_, self.n_outputs_ = every_task, len(every_task), (
            Y.shape[1])
        self._y_was_1d = False  # predictions now have a column per output
        self._fit_target_scaling(targets, sample_weight, tasks=new_tasks)
        self._set_classes()
        dataset = self._dataset(X, targets, groups, sample_weight)
        with torch.random.fork_rng(), _torch_threads(self.n_threads):
            # the heads' initial weights follow from the run's seed
            torch.manual_seed(epoch_seed(self.train_seed_ + 1, len(self.history_)))
            new_parameters = grow_net(self.net_, every_task, strategy)
        try:
            with training_new_tasks(self.net_, new_parameters, freeze_shared):
                self._train(dataset, epochs=epochs)
        except Exception:
            clear_fitted_state(self)  # a half-trained model is no model
            raise
        return self

    def _fit_stream(self, data, y, groups, sample_weight, partial=False):
        """``fit`` (one pass for ``partial_fit``) on a ShardedDataset.

        A first fit scans the label, id and weight columns for the classes,
        categories and target scaling of the whole log and builds the
        network from the first chunk; every pass streams the chunks, each
        validated and encoded as a continuation's data (see _stream.py).
        """
        check_stream_call(y, groups, sample_weight, self.accelerator)
        self._validate_params()
        if not (hasattr(self, "net_") and (partial or self.warm_start)):
            X, Y, weights, tasks, categories, scaling = plan_stream(
                data, self.tasks, self._default_task_type,
                self.categorical_features, self.standardize_targets,
                self.min_frequency)
            self._first_dataset(X, Y, None, weights, tasks=tasks)
            if categories is not None:
                self._set_categories(categories)
            for column, (mean, scale) in scaling.items():
                self.target_mean_[column], self.target_scale_[column] = mean, scale
        stream = StreamedData(
            data, lambda X, Y, w: self._continuation_dataset(X, Y, None, w),
            progress=bool(self.verbose))
        self._train(stream, epochs=1 if partial else self.max_epochs)
        return self

    @unfit_on_error
    def _first_partial_fit(self, X, y, groups, classes, sample_weight,
                           categories=None):
        tasks = None
        if classes is not None:
            Y, names, _ = check_targets(y)
            tasks = self.tasks if self.tasks is not None else infer_tasks(
                Y, default_type=self._default_task_type, names=names)
            tasks = tasks_with_classes(tasks, classes)
        dataset = self._first_dataset(X, y, groups, sample_weight, tasks=tasks)
        if categories is not None:
            # the chunk again, coded with the declared categories
            self._set_categories(categories)
            dataset = self._continuation_dataset(X, y, groups, sample_weight)
        self._train(dataset, epochs=1)
        return self

    def _first_dataset(self, X, y, groups, sample_weight, tasks=None):
        """Validate everything, resolve the hyper-parameters, build the net;
        the training data as a TaskDataset."""
        self._validate_params()
        # refuses unknown prefixes, and names the trunk, architecture and
        # optimizer do not take, early
        check_prefixed(split_prefixed(self._prefixed_params()), self.trunk,
                       self.architecture, self.optimizer)
        self._torch_device()
        X, Y = self._validate_fit_data(X, y, tasks=tasks)
        if n_rows(X) < 2:
            # one row gives no target scale and no gradient noise to average:
            # a network fitted on it predicts that row everywhere
            raise ValueError(
                f"{type(self).__name__} needs at least 2 samples to train, got "
                f"n_samples = {n_rows(X)}; fit on more rows (or use "
                f"partial_fit on later chunks once the model is fitted).")
        sample_weight = check_sample_weight(sample_weight, n_rows(X))
        self._check_tasks()
        self.input_shape_ = self._shape_of_inputs(X)
        targets = self._encode_targets(Y)
        self._fit_target_scaling(targets, sample_weight)
        self._set_classes()
        self.train_seed_ = int(check_random_state(self.random_state).randint(
            2 ** 31 - 1))
        self.__dict__.pop("net_", None)
        return self._dataset(X, targets, groups, sample_weight)

    def _continuation_dataset(self, X, y, groups, sample_weight):
        """The data of a warm-started fit or a later partial_fit, validated
        against the fitted model."""
        X = self._check_input_shape(self._validate_X(X))
        Y, _, _ = check_targets(y, tasks=self.tasks_)
        if Y.shape[0] != n_rows(X):
            raise ValueError(f"X has {n_rows(X)} samples but y has {Y.shape[0]}.")
        if Y.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {Y.shape[1]} column(s) but the model was fitted "
                             f"on {self.n_outputs_}.")
        if Y.dtype.kind == "f" and np.isinf(Y).any():
            raise ValueError("Y holds inf; labels must be finite (use NaN for a "
                             "missing label).")
        sample_weight = check_sample_weight(sample_weight, n_rows(X))
        return self._dataset(X, self._encode_targets(Y), groups, sample_weight)

    def _check_tasks(self):
        for task in self.tasks_:
            task.type_.check_trainable(task)
        kind = self._expected_kind
        if kind is None:
            return
        for task in self.tasks_:
            if task.type_.estimator_type != kind:
                fitting = sorted(name for name, task_type in TASK_TYPES.items()
                                 if task_type.estimator_type == kind)
                raise ValueError(
                    f"task {task.name!r} is a {task.type} task but "
                    f"{type(self).__name__} learns the task types of a {kind} "
                    f"only ({', '.join(fitting)}); use MultiTaskEstimator for "
                    f"mixed task types.")

    def _set_classes(self):
        if self._expected_kind == "classifier":
            classes = [t.classes_ for t in self.tasks_ for _ in t.columns_]
            self.classes_ = classes[0] if len(classes) == 1 else classes

    def _fit_target_scaling(self, targets, sample_weight, tasks=None):
        """Mean and standard deviation of each column of the types that
        standardize (``TaskType.standardize``) over its labelled entries,
        weighted by the sample weights; of ``tasks`` only (the others keep
        theirs) when given."""
        n_outputs = targets.shape[1]
        if tasks is None:
            tasks = self.tasks_
            self.target_mean_ = np.zeros(n_outputs)
            self.target_scale_ = np.ones(n_outputs)
        else:
            extra = n_outputs - len(self.target_mean_)
            self.target_mean_ = np.r_[self.target_mean_, np.zeros(extra)]
            self.target_scale_ = np.r_[self.target_scale_, np.ones(extra)]
        if not self.standardize_targets:
            return
        weights = np.ones(targets.shape[0]) if sample_weight is None else sample_weight
        for task in tasks:
            if not task.type_.standardize:
                continue
            for col in task.columns_:
                labelled = ~np.isnan(targets[:, col])
                w, values = weights[labelled], targets[labelled, col]
                if not w.any():
                    continue
                mean = np.average(values, weights=w)
                scale = np.sqrt(np.average((values - mean) ** 2, weights=w))
                self.target_mean_[col] = mean
                self.target_scale_[col] = scale if scale > 0 else 1.0

    def _dataset(self, X, targets, groups, sample_weight):
        # in place: ``targets`` is the caller's fresh encoding
        targets -= self.target_mean_
        targets /= self.target_scale_
        codes = encode_groups(groups, self.tasks_, n_rows(X))
        # encoded tables are arrays of our own: no copy to protect them
        return TaskDataset(X, targets, codes, sample_weight=sample_weight,
                           copy=self.is_categorical_ is None)

    def _build_net(self, train_device):
        """The net, with the module and strategy this fit resolved (built
        under the run's seed, so the initial weights follow from it);
        ``train_device`` is the torch device the parameters train on."""
        prefixed = split_prefixed(self._prefixed_params())
        trunk = build_trunk_spec(self.trunk, self.hidden_layer_sizes,
                                 prefixed["trunk"])
        if self.is_categorical_ is None:
            module = build_module(self.architecture, self.tasks_, self.input_shape_,
                                  trunk, prefixed["module"])
        else:
            # the architecture reads the numeric columns and the embeddings
            width = int((~self.is_categorical_).sum()) + sum(self.embedding_dims_)
            module = EmbeddedInputs(
                build_module(self.architecture, self.tasks_, (width,), trunk,
                             prefixed["module"]),
                self.input_encoder_.n_categories_, self.embedding_dims_,
                sparse=self.sparse_embeddings)
        weighting = build_weighting(self.weighting, self.task_weights, self.tasks_)
        if self.sparse_embeddings and self.is_categorical_ is not None and (
                weighting.level == "gradient"):
            raise ValueError(f"sparse_embeddings=True trains the embedding tables "
                             f"with sparse gradients, which the gradient-level "
                             f"weighting {type(weighting).__name__} cannot combine; "
                             f"use a loss-level weighting or "
                             f"sparse_embeddings=False.")
        # every epoch's randomness follows from (seed, epoch): resumable runs
        callbacks = [("epoch_seed", EpochSeed(self.train_seed_))] + list(
            copy.deepcopy(self.callbacks) or [])
        net_class, device, net_kwargs = MultiTaskNet, self.device, prefixed["net"]
        if self.accelerator is not None:
            from ._accelerate import accelerated_net_kwargs

            net_class, device, extra = accelerated_net_kwargs(
                self.accelerator, self.verbose, net_kwargs)
            net_kwargs = {**net_kwargs, **extra}
        net_kwargs = {**optimizer_defaults(self.optimizer, train_device, net_kwargs),
                      "iterator_valid__batch_size": predict_batch_size(
                          self.input_shape_, self.batch_size),
                      **net_kwargs}
        return net_class(
            module, tasks=self.tasks_, weighting=weighting, optimizer=self.optimizer,
            lr=self.lr, max_epochs=self.max_epochs, batch_size=self.batch_size,
            train_split=build_train_split(self.train_split, self.train_seed_),
            callbacks=callbacks, verbose=self.verbose, device=device,
            callbacks__divergence__on_divergence=self.on_divergence, **net_kwargs)

    def _train(self, dataset, epochs):
        """Train ``epochs`` epochs (building the net first when there is none).

        torch's global random state is restored afterwards; inside, the
        weights are initialized from ``train_seed_`` and every epoch is
        seeded from ``(train_seed_, epoch number)`` by ``EpochSeed``.
        """
        device = self._torch_device()
        forked = [device.index or 0] if device.type == "cuda" else []
        with _torch_threads(self.n_threads), torch.random.fork_rng(devices=forked):
            if not hasattr(self, "net_"):
                torch.manual_seed(self.train_seed_)
                self.net_ = self._build_net(device)
                self.net_.initialize()
            self.net_.partial_fit(dataset, None, epochs=epochs)

    def _torch_device(self):
        if self.accelerator is not None:
            from ._accelerate import require_accelerate

            require_accelerate()
            return torch.device(self.accelerator.device)
        return check_device(self.device)

    # -- prediction ----------------------------------------------------------

    def _check_input_shape(self, X):
        if is_named_inputs(X):
            # named inputs are checked by _validate_X, encoded categorical
            # columns by validate_data (the number of columns)
            return X
        if tuple(X.shape[1:]) != self.input_shape_:
            raise ValueError(f"X has samples of shape {tuple(X.shape[1:])} but the "
                             f"network was fitted on samples of shape "
                             f"{self.input_shape_}.")
        return X

    def _raw_outputs(self, X):
        """Every task's raw outputs, for the targets' own scale."""
        ndim = getattr(X, "ndim", None)
        if ndim is not None and ndim >= 2 and isinstance(
                getattr(self, "input_shape_", None), tuple) and (
                ndim != len(self.input_shape_) + 1):
            self._check_input_shape(X)  # raises: the samples' rank differs
        X = self._check_input_shape(self._validate_X(X))
        with _torch_threads(self.n_threads):
            raw = self.net_.predict_raw(X)
        for k, task in enumerate(self.tasks_):
            if task.type_.standardize:
                cols = task.columns_
                raw[k] = task.type_.unstandardize(task, raw[k], self.target_mean_[cols],
                                                  self.target_scale_[cols])
        return raw

    def predict(self, X, funnel="conditional"):
        """Predict every task for every sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
        funnel : {"conditional", "joint"}, default="conditional"
            For the tasks that depend on another (``Task(..., given=parent)``):
            ``"conditional"`` predicts the task given that its parent path
            happened (the purchase of a clicked impression); ``"joint"``
            predicts it on the entire space: the class of ``parent and
            task`` for a binary task (the positive class where
            ``P(parent path) * P(task | parent) > 1/2``), the hurdle mean
            ``P(parent path) * E[y | parent]`` for regression and count
            tasks. Other tasks are predicted alike by both.

        Returns
        -------
        Y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            float64 values for regression-like tasks, class labels for
            classification tasks (1-D when ``y`` was 1-D at fit).
        """
        return self._format_prediction(self._decode_raw(self._raw_outputs(X),
                                                        funnel))

    @available_if(_has_classification_task)
    def predict_proba(self, X, funnel="conditional"):
        """Class probabilities of each classification column.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
        funnel : {"conditional", "joint"}, default="conditional"
            For the tasks that depend on another (``given=``):
            ``"conditional"`` gives ``P(task | parent path)`` (e.g. the
            conversion rate of a clicked impression), ``"joint"`` gives
            ``P(parent path and task)`` (e.g. ``P(click and conversion)``;
            for a classification task, rows that sum to ``P(parent path)``).
            Other tasks are predicted alike by both.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes) or list
            The array itself for a single column; otherwise one entry per
            column of ``Y`` (None for the columns of other task types).
        """
        return self._proba_from_raw(self._raw_outputs(X), funnel)

    @available_if(_has_quantile_task)
    def predict_quantiles(self, X):
        """Quantiles of each column of the quantile tasks.

        Returns
        -------
        quantiles : ndarray of shape (n_samples, n_quantiles) or list
            The array itself for a single column; otherwise one entry per
            column of ``Y`` (None for the columns of other task types). The
            quantiles of a row increase with the level (they never cross).
        """
        return self._quantiles_from_raw(self._raw_outputs(X))

    # -- fitted state --------------------------------------------------------

    @property
    def history_(self):
        """The training history of the net (skorch ``History``)."""
        check_is_fitted(self, "net_")
        return self.net_.history

    @property
    def task_weights_history_(self):
        """Task weights used in each epoch, ndarray (n_epochs, n_tasks); NaN
        for the tasks added (:meth:`add_tasks`) after that epoch."""
        rows = self.history_[:, "task_weights"]
        n_tasks = len(self.tasks_)
        return np.asarray([list(row) + [np.nan] * (n_tasks - len(row))
                           for row in rows], dtype=float)

    @property
    def best_epochs_(self):
        """Epoch of each task's best state (dict), with a
        :class:`PerTaskCheckpoint` among the callbacks."""
        check_is_fitted(self, "net_")
        for _, callback in self.net_.callbacks_:
            if isinstance(callback, PerTaskCheckpoint):
                return dict(callback.best_epochs_)
        raise AttributeError("best_epochs_ needs a PerTaskCheckpoint among the "
                             "callbacks (callbacks=[PerTaskCheckpoint()]).")

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
        net.weighting_.to(device)  # a torch module: its parameters move in place
        for name in ("optimizer_", "sparse_optimizer_"):
            optimizer = getattr(net, name, None)
            if optimizer is not None:
                # torch moves the state next to the parameters on loading it
                # (the step counters too, where the fused update keeps them)
                optimizer.load_state_dict(optimizer.state_dict())
        net.device = device
        self.device = device
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.non_deterministic = self.random_state is None
        return tags


class _NetworkInputs:
    """How the networks read ``X``: arrays and images, scipy sparse matrices,
    tables with categorical columns, dicts of named inputs.

    Placed before :class:`~skmtl.base.MultiTaskMixin` in the public classes:
    its validation replaces the mixin's. Fitted attributes: ``is_categorical_``
    (boolean mask of the categorical columns, None without),
    ``input_names_`` (the keys of a dict ``X``, None for one array) and, with
    categorical columns, ``categories_``, ``embedding_dims_`` and
    ``input_encoder_``.
    """

    _accept_sparse = True  # rows densified one batch at a time (SparseRows)
    _allow_nd = True  # images and other N-D samples

    def _validate_fit_X(self, X, Y):
        self.is_categorical_ = None
        self.input_names_ = None
        if is_named_inputs(X):
            if self.categorical_features is not None:
                raise ValueError("categorical_features applies to a table X; X is "
                                 "a dict of named inputs, whose trunk embeds its "
                                 "own ids.")
            X = self._named_inputs(X, reset=True)
        else:
            mask = categorical_mask(self.categorical_features, X)
            if mask is None:
                error = string_column_error(X)
                if error is not None:
                    raise error
                return super()._validate_fit_X(X, Y)
            X = self._tabular_inputs(X, mask, reset=True)
        if n_rows(X) != Y.shape[0]:
            raise ValueError(f"X has {n_rows(X)} samples but y has {Y.shape[0]}.")
        return X

    def _validate_X(self, X):
        check_is_fitted(self)
        names = getattr(self, "input_names_", None)
        if is_named_inputs(X) or names is not None:
            if not is_named_inputs(X):
                raise ValueError(f"the model was fitted on named inputs {names} (a "
                                 f"dict X); pass a dict with these keys.")
            if names is None:
                raise ValueError(f"the model was fitted on one array; got a dict "
                                 f"of named inputs {sorted(map(str, X))}.")
            return self._named_inputs(X, reset=False)
        mask = getattr(self, "is_categorical_", None)
        if mask is not None:
            return self._tabular_inputs(X, mask, reset=False)
        error = string_column_error(X)
        if error is not None:
            raise error
        return super()._validate_X(X)

    def _shape_of_inputs(self, X):
        """``input_shape_``: one sample's shape, a dict of them for named
        inputs, ``(n_features,)`` for a table with categorical columns."""
        if self.input_names_ is not None:
            return {name: tuple(value.shape[1:]) for name, value in X.items()}
        if self.is_categorical_ is not None:
            return (self.n_features_in_,)
        return tuple(X.shape[1:])

    def _named_inputs(self, X, reset):
        """Validated named inputs: numeric arrays (or tensors, or scipy sparse
        matrices) with one row per sample, finite where they are floats."""
        arrays = {}
        for name, value in X.items():
            if not isinstance(name, str):
                raise TypeError(f"named inputs need string keys (the trunk's "
                                f"keyword arguments), got {name!r}.")
            if not (isinstance(value, torch.Tensor) or sp.issparse(value)):
                value = np.asarray(value)
            if value.ndim == 0:
                raise ValueError(f"named input {name!r} is a scalar; give one row "
                                 f"per sample.")
            kind = "f" if sp.issparse(value) else (
                "f" if isinstance(value, torch.Tensor) and value.is_floating_point()
                else "i" if isinstance(value, torch.Tensor)
                else value.dtype.kind)
            if kind not in "biuf":
                raise ValueError(f"named input {name!r} has dtype {value.dtype}; a "
                                 f"network reads numbers (ids as integers).")
            if kind == "f":
                data = value.data if sp.issparse(value) else value
                finite = (torch.isfinite(data).all() if isinstance(data, torch.Tensor)
                          else np.isfinite(data).all())
                if not bool(finite):
                    raise ValueError(f"named input {name!r} holds NaN or infinity.")
            arrays[name] = value
        lengths = {name: value.shape[0] for name, value in arrays.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"the named inputs have different numbers of samples: "
                             f"{lengths}.")
        if not arrays:
            raise ValueError("X is an empty dict; named inputs need an array.")
        if reset:
            self.input_names_ = list(arrays)
            return arrays
        if sorted(arrays) != sorted(self.input_names_):
            raise ValueError(f"X has named inputs {sorted(arrays)} but the model was "
                             f"fitted on {sorted(self.input_names_)}.")
        for name, value in arrays.items():
            if tuple(value.shape[1:]) != self.input_shape_[name]:
                raise ValueError(f"named input {name!r} has samples of shape "
                                 f"{tuple(value.shape[1:])} but the model was fitted "
                                 f"on {self.input_shape_[name]}.")
        return arrays

    def _tabular_inputs(self, X, mask, reset):
        """``{"numeric": float32 (n, n_numeric), "categorical": int64 codes
        (n, n_categorical)}`` of a table with categorical columns."""
        if sp.issparse(X):
            raise ValueError("categorical_features needs a dense table or a "
                             "DataFrame; X is a scipy sparse matrix (encode its "
                             "categorical columns with a OneHotEncoder instead).")
        validate_data(self, X, reset=reset, skip_check_array=True)
        if not hasattr(X, "iloc"):
            X = np.asarray(X)
            if X.ndim != 2:
                raise ValueError(f"categorical_features needs 2-D tabular X, got "
                                 f"shape {X.shape}.")
        names = ([str(c) for c in X.columns] if hasattr(X, "columns")
                 else list(range(X.shape[1])))
        error = string_column_error(X, skip=mask)
        if error is not None:
            raise error
        numeric_columns = np.flatnonzero(~mask)
        if len(numeric_columns):
            if hasattr(X, "iloc"):
                # straight to float32 (no float64 copy of the columns first);
                # the dataset's tensor shares this array
                numeric = X.iloc[:, numeric_columns].to_numpy(
                    dtype=np.float32, na_value=np.nan)
            else:
                numeric = X[:, numeric_columns]
            numeric = check_array(numeric, dtype=np.float32, ensure_all_finite=True,
                                  input_name="X")
        else:  # categorical columns only
            numeric = np.empty((len(X), 0), dtype=np.float32)
            if len(X) == 0:
                raise ValueError("X has 0 samples; at least 1 is required.")
        columns = [X.iloc[:, j].to_numpy() if hasattr(X, "iloc") else X[:, j]
                   for j in np.flatnonzero(mask)]
        if reset:
            self.is_categorical_ = mask
            self.input_encoder_ = CategoricalEncoder(self.min_frequency).fit(
                columns, names=[names[j] for j in np.flatnonzero(mask)])
            self.categories_ = self.input_encoder_.categories_
            self.embedding_dims_ = self._embedding_dims(
                [names[j] for j in np.flatnonzero(mask)], np.flatnonzero(mask))
        return {"numeric": numeric, "categorical": self.input_encoder_.transform(
            columns)}

    def _set_categories(self, categories):
        """Declare every column's categories (``partial_fit(categories=)``, the
        scan of a ShardedDataset): a list in the order of the categorical
        columns, or a dict by column name or index (the columns it omits
        keep the categories learned so far)."""
        if self.is_categorical_ is None:
            raise ValueError("categories= was given but X has no categorical "
                             "column; name the id columns with "
                             "categorical_features.")
        indices = np.flatnonzero(self.is_categorical_)
        all_names = getattr(self, "feature_names_in_", None)
        names = ([str(all_names[j]) for j in indices] if all_names is not None
                 else [int(j) for j in indices])
        current = list(self.input_encoder_.categories_)
        if isinstance(categories, dict):
            by_key = {}
            for key, values in categories.items():
                if key in names:
                    by_key[names.index(key)] = values
                elif isinstance(key, numbers.Integral) and int(key) in indices:
                    by_key[list(indices).index(int(key))] = values
                else:
                    raise ValueError(f"categories names column {key!r}, which is "
                                     f"not categorical; the categorical columns "
                                     f"are {names}.")
        else:
            if len(categories) != len(indices):
                raise ValueError(f"categories has {len(categories)} entries but "
                                 f"there are {len(indices)} categorical columns "
                                 f"{names}; give one array per column or a dict.")
            by_key = dict(enumerate(categories))
        for position, values in by_key.items():
            current[position] = values
        self.input_encoder_ = CategoricalEncoder.from_categories(current, names)
        self.categories_ = self.input_encoder_.categories_
        self.embedding_dims_ = self._embedding_dims(names, indices)

    def _embedding_dims(self, names, indices):
        """Width of each categorical column's embedding (``embedding_dim``, or
        :func:`embedding_size` of its table)."""
        sizes = self.input_encoder_.n_categories_
        if self.embedding_dim is None:
            return [embedding_size(n) for n in sizes]
        if not isinstance(self.embedding_dim, dict):
            return [int(self.embedding_dim)] * len(sizes)
        keys = [str(k) if isinstance(k, str) else int(k) for k in self.embedding_dim]
        known = set(names) | {int(i) for i in indices}
        unknown = [k for k in keys if k not in known]
        if unknown:
            raise ValueError(f"embedding_dim names column(s) {unknown} that are not "
                             f"categorical; the categorical columns are {names}.")
        dims = []
        for name, index, n in zip(names, indices, sizes):
            dim = self.embedding_dim.get(name, self.embedding_dim.get(int(index)))
            if dim is None:
                dim = embedding_size(n)
            if not isinstance(dim, numbers.Integral) or dim < 1:
                raise ValueError(f"embedding_dim of column {name!r} must be a "
                                 f"positive integer, got {dim!r}.")
            dims.append(int(dim))
        return dims


class MultiTaskEstimator(_NetworkInputs, MultiTaskMixin, _NeuralEstimator):
    """Multi-task neural network: shared layers, task heads.

    Learns tasks of any type at once (regression, classification, binary,
    ranking, count, quantile, ordinal, or a registered type of your own)
    from one ``Y`` with a column per task output and ``NaN``
    where a label is missing. ``fit`` builds the network and a skorch
    :class:`MultiTaskNet` as ``net_`` and trains it on ``sum_k lambda_k L_k``,
    each task's loss ``L_k`` averaged over its labelled entries in the batch.

    Parameters
    ----------
    tasks : list of Task, default=None
        Task of each column of ``Y``; the columns of a DataFrame ``Y`` are
        matched to the tasks by name (a task with ``k`` outputs reads the
        columns ``<name>_0`` ... ``<name>_<k-1>``). None makes one task per
        column, named after the DataFrame's columns, with the type that
        :func:`sklearn.utils.multiclass.type_of_target` gives its labelled
        entries: 0/1 (or any two labels) a binary task, a few integer or
        string labels a classification task, floats a regression task (see
        :func:`~skmtl.tasks.infer_tasks`); ``tasks_`` shows what was
        inferred, with the classes.
    trunk : None, str, nn.Module class or callable, or nn.Module instance, \
default=None
        The network mapping a batch of inputs to features. None is an
        :class:`MLP` with ``hidden_layer_sizes``; a name is ``"mlp"`` or
        ``"conv_net"`` (short: ``"conv"``); a class is built with
        ``input_shape=`` (if it takes it) and the ``trunk__...``
        parameters; an instance is copied (never trained in place).
    architecture : str, nn.Module class or instance, default="hard"
        How the tasks share parameters: ``"hard_sharing"`` (short
        ``"hard"``, :class:`HardSharing`), ``"soft_sharing"`` (``"soft"``,
        :class:`SoftSharing`), ``"cross_stitch"`` (:class:`CrossStitch`),
        ``"mmoe"`` (:class:`MMoE`), ``"ple"`` (:class:`PLE`), ``"cgc"``
        (:class:`CGC`), ``"aitm"`` (:class:`AITM`, for dependent tasks). A
        class is built with ``tasks=``, ``input_shape=``, ``trunk=`` (those
        it accepts) and the ``module__...`` parameters
        (e.g. ``module__n_experts=8``); an instance must return one output
        per task and is copied.
    hidden_layer_sizes : tuple of int, default=(100,)
        Hidden layers of the default MLP trunk.
    task_weights : None, sequence of float or dict, default=None
        Manual weight ``lambda_k`` of each task in the loss
        ``sum_k lambda_k L_k``: a sequence in task order or a dict by task
        name (unnamed tasks get 1). Shorthand for
        ``weighting=Fixed(task_weights)``, so it cannot be combined with
        another strategy. ``set_params(task_weights__<task>=w)`` sets one
        task's weight.
    weighting : None, str or Weighting, default=None
        Task-weighting strategy (:mod:`skmtl.neural.weighting`), by name or
        as an object; None is fixed weights (``task_weights``, or all 1).
        Its parameters are reachable as ``weighting__<param>``.
    optimizer : torch optimizer class, default=torch.optim.Adam
        Built with ``lr`` and the ``optimizer__...`` parameters. Adam and
        AdamW run torch's fused update (``fused=True``) where the device has
        it (CPU from torch 2.4, CUDA): the same algorithm in one kernel per
        parameter, about a tenth faster per epoch on a CPU; set
        ``optimizer__fused=False`` (or ``optimizer__foreach``) to choose
        another implementation.
    lr : float, default=1e-3
    max_epochs : int, default=100
    batch_size : int, default=128
    standardize_targets : bool, default=True
        Train regression and quantile tasks (the types with
        ``standardize``) on targets standardized per column (mean and
        standard deviation of the labelled entries), so that tasks in
        different units weigh alike in the loss; predictions are mapped back.
        Huber's ``delta`` is then in standard deviations.
    device : str, default="cpu"
        Torch device for training and prediction (``"cuda"``, ``"cuda:1"``);
        batches are moved there one at a time, predictions come back as
        NumPy. Asking for CUDA without it raises a ``ValueError``;
        :meth:`to` moves a fitted network (e.g. back to the CPU).
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialization, shuffling and dropout (torch's global
        generator is restored after fit). The same value gives the same
        parameters on the CPU.
    verbose : int, default=0
        1 prints skorch's table of per-epoch (per-task) losses.
    callbacks : list of skorch callbacks, default=None
        Added to the net (e.g. ``EarlyStopping``, ``LRScheduler``); copied at
        fit.
    train_split : None, float, int or callable, default=None
        Internal validation split: a fraction or a number of folds (skorch's
        ``ValidSplit``) or any skorch split callable. Its per-task losses are
        recorded in ``history_``. None trains on all samples.
    n_threads : int, default=None
        Torch threads used by ``fit`` and ``predict`` (restored afterwards);
        None leaves torch's setting. Small networks on a busy machine are
        often fastest with 1.
    warm_start : bool, default=False
        When fitted already, ``fit`` trains the network ``max_epochs`` more
        epochs instead of building a new one. Every epoch is seeded from
        ``(random_state, epoch number)``, so fitting ``E1`` epochs, pickling,
        loading and warm-starting ``E2`` more gives exactly the parameters of
        one ``E1 + E2``-epoch fit (on the CPU).
    on_divergence : {"raise", "restore"}, default="raise"
        A task loss that becomes NaN or infinite stops training with a
        ``ValueError`` naming the task and the epoch (``"raise"``; the
        estimator is then unfitted), or puts back the parameters of the
        run's best epoch and stops with a ``RuntimeWarning`` (``"restore"``);
        see :class:`DivergenceGuard`.
    accelerator : accelerate.Accelerator, default=None
        Opt-in training through Hugging Face Accelerate (several GPUs with
        ``accelerate launch``, mixed precision); ``device`` is then ignored.
        Needs the ``accelerate`` extra; see the user guide for its limits
        (on several processes no pickling or ``GridSearchCV``, and no
        GradNorm or MetaWeighting) and for how task weighting is
        distributed.
    categorical_features : None, "from_dtype", array-like of int, str or \
bool, default=None
        Columns of ``X`` that hold categories or ids, as in scikit-learn's
        ``HistGradientBoostingClassifier``: ``"from_dtype"`` takes the
        pandas columns of dtype ``category``, ``string`` or ``object``; or
        column indices, column names (DataFrame) or a boolean mask. ``fit``
        learns each column's categories (``categories_``; integer ids stay
        int64) and the network looks each one up in its own embedding
        (:class:`EmbeddedInputs`), concatenated with the numeric columns
        before the architecture. Categories unseen at fit, rare ones (see
        ``min_frequency``) and missing values share a reserved row, never an
        error. None: every column is numeric (a column of strings then
        raises a ``ValueError`` naming it).
    embedding_dim : None, int or dict, default=None
        Width of the embeddings: one int for every column, or a dict by
        column name or index; None (and columns the dict omits) use
        :func:`embedding_size`, ``min(50, round(1.6 * n ** 0.56))`` for a
        table of ``n`` rows (fastai's rule, capped at 50).
    min_frequency : None, int or float, default=None
        Categories seen fewer than ``min_frequency`` times at fit (a float
        in (0, 1): that fraction of the rows) join the reserved row of
        unknown categories, which is trained on them; None keeps every
        category seen.
    sparse_embeddings : bool, default=False
        Train the embedding tables with sparse gradients
        (``nn.Embedding(sparse=True)``) and ``torch.optim.SparseAdam`` at
        ``lr`` (the other parameters keep ``optimizer``): a step updates only
        the rows of the batch, which pays off for tables of millions of ids.
        Works with the loss-level weightings; ignored without categorical
        columns.
    **kwargs
        Prefixed parameters routed like skorch's: ``module__...`` (the
        architecture), ``trunk__...`` (the trunk class), ``optimizer__...``,
        ``iterator_train__...``, ``iterator_valid__...``, ``callbacks__...``,
        ``dataset__...``. They work in ``set_params`` and ``GridSearchCV``
        grids.

    Attributes
    ----------
    net_ : MultiTaskNet
        The fitted skorch net (its ``module_`` is the torch module, its
        ``weighting_`` the strategy).
    tasks_ : list of Task
        Fitted tasks (columns, classes).
    history_ : skorch History
        Per-epoch losses: ``train_loss`` and ``train_loss_<task>`` (and
        ``valid_...`` with ``train_split``), ``task_weights``.
    task_weights_history_ : ndarray of shape (n_epochs, n_tasks)
        Task weights used in each epoch.
    best_epochs_ : dict
        With a :class:`PerTaskCheckpoint` among the callbacks: the epoch of
        each task's best state, from which it is predicted.
    target_mean_, target_scale_ : ndarray of shape (n_outputs,)
        Standardization of the columns of the standardized types (regression,
        quantile; 0 and 1 elsewhere).
    train_seed_ : int
        The seed of the run, drawn from ``random_state`` at the first fit.
    input_shape_ : tuple of int or dict
        Shape of one input sample (a dict of shapes for named inputs).
    is_categorical_ : ndarray of bool of shape (n_features,) or None
        The categorical columns (None without).
    categories_ : list of ndarray
        Categories of each categorical column, sorted (code ``1 + i`` in
        the embedding table; code 0 is the reserved row). Only with
        categorical columns.
    embedding_dims_ : list of int
        Width of each categorical column's embedding. Only with categorical
        columns.
    input_names_ : list of str or None
        Keys of the named inputs (a dict ``X``), None for one array.
    n_features_in_ : int
    n_outputs_ : int

    See Also
    --------
    MultiTaskRegressor, MultiTaskClassifier : Single-type conveniences.
    skmtl.SingleTaskBaseline : One model per task, the no-sharing reference.

    Notes
    -----
    ``X`` may be a dense array, N-D samples (images), a scipy sparse matrix
    (CSR or CSC, e.g. the output of a ``OneHotEncoder``: rows are densified
    one batch at a time, never the whole matrix), a table with categorical
    columns (``categorical_features``) or a dict of named arrays (skorch's
    convention; wrap it in ``skorch.helper.SliceDict`` for scikit-learn's
    cross-validation): the trunk of :class:`HardSharing` or
    :class:`SoftSharing` receives them as keyword arguments, and must state
    its feature size as ``out_features``.

    The network is trained by skorch: ``callbacks`` (early stopping,
    checkpoints, learning-rate schedules) and ``device`` work as in skorch.
    A failed ``fit`` leaves the estimator unfitted; ``partial_fit`` trains
    one epoch on a chunk of data (streams larger than memory). Batches are
    fetched by slicing tensors (:class:`TaskDataset`,
    :class:`BatchIterator`). A task without a label in a batch adds nothing
    to that batch's loss.

    Multi-task networks with a shared trunk and task heads go back to
    Caruana [1]_; the architectures follow Duong et al. [2]_ (soft sharing),
    Misra et al. [3]_ (cross-stitch), Ma et al. [4]_ (MMoE) and Tang et al.
    [5]_ (PLE).

    References
    ----------
    .. [1] R. Caruana, "Multitask learning", Machine Learning 28, 1997.
    .. [2] L. Duong, T. Cohn, S. Bird and P. Cook, "Low resource dependency
       parsing: cross-lingual parameter sharing in a neural network parser",
       ACL 2015.
    .. [3] I. Misra, A. Shrivastava, A. Gupta and M. Hebert, "Cross-stitch
       networks for multi-task learning", CVPR 2016.
    .. [4] J. Ma et al., "Modeling task relationships in multi-task learning
       with multi-gate mixture-of-experts", KDD 2018.
    .. [5] H. Tang et al., "Progressive layered extraction (PLE)", RecSys 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl import Task
    >>> from skmtl.neural import MultiTaskEstimator
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(200, 4)
    >>> Y = np.c_[X[:, 0] + X[:, 1], (X[:, 0] > 0).astype(float)]
    >>> Y[::3, 0] = np.nan  # a third of the first task's labels are missing
    >>> est = MultiTaskEstimator(
    ...     tasks=[Task("value"), Task("sign", "classification")],
    ...     hidden_layer_sizes=(16,), lr=0.01, max_epochs=30, random_state=0)
    >>> est.fit(X, Y).predict(X[:2]).shape
    (2, 2)
    >>> est.score(X, Y) > 0.8
    True
    """

    _allow_nd = True  # images and other N-D samples
    _default_task_type = "auto"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = None
        return tags


class MultiTaskRegressor(_NetworkInputs, MultiTaskMixin, RegressorMixin,
                         _NeuralEstimator):
    """Multi-task neural network for regression tasks.

    :class:`MultiTaskEstimator` whose tasks are regression-like (regression,
    count, ranking, quantile); ``tasks=None`` makes every column a regression task, so
    ``fit(X, Y)`` works like scikit-learn's multi-output regressors, with
    ``NaN`` marking missing labels. ``score`` is the mean R² over the tasks'
    labelled entries.

    Parameters
    ----------
    tasks : list of Task, default=None
        Task of each column of ``Y`` (a DataFrame's columns are matched to
        them by name); None makes every column a regression task, named
        after the DataFrame's columns.
    trunk, architecture, hidden_layer_sizes, task_weights, weighting, \
optimizer, lr, max_epochs, batch_size, standardize_targets, device, \
random_state, verbose, callbacks, train_split, n_threads, warm_start, \
on_divergence, accelerator, categorical_features, embedding_dim, \
min_frequency, sparse_embeddings, **kwargs
        As in :class:`MultiTaskEstimator`.

    Attributes
    ----------
    net_, tasks_, history_, task_weights_history_, target_mean_, \
target_scale_, train_seed_, input_shape_, is_categorical_, categories_, \
embedding_dims_, input_names_, n_features_in_, n_outputs_
        As in :class:`MultiTaskEstimator`.

    See Also
    --------
    MultiTaskEstimator : Mixed task types.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural import MultiTaskRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(200, 3)
    >>> Y = np.c_[X @ [1.0, 2.0, 0.0], X @ [1.0, 1.5, 0.5]]
    >>> Y[rng.rand(200) < 0.3, 1] = np.nan
    >>> est = MultiTaskRegressor(hidden_layer_sizes=(), lr=0.05, max_epochs=40,
    ...                          random_state=0).fit(X, Y)
    >>> round(est.score(X, Y), 2)
    1.0
    """

    _allow_nd = True
    _default_task_type = "regressor"
    _expected_kind = "regressor"


class MultiTaskClassifier(_NetworkInputs, MultiTaskMixin, ClassifierMixin,
                          _NeuralEstimator):
    """Multi-task neural network for classification tasks.

    :class:`MultiTaskEstimator` whose tasks are class-label tasks
    (classification, binary, ordinal); ``tasks=None`` makes every column a
    classification task (any number of classes, any label type). ``score``
    is the mean accuracy over the tasks' labelled entries; ``predict_proba``
    gives one array per column.

    Parameters
    ----------
    tasks : list of Task, default=None
        Task of each column of ``Y`` (a DataFrame's columns are matched to
        them by name); None makes every column a classification task, named
        after the DataFrame's columns.
    trunk, architecture, hidden_layer_sizes, task_weights, weighting, \
optimizer, lr, max_epochs, batch_size, standardize_targets, device, \
random_state, verbose, callbacks, train_split, n_threads, warm_start, \
on_divergence, accelerator, categorical_features, embedding_dim, \
min_frequency, sparse_embeddings, **kwargs
        As in :class:`MultiTaskEstimator`.

    Attributes
    ----------
    classes_ : ndarray or list of ndarray
        Class labels, per column of ``Y``.
    net_, tasks_, history_, task_weights_history_, train_seed_, \
input_shape_, is_categorical_, categories_, embedding_dims_, input_names_, \
n_features_in_, n_outputs_
        As in :class:`MultiTaskEstimator`.

    See Also
    --------
    MultiTaskEstimator : Mixed task types.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural import MultiTaskClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(200, 3)
    >>> Y = np.c_[X[:, 0] > 0, X[:, 0] + X[:, 1] > 0].astype(float)
    >>> est = MultiTaskClassifier(hidden_layer_sizes=(16,), lr=0.01, max_epochs=30,
    ...                           random_state=0).fit(X, Y)
    >>> est.score(X, Y) > 0.9
    True
    >>> [p.shape for p in est.predict_proba(X[:5])]
    [(5, 2), (5, 2)]
    """

    _allow_nd = True
    _default_task_type = "classifier"
    _expected_kind = "classifier"
