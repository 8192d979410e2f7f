"""Tests of skmtl/neural/weighting/_config.py."""

import numpy as np
import pytest
import torch
from weighting_problems import _jacobians

from skmtl.neural.weighting._config import config_weights


@pytest.mark.parametrize("seed", range(5))
def test_config_has_equal_cosines_and_matches_torchjd(seed):
    J = _jacobians(seed)
    d = config_weights(J @ J.T) @ J
    cosines = J @ d / np.linalg.norm(J, axis=1) / np.linalg.norm(d)
    np.testing.assert_allclose(cosines, cosines[0], rtol=1e-6)
    assert cosines[0] > 0  # conflicts with no task
    # its length is the sum of the gradients' projections onto it
    unit = d / np.linalg.norm(d)
    assert np.linalg.norm(d) == pytest.approx(np.sum(J @ unit))
    aggregation = pytest.importorskip("torchjd.aggregation")
    expected = aggregation.ConFIG()(torch.as_tensor(J)).numpy()
    np.testing.assert_allclose(d, expected, rtol=1e-5)
