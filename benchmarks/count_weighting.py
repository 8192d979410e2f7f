"""Size of the weighting strategies' code, at a git revision: a table of counts.

Counts, over ``skmtl/neural/weighting/`` and the Gram kernels (which lived in
``skmtl/utils/_gradient_combination.py`` before they moved beside the
strategies): files, classes, methods, module-level functions and lines; the
hand-written ``to()`` methods; the ``_RunningMean(`` constructions; the
backward passes that compute a task Jacobian (``task_jacobian(`` calls).

Usage::

    python benchmarks/count_weighting.py REV [REV ...]

e.g. ``python benchmarks/count_weighting.py 089d7fc HEAD`` (run from the
repository root).
"""

import ast
import subprocess
import sys

PATHS = ("skmtl/neural/weighting/", "skmtl/utils/_gradient_combination.py")


def _files(rev):
    out = subprocess.run(["git", "ls-tree", "-r", "--name-only", rev, "--", *PATHS],
                         capture_output=True, text=True, check=True).stdout
    return [f for f in out.split() if f.endswith(".py")]


def _source(rev, path):
    return subprocess.run(["git", "show", f"{rev}:{path}"], capture_output=True,
                          text=True, check=True).stdout


def counts(rev):
    row = dict(files=0, classes=0, methods=0, functions=0, lines=0, to_methods=0,
               running_means=0, jacobian_calls=0)
    for path in _files(rev):
        text = _source(rev, path)
        tree = ast.parse(text)
        row["files"] += 1
        row["lines"] += len(text.splitlines())
        row["running_means"] += text.count("_RunningMean(") - text.count(
            "class _RunningMean(")
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                row["classes"] += 1
                for item in node.body:
                    if isinstance(item, ast.FunctionDef):
                        row["methods"] += 1
                        row["to_methods"] += item.name == "to"
            elif isinstance(node, ast.FunctionDef):
                row["functions"] += 1
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "task_jacobian"):
                row["jacobian_calls"] += 1
    return row


def main(revs):
    rows = {rev: counts(rev) for rev in revs}
    keys = list(next(iter(rows.values())))
    print("| revision | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for rev, row in rows.items():
        print(f"| {rev} | " + " | ".join(str(row[k]) for k in keys) + " |")


if __name__ == "__main__":
    main(sys.argv[1:] or ["HEAD"])
