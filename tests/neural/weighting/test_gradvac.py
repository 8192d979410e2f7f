"""Tests of skmtl/neural/weighting/_gradvac.py."""

import numpy as np
import pytest

from skmtl.neural.weighting._gradvac import gradvac_weights
from skmtl.neural.weighting._pcgrad import pcgrad_weights


def test_gradvac_sets_a_low_cosine_to_its_target_and_updates_the_target():
    J = np.array([[1.0, 0.0], [-0.5, 1.0]])  # cosine -0.447
    targets = np.full((2, 2), 0.3)
    w = gradvac_weights(J @ J.T, targets, beta=0.25)
    g1 = J[0] + (w[1] - 1) * J[1]  # task 0's corrected gradient
    assert g1 @ J[1] / np.linalg.norm(g1) / np.linalg.norm(J[1]) == pytest.approx(0.3)
    assert targets[0, 1] == pytest.approx(0.75 * 0.3 + 0.25 * (-0.5 / np.sqrt(1.25)))
    # with targets at 0 on a conflicting pair it is PCGrad's projection

    zero = np.zeros((2, 2))
    np.testing.assert_allclose(gradvac_weights(J @ J.T, zero, beta=0.0),
                               pcgrad_weights(J @ J.T), rtol=1e-6)
