"""Named options and parameter objects: the two conventions every part of skmtl shares.

* :class:`Registry` — the named choices of one kind (penalties, weighting
  strategies, architectures, trunks, task types, metrics): a dict from a
  lower_snake_case name to the object, plus the short names users type.
  ``registry.resolve(name)`` returns the object or raises a ``ValueError``
  that lists every valid choice; ``registry.register(name)`` adds one, from
  user code too.
* :class:`ParamsMixin` — ``get_params`` / ``set_params`` / ``repr`` of a small
  object that holds hyper-parameters without being an estimator (a penalty,
  a weighting strategy), read from its ``__init__`` signature, so that
  ``clone`` copies it and ``GridSearchCV`` reaches its parameters as
  ``penalty__alpha`` or ``weighting__lr``.
* :func:`resolve_components` — what an estimator's ``set_params`` does
  before setting ``penalty__alpha=...`` or ``weighting__lr=...`` on a
  component given by name: the name becomes the object it names.
"""

import functools
import inspect

__all__ = ["Registry", "ParamsMixin", "resolve_components", "resolve_option",
           "valid_options"]


def resolve_option(kind, value, choices, aliases=None):
    """The entry of ``choices`` that the option string ``value`` names.

    Every string option of skmtl (penalties, weightings, architectures,
    trunks) follows one convention: a lower_snake_case name (``"trace_norm"``,
    ``"nash_mtl"``) plus the short names users type (``"trace"``, ``"nash"``).

    Parameters
    ----------
    kind : str
        What is being chosen, for the error message (``"weighting"``).
    value : str
        The name given by the user.
    choices : dict
        ``{lower_snake_case name: object}``.
    aliases : dict, default=None
        ``{short name: lower_snake_case name}``.

    Returns
    -------
    object
        ``choices[name]``.

    Raises
    ------
    ValueError
        If ``value`` is neither a name nor an alias; the message lists every
        valid choice (and the spelling meant, when only case or hyphens
        differ).

    Examples
    --------
    >>> from skmtl.utils import resolve_option
    >>> resolve_option("penalty", "l21", {"l21": 1, "trace_norm": 2},
    ...                {"trace": "trace_norm"})
    1
    >>> resolve_option("penalty", "trace", {"l21": 1, "trace_norm": 2},
    ...                {"trace": "trace_norm"})
    2
    """
    aliases = aliases or {}
    if value in choices:
        return choices[value]
    if value in aliases:
        return choices[aliases[value]]
    valid = valid_options(choices, aliases)
    hint = ""
    if isinstance(value, str):
        normalized = value.strip().lower().replace("-", "_").replace(" ", "_")
        if normalized in choices or normalized in aliases:
            hint = f" (did you mean {normalized!r}?)"
    raise ValueError(f"unknown {kind} {value!r}{hint}; valid choices are "
                     f"{', '.join(repr(v) for v in valid)}.")


def valid_options(choices, aliases=None):
    """Every accepted option name, names first then short names, sorted.

    Parameters
    ----------
    choices : mapping or iterable of str
        The option names (lower_snake_case).
    aliases : mapping of str to str, default=None
        Short names, each mapped to the name it stands for.

    Returns
    -------
    names : list of str
        The names, then the short names that are not also names.

    Examples
    --------
    >>> from skmtl.utils import valid_options
    >>> valid_options({"nash_mtl": 1, "famo": 2}, {"nash": "nash_mtl"})
    ['famo', 'nash_mtl', 'nash']
    """
    return sorted(choices) + sorted(set(aliases or {}) - set(choices))


class Registry(dict):
    """The named choices of one kind: ``{lower_snake_case name: object}``.

    A plain dict (``registry[name]``, ``name in registry``,
    ``sorted(registry)``), plus the short names users type
    (:attr:`aliases`) and the one way every option string is resolved
    (:meth:`resolve`, whose error lists every valid choice).

    Parameters
    ----------
    kind : str
        What the registry names, for messages (``"weighting"``).
    entries : dict, default=None
        ``{name: object}`` to start with.
    aliases : dict, default=None
        ``{short name: name}``.
    base : type, default=None
        The class every entry's instances belong to; :meth:`build` accepts
        instances of it and refuses other objects with a ``TypeError``.

    Attributes
    ----------
    aliases : dict
        ``{short name: name}``.

    Examples
    --------
    >>> from skmtl.utils import Registry
    >>> COLOURS = Registry("colour", {"dark_red": "#8b0000"},
    ...                    aliases={"red": "dark_red"})
    >>> COLOURS.resolve("red")
    '#8b0000'
    >>> @COLOURS.register("navy_blue", aliases=("navy",))
    ... class Navy:
    ...     pass
    >>> COLOURS.names()
    ['dark_red', 'navy_blue', 'navy', 'red']
    """

    def __init__(self, kind, entries=None, *, aliases=None, base=None):
        super().__init__(entries or {})
        self.kind = kind
        self.aliases = dict(aliases or {})
        self.base = base

    def register(self, name, obj=None, *, aliases=()):
        """Add ``obj`` under ``name`` (and its short names); returns ``obj``.

        Without ``obj``, returns a decorator that registers the class or
        function it decorates.

        Raises
        ------
        ValueError
            When ``name`` or a short name is already taken by another entry.
        """
        if obj is None:
            return lambda decorated: self.register(name, decorated, aliases=aliases)
        taken = self.get(name, obj)
        if taken is not obj:
            raise ValueError(f"{self.kind} name {name!r} is taken by {taken!r}; "
                             f"choose another name (or pass the object itself).")
        for alias in aliases:
            owner = self.aliases.get(alias, name)
            if owner != name or (alias in self and alias != name):
                raise ValueError(f"{self.kind} short name {alias!r} is taken; choose "
                                 f"another one.")
        self[name] = obj
        for alias in aliases:
            self.aliases[alias] = name
        return obj

    def resolve(self, value):
        """The entry that the name or short name ``value`` stands for.

        Raises
        ------
        ValueError
            For an unknown name; the message lists every valid choice.
        """
        return resolve_option(self.kind, value, self, self.aliases)

    def names(self):
        """Every accepted name: the names, then the short names (sorted)."""
        return valid_options(self, self.aliases)

    def build(self, value, default=None):
        """An instance from a name, a class or an instance (returned as is).

        Parameters
        ----------
        value : None, str, class or instance
            None stands for ``default``; a name (or short name) or a class is
            called without arguments.
        default : str, default=None
            The name that None stands for; None leaves None refused.

        Raises
        ------
        ValueError
            For an unknown name (listing every valid choice).
        TypeError
            For anything else than a name, an entry class or an instance of
            ``base``.
        """
        if value is None and default is not None:
            value = default
        if isinstance(value, str):
            return self.resolve(value)()
        base = self.base
        if isinstance(value, type) and (base is None or issubclass(value, base)):
            return value()
        if base is not None and isinstance(value, base):
            return value
        kinds = ["None"] if default is not None else []
        kinds.append(f"a name in {self.names()}")
        kinds.append(f"a {base.__name__} class or object" if base is not None
                     else "a class")
        raise TypeError(f"{self.kind} must be {', '.join(kinds[:-1])} or {kinds[-1]}; "
                        f"got {value!r}.")


@functools.cache
def _init_parameter_names(init):
    """Sorted names of the parameters of ``init`` (an ``__init__``), cached:
    ``inspect.signature`` costs about 0.3 ms, and a linear fit asks for the
    names of every solver and of its penalty several times."""
    signature = inspect.signature(init)
    return tuple(sorted(p.name for p in signature.parameters.values()
                        if p.name != "self" and p.kind not in (p.VAR_KEYWORD,
                                                               p.VAR_POSITIONAL)))


class ParamsMixin:
    """``get_params`` / ``set_params`` / ``repr`` from the ``__init__`` signature.

    For the small objects that hold hyper-parameters without being
    estimators (penalties, weighting strategies): they must reach
    ``GridSearchCV`` through ``penalty__alpha`` and survive ``clone``, which
    needs ``get_params`` and ``set_params`` only, but must not be collected
    by :func:`skmtl.utils.all_estimators` as estimators to check. As in
    scikit-learn, ``__init__`` stores each argument unchanged under its own
    name.

    Examples
    --------
    >>> from skmtl.utils import ParamsMixin
    >>> class Smoothing(ParamsMixin):
    ...     def __init__(self, width=1.0, kind="box"):
    ...         self.width = width
    ...         self.kind = kind
    >>> Smoothing(width=2.0)
    Smoothing(width=2.0)
    >>> Smoothing().set_params(kind="gauss").get_params()
    {'kind': 'gauss', 'width': 1.0}
    """

    @classmethod
    def _get_param_names(cls):
        return list(_init_parameter_names(cls.__init__))

    def get_params(self, deep=True):
        """Hyper-parameters of the object, as a dict.

        With ``deep``, the parameters of a parameter that has ``get_params``
        too, as ``name__param``.
        """
        out = {}
        for name in self._get_param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                for key, sub in value.get_params().items():
                    out[f"{name}__{key}"] = sub
            out[name] = value
        return out

    def set_params(self, **params):
        """Set hyper-parameters (``name=value``, ``name__param=value``); returns
        self."""
        valid = self._get_param_names()
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if name not in valid:
                raise ValueError(f"{type(self).__name__} has no parameter {name!r}; "
                                 f"its parameters are {valid}.")
            if sub:
                getattr(self, name).set_params(**{sub: value})
            else:
                setattr(self, name, value)
        return self

    def __repr__(self):
        signature = inspect.signature(type(self).__init__)
        shown = []
        for name in self._get_param_names():
            value = getattr(self, name)
            if not _is_default(value, signature.parameters[name].default):
                shown.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"


def _is_default(value, default):
    if value is default:
        return True
    try:
        return bool(value == default)
    except (ValueError, TypeError, RuntimeError):  # arrays, tensors
        return False


def resolve_components(estimator, params, registries):
    """``params`` for ``set_params``, with components given by name made objects.

    ``set_params(penalty__alpha=0.1)`` on an estimator whose ``penalty`` is
    the name ``"l21"`` (or ``set_params(weighting="nash",
    weighting__update_every=5)``) must reach an object: the name (or class,
    or None for a default) becomes the object it stands for, with its
    default parameters, before scikit-learn's ``set_params`` sets the
    ``name__param`` values on it.

    Parameters
    ----------
    estimator : object
        The estimator whose ``set_params`` is called.
    params : dict
        The arguments of ``set_params``.
    registries : dict
        ``{parameter name: (registry, default name)}``: how each component
        parameter resolves (see :meth:`Registry.build`).

    Returns
    -------
    params : dict
        ``params``, with a component set in the same call replaced by its
        object; a component already set on ``estimator`` is replaced there.
    """
    params = dict(params)
    for name, (registry, default) in registries.items():
        if not any(key.startswith(name + "__") for key in params):
            continue
        value = params[name] if name in params else getattr(estimator, name)
        if hasattr(value, "set_params") and not isinstance(value, type):
            continue
        built = registry.build(value, default=default)
        if name in params:
            params[name] = built
        else:
            setattr(estimator, name, built)
    return params
