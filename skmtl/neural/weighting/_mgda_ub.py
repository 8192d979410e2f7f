"""MGDA-UB: MGDA on the gradients of the shared representation."""

import numpy as np
import torch

from ._base import WEIGHTINGS, _StepAveraged, backward_total
from ._jacobian import gram_matrix, per_task_representation, representation_gradients
from ._mgda import _check_normalization, _normalized_min_norm

__all__ = ["MGDAUB"]


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
    epoch and the class accuracy ended at 0.18 (equal weights: 0.73;
    IoU 0.88 against 0.79). With ``"loss+"`` a task's gradient counts
    relative to its loss and norm: accuracy / IoU 0.77 / 0.74 and 0.75 / 0.73
    (seeds 0 and 1; equal weights 0.73 / 0.79 and 0.71 / 0.78). ``"l2"`` was
    not enough here: 0.61 / 0.84 (seed 0). Single runs of
    ``benchmarks/weighting_notes.py mgda equal`` on the fused Adam default
    (December 2026); the figures before it moved by at most 0.01.

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
        # not the parameters' Jacobian path (GradientWeighting): the weights
        # come from the representation's gradients, and the step is the
        # weighted loss, back-propagated once
        backward_total((w * task_losses).sum(), penalty)
        self.record_weights(weights)
        loss = task_losses.detach().sum()
        return loss if penalty is None else loss + penalty.detach()


WEIGHTINGS.register("mgda_ub", MGDAUB)
