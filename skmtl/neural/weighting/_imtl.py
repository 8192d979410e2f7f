"""IMTL: impartial multi-task learning (loss, gradient or both), and its kernel."""

import numpy as np
import torch

from ._base import WEIGHTINGS, backward_total
from ._jacobian import GradientWeighting, check_gram

__all__ = ["IMTL", "imtl_g_weights"]


_IMTL_FORMS = ("hybrid", "loss", "gradient")



class IMTL(GradientWeighting):
    """Impartial multi-task learning (Liu et al., 2021): loss, gradient or both.

    * **IMTL-L** (``form="loss"``) learns a scale ``s_k`` per task and
      trains on ``sum_k exp(s_k) L_k - s_k``; at the optimum of ``s_k``,
      ``exp(s_k) L_k = 1``: every scaled loss is one.
    * **IMTL-G** (``form="gradient"``) gives the shared parameters the
      combination ``d = w @ J`` of the task gradients, with weights summing
      to one, that has the same projection onto every task's unit gradient:
      ``d . g_k / ||g_k||`` is equal for all ``k``; in closed form ``w = G^+
      n / sum(G^+ n)``, ``n_k = ||g_k||`` (``G = J J^T``). No task is
      favoured for the size of its gradient.
    * **hybrid** (the paper's IMTL, default): IMTL-G on the gradients of
      the scaled losses ``exp(s_k) L_k``; the task heads and the scales
      ``s_k`` are trained on ``sum_k exp(s_k) L_k - s_k``.

    Parameters
    ----------
    form : {"hybrid", "loss", "gradient"}, default="hybrid"
    lr : float, default=None
        Learning rate of the scales ``s_k`` (loss and hybrid forms), in an
        optimizer parameter group of their own; None uses the net's.
    on : {"parameters", "representation"}, default="parameters"
        Task gradients of the shared parameters, or of the shared
        representation (the cheap form; see :class:`GradientWeighting`).

    Attributes
    ----------
    log_scales_ : torch.nn.Parameter of shape (n_tasks,)
        The learned ``s_k`` (loss and hybrid forms).

    See Also
    --------
    MGDA, NashMTL : Other combinations that do not follow the largest
        gradient.

    Notes
    -----
    The recorded weights are the coefficients of the task losses: ``exp(s_k)``
    for IMTL-L, ``w_k`` for IMTL-G and ``w_k exp(s_k)`` for the hybrid form
    (epoch means). IMTL-L alone weights each task by ``1 / L_k`` at the
    optimum of its scale, like :class:`Uncertainty`, and favours a task
    whose loss falls toward zero (see :class:`FAMO`'s Notes); the hybrid
    form's shared direction does not depend on the scales. The gradient
    forms cost a backward pass per task through the shared layers. The
    pseudo-inverse also handles linearly dependent gradients (as torchjd's
    ``IMTLG``). Reference: [1]_.

    References
    ----------
    .. [1] L. Liu, Y. Li, Z. Kuang, J.-H. Xue, Y. Chen, W. Yang, Q. Liao and
       W. Zhang, "Towards impartial multi-task learning", ICLR 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl import Task
    >>> from skmtl.neural.weighting import IMTL
    >>> strategy = IMTL(form="gradient").initialize([Task("a"), Task("b")])
    >>> J = np.array([[2.0, 0.0], [0.0, 1.0]])  # d = w @ J = (2/3, 2/3)
    >>> strategy.gram_weights(J @ J.T).round(4).tolist()
    [0.3333, 0.6667]
    """

    def __init__(self, form="hybrid", lr=None, on="parameters"):
        self.form = form
        self.lr = lr
        self.on = on

    @property
    def level(self):
        return "loss" if self.form == "loss" else "gradient"

    @property
    def uses_gradients(self):
        return self.form != "loss"

    def initialize(self, tasks):
        super().initialize(tasks)
        if self.form not in _IMTL_FORMS:
            raise ValueError(f"IMTL: form must be one of {_IMTL_FORMS}, got "
                             f"{self.form!r}.")
        if self.lr is not None and not self.lr > 0:
            raise ValueError(f"IMTL: lr must be a positive float or None, got "
                             f"{self.lr!r}.")
        if self.form != "gradient":
            self.log_scales_ = torch.nn.Parameter(torch.zeros(self.n_tasks_))
        return self

    def optimizer_options(self):
        return {} if self.lr is None else {"lr": float(self.lr)}

    def _scaled(self, task_losses):
        scales = torch.exp(self.log_scales_)
        return scales * task_losses, scales

    def combine(self, task_losses, training=True):
        if self.form == "gradient":
            return task_losses.sum()
        scaled, scales = self._scaled(task_losses)
        if training and self.form == "loss":
            self.record_weights(scales)
        return scaled.sum() - self.log_scales_.sum()

    def backward(self, task_losses, net, penalty=None):
        if self.form == "loss":  # IMTL-L is a loss-level step
            return backward_total(self.combine(task_losses, training=True), penalty)
        return super().backward(task_losses, net, penalty)

    def jacobian_losses(self, task_losses):
        if self.form == "gradient":
            return task_losses
        # hybrid: IMTL-G on the gradients of the scaled losses
        scaled, self._scales = self._scaled(task_losses)
        return scaled

    _gram_combination = True   # the default's, then weights of its own

    def combine_jacobian(self, jacobian, task_losses, parameters):
        direction, weights = super().combine_jacobian(jacobian, task_losses,
                                                      parameters)
        if self.form == "gradient":
            return direction, weights
        scales = self._scales.detach()
        # the scales: d/ds (exp(s) L - s) = exp(s) L - 1
        with torch.no_grad():
            grad = scales * task_losses.detach() - 1.0
            grad = torch.where(task_losses.detach() > 0, grad, torch.zeros_like(grad))
        self.log_scales_.grad = grad if self.log_scales_.grad is None else (
            self.log_scales_.grad + grad)
        return direction, weights * scales.cpu().numpy()

    def gram_weights(self, gram):
        return imtl_g_weights(gram)



def imtl_g_weights(gram):
    """Weights of IMTL-G, impartial gradients (Liu et al. 2021).

    ``w = G^+ n / sum(G^+ n)`` with ``n_k = ||g_k||``: the combination
    ``d = w @ J`` (weights summing to one) has the same projection
    ``d . g_k / ||g_k||`` onto every task's unit gradient, the closed form
    of the paper's ``alpha = g_1 U^T (D U^T)^-1`` written on the Gram
    matrix (the pseudo-inverse also handles linearly dependent gradients,
    as in torchjd's ``IMTLG``).

    Parameters
    ----------
    gram : array-like of shape (n_tasks, n_tasks)

    Returns
    -------
    w : ndarray of shape (n_tasks,)

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural.weighting._imtl import imtl_g_weights
    >>> imtl_g_weights(np.diag([4.0, 1.0])).round(6).tolist()  # d = (1, 1) / 3 * 2
    [0.333333, 0.666667]
    """
    G = check_gram(gram)
    norms = np.sqrt(np.maximum(np.diag(G), 0.0))
    v = np.linalg.pinv(G, hermitian=True) @ norms
    total = v.sum()
    if abs(total) < 1e-12 * max(np.abs(v).max(), 1e-300):
        return np.zeros(len(G))
    return v / total


WEIGHTINGS.register("imtl", IMTL)
