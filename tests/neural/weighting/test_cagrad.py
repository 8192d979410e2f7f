"""Tests of skmtl/neural/weighting/_cagrad.py."""

import numpy as np
import pytest
from scipy.optimize import minimize
from weighting_problems import _conflicting_problem, _one_step

from skmtl.neural.weighting import (
    CAGrad,
)
from skmtl.neural.weighting._cagrad import cagrad_weights, project_simplex


def test_cagrad_with_zero_radius_is_the_average_gradient():
    X, Y = _conflicting_problem()
    _, d, J = _one_step(CAGrad(c=0.0), X, Y)
    np.testing.assert_allclose(d, J.mean(0), rtol=1e-5, atol=1e-8)
    _, d, J = _one_step(CAGrad(c=0.4), X, Y)
    assert not np.allclose(d, J.mean(0))
    # the worst task improves more than along the average gradient
    g0 = J.mean(0)
    assert np.min(J @ d) > np.min(J @ g0) / (1 + 0.4 ** 2)


@pytest.mark.parametrize("seed", range(5))
def test_cagrad_solves_its_inner_problem(seed):
    rng = np.random.RandomState(seed)
    J = rng.randn(4, 6) + 0.5
    G = J @ J.T
    c = 0.5
    g0 = J.mean(axis=0)
    sqrt_phi = c * np.linalg.norm(g0)

    def objective(w):
        gw = w @ J
        return gw @ g0 + sqrt_phi * np.linalg.norm(gw)

    best = min((minimize(objective, project_simplex(rng.rand(4)), method="SLSQP",
                         bounds=[(0, 1)] * 4,
                         constraints={"type": "eq", "fun": lambda w: w.sum() - 1})
                for _ in range(10)), key=lambda r: r.fun)
    weights = cagrad_weights(G, c, rescale=False)
    # Recover w from weights = 1/K + sqrt(phi) / ||g_w|| * w (w sums to one).
    w = (weights - 0.25) / (weights - 0.25).sum()
    assert objective(w) <= best.fun + 1e-6
    d = weights @ J
    # the worst-task improvement is at least that of the average gradient
    assert np.min(J @ d) >= np.min(J @ g0) - 1e-9
    np.testing.assert_allclose(cagrad_weights(G, 0.0), np.full(4, 0.25))
    np.testing.assert_allclose(cagrad_weights(G, c), weights / (1 + c ** 2))


def test_project_simplex_is_the_euclidean_projection():
    rng = np.random.RandomState(0)
    for _ in range(5):
        v = rng.randn(5) * 2
        p = project_simplex(v)
        assert np.all(p >= 0) and p.sum() == pytest.approx(1.0)
        for _ in range(20):
            q = project_simplex(rng.randn(5))
            assert np.linalg.norm(v - p) <= np.linalg.norm(v - q) + 1e-12
