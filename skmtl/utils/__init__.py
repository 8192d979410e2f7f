"""Utilities: discovery of the public estimators, row chunks for streaming,
named options (registries), parameter objects and sample weights."""

import importlib
import inspect
import pkgutil

from sklearn.base import BaseEstimator

from ._chunks import iter_chunks
from ._registry import (
    ParamsMixin,
    Registry,
    resolve_components,
    resolve_option,
    valid_options,
)
from ._validation import check_sample_weight

__all__ = ["ParamsMixin", "Registry", "all_estimators", "check_sample_weight",
           "iter_chunks", "resolve_components", "resolve_option", "valid_options"]

_TYPE_OF = {"classifier": "classifier", "regressor": "regressor"}


def _public_modules():
    # Discovery imports the package's modules by name from its directory:
    # utils (which every family imports) depends on no family, so the
    # module graph keeps one direction (tests/test_import.py).
    root = importlib.import_module(__name__.rpartition(".")[0])
    yield root
    for info in pkgutil.walk_packages(root.__path__, prefix=root.__name__ + "."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts[1:]) or "tests" in parts:
            continue
        yield importlib.import_module(info.name)


def _is_skorch_net(cls):
    return any(base.__name__ == "NeuralNet" and base.__module__.startswith("skorch")
               for base in cls.__mro__)


def all_estimators(type_filter=None):
    """Every public estimator class of skmtl.

    Walks the public modules of the package (importing them, so the neural
    family's torch import happens here) and collects the concrete
    :class:`~sklearn.base.BaseEstimator` subclasses that skmtl defines and
    exports. skorch nets (``MultiTaskNet``) are left out: they are training
    loops that take encoded targets, not estimators of NaN-masked ``Y``.

    Parameters
    ----------
    type_filter : {"classifier", "regressor"}, default=None
        Keep only the classes whose name or default estimator type says so.

    Returns
    -------
    estimators : list of (str, type)
        ``(name, class)`` pairs sorted by name.

    Examples
    --------
    >>> from skmtl.utils import all_estimators
    >>> "SingleTaskBaseline" in dict(all_estimators())
    True
    """
    found = {}
    for module in _public_modules():
        exported = getattr(module, "__all__", None)
        for name, obj in inspect.getmembers(module, inspect.isclass):
            if (name.startswith("_") or not issubclass(obj, BaseEstimator)
                    or not obj.__module__.startswith("skmtl")
                    or inspect.isabstract(obj) or _is_skorch_net(obj)
                    or (exported is not None and name not in exported)):
                continue
            found[name] = obj
    estimators = sorted(found.items())
    if type_filter is not None:
        if type_filter not in _TYPE_OF:
            raise ValueError(f"type_filter must be one of {sorted(_TYPE_OF)}, got "
                             f"{type_filter!r}.")
        estimators = [(n, c) for n, c in estimators
                      if n.lower().endswith(type_filter)]
    return estimators
