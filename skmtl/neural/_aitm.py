"""AITM: adaptive information transfer along a funnel of dependent tasks."""

import math
import numbers

import torch
from torch import nn

from .._dependencies import TaskGraph
from ._architectures import ARCHITECTURES, MultiTaskModule
from ._trunks import build_trunk, feature_size

__all__ = ["AITM", "AdaptiveInformationTransfer"]


class AdaptiveInformationTransfer(nn.Module):
    """The attention unit of AITM: mixes what the parent transfers with the
    task's own tower output.

    For the inputs ``u`` in ``{p, q}`` (``p`` the information transferred
    from the parent's tower, ``q`` the task's tower output, both of size
    ``k``):

    ``z = sum_u w_u h1(u)``, ``w_u = exp(a_u) / sum_v exp(a_v)``,
    ``a_u = <h2(u), h3(u)> / sqrt(k)``

    with ``h1``, ``h2``, ``h3`` linear maps without bias (Xi et al., 2021,
    eq. 3 and 4).

    Parameters
    ----------
    dim : int
        Size ``k`` of ``p``, ``q`` and ``z``.

    Attributes
    ----------
    value, query, key : nn.Linear
        ``h1``, ``h2`` and ``h3``.
    """

    def __init__(self, dim):
        super().__init__()
        self.dim = int(dim)
        self.value = nn.Linear(self.dim, self.dim, bias=False)
        self.query = nn.Linear(self.dim, self.dim, bias=False)
        self.key = nn.Linear(self.dim, self.dim, bias=False)

    def forward(self, transferred, own):
        """``z`` of shape (batch, dim), and the weights (batch, 2) of
        ``(transferred, own)`` as ``self.last_weights`` (no gradient)."""
        inputs = torch.stack([transferred, own], dim=1)  # (batch, 2, dim)
        scores = (self.query(inputs) * self.key(inputs)).sum(-1) / math.sqrt(self.dim)
        weights = torch.softmax(scores, dim=1)
        self.last_weights = weights.detach()
        return (weights[..., None] * self.value(inputs)).sum(1)

    def __getstate__(self):
        state = dict(super().__getstate__())
        state.pop("last_weights", None)
        return state


class AITM(MultiTaskModule):
    """Adaptive information transfer multi-task network (AITM) for funnels.

    A shared bottom (the ``trunk``: in the paper, the feature embeddings)
    feeds one tower per task (an MLP of ``tower_hidden``); a task that
    depends on a parent (``Task(..., given=parent)``) mixes its tower's
    output ``q_t`` with the information transferred from its parent,
    ``p_t = g_t(z_parent)`` (a linear layer and a ReLU), through an
    :class:`AdaptiveInformationTransfer` unit: ``z_t = AIT(p_t, q_t)``; a
    task without parent keeps ``z_t = q_t``. Each head reads ``z_t``.
    Chains of any depth and several children per parent work (each child
    has its own transfer layer and unit).

    The heads give each task's raw output as for any architecture: for a
    dependent task, its conditional logit, whose product with the parent
    path's probability is trained on the entire space (see
    :class:`~skmtl.Task`'s ``given``). The joint probabilities therefore
    decrease along the funnel by construction, which is what the paper's
    behavioural expectation calibrator (a penalty on ``y_t > y_{t-1}``)
    asks for; it is not needed here.

    Parameters
    ----------
    tasks : list of Task or int
        Fitted tasks, whose ``given`` sets the transfers (or head sizes:
        tasks without dependencies, each with its own tower).
    input_shape : tuple of int
    trunk : None, nn.Module class, callable or instance, default=None
        The shared bottom (default :class:`~skmtl.neural.MLP`).
    tower_hidden : tuple of int, default=(64, 32)
        Hidden layers of each task's tower (ReLU after each); the last size
        is the size ``k`` of the attention unit. Empty: the towers are the
        shared bottom's output itself.
    head_hidden : tuple of int, default=()

    Attributes
    ----------
    trunk : nn.Module
    towers : nn.ModuleList
        One tower per task.
    transfers : nn.ModuleDict
        The transfer layer ``g_t`` of each dependent task, by task index.
    units : nn.ModuleDict
        The attention unit of each dependent task, by task index.

    Notes
    -----
    Xi et al. [1]_ model the sequential dependence between the steps of an
    audience's conversion (impression, click, purchase) by transferring
    each step's representation to the next through an attention unit. The
    authors' code scores each input with ``<h2(u), h1(u)>`` (the query and
    the value) rather than eq. 4's ``<h2(u), h3(u)>``; this module follows
    the paper.

    References
    ----------
    .. [1] D. Xi, Z. Chen, P. Yan, Y. Zhang, Y. Zhu, F. Zhuang and Y. Chen,
       "Modeling the sequential dependence among audience multi-step
       conversions with multi-task learning in targeted display
       advertising", KDD 2021.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from skmtl import Task
    >>> from skmtl.neural import AITM
    >>> from skmtl.tasks import resolve_tasks
    >>> Y = np.array([[1.0, 1.0], [0.0, np.nan], [1.0, 0.0]])
    >>> tasks = resolve_tasks([Task("click", "binary"),
    ...                        Task("buy", "binary", given="click")], Y)
    >>> net = AITM(tasks, input_shape=(5,), tower_hidden=(8,))
    >>> [tuple(o.shape) for o in net(torch.zeros(3, 5))]
    [(3, 1), (3, 1)]
    """

    def __init__(self, tasks, input_shape, trunk=None, tower_hidden=(64, 32),
                 head_hidden=()):
        super().__init__(tasks, input_shape, head_hidden)
        if any(isinstance(t, numbers.Integral) for t in tasks):
            # head sizes: tasks without dependencies
            self.parents, self.order = [None] * self.n_tasks, list(range(self.n_tasks))
        else:
            graph = TaskGraph(tasks)
            self.parents = [None if p is None else p[0] for p in graph.parents]
            self.order = graph.order
        self.trunk = build_trunk(trunk, self.input_shape, fresh=False)
        width = feature_size(self.trunk, self.input_shape)
        self.towers = nn.ModuleList(_tower(width, tower_hidden)
                                    for _ in range(self.n_tasks))
        dim = int(tower_hidden[-1]) if len(tower_hidden) else width
        children = [k for k, p in enumerate(self.parents) if p is not None]
        self.transfers = nn.ModuleDict({
            str(k): nn.Sequential(nn.Linear(dim, dim), nn.ReLU()) for k in children})
        self.units = nn.ModuleDict({
            str(k): AdaptiveInformationTransfer(dim) for k in children})
        self._build_heads(dim)

    def forward(self, X):
        bottom = self.trunk(X).flatten(1)
        own = [tower(bottom) for tower in self.towers]
        mixed = [None] * self.n_tasks
        for k in self.order:
            parent = self.parents[k]
            if parent is None:
                mixed[k] = own[k]
            else:
                transferred = self.transfers[str(k)](mixed[parent])
                mixed[k] = self.units[str(k)](transferred, own[k])
        return tuple(head(z) for head, z in zip(self.heads, mixed))

    def shared_parameters(self):
        return list(self.trunk.parameters())


def _tower(width, hidden):
    layers = []
    for h in hidden:
        layers += [nn.Linear(width, int(h)), nn.ReLU()]
        width = int(h)
    return nn.Sequential(*layers)


ARCHITECTURES.register("aitm", AITM)
