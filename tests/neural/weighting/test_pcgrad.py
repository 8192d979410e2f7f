"""Tests of skmtl/neural/weighting/_pcgrad.py."""

import numpy as np
import pytest
import torch
from weighting_problems import _conflicting_problem, _one_step, _pcgrad_vectors

from skmtl.neural.weighting import PCGrad
from skmtl.neural.weighting._pcgrad import pcgrad_weights


@pytest.mark.parametrize("architecture", ["hard", "mmoe"])
def test_pcgrad_on_conflicting_gradients_leaves_no_conflict_in_the_network_grad(
        architecture):
    # HardSharing exposes its representation (one pass per task through the
    # trunk, batched); MMoE does not (one full backward pass per task)
    X, Y = _conflicting_problem()
    _, d, J = _one_step(PCGrad(), X, Y, architecture=architecture)
    g1, g2 = J
    assert g1 @ g2 < 0  # the problem does conflict
    assert d @ g1 >= -1e-6 * np.linalg.norm(g1) ** 2
    assert d @ g2 >= -1e-6 * np.linalg.norm(g2) ** 2
    # PCGrad's direction with two tasks, by hand
    expected = (g1 - (g1 @ g2) / (g2 @ g2) * g2) + (g2 - (g1 @ g2) / (g1 @ g1) * g1)
    np.testing.assert_allclose(d, expected, rtol=1e-4, atol=1e-7)


def test_pcgrad_on_aligned_gradients_is_their_sum():
    X, Y = _conflicting_problem(aligned=True)
    net, d, J = _one_step(PCGrad(), X, Y)
    assert J[0] @ J[1] > 0
    np.testing.assert_allclose(d, J.sum(0), rtol=1e-5, atol=1e-8)
    # each head kept its own task's gradient
    module = net.module_
    for head, own in zip(module.heads, module.own_head_grads):
        for param, grad in zip(head.parameters(), own):
            torch.testing.assert_close(param.grad, grad)


def test_pcgrad_on_conflicting_and_aligned_gradients():
    J = np.array([[1.0, 0.2], [-1.0, 0.5]])
    d = pcgrad_weights(J @ J.T) @ J
    assert np.all(J @ d >= -1e-12)
    # projected: each loses its component along the other
    np.testing.assert_allclose(d, _pcgrad_vectors(J, [0, 1]))
    aligned = np.array([[1.0, 2.0], [0.5, 0.1]])
    np.testing.assert_allclose(pcgrad_weights(aligned @ aligned.T) @ aligned,
                               aligned.sum(axis=0))


@pytest.mark.parametrize("seed", range(5))
def test_pcgrad_weights_equal_vector_surgery(seed):
    rng = np.random.RandomState(seed)
    J = rng.randn(5, 7)
    order = rng.permutation(5)
    np.testing.assert_allclose(pcgrad_weights(J @ J.T, order) @ J,
                               _pcgrad_vectors(J, order), atol=1e-12)
