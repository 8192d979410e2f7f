"""Gradient-level strategies: combine the tasks' gradients of the shared parameters.

Each step forms the per-task gradients ``J`` (n_tasks × n_shared) of the
shared parameters (see ``_jacobian.py``: one batched backward pass through
the trunk when the architecture exposes its shared representation, one
backward pass per task otherwise), their Gram matrix
``G = J @ J.T``, weights ``w`` from ``G`` (the kernels of
:mod:`skmtl.utils._gradient_combination`, or torchjd's UPGrad) and writes
``w @ J`` into the shared parameters' ``.grad``. Task-specific parameters
(heads, gates) get ``sum_k c_k grad L_k``: their own task's gradient
(``c_k = 1``) or, for Nash-MTL, the weighted one (``c = w``). A task without
a label in the batch has a zero gradient and is left out of that step.
:class:`MGDAUB` works on the gradients of the shared representation instead,
with one backward pass through the trunk.
"""

import numpy as np
import torch

from ...utils._gradient_combination import (
    cagrad_weights,
    min_norm_weights,
    nash_weights,
    pcgrad_weights,
)
from ._base import ALIASES, WEIGHTINGS, _StepAveraged
from ._jacobian import (
    gram_matrix,
    per_task_representation,
    representation_gradients,
    split_parameters,
    task_jacobian,
    write_gradients,
)

__all__ = ["PCGrad", "MGDA", "MGDAUB", "CAGrad", "NashMTL", "UPGrad"]


class _GradientCombination(_StepAveraged):
    """Common step of the methods that weight the shared parameters' task gradients."""

    level = "gradient"
    # coefficients of the task-specific parameters' gradients: "own" (ones)
    # or "weights" (the combination weights)
    _head_coefficients = "own"

    def combine(self, task_losses, training=True):
        return task_losses.sum()

    def backward(self, task_losses, net, penalty=None):
        self._losses = task_losses.detach()
        shared, others = split_parameters(net.module_, type(self).__name__)
        jacobian, other_gradients = task_jacobian(task_losses, net.module_, shared,
                                                  others)
        weights = self._active_weights(gram_matrix(jacobian))
        write_gradients(shared, jacobian, weights)
        heads = (weights if self._head_coefficients == "weights"
                 else np.ones(self.n_tasks_))
        write_gradients(others, other_gradients(heads))
        self.record_weights(weights)
        return _finish(task_losses, penalty)

    def _active_weights(self, gram):
        """Weights of the tasks whose gradient is not zero (0 for the others)."""
        weights = np.zeros(len(gram))
        active = np.diag(gram) > 0
        self._active = active
        if active.any():
            weights[active] = self._combination(gram[np.ix_(active, active)])
        return weights

    def _active_losses(self):
        """The batch's losses of the tasks in the current combination (ndarray)."""
        return self._losses.cpu().double().numpy()[self._active]

    def _combination(self, gram):
        raise NotImplementedError


_NORMALIZATIONS = ("l2", "loss", "loss+", "none")


def _check_normalization(owner, normalization):
    if normalization not in _NORMALIZATIONS:
        raise ValueError(f"{owner}: normalization must be one of {_NORMALIZATIONS}, "
                         f"got {normalization!r}.")


def _normalized_min_norm(gram, losses, normalization):
    """MGDA's raw-loss weights, from the min-norm point of normalized gradients.

    Each task's gradient is divided by ``n_k`` (its norm for ``"l2"``, its
    loss for ``"loss"``, both for ``"loss+"``, 1 for ``"none"``), the
    min-norm weights ``w`` of the normalized gradients are found, and the
    raw losses get ``w_k mean(n) / n_k``: the direction is the min-norm
    point of the normalized gradients, at the scale of the raw gradients.
    """
    if normalization == "none":
        return min_norm_weights(gram)
    norms = np.sqrt(np.maximum(np.diag(gram), 1e-300))
    if normalization == "l2":
        n = norms
    elif normalization == "loss":
        n = np.maximum(losses, 1e-12)
    else:
        n = np.maximum(losses, 1e-12) * norms
    w = min_norm_weights(gram / np.outer(n, n))
    return w * n.mean() / n


def _finish(task_losses, penalty):
    """Back-propagate the penalty (if any); the loss to report."""
    loss = task_losses.detach().sum()
    if penalty is not None:
        penalty.backward()
        loss = loss + penalty.detach()
    return loss


class PCGrad(_GradientCombination):
    """Projecting conflicting gradients, "gradient surgery" (Yu et al., 2020).

    Each task's gradient ``g_i`` is projected, over the other tasks in a
    random order, onto the normal plane of every gradient ``g_j`` it
    conflicts with (``g_i . g_j < 0``): ``g_i <- g_i - (g_i . g_j) /
    ||g_j||² g_j``. The shared parameters get the sum of the projected
    gradients; each head keeps its own task's gradient. Without conflict the
    result is the plain sum of the gradients.

    See Also
    --------
    CAGrad, MGDA, UPGrad : Other combinations of conflicting gradients.

    Notes
    -----
    The projections are computed on the Gram matrix of the task gradients
    (:func:`~skmtl.utils._gradient_combination.pcgrad_weights`): the result
    is ``w @ J`` with weights tracked through the projections. The visiting
    order is drawn from torch's generator each step. The per-task gradients
    cost a backward pass per task through the shared layers (batched into
    one with :class:`~skmtl.neural.HardSharing`). The recorded weights are
    the epoch means of ``w``. Reference: [1]_.

    References
    ----------
    .. [1] T. Yu, S. Kumar, A. Gupta, S. Levine, K. Hausman and C. Finn,
       "Gradient surgery for multi-task learning", NeurIPS 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural import MultiTaskRegressor
    >>> from skmtl.neural.weighting import PCGrad
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(100, 3)
    >>> Y = np.c_[X[:, 0], -X[:, 0] + X[:, 1]]
    >>> est = MultiTaskRegressor(weighting=PCGrad(), hidden_layer_sizes=(8,),
    ...                          max_epochs=3, random_state=0).fit(X, Y)
    >>> est.task_weights_history_.shape
    (3, 2)
    """

    def __init__(self):
        pass

    def _combination(self, gram):
        order = torch.randperm(len(gram)).numpy()
        return pcgrad_weights(gram, order=order)


class MGDA(_GradientCombination):
    """Multiple-gradient descent: the minimum-norm point of the gradients' hull.

    The shared parameters get ``d = w @ J`` with ``w`` on the simplex
    minimizing ``||w @ J||``: the minimum-norm element of the convex hull of
    the task gradients. When ``d`` is not zero it is a common descent
    direction (``d . g_k >= ||d||² > 0`` for every task); ``d = 0`` means the
    parameters are Pareto-stationary. Each head keeps its own task's
    gradient. With a ``normalization`` the weights are those of the
    normalized gradients, rescaled for the raw losses (they no longer sum
    to one).

    Parameters
    ----------
    normalization : {"loss+", "l2", "loss", "none"}, default="loss+"
        What each task's gradient is divided by before the min-norm point
        is found: its loss times its norm (``"loss+"``), its norm, its loss,
        or nothing (``"none"``, the plain method). The raw losses then get
        ``w_k mean(n) / n_k``: the min-norm direction of the normalized
        gradients at the raw gradients' scale. These are the normalizations
        of Sener & Koltun's code.

    See Also
    --------
    MGDAUB : The same on the shared representation, much cheaper.

    Notes
    -----
    Solved exactly for any number of tasks by Wolfe's minimum-norm-point
    algorithm on the Gram matrix
    (:func:`~skmtl.utils._gradient_combination.min_norm_weights`); Sener &
    Koltun [1]_ use Frank-Wolfe iterations. One backward pass per task.

    **Why normalized by default.** The min-norm point of the raw gradients
    leans on the task with the smallest gradient. On ``bench_weighting.py``'s
    digits problem the class's cross-entropy sits on its plateau for the
    first epochs while the box's MSE falls five-fold; with
    ``normalization="none"`` the accuracy / IoU were 0.70 / 0.86 (equal
    weights: 0.74 / 0.78): the box gained and the class lost. With
    ``"loss+"`` a task's gradient counts relative to its loss and norm:
    0.79 / 0.74 and 0.73 / 0.72 (seeds 0 and 1; equal weights 0.74 / 0.78
    and 0.71 / 0.77). ``"l2"``: 0.73 / 0.81 (seed 0).

    References
    ----------
    .. [1] O. Sener and V. Koltun, "Multi-task learning as multi-objective
       optimization", NeurIPS 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural import MultiTaskRegressor
    >>> from skmtl.neural.weighting import MGDA
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(100, 3)
    >>> Y = np.c_[X[:, 0], X[:, 1], X[:, 2]]
    >>> est = MultiTaskRegressor(weighting=MGDA(normalization="none"),
    ...                          hidden_layer_sizes=(8,), max_epochs=2,
    ...                          random_state=0).fit(X, Y)
    >>> np.allclose(est.task_weights_history_.sum(axis=1), 1.0)
    True
    """

    def __init__(self, normalization="loss+"):
        self.normalization = normalization

    def initialize(self, tasks):
        super().initialize(tasks)
        _check_normalization("MGDA", self.normalization)
        return self

    def _combination(self, gram):
        return _normalized_min_norm(gram, self._active_losses(), self.normalization)


class MGDAUB(_StepAveraged):
    """MGDA on the shared representation: the upper-bound variant (Sener & Koltun).

    Instead of the gradients of the shared parameters, MGDA-UB takes each
    task's gradient with respect to the shared representation ``h`` (the
    trunk's output, every head's input), computes the minimum-norm weights
    ``w`` of their convex hull and back-propagates ``sum_k w_k L_k`` once
    through the trunk. The per-task gradients only go through the heads, so
    the step costs little more than a plain one. With
    ``normalization="none"`` the weights sum to one.

    Parameters
    ----------
    normalization : {"loss+", "l2", "loss", "none"}, default="loss+"
        What each task's gradient is divided by before the min-norm point
        is found: its loss times its norm (``"loss+"``), its norm, its loss,
        or nothing (``"none"``, the plain method). The raw losses then get
        ``w_k mean(n) / n_k``: the min-norm direction of the normalized
        gradients at the raw gradients' scale. These are the normalizations
        of Sener & Koltun's code.

    Only architectures with one representation read by every head support
    it (:class:`~skmtl.neural.HardSharing`; a custom module implements
    :meth:`~skmtl.neural.MultiTaskModule.shared_representation`); the others
    (soft sharing, cross-stitch, MMoE, PLE, CGC) raise a ``TypeError``.

    See Also
    --------
    MGDA : The exact method on the shared parameters.

    Notes
    -----
    Sener & Koltun [1]_ show that minimizing the norm of the combination of
    the representation's gradients minimizes an upper bound of MGDA's
    objective, and that the result is Pareto-stationary under a full-rank
    condition on the representation's Jacobian. As in their code, each head
    receives its task's gradient scaled by ``w_k``.

    **Why normalized by default.** The min-norm point of the raw gradients
    leans on the task with the smallest gradient. On ``bench_weighting.py``'s
    digits problem the class's cross-entropy sits on its plateau for the
    first epochs while the box's MSE falls five-fold; with
    ``normalization="none"`` the box got 0.97 of the weight by the last
    epoch and the class accuracy ended at 0.19 (equal weights: 0.74;
    IoU 0.89 against 0.78). With ``"loss+"`` a task's gradient counts
    relative to its loss and norm: accuracy / IoU 0.77 / 0.74 and 0.74 / 0.74
    (seeds 0 and 1; equal weights 0.74 / 0.78 and 0.71 / 0.77). ``"l2"`` was not
    enough here: 0.60 / 0.84 (seed 0).

    References
    ----------
    .. [1] O. Sener and V. Koltun, "Multi-task learning as multi-objective
       optimization", NeurIPS 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural import MultiTaskRegressor
    >>> from skmtl.neural.weighting import MGDAUB
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(100, 3)
    >>> Y = np.c_[X[:, 0], X[:, 1]]
    >>> est = MultiTaskRegressor(weighting=MGDAUB(normalization="none"),
    ...                          hidden_layer_sizes=(8,), max_epochs=2,
    ...                          random_state=0).fit(X, Y)
    >>> np.allclose(est.task_weights_history_.sum(axis=1), 1.0)
    True
    """

    level = "gradient"

    def __init__(self, normalization="loss+"):
        self.normalization = normalization

    def initialize(self, tasks):
        super().initialize(tasks)
        _check_normalization("MGDAUB", self.normalization)
        return self

    def combine(self, task_losses, training=True):
        return task_losses.sum()

    def backward(self, task_losses, net, penalty=None):
        module = net.module_
        shared_representation = getattr(module, "shared_representation", None)
        if not callable(shared_representation):
            raise TypeError(f"MGDAUB needs the shared representation of the last "
                            f"forward pass, but {type(module).__name__} has no "
                            f"shared_representation() method; use MGDA.")
        features = shared_representation()  # TypeError when there is none
        K = self.n_tasks_
        recorded = per_task_representation(module)
        if recorded is not None:
            grads, _ = representation_gradients(task_losses, recorded[1])
        else:
            # a module that records one tensor: one pass through the heads per task
            grads = []
            for k in range(K):
                (g,) = torch.autograd.grad(task_losses[k], features,
                                           retain_graph=True, allow_unused=True)
                if g is None:
                    raise RuntimeError(f"the shared representation of "
                                       f"{type(module).__name__} is not part of the "
                                       f"loss of task {self.task_names_[k]!r}: it "
                                       f"must come from the current forward pass.")
                grads.append(g)
            grads = torch.stack(grads)
        gram = gram_matrix([grads])
        weights = np.zeros(K)
        active = np.diag(gram) > 0
        if active.any():
            losses = task_losses.detach().cpu().double().numpy()[active]
            weights[active] = _normalized_min_norm(gram[np.ix_(active, active)],
                                                   losses, self.normalization)
        w = torch.as_tensor(weights, dtype=task_losses.dtype,
                            device=task_losses.device)
        total = (w * task_losses).sum()
        if penalty is not None:
            total = total + penalty
        total.backward()
        self.record_weights(weights)
        loss = task_losses.detach().sum()
        return loss if penalty is None else loss + penalty.detach()


class CAGrad(_GradientCombination):
    """Conflict-averse gradient descent (Liu et al., 2021).

    With ``g0`` the average task gradient, CAGrad looks within the ball of
    radius ``c ||g0||`` around ``g0`` for the direction that most improves
    the worst task: ``d = g0 + c ||g0|| g_w / ||g_w||``, where ``g_w = w @ J``
    and ``w`` on the simplex minimizes ``g_w . g0 + c ||g0|| ||g_w||``; the
    result is divided by ``1 + c²``. ``c = 0`` is the average gradient.
    Each head keeps its own task's gradient.

    Parameters
    ----------
    c : float, default=0.4
        Radius of the ball, relative to ``||g0||`` (the authors use 0.4).
    rescale : bool, default=True
        Divide the direction by ``1 + c²``.

    Notes
    -----
    The dual problem is solved on the Gram matrix by projected gradient
    (:func:`~skmtl.utils._gradient_combination.cagrad_weights`). One
    backward pass per task. Reference: [1]_.

    References
    ----------
    .. [1] B. Liu, X. Liu, X. Jin, P. Stone and Q. Liu, "Conflict-averse
       gradient descent for multi-task learning", NeurIPS 2021.

    Examples
    --------
    >>> from skmtl.neural.weighting import CAGrad
    >>> CAGrad(c=0.2)
    CAGrad(c=0.2)
    """

    def __init__(self, c=0.4, rescale=True):
        self.c = c
        self.rescale = rescale

    def initialize(self, tasks):
        super().initialize(tasks)
        if not self.c >= 0:
            raise ValueError(f"CAGrad: c must be >= 0, got {self.c!r}.")
        return self

    def _combination(self, gram):
        return cagrad_weights(gram, c=float(self.c), rescale=bool(self.rescale))


class NashMTL(_GradientCombination):
    """Multi-task learning as a bargaining game: Nash-MTL (Navon et al., 2022).

    The weights ``alpha > 0`` solve ``alpha_k (G alpha)_k = 1`` for every
    task on the Gram matrix ``G = J J^T`` of the task gradients: along
    ``d = alpha @ J`` each task's gain ``g_k . d`` equals ``1 / alpha_k``,
    the Nash bargaining solution. It is invariant to the scale of each
    task's loss: multiplying ``L_k`` by ``c`` divides ``alpha_k`` by ``c``
    and leaves ``d`` unchanged; with orthogonal gradients ``alpha_k = 1 /
    ||g_k||``. The whole model is trained on ``sum_k alpha_k L_k``: the
    heads get their gradient scaled by ``alpha_k``.

    Parameters
    ----------
    update_every : int, default=1
        Recompute ``alpha`` every ``update_every`` steps and train on
        ``sum_k alpha_k L_k`` with the last ``alpha`` in between (plain,
        cheap steps); the authors use up to 25 on large models.

    Notes
    -----
    ``alpha`` is found by damped Newton steps on the strictly convex problem
    whose stationarity conditions are ``G alpha = 1 / alpha``
    (:func:`~skmtl.utils._gradient_combination.nash_weights`), instead of the
    authors' sequence of convex programs. It is solved on ``G / ||G||_F``
    (better conditioned) and rescaled by ``||G||_F ** -1/2`` to solve the
    equations on ``G`` itself; the authors' code returns the weights of the
    normalized problem unchanged, an update that grows as ``||G||_F ** 1/2``
    (proportional to the gradients' scale) instead of being scale-free.
    Reference: [1]_.

    References
    ----------
    .. [1] A. Navon, A. Shamsian, I. Achituve, H. Maron, K. Kawaguchi,
       G. Chechik and E. Fetaya, "Multi-task learning as a bargaining game",
       ICML 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl import Task
    >>> from skmtl.neural.weighting import NashMTL
    >>> strategy = NashMTL().initialize([Task("a"), Task("b")])
    >>> strategy._combination(np.diag([4.0, 1.0])).round(6).tolist()  # 1 / ||g_k||
    [0.5, 1.0]
    >>> NashMTL(update_every=5).get_params()
    {'update_every': 5}
    """

    _head_coefficients = "weights"

    def __init__(self, update_every=1):
        self.update_every = update_every

    def initialize(self, tasks):
        super().initialize(tasks)
        if int(self.update_every) != self.update_every or self.update_every < 1:
            raise ValueError(f"NashMTL: update_every must be a positive integer, "
                             f"got {self.update_every!r}.")
        self._step = 0
        # the weights of the last update, used until the next
        self.register_buffer("alpha_", torch.zeros(self.n_tasks_, dtype=torch.float64))
        return self

    def backward(self, task_losses, net, penalty=None):
        step, self._step = self._step, self._step + 1
        if step % int(self.update_every) == 0:
            return super().backward(task_losses, net, penalty)
        alpha = self.alpha_.to(task_losses.dtype)
        total = (alpha * task_losses).sum()
        if penalty is not None:
            total = total + penalty
        total.backward()
        self.record_weights(self.alpha_)
        return task_losses.detach().sum() + (0 if penalty is None
                                             else penalty.detach())

    def _combination(self, gram):
        # solved on G / ||G||_F for conditioning; if alpha_n solves
        # alpha_n * (G/s alpha_n) = 1, then alpha = alpha_n / sqrt(s) solves
        # alpha * (G alpha) = 1 on the raw Gram matrix
        scale = np.linalg.norm(gram)
        return nash_weights(gram / scale) / np.sqrt(scale)

    def _active_weights(self, gram):
        weights = super()._active_weights(gram)
        self.alpha_.copy_(torch.from_numpy(weights))
        return weights


def _upgrad_weighting(pref_vector):
    try:
        from torchjd.aggregation import UPGradWeighting
    except ImportError as exc:
        raise ImportError("UPGrad needs torchjd with its quadprog projector; install "
                          "it with: pip install 'skmtl[weighting]'") from exc
    pref = None if pref_vector is None else torch.as_tensor(
        np.asarray(pref_vector, dtype=float))
    weighting = UPGradWeighting(pref)
    try:
        weighting(torch.eye(2, dtype=torch.float64) if pref is None
                  else torch.eye(len(pref), dtype=torch.float64))
    except ImportError as exc:
        raise ImportError("UPGrad needs torchjd's quadprog projector; install it "
                          "with: pip install 'skmtl[weighting]'") from exc
    return weighting


class UPGrad(_GradientCombination):
    """Unconflicting projection of gradients (Quinton & Rey, 2024), via torchjd.

    Each task gradient is projected onto the dual cone of all task
    gradients (the set of directions that conflict with none of them) and
    the projections are averaged (weighted by ``pref_vector``). The result
    conflicts with no task: ``d . g_k >= 0`` for every ``k``. Each head
    keeps its own task's gradient. The weights come from torchjd's
    ``UPGradWeighting`` on the Gram matrix of the task gradients, the same
    computation as torchjd's ``UPGrad`` aggregator.

    Parameters
    ----------
    pref_vector : None or array-like of shape (n_tasks,), default=None
        Weights of the projected gradients; None is the mean.

    Notes
    -----
    Needs the optional dependency torchjd with its quadprog projector:
    ``pip install 'skmtl[weighting]'``. One backward pass per task.
    Reference: [1]_.

    References
    ----------
    .. [1] P. Quinton and V. Rey, "Jacobian descent for multi-objective
       optimization", 2024, arXiv:2406.16232.

    Examples
    --------
    >>> from skmtl.neural.weighting import UPGrad
    >>> UPGrad()
    UPGrad()
    """

    def __init__(self, pref_vector=None):
        self.pref_vector = pref_vector

    def initialize(self, tasks):
        super().initialize(tasks)
        if self.pref_vector is not None and len(self.pref_vector) != self.n_tasks_:
            raise ValueError(f"UPGrad: pref_vector has {len(self.pref_vector)} "
                             f"entries but there are {self.n_tasks_} tasks.")
        # fails early without torchjd; kept out of the module's tree (it is
        # a cache, rebuilt after unpickling)
        object.__setattr__(self, "_weighting", _upgrad_weighting(None))
        return self

    def __getstate__(self):
        state = dict(vars(self))
        state.pop("_weighting", None)  # rebuilt on demand
        return state

    def _combination(self, gram):
        if self.pref_vector is None:
            weighting = vars(self).get("_weighting")
            if weighting is None:
                weighting = _upgrad_weighting(None)
                object.__setattr__(self, "_weighting", weighting)
        else:
            pref = np.asarray(self.pref_vector, dtype=float)[self._active]
            weighting = _upgrad_weighting(pref)
        with torch.no_grad():
            weights = weighting(torch.as_tensor(gram, dtype=torch.float64))
        return weights.numpy()


WEIGHTINGS["pcgrad"] = PCGrad
WEIGHTINGS["mgda"] = MGDA
WEIGHTINGS["mgda_ub"] = MGDAUB
WEIGHTINGS["cagrad"] = CAGrad
WEIGHTINGS["nash_mtl"] = NashMTL
ALIASES["nash"] = "nash_mtl"
WEIGHTINGS["upgrad"] = UPGrad
