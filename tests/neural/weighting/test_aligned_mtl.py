"""Tests of skmtl/neural/weighting/_aligned_mtl.py."""

import numpy as np
import pytest
from weighting_problems import _jacobians

from skmtl.neural.weighting._aligned_mtl import aligned_mtl_weights


@pytest.mark.parametrize("seed", range(5))
def test_aligned_mtl_aligned_gram_matrix_has_condition_number_one(seed):
    J = _jacobians(seed)
    G = J @ J.T
    lam, V = np.linalg.eigh(G)
    B = np.sqrt(lam.min()) * (V / np.sqrt(lam)) @ V.T
    aligned = B @ G @ B
    assert np.linalg.cond(aligned) == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(np.diag(aligned), lam.min(), rtol=1e-6)
    # the direction is the sum of the aligned gradients
    np.testing.assert_allclose(aligned_mtl_weights(G) @ J, np.ones(3) @ (B @ J),
                               rtol=1e-6, atol=1e-9)
