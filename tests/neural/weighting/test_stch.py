"""Tests of skmtl/neural/weighting/_stch.py."""

import numpy as np
import pytest
import torch

from skmtl import Task
from skmtl.neural.weighting import STCH


def test_stch_tends_to_the_maximum_and_its_gradient_is_its_weights():
    losses = torch.tensor([1.0, 3.0, 2.5])
    tasks = [Task("a"), Task("b"), Task("c")]
    values = [float(STCH(mu=mu, normalization="none").initialize(tasks)
                    .combine(losses)) for mu in (1.0, 0.1, 0.01, 0.001)]
    assert values[0] > values[1] > values[2] >= values[3] >= 3.0 - 1e-6
    assert values[3] == pytest.approx(3.0, abs=1e-3)
    # normalized by the first losses: the same value on every task at first
    strategy = STCH(mu=0.5).initialize(tasks)
    x = torch.tensor([1.0, 3.0, 2.5], requires_grad=True)
    value = strategy.combine(x)
    assert value.item() == pytest.approx(1.0 + 0.5 * np.log(3))
    value.backward()
    np.testing.assert_allclose(x.grad.numpy(), [1 / 3, 1 / 9, 1 / 7.5], rtol=1e-5)
    np.testing.assert_allclose(strategy.weights(), x.grad.numpy(), rtol=1e-5)
