"""No module reads another module's private attribute.

A module may use ``obj._name`` only where it defines ``_name`` itself (a
method, a class attribute or a ``self._name = ...``): a private name is a
module's own business, and reaching into another module's is how values
end up with two owners.
"""

import ast
from pathlib import Path

import skmtl


def _private_names_defined(tree):
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name):
                        names.add(sub.id)
                    elif isinstance(sub, ast.Attribute):
                        names.add(sub.attr)
    return {n for n in names if n.startswith("_") and not n.startswith("__")}


def _foreign_private_reads(path):
    tree = ast.parse(path.read_text())
    own = _private_names_defined(tree)
    imported_modules = {alias.asname or alias.name.split(".")[0]
                        for node in ast.walk(tree) if isinstance(node, ast.Import)
                        for alias in node.names}
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and node.attr.startswith("_")
                and not node.attr.startswith("__")):
            continue
        value = node.value
        if isinstance(value, ast.Name) and value.id in ("self", "cls"):
            continue
        if isinstance(value, ast.Call) and getattr(value.func, "id", None) == "super":
            continue
        if isinstance(value, ast.Name) and value.id in imported_modules:
            continue  # third-party module internals (torch._C, ...) are not ours
        if node.attr not in own:
            found.append(f"{path.name}:{node.lineno}: .{node.attr}")
    return found


def test_no_module_reads_another_modules_private_attribute():
    root = Path(skmtl.__file__).parent
    found = [hit for path in sorted(root.rglob("*.py"))
             for hit in _foreign_private_reads(path)]
    assert found == []


def test_the_check_catches_a_foreign_private_read(tmp_path):
    module = tmp_path / "user.py"
    module.write_text("def f(est):\n    return est._problem(1)\n")
    assert _foreign_private_reads(module) == ["user.py:2: ._problem"]
    module.write_text("class A:\n    def _problem(self):\n        pass\n\n"
                      "def f(est):\n    return est._problem()\n")
    assert _foreign_private_reads(module) == []
