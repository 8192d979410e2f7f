"""How the tasks share parameters: hard, soft, cross-stitch, MMoE and PLE.

Every architecture is an ``nn.Module`` built from the task list, the shape of
one input sample and a trunk specification (see :func:`build_trunk`); it
returns one raw output tensor per task, ``(batch, task.n_model_outputs)``,
as a tuple in task order.

Named inputs (a dict ``X``, skorch's convention) reach the trunk of
:class:`HardSharing` and :class:`SoftSharing` as keyword arguments,
``trunk(**X)``; the other architectures mix the tasks stage by stage or gate
experts on the flat input, so they need one input tensor.
"""

import copy
import math
import numbers
from collections.abc import Mapping

import torch
from torch import nn

from ..utils import Registry
from ._trunks import build_trunk, feature_size

__all__ = ["MultiTaskModule", "HardSharing", "SoftSharing", "CrossStitch", "MMoE",
           "PLE", "CGC", "ARCHITECTURES", "ARCHITECTURE_ALIASES"]


def _output_size(task):
    if isinstance(task, numbers.Integral):
        return int(task)
    return int(task.n_model_outputs)


def _apply(trunk, X):
    """``trunk(X)``, or ``trunk(**X)`` for named inputs."""
    if isinstance(X, Mapping):
        return trunk(**X)
    return trunk(X)


def _head(in_features, out_features, hidden):
    layers, width = [nn.Flatten()], in_features
    for h in hidden:
        layers += [nn.Linear(width, int(h)), nn.ReLU()]
        width = int(h)
    layers.append(nn.Linear(width, out_features))
    return nn.Sequential(*layers)


def _linear_layer(head):
    """The head's linear layer when the head is one (a ``nn.Linear``, or a
    ``nn.Sequential`` of an optional ``nn.Flatten`` and one ``nn.Linear``, as
    :func:`_head` builds it without hidden layers), else None."""
    if type(head) is nn.Linear:
        return head
    if type(head) is not nn.Sequential:
        return None
    layers = list(head)
    if layers and type(layers[0]) is nn.Flatten:
        layers = layers[1:]
    return layers[0] if len(layers) == 1 and type(layers[0]) is nn.Linear else None


class MultiTaskModule(nn.Module):
    """Base class of the multi-task architectures.

    Subclasses build their trunk(s) in ``__init__``, call
    :meth:`_build_heads` with the size of each task's representation, and
    implement ``forward(X)`` returning one raw output per task (a tuple in
    task order).

    Parameters
    ----------
    tasks : list of Task or int
        Fitted tasks (their ``n_model_outputs`` sets the head sizes), or the
        head sizes directly.
    input_shape : tuple of int
        Shape of one input sample (``(n_features,)``, ``(C, H, W)``, ...).
    head_hidden : tuple of int, default=()
        Hidden layers of each task's head; empty gives a linear head.

    Attributes
    ----------
    heads : nn.ModuleList
        One head per task.

    Notes
    -----
    Three hooks serve the training loop: :meth:`shared_parameters` lists the
    parameters every task's loss reaches (what gradient-level weighting
    strategies combine), :meth:`shared_representation` returns the features
    every head read in the last training forward pass, for architectures
    that have one (what :class:`~skmtl.neural.weighting.MGDAUB` works on),
    and :meth:`penalty` returns a term added to the training loss (None when
    there is none).
    """

    _named_inputs = False  # whether forward takes a dict X (see module notes)
    # the per-task module lists besides ``heads`` (one entry per task, each
    # read by its own task only): what add_tasks extends
    _task_modules = None

    def __init__(self, tasks, input_shape, head_hidden=()):
        super().__init__()
        self.output_sizes = [_output_size(t) for t in tasks]
        if not self.output_sizes:
            raise ValueError("an architecture needs at least one task.")
        if isinstance(input_shape, Mapping):
            if not self._named_inputs:
                raise TypeError(
                    f"{type(self).__name__} needs one input tensor, but X is a "
                    f"dict of named inputs {sorted(input_shape)}; use "
                    f"architecture='hard' or 'soft' (their trunk takes the "
                    f"named inputs as keyword arguments), or pass one array.")
            self.input_shape = {str(k): tuple(int(s) for s in v)
                                for k, v in input_shape.items()}
        else:
            self.input_shape = tuple(int(s) for s in input_shape)
        self.head_hidden = tuple(head_hidden)

    @property
    def n_tasks(self):
        return len(self.output_sizes)

    def _build_heads(self, in_features):
        if isinstance(in_features, numbers.Integral):
            in_features = [in_features] * self.n_tasks
        self.heads = nn.ModuleList(
            _head(d, out, self.head_hidden)
            for d, out in zip(in_features, self.output_sizes))

    def shared_parameters(self):
        """Parameters shared by the tasks (list of tensors)."""
        return []

    def add_tasks(self, tasks):
        """Append the modules of new tasks (a head each), leaving the others.

        Each existing task's output keeps depending on the same parameters,
        so with those unchanged its predictions stay identical. The new
        modules are initialized as at construction (from torch's global
        random state).

        Parameters
        ----------
        tasks : list of Task or int
            The new tasks (or the sizes of their heads).

        Returns
        -------
        parameters : list of nn.Parameter
            The new modules' parameters.
        """
        if self._task_modules is None:
            raise TypeError(
                f"{type(self).__name__} cannot add tasks to a fitted network (its "
                f"tasks share parameters in a way a new task would change); use "
                f"HardSharing, SoftSharing or MMoE, or fit a new model with every "
                f"task.")
        sizes = [_output_size(t) for t in tasks]
        first = next(m for m in self.heads[0].modules() if isinstance(m, nn.Linear))
        added = []
        for name in self._task_modules:
            modules = getattr(self, name)
            for _ in sizes:
                fresh = self._new_task_module(name)
                modules.append(fresh)
                added.append(fresh)
        for out in sizes:
            self.heads.append(_head(first.in_features, out, self.head_hidden))
            added.append(self.heads[-1])
        self.output_sizes = self.output_sizes + sizes
        return [p for module in added for p in module.parameters()]

    def shared_representation(self, per_task=False):
        """The features every task's head read in the last training forward pass.

        Recorded by architectures with one representation shared by all
        tasks (:class:`HardSharing`) when the forward pass runs in training
        mode with gradients enabled; the others raise a ``TypeError``.

        Parameters
        ----------
        per_task : bool, default=False
            Return the aliases of the representation that each head read
            (one view per task): the gradient of the sum of the task losses
            with respect to them gives every task's gradient of the
            representation in one backward pass.

        Returns
        -------
        features : torch.Tensor of shape (batch, ...), or list of them
            Part of the autograd graph of the last forward pass.
        """
        raise TypeError(
            f"{type(self).__name__} has no single representation shared by all "
            f"tasks (each task reads its own mixture or column), so methods that "
            f"work on the shared representation (MGDAUB) do not apply; use MGDA, "
            f"which works on the shared parameters, or HardSharing.")

    def _heads_on_representation(self, features):
        """Apply the heads to ``features``; record it in training with gradients.

        Each head reads its own view of ``features`` (free: no copy), so that
        one backward pass separates the tasks' gradients of the representation.
        """
        if not (self.training and torch.is_grad_enabled()):
            return tuple(head(features) for head in self.heads)
        inputs = [features.view_as(features) for _ in self.heads]
        outputs = tuple(head(x) for head, x in zip(self.heads, inputs))
        layers = [_linear_layer(head) for head in self.heads]
        factors = (None if any(layer is None for layer in layers)
                   else list(zip(outputs, layers)))
        self._representation = (features, inputs, factors)
        return outputs

    def _recorded_representation(self, per_task):
        recorded = getattr(self, "_representation", None)
        if recorded is None:
            raise RuntimeError(f"{type(self).__name__} has recorded no shared "
                               f"representation: call it in training mode with "
                               f"gradients enabled first.")
        return list(recorded[1]) if per_task else recorded[0]

    def _head_factors(self):
        """Each head's output and linear layer in the last training forward
        pass, ``[(output, layer), ...]``, or None.

        With linear heads (``head_hidden=()``, the default), task ``k``'s
        gradient of the representation is ``dL_k/d output @ layer.weight``
        (flattened as the head flattens it): the representation form of the
        gradient-level strategies computes their Gram matrix and combination
        from these factors without forming the gradients. None when a head
        is not one linear layer (after an optional ``nn.Flatten``).
        """
        recorded = getattr(self, "_representation", None)
        return None if recorded is None else recorded[2]

    def __getstate__(self):
        # the last batch's features belong to an autograd graph: not state
        state = dict(super().__getstate__())
        state.pop("_representation", None)
        return state

    def _new_task_module(self, name):
        """A new task's entry of the per-task list ``name``: a copy of the
        first task's, initialized afresh."""
        fresh = copy.deepcopy(getattr(self, name)[0])
        for sub in fresh.modules():
            if callable(getattr(sub, "reset_parameters", None)):
                sub.reset_parameters()
        return fresh

    def penalty(self):
        """Regularization added to the training loss, or None."""
        return None


class HardSharing(MultiTaskModule):
    """One shared trunk and one head per task (hard parameter sharing).

    ``output_k = head_k(trunk(X))``.

    Parameters
    ----------
    tasks : list of Task or int
        Fitted tasks, or the number of raw outputs of each task's head.
    input_shape : tuple of int
        Shape of one input sample.
    trunk : None, nn.Module class, callable or instance, default=None
        The shared trunk (default: :class:`MLP`); see :func:`build_trunk`.
    head_hidden : tuple of int, default=()
        Hidden layers of each head.

    See Also
    --------
    SoftSharing : One trunk per task, pulled together.

    Notes
    -----
    Hard sharing is the original multi-task network: the tasks share every
    layer but the last, which regularizes the shared representation towards
    what helps all tasks [1]_.

    References
    ----------
    .. [1] R. Caruana, "Multitask learning", Machine Learning 28, 41–75, 1997.

    Examples
    --------
    >>> import torch
    >>> from skmtl.neural import HardSharing
    >>> net = HardSharing([3, 1], input_shape=(5,))
    >>> [tuple(o.shape) for o in net(torch.zeros(2, 5))]
    [(2, 3), (2, 1)]
    """

    def __init__(self, tasks, input_shape, trunk=None, head_hidden=()):
        super().__init__(tasks, input_shape, head_hidden)
        self.trunk = build_trunk(trunk, self.input_shape, fresh=False)
        self._build_heads(feature_size(self.trunk, self.input_shape))

    _named_inputs = True
    _task_modules = ()

    def forward(self, X):
        return self._heads_on_representation(_apply(self.trunk, X))

    def shared_parameters(self):
        return list(self.trunk.parameters())

    def shared_representation(self, per_task=False):
        return self._recorded_representation(per_task)


class SoftSharing(MultiTaskModule):
    """One trunk per task, with an L2 pull between the trunks' parameters.

    ``output_k = head_k(trunk_k(X))``; the training loss gets the penalty
    ``strength * sum_k ||theta_k - mean_j theta_j||²`` over the trunks'
    parameters, so the tasks share by being kept close rather than equal.
    The trunks start from the same weights.

    Parameters
    ----------
    tasks : list of Task or int
    input_shape : tuple of int
    trunk : None, nn.Module class, callable or instance, default=None
    strength : float, default=1e-3
        Weight of the L2 pull; 0 gives independent networks.
    head_hidden : tuple of int, default=()

    Notes
    -----
    Soft parameter sharing as in Duong et al. [1]_, who tie two parsers by
    the L2 distance between their parameters; with more than two tasks each
    trunk is pulled toward their mean.

    References
    ----------
    .. [1] L. Duong, T. Cohn, S. Bird and P. Cook, "Low resource dependency
       parsing: cross-lingual parameter sharing in a neural network parser",
       ACL 2015.

    Examples
    --------
    >>> import torch
    >>> from skmtl.neural import SoftSharing
    >>> net = SoftSharing([1, 1], input_shape=(3,), strength=0.1)
    >>> net.penalty().item()  # identical trunks at start
    0.0
    """

    def __init__(self, tasks, input_shape, trunk=None, strength=1e-3,
                 head_hidden=()):
        super().__init__(tasks, input_shape, head_hidden)
        first = build_trunk(trunk, self.input_shape, fresh=False)
        self.trunks = nn.ModuleList(
            [first] + [copy.deepcopy(first) for _ in range(self.n_tasks - 1)])
        self.strength = float(strength)
        self._build_heads(feature_size(first, self.input_shape))

    _named_inputs = True
    _task_modules = ("trunks",)

    def _new_task_module(self, name):
        # a new task's trunk starts at the mean of the others (the centre of
        # the L2 pull), as the first trunks start from the same weights
        fresh = copy.deepcopy(self.trunks[0])
        with torch.no_grad():
            for values in zip(fresh.parameters(),
                              *(t.parameters() for t in self.trunks)):
                values[0].copy_(torch.stack(values[1:]).mean(0))
        return fresh

    def forward(self, X):
        return tuple(head(_apply(trunk, X))
                     for trunk, head in zip(self.trunks, self.heads))

    def penalty(self):
        if self.strength == 0 or self.n_tasks == 1:
            return None
        total = 0.0
        for group in zip(*(t.parameters() for t in self.trunks)):
            stacked = torch.stack(group)
            total = total + ((stacked - stacked.mean(0)) ** 2).sum()
        return self.strength * total


class CrossStitch(MultiTaskModule):
    """One trunk column per task, mixed after every stage by learned units.

    The trunk must be an ``nn.Sequential`` (the default :class:`MLP` is):
    each child is a stage. After stage ``s`` the activations of the task
    columns are replaced by ``h_k <- sum_j alpha_s[k, j] h_j`` with a learned
    matrix ``alpha_s`` (initialized to ``self_weight`` on the diagonal and
    the rest spread evenly), and each task's head reads its own column.

    Parameters
    ----------
    tasks : list of Task or int
    input_shape : tuple of int
    trunk : None, nn.Sequential class, callable or instance, default=None
    self_weight : float, default=0.9
        Initial weight of a task's own column in each unit.
    head_hidden : tuple of int, default=()

    Attributes
    ----------
    alpha : nn.Parameter of shape (n_stages, n_tasks, n_tasks)
        The cross-stitch units.

    Notes
    -----
    Cross-stitch networks [1]_ learn how much each layer shares between the
    tasks: ``alpha`` equal to the identity gives independent networks,
    uniform ``alpha`` a fully shared one.

    References
    ----------
    .. [1] I. Misra, A. Shrivastava, A. Gupta and M. Hebert, "Cross-stitch
       networks for multi-task learning", CVPR 2016.

    Examples
    --------
    >>> import torch
    >>> from skmtl.neural import CrossStitch
    >>> net = CrossStitch([2, 1], input_shape=(4,))
    >>> tuple(net.alpha.shape)  # one unit after the MLP's one hidden layer
    (1, 2, 2)
    """

    def __init__(self, tasks, input_shape, trunk=None, self_weight=0.9,
                 head_hidden=()):
        super().__init__(tasks, input_shape, head_hidden)
        first = build_trunk(trunk, self.input_shape, fresh=False)
        if not isinstance(first, nn.Sequential):
            raise TypeError(f"CrossStitch stitches the task columns between the "
                            f"stages of an nn.Sequential trunk; got "
                            f"{type(first).__name__}. Wrap the trunk's blocks in "
                            f"nn.Sequential.")
        self.columns = nn.ModuleList(
            [first] + [copy.deepcopy(first) for _ in range(self.n_tasks - 1)])
        n_stages, T = len(first), self.n_tasks
        off = (1.0 - self_weight) / (T - 1) if T > 1 else 0.0
        init = torch.full((T, T), off) + torch.eye(T) * (
            (self_weight if T > 1 else 1.0) - off)
        self.alpha = nn.Parameter(init.repeat(n_stages, 1, 1))
        self._build_heads(feature_size(first, self.input_shape))

    def forward(self, X):
        hidden = [X] * self.n_tasks
        for s in range(self.alpha.shape[0]):
            outputs = torch.stack([column[s](h) for column, h in
                                   zip(self.columns, hidden)])
            mixed = torch.tensordot(self.alpha[s], outputs, dims=([1], [0]))
            hidden = list(mixed.unbind(0))
        return tuple(head(h) for head, h in zip(self.heads, hidden))

    def shared_parameters(self):
        return [self.alpha]


def _mix(gate_logits, expert_outputs):
    """Gate-weighted sum of expert outputs (batch, n_experts, d) -> (batch, d)."""
    weights = torch.softmax(gate_logits, dim=1)
    return torch.einsum("be,bed->bd", weights, expert_outputs)


class MMoE(MultiTaskModule):
    """Multi-gate mixture of experts: shared experts, one softmax gate per task.

    ``r_k(X) = sum_e softmax(W_k x)_e expert_e(X)`` and
    ``output_k = head_k(r_k(X))``, where each expert is a copy of the trunk
    with its own initial weights and ``x`` is the flattened input.

    Parameters
    ----------
    tasks : list of Task or int
    input_shape : tuple of int
    trunk : None, nn.Module class, callable or instance, default=None
        The expert network.
    n_experts : int, default=4
    head_hidden : tuple of int, default=()

    Notes
    -----
    MMoE [1]_ lets each task choose its mix of shared experts, which copes
    with loosely related tasks better than one shared trunk.

    References
    ----------
    .. [1] J. Ma, Z. Zhao, X. Yi, J. Chen, L. Hong and E. H. Chi, "Modeling
       task relationships in multi-task learning with multi-gate
       mixture-of-experts", KDD 2018.

    Examples
    --------
    >>> import torch
    >>> from skmtl.neural import MMoE
    >>> net = MMoE([1, 1, 1], input_shape=(6,), n_experts=2)
    >>> len(net(torch.zeros(4, 6)))
    3
    """

    def __init__(self, tasks, input_shape, trunk=None, n_experts=4,
                 head_hidden=()):
        super().__init__(tasks, input_shape, head_hidden)
        if not isinstance(n_experts, numbers.Integral) or n_experts < 1:
            raise ValueError(f"n_experts must be a positive integer, got "
                             f"{n_experts!r}.")
        self.experts = nn.ModuleList(build_trunk(trunk, self.input_shape)
                                     for _ in range(n_experts))
        in_features = math.prod(self.input_shape)
        self.gates = nn.ModuleList(nn.Linear(in_features, n_experts)
                                   for _ in range(self.n_tasks))
        self._build_heads(feature_size(self.experts[0], self.input_shape))

    _task_modules = ("gates",)

    def forward(self, X):
        experts = torch.stack([e(X).flatten(1) for e in self.experts], dim=1)
        flat = X.flatten(1)
        return tuple(head(_mix(gate(flat), experts))
                     for gate, head in zip(self.gates, self.heads))

    def shared_parameters(self):
        return list(self.experts.parameters())


class PLE(MultiTaskModule):
    """Progressive layered extraction: stacked CGC levels of shared and task experts.

    Each level holds ``n_shared_experts`` shared experts and
    ``n_task_experts`` experts per task. Task ``k``'s gate mixes its own and
    the shared experts; a shared gate mixes all experts to feed the next
    level's shared experts. First-level experts are copies of the trunk on
    the input; later experts are ``Linear`` + ReLU layers on the previous
    level's mixtures. The heads read the last level's task mixtures.

    Parameters
    ----------
    tasks : list of Task or int
    input_shape : tuple of int
    trunk : None, nn.Module class, callable or instance, default=None
        The first-level expert network.
    n_levels : int, default=2
        Number of CGC levels (1 gives :class:`CGC`).
    n_shared_experts : int, default=1
    n_task_experts : int, default=1
    head_hidden : tuple of int, default=()

    Notes
    -----
    PLE [1]_ separates shared and task-specific experts explicitly to limit
    negative transfer and the "seesaw" between tasks; one level is its
    customized gate control (CGC) model.

    References
    ----------
    .. [1] H. Tang, J. Liu, M. Zhao and X. Gong, "Progressive layered
       extraction (PLE): a novel multi-task learning (MTL) model for
       personalized recommendations", RecSys 2020.

    Examples
    --------
    >>> import torch
    >>> from skmtl.neural import PLE
    >>> net = PLE([2, 1], input_shape=(6,), n_levels=2)
    >>> [tuple(o.shape) for o in net(torch.zeros(3, 6))]
    [(3, 2), (3, 1)]
    """

    def __init__(self, tasks, input_shape, trunk=None, n_levels=2, n_shared_experts=1,
                 n_task_experts=1, head_hidden=()):
        super().__init__(tasks, input_shape, head_hidden)
        for name, value in (("n_levels", n_levels),
                            ("n_shared_experts", n_shared_experts),
                            ("n_task_experts", n_task_experts)):
            if not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}.")
        T, S, E = self.n_tasks, n_shared_experts, n_task_experts
        self.levels = nn.ModuleList()
        in_features = math.prod(self.input_shape)
        width = None
        for level in range(n_levels):
            if level == 0:
                def make():
                    return build_trunk(trunk, self.input_shape)
            else:
                def make(width=width):
                    return nn.Sequential(nn.Linear(width, width), nn.ReLU())
            stage = nn.Module()
            stage.shared = nn.ModuleList(make() for _ in range(S))
            stage.task = nn.ModuleList(nn.ModuleList(make() for _ in range(E))
                                       for _ in range(T))
            gate_in = in_features if level == 0 else width
            stage.task_gates = nn.ModuleList(nn.Linear(gate_in, E + S)
                                             for _ in range(T))
            if level < n_levels - 1:
                stage.shared_gate = nn.Linear(gate_in, T * E + S)
            if level == 0:
                width = feature_size(stage.shared[0], self.input_shape)
            self.levels.append(stage)
        self._build_heads(width)

    def forward(self, X):
        flat = X.flatten(1)
        task_inputs = [X] * self.n_tasks
        shared_input = X
        task_gate_inputs = [flat] * self.n_tasks
        shared_gate_input = flat
        for stage in self.levels:
            shared = [e(shared_input).flatten(1) for e in stage.shared]
            own = [[e(x).flatten(1) for e in experts]
                   for experts, x in zip(stage.task, task_inputs)]
            task_out = [
                _mix(gate(g), torch.stack(mine + shared, dim=1))
                for gate, g, mine in zip(stage.task_gates, task_gate_inputs, own)]
            if hasattr(stage, "shared_gate"):
                everything = torch.stack([e for mine in own for e in mine] + shared,
                                         dim=1)
                shared_input = _mix(stage.shared_gate(shared_gate_input), everything)
                shared_gate_input = shared_input
            task_inputs = task_out
            task_gate_inputs = task_out
        return tuple(head(h) for head, h in zip(self.heads, task_inputs))

    def shared_parameters(self):
        return [p for stage in self.levels for p in stage.shared.parameters()]


class CGC(PLE):
    """Customized gate control: one PLE level (see :class:`PLE`).

    Parameters
    ----------
    tasks : list of Task or int
        The tasks, or the number of outputs of each task's head.
    input_shape : tuple of int
        Shape of one input sample.
    trunk : None, nn.Module class, callable or instance, default=None
        The expert network (every expert is a copy).
    n_levels : int, default=1
        Number of levels; more than one is :class:`PLE`.
    n_shared_experts : int, default=1
        Experts shared by every task.
    n_task_experts : int, default=1
        Experts of each task.
    head_hidden : tuple of int, default=()
        Hidden layer sizes of each task's head.

    Notes
    -----
    CGC is the single-level model of Tang et al. (RecSys 2020); see
    :class:`PLE` for the reference.

    Examples
    --------
    >>> from skmtl.neural import CGC
    >>> len(CGC([1, 1], input_shape=(3,)).levels)
    1
    """

    def __init__(self, tasks, input_shape, trunk=None, n_levels=1, n_shared_experts=1,
                 n_task_experts=1, head_hidden=()):
        super().__init__(tasks, input_shape, trunk=trunk, n_levels=n_levels,
                         n_shared_experts=n_shared_experts,
                         n_task_experts=n_task_experts, head_hidden=head_hidden)


ARCHITECTURES = Registry("architecture", {
    "hard_sharing": HardSharing,
    "soft_sharing": SoftSharing,
    "cross_stitch": CrossStitch,
    "mmoe": MMoE,
    "ple": PLE,
    "cgc": CGC,
}, aliases={"hard": "hard_sharing", "soft": "soft_sharing"})
"""Architectures by name, as accepted by ``MultiTaskEstimator(architecture=...)``
(a :class:`~skmtl.utils.Registry`: ``ARCHITECTURES.register("mine", MyModule)``
makes ``architecture="mine"`` work)."""

ARCHITECTURE_ALIASES = ARCHITECTURES.aliases
"""Short names of :data:`ARCHITECTURES`."""
