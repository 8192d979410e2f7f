"""The entire-space log-loss of a binary dependent task, as one autograd node.

:meth:`skmtl.tasks.Binary.given_loss` scores the joint probability ``q = R p``
(``R = P(parent path)``, ``p = sigmoid(raw)``) against the joint label, in log
space. Written with torch operations that is about a dozen autograd nodes per
batch (and two more for ``log R`` and ``log (1 - R)`` of a binary parent);
here the same values are computed without recording a graph, with the
analytic gradients, which the backward pass only scales.
"""

import torch
import torch.nn.functional as F

__all__ = ["entire_space_loss"]


def entire_space_loss(raw, log_reach, log_not_reach, joint, weight, parent_logit=None):
    """Weighted log-loss of ``q = R sigmoid(raw)`` against ``joint``.

    ``sum_i w_i [softplus(z_i) - y_i z_i] / sum_i w_i`` with ``z = log q -
    log (1 - q)`` the joint logit, ``log q = log R + log sigmoid(raw)`` and
    ``log (1 - q) = logaddexp(log (1 - R), log q - raw)``.

    Parameters
    ----------
    raw : torch.Tensor of shape (n, m)
        Logits of the task given its parent path.
    log_reach, log_not_reach : torch.Tensor of shape (n, 1) or (n, m), or None
        ``log R`` and ``log (1 - R)``; None with ``parent_logit``.
    joint : torch.Tensor of shape (n, m)
        The joint label ``y``.
    weight : torch.Tensor of shape (n, m)
        ``w``: 0 where the joint label is not known. No gradient flows to
        ``joint`` and ``weight``.
    parent_logit : torch.Tensor of shape (n, 1), optional
        When the parent path is one binary event, its logit ``a``: ``log R
        = log sigmoid(a)`` and ``log (1 - R) = log R - a``.

    Returns
    -------
    loss : torch.Tensor, scalar

    Notes
    -----
    With ``t = exp(log (1 - R) - log (1 - q)) = (1 - R) / (1 - q)`` and
    ``s = R sigmoid(-raw) / (1 - q) = 1 - t``: ``dL/dz = w (sigmoid(z) - y)
    / sum w``, ``dz/dlog R = t``, ``dz/dlog (1 - R) = -t``, ``dz/da = t
    (sigmoid(-a) + sigmoid(a)) = t`` and ``dz/draw = sigmoid(-raw) + s
    sigmoid(raw) = 1 - t sigmoid(raw)`` (where ``t sigmoid(raw)`` nears 1,
    its error is that of rounding ``dL/dz``). When the gradient itself is
    differentiated (``create_graph=True``), the backward pass
    differentiates the torch formula instead.
    """
    if parent_logit is not None:
        inputs = (raw, parent_logit)
    else:
        inputs = (raw, log_reach, log_not_reach)
    if (not torch.is_grad_enabled() or joint.requires_grad or weight.requires_grad
            or not any(x.requires_grad for x in inputs)):
        return _reference(*inputs, joint, weight)
    if parent_logit is not None:
        return _ParentLogitLoss.apply(raw, parent_logit, joint, weight)
    return _EntireSpaceLoss.apply(raw, log_reach, log_not_reach, joint, weight)


def _reference(raw, *reach_and_targets):
    """The loss as torch operations (autograd through each)."""
    *reach, joint, weight = reach_and_targets
    log_reach, log_not_reach = _log_reach(*reach)
    log_q = log_reach + F.logsigmoid(raw)
    log_not_q = torch.logaddexp(log_not_reach, log_q - raw)
    return F.binary_cross_entropy_with_logits(
        log_q - log_not_q, joint, weight=weight, reduction="sum") / _total(weight)


def _log_reach(*reach):
    """``(log R, log (1 - R))`` from themselves or from the parent's logit."""
    if len(reach) == 2:
        return reach
    log_reach = F.logsigmoid(reach[0])
    return log_reach, log_reach - reach[0]


def _total(weight):
    return weight.sum().clamp(min=torch.finfo(weight.dtype).tiny)


def _loss_and_gradients(raw, log_reach, log_not_reach, joint, weight):
    """The loss and ``(dL/draw, dL/dlog R)`` (``dL/dlog (1 - R) = -dL/dlog
    R``), without a graph."""
    log_q = log_reach + F.logsigmoid(raw)
    log_not_q = torch.logaddexp(log_not_reach, log_q - raw)
    z = log_q - log_not_q
    total = _total(weight)
    loss = F.binary_cross_entropy_with_logits(
        z, joint, weight=weight, reduction="sum").div_(total)
    grad_z = torch.sigmoid(z).sub_(joint).mul_(weight).div_(total)
    grad_reach = torch.sub(log_not_reach, log_not_q).exp_().mul_(grad_z)
    grad_raw = torch.addcmul(grad_z, grad_reach, torch.sigmoid(raw), value=-1)
    return loss, grad_raw, grad_reach


class _EntireSpaceLoss(torch.autograd.Function):
    """Inputs ``raw, log R, log (1 - R), y, w``."""

    @staticmethod
    def forward(ctx, raw, log_reach, log_not_reach, joint, weight):
        loss, grad_raw, grad_reach = _loss_and_gradients(
            raw, log_reach, log_not_reach, joint, weight)
        # attributes, not save_for_backward: computed here, never modified
        ctx.gradients = grad_raw, grad_reach
        ctx.inputs = (raw, log_reach, log_not_reach, joint, weight)
        return loss

    @staticmethod
    def backward(ctx, grad):
        if torch.is_grad_enabled():
            return _recorded_gradients(ctx.inputs, ctx.needs_input_grad, grad)
        grad_raw, grad_reach = ctx.gradients
        grad_reach = grad_reach * grad
        return (grad_raw * grad, grad_reach.sum_to_size(ctx.inputs[1].shape),
                (-grad_reach).sum_to_size(ctx.inputs[2].shape), None, None)


class _ParentLogitLoss(torch.autograd.Function):
    """Inputs ``raw, a, y, w`` (``dz/da = dz/dlog R``)."""

    @staticmethod
    def forward(ctx, raw, parent_logit, joint, weight):
        log_reach = F.logsigmoid(parent_logit)
        loss, grad_raw, grad_reach = _loss_and_gradients(
            raw, log_reach, log_reach - parent_logit, joint, weight)
        ctx.gradients = grad_raw, grad_reach
        ctx.inputs = (raw, parent_logit, joint, weight)
        return loss

    @staticmethod
    def backward(ctx, grad):
        if torch.is_grad_enabled():
            return _recorded_gradients(ctx.inputs, ctx.needs_input_grad, grad)
        grad_raw, grad_reach = ctx.gradients
        return (grad_raw * grad,
                (grad_reach * grad).sum_to_size(ctx.inputs[1].shape), None, None)


def _recorded_gradients(inputs, needs_input_grad, grad):
    """The gradients through the torch formula, recorded (for
    ``create_graph=True``)."""
    # aliases: the partial derivatives, where an input is computed from
    # another (log (1 - R) from log R), not the total ones
    inputs = [x.view_as(x) for x in inputs]
    wanted = [x for x, needed in zip(inputs, needs_input_grad) if needed]
    grads = iter(torch.autograd.grad(_reference(*inputs), wanted, grad,
                                     create_graph=True, allow_unused=True))
    return tuple(next(grads) if needed else None for needed in needs_input_grad)
