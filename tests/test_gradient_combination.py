"""Gradient combinations on the Gram matrix against brute force and definitions."""

import itertools

import numpy as np
import pytest
from scipy.optimize import minimize

from skmtl.utils._gradient_combination import (
    cagrad_weights,
    min_norm_weights,
    nash_weights,
    pcgrad_weights,
    project_simplex,
)


def _brute_force_min_norm(J):
    """Exact min-norm point of conv(J) by enumerating supports (KKT check)."""
    G = J @ J.T
    n = len(J)
    best = None
    for size in range(1, n + 1):
        for S in itertools.combinations(range(n), size):
            S = list(S)
            system = np.zeros((size + 1, size + 1))
            system[:size, :size] = G[np.ix_(S, S)]
            system[:size, size] = system[size, :size] = 1
            rhs = np.r_[np.zeros(size), 1.0]
            alpha = np.linalg.lstsq(system, rhs, rcond=None)[0][:size]
            if np.any(alpha < -1e-12):
                continue
            w = np.zeros(n)
            w[S] = alpha
            x = w @ J
            if np.all(J @ x >= x @ x - 1e-9):
                norm = x @ x
                if best is None or norm < best[0] - 1e-12:
                    best = (norm, w)
    return best


@pytest.mark.parametrize("seed", range(8))
def test_min_norm_matches_brute_force_and_is_a_common_descent_direction(seed):
    rng = np.random.RandomState(seed)
    n_tasks, n_params = rng.randint(2, 7), rng.randint(2, 9)
    J = rng.randn(n_tasks, n_params) + rng.randn(n_params) * (seed % 2)
    w = min_norm_weights(J @ J.T)
    assert np.all(w >= 0) and w.sum() == pytest.approx(1.0)
    d = w @ J
    norm, _ = _brute_force_min_norm(J)
    assert d @ d == pytest.approx(norm, abs=1e-10)
    if d @ d > 1e-10:
        # Every task decreases along d: <g_k, d> >= ||d||^2 > 0.
        assert np.all(J @ d >= d @ d - 1e-8)


def test_min_norm_two_tasks_closed_form_and_degenerate_cases():
    g1, g2 = np.array([1.0, 0.0]), np.array([-0.5, 1.0])
    J = np.vstack([g1, g2])
    alpha = (g2 - g1) @ g2 / np.sum((g1 - g2) ** 2)
    np.testing.assert_allclose(min_norm_weights(J @ J.T), [alpha, 1 - alpha])
    opposite = np.array([[1.0, 0.0], [-2.0, 0.0]])
    w = min_norm_weights(opposite @ opposite.T)
    np.testing.assert_allclose(w @ opposite, 0.0, atol=1e-12)  # Pareto stationary
    np.testing.assert_allclose(min_norm_weights(np.zeros((3, 3))).sum(), 1.0)
    with pytest.raises(ValueError, match="not finite"):
        min_norm_weights(np.array([[np.nan]]))


def _pcgrad_vectors(J, order):
    out = np.zeros(J.shape[1])
    for i in range(len(J)):
        g = J[i].copy()
        for j in order:
            if j != i and g @ J[j] < 0:
                g -= g @ J[j] / (J[j] @ J[j]) * J[j]
        out += g
    return out


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


def test_project_simplex_is_the_euclidean_projection():
    rng = np.random.RandomState(0)
    for _ in range(5):
        v = rng.randn(5) * 2
        p = project_simplex(v)
        assert np.all(p >= 0) and p.sum() == pytest.approx(1.0)
        for _ in range(20):
            q = project_simplex(rng.randn(5))
            assert np.linalg.norm(v - p) <= np.linalg.norm(v - q) + 1e-12


def test_nash_mtl_weights_solve_the_equations_on_the_raw_gram_matrix():
    from skmtl import Task
    from skmtl.neural.weighting import NashMTL

    strategy = NashMTL().initialize([Task("a"), Task("b")])
    # G = diag(4, 1): alpha = 1 / ||g_k||, not the weights of G / ||G||_F
    np.testing.assert_allclose(strategy._combination(np.diag([4.0, 1.0])),
                               [0.5, 1.0], rtol=1e-8)
    rng = np.random.RandomState(0)
    for _ in range(20):
        K = rng.randint(2, 6)
        J = rng.randn(K, 12) * 10.0 ** rng.uniform(-3, 3, size=(K, 1))
        G = J @ J.T
        alpha = strategy._combination(G)
        np.testing.assert_allclose(alpha * (G @ alpha), 1.0, atol=1e-4)
        # scale-free: scaling one task's loss by c divides its weight by c
        c = np.ones(K)
        c[0] = 100.0
        scaled = strategy._combination(G * np.outer(c, c))
        np.testing.assert_allclose(scaled * c, alpha, rtol=1e-5)
