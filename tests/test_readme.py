"""README.rst: its quick start prints what the README says it prints."""

import contextlib
import io
import re
import textwrap
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.rst").read_text()
NUMBER = re.compile(r"-?\d+\.?\d*(?:e[-+]?\d+)?")


def _indented_block(text, start):
    """The indented block that follows ``text[start:]``'s first blank line."""
    lines = text[start:].split("\n")[1:]
    block = []
    for line in lines:
        if line and not line.startswith("    "):
            break
        block.append(line)
    return textwrap.dedent("\n".join(block)).strip("\n")


def quick_start_pairs():
    """(code, expected output) of every code block followed by "prints"."""
    pairs = []
    for match in re.finditer(r"\.\. code-block:: python\n", README):
        code = _indented_block(README, match.start())
        after = README[match.end():]
        printed = re.search(r"It prints[^\n]*::\n", after)
        assert printed, "a quick-start block without its output"
        output = _indented_block(after, printed.start())
        pairs.append((code, output))
    return pairs


def _same_output(actual, expected):
    """Equal text, and numbers equal to the printed precision (1e-3 relative)."""
    if NUMBER.sub("#", actual).split() != NUMBER.sub("#", expected).split():
        return False
    got = np.array(NUMBER.findall(actual), dtype=float)
    want = np.array(NUMBER.findall(expected), dtype=float)
    return got.shape == want.shape and np.allclose(got, want, rtol=1e-3, atol=1e-3)


def test_readme_has_quick_start_with_outputs():
    assert len(quick_start_pairs()) == 2


@pytest.mark.parametrize("index", range(2))
def test_quick_start_prints_what_the_readme_shows(index):
    pytest.importorskip("pandas")
    code, expected = quick_start_pairs()[index]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, f"README block {index}", "exec"), {})
    assert _same_output(out.getvalue(), expected), out.getvalue()


def test_output_comparison_can_fail():
    assert _same_output("R² = 0.677 ± 0.059", "R² = 0.677 ± 0.059")
    assert not _same_output("R² = 0.600 ± 0.059", "R² = 0.677 ± 0.059")
    assert not _same_output("R2 = 0.677 ± 0.059", "R² = 0.677 ± 0.059")


def test_readme_picture_exists_and_is_small():
    images = re.findall(r"\.\. image:: (\S+)", README)
    assert images
    for image in images:
        path = ROOT / image
        assert path.is_file(), image
        assert path.stat().st_size < 200_000, image
