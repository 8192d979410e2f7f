"""Every public name has a written docstring: numpydoc sections, not assembled text.

A docstring built by string concatenation or ``.format`` is not a docstring to
Python (the class's ``__doc__`` silently becomes None) and cannot be read in the
source; these tests fail on either.
"""

import ast
import dataclasses
import importlib
import inspect
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "skmtl"
MODULES = ["skmtl", "skmtl.linear", "skmtl.neural", "skmtl.neural.weighting",
           "skmtl.metrics", "skmtl.model_selection", "skmtl.datasets",
           "skmtl.plotting", "skmtl.utils"]


def _public_objects():
    seen = {}
    for name in MODULES:
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", ()):
            obj = getattr(module, attr)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                seen.setdefault(f"{obj.__module__}.{obj.__qualname__}", obj)
    return sorted(seen.items())


PUBLIC = _public_objects()


def _takes_parameters(obj):
    target = obj.__init__ if inspect.isclass(obj) else obj
    if target is object.__init__:
        return False
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return False
    return any(p.name not in ("self", "args", "kwargs")
               for p in signature.parameters.values())


def test_the_public_api_is_walked():
    names = {name.rsplit(".", 1)[1] for name, _ in PUBLIC}
    assert {"MultiTaskLinearRegressor", "MultiTaskLinearRegressorCV",
            "MultiTaskEstimator", "masked_r2_score", "GradNorm"} <= names


@pytest.mark.parametrize("name, obj", PUBLIC, ids=[name for name, _ in PUBLIC])
def test_public_name_has_a_docstring(name, obj):
    doc = obj.__dict__.get("__doc__") if inspect.isclass(obj) else obj.__doc__
    assert isinstance(doc, str) and doc.strip(), f"{name} has no docstring"
    summary = doc.strip().splitlines()[0]
    assert summary.strip(), f"{name}: the docstring has no one-line summary"
    if _takes_parameters(obj):
        # A dataclass documents its generated constructor's fields as Attributes.
        sections = (("Parameters\n", "Attributes\n") if dataclasses.is_dataclass(obj)
                    else ("Parameters\n",))
        assert any(s in inspect.cleandoc(doc) for s in sections), \
            f"{name} takes parameters but its docstring has no Parameters section"


def _first_statements(tree):
    """Each module, class and function with its first statement."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef,
                             ast.Module)) and node.body:
            yield node, node.body[0]


def _is_assembled_docstring(statement):
    """A first statement that computes a multi-line string: ``+``, ``.format``
    or an f-string, which Python does not take as a docstring."""
    if not (isinstance(statement, ast.Expr)
            and isinstance(statement.value, ast.BinOp | ast.Call | ast.JoinedStr)):
        return False
    return any(isinstance(n, ast.Constant) and isinstance(n.value, str)
               and "\n" in n.value for n in ast.walk(statement.value))


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")),
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_docstrings_are_written_not_assembled(path):
    tree = ast.parse(path.read_text())
    assembled = [getattr(node, "name", "<module>")
                 for node, first in _first_statements(tree)
                 if _is_assembled_docstring(first)]
    for node in ast.walk(tree):
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, ast.AugAssign) else [])
        for target in targets:
            if isinstance(target, ast.Attribute) and target.attr == "__doc__":
                assembled.append(f"line {node.lineno}: assigns __doc__")
    assert not assembled, f"{path.name}: docstrings assembled at run time: {assembled}"
