"""Tests of skmtl/neural/weighting/_rlw.py."""

import numpy as np
import pytest
import torch

from skmtl import Task
from skmtl.neural.weighting import RLW


def test_rlw_weights_are_random_on_the_simplex_scaled_by_the_number_of_tasks():
    tasks = [Task("a"), Task("b"), Task("c")]
    for distribution in ("normal", "uniform", "dirichlet"):
        strategy = RLW(distribution).initialize(tasks)
        torch.manual_seed(0)
        draws = []
        for _ in range(200):
            strategy.combine(torch.ones(3))
            draws.append(strategy._weights_sum.clone())
        steps = torch.diff(torch.stack(draws), dim=0).numpy()
        np.testing.assert_allclose(steps.sum(1), 3.0, rtol=1e-5)
        assert steps.min() >= 0 and steps.std(0).min() > 0.1
        np.testing.assert_allclose(strategy.weights(), 1.0, atol=0.2)
    with pytest.raises(ValueError, match="RLW: distribution"):
        RLW("cauchy").initialize(tasks)
