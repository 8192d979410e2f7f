"""MGDA-UB: MGDA on the gradients of the shared representation."""

from ._base import WEIGHTINGS
from ._mgda import MGDA

__all__ = ["MGDAUB"]


class MGDAUB(MGDA):
    """MGDA on the shared representation: the upper-bound variant (Sener & Koltun).

    Instead of the gradients of the shared parameters, MGDA-UB takes each
    task's gradient with respect to the shared representation ``h`` (the
    trunk's output, every head's input), computes the minimum-norm weights
    ``w`` of their convex hull and back-propagates ``sum_k w_k L_k`` once
    through the trunk. The per-task gradients only go through the heads, so
    the step costs little more than a plain one. With
    ``normalization="none"`` the weights sum to one.

    It is ``MGDA(on="representation")`` (the cheap form every gradient-level
    strategy has), kept under its own name with one difference, that of
    Sener & Koltun's code: each head gets its task's gradient scaled by
    ``w_k`` (the step is that of ``sum_k w_k L_k`` for the whole network),
    where ``MGDA(on="representation")`` leaves each head its own task's
    gradient, as MGDA does.

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
    (soft sharing, cross-stitch, MMoE, PLE, CGC) raise a ``ValueError``.

    See Also
    --------
    MGDA : The exact method on the shared parameters, and
        ``MGDA(on="representation")``.

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

    on = "representation"   # not a parameter: what the class is

    def __init__(self, normalization="loss+"):
        self.normalization = normalization

    _weighted_loss_step = True   # head_coefficients are the weights

    def head_coefficients(self, weights, task_losses):
        # Sener & Koltun's step: sum_k w_k L_k for the heads too
        return weights


WEIGHTINGS.register("mgda_ub", MGDAUB)
