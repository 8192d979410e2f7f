"""Tests of skmtl/neural/weighting/_mgda.py."""

import numpy as np
import pytest
import torch
from weighting_problems import (
    _brute_force_min_norm,
    _brute_force_min_norm_kkt,
    _conflicting_problem,
    _one_step,
)

from skmtl.neural.weighting import MGDA
from skmtl.neural.weighting._mgda import min_norm_weights


@pytest.mark.parametrize("n_tasks", [2, 3])
def test_mgda_network_grad_is_the_min_norm_point_and_a_common_descent_direction(
        n_tasks):
    rng = np.random.RandomState(n_tasks)
    X = rng.randn(48, 3)
    Y = np.c_[X[:, 0], -X[:, 0] + X[:, 1], X[:, 2] - 0.5 * X[:, 1]][:, :n_tasks]
    _, d, J = _one_step(MGDA(normalization="none"), X, Y)
    np.testing.assert_allclose(d, _brute_force_min_norm(J), rtol=1e-4, atol=1e-7)
    assert np.linalg.norm(d) > 0
    # a common descent direction: d . g_k >= ||d||² > 0 for every task
    assert np.all(J @ d >= (d @ d) * (1 - 1e-4))


@pytest.mark.parametrize("normalization", ["l2", "loss", "loss+"])
def test_normalized_mgda_is_the_min_norm_point_of_the_normalized_gradients(
        normalization):
    X, Y = _conflicting_problem(seed=4)
    Y = Y * [1.0, 5.0]  # task 1's loss is 25 times larger
    net, d, J = _one_step(MGDA(normalization=normalization), X, Y)
    losses, _ = net.get_task_losses(net.infer(torch.as_tensor(X, dtype=torch.float32)),
                                    torch.as_tensor(Y, dtype=torch.float32))
    L = losses.detach().double().numpy()
    norms = np.linalg.norm(J, axis=1)
    n = {"l2": norms, "loss": L, "loss+": L * norms}[normalization]
    best = _brute_force_min_norm(J / n[:, None])
    # the same direction, at the scale mean(n) of the raw gradients
    np.testing.assert_allclose(d, best * n.mean(), rtol=1e-4, atol=1e-7)
    # a common descent direction of every task
    assert np.all(J @ d > 0)


@pytest.mark.parametrize("seed", range(8))
def test_min_norm_matches_brute_force_and_is_a_common_descent_direction(seed):
    rng = np.random.RandomState(seed)
    n_tasks, n_params = rng.randint(2, 7), rng.randint(2, 9)
    J = rng.randn(n_tasks, n_params) + rng.randn(n_params) * (seed % 2)
    w = min_norm_weights(J @ J.T)
    assert np.all(w >= 0) and w.sum() == pytest.approx(1.0)
    d = w @ J
    norm, _ = _brute_force_min_norm_kkt(J)
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


def test_min_norm_one_solve_path_gives_wolfes_weights(monkeypatch):
    from skmtl.neural.weighting import _mgda

    rng = np.random.RandomState(0)
    cases = [rng.randn(n, 40) + shift * rng.randn(40)
             for n in (2, 3, 5, 10) for shift in (0.0, 0.5, 2.0) for _ in range(4)]
    taken = [_mgda._interior_min_norm(J @ J.T, 1e-12, np.max(np.sum(J * J, 1)))
             is not None for J in cases]
    fast = [min_norm_weights(J @ J.T) for J in cases]
    # the iterations alone, from the smallest gradient
    monkeypatch.setattr(_mgda, "_interior_min_norm", lambda G, tol, scale: None)
    for J, w in zip(cases, fast):
        np.testing.assert_allclose(w, min_norm_weights(J @ J.T), rtol=1e-9, atol=1e-12)
    # both paths were compared: one solve for some, iterations for others
    assert 0 < sum(taken) < len(cases)
