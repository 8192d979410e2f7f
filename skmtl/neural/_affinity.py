"""Look-ahead inter-task affinity measured during training (Fifty et al. 2021)."""

import numpy as np
import torch
from skorch.callbacks import Callback
from skorch.dataset import unpack_data
from skorch.utils import to_device
from torch.func import functional_call

__all__ = ["LookaheadAffinity"]


class LookaheadAffinity(Callback):
    """Measure how a step on one task's loss changes every other task's loss.

    Before a training step, for each task ``i`` the shared parameters take a
    look-ahead gradient step on ``L_i`` alone,
    ``theta_s' = theta_s - lr * grad L_i``, and every task's loss is
    re-evaluated on the same batch:

    .. math:: Z_{i \\to j} = 1 - \\frac{L_j(\\theta_s', \\theta_j)}
                                       {L_j(\\theta_s, \\theta_j)}

    Positive ``Z_{i -> j}``: training on task ``i`` lowers task ``j``'s loss
    (task ``i`` helps ``j``). The callback averages ``Z`` over the measured
    steps of the whole training run. The look-ahead runs on copies (it changes
    neither the parameters, nor batch-norm statistics, nor the random number
    streams), so training follows the same path as without the callback.

    Parameters
    ----------
    every : int, default=1
        Measure every ``every``-th training batch (the measurement costs one
        backward and one forward pass per task).
    lr : float, default=None
        Size of the look-ahead step; None uses the net's learning rate.

    Attributes
    ----------
    affinity_ : ndarray of shape (n_tasks, n_tasks)
        Mean ``Z_{i -> j}`` over the measured steps (row ``i``: the task
        stepped on, column ``j``: the task affected); NaN where a pair was
        never measured (a task without labels in every measured batch).
    n_steps_ : int
        Number of measured steps.

    See Also
    --------
    skmtl.model_selection.task_affinity : Runs a fit with this callback
        (``method="lookahead"``).

    Notes
    -----
    Fifty, Amid, Zhao, Yu, Anil & Finn (2021), "Efficiently identifying task
    groupings for multi-task learning", NeurIPS. The paper steps with the
    network's optimizer; this callback takes a plain gradient step of size
    ``lr``, which measures the same first-order effect.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural import LookaheadAffinity, MultiTaskRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(64, 3)
    >>> Y = np.c_[X[:, 0], X[:, 0] + 0.1 * rng.randn(64), -X[:, 0]]
    >>> est = MultiTaskRegressor(hidden_layer_sizes=(8,), max_epochs=3,
    ...                          random_state=0,
    ...                          callbacks=[("affinity", LookaheadAffinity())])
    >>> affinity = dict(est.fit(X, Y).net_.callbacks_)["affinity"].affinity_
    >>> affinity.shape
    (3, 3)
    """

    def __init__(self, every=1, lr=None):
        self.every = every
        self.lr = lr

    def initialize(self):
        if not isinstance(self.every, int) or self.every < 1:
            raise ValueError(f"every must be a positive integer, got {self.every!r}.")
        if self.lr is not None and not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}.")
        self._sums = None
        self._counts = None
        self._batch = 0
        self.affinity_ = None
        self.n_steps_ = 0
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        n_tasks = len(net.tasks)
        self._sums = np.zeros((n_tasks, n_tasks))
        self._counts = np.zeros((n_tasks, n_tasks))
        self._batch = 0

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if not training or self._sums is None:
            return
        self._batch += 1
        if (self._batch - 1) % self.every:
            return
        devices = [net.device] if str(net.device).startswith("cuda") else []
        with torch.random.fork_rng(devices=devices):
            Z = self._measure(net, batch)
        measured = ~np.isnan(Z)
        self._sums[measured] += Z[measured]
        self._counts[measured] += 1
        self.n_steps_ += 1
        with np.errstate(invalid="ignore", divide="ignore"):
            self.affinity_ = np.where(self._counts > 0,
                                      self._sums / np.maximum(self._counts, 1),
                                      np.nan)

    def _measure(self, net, batch):
        module = net.module_
        Xi, yi = unpack_data(batch)
        Xi = to_device(Xi, net.device)
        lr = net.lr if self.lr is None else self.lr
        shared_ids = {id(p) for p in module.shared_parameters()}
        names = [name for name, p in module.named_parameters()
                 if id(p) in shared_ids and p.requires_grad]
        params = dict(module.named_parameters())
        shared = [params[name] for name in names]
        if not shared:
            raise ValueError(f"{type(module).__name__} has no shared parameters: "
                             f"the look-ahead affinity measures how a step on "
                             f"one task moves the parameters the tasks share.")
        buffers = {name: b.clone() for name, b in module.named_buffers()}
        n_tasks = len(net.tasks)
        Z = np.full((n_tasks, n_tasks), np.nan)
        with torch.enable_grad():
            outputs = functional_call(module, {**params, **buffers}, (Xi,))
            losses, _ = net.get_task_losses(outputs, yi, training=True)
        before = losses.detach()
        for i in range(n_tasks):
            if not before[i] > 0 or not losses[i].requires_grad:
                continue
            grads = torch.autograd.grad(losses[i], shared, retain_graph=True,
                                        allow_unused=True)
            stepped = dict(params)
            for name, p, g in zip(names, shared, grads):
                if g is not None:
                    stepped[name] = p.detach() - lr * g
            with torch.no_grad():
                buffers = {name: b.clone() for name, b in module.named_buffers()}
                out = functional_call(module, {**stepped, **buffers}, (Xi,))
                after, _ = net.get_task_losses(out, yi, training=True)
            ratio = (1.0 - after / before).cpu().numpy()
            valid = (before > 0).cpu().numpy()
            Z[i, valid] = ratio[valid]
        return Z
