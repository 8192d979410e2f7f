"""The entire-space loss as one autograd node (skmtl._entire_space) against the
torch formula it replaces, written out here with autograd through each
operation."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from skmtl import Task
from skmtl._entire_space import entire_space_loss
from skmtl.metrics import funnel_targets
from skmtl.neural._losses import TaskLosses
from skmtl.tasks import resolve_tasks

NAN = np.nan


def _formula(raw, log_reach, log_not_reach, joint, weight):
    """``Binary.given_loss`` as it was written before the fused node."""
    log_q = log_reach + F.logsigmoid(raw)
    log_not_q = torch.logaddexp(log_not_reach, log_q - raw)
    return F.binary_cross_entropy_with_logits(
        log_q - log_not_q, joint, weight=weight, reduction="sum") / \
        weight.sum().clamp(min=torch.finfo(weight.dtype).tiny)


def _from_logit(a):
    log_reach = F.logsigmoid(a)
    return log_reach, log_reach - a


def _inputs(n=64, m=1, scale=3.0, seed=0, dtype=torch.float64):
    """Logits ``raw`` and ``a`` with saturated rows (|logit| = 40), joint
    labels and weights with zeros."""
    g = torch.Generator().manual_seed(seed)
    raw = scale * torch.randn(n, m, generator=g, dtype=dtype)
    a = scale * torch.randn(n, 1, generator=g, dtype=dtype)
    raw[:8] = torch.tensor([40.0, -40, 40, -40, 40, -40, 40, -40])[:, None]
    a[:8] = torch.tensor([40.0, 40, -40, -40, 40, 40, -40, -40])[:, None]
    joint = (torch.rand(n, m, generator=g) < 0.3).to(dtype)
    joint[:8] = torch.tensor([1.0, 1, 1, 1, 0, 0, 0, 0])[:, None]
    weight = torch.rand(n, m, generator=g, dtype=dtype) * 2
    weight[8:16] = 0.0
    return raw, a, joint, weight


@pytest.mark.parametrize("m", [1, 3])
def test_gradcheck_from_log_reach_and_from_the_parent_logit(m):
    raw, a, joint, weight = _inputs(m=m)
    log_reach, log_not_reach = (x.detach() for x in _from_logit(a))
    # log R and log (1 - R) as independent inputs (a deeper path gives them)
    args = [raw, log_reach, log_not_reach]
    for x in args:
        x.requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda *x: entire_space_loss(*x, joint, weight), tuple(args))
    a.requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda x, b: entire_space_loss(x, None, None, joint, weight, parent_logit=b),
        (raw, a))


@pytest.mark.parametrize("dtype, rtol", [(torch.float64, 1e-12), (torch.float32, 1e-5)])
@pytest.mark.parametrize("m", [1, 3])
def test_values_and_gradients_match_the_torch_formula(dtype, rtol, m):
    raw, a, joint, weight = _inputs(m=m, dtype=dtype, seed=3)
    values, grads = [], []
    for fused in (False, True):
        for parent_logit in (False, True):
            x = raw.clone().requires_grad_(True)
            b = a.clone().requires_grad_(True)
            if not fused:
                loss = _formula(x, *_from_logit(b), joint, weight)
            elif parent_logit:
                loss = entire_space_loss(x, None, None, joint, weight, parent_logit=b)
            else:
                loss = entire_space_loss(x, *_from_logit(b), joint, weight)
            loss.backward()
            values.append(loss.detach())
            grads.append(torch.cat([x.grad.ravel(), b.grad.ravel()]))
    reference_grad = grads[0]
    assert reference_grad[: 8 * m].abs().max() > 0  # saturated rows have gradients
    for value, grad in zip(values[1:], grads[1:]):
        torch.testing.assert_close(value, values[0], rtol=rtol, atol=0)
        torch.testing.assert_close(grad, reference_grad, rtol=rtol,
                                   atol=rtol * reference_grad.abs().max().item())
    # rows with weight 0 get no gradient
    x_grad = grads[-1][: raw.numel()].reshape(raw.shape)
    assert (x_grad[8:16] == 0).all()
    # without a graph, the formula itself
    with torch.no_grad():
        torch.testing.assert_close(
            entire_space_loss(raw, *_from_logit(a), joint, weight), values[0],
            rtol=0, atol=0)


def test_second_order_gradients_match_the_torch_formula():
    # create_graph=True (meta weighting's lookahead) differentiates the gradient
    raw, a, joint, weight = _inputs(seed=4)
    results = []
    for loss_of in (lambda x, b: _formula(x, *_from_logit(b), joint, weight),
                    lambda x, b: entire_space_loss(x, *_from_logit(b), joint, weight),
                    lambda x, b: entire_space_loss(x, None, None, joint, weight,
                                                   parent_logit=b)):
        x, b = raw.clone().requires_grad_(True), a.clone().requires_grad_(True)
        gx, gb = torch.autograd.grad(loss_of(x, b), (x, b), create_graph=True)
        second = torch.autograd.grad((gx ** 2).sum() + (gb * b).sum(), (x, b))
        results.append(torch.cat([g.ravel() for g in (gx, gb, *second)]).detach())
    torch.testing.assert_close(results[1], results[0], rtol=1e-10, atol=1e-14)
    torch.testing.assert_close(results[2], results[0], rtol=1e-10, atol=1e-14)


CHAIN = [Task("click", "binary"), Task("cart", "binary", given="click"),
         Task("purchase", "binary", given="cart")]


def test_task_losses_of_a_chain_match_the_torch_formula():
    # cart's R is the click's sigmoid (the parent's logit goes to its loss);
    # purchase's comes from the path click -> cart
    rng = np.random.default_rng(0)
    n = 200
    click = (rng.random(n) < 0.5).astype(float)
    cart = np.where(click == 1, (rng.random(n) < 0.4).astype(float), 0.0)
    purchase = np.where(cart == 1, (rng.random(n) < 0.5).astype(float), NAN)
    purchase[:20] = NAN
    Y = np.column_stack([click, cart, purchase])
    tasks = resolve_tasks(CHAIN, Y)
    criterion = TaskLosses(tasks)
    assert set(criterion.parent_logit_tasks) == {1}  # not purchase: below cart
    targets = torch.tensor(funnel_targets(Y, tasks, "conditional"))
    weight = torch.tensor(rng.random(n) * 2)
    g = torch.Generator().manual_seed(1)
    raw = [6 * torch.randn(n, 1, generator=g, dtype=torch.float64) for _ in range(3)]
    for r in raw:
        r.requires_grad_(True)
    losses, _ = criterion(raw, targets, sample_weight=weight)
    losses.sum().backward()
    grads = [r.grad.clone() for r in raw]

    a, b, c = (r.detach().clone().requires_grad_(True) for r in raw)
    joint = torch.tensor(funnel_targets(Y, tasks, "joint"))
    known = ~torch.isnan(joint)
    w = known * weight[:, None]
    joint = torch.nan_to_num(joint)
    click_loss = (F.binary_cross_entropy_with_logits(
        a, targets[:, :1], reduction="none")[:, 0] * weight).sum() / weight.sum()
    log_reach, log_not_reach = _from_logit(a)
    cart_loss = _formula(b, log_reach, log_not_reach, joint[:, 1:2], w[:, 1:2])
    log_cart, log_not_cart = _from_logit(b)
    purchase_loss = _formula(
        c, log_reach + log_cart,
        torch.logaddexp(log_not_reach, log_reach + log_not_cart),
        joint[:, 2:3], w[:, 2:3])
    expected = torch.stack([click_loss, cart_loss, purchase_loss])
    expected.sum().backward()
    torch.testing.assert_close(losses.detach(), expected.detach(), rtol=1e-12, atol=0)
    for got, want in zip(grads, (a.grad, b.grad, c.grad)):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-15)


def test_a_counterfactual_child_keeps_log_reach():
    tasks = resolve_tasks([CHAIN[0], Task("cart", "binary", given="click",
                                          conditional_weight=0.5,
                                          counterfactual="ips")],
                          np.array([[1.0, 1.0], [0.0, 0.0]]))
    assert TaskLosses(tasks).parent_logit_tasks == {}
