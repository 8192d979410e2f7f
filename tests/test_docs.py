"""The documentation: its code samples run, and the site builds with -W.

The Sphinx build is skipped when Sphinx and its extensions are not installed
(the ``docs`` extra); it does not run the gallery (``plot_gallery=0``).
"""

import doctest
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUIDE = sorted((ROOT / "doc" / "user_guide").glob("*.rst"))


@pytest.mark.filterwarnings("ignore:Scoring failed:UserWarning")
@pytest.mark.parametrize("page", GUIDE, ids=lambda p: p.name)
def test_user_guide_code_samples_run(page):
    if "load_penguins" in page.read_text():
        pytest.importorskip("palmerpenguins")
    result = doctest.testfile(
        str(page), module_relative=False, verbose=False, report=True,
        optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} code sample(s) of {page.name} fail"


def test_guide_pages_are_in_a_toctree():
    index = (ROOT / "doc" / "user_guide" / "index.rst").read_text()
    listed = {line.strip() for line in index.splitlines()}
    missing = [p.stem for p in GUIDE if p.stem != "index" and p.stem not in listed]
    assert not missing


def test_sphinx_build_without_gallery(tmp_path):
    for module in ("sphinx", "numpydoc", "sphinx_gallery", "pydata_sphinx_theme"):
        pytest.importorskip(module)
    pytest.importorskip("matplotlib")
    # Build a copy so that the generated pages do not land in the checkout.
    shutil.copytree(ROOT / "doc", tmp_path / "doc",
                    ignore=shutil.ignore_patterns("_build", "generated",
                                                  "auto_examples"))
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    shutil.copy(ROOT / "CHANGES.rst", tmp_path / "CHANGES.rst")
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    out = tmp_path / "html"
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going",
         "-q", "-D", "plot_gallery=0", str(tmp_path / "doc"), str(out)],
        capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    for page in ("index.html", "api.html", "user_guide/metrics.html",
                 "generated/skmtl.plotting.PerTaskScoreDisplay.html",
                 "generated/skmtl.datasets.fetch_school.html",
                 "auto_examples/plot_baselines_and_scorers.html",
                 "user_guide/neural.html", "user_guide/architectures.html",
                 "generated/skmtl.neural.MultiTaskEstimator.html",
                 "generated/skmtl.neural.MMoE.html",
                 "generated/skmtl.datasets.make_digit_localization.html",
                 "auto_examples/plot_schools_linear_mtl.html"):
        assert (out / page).is_file(), page
    api = (out / "generated" / "skmtl.SingleTaskBaseline.html").read_text()
    assert "get_params" in api and "set_fit_request" not in api
    # torch modules list their own members, not the whole nn.Module API.
    mmoe = (out / "generated" / "skmtl.neural.MMoE.html").read_text()
    assert "shared_parameters" in mmoe and "register_forward_hook" not in mmoe
