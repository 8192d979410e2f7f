"""Small parameter objects: get_params / set_params without being estimators.

Penalties are hyper-parameter containers, not estimators: they must reach
``GridSearchCV`` through ``penalty__alpha`` and survive ``clone``, but must not
be collected by :func:`skmtl.utils.all_estimators` as estimators to check.
scikit-learn's ``clone`` and ``get_params(deep=True)`` only need ``get_params``
and ``set_params``, which this mixin provides.
"""

import inspect


class ParamsMixin:
    """``get_params`` / ``set_params`` / ``repr`` from the ``__init__`` signature."""

    @classmethod
    def _get_param_names(cls):
        if cls.__init__ is object.__init__:
            return []  # no parameters
        signature = inspect.signature(cls.__init__)
        return sorted(p.name for p in signature.parameters.values()
                      if p.name != "self"
                      and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL))

    def get_params(self, deep=True):
        """Hyper-parameters of the object, as a dict."""
        out = {}
        for name in self._get_param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                for key, sub in value.get_params().items():
                    out[f"{name}__{key}"] = sub
            out[name] = value
        return out

    def set_params(self, **params):
        """Set hyper-parameters (``name=value``); returns ``self``."""
        valid = self._get_param_names()
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if name not in valid:
                raise ValueError(f"Invalid parameter {name!r} for "
                                 f"{type(self).__name__}; "
                                 f"valid parameters are {valid}.")
            if sub:
                getattr(self, name).set_params(**{sub: value})
            else:
                setattr(self, name, value)
        return self

    def __repr__(self):
        signature = inspect.signature(type(self).__init__)
        args = []
        for name in self._get_param_names():
            default = signature.parameters[name].default
            value = getattr(self, name)
            changed = value is not default
            try:
                changed = bool(value != default)
            except (ValueError, TypeError):
                pass
            if changed:
                args.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(args)})"

    def __eq__(self, other):
        if type(self) is not type(other):
            return NotImplemented
        try:
            return all(bool(_equal(getattr(self, n), getattr(other, n)))
                       for n in self._get_param_names())
        except (ValueError, TypeError):
            return False

    __hash__ = object.__hash__


def _equal(a, b):
    import numpy as np

    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(np.asarray(a), np.asarray(b))
    return a == b
