"""One registry helper and one parameter-object base for every named option."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from skmtl import TASK_TYPES
from skmtl.linear import L21, MultiTaskLinearRegressor, TraceNorm
from skmtl.linear._registry import PENALTY_REGISTRY
from skmtl.metrics import METRICS
from skmtl.neural import ARCHITECTURES, TRUNKS, MultiTaskRegressor
from skmtl.neural.weighting import WEIGHTINGS, CAGrad, Fixed, NashMTL
from skmtl.utils import ParamsMixin, Registry, resolve_components


def test_every_registry_of_the_package_is_a_registry():
    for registry in (PENALTY_REGISTRY, WEIGHTINGS, ARCHITECTURES, TRUNKS, TASK_TYPES,
                     METRICS):
        assert isinstance(registry, Registry), registry.kind
        assert isinstance(registry, dict)
        for name in registry.names():
            assert registry.resolve(name) is registry[registry.aliases.get(name, name)]


def test_resolve_lists_every_choice_and_suggests_the_spelling():
    registry = Registry("colour", {"dark_red": 1, "navy_blue": 2},
                        aliases={"navy": "navy_blue"})
    assert registry.resolve("navy") == 2
    with pytest.raises(ValueError, match=r"unknown colour 'Dark-Red' \(did you mean "
                                         r"'dark_red'\?\); valid choices are "
                                         r"'dark_red', 'navy_blue', 'navy'\."):
        registry.resolve("Dark-Red")


def test_register_adds_a_name_and_short_names_and_refuses_a_taken_name():
    registry = Registry("colour", {"red": 1})

    @registry.register("sky_blue", aliases=("sky",))
    class SkyBlue:
        pass

    assert registry["sky_blue"] is SkyBlue and registry.resolve("sky") is SkyBlue
    assert registry.register("sky_blue", SkyBlue) is SkyBlue  # the same: fine
    with pytest.raises(ValueError, match="'red' is taken"):
        registry.register("red", 2)
    with pytest.raises(ValueError, match="short name 'sky' is taken"):
        registry.register("cyan", 3, aliases=("sky",))


def test_build_takes_none_a_name_a_class_or_an_instance():
    assert type(WEIGHTINGS.build(None, default="fixed")) is Fixed
    assert type(WEIGHTINGS.build("nash")) is NashMTL
    assert type(WEIGHTINGS.build(CAGrad)) is CAGrad
    strategy = CAGrad(c=0.1)
    assert WEIGHTINGS.build(strategy) is strategy
    with pytest.raises(TypeError, match="weighting must be None, a name in"):
        WEIGHTINGS.build(3, default="fixed")
    with pytest.raises(TypeError, match="penalty must be a name in"):
        PENALTY_REGISTRY.build(None)
    with pytest.raises(TypeError, match="a Penalty class or object"):
        PENALTY_REGISTRY.build(CAGrad)


class _Smoothing(ParamsMixin):
    def __init__(self, width=1.0, inner=None, pair=(1, 2)):
        self.width = width
        self.inner = inner
        self.pair = pair


@pytest.mark.parametrize("obj, param, value", [
    (_Smoothing(), "width", 2.0),
    (L21(), "alpha", 0.3),
    (CAGrad(), "c", 0.1),
])
def test_penalties_and_strategies_share_one_parameter_protocol(obj, param, value):
    names = obj._get_param_names()
    assert sorted(obj.get_params()) == names
    assert repr(obj) == f"{type(obj).__name__}()"
    assert obj.set_params(**{param: value}) is obj
    assert repr(obj) == f"{type(obj).__name__}({param}={value!r})"
    copy = clone(obj)
    assert type(copy) is type(obj) and copy is not obj
    assert copy.get_params() == obj.get_params()
    with pytest.raises(ValueError, match=rf"{type(obj).__name__} has no parameter "
                                         rf"'nope'; its parameters are "
                                         rf"\{names!r}\."):
        obj.set_params(nope=1)


def test_nested_parameters_are_read_and_set_by_prefix():
    outer = _Smoothing(inner=_Smoothing(width=3.0))
    params = outer.get_params()
    assert params["inner__width"] == 3.0 and params["inner__pair"] == (1, 2)
    assert "inner__width" not in outer.get_params(deep=False)
    outer.set_params(inner__width=4.0)
    assert outer.inner.width == 4.0
    # a default equal by value is not shown; an array is shown
    assert repr(_Smoothing(pair=(1, 2))) == "_Smoothing()"
    assert repr(_Smoothing(pair=np.arange(2))) == "_Smoothing(pair=array([0, 1]))"


@pytest.mark.parametrize("make, name, value, param, expected", [
    (lambda: MultiTaskLinearRegressor(penalty="trace"), "penalty", None, "alpha",
     TraceNorm(alpha=0.5)),
    (lambda: MultiTaskLinearRegressor(), "penalty", "trace", "alpha",
     TraceNorm(alpha=0.5)),
    (lambda: MultiTaskRegressor(weighting="nash"), "weighting", None, "update_every",
     NashMTL(update_every=5)),
    (lambda: MultiTaskRegressor(), "weighting", "cagrad", "c", CAGrad(c=0.5)),
    (lambda: MultiTaskRegressor(), "weighting", None, "task_weights",
     Fixed(task_weights=(1, 2))),
])
def test_a_component_given_by_name_takes_its_parameters_by_prefix(
        make, name, value, param, expected):
    est = make()
    params = {f"{name}__{param}": getattr(expected, param)}
    if value is not None:
        params[name] = value
    est.set_params(**params)
    component = getattr(est, name)
    assert type(component) is type(expected)
    assert component.get_params() == expected.get_params()
    assert est.get_params()[f"{name}__{param}"] == getattr(expected, param)


def test_a_strategy_named_in_a_grid_takes_its_parameters():
    rng = np.random.RandomState(0)
    X = rng.randn(40, 3)
    Y = np.c_[X[:, 0], X[:, 1]]
    search = GridSearchCV(
        MultiTaskRegressor(weighting="nash", hidden_layer_sizes=(4,), max_epochs=1),
        {"weighting__update_every": [1, 3]}, cv=2).fit(X, Y)
    assert search.best_estimator_.weighting.update_every in (1, 3)
    assert search.best_estimator_.net_.weighting_.update_every in (1, 3)


def test_resolve_components_leaves_params_without_a_prefix_alone():
    est = MultiTaskRegressor(weighting="nash")
    assert resolve_components(est, {"lr": 0.1}, {"weighting": (WEIGHTINGS, "fixed")}
                              ) == {"lr": 0.1}
    assert est.weighting == "nash"
