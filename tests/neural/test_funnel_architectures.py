"""Funnel architectures and regularizers against their papers' equations: AITM
(Xi et al., KDD 2021) and ESCM²'s inverse-propensity risk (Wang et al.,
SIGIR 2022)."""

import pickle

import numpy as np
import pytest
import torch

from skmtl import Task
from skmtl.datasets import make_funnel
from skmtl.metrics import funnel_targets
from skmtl.neural import AITM, AdaptiveInformationTransfer, MultiTaskEstimator
from skmtl.neural._losses import TaskLosses
from skmtl.tasks import resolve_tasks

NAN = np.nan
CHAIN = [Task("click", "binary"), Task("cart", "binary", given="click"),
         Task("purchase", "binary", given="cart")]
Y_CHAIN = np.array([[1, 1, 1.0], [1, 0, NAN], [0, NAN, NAN], [1, 1, 0.0],
                    [0, NAN, NAN]])


def _ait_by_hand(unit, p, q):
    """Xi et al. eq. 3-4: z = sum_u w_u h1(u), w = softmax_u <h2(u), h3(u)>/sqrt(k)."""
    h1, h2, h3 = (layer.weight.detach().numpy().astype(float)
                  for layer in (unit.value, unit.query, unit.key))
    k = p.shape[1]
    scores = np.stack([np.sum((u @ h2.T) * (u @ h3.T), axis=1) / np.sqrt(k)
                       for u in (p, q)], axis=1)
    w = np.exp(scores - scores.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)
    return w[:, :1] * (p @ h1.T) + w[:, 1:] * (q @ h1.T), w


def test_attention_unit_follows_the_paper():
    torch.manual_seed(0)
    unit = AdaptiveInformationTransfer(3)
    with torch.no_grad():
        unit.value.weight.copy_(torch.tensor([[1.0, 0, 0], [0, 2, 0], [0, 0, 3]]))
        unit.query.weight.copy_(torch.tensor([[0.5, -1, 0], [0, 1, 1], [1, 0, 0]]))
        unit.key.weight.copy_(torch.tensor([[1.0, 1, 0], [0, 0.5, 0], [2, 0, 1]]))
    rng = np.random.RandomState(0)
    p, q = rng.randn(4, 3), rng.randn(4, 3)
    z = unit(torch.tensor(p, dtype=torch.float32), torch.tensor(q, dtype=torch.float32))
    expected, weights = _ait_by_hand(unit, p, q)
    np.testing.assert_allclose(z.detach().numpy(), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(unit.last_weights.numpy(), weights, rtol=1e-5)
    # the same input twice gives that input's value, whatever the weights
    same = unit(torch.tensor(p, dtype=torch.float32),
                torch.tensor(p, dtype=torch.float32))
    np.testing.assert_allclose(same.detach().numpy(),
                               p @ unit.value.weight.detach().numpy().T, rtol=1e-5)


def test_aitm_transfers_along_the_chain_by_hand():
    tasks = resolve_tasks(CHAIN, Y_CHAIN)
    torch.manual_seed(0)
    net = AITM(tasks, input_shape=(4,), trunk=torch.nn.Linear(4, 6),
               tower_hidden=(5,)).double().eval()
    X = torch.tensor(np.random.RandomState(1).randn(7, 4))
    outputs = net(X)
    with torch.no_grad():
        bottom = net.trunk(X)
        own = [tower(bottom).numpy() for tower in net.towers]
        z = [own[0]]
        for k in (1, 2):
            transferred = net.transfers[str(k)](torch.tensor(z[k - 1])).numpy()
            z.append(_ait_by_hand(net.units[str(k)], transferred, own[k])[0])
        expected = [net.heads[k](torch.tensor(z[k])).numpy() for k in range(3)]
    for out, exp in zip(outputs, expected):
        np.testing.assert_allclose(out.detach().numpy(), exp, rtol=1e-10)

    # information flows down the funnel only
    before = [o.detach().clone() for o in outputs]
    with torch.no_grad():
        net.towers[0][0].weight.add_(1.0)
    after = net(X)
    assert not torch.allclose(after[1], before[1])
    assert not torch.allclose(after[2], before[2])
    with torch.no_grad():
        net.towers[2][0].weight.add_(1.0)
    again = net(X)
    torch.testing.assert_close(again[0], after[0])
    torch.testing.assert_close(again[1], after[1])


def test_aitm_with_several_children_and_independent_tasks():
    Y = np.array([[1, 1, 0.0, 2.0], [0, NAN, NAN, 1.0], [1, 0, 1, 0.5]])
    tasks = resolve_tasks([Task("click", "binary"),
                           Task("buy", "binary", given="click"),
                           Task("share", "binary", given="click"), Task("dwell")], Y)
    net = AITM(tasks, input_shape=(3,), tower_hidden=(4,))
    assert sorted(net.units) == ["1", "2"]
    assert [tuple(o.shape) for o in net(torch.zeros(2, 3))] == [(2, 1)] * 4
    assert not AITM([1, 1], input_shape=(3,)).units  # head sizes: no transfer


def test_aitm_as_an_architecture_fits_predicts_and_pickles():
    X, Y = make_funnel(800, n_users=20, n_items=10, rates=(0.3, 0.4),
                       as_frame=False, random_state=0)
    X = X[:, 2:]
    tasks = [Task("click", "binary"), Task("conversion", "binary", given="click")]
    est = MultiTaskEstimator(tasks=tasks, architecture="aitm", hidden_layer_sizes=(16,),
                             module__tower_hidden=(8,), max_epochs=3, random_state=0)
    est.fit(X, Y)
    assert isinstance(est.net_.module_, AITM)
    joint = est.predict_proba(X, funnel="joint")
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(loaded.predict_proba(X, funnel="joint")[1], joint[1])
    assert np.all(joint[1][:, 1] <= est.predict_proba(X)[0][:, 1])


def test_inverse_propensity_risk_by_hand():
    Y = np.array([[1, 1.0], [1, 0.0], [0, NAN], [0, NAN], [1, 1.0], [NAN, NAN]])
    plain = resolve_tasks(CHAIN[:2], Y)
    escm = resolve_tasks([CHAIN[0], Task("cart", "binary", given="click",
                                         conditional_weight=0.5,
                                         counterfactual="ips")], Y)
    targets = torch.tensor(funnel_targets(Y, plain, "conditional"))
    raw = [torch.tensor([[2.0], [-3.5], [0.3], [-0.2], [0.1], [1.0]],
                        dtype=torch.float64, requires_grad=True),
           torch.tensor([[0.4], [1.0], [-2.0], [0.5], [-0.7], [0.2]],
                        dtype=torch.float64, requires_grad=True)]
    base = TaskLosses(plain)(raw, targets)[0]
    with_ips = TaskLosses(escm)(raw, targets)[0]
    a, b = (r.detach().numpy()[:, 0] for r in raw)
    ctr = 1 / (1 + np.exp(-a))
    cvr = 1 / (1 + np.exp(-b))
    known = ~np.isnan(funnel_targets(Y, plain, "joint")[:, 1])  # 5 rows
    clicked = Y[:, 0] == 1
    y = np.nan_to_num(Y[:, 1])
    error = -(y * np.log(cvr) + (1 - y) * np.log(1 - cvr))
    risk = np.sum((clicked * error / np.maximum(ctr, 0.05))[known]) / known.sum()
    assert np.maximum(ctr, 0.05)[1] == 0.05  # the clip acts on row 1
    np.testing.assert_allclose((with_ips[1] - base[1]).item(), 0.5 * risk, rtol=1e-12)
    # no gradient reaches the click model through the propensity
    (g_base,) = torch.autograd.grad(base[1], raw[0])
    (g_ips,) = torch.autograd.grad(with_ips[1], raw[0])
    torch.testing.assert_close(g_ips, g_base)


def test_doubly_robust_risk_by_hand():
    Y = np.array([[1, 1.0], [1, 0.0], [0, NAN], [0, NAN], [1, 1.0], [NAN, NAN]])
    plain = resolve_tasks(CHAIN[:2], Y)
    escm = resolve_tasks([CHAIN[0], Task("cart", "binary", given="click",
                                         conditional_weight=0.5,
                                         counterfactual="dr")], Y)
    assert escm[1].n_model_outputs == 2  # the logit and the imputed error
    targets = torch.tensor(funnel_targets(Y, plain, "conditional"))
    click = torch.tensor([[2.0], [-3.5], [0.3], [-0.2], [0.1], [1.0]],
                         dtype=torch.float64, requires_grad=True)
    cvr_logit = torch.tensor([[0.4], [1.0], [-2.0], [0.5], [-0.7], [0.2]],
                             dtype=torch.float64, requires_grad=True)
    imputed = torch.tensor([[0.3], [0.9], [1.5], [0.2], [0.6], [4.0]],
                           dtype=torch.float64, requires_grad=True)
    base = TaskLosses(plain)([click, cvr_logit], targets)[0]
    with_dr = TaskLosses(escm)([click, torch.cat([cvr_logit, imputed], 1)],
                               targets)[0]
    np.testing.assert_allclose(with_dr[0].item(), base[0].item(), rtol=1e-12)
    a, b = click.detach().numpy()[:, 0], cvr_logit.detach().numpy()[:, 0]
    e_hat = imputed.detach().numpy()[:, 0]
    ctr = np.maximum(1 / (1 + np.exp(-a)), 0.05)
    cvr = 1 / (1 + np.exp(-b))
    known = ~np.isnan(funnel_targets(Y, plain, "joint")[:, 1])  # 5 rows
    clicked = Y[:, 0] == 1
    y = np.nan_to_num(Y[:, 1])
    error = -(y * np.log(cvr) + (1 - y) * np.log(1 - cvr))
    risk = np.sum((e_hat + clicked * (error - e_hat) / ctr)[known]) / known.sum()
    imputation = np.sum((clicked * (error - e_hat) ** 2 / ctr)[known]) / known.sum()
    assert ctr[1] == 0.05 and risk > 0 and imputation > 0
    np.testing.assert_allclose((with_dr[1] - base[1]).item(),
                               0.5 * (risk + imputation), rtol=1e-12)
    # the conditional model learns from the risk (through e_i), the imputation
    # tower from its own loss alone, the click model from neither
    (g_click,) = torch.autograd.grad(with_dr[1], click, retain_graph=True)
    torch.testing.assert_close(
        g_click, torch.autograd.grad(base[1], click, retain_graph=True)[0])
    (g_cvr,) = torch.autograd.grad(with_dr[1], cvr_logit, retain_graph=True)
    (g_cvr_base,) = torch.autograd.grad(base[1], cvr_logit)
    extra = 0.5 * clicked * known * (cvr - y) / ctr / known.sum()
    np.testing.assert_allclose((g_cvr - g_cvr_base).numpy()[:, 0], extra,
                               rtol=1e-10, atol=1e-15)
    (g_imp,) = torch.autograd.grad(with_dr[1], imputed)
    expected = 0.5 * clicked * known * -2 * (error - e_hat) / ctr / known.sum()
    np.testing.assert_allclose(g_imp.numpy()[:, 0], expected, rtol=1e-12)


def test_doubly_robust_fits_predicts_and_pickles():
    X, Y = make_funnel(600, n_users=20, n_items=10, rates=(0.3, 0.4),
                       as_frame=False, random_state=0)
    X = X[:, 2:]
    tasks = [Task("click", "binary"),
             Task("conversion", "binary", given="click", conditional_weight=0.5,
                  counterfactual="dr")]
    est = MultiTaskEstimator(tasks=tasks, hidden_layer_sizes=(16,), max_epochs=3,
                             random_state=0)
    est.fit(X, Y)
    proba = est.predict_proba(X)
    assert [p.shape for p in proba] == [(600, 2), (600, 2)]
    joint = est.predict_proba(X, funnel="joint")
    assert np.all(joint[1][:, 1] <= proba[1][:, 1])
    assert est.predict(X).shape == (600, 2)
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(loaded.predict_proba(X)[1], proba[1])
    np.testing.assert_array_equal(loaded.predict_proba(X, funnel="joint")[1],
                                  joint[1])


def test_counterfactual_needs_a_conditional_weight():
    with pytest.raises(ValueError, match="conditional_weight > 0"):
        Task("cart", "binary", given="click", counterfactual="ips")
    with pytest.raises(ValueError, match="counterfactual must be"):
        Task("cart", "binary", given="click", conditional_weight=1.0,
             counterfactual="snips")
    with pytest.raises(ValueError, match="n_outputs=2"):
        Task("cart", "binary", n_outputs=2, given="click", conditional_weight=1.0,
             counterfactual="dr")


def test_linear_model_ignores_the_imputation_output():
    # the logistic model fits the conditional task on the rows where the
    # parent happened: counterfactual="dr" must not change its predictions
    from skmtl.linear import MultiTaskLogisticClassifier

    X, Y = make_funnel(300, n_users=10, n_items=5, as_frame=False, random_state=0)
    X = X[:, 2:]
    fitted = {}
    for mode in ("ips", "dr"):
        tasks = [Task("click", "binary"),
                 Task("conversion", "binary", given="click", conditional_weight=0.5,
                      counterfactual=mode)]
        fitted[mode] = MultiTaskLogisticClassifier(tasks=tasks).fit(X, Y)
    for a, b in zip(fitted["ips"].predict_proba(X), fitted["dr"].predict_proba(X),
                    strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-12)
    clicked = Y[:, 0] == 1  # the fitted intercept matches the observed rate
    np.testing.assert_allclose(fitted["dr"].predict_proba(X)[1][clicked, 1].mean(),
                               Y[clicked, 1].mean(), atol=0.02)
