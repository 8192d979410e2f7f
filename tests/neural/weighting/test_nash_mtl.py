"""Tests of skmtl/neural/weighting/_nash_mtl.py."""

import numpy as np
import pytest
import torch
from weighting_problems import _conflicting_problem, _one_step

from skmtl import Task
from skmtl.neural.weighting import NashMTL
from skmtl.neural.weighting._nash_mtl import nash_weights


def test_nash_mtl_gains_are_inverse_to_the_weights():
    X, Y = _conflicting_problem(seed=3)
    net, d, J = _one_step(NashMTL(), X, Y)
    alpha = net.weighting_.alpha_.numpy()
    assert np.all(alpha > 0)
    np.testing.assert_allclose(d, alpha @ J, rtol=1e-5, atol=1e-8)
    gains = J @ d  # each task's gain along d, on the raw Gram matrix
    np.testing.assert_allclose(gains * alpha, 1.0, rtol=1e-4)
    # the heads are trained on sum_k alpha_k L_k too
    module = net.module_
    for a, head, own in zip(alpha, module.heads, module.own_head_grads):
        for param, grad in zip(head.parameters(), own):
            torch.testing.assert_close(param.grad, a * grad)


@pytest.mark.parametrize("seed", range(5))
def test_nash_weights_solve_the_bargaining_equations(seed):
    rng = np.random.RandomState(seed)
    J = rng.randn(4, 8) + 0.3
    G = J @ J.T
    alpha = nash_weights(G)
    assert np.all(alpha > 0)
    np.testing.assert_allclose(G @ alpha, 1 / alpha, rtol=1e-6)


def test_nash_weights_of_orthogonal_gradients_are_inverse_norms():
    J = np.diag([2.0, 0.5, 4.0])
    np.testing.assert_allclose(nash_weights(J @ J.T), [0.5, 2.0, 0.25], rtol=1e-8)


def test_nash_mtl_weights_solve_the_equations_on_the_raw_gram_matrix():
    from skmtl.neural.weighting import NashMTL

    strategy = NashMTL().initialize([Task("a"), Task("b")])
    # G = diag(4, 1): alpha = 1 / ||g_k||, not the weights of G / ||G||_F
    np.testing.assert_allclose(strategy.gram_weights(np.diag([4.0, 1.0])),
                               [0.5, 1.0], rtol=1e-8)
    rng = np.random.RandomState(0)
    for _ in range(20):
        K = rng.randint(2, 6)
        J = rng.randn(K, 12) * 10.0 ** rng.uniform(-3, 3, size=(K, 1))
        G = J @ J.T
        alpha = strategy.gram_weights(G)
        np.testing.assert_allclose(alpha * (G @ alpha), 1.0, atol=1e-4)
        # scale-free: scaling one task's loss by c divides its weight by c
        c = np.ones(K)
        c[0] = 100.0
        scaled = strategy.gram_weights(G * np.outer(c, c))
        np.testing.assert_allclose(scaled * c, alpha, rtol=1e-5)
