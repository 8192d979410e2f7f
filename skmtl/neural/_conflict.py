"""Gradient conflict between tasks, measured during training."""

import numpy as np
import torch
from skorch.callbacks import Callback
from skorch.dataset import unpack_data
from skorch.utils import to_device
from torch.func import functional_call

__all__ = ["GradientConflict"]


class GradientConflict(Callback):
    """Record each task's gradient norm and the tasks' pairwise gradient cosines.

    Every ``every`` training steps (and at the first step of each epoch),
    the callback evaluates the task losses again on the step's batch and
    forms each task's gradient ``g_k`` of the shared parameters
    (``net.module_.shared_parameters()``). At the end of each epoch it
    records in the net's ``history`` the means over the sampled steps of

    * ``"task_gradient_norms"``: ``||g_k||`` for every task (a list of
      ``n_tasks`` floats);
    * ``"task_gradient_cosines"``: ``cos(g_i, g_j) = g_i . g_j / (||g_i||
      ||g_j||)`` for every pair (an ``n_tasks × n_tasks`` nested list, ones
      on the diagonal).

    A negative cosine is a conflict: a step along one task's gradient
    increases the other's loss, to first order. Very different norms mean
    that the sum of the losses is steered by one task. Both are what the
    gradient-level strategies of :mod:`skmtl.neural.weighting` react to;
    :class:`~skmtl.plotting.GradientConflictDisplay` draws them.

    The measurement runs on the parameters after the step's update, with a
    copy of the batch-norm statistics and the random number streams
    restored afterwards, so training follows the same path as without the
    callback.

    Parameters
    ----------
    every : int, default=100
        Sample every ``every``-th training step of an epoch (steps 0,
        ``every``, ``2 every``, ...). A sample costs about three plain
        steps (one forward pass, the per-task backward passes through the
        shared layers, batched into one for
        :class:`~skmtl.neural.HardSharing`): with ``bench_neural.py``'s
        network (MLP 2x256, 3 tasks, batch 256) ``every=50`` cost 1.08x and
        ``every=10`` 1.18x (``benchmarks/bench_weighting.py --part
        conflict``); the default samples half as often as ``every=50``.

    Attributes
    ----------
    n_samples_ : int
        Number of sampled steps in the last epoch.

    See Also
    --------
    skmtl.plotting.GradientConflictDisplay : Draws the recorded values.
    LookaheadAffinity : How a step on one task changes the others' losses.

    Notes
    -----
    The cosine of task gradients as a measure of conflict is that of Yu et
    al. (2020), "Gradient surgery for multi-task learning", NeurIPS (PCGrad
    projects a gradient when it is negative); Du et al. (2018), "Adapting
    auxiliary losses using gradient similarity", use it to weight auxiliary
    tasks. A task without a label in a sampled batch has no gradient there
    and is left out of that sample (its norm and cosines are NaN if it has
    none in the epoch's samples).

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural import GradientConflict, MultiTaskRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(200, 3)
    >>> Y = np.c_[X[:, 0], X[:, 0] + X[:, 1]]
    >>> est = MultiTaskRegressor(hidden_layer_sizes=(8,), max_epochs=3,
    ...                          callbacks=[GradientConflict(every=2)],
    ...                          random_state=0).fit(X, Y)
    >>> len(est.history_[:, "task_gradient_norms"])  # one entry per epoch
    3
    >>> cosines = np.array(est.history_[-1, "task_gradient_cosines"])
    >>> cosines.shape, np.diag(cosines).round(6).tolist()
    ((2, 2), [1.0, 1.0])
    """

    def __init__(self, every=100):
        self.every = every

    def initialize(self):
        if (isinstance(self.every, bool) or not isinstance(self.every, int | np.integer)
                or self.every < 1):
            raise ValueError(f"GradientConflict: every must be a positive integer, "
                             f"got {self.every!r}.")
        self._reset(0)
        self.n_samples_ = 0
        return self

    def _reset(self, n_tasks):
        self._norm_sums = np.zeros(n_tasks)
        self._norm_counts = np.zeros(n_tasks)
        self._cos_sums = np.zeros((n_tasks, n_tasks))
        self._cos_counts = np.zeros((n_tasks, n_tasks))
        self._batch = 0
        self._samples = 0

    def on_epoch_begin(self, net, **kwargs):
        self._reset(len(net.tasks))

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        if not training or batch is None:
            return
        index, self._batch = self._batch, self._batch + 1
        if index % self.every:
            return
        devices = [net.device] if str(net.device).startswith("cuda") else []
        with torch.random.fork_rng(devices=devices):
            gram = self._gram(net, batch)
        if gram is None:
            return
        norms = np.sqrt(np.maximum(np.diag(gram), 0.0))
        active = norms > 0
        self._norm_sums[active] += norms[active]
        self._norm_counts[active] += 1
        pair = np.outer(active, active)
        with np.errstate(invalid="ignore", divide="ignore"):
            cosines = gram / np.outer(norms, norms)
        self._cos_sums[pair] += np.clip(cosines[pair], -1.0, 1.0)
        self._cos_counts[pair] += 1
        self._samples += 1

    def _gram(self, net, batch):
        from .weighting._jacobian import (
            gram_matrix,
            heads_separate_tasks,
            split_parameters,
            task_jacobian,
        )

        module = net.module_
        shared, _ = split_parameters(module, "GradientConflict")
        Xi, yi = unpack_data(batch)
        Xi = to_device(Xi, net.device)
        params = dict(module.named_parameters())
        buffers = {name: b.clone() for name, b in module.named_buffers()}
        with torch.enable_grad():
            outputs = functional_call(module, {**params, **buffers}, (Xi,))
            losses, _ = net.get_task_losses(outputs, yi, training=True)
            if not losses.requires_grad:
                return None
            jacobian, _ = task_jacobian(losses, module, shared, [],
                                        separate=heads_separate_tasks(net.tasks))
        return gram_matrix(jacobian)

    def on_epoch_end(self, net, **kwargs):
        with np.errstate(invalid="ignore", divide="ignore"):
            norms = np.where(self._norm_counts > 0,
                             self._norm_sums / self._norm_counts, np.nan)
            cosines = np.where(self._cos_counts > 0,
                               self._cos_sums / self._cos_counts, np.nan)
        self.n_samples_ = self._samples
        net.history.record("task_gradient_norms", norms.tolist())
        net.history.record("task_gradient_cosines", cosines.tolist())
