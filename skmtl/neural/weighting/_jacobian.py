"""The one Jacobian path of the gradient-level strategies.

:class:`GradientWeighting` is their base class: it computes the task
Jacobian, hands it to the strategy's combination, writes the gradients and
finishes the step. The functions below are its parts.

The gradient-level strategies need the Jacobian ``J`` (n_tasks × n_shared) of
the task losses with respect to the shared parameters, its Gram matrix
``J @ J.T`` and, once the weights ``w`` are chosen, ``w @ J`` in the shared
parameters' ``.grad``. The other parameters (task heads, gates, task
columns) get ``sum_k c_k grad L_k`` with coefficients the strategy chooses
(ones: each head keeps its own task's gradient).

Two ways to the Jacobian:

* when the architecture exposes its shared representation ``h`` with one
  alias per head (:meth:`~skmtl.neural.MultiTaskModule.shared_representation`
  with ``per_task=True``, e.g. :class:`~skmtl.neural.HardSharing`), one
  backward pass through the heads gives every task's gradient of ``h``, and
  one batched (vmapped) backward pass through the trunk turns them into
  ``J``;
* otherwise, one backward pass per task through the whole network.

With ``on="representation"`` (:class:`GradientWeighting`'s option) the rows
of ``J`` are the tasks' gradients of ``h`` itself (batch × features,
flattened; :func:`representation_jacobian`), the strategy combines them
into one gradient of ``h``, and one backward pass of it through the trunk
writes the shared parameters' gradients (:func:`representation_backward`):
LibMTL's ``rep_grad``. No per-task pass through the trunk, no parameter
Jacobian. When each head is a linear layer ``z_k = h A_k^T + b_k``
(:class:`~skmtl.neural.HardSharing`'s default heads), task ``k``'s row is
``dL_k/dz_k A_k`` and is kept as these two factors (:class:`FactoredRows`):
the backward pass through the heads stops at the ``z_k``, and the Gram
matrix and the combination cost ``batch × (sum of the heads' widths)²``
operations instead of ``n_tasks² × batch × features`` and a copy of the
rows, which on a small network cost as much as the rest of the step.
"""

import numpy as np
import torch

from ..._dependencies import TaskGraph
from ._base import _StepAveraged
from ._processes import (
    plain_module,
    reduce_jacobian,
    reduce_representation_rows,
    reduce_task_gradients,
    same_random_draws,
    sum_gradients,
    summed_gram,
)

__all__ = ["GradientWeighting", "split_parameters", "heads_separate_tasks",
           "per_task_representation",
           "representation_gradients", "task_jacobian", "representation_jacobian",
           "representation_backward", "gram_matrix", "check_gram", "weighted_sum",
           "write_gradients", "finish_step", "jacobian_rows", "parameter_views",
           "FactoredRows", "GRADIENTS_ON"]

GRADIENTS_ON = ("parameters", "representation")
"""What a gradient-level strategy's task gradients are taken with respect to."""


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


def heads_separate_tasks(tasks):
    """Whether each task's loss reads its own head's output only.

    Then one backward pass of ``sum_k L_k`` to the alias of the
    representation that each head reads (or to each head's output) gives
    task ``k``'s gradient at head ``k``'s. A dependent task
    (``Task(..., given=parent)``) is not so: its loss reads its parent's
    output too (the probability of the parent path), and that pass would
    count its gradient through the parent's head as the parent's. Its
    strategies take one pass per task instead.
    """
    return not TaskGraph(tasks).has_dependencies


def per_task_representation(module, separate=True):
    """(representation, per-head aliases) of the last forward pass, or None
    (also when the heads do not ``separate`` the tasks' gradients, see
    :func:`heads_separate_tasks`)."""
    get = getattr(module, "shared_representation", None)
    if not separate or not callable(get):
        return None
    try:
        features = get()
        aliases = get(per_task=True)
    except (TypeError, RuntimeError):
        return None
    if isinstance(aliases, torch.Tensor) or len(aliases) == 0:
        return None
    return features, list(aliases)


def representation_gradients(task_losses, aliases, extra=(), retain_graph=True,
                             stack=True, fill=True):
    """Each task's gradient of the representation, in one backward pass.

    Parameters
    ----------
    task_losses : tensor of shape (n_tasks,)
    aliases : list of tensors
        The views of the representation read by each task's head.
    extra : list of tensors
        Other inputs whose gradient of ``sum_k L_k`` is wanted too.

    Returns
    -------
    grads : tensor of shape (n_tasks, *representation.shape)
        (with ``stack=False``, the list of the tasks' gradients, zeros for a
        task that does not reach its alias, or None with ``fill=False``).
    extra_grads : list of tensors or None
    """
    wanted = list(aliases) + list(extra)
    grads = torch.autograd.grad(task_losses.sum(), wanted, retain_graph=retain_graph,
                                allow_unused=True)
    if all(g is None for g in grads[:len(aliases)]):
        raise RuntimeError("the recorded shared representation is not part of the "
                           "task losses' graph: it must come from the forward pass "
                           "of the current batch, in training mode.")
    per_task = [torch.zeros_like(a) if g is None and fill else g
                for a, g in zip(aliases, grads)]
    return (torch.stack(per_task) if stack else per_task), list(grads[len(aliases):])


def _per_task_loop(task_losses, params, retain_graph=False):
    """One backward pass per task: list over params of (K, *shape) or None."""
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
        else:
            out.append(torch.stack([torch.zeros_like(p) if g is None else g
                                    for g in column]))
    return out


def task_jacobian(task_losses, module, shared, others, retain_graph=True,
                  separate=True):
    """Per-task gradients of the shared parameters, and the others' gradients.

    With ``retain_graph=False`` the batched pass through the trunk frees
    the trunk's activations as it goes (the heads' part of the graph stays
    for ``other_gradients``): the same numbers, less memory, when nothing
    back-propagates through the trunk afterwards (no penalty). With
    ``separate=False`` (a task's loss reads another task's head, see
    :func:`heads_separate_tasks`) one pass per task instead of one pass
    through the heads for all of them.

    Returns
    -------
    jacobian : list of tensors
        For each shared parameter, ``(n_tasks, *param.shape)`` (None when no
        task reaches it).
    other_gradients : callable
        ``other_gradients(coefficients)`` returns, for each other parameter,
        ``sum_k coefficients[k] grad L_k`` (None when no task reaches it).
    """
    recorded = per_task_representation(module, separate)
    if recorded is None:
        grads = _per_task_loop(task_losses, shared + others, retain_graph)
        jacobian, rest = grads[:len(shared)], grads[len(shared):]

        def other_gradients(coefficients):
            c = torch.as_tensor(np.asarray(coefficients), dtype=task_losses.dtype,
                                device=task_losses.device)
            return [None if g is None else torch.tensordot(c, g, dims=1)
                    for g in rest]

        return jacobian, other_gradients

    features, aliases = recorded
    per_task, summed = representation_gradients(task_losses, aliases, others)
    jacobian = list(torch.autograd.grad(features, shared, grad_outputs=per_task,
                                        is_grads_batched=True,
                                        retain_graph=retain_graph, allow_unused=True))
    return jacobian, _other_gradients(task_losses, others, summed)


def _other_gradients(task_losses, others, summed):
    """``other_gradients(c)``: ``sum_k c_k grad L_k`` of the other parameters,
    given their gradients of ``sum_k L_k`` (``summed``, for c = ones)."""

    def other_gradients(coefficients):
        coefficients = np.asarray(coefficients, dtype=float)
        if np.all(coefficients == 1.0):
            return summed
        c = torch.as_tensor(coefficients, dtype=task_losses.dtype,
                            device=task_losses.device)
        return list(torch.autograd.grad((c * task_losses).sum(), others,
                                        allow_unused=True))

    return other_gradients


def representation_jacobian(task_losses, module, others, owner,
                            remedy="on='parameters'", factored=False,
                            summed_others=True, separate=True):
    """Per-task gradients of the shared representation: ``on="representation"``.

    One backward pass through the heads gives every task's gradient of the
    representation ``h`` that all heads read (and the other parameters'
    gradients of ``sum_k L_k``); a module that records ``h`` without one
    alias per head costs one pass through the heads per task.

    With ``factored`` and heads that are linear layers (recorded by the
    module's ``_head_factors``: :class:`~skmtl.neural.HardSharing` with
    ``head_hidden=()``, the default),
    the pass stops at those layers' outputs ``z_k = h A_k^T + b_k``: task
    ``k``'s row is ``dL_k/dz_k A_k``, kept as its two factors
    (:class:`FactoredRows`), whose Gram matrix and combinations cost
    ``batch × (sum of the heads' widths)²`` instead of ``n_tasks² × batch ×
    features``. For a combination that reads the rows only through
    :func:`gram_matrix` and :func:`weighted_sum` (or the factors' other
    methods). When the other parameters are those linear layers, their
    gradients ``sum_k c_k grad L_k`` are products of the same factors
    (``c_k dL_k/dz_k^T h`` and its sum over the batch), so the pass leaves
    them out.

    Parameters
    ----------
    task_losses : tensor of shape (n_tasks,)
    module : MultiTaskModule
    others : list of tensors
        The parameters that are not shared (heads, gates).
    owner, remedy : str
        The strategy, and what to use instead, for the error message.
    factored : bool, default=False
        Keep the rows as :class:`FactoredRows` when the heads are linear
        layers.
    summed_others : bool, default=True
        Whether ``other_gradients`` is wanted; False when the caller
        back-propagates ``sum_k w_k L_k`` through the whole network itself,
        then ``other_gradients`` is None unless it comes from the factors.
    separate : bool, default=True
        Whether each task's loss reads its own head only
        (:func:`heads_separate_tasks`); else one pass per task through the
        heads to ``h``.

    Returns
    -------
    features : tensor
        The representation ``h`` (batch, ...), part of the step's graph.
    jacobian : list of one tensor
        ``(n_tasks, *h.shape)``: the rows of the strategy's ``J``.
    other_gradients : callable or None
        As in :func:`task_jacobian`.

    Raises
    ------
    ValueError
        When the architecture has no single representation read by every
        head (soft sharing, cross-stitch, MMoE, PLE, CGC).
    """
    recorded = per_task_representation(module, separate)
    factors = _head_factors(module) if factored and recorded is not None else None
    if factors is not None:
        outputs = [output for output, _ in factors]
        layers = [layer for _, layer in factors]
        if _head_parameters(layers) == {id(p) for p in others}:
            # the other parameters are the heads' layers: their gradients
            # are products of the same factors, not a pass through the heads
            deltas, _ = representation_gradients(task_losses, outputs, stack=False,
                                                 fill=False)
            reached = [d is not None for d in deltas]
            deltas = [torch.zeros_like(z) if d is None else d
                      for z, d in zip(outputs, deltas)]
            rows = FactoredRows(deltas, [layer.weight for layer in layers],
                                recorded[0].shape)
            return recorded[0], [rows], _head_gradients(rows, layers, reached,
                                                        recorded[0], others)
        deltas, summed = representation_gradients(
            task_losses, outputs, others if summed_others else (), stack=False)
        rows = FactoredRows(deltas, [layer.weight for layer in layers],
                            recorded[0].shape)
        return recorded[0], [rows], (_other_gradients(task_losses, others, summed)
                                     if summed_others else None)
    if recorded is not None:
        features, aliases = recorded
        per_task, summed = representation_gradients(
            task_losses, aliases, others if summed_others else ())
        return features, [per_task], (_other_gradients(task_losses, others, summed)
                                      if summed_others else None)
    get = getattr(module, "shared_representation", None)
    try:
        features = get() if callable(get) else None
    except (TypeError, RuntimeError):
        features = None
    if not isinstance(features, torch.Tensor):
        inner = getattr(module, "module", module)   # EmbeddedInputs wraps one
        raise ValueError(
            f"{owner} combines the tasks' gradients of the shared "
            f"representation, but {type(inner).__name__} has no single "
            f"representation read by every head (each task reads its own "
            f"trunk, mixture or column); use {remedy} or an architecture with "
            f"one, e.g. HardSharing.")
    rows = []
    for k in range(task_losses.shape[0]):
        g = None
        if task_losses[k].requires_grad:
            (g,) = torch.autograd.grad(task_losses[k], features, retain_graph=True,
                                       allow_unused=True)
        rows.append(torch.zeros_like(features) if g is None else g)
    if not summed_others:
        return features, [torch.stack(rows)], None
    summed = list(torch.autograd.grad(task_losses.sum(), others, retain_graph=True,
                                      allow_unused=True)) if others else []
    return (features, [torch.stack(rows)],
            _other_gradients(task_losses, others, summed))


def _head_factors(module):
    """The module's recorded ``[(z_k, linear layer), ...]`` of its heads, or None."""
    get = getattr(module, "_head_factors", None)
    return get() if callable(get) else None


def _head_parameters(layers):
    """The ids of the trainable parameters of the heads' linear layers (their
    weight and bias: ``Module.parameters()`` walks the module tree, several
    times slower)."""
    return {id(p) for layer in layers for p in (layer.weight, layer.bias)
            if p is not None and p.requires_grad}


def _head_gradients(rows, layers, reached, features, others):
    """``other_gradients(c)`` when the other parameters are the heads' linear
    layers ``z_k = h A_k^T + b_k``: ``c_k D_k^T h`` and ``c_k 1^T D_k``.

    One product ``(D * c)^T h`` for all the heads, where a backward pass
    through them costs one product per head and traverses the losses'
    graph again. None for a head whose task does not reach it (as autograd
    leaves it).
    """
    inputs = features.detach().reshape(features.shape[0], -1).to(rows.dtype)
    widths = [layer.weight.shape[0] for layer in layers]
    where = {}
    for k, layer in enumerate(layers):
        where[id(layer.weight)] = (k, 0)
        if layer.bias is not None:
            where[id(layer.bias)] = (k, 1)

    def other_gradients(coefficients):
        coefficients = np.asarray(coefficients, dtype=float)
        scaled = rows.deltas
        if not np.all(coefficients == 1.0):
            c = torch.as_tensor(coefficients, dtype=rows.dtype, device=rows.device)
            scaled = scaled * c.index_select(0, rows.blocks)
        parts = ((scaled.T @ inputs).split(widths), scaled.sum(0).split(widths))
        out = []
        for p in others:
            k, part = where[id(p)]
            out.append(parts[part][k] if reached[k] else None)
        return out

    return other_gradients


class FactoredRows:
    """The tasks' gradients of the representation, as two factors per task.

    Task ``k``'s head begins with a linear layer ``z_k = h A_k^T + b_k``
    (``A_k`` of shape ``(m_k, features)``), so its gradient of ``h`` is
    ``D_k A_k`` with ``D_k = dL_k/dz_k`` (batch × ``m_k``). With ``D`` and
    ``A`` the tasks' factors side by side (batch × ``M`` and ``M`` ×
    features, ``M = sum_k m_k``), the Gram matrix is the sum over each pair
    of tasks' block of ``(D^T D) * (A A^T)`` (entrywise), in float64, and
    ``sum_k w_k D_k A_k = (D * w_blocks) A``: a step costs ``batch × M²``
    and ``batch × M × features`` operations, not ``n_tasks² × batch ×
    features`` and a copy of every row. The rows themselves are only
    formed on demand (:meth:`dense`).

    Parameters
    ----------
    deltas : list of tensors of shape (batch, m_k)
        ``dL_k/dz_k``.
    weights : list of tensors of shape (m_k, n_features)
        The heads' first weight matrices ``A_k``.
    shape : torch.Size
        The representation's shape (batch, ...), whose flattened rows the
        heads read.
    """

    # (task of each column of D, its one-hot (M, n_tasks) float64 matrix)
    # by the heads' widths and device: the same at every step
    _layouts = {}

    def __init__(self, deltas, weights, shape):
        with torch.no_grad():
            self.deltas = torch.cat(deltas, dim=1)
            self.weights = torch.cat(weights, dim=0)
        self.n_tasks = len(deltas)
        self.shape = torch.Size(shape)
        self.dtype, self.device = self.deltas.dtype, self.deltas.device
        key = (tuple(d.shape[1] for d in deltas), self.device)
        layout = self._layouts.get(key)
        if layout is None:
            if len(self._layouts) > 16:
                self._layouts.clear()
            blocks = torch.repeat_interleave(torch.arange(self.n_tasks),
                                             torch.tensor(key[0]))
            one_hot = torch.nn.functional.one_hot(blocks, self.n_tasks).to(
                self.device, torch.float64)
            layout = self._layouts[key] = (blocks.to(self.device), one_hot,
                                           one_hot.T.contiguous())
        self.blocks, self._one_hot, self._one_hot_t = layout

    def gram(self):
        """``J J^T`` (float64 tensor, n_tasks × n_tasks)."""
        D = self.deltas.double()
        A = self.weights.double()
        return self._one_hot_t @ ((D.T @ D) * (A @ A.T)) @ self._one_hot

    def combination(self, w):
        """``sum_k w_k dL_k/dh`` (a tensor of the representation's shape)."""
        scaled = self.deltas * w.to(self.dtype).index_select(0, self.blocks)
        return (scaled @ self.weights).view(self.shape)

    def feature_squares(self, float64=True):
        """``sum over the batch of (dL_k/dh)²`` per task and feature of ``h``:
        a tensor of shape (n_tasks, *representation.shape[1:]), computed in
        float64 (or in the rows' dtype)."""
        D = self.deltas.double() if float64 else self.deltas
        A = self.weights.double() if float64 else self.weights
        same_task = self.blocks[:, None] == self.blocks[None, :]
        per_output = ((D.T @ D) * same_task) @ A * A
        squares = per_output.new_zeros((self.n_tasks, A.shape[1])).index_add_(
            0, self.blocks, per_output)
        return squares.to(self.dtype).view((self.n_tasks,) + self.shape[1:])

    def batch_sums(self, weights):
        """``sum_b weights[b] * (dL_k/dh)[b]`` per task: a tensor of shape
        (n_tasks, n_features), ``weights`` of the representation's shape
        (e.g. the signs of ``h``) and the features flattened."""
        weights = weights.reshape(self.shape[0], -1).to(self.dtype)
        per_output = (self.deltas.T @ weights) * self.weights
        return per_output.new_zeros((self.n_tasks, per_output.shape[1])).index_add_(
            0, self.blocks, per_output)

    def masked_combination(self, mask):
        """``sum_k dL_k/dh * mask[k]`` (a tensor of the representation's
        shape), ``mask`` of shape (n_tasks, n_features): one factor per task
        and feature, the same for every sample."""
        masked = self.weights * mask.to(self.dtype).index_select(0, self.blocks)
        return (self.deltas @ masked).view(self.shape)

    def scaled(self, factors):
        """The rows times ``factors[k]`` (tensor of shape (n_tasks,))."""
        out = object.__new__(FactoredRows)
        vars(out).update(vars(self))
        out.deltas = self.deltas * factors.to(self.dtype).index_select(0, self.blocks)
        return out

    def dense(self):
        """The rows, a tensor of shape (n_tasks, *representation.shape)."""
        return torch.stack([self.combination(w) for w in torch.eye(
            self.n_tasks, dtype=self.deltas.dtype, device=self.deltas.device)])


def representation_backward(features, shared, direction, retain_graph=False):
    """Write the shared parameters' gradients from a gradient of the representation.

    One backward pass of ``direction`` (the combined gradient of ``h``)
    through the trunk: for weights ``w``, ``direction = sum_k w_k dL_k/dh``
    gives the shared parameters the gradient of ``sum_k w_k L_k``. The
    autograd engine adds it to their ``.grad`` as a plain backward does, in
    each parameter's memory layout (see :func:`write_gradients`); taking
    the gradients with ``torch.autograd.grad`` and writing them cost about
    0.2 ms more per step, as much as a small network's combination. The
    pass frees the trunk's activations as it goes, as a plain backward
    does, unless ``retain_graph`` (a penalty still to back-propagate may
    read them).
    """
    if direction is None:
        return
    torch.autograd.backward(features, direction.to(features.dtype),
                            retain_graph=retain_graph, inputs=shared)


def gram_matrix(grads, reduce=None):
    """``J @ J.T`` (float64 ndarray) of per-task gradients given per parameter.

    ``reduce``, if given, maps the Gram tensor before it leaves the device
    (e.g. a sum across processes of their parts of ``J``).
    """
    total = None
    for g in grads:
        if g is None:
            continue
        if isinstance(g, FactoredRows):
            part = g.gram()
            total = part if total is None else total + part
            continue
        flat = g.reshape(g.shape[0], -1)
        part = flat @ flat.T
        total = part if total is None else total + part
    if total is None:
        raise ValueError("no task reaches the shared parameters in this batch.")
    if reduce is not None:
        total = reduce(total)
    return total.detach().cpu().double().numpy()


def weighted_sum(grads, weights):
    """``sum_k weights[k] * grads[k]`` for each parameter (None where no task
    reaches it): the direction ``w @ J`` of per-task gradients given per
    parameter."""
    w, out = None, []
    for g in grads:
        if g is None:
            out.append(None)
            continue
        if w is None:
            w = torch.as_tensor(np.asarray(weights), dtype=g.dtype, device=g.device)
        out.append(g.combination(w) if isinstance(g, FactoredRows)
                   else torch.tensordot(w, g, dims=1))
    return out


def write_gradients(params, grads, coefficients=None):
    """Add ``sum_k coefficients[k] * grads[k]`` (or ``grads`` itself) to ``.grad``.

    A gradient is written in its parameter's memory layout (the same
    strides), as ``backward`` writes it: torch's gradient layout contract,
    which the fused optimizers rely on. Torch's fused Adam on the CPU walks
    the parameter and its gradient in memory order without checking that
    their strides agree, so a channels-last convolution weight
    (:class:`~skmtl.neural.ConvNet`) given a gradient in the default layout
    would be updated with its entries permuted, without an error (on CUDA
    the fused kernel raises instead).
    """
    if coefficients is not None:
        grads = weighted_sum(grads, coefficients)
    for p, combined in zip(params, grads):
        if combined is None:
            continue
        combined = combined.detach()
        if p.grad is not None:
            p.grad.add_(combined)
        elif combined.stride() == p.stride():
            p.grad = combined
        else:
            p.grad = torch.empty_like(p, memory_format=torch.preserve_format
                                      ).copy_(combined)


def jacobian_rows(params, n_tasks, like):
    """Zeros of shape ``(n_tasks, n_params)``: per-task statistics of ``params``.

    One row per task over all the parameters, for a buffer of a strategy
    (e.g. moving averages of the task gradients); :func:`parameter_views`
    gives each parameter's part.
    """
    return like.new_zeros((n_tasks, sum(p.numel() for p in params)))


def parameter_views(rows, params):
    """Views ``(n_tasks, *param.shape)`` of :func:`jacobian_rows`, per parameter."""
    views, start = [], 0
    for p in params:
        stop = start + p.numel()
        views.append(rows[:, start:stop].view((rows.shape[0],) + tuple(p.shape)))
        start = stop
    return views


def check_gram(gram):
    """The Gram matrix as a symmetric float64 ndarray; ValueError if it is not a
    finite square matrix (the kernels' input check)."""
    G = np.asarray(gram, dtype=np.float64)
    if G.ndim != 2 or G.shape[0] != G.shape[1]:
        raise ValueError(f"gram must be a square (n_tasks, n_tasks) matrix, got "
                         f"shape {G.shape}.")
    if not np.all(np.isfinite(G)):
        raise ValueError("gram holds NaN or inf: a task gradient is not finite.")
    return (G + G.T) / 2


def _weighted_loss_backward(net, losses, weights, shares, params, retain_graph):
    """Back-propagate ``sum_k weights[k] L_k`` into ``params``' ``.grad``.

    On several processes (``shares`` not None) each process's part of the
    global batch's step (its losses times its shares), summed across them.
    """
    w = torch.as_tensor(weights, dtype=losses.dtype, device=losses.device)
    if shares is not None:
        w = w * shares.to(w.dtype)
    torch.autograd.backward((w * losses).sum(), inputs=params,
                            retain_graph=retain_graph)
    if shares is not None:
        sum_gradients(net, params)


def finish_step(task_losses, penalty):
    """Back-propagate the penalty (if any); the loss to report."""
    loss = task_losses.detach().sum()
    if penalty is not None:
        penalty.backward()
        loss = loss + penalty.detach()
    return loss


class GradientWeighting(_StepAveraged):
    """Base class of the gradient-level strategies: one step through the task Jacobian.

    Each training step, :meth:`backward`

    1. computes the Jacobian ``J`` of the task losses (of
       :meth:`jacobian_losses`) with respect to the shared parameters
       (:func:`task_jacobian`: one batched backward pass through the trunk
       when the architecture exposes its shared representation, one pass
       per task otherwise);
    2. asks the strategy for its combination, :meth:`combine_jacobian`: the
       gradient of the shared parameters and the task weights;
    3. writes that gradient in each parameter's memory layout
       (:func:`write_gradients`), and gives the other parameters (task
       heads, gates) ``sum_k c_k grad L_k`` with ``c =``
       :meth:`head_coefficients` (ones: each head keeps its own task's
       gradient);
    4. records the weights (their epoch mean goes to the history) and
       back-propagates the architecture's penalty.

    A strategy gives only its combination: :meth:`gram_weights` (task
    weights ``w`` from the Gram matrix ``G = J J^T`` of the tasks whose
    gradient is not zero in the batch; the shared parameters get ``w @ J``:
    PCGrad, MGDA, CAGrad, Nash-MTL, UPGrad, IMTL-G, FairGrad, Aligned-MTL,
    ConFIG, GradVac), or, for a direction that is not a function of ``G``,
    :meth:`combine_jacobian` itself (DB-MTL, ExcessMTL, GradDrop).

    **The cheap form, ``on="representation"``.** Every gradient-level
    strategy takes the parameter ``on``: with ``"parameters"`` (the
    default) the rows of ``J`` are the task gradients of the shared
    parameters, as above; with ``"representation"`` they are the task
    gradients of the shared representation ``h`` (the trunk's output, every
    head's input; batch × features, flattened), which one backward pass
    through the heads gives (:func:`representation_jacobian`). The strategy
    combines them as it would the parameters' rows, into one gradient ``d``
    of ``h`` (``sum_k w_k dL_k/dh`` for weights ``w``), and one backward
    pass of ``d`` through the trunk writes the shared parameters'
    gradients (:func:`representation_backward`): no pass per task through
    the trunk, no parameter Jacobian in memory, so a step costs about as
    much as an equal-weight one (the rows are kept as two small factors
    per task when the heads are linear layers,
    :class:`FactoredRows`, and the heads' gradients are products of the
    same factors; with other heads, a strategy whose heads are trained on
    ``sum_k w_k L_k`` takes that loss's backward pass through the whole
    network instead). It is LibMTL's ``rep_grad`` and, for MGDA,
    Sener & Koltun's upper bound (:class:`MGDAUB`). The combination then
    sees the tasks' conflicts in ``h``, not in the parameters: its
    direction is not the parameter-space method's (the guide's score
    tables compare the two). It needs an architecture with one
    representation read by every head (:class:`~skmtl.neural.HardSharing`,
    or a module implementing
    :meth:`~skmtl.neural.MultiTaskModule.shared_representation`); the
    others raise a ``ValueError``.

    See Also
    --------
    Weighting : The interface every strategy implements.

    Examples
    --------
    The average of the task gradients, as a strategy:

    >>> import numpy as np
    >>> from skmtl import Task
    >>> from skmtl.neural.weighting import GradientWeighting
    >>> class MeanGradient(GradientWeighting):
    ...     def gram_weights(self, gram):
    ...         return np.full(len(gram), 1 / len(gram))
    >>> strategy = MeanGradient().initialize([Task("a"), Task("b")])
    >>> strategy.level, strategy.gram_weights(np.eye(2)).tolist()
    ('gradient', [0.5, 0.5])
    """

    level = "gradient"

    def initialize(self, tasks):
        super().initialize(tasks)
        on = getattr(self, "on", "parameters")
        if not isinstance(on, str) or on not in GRADIENTS_ON:
            raise ValueError(f"{type(self).__name__}: on must be one of "
                             f"{GRADIENTS_ON}, got {on!r}.")
        self._representation_names = self._names_for_errors()
        self._separate = heads_separate_tasks(tasks)
        vars(self).pop("_parameter_split", None)
        return self

    def _split_parameters(self, module):
        """:func:`split_parameters` of ``module``, kept from step to step.

        Walking the module's tree costs about 0.05-0.1 ms, a tenth of a small
        network's combination; the split is taken again at each fit, each
        epoch, for another module, and when a kept parameter stops requiring
        gradients.
        """
        kept = vars(self).get("_parameter_split")
        if (kept is not None and kept[0] is module
                and all(p.requires_grad for p in kept[1])
                and all(p.requires_grad for p in kept[2])):
            return kept[1], kept[2]
        shared, others = split_parameters(module, type(self).__name__)
        object.__setattr__(self, "_parameter_split", (module, shared, others))
        return shared, others

    def on_epoch_end(self, net, task_losses):
        super().on_epoch_end(net, task_losses)
        vars(self).pop("_parameter_split", None)

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_parameter_split", None)   # the module's own parameters
        return state

    def _names_for_errors(self):
        """How the representation form's errors name the strategy, and what
        to use instead (MGDAUB has no ``on``: it is MGDA's such form)."""
        owner = type(self).__name__
        if "on" in self._get_param_names():
            return f"{owner}(on='representation')", "on='parameters'"
        return owner, "MGDA"

    def combine(self, task_losses, training=True):
        return task_losses.sum()

    # whether head_coefficients returns the weights themselves (MGDAUB,
    # NashMTL): the representation form's step, sum_k w_k dL_k/dh through
    # the trunk and sum_k w_k grad L_k for the heads, is then the gradient
    # of sum_k w_k L_k, one backward pass through the whole network (unless
    # the heads are linear layers, whose gradients the rows' factors give)
    _weighted_loss_step = False

    # a Gram matrix reduction during a step of the representation form on
    # several processes (see _processes.summed_gram); None otherwise
    _gram_reduction = None
    # whether an override of combine_jacobian still reads J only through
    # the default's Gram matrix and w @ J (NashMTL, IMTL)
    _gram_combination = False

    # whether an override of combine_jacobian takes the representation
    # form's rows as FactoredRows (DBMTL, ExcessMTL)
    _reads_factored_rows = False

    @property
    def _combines_gram(self):
        """Whether the combination reads ``J`` only through its Gram matrix
        and ``w @ J`` (the default :meth:`combine_jacobian`, or an override
        that says so)."""
        default = type(self).combine_jacobian is GradientWeighting.combine_jacobian
        return default or self._gram_combination

    @property
    def distributed_step(self):
        if not self.uses_gradients:
            return "loss"
        if getattr(self, "on", "parameters") != "representation":
            return "jacobian"
        # the representation form's rows are per-sample gradients of each
        # shard: their Gram matrix sums across processes, so a combination
        # of the Gram matrix distributes; one that reads the rows does not
        return "gram" if self._combines_gram else None

    def backward(self, task_losses, net, penalty=None):
        module = plain_module(net)
        shared, others = self._split_parameters(module)
        losses = self.jacobian_losses(task_losses)
        if getattr(self, "on", "parameters") == "representation":
            # MGDAUB's `on` is not a parameter: it is MGDA's representation
            # form. On several processes each shard has its own rows of the
            # representation: the Gram matrix of the global batch's rows is
            # the sum of the processes', and each process back-propagates
            # the direction's rows of its shard (distributed_step "gram")
            features, jacobian, other_gradients = representation_jacobian(
                losses, module, others,
                *(getattr(self, "_representation_names", None)
                  or self._names_for_errors()),
                factored=self._combines_gram or self._reads_factored_rows,
                summed_others=not self._weighted_loss_step,
                separate=getattr(self, "_separate", True))
            # a weighted-loss step whose heads' gradients the factors give is
            # the step below with head_coefficients = weights
            whole = other_gradients is None
            jacobian, global_losses, shares = reduce_representation_rows(
                net, jacobian, task_losses)
            with same_random_draws(net), summed_gram(self, net):
                direction, weights = self.combine_jacobian(jacobian, global_losses,
                                                           [features])
            if whole:
                _weighted_loss_backward(
                    net, losses, self.head_coefficients(weights, global_losses),
                    shares, shared + others, retain_graph=penalty is not None)
            else:
                representation_backward(features, shared, direction[0],
                                        retain_graph=penalty is not None)
                if shares is not None:
                    sum_gradients(net, shared)
                write_gradients(others, reduce_task_gradients(
                    net, other_gradients,
                    self.head_coefficients(weights, global_losses), shares, others))
        else:
            jacobian, other_gradients = task_jacobian(
                losses, module, shared, others, retain_graph=penalty is not None,
                separate=getattr(self, "_separate", True))
            # on several processes: the global batch's Jacobian and losses
            jacobian, global_losses, shares = reduce_jacobian(
                net, jacobian, task_losses, shared)
            with same_random_draws(net):
                direction, weights = self.combine_jacobian(jacobian, global_losses,
                                                           shared)
            write_gradients(shared, direction)
            write_gradients(others, reduce_task_gradients(
                net, other_gradients, self.head_coefficients(weights, global_losses),
                shares, others))
        self.record_weights(weights)
        return finish_step(task_losses, penalty)

    def jacobian_losses(self, task_losses):
        """The losses whose Jacobian is combined: the task losses themselves."""
        return task_losses

    def combine_jacobian(self, jacobian, task_losses, parameters):
        """The shared parameters' gradient and the task weights of one step.

        The default finds the tasks whose gradient is not zero (a task
        without a label in the batch is left out with weight 0), takes
        their weights ``w`` from :meth:`gram_weights` and returns ``w @ J``.

        Parameters
        ----------
        jacobian : list of tensors
            For each shared parameter, ``(n_tasks, *param.shape)`` (None
            when no task reaches it); with ``on="representation"``, one
            tensor ``(n_tasks, *h.shape)``.
        task_losses : tensor of shape (n_tasks,)
        parameters : list of tensors
            The shared parameters, in the order of ``jacobian`` (with
            ``on="representation"``: ``[h]``, whose batch size changes from
            step to step).

        Returns
        -------
        direction : list of tensors
            The gradient of each shared parameter (None to leave it).
        weights : ndarray or tensor of shape (n_tasks,)
            The task weights to record.
        """
        gram = gram_matrix(jacobian, reduce=self._gram_reduction)
        active = np.diag(gram) > 0
        self._active = active
        self._losses = task_losses.detach()
        if active.all():
            weights = np.array(self.gram_weights(gram), dtype=float)
        else:
            weights = np.zeros(len(gram))
            if active.any():
                weights[active] = self.gram_weights(gram[np.ix_(active, active)])
        return weighted_sum(jacobian, weights), weights

    def gram_weights(self, gram):
        """Weights of the tasks from the Gram matrix of their gradients.

        Parameters
        ----------
        gram : ndarray of shape (n_active, n_active)
            ``J J^T`` (float64) of the tasks whose gradient is not zero in
            the batch (``self._active`` marks them among all tasks).

        Returns
        -------
        weights : ndarray of shape (n_active,)
        """
        raise NotImplementedError(
            f"{type(self).__name__} must implement gram_weights(gram) or "
            f"combine_jacobian(jacobian, task_losses, parameters).")

    def head_coefficients(self, weights, task_losses):
        """Coefficients ``c_k`` of the task gradients given to the other
        parameters (heads, gates): ones, each head's own task's gradient."""
        return np.ones(len(weights))

    def _active_losses(self):
        """The batch's losses of the tasks in the current combination (ndarray)."""
        return self._losses.cpu().double().numpy()[self._active]
