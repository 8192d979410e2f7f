"""The weighting strategies: known answers, properties, and the estimator contract."""

import itertools
import pickle
import sys

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from skmtl import Task
from skmtl.metrics import make_multitask_scorer
from skmtl.neural import MultiTaskEstimator, MultiTaskRegressor
from skmtl.neural.weighting import (
    DWA,
    FAMO,
    MGDA,
    MGDAUB,
    RLW,
    WEIGHTINGS,
    CAGrad,
    Fixed,
    GradNorm,
    MetaWeighting,
    NashMTL,
    PCGrad,
    Uncertainty,
    UPGrad,
)

STRATEGIES = sorted(set(WEIGHTINGS.values()), key=lambda cls: cls.__name__)
GRADIENT_LEVEL = [PCGrad, MGDA, CAGrad, NashMTL, UPGrad]


def _needs_torchjd(cls):
    if cls is UPGrad:
        pytest.importorskip("torchjd")
        pytest.importorskip("quadprog")


# -- a network on which one step is taken by hand ----------------------------


def _conflicting_problem(n=64, seed=0, aligned=False):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 3)
    first = X[:, 0] + X[:, 1]
    second = first if aligned else -X[:, 0] + 0.5 * X[:, 2]
    return X, np.c_[first, second]


def _one_step(weighting, X, Y, architecture="hard", hidden=(6,), step_rows=None):
    """A fitted-for-zero-steps net; returns (net, shared params, per-task grads).

    The per-task gradients of the shared parameters are computed
    independently (one forward and backward per task) before the strategy's
    own backward on the same batch writes ``.grad``.
    """
    est = MultiTaskRegressor(weighting=weighting, architecture=architecture,
                             hidden_layer_sizes=hidden, max_epochs=1, batch_size=len(X),
                             standardize_targets=False, lr=1e-12, random_state=0)
    est.fit(X, Y)
    net = est.net_
    module = net.module_
    rows = slice(None) if step_rows is None else step_rows
    Xt = torch.as_tensor(X[rows], dtype=torch.float32)
    yt = torch.as_tensor(Y[rows], dtype=torch.float32)
    shared = module.shared_parameters()
    per_task = []
    module.own_head_grads = []
    for k in range(Y.shape[1]):
        module.zero_grad()
        losses, _ = net.get_task_losses(net.infer(Xt), yt, training=True)
        losses[k].backward()
        per_task.append(torch.cat([p.grad.flatten() for p in shared]).clone())
        module.own_head_grads.append([p.grad.clone()
                                      for p in module.heads[k].parameters()])
    module.zero_grad()
    net._train_batch_ = (Xt, yt)
    losses, _ = net.get_task_losses(net.infer(Xt), yt, training=True)
    net.weighting_.backward(losses, net)
    combined = torch.cat([p.grad.flatten() for p in shared])
    return net, combined.double().numpy(), torch.stack(per_task).double().numpy()


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


def _brute_force_min_norm(J):
    """Minimum-norm point of the convex hull of J's rows, by trying every face."""
    G = J @ J.T
    best, best_norm = None, np.inf
    K = len(G)
    for size in range(1, K + 1):
        for face in itertools.combinations(range(K), size):
            face = list(face)
            A = np.zeros((size + 1, size + 1))
            A[:size, :size] = G[np.ix_(face, face)]
            A[:size, size] = A[size, :size] = 1
            rhs = np.r_[np.zeros(size), 1.0]
            w_face = np.linalg.lstsq(A, rhs, rcond=None)[0][:size]
            if np.any(w_face < -1e-10):
                continue
            w = np.zeros(K)
            w[face] = w_face
            norm = w @ G @ w
            if norm < best_norm - 1e-15:
                best, best_norm = w, norm
    return best @ J


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


def test_cagrad_with_zero_radius_is_the_average_gradient():
    X, Y = _conflicting_problem()
    _, d, J = _one_step(CAGrad(c=0.0), X, Y)
    np.testing.assert_allclose(d, J.mean(0), rtol=1e-5, atol=1e-8)
    _, d, J = _one_step(CAGrad(c=0.4), X, Y)
    assert not np.allclose(d, J.mean(0))
    # the worst task improves more than along the average gradient
    g0 = J.mean(0)
    assert np.min(J @ d) > np.min(J @ g0) / (1 + 0.4 ** 2)


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


def test_upgrad_matches_torchjd_and_conflicts_with_no_task():
    torchjd_aggregation = pytest.importorskip("torchjd.aggregation")
    pytest.importorskip("quadprog")
    X, Y = _conflicting_problem(seed=1)
    _, d, J = _one_step(UPGrad(), X, Y)
    expected = torchjd_aggregation.UPGrad()(torch.as_tensor(J)).numpy()
    np.testing.assert_allclose(d, expected, rtol=1e-4, atol=1e-7)
    assert np.all(J @ d >= -1e-6 * np.max(J @ J.T))


def test_mgda_ub_weights_are_the_min_norm_weights_of_the_representation_gradients():
    X, Y = _conflicting_problem(seed=2)
    est = MultiTaskRegressor(weighting=MGDAUB(normalization="none"),
                             hidden_layer_sizes=(5,), max_epochs=1,
                             batch_size=len(X), standardize_targets=False, lr=1e-12,
                             random_state=0).fit(X, Y)
    net = est.net_
    Xt, yt = (torch.as_tensor(a, dtype=torch.float32) for a in (X, Y))
    losses, _ = net.get_task_losses(net.infer(Xt), yt, training=True)
    features = net.module_.shared_representation()
    Z = torch.stack([torch.autograd.grad(losses[k], features, retain_graph=True)[0]
                     .flatten() for k in range(2)]).double().numpy()
    net.module_.zero_grad()
    net.weighting_.backward(losses, net)
    strategy = net.weighting_
    weights = (strategy._weights_sum / strategy._weights_count).numpy()
    np.testing.assert_allclose(weights @ Z, _brute_force_min_norm(Z), rtol=1e-4,
                               atol=1e-8)


def test_mgda_ub_needs_one_shared_representation():
    X, Y = _conflicting_problem()
    with pytest.raises(TypeError, match="MMoE has no single representation"):
        MultiTaskRegressor(weighting="mgda_ub", architecture="mmoe",
                           hidden_layer_sizes=(4,), max_epochs=1).fit(X, Y)


@pytest.mark.parametrize("cls", GRADIENT_LEVEL + [GradNorm])
def test_gradient_methods_need_shared_parameters(cls):
    _needs_torchjd(cls)
    X, Y = _conflicting_problem()
    with pytest.raises(ValueError, match="SoftSharing shares no"):
        MultiTaskRegressor(weighting=cls(), architecture="soft",
                           hidden_layer_sizes=(4,), max_epochs=1).fit(X, Y)


def test_a_task_without_labels_in_the_batch_is_left_out_of_the_combination():
    X, Y = _conflicting_problem()
    Y = np.c_[Y, np.full(len(X), np.nan)]
    Y[0, 2] = 1.0  # the third task is labelled in row 0 only
    net, d, J = _one_step(MGDA(normalization="none"), X, Y,
                          step_rows=slice(1, None))
    assert np.all(J[2] == 0)
    # its zero gradient would make the min-norm point 0; it is left out
    np.testing.assert_allclose(d, _brute_force_min_norm(J[:2]), rtol=1e-4,
                               atol=1e-7)
    assert net.weighting_._weights_sum[2] == 0


# -- loss-level strategies ---------------------------------------------------


def test_uncertainty_learns_the_inverse_noise_variances():
    ratios = []
    for seed in range(2):
        rng = np.random.RandomState(seed)
        X = rng.randn(1000, 5)
        Y = X @ rng.randn(5, 2) + rng.randn(1000, 2) * [0.1, 1.0]
        est = MultiTaskRegressor(weighting=Uncertainty(lr=0.1), hidden_layer_sizes=(),
                                 lr=0.05, max_epochs=30, batch_size=100,
                                 standardize_targets=False, random_state=seed).fit(X, Y)
        weights = est.task_weights_history_[-3:].mean(0)
        ratios.append(weights[0] / weights[1])
        # the recorded weights are those of the learned log-variances
        s = est.net_.weighting_.log_variances_.detach().numpy()
        np.testing.assert_allclose(weights, 0.5 * np.exp(-s), rtol=0.1)
    np.testing.assert_allclose(ratios, 1.0 / 0.1 ** 2, rtol=0.2)


def test_uncertainty_log_variances_have_their_own_learning_rate():
    X, Y = _conflicting_problem()
    est = MultiTaskRegressor(weighting=Uncertainty(lr=0.3), hidden_layer_sizes=(4,),
                             lr=1e-3, max_epochs=1).fit(X, Y)
    groups = est.net_.optimizer_.param_groups
    own = [g for g in groups if any(p is est.net_.weighting_.log_variances_
                                    for p in g["params"])]
    assert len(own) == 1 and own[0]["lr"] == 0.3 and len(own[0]["params"]) == 1
    assert [g["lr"] for g in groups if g is not own[0]] == [1e-3]
    # without lr, the net's rate; the log-variances barely move then
    plain = MultiTaskRegressor(weighting=Uncertainty(), hidden_layer_sizes=(4,),
                               lr=1e-3, max_epochs=1).fit(X, Y)
    assert len(plain.net_.optimizer_.param_groups) == 1
    # a user's param_groups pattern wins
    user = MultiTaskRegressor(weighting=Uncertainty(lr=0.3), hidden_layer_sizes=(4,),
                              max_epochs=1,
                              optimizer__param_groups=[("weighting.*", {"lr": 0.01})])
    user.fit(X, Y)
    lrs = sorted(g["lr"] for g in user.net_.optimizer_.param_groups)
    assert lrs == [1e-3, 0.01]


def test_uncertainty_uses_the_classification_form_for_classification_tasks():
    strategy = Uncertainty(init_log_variance=np.log(2.0)).initialize(
        [Task("v"), Task("c", "classification")])
    losses = torch.tensor([1.0, 1.0])
    # 1/(2 sigma²) L + log sigma and 1/sigma² L + log sigma, sigma² = 2
    expected = 0.25 + 0.5 + 2 * 0.5 * np.log(2.0)
    assert strategy.combine(losses).item() == pytest.approx(expected)


def _slow_and_fast(n=240, seed=0):
    """Task "fast" is learned in a few epochs; task "slow" is mostly noise."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 3)
    return X, np.c_[2 * X[:, 0], 0.3 * X[:, 1] + rng.randn(n)]


def test_dwa_weights_sum_to_the_number_of_tasks_and_favour_the_slower_task():
    X, Y = _slow_and_fast()
    est = MultiTaskRegressor(weighting=DWA(temperature=0.5), hidden_layer_sizes=(8,),
                             lr=0.01, max_epochs=8, batch_size=32,
                             random_state=0).fit(X, Y)
    weights = est.task_weights_history_
    np.testing.assert_allclose(weights.sum(1), 2.0)
    np.testing.assert_allclose(weights[:2], 1.0)
    assert np.all(weights[2:, 1] > weights[2:, 0])
    # the weights of the last epoch came from the ratios of the two before;
    # those after fit from the last two
    history = est.history_
    for used, last in ((weights[-1], -2), (est.net_.weighting_.weights(), -1)):
        ratio = [history[last, f"train_loss_task_{k}"]
                 / history[last - 1, f"train_loss_task_{k}"] for k in range(2)]
        z = np.exp(np.array(ratio) / 0.5)
        np.testing.assert_allclose(used, 2 * z / z.sum(), rtol=1e-6)


def test_gradnorm_weights_sum_to_the_number_of_tasks_and_favour_the_slower_task():
    X, Y = _slow_and_fast()
    est = MultiTaskRegressor(weighting=GradNorm(alpha=1.5, every=1),
                             hidden_layer_sizes=(8,),
                             lr=0.01, max_epochs=6, batch_size=32,
                             random_state=0).fit(X, Y)
    weights = est.task_weights_history_
    np.testing.assert_allclose(weights.sum(1), 2.0, rtol=1e-5)
    assert weights[-1, 1] > weights[-1, 0]
    assert weights[-1, 1] > weights[0, 1]


def test_famo_favours_the_task_whose_loss_falls_less():
    X, Y = _slow_and_fast()
    for update in ("same_batch", "next_batch"):
        est = MultiTaskRegressor(weighting=FAMO(update=update, lr=0.05),
                                 hidden_layer_sizes=(8,), lr=0.01, max_epochs=6,
                                 batch_size=32, random_state=0).fit(X, Y)
        z = torch.softmax(est.net_.weighting_.logits_.detach(), 0).numpy()
        assert z[1] > z[0], update


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


def test_meta_weighting_lowers_the_weight_of_a_harmful_noisy_task():
    rng = np.random.RandomState(0)
    X = rng.randn(400, 4)
    Y = np.c_[X[:, 0] - X[:, 1] + 0.1 * rng.randn(400), rng.randn(400)]
    est = MultiTaskRegressor(weighting=MetaWeighting(lr=0.05, every=1),
                             hidden_layer_sizes=(16,), lr=0.01, max_epochs=6,
                             batch_size=40, random_state=0).fit(X, Y)
    weights = est.task_weights_history_
    np.testing.assert_allclose(weights.sum(1), 2.0, rtol=1e-5)
    assert weights[-1, 1] < weights[-1, 0]
    assert weights[-1, 1] < 0.8


def test_meta_weighting_checks_its_main_tasks():
    with pytest.raises(ValueError, match=r"main_tasks \['nope'\]"):
        MetaWeighting(main_tasks=["nope"]).initialize([Task("a")])


def test_adaptive_strategies_refuse_manual_task_weights():
    X, Y = _conflicting_problem()
    with pytest.raises(ValueError, match="DWA chooses the task weights itself"):
        MultiTaskRegressor(weighting="dwa", task_weights=(1, 2),
                           hidden_layer_sizes=(4,), max_epochs=1).fit(X, Y)


def test_upgrad_without_torchjd_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "torchjd.aggregation", None)
    with pytest.raises(ImportError, match=r"skmtl\[weighting\]"):
        UPGrad().initialize([Task("a"), Task("b")])


# -- the estimator contract, for every strategy ------------------------------

MIXED = [Task("value"), Task("kind", "classification"), Task("flag", "binary")]


def _mixed(n=96, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 4)
    Y = np.c_[X[:, 0] + 0.1 * rng.randn(n), np.digitize(X[:, 1], [-0.5, 0.5]),
              X[:, 2] > 0].astype(float)
    Y[rng.rand(n) < 0.3, 0] = np.nan
    Y[rng.rand(n) < 0.3, 1] = np.nan
    return X, Y


@pytest.mark.parametrize("cls", STRATEGIES, ids=lambda c: c.__name__)
def test_every_strategy_fits_mixed_tasks_with_missing_labels_and_pickles(cls):
    _needs_torchjd(cls)
    X, Y = _mixed()
    est = MultiTaskEstimator(tasks=MIXED, weighting=cls(), hidden_layer_sizes=(8,),
                             lr=0.01, max_epochs=3, batch_size=32, device="cpu",
                             random_state=0).fit(X, Y)
    P = est.predict(X)
    assert P.shape == (96, 3)
    assert est.task_weights_history_.shape == (3, 3)
    assert np.isfinite(est.task_weights_history_).all()
    assert np.isfinite([est.history_[-1, f"train_loss_{t.name}"] for t in MIXED]).all()
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(X), P)
    # same seed, same model
    twin = clone(est).fit(X, Y)
    np.testing.assert_array_equal(twin.predict(X), P)
    # by name too
    name = next(k for k, v in WEIGHTINGS.items() if v is cls)
    assert isinstance(clone(est).set_params(weighting=name).fit(X, Y).net_.weighting_,
                      cls)


PARAMS = {Uncertainty: ("lr", [0.01, 0.1]), DWA: ("temperature", [1.0, 2.0]),
          GradNorm: ("alpha", [0.5, 1.5]), RLW: ("distribution", ["normal", "uniform"]),
          FAMO: ("lr", [0.01, 0.05]), MetaWeighting: ("holdout", [0.2, 0.4]),
          CAGrad: ("c", [0.2, 0.5]), NashMTL: ("update_every", [1, 2]),
          Fixed: ("task_weights", [(1, 1, 1), (1, 2, 1)]),
          UPGrad: ("pref_vector", [None, (0.5, 0.25, 0.25)])}


@pytest.mark.parametrize("cls", sorted(PARAMS, key=lambda c: c.__name__),
                         ids=lambda c: c.__name__)
def test_strategy_parameters_are_grid_searchable(cls):
    _needs_torchjd(cls)
    name, values = PARAMS[cls]
    X, Y = _mixed()
    est = MultiTaskEstimator(tasks=MIXED, weighting=cls(), hidden_layer_sizes=(4,),
                             max_epochs=2, batch_size=48, random_state=0)
    assert f"weighting__{name}" in est.get_params()
    search = GridSearchCV(est, {f"weighting__{name}": values}, cv=2,
                          scoring=make_multitask_scorer()).fit(X, Y)
    assert len(search.cv_results_["params"]) == 2
    assert getattr(search.best_estimator_.weighting, name) in values
    assert repr(cls().set_params(**{name: values[1]})).startswith(cls.__name__)
