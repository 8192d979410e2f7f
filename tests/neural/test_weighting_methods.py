"""The newer strategies against their papers' formulas, on fixed task gradients."""

import numpy as np
import pytest
import torch

from skmtl import Task
from skmtl.neural import MultiTaskRegressor
from skmtl.neural.weighting import (
    DBMTL,
    FAMO,
    GLS,
    IMTL,
    STCH,
    WEIGHTINGS,
    AlignedMTL,
    ConFIG,
    ExcessMTL,
    FairGrad,
    GradNorm,
    MetaWeighting,
)
from skmtl.utils._gradient_combination import (
    aligned_mtl_weights,
    config_weights,
    fairgrad_weights,
    gradvac_weights,
    imtl_g_weights,
    nash_weights,
)

TWO = [Task("a"), Task("b")]


def _jacobians(seed, n_tasks=3, n_params=10):
    rng = np.random.RandomState(seed)
    scales = 10.0 ** rng.uniform(-2, 2, size=(n_tasks, 1))
    return (rng.randn(n_tasks, n_params) + 0.3) * scales


@pytest.mark.parametrize("seed", range(5))
def test_imtl_g_has_equal_projections_onto_every_unit_gradient(seed):
    J = _jacobians(seed)
    w = imtl_g_weights(J @ J.T)
    assert w.sum() == pytest.approx(1.0)
    d = w @ J
    projections = J @ d / np.linalg.norm(J, axis=1)
    np.testing.assert_allclose(projections, projections[0], rtol=1e-6)
    # the paper's closed form: alpha_{2:K} = g_1 U^T (D U^T)^-1
    U = J / np.linalg.norm(J, axis=1, keepdims=True)
    D_ = (J[:1] - J[1:]).T
    U_ = (U[:1] - U[1:]).T
    alpha = J[0] @ U_ @ np.linalg.inv(D_.T @ U_)
    np.testing.assert_allclose(w, np.r_[1 - alpha.sum(), alpha], rtol=1e-6)


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


@pytest.mark.parametrize("seed", range(5))
def test_config_has_equal_cosines_and_matches_torchjd(seed):
    J = _jacobians(seed)
    d = config_weights(J @ J.T) @ J
    cosines = J @ d / np.linalg.norm(J, axis=1) / np.linalg.norm(d)
    np.testing.assert_allclose(cosines, cosines[0], rtol=1e-6)
    assert cosines[0] > 0  # conflicts with no task
    # its length is the sum of the gradients' projections onto it
    unit = d / np.linalg.norm(d)
    assert np.linalg.norm(d) == pytest.approx(np.sum(J @ unit))
    aggregation = pytest.importorskip("torchjd.aggregation")
    expected = aggregation.ConFIG()(torch.as_tensor(J)).numpy()
    np.testing.assert_allclose(d, expected, rtol=1e-5)


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0, 5.0])
def test_fairgrad_solves_the_alpha_fair_equations(alpha):
    for seed in range(3):
        J = _jacobians(seed)
        G = J @ J.T
        w = fairgrad_weights(G, alpha=alpha)
        assert np.all(w > 0)
        np.testing.assert_allclose(G @ w, w ** (-1 / alpha), rtol=1e-4)
    np.testing.assert_allclose(fairgrad_weights(G, 1.0), nash_weights(G))
    with pytest.raises(ValueError, match="alpha must be > 0"):
        fairgrad_weights(G, 0.0)


def test_gradvac_sets_a_low_cosine_to_its_target_and_updates_the_target():
    J = np.array([[1.0, 0.0], [-0.5, 1.0]])  # cosine -0.447
    targets = np.full((2, 2), 0.3)
    w = gradvac_weights(J @ J.T, targets, beta=0.25)
    g1 = J[0] + (w[1] - 1) * J[1]  # task 0's corrected gradient
    assert g1 @ J[1] / np.linalg.norm(g1) / np.linalg.norm(J[1]) == pytest.approx(0.3)
    assert targets[0, 1] == pytest.approx(0.75 * 0.3 + 0.25 * (-0.5 / np.sqrt(1.25)))
    # with targets at 0 on a conflicting pair it is PCGrad's projection
    from skmtl.utils._gradient_combination import pcgrad_weights

    zero = np.zeros((2, 2))
    np.testing.assert_allclose(gradvac_weights(J @ J.T, zero, beta=0.0),
                               pcgrad_weights(J @ J.T), rtol=1e-6)


def test_graddrop_keeps_one_sign_per_entry():
    from skmtl.neural.weighting._surgery import _sign_dropout

    torch.manual_seed(0)
    g = torch.randn(3, 500, dtype=torch.float64)
    combined, mask = _sign_dropout(g, torch.zeros(3, 1, dtype=torch.float64))
    kept = mask * g
    # the kept contributions of an entry all have one sign
    assert torch.all((kept >= 0).all(0) | (kept <= 0).all(0))
    torch.testing.assert_close(combined, kept.sum(0))
    # where the tasks agree, nothing is dropped
    agree = (g > 0).all(0) | (g < 0).all(0)
    torch.testing.assert_close(combined[agree], g.sum(0)[agree])
    # P is the probability of keeping the positive side
    P = 0.5 * (1 + g.sum(0) / g.abs().sum(0))
    draws = torch.stack([(_sign_dropout(g, torch.zeros(3, 1, dtype=g.dtype))[0] > 0)
                         for _ in range(400)]).double().mean(0)
    mixed = ~agree
    assert float((draws[mixed] - P[mixed]).abs().mean()) < 0.05
    full, _ = _sign_dropout(g, torch.ones(3, 1, dtype=torch.float64))
    torch.testing.assert_close(full, g.sum(0))  # leak 1: the plain sum


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


def test_imtl_loss_form_scales_every_loss_to_one_at_the_optimum():
    strategy = IMTL(form="loss").initialize(TWO)
    assert strategy.level == "loss" and IMTL().level == "gradient"
    optimizer = torch.optim.SGD([strategy.log_scales_], lr=0.5)
    losses = torch.tensor([4.0, 0.25])
    for _ in range(200):
        optimizer.zero_grad()
        strategy.combine(losses).backward()
        optimizer.step()
    scaled = torch.exp(strategy.log_scales_.detach()) * losses
    torch.testing.assert_close(scaled, torch.ones(2), rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="IMTL: form must be one of"):
        IMTL(form="both").initialize(TWO)


def _conflicting(n=64, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 3)
    return X, np.c_[X[:, 0] + X[:, 1], 5 * (-X[:, 0] + 0.5 * X[:, 2])]


def _step(weighting, X, Y):
    """Per-task gradients of the shared parameters and the strategy's .grad."""
    est = MultiTaskRegressor(weighting=weighting, hidden_layer_sizes=(6,),
                             max_epochs=1, batch_size=len(X), lr=1e-12,
                             standardize_targets=False, random_state=0).fit(X, Y)
    net = est.net_
    Xt = torch.as_tensor(X, dtype=torch.float32)
    yt = torch.as_tensor(Y, dtype=torch.float32)
    shared = net.module_.shared_parameters()
    rows = []
    for k in range(Y.shape[1]):
        net.module_.zero_grad()
        losses, _ = net.get_task_losses(net.infer(Xt), yt, training=True)
        losses[k].backward()
        rows.append(torch.cat([p.grad.flatten() for p in shared]).clone())
    net.module_.zero_grad()
    losses, _ = net.get_task_losses(net.infer(Xt), yt, training=True)
    net.weighting_.backward(losses, net)
    d = torch.cat([p.grad.flatten() for p in shared]).double().numpy()
    return net, d, torch.stack(rows).double().numpy(), losses.detach().double().numpy()


def test_imtl_gradient_and_hybrid_forms_give_impartial_network_steps():
    X, Y = _conflicting()
    for form in ("gradient", "hybrid"):
        _, d, J, _ = _step(IMTL(form=form), X, Y)
        projections = J @ d / np.linalg.norm(J, axis=1)
        np.testing.assert_allclose(projections, projections[0], rtol=1e-4)


def test_network_steps_of_the_gram_based_strategies_follow_their_kernels():
    X, Y = _conflicting(seed=1)
    for strategy, kernel in ((AlignedMTL(), aligned_mtl_weights),
                             (ConFIG(), config_weights),
                             (FairGrad(alpha=2.0),
                              lambda G: fairgrad_weights(G, alpha=2.0))):
        _, d, J, _ = _step(strategy, X, Y)
        np.testing.assert_allclose(d, kernel(J @ J.T) @ J, rtol=1e-4, atol=1e-8)


def test_db_mtl_balances_the_log_loss_gradients_to_the_largest_norm():
    X, Y = _conflicting(seed=2)
    _, d, J, L = _step(DBMTL(), X, Y)
    logs = J / L[:, None]  # first step: the average is the current gradient
    norms = np.linalg.norm(logs, axis=1)
    np.testing.assert_allclose(d, (norms.max() / norms) @ logs, rtol=1e-4,
                               atol=1e-8)


def test_excess_mtl_first_step_is_equal_weights_then_favours_the_larger_excess():
    X, Y = _conflicting(seed=3)
    net, d, J, _ = _step(ExcessMTL(), X, Y)
    # ratio 1 for every task at the first step: weights stay equal (ones)
    np.testing.assert_allclose(d, J.sum(0), rtol=1e-4, atol=1e-8)
    strategy = ExcessMTL(robust_step_size=1.0).initialize(TWO)
    # a task whose gradients keep their size relative to the accumulator
    # (a large excess risk) gains weight
    est = MultiTaskRegressor(weighting=strategy, hidden_layer_sizes=(6,),
                             max_epochs=5, random_state=0).fit(X, Y)
    assert np.isfinite(est.task_weights_history_).all()
    np.testing.assert_allclose(est.task_weights_history_.sum(1), 2.0, rtol=1e-5)


@pytest.mark.parametrize("name", ["imtl", "db_mtl", "aligned_mtl", "config", "gradvac",
                                  "graddrop", "fairgrad", "excess_mtl", "gls", "stch"])
def test_new_strategies_are_registered_and_record_finite_weights(name):
    X, Y = _conflicting(n=96)
    est = MultiTaskRegressor(weighting=name, hidden_layer_sizes=(6,), max_epochs=2,
                             batch_size=32, random_state=0).fit(X, Y)
    assert type(est.net_.weighting_) is WEIGHTINGS[name]
    assert est.task_weights_history_.shape == (2, 2)
    assert np.isfinite(est.task_weights_history_).all()


def test_cheap_defaults_update_every_k_steps():
    assert FAMO().update == "next_batch"
    assert GradNorm().every is None and MetaWeighting().every == 25
    # GradNorm's update costs more with more tasks: by default it comes every
    # 10 * n_tasks steps
    assert GradNorm().initialize(TWO)._every == 20
    assert GradNorm().initialize([Task(f"t{k}") for k in range(10)])._every == 100
    assert GradNorm(every=7).initialize(TWO)._every == 7
    X, Y = _conflicting(n=160)
    est = MultiTaskRegressor(weighting=GradNorm(every=4), hidden_layer_sizes=(6,),
                             max_epochs=1, batch_size=16, random_state=0).fit(X, Y)
    strategy = est.net_.weighting_
    # 10 steps, updates at steps 0, 4, 8: three Adam steps of the weights
    assert strategy.weights_adam_.steps == 3
    with pytest.raises(ValueError, match="GradNorm: every must be a positive"):
        GradNorm(every=0).initialize(TWO)
