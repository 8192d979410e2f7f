"""From the estimator's hyper-parameters to the fitted objects the net trains.

:class:`~skmtl.neural.MultiTaskEstimator` owns every hyper-parameter;
``fit`` calls the functions here to turn them into the objects it hands to
:class:`~skmtl.neural.MultiTaskNet`: the built module (architecture, trunk),
the initialized weighting strategy and the skorch keyword arguments. Each
takes plain values and returns new objects; none reads or changes the
estimator.
"""

import copy
import difflib
import functools
import inspect
import math

import torch
from skorch.dataset import ValidSplit
from torch import nn

from ..tasks import Task
from ._architectures import ARCHITECTURES
from ._trunks import MLP, TRUNKS
from .weighting import Fixed, resolve_weighting

__all__ = ["PREFIXES", "NET_PREFIXES", "split_prefixed", "check_prefixed",
           "build_trunk_spec",
           "build_module", "build_weighting", "build_train_split",
           "optimizer_defaults", "predict_batch_size", "tasks_with_classes"]

# prefixed parameters that go to skorch as they are
NET_PREFIXES = ("optimizer__", "iterator_train__", "iterator_valid__",
                "callbacks__", "dataset__")
PREFIXES = ("module__", "trunk__") + NET_PREFIXES


def split_prefixed(params):
    """``{prefix: {name: value}}`` of prefixed parameters (``module__n=2``).

    Raises a ``ValueError`` naming the parameters without a known prefix.
    """
    unknown = sorted(k for k in params if not k.startswith(PREFIXES))
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown}; prefixed parameters "
                         f"must start with one of {list(PREFIXES)}.")
    out = {"module": {}, "trunk": {}, "net": {}}
    for key, value in params.items():
        prefix, _, rest = key.partition("__")
        if prefix in ("module", "trunk"):
            out[prefix][rest] = value
        else:
            out["net"][key] = value
    return out


def _check_keywords(target, given, prefix, what, supplied=()):
    """Raise a ``ValueError`` for the ``prefix`` parameters ``target`` lacks.

    ``given`` are the keyword arguments without the prefix; ``supplied``
    are the arguments the estimator passes itself (not the user's). A
    target taking ``**kwargs`` (or without a signature) accepts anything.
    """
    if not given:
        return
    try:
        params = inspect.signature(target).parameters
    except (TypeError, ValueError):
        return
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return
    valid = [name for name, p in params.items()
             if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
             and name not in supplied]
    unknown = sorted(set(given) - set(valid))
    if not unknown:
        return
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(name, valid, n=1)
        hints.append(f"{prefix}{name}" + (f" (did you mean {prefix}{close[0]}?)"
                                          if close else ""))
    name = getattr(target, "__name__", type(target).__name__)
    raise ValueError(
        f"unknown parameter(s) {', '.join(hints)} for {what} {name}; it takes "
        f"{', '.join(prefix + v for v in valid) or 'no parameter'}.")


def check_prefixed(prefixed, trunk, architecture, optimizer):
    """Check the ``trunk__``, ``module__`` and ``optimizer__`` parameters
    against what the trunk, the architecture and the optimizer take, so that
    a misspelt one fails before training with the valid names listed (not as
    a ``TypeError`` from deep inside the build).

    ``prefixed`` is :func:`split_prefixed`'s result.
    """
    if trunk is None:
        trunk = MLP
    elif isinstance(trunk, str):
        trunk = TRUNKS.resolve(trunk)
    if not isinstance(trunk, nn.Module):
        _check_keywords(trunk, prefixed["trunk"], "trunk__", "the trunk",
                        supplied=("input_shape",) if trunk is not MLP
                        else ("input_shape", "hidden_layer_sizes"))
    if isinstance(architecture, str):
        architecture = ARCHITECTURES.resolve(architecture)
    if not isinstance(architecture, nn.Module):
        _check_keywords(architecture, prefixed["module"], "module__",
                        "the architecture",
                        supplied=("tasks", "input_shape", "trunk"))
    # skorch's own optimizer options (param_groups, nested names) are its
    # business
    optimizer_kwargs = {key[len("optimizer__"):]: value
                        for key, value in prefixed["net"].items()
                        if key.startswith("optimizer__")
                        and "__" not in key[len("optimizer__"):]
                        and key != "optimizer__param_groups"}
    _check_keywords(optimizer, optimizer_kwargs, "optimizer__", "the optimizer",
                    supplied=("params",))


def _accepted(callable_, names):
    """The subset of ``names`` that ``callable_`` takes as keyword arguments."""
    try:
        params = inspect.signature(callable_).parameters
    except (TypeError, ValueError):
        return set(names)
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return set(names)
    return {n for n in names if n in params}


def build_trunk_spec(trunk, hidden_layer_sizes, trunk_kwargs):
    """The trunk specification the architectures build (class, partial or module).

    ``None`` is an :class:`MLP` with ``hidden_layer_sizes``; a name is one of
    :data:`TRUNKS`; ``trunk_kwargs`` (the ``trunk__...`` parameters) go to a
    class.
    """
    if trunk is None:
        return functools.partial(MLP, hidden_layer_sizes=tuple(hidden_layer_sizes),
                                 **trunk_kwargs)
    if isinstance(trunk, str):
        trunk = TRUNKS.resolve(trunk)
    if isinstance(trunk, nn.Module):
        if trunk_kwargs:
            raise ValueError(f"trunk__ parameters {sorted(trunk_kwargs)} need a "
                             f"trunk class, but trunk is an instance of "
                             f"{type(trunk).__name__}.")
        return trunk
    return functools.partial(trunk, **trunk_kwargs) if trunk_kwargs else trunk


def build_module(architecture, tasks, input_shape, trunk, module_kwargs):
    """A new multi-task module: ``architecture`` built for ``tasks``.

    A name (:data:`ARCHITECTURES`) or class is called with ``tasks=``,
    ``input_shape=`` and ``trunk=`` (those it accepts) and ``module_kwargs``
    (the ``module__...`` parameters); an instance is deep-copied, so the
    parameter is never trained in place.
    """
    if isinstance(architecture, nn.Module):
        if module_kwargs:
            raise ValueError(f"module__ parameters {sorted(module_kwargs)} need an "
                             f"architecture class or name, but architecture is an "
                             f"instance of {type(architecture).__name__}.")
        return copy.deepcopy(architecture)
    if isinstance(architecture, str):
        architecture = ARCHITECTURES.resolve(architecture)
    given = {"tasks": tasks, "trunk": trunk,
             "input_shape": input_shape if isinstance(input_shape, dict)
             else tuple(input_shape)}
    kwargs = dict(module_kwargs)
    for name in _accepted(architecture, list(given)):
        kwargs.setdefault(name, given[name])
    return architecture(**kwargs)


def build_weighting(weighting, task_weights, tasks):
    """The initialized strategy: ``task_weights`` is shorthand for ``Fixed``.

    ``task_weights`` with ``weighting`` None, ``"fixed"`` or a ``Fixed()``
    without weights gives ``Fixed(task_weights)``; beside any other strategy
    (or a ``Fixed`` with weights of its own) it is refused. The strategy is
    a copy: the parameter is never changed by training.
    """
    strategy = copy.deepcopy(resolve_weighting(weighting))
    if task_weights is not None:
        if type(strategy) is not Fixed or strategy.task_weights is not None:
            raise ValueError(
                f"task_weights is shorthand for weighting=Fixed(task_weights), but "
                f"weighting={weighting!r} was given too: "
                f"{type(strategy).__name__} "
                + ("has weights of its own" if type(strategy) is Fixed else
                   "chooses the task weights itself")
                + "; give the weights once.")
        strategy = Fixed(task_weights)
    return strategy.initialize(tasks)


# the optimizer options that choose an implementation of the update; a user
# who sets one of them chooses it
_IMPLEMENTATION_OPTIONS = ("optimizer__fused", "optimizer__foreach",
                           "optimizer__differentiable")


def optimizer_defaults(optimizer, device, net_kwargs):
    """The optimizer options the estimator adds to the user's: ``fused=True``
    for Adam and AdamW on a device where torch has their fused kernel.

    The fused update is the same algorithm in one kernel per parameter
    instead of about ten tensor operations, each dispatched from Python
    (torch's default on a CPU); on the CPU benchmark
    (``benchmarks/bench_neural.py``) it takes about a tenth off an epoch.
    Nothing is added when ``optimizer`` is another class or when
    ``net_kwargs`` sets ``optimizer__fused``, ``optimizer__foreach`` or
    ``optimizer__differentiable``.

    Parameters
    ----------
    optimizer : torch optimizer class
    device : torch.device
        Where the parameters train.
    net_kwargs : dict
        The prefixed parameters that go to the net (``optimizer__lr`` ...).

    Returns
    -------
    options : dict
        Prefixed options for the net (``{"optimizer__fused": True}`` or
        empty).
    """
    if optimizer not in (torch.optim.Adam, torch.optim.AdamW):
        return {}
    if any(key in net_kwargs for key in _IMPLEMENTATION_OPTIONS):
        return {}
    if not _has_fused_kernel(optimizer, str(device)):
        return {}
    return {"optimizer__fused": True}


@functools.cache
def _has_fused_kernel(optimizer, device):
    """Whether ``optimizer(..., fused=True)`` takes parameters on ``device``
    (CPU from torch 2.4, CUDA, MPS, ...)."""
    try:
        optimizer([torch.zeros(1, device=device, requires_grad=True)], fused=True)
    except (RuntimeError, TypeError, ValueError):
        return False
    return True


# Prediction batches hold up to this many rows, and about this many input
# values (fewer rows for large samples such as images).
_PREDICT_ROWS, _PREDICT_VALUES = 4096, 1 << 20


def predict_batch_size(input_shape, batch_size):
    """Rows per prediction (and validation) batch: ``iterator_valid__batch_size``.

    Prediction needs no gradient, so its batches can be larger than the
    training ones: up to 4096 rows, or about 2**20 input values for large
    samples, rounded down to a power of two, and never fewer than
    ``batch_size``. The batch size is fixed by the fitted input shape, so
    the last batch of every prediction is padded to the same shape and a
    row's prediction does not depend on the rows predicted with it (see
    :class:`~skmtl.neural.BatchIterator`). Per-batch costs (Python, kernel
    launches) then weigh 16 times less than with batches of 256 rows.

    Parameters
    ----------
    input_shape : tuple of int or dict of tuples
        Shape of one sample (``input_shape_``), a dict for named inputs.
    batch_size : int
        The training batch size.

    Returns
    -------
    rows : int
    """
    shapes = input_shape.values() if isinstance(input_shape, dict) else [input_shape]
    values = max(1, sum(math.prod(shape) for shape in shapes))
    rows = min(_PREDICT_ROWS, max(1, _PREDICT_VALUES // values))
    return max(int(batch_size), 1 << (rows.bit_length() - 1))


def build_train_split(train_split, seed):
    """skorch's split callable from a fraction, a number of folds or a callable."""
    if train_split is None or callable(train_split):
        return train_split
    return ValidSplit(train_split, stratified=False, random_state=seed)


def tasks_with_classes(tasks, classes):
    """``tasks`` (a list) with the classes of the categorical ones declared.

    ``classes`` is an array for a single categorical task, a dict
    ``{task name: classes}`` or a list in the order of the categorical tasks.
    """
    tasks = [tasks] if isinstance(tasks, Task) else list(tasks)
    categorical = [t for t in tasks if t.is_classification]
    if isinstance(classes, dict):
        by_name = classes
    elif len(categorical) == 1 and len(classes) and all(
            _is_label(c) for c in classes):
        by_name = {categorical[0].name: classes}
    else:
        if len(classes) != len(categorical):
            raise ValueError(f"classes has {len(classes)} entries but there are "
                             f"{len(categorical)} classification tasks.")
        by_name = {t.name: c for t, c in zip(categorical, classes)}
    return [_with_classes(t, by_name[t.name]) if t.name in by_name else t
            for t in tasks]


def _with_classes(task, classes):
    """A copy of ``task`` (every option kept) that declares ``classes``."""
    declared = copy.copy(task)
    declared.classes = list(classes)
    declared.type_.check_options(declared)
    return declared


def _is_label(value):
    return isinstance(value, str | bytes) or not hasattr(value, "__len__")
