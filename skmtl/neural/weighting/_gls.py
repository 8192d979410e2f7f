"""GLS: the geometric mean of the task losses."""

import torch

from ._base import WEIGHTINGS, _StepAveraged

__all__ = ["GLS"]


class GLS(_StepAveraged):
    """Geometric loss strategy: train on the geometric mean of the task losses.

    The objective is ``(prod_k L_k) ** (1/K)``, whose gradient is that of
    ``sum_k lambda_k L_k`` with

        ``lambda_k = (prod_j L_j) ** (1/K) / (K L_k)``:

    each task's gradient is divided by its own loss, so the method does not
    depend on the scale of any loss (multiplying ``L_k`` by ``c`` multiplies
    the objective, not the direction).

    See Also
    --------
    FAMO : Balances the decrease of the log-losses, adaptively.
    STCH : A smooth version of the worst normalized loss.

    Notes
    -----
    Chennupati et al. [1]_. Tasks without a label in a batch (zero loss)
    are left out of the product for that step. The recorded weights are
    the epoch means of ``lambda``. **On bench_weighting.py's digits
    problem** the published form starves the class task as FAMO's did
    (see :class:`FAMO`): the gradient of each task is divided by its loss,
    the box's MSE falls twenty-fold while the class's cross-entropy sits on
    its plateau, and the box ends with most of the weight. Test accuracy /
    mean IoU 0.168 / 0.889 against 0.714 / 0.789 for equal weights (ConvNet
    (16, 32), 8 epochs, mean of 3 seeds, ``--part digits --seeds 3``), and
    0.273 / 0.902 against 0.819 / 0.820 on the seed's network trained for 30
    epochs (``--part seed --seeds 1``):
    the class falls far below 0.9x equal weighting. The method has no
    scale to fix (it is free of the losses' scales by construction), so
    there is no robust default to give it: prefer :class:`STCH` or
    :class:`DBMTL` when one task's loss falls much faster than another's.

    References
    ----------
    .. [1] S. Chennupati, G. Sistu, S. Yogamani and S. A. Rawashdeh,
       "MultiNet++: multi-stream feature aggregation and geometric loss
       strategy for multi-task learning", CVPR Workshops 2019.

    Examples
    --------
    >>> import torch
    >>> from skmtl import Task
    >>> from skmtl.neural.weighting import GLS
    >>> strategy = GLS().initialize([Task("a"), Task("b")])
    >>> float(strategy.combine(torch.tensor([1.0, 4.0])))  # sqrt(1 * 4)
    2.0
    >>> strategy.weights().tolist()  # 2 / (2 * L_k)
    [1.0, 0.25]
    """

    def __init__(self):
        pass

    def combine(self, task_losses, training=True):
        active = task_losses.detach() > 0
        if not bool(active.any()):
            return task_losses.sum()
        logs = torch.where(active, torch.log(task_losses.clamp_min(1e-30)),
                           torch.zeros_like(task_losses))
        value = torch.exp(logs.sum() / active.sum())
        if training:
            with torch.no_grad():
                weights = torch.where(active, value / (active.sum() * task_losses),
                                      torch.zeros_like(task_losses))
            self.record_weights(weights)
        return value


WEIGHTINGS.register("gls", GLS)
