"""The Jacobian path of the gradient-level strategies (_jacobian.py)."""

import numpy as np
import pytest
import torch
from weighting_problems import (
    GRADIENT_LEVEL,
    TWO,
    _brute_force_min_norm,
    _conflicting_problem,
    _needs_torchjd,
    _one_step,
    _pcgrad_vectors,
)

from skmtl.neural import HardSharing, MultiTaskRegressor
from skmtl.neural.weighting import (
    MGDA,
    MGDAUB,
    WEIGHTINGS,
    GradientWeighting,
    GradNorm,
    PCGrad,
)
from skmtl.neural.weighting import _jacobian as jacobian_module

GRADIENT_STRATEGIES = sorted(name for name, cls in WEIGHTINGS.items()
                             if issubclass(cls, GradientWeighting)
                             and "on" in cls._get_param_names())


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


# -- on="representation": the task gradients of the shared representation --


def _three_tasks(n=40, seed=3):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 3)
    return X, np.c_[X[:, 0] + X[:, 1], -X[:, 0] + 0.5 * X[:, 2], X[:, 1] - X[:, 2]]


def _representation_step(strategy, X, Y, seed=0, **params):
    """One step of ``strategy`` on the whole batch of a HardSharing MLP (5,)
    with linear heads; returns the net and the trunk's (W, b) gradients."""
    est = MultiTaskRegressor(weighting=strategy, hidden_layer_sizes=(5,),
                             max_epochs=1, batch_size=len(X),
                             standardize_targets=False, lr=1e-12,
                             random_state=0, **params).fit(X, Y)
    net = est.net_
    Xt = torch.as_tensor(X, dtype=torch.float32)
    yt = torch.as_tensor(Y, dtype=torch.float32)
    net.module_.zero_grad()
    losses, _ = net.get_task_losses(net.infer(Xt), yt, training=True)
    torch.manual_seed(seed)
    net.weighting_.backward(losses, net)
    W, b = net.module_.shared_parameters()
    return net, W.grad.double().numpy(), b.grad.double().numpy()


def _by_hand(net, X, Y, combine):
    """The representation form of a step, in NumPy from the module's weights.

    h = relu(X W' + b), task k's output h a_k + c_k and loss the mean
    squared error: dL_k/dh = 2/n (h a_k + c_k - y_k) a_k'. ``combine``
    maps the rows J (n_tasks, n * 5) of these gradients to the direction
    d of h; the trunk's gradients are those of one backward pass of d.
    """
    W, b = (p.detach().double().numpy() for p in net.module_.shared_parameters())
    z = X @ W.T + b
    h = np.maximum(z, 0)
    n = len(X)
    rows = []
    for k, head in enumerate(net.module_.heads):
        a, c = (p.detach().double().numpy() for p in head.parameters())
        residual = h @ a.ravel() + c - Y[:, k]
        rows.append((2 / n * np.outer(residual, a.ravel())).ravel())
    J = np.array(rows)
    d = combine(J).reshape(h.shape) * (z > 0)
    return J, d.T @ X, d.sum(axis=0)


def test_pcgrad_on_the_representation_equals_a_hand_computation():
    X, Y = _three_tasks()
    torch.manual_seed(0)
    order = torch.randperm(3).numpy()   # the order PCGrad draws in the step
    net, W_grad, b_grad = _representation_step(PCGrad(on="representation"), X, Y)
    J, W_expected, b_expected = _by_hand(net, X, Y,
                                         lambda J: _pcgrad_vectors(J, order))
    G = J @ J.T
    assert (G[np.triu_indices(3, 1)] < 0).any()   # the projections do something
    np.testing.assert_allclose(W_grad, W_expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b_grad, b_expected, rtol=1e-5, atol=1e-6)
    # not the plain sum of the task gradients
    _, W_sum, _ = _by_hand(net, X, Y, lambda J: J.sum(0))
    assert np.abs(W_sum - W_expected).max() > 1e-3


def test_mgda_on_the_representation_equals_a_brute_force_min_norm_step():
    X, Y = _three_tasks()
    net, W_grad, b_grad = _representation_step(
        MGDA(normalization="none", on="representation"), X, Y)
    _, W_expected, b_expected = _by_hand(net, X, Y, _brute_force_min_norm)
    np.testing.assert_allclose(W_grad, W_expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b_grad, b_expected, rtol=1e-5, atol=1e-6)
    # each head keeps its own task's gradient, as with on="parameters"
    Xt = torch.as_tensor(X, dtype=torch.float32)
    yt = torch.as_tensor(Y, dtype=torch.float32)
    for k, head in enumerate(net.module_.heads):
        losses, _ = net.get_task_losses(net.infer(Xt), yt, training=True)
        own = torch.autograd.grad(losses[k], list(head.parameters()))
        for p, g in zip(head.parameters(), own):
            torch.testing.assert_close(p.grad, g, rtol=1e-5, atol=1e-7)


def test_mgda_ub_is_mgda_on_the_representation_with_weighted_heads():
    X, Y = _three_tasks()
    net, W_grad, b_grad = _representation_step(MGDAUB(normalization="none"), X, Y)
    _, W_mgda, b_mgda = _representation_step(
        MGDA(normalization="none", on="representation"), X, Y)
    np.testing.assert_allclose(W_grad, W_mgda, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(b_grad, b_mgda, rtol=1e-6, atol=1e-8)
    assert "on" not in MGDAUB().get_params()


class _OneRepresentation(HardSharing):
    """Records the representation without one alias per head."""

    def shared_representation(self, per_task=False):
        if per_task:
            raise TypeError("no per-task aliases")
        return super().shared_representation()


def test_a_representation_without_aliases_takes_one_pass_per_task():
    X, Y = _three_tasks()
    strategy = PCGrad(on="representation")
    _, W_aliases, b_aliases = _representation_step(strategy, X, Y)
    net, W_grad, b_grad = _representation_step(strategy, X, Y,
                                               architecture=_OneRepresentation)
    assert isinstance(net.module_, _OneRepresentation)
    assert jacobian_module.per_task_representation(net.module_) is None
    np.testing.assert_allclose(W_grad, W_aliases, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(b_grad, b_aliases, rtol=1e-6, atol=1e-8)


def test_the_representation_form_never_takes_the_parameter_jacobian(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("on='representation' computed the parameters' Jacobian")

    monkeypatch.setattr(jacobian_module, "task_jacobian", refuse)
    X, Y = _three_tasks()
    est = MultiTaskRegressor(hidden_layer_sizes=(5,), max_epochs=2, batch_size=16,
                             random_state=0)
    est.set_params(weighting="pcgrad", weighting__on="representation").fit(X, Y)
    assert est.net_.weighting_.on == "representation"
    with pytest.raises(AssertionError, match="parameters' Jacobian"):
        est.set_params(weighting__on="parameters").fit(X, Y)


@pytest.mark.parametrize("name", GRADIENT_STRATEGIES)
def test_every_gradient_strategy_has_the_representation_form(name):
    _needs_torchjd(WEIGHTINGS[name])
    X, Y = _three_tasks(n=48)
    Y[::5, 1] = np.nan
    est = MultiTaskRegressor(hidden_layer_sizes=(6,), max_epochs=2, batch_size=16,
                             random_state=0)
    est.set_params(weighting=name, weighting__on="representation").fit(X, Y)
    assert est.get_params()["weighting__on"] == "representation"
    assert np.isfinite(est.task_weights_history_).all()
    assert np.isfinite(est.predict(X)).all()
    for p in est.net_.module_.parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all()


def test_on_must_be_parameters_or_representation():
    with pytest.raises(ValueError, match=r"PCGrad: on must be one of "
                       r"\('parameters', 'representation'\), got 'rep'"):
        PCGrad(on="rep").initialize(TWO)
    X, Y = _conflicting_problem()
    with pytest.raises(ValueError, match="MGDA: on must be one of"):
        MultiTaskRegressor(weighting=MGDA(on="features"), hidden_layer_sizes=(4,),
                           max_epochs=1).fit(X, Y)


@pytest.mark.parametrize("architecture, name", [("mmoe", "MMoE"),
                                                ("cross_stitch", "CrossStitch"),
                                                ("ple", "PLE")])
def test_the_representation_form_needs_one_shared_representation(architecture,
                                                                  name):
    X, Y = _conflicting_problem()
    with pytest.raises(ValueError, match=rf"PCGrad\(on='representation'\) "
                       rf"combines the tasks' gradients of the shared "
                       rf"representation, but {name} has no single representation"):
        MultiTaskRegressor(weighting=PCGrad(on="representation"),
                           architecture=architecture, hidden_layer_sizes=(4,),
                           max_epochs=1).fit(X, Y)


# -- the factored rows of the representation form ---------------------------


def _linear_heads_losses(seed=0):
    """A HardSharing step whose linear heads have 3, 1 and 2 outputs; the
    losses of its training forward pass."""
    torch.manual_seed(seed)
    module = HardSharing([3, 1, 2], input_shape=(5,)).train()
    X = torch.randn(16, 5)
    outputs = module(X)
    losses = torch.stack([((k + 1) * out - 0.5).pow(2).mean()
                          for k, out in enumerate(outputs)])
    return module, losses


def test_factored_rows_give_the_rows_gram_and_combinations():
    module, losses = _linear_heads_losses()
    features, aliases = module.shared_representation(), module.shared_representation(
        per_task=True)
    dense, _ = jacobian_module.representation_gradients(losses, aliases)
    factors = module._head_factors()
    deltas, _ = jacobian_module.representation_gradients(
        losses, [z for z, _ in factors], stack=False)
    rows = jacobian_module.FactoredRows(deltas, [layer.weight for _, layer in factors],
                                        features.shape)
    flat = dense.flatten(1).double()
    torch.testing.assert_close(rows.gram(), flat @ flat.T, rtol=1e-5, atol=1e-9)
    torch.testing.assert_close(rows.dense(), dense, rtol=1e-5, atol=1e-7)
    w = torch.tensor([0.5, -2.0, 1.5])
    torch.testing.assert_close(rows.combination(w), torch.tensordot(w, dense, dims=1),
                               rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(rows.feature_squares(), (dense ** 2).sum(1),
                               rtol=1e-5, atol=1e-9)
    scaled = rows.scaled(w)
    torch.testing.assert_close(scaled.gram(), rows.gram() * torch.outer(w, w).double(),
                               rtol=1e-5, atol=1e-9)
    # the gradients of the other tasks' rows are not zero: the test can fail
    assert (flat @ flat.T).abs().min() > 0


class _DenseRows(HardSharing):
    """Records the heads' aliases but not their first layers' outputs."""

    def _head_factors(self):
        return None


@pytest.mark.parametrize("name", ["pcgrad", "mgda", "mgda_ub", "nash_mtl", "db_mtl",
                                  "excess_mtl", "imtl", "graddrop"])
def test_a_step_on_factored_rows_equals_one_on_the_rows(name):
    strategy = (MGDAUB() if name == "mgda_ub"
                else WEIGHTINGS[name](on="representation"))
    X, Y = _three_tasks()
    net, W_grad, b_grad = _representation_step(strategy, X, Y)
    assert jacobian_module._head_factors(net.module_) is not None
    dense, W_dense, b_dense = _representation_step(strategy, X, Y,
                                                   architecture=_DenseRows)
    assert jacobian_module._head_factors(dense.module_) is None
    np.testing.assert_allclose(W_grad, W_dense, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(b_grad, b_dense, rtol=1e-5, atol=1e-7)
    for p, q in zip(net.module_.heads.parameters(), dense.module_.heads.parameters()):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-5, atol=1e-7)


def test_heads_with_hidden_layers_have_no_factors():
    X, Y = _three_tasks()
    net, W_grad, _ = _representation_step(PCGrad(on="representation"), X, Y,
                                          module__head_hidden=(4,))
    assert len(net.module_.heads[0]) == 4   # flatten, linear, relu, linear
    assert jacobian_module._head_factors(net.module_) is None
    assert np.isfinite(W_grad).all() and np.abs(W_grad).max() > 0


@pytest.mark.parametrize("name", ["mgda_ub", "pcgrad", "graddrop"])
def test_factored_heads_of_a_task_without_labels_in_the_batch(name):
    # the heads' gradients from the factors are those of the backward pass,
    # None (no update) included
    X, Y = _three_tasks()
    Y[1:, 2] = np.nan   # task 2 is labelled in row 0 only
    grads = []
    for architecture in (HardSharing, _DenseRows):
        strategy = (MGDAUB() if name == "mgda_ub"
                    else WEIGHTINGS[name](on="representation"))
        net = MultiTaskRegressor(weighting=strategy, hidden_layer_sizes=(5,),
                                 max_epochs=1, batch_size=len(X),
                                 standardize_targets=False, lr=1e-12, random_state=0,
                                 architecture=architecture).fit(X, Y).net_
        Xt = torch.as_tensor(X[1:], dtype=torch.float32)
        yt = torch.as_tensor(Y[1:], dtype=torch.float32)
        net.module_.zero_grad()
        losses, _ = net.get_task_losses(net.infer(Xt), yt, training=True)
        torch.manual_seed(0)
        net.weighting_.backward(losses, net)
        grads.append([p.grad for p in net.module_.parameters()])
    factored, dense = grads
    assert [g is None for g in factored] == [g is None for g in dense]
    for g, h in zip(factored, dense):
        if g is not None:
            torch.testing.assert_close(g, h, rtol=1e-5, atol=1e-7)
    assert all(g is not None for g in factored[:2])   # the trunk was updated


# -- dependent tasks: a child's loss reads its parent's head too --


def _funnel_step(weighting):
    """A net fitted for no effective step on a click -> conversion funnel, and
    one batch's task losses, with the true per-task gradients of the shared
    parameters and of the representation (one backward pass per task)."""
    from skmtl import Task
    from skmtl.neural import MultiTaskEstimator

    rng = np.random.RandomState(0)
    X = rng.randn(64, 4)
    click = (X[:, 0] + rng.randn(64) > 0).astype(float)
    conversion = np.where(click > 0, (X[:, 1] + rng.randn(64) > 0), 0.0)
    Y = np.c_[click, conversion]
    tasks = [Task("click", "binary"), Task("conversion", "binary", given="click")]
    est = MultiTaskEstimator(tasks=tasks, weighting=weighting, hidden_layer_sizes=(6,),
                             max_epochs=1, batch_size=64, lr=1e-12,
                             random_state=0).fit(X, Y)
    net, module = est.net_, est.net_.module_
    Xt = torch.as_tensor(X, dtype=torch.float32)
    yt = torch.as_tensor(Y, dtype=torch.float32)
    shared = module.shared_parameters()
    truth, truth_h = [], []
    for k in range(2):
        losses, _ = net.get_task_losses(net.infer(Xt), yt, training=True)
        features = module.shared_representation()
        grads = torch.autograd.grad(losses[k], shared + [features])
        truth.append(torch.cat([g.flatten() for g in grads[:-1]]))
        truth_h.append(grads[-1])
    losses, _ = net.get_task_losses(net.infer(Xt), yt, training=True)
    return net, losses, torch.stack(truth), torch.stack(truth_h)


def test_a_dependent_task_gradient_is_its_own_not_its_parents():
    # The conversion's entire-space loss reads P(click) from the click head:
    # one pass of sum_k L_k through the heads would count that part of its
    # gradient as the click's. heads_separate_tasks says so, and the
    # strategies take one pass per task.
    net, losses, truth, truth_h = _funnel_step(PCGrad())
    assert not jacobian_module.heads_separate_tasks(net.tasks)
    module = net.module_
    shared, others = jacobian_module.split_parameters(module, "test")
    rows, _ = jacobian_module.task_jacobian(losses, module, shared, others,
                                            separate=False)
    rows = torch.cat([r.flatten(1) for r in rows], dim=1)
    torch.testing.assert_close(rows, truth, rtol=1e-5, atol=1e-7)
    # the one pass through the heads mixes them: the test can fail
    mixed, _ = jacobian_module.task_jacobian(losses, module, shared, others)
    mixed = torch.cat([r.flatten(1) for r in mixed], dim=1)
    assert not torch.allclose(mixed, truth, rtol=1e-3, atol=1e-6)
    for factored in (False, True):
        _, (rows_h,), _ = jacobian_module.representation_jacobian(
            losses, module, others, "test", factored=factored, separate=False)
        torch.testing.assert_close(rows_h, truth_h, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("on", ["parameters", "representation"])
def test_mgda_on_a_funnel_combines_each_tasks_own_gradient(on):
    net, losses, truth, truth_h = _funnel_step(MGDA(normalization="none", on=on))
    module = net.module_
    shared = module.shared_parameters()
    if on == "parameters":
        expected = _brute_force_min_norm(truth.double().numpy())
    else:
        # the min-norm point of the rows of h, back-propagated through the trunk
        direction = _brute_force_min_norm(truth_h.flatten(1).double().numpy())
        h = module.shared_representation()
        step = torch.as_tensor(direction, dtype=h.dtype).view_as(h)
        grads = torch.autograd.grad(h, shared, grad_outputs=step, retain_graph=True)
        expected = torch.cat([g.flatten() for g in grads]).double().numpy()
    module.zero_grad()
    net.weighting_.backward(losses, net)
    combined = torch.cat([p.grad.flatten() for p in shared]).double().numpy()
    np.testing.assert_allclose(combined, expected, rtol=1e-4, atol=1e-7)
