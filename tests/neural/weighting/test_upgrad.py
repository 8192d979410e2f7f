"""Tests of skmtl/neural/weighting/_upgrad.py."""

import sys

import numpy as np
import pytest
import torch
from weighting_problems import _conflicting_problem, _one_step

from skmtl import Task
from skmtl.neural.weighting import UPGrad


def test_upgrad_matches_torchjd_and_conflicts_with_no_task():
    torchjd_aggregation = pytest.importorskip("torchjd.aggregation")
    pytest.importorskip("quadprog")
    X, Y = _conflicting_problem(seed=1)
    _, d, J = _one_step(UPGrad(), X, Y)
    expected = torchjd_aggregation.UPGrad()(torch.as_tensor(J)).numpy()
    np.testing.assert_allclose(d, expected, rtol=1e-4, atol=1e-7)
    assert np.all(J @ d >= -1e-6 * np.max(J @ J.T))


def test_upgrad_without_torchjd_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "torchjd.aggregation", None)
    with pytest.raises(ImportError, match=r"skmtl\[weighting\]"):
        UPGrad().initialize([Task("a"), Task("b")])
