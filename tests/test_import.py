"""``import skmtl`` stays light: no torch, no matplotlib."""

import subprocess
import sys


def test_import_skmtl_does_not_import_torch_or_matplotlib():
    code = ("import sys, skmtl, skmtl.metrics, skmtl.datasets, skmtl.tasks; "
            "heavy = [m for m in ('torch', 'matplotlib', 'skorch') "
            "if m in sys.modules]; print(heavy)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_public_names_are_exported():
    import skmtl

    for name in skmtl.__all__:
        assert hasattr(skmtl, name), name


def _module_graph():
    """``{module: modules it imports}`` within skmtl, from every import statement.

    Function-level (lazy) imports count: they hide a circle from the import
    system, not from the design. ``from package import name`` points at the
    submodule ``package.name`` when there is one, else at the package.
    """
    import ast
    from pathlib import Path

    import skmtl

    root = Path(skmtl.__file__).parent
    modules = {}
    for path in root.rglob("*.py"):
        parts = ("skmtl",) + path.relative_to(root).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        modules[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    graph = {}
    for name, (path, is_package) in modules.items():
        package = name if is_package else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[:len(package.split(".")) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                for alias in node.names:
                    sub = f"{source}.{alias.name}"
                    targets.add(sub if sub in modules else source)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def _cycles(graph):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_cycle_finder_finds_a_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_modules_import_in_one_direction():
    graph = _module_graph()
    assert "skmtl.metrics._scorer" in graph and "skmtl.linear._cd" in graph
    assert "skmtl.metrics" in graph["skmtl.base"]  # lazy imports are seen
    assert _cycles(graph) == []
