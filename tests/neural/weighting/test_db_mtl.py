"""Tests of skmtl/neural/weighting/_db_mtl.py."""

import numpy as np
from weighting_problems import _conflicting, _step

from skmtl.neural.weighting import DBMTL


def test_db_mtl_balances_the_log_loss_gradients_to_the_largest_norm():
    X, Y = _conflicting(seed=2)
    _, d, J, L = _step(DBMTL(), X, Y)
    logs = J / L[:, None]  # first step: the average is the current gradient
    norms = np.linalg.norm(logs, axis=1)
    np.testing.assert_allclose(d, (norms.max() / norms) @ logs, rtol=1e-4,
                               atol=1e-8)
