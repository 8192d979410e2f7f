"""A strategy's step on several processes: the global batch from the shards.

Data-parallel training gives each process a shard of every batch. Averaging
the processes' gradients of their own weighted losses (what
``DistributedDataParallel`` does) is the global batch's step only for a
combination that is linear in the task losses, with the same weights on
every process and the same number of labels of each task in every shard.
So the strategies reduce what they combine instead, with the functions
below (called by :class:`~skmtl.neural.AcceleratedMultiTaskNet` and
:class:`~skmtl.neural.weighting.GradientWeighting`):

* :func:`global_task_losses`: the global batch's task losses, for a
  loss-level strategy to combine (``distributed_step == "loss"``);
* :func:`reduce_jacobian`: the task Jacobian of the shared parameters and
  the task losses of the global batch, in one all-reduce
  (``"jacobian"``);
* :func:`reduce_representation_rows` and :func:`summed_gram`: each
  process's part of the representation form's rows and their Gram matrix
  summed across processes (``"gram"``);
* :func:`reduce_task_gradients`, :func:`sum_gradients`: the other
  parameters' (heads') gradients of the global batch;
* :func:`same_random_draws`: the strategy's random draws, the same on
  every process (the first process's).

Each process's share of a task is its number of labelled entries of the
task over the global batch's (the net's ``train_task_counts_``), so a task
mean over labelled entries is the global batch's even when the labels are
spread unevenly over the shards. The net provides the communication
(``n_processes``, ``sum_across_processes``, ``same_random_draws``:
:class:`~skmtl.neural.AcceleratedMultiTaskNet`); with a net that has none,
or on one process, every function here is the identity.
"""

import contextlib

import numpy as np
import torch

__all__ = ["plain_module", "reduce_jacobian", "reduce_task_gradients",
           "reduce_representation_rows", "summed_gram",
           "task_shares", "sum_gradients", "global_task_losses",
           "same_random_draws"]


def plain_module(net):
    """The net's module, unwrapped from a data-parallel wrapper if any."""
    unwrap = getattr(net, "plain_module", None)
    return unwrap() if callable(unwrap) else net.module_


def _several(net):
    return getattr(net, "n_processes", 1) > 1


def _sum(net, tensors, shapes):
    """Sums across processes of ``tensors`` (tensors of ``shapes`` or None):
    None where every process has None, zeros for a process's None."""
    tensors = list(tensors)
    like = next((t for t in tensors if t is not None), None)
    if like is None:
        return tensors
    present = torch.tensor([t is not None for t in tensors], dtype=like.dtype,
                           device=like.device)
    filled = [like.new_zeros(shape) if t is None else t.detach()
              for t, shape in zip(tensors, shapes)]
    *summed, present = net.sum_across_processes(filled + [present])
    return [s if flag > 0 else None for s, flag in zip(summed, present.tolist())]


def _counts(net, like):
    """This process's labelled entries of each task in its shard (ones when
    the net does not say: equal shards)."""
    counts = getattr(net, "train_task_counts_", None)
    if counts is None:
        return torch.ones_like(like)
    return counts.to(dtype=like.dtype, device=like.device)


def reduce_jacobian(net, jacobian, task_losses, params):
    """The task Jacobian and the task losses of the global batch.

    Each process holds the per-task gradients, with respect to the shared
    ``params``, of its shard's task losses (means over the task's labelled
    entries). Weighted by the process's count ``n_k`` of labelled entries
    of task ``k`` and summed, over the summed counts, they are the global
    batch's: one all-reduce of ``n_tasks × (n_shared + 2)`` numbers.

    Returns
    -------
    jacobian : list of tensors
    task_losses : tensor of shape (n_tasks,)
        The global batch's (detached) on several processes; on one, the
        losses as they are, still attached to their graph.
    shares : tensor of shape (n_tasks,) or None
        This process's ``n_k / sum of n_k`` (None on one process).
    """
    if not _several(net):
        return jacobian, task_losses, None
    counts = _counts(net, task_losses.detach())
    K = len(counts)
    weighted = [None if g is None else g * counts.view((K,) + (1,) * (g.ndim - 1))
                for g in jacobian]
    shapes = [(K,) + tuple(p.shape) for p in params] + [(K,), (K,)]
    *summed, losses, total = _sum(
        net, weighted + [task_losses.detach() * counts, counts], shapes)
    inverse = torch.where(total > 0, 1 / total.clamp_min(1e-30),
                          torch.zeros_like(total))
    jacobian = [None if g is None else g * inverse.view((K,) + (1,) * (g.ndim - 1))
                for g in summed]
    return jacobian, losses * inverse, counts * inverse


def reduce_task_gradients(net, task_gradients, coefficients, shares, params):
    """``sum_k coefficients[k] grad L_k`` of ``params`` over the global batch.

    ``task_gradients(c)`` gives this process's ``sum_k c_k grad L_k`` (None
    where no task reaches a parameter); with ``c_k = coefficients[k] *
    shares[k]`` the sum across processes is the global batch's. On one
    process (``shares`` None), ``task_gradients(coefficients)``.
    """
    if shares is None:
        return task_gradients(coefficients)
    c = np.asarray(coefficients, dtype=float) * shares.cpu().double().numpy()
    return _sum(net, task_gradients(c), [p.shape for p in params])


def task_shares(net, task_losses):
    """This process's share ``n_k / sum of n_k`` of each task's labelled
    entries (one all-reduce of ``n_tasks`` numbers); None on one process."""
    if not _several(net):
        return None
    counts = _counts(net, task_losses.detach())
    (total,) = net.sum_across_processes([counts])
    return torch.where(total > 0, counts / total.clamp_min(1e-30),
                       torch.zeros_like(total))


def sum_gradients(net, params):
    """Sum the ``.grad`` of ``params`` across processes, in place (no-op on
    one process)."""
    if not _several(net):
        return
    params = [p for p in params if p.requires_grad]
    summed = _sum(net, [p.grad for p in params], [p.shape for p in params])
    for p, g in zip(params, summed):
        if g is None:
            continue
        if p.grad is None:
            p.grad = torch.empty_like(p, memory_format=torch.preserve_format)
        p.grad.copy_(g)


def global_task_losses(net, task_losses, counts=None):
    """The global batch's task losses, and this process's shares.

    One all-reduce of ``2 n_tasks`` numbers: each process's task means
    weighted by its labelled entries of each task (``counts``; by default
    the net's ``train_task_counts_`` of the current step), and those counts.

    Returns
    -------
    task_losses : tensor of shape (n_tasks,)
        Detached; the same on every process.
    shares : tensor of shape (n_tasks,)
        This process's ``n_k / sum of n_k``.
    """
    if counts is None:
        counts = _counts(net, task_losses.detach())
    counts = counts.to(dtype=task_losses.dtype)
    losses, total = net.sum_across_processes([task_losses.detach() * counts,
                                              counts])
    inverse = torch.where(total > 0, 1 / total.clamp_min(1e-30),
                          torch.zeros_like(total))
    return losses * inverse, counts * inverse


def reduce_representation_rows(net, rows, task_losses):
    """This process's part of the global batch's representation rows.

    With ``on="representation"`` the rows of ``J`` are the tasks'
    gradients of the shard's representation (batch × features): those of
    the global batch's task means are the shard's rows times the process's
    share of each task. Their Gram matrix is the sum of the processes'
    (:func:`summed_gram`), and a combination ``w @ J`` restricted to the
    shard is ``w`` of the shard's scaled rows.

    Returns
    -------
    rows : list of tensors
    task_losses : tensor of shape (n_tasks,)
        The global batch's (detached) on several processes.
    shares : tensor of shape (n_tasks,) or None
        None on one process (and ``rows, task_losses`` as they are).
    """
    if not _several(net):
        return rows, task_losses, None
    losses, shares = global_task_losses(net, task_losses)
    K = len(shares)
    rows = [r.scaled(shares) if hasattr(r, "scaled")
            else r * shares.view((K,) + (1,) * (r.ndim - 1)).to(r.dtype) for r in rows]
    return rows, losses, shares


@contextlib.contextmanager
def summed_gram(strategy, net):
    """Context in which ``strategy``'s Gram matrix is summed across processes
    (a no-op on one process)."""
    if not _several(net):
        yield
        return
    strategy._gram_reduction = lambda gram: net.sum_across_processes([gram])[0]
    try:
        yield
    finally:
        vars(strategy).pop("_gram_reduction", None)


def same_random_draws(net):
    """Context in which the strategy's random draws are the same on every
    process (those of the first process; a no-op on one process)."""
    if not _several(net):
        return contextlib.nullcontext()
    return net.same_random_draws()
