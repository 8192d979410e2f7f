"""Per-task gradients of a batch, their Gram matrix, and writing a combination.

The gradient-level strategies need the Jacobian ``J`` (n_tasks × n_shared) of
the task losses with respect to the shared parameters, its Gram matrix
``J @ J.T`` and, once the weights ``w`` are chosen, ``w @ J`` in the shared
parameters' ``.grad``. The other parameters (task heads, gates, task
columns) get ``sum_k c_k grad L_k`` with coefficients the strategy chooses
(ones: each head keeps its own task's gradient).
"""

import numpy as np
import torch

__all__ = ["split_parameters", "task_gradients", "gram_matrix", "write_gradients"]


def split_parameters(module, owner):
    """(shared, other) trainable parameters of a multi-task module."""
    shared_fn = getattr(module, "shared_parameters", None)
    shared = [p for p in (shared_fn() if callable(shared_fn) else [])
              if p.requires_grad]
    if not shared:
        raise ValueError(f"{owner} combines the task gradients of the shared "
                         f"parameters, but {type(module).__name__} shares none "
                         f"(shared_parameters() is empty, e.g. SoftSharing); use "
                         f"an architecture with shared layers or a loss-level "
                         f"strategy.")
    ids = {id(p) for p in shared}
    others = [p for p in module.parameters() if p.requires_grad and id(p) not in ids]
    return shared, others


def task_gradients(task_losses, params, retain_graph=False):
    """Gradient of each task loss with respect to each parameter.

    One backward pass per task (``torch.autograd.grad``); on small networks
    this is as fast as a batched (vmapped) backward for a few tasks and
    faster for many (vmap runs each head's small operations for every task).

    Returns
    -------
    grads : list of torch.Tensor
        For each parameter, a tensor of shape ``(n_tasks, *param.shape)``
        (zeros where a task does not reach the parameter).
    """
    K = task_losses.shape[0]
    per_task = []
    for k in range(K):
        keep = retain_graph or k < K - 1
        if task_losses[k].requires_grad:
            per_task.append(torch.autograd.grad(task_losses[k], params,
                                                retain_graph=keep, allow_unused=True))
        else:
            per_task.append((None,) * len(params))
    out = []
    for j, p in enumerate(params):
        column = [g[j] for g in per_task]
        if all(g is None for g in column):
            out.append(None)
            continue
        out.append(torch.stack([torch.zeros_like(p) if g is None else g
                                for g in column]))
    return out


def gram_matrix(grads):
    """``J @ J.T`` (float64 ndarray) of per-task gradients given per parameter."""
    total = None
    for g in grads:
        if g is None:
            continue
        flat = g.reshape(g.shape[0], -1)
        part = flat @ flat.T
        total = part if total is None else total + part
    if total is None:
        raise ValueError("no task reaches the shared parameters in this batch.")
    return total.detach().cpu().double().numpy()


def write_gradients(params, grads, coefficients):
    """Add ``sum_k coefficients[k] * grads[k]`` to each parameter's ``.grad``."""
    weights = None
    for p, g in zip(params, grads):
        if g is None:
            continue
        if weights is None:
            weights = torch.as_tensor(np.asarray(coefficients), dtype=g.dtype,
                                      device=g.device)
        combined = torch.tensordot(weights, g, dims=1)
        if p.grad is None:
            p.grad = combined
        else:
            p.grad.add_(combined)
