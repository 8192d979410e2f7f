"""Tests of skmtl/neural/weighting/_gls.py."""

import numpy as np
import pytest
import torch

from skmtl import Task
from skmtl.neural.weighting import GLS


def test_gls_gradient_is_that_of_the_geometric_mean():
    losses = torch.tensor([0.5, 2.0, 4.0], requires_grad=True)
    strategy = GLS().initialize([Task("a"), Task("b"), Task("c")])
    value = strategy.combine(losses)
    assert value.item() == pytest.approx((0.5 * 2.0 * 4.0) ** (1 / 3))
    value.backward()
    reference = torch.tensor([0.5, 2.0, 4.0], requires_grad=True)
    reference.prod().pow(1 / 3).backward()
    torch.testing.assert_close(losses.grad, reference.grad)
    np.testing.assert_allclose(strategy.weights(), reference.grad.numpy(), rtol=1e-6)
