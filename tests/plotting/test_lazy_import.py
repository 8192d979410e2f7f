"""Importing skmtl, its plots and its data sets does not import matplotlib."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_does_not_load_matplotlib():
    code = ("import sys, skmtl, skmtl.plotting, skmtl.datasets\n"
            "loaded = [m for m in ('matplotlib', 'palmerpenguins', 'torch') "
            "if m in sys.modules]\n"
            "assert not loaded, loaded\n"
            "from skmtl.plotting import CoefficientHeatmapDisplay\n"
            "assert 'matplotlib' not in sys.modules\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_drawing_loads_matplotlib():
    code = ("import sys, numpy as np, matplotlib\n"
            "matplotlib.use('Agg')\n"
            "from skmtl.plotting import TaskSimilarityDisplay\n"
            "TaskSimilarityDisplay(np.eye(2)).plot()\n"
            "assert 'matplotlib.pyplot' in sys.modules\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
