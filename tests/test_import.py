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
