"""Tests of skmtl/neural/weighting/_fairgrad.py."""

import numpy as np
import pytest
from weighting_problems import _jacobians

from skmtl.neural.weighting._fairgrad import fairgrad_weights
from skmtl.neural.weighting._nash_mtl import nash_weights


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0, 5.0])
def test_fairgrad_solves_the_alpha_fair_equations(alpha):
    for seed in range(3):
        J = _jacobians(seed)
        G = J @ J.T
        w = fairgrad_weights(G, alpha=alpha)
        assert np.all(w > 0)
        np.testing.assert_allclose(G @ w, w ** (-1 / alpha), rtol=1e-4)
    np.testing.assert_allclose(fairgrad_weights(G, 1.0), nash_weights(G))
    with pytest.raises(ValueError, match="alpha must be > 0"):
        fairgrad_weights(G, 0.0)
