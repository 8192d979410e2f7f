"""Training-loop callbacks: reproducible, resumable runs and divergence.

:class:`EpochSeed` derives torch's random state at the start of every epoch
from ``(seed, epoch number)``. The shuffling order, dropout masks and any
random weighting of an epoch then depend only on the seed and the epoch's
number, never on how many epochs ran in this process: a run that is stopped
after ``E1`` epochs, saved (pickle, or skorch's ``Checkpoint``), loaded and
trained ``E2`` more epochs ends with the same parameters as an uninterrupted
run of ``E1 + E2`` epochs.

:class:`DivergenceGuard` stops training when a loss becomes NaN or infinite,
naming the task and the epoch, or restores the best epoch.
:class:`StarvationMonitor` warns when a weighting strategy leaves a task
almost no weight while its loss stalls.
"""

import copy
import math
import warnings

import numpy as np
import torch
from skorch.callbacks import Callback

__all__ = ["DivergenceGuard", "EpochSeed", "StarvationMonitor", "epoch_seed"]


def epoch_seed(seed, epoch):
    """The torch seed of epoch ``epoch`` (1-based) of a run seeded with ``seed``."""
    state = np.random.SeedSequence([int(seed), int(epoch)]).generate_state(
        1, dtype=np.uint64)
    return int(state[0])


class EpochSeed(Callback):
    """Seed torch's global generator at the start of each epoch.

    The seed of epoch ``e`` is :func:`epoch_seed(seed, e) <epoch_seed>`, with
    ``e`` read from the net's history, so a resumed run (whose history holds
    the earlier epochs) draws what the uninterrupted run drew.

    Parameters
    ----------
    seed : int
        The run's seed (the estimator draws it from ``random_state``).

    Examples
    --------
    >>> from skmtl.neural._callbacks import epoch_seed
    >>> epoch_seed(0, 3) == epoch_seed(0, 3) != epoch_seed(0, 4)
    True
    """

    def __init__(self, seed):
        self.seed = seed

    def on_epoch_begin(self, net, **kwargs):
        torch.manual_seed(epoch_seed(self.seed, net.history[-1, "epoch"]))


class DivergenceGuard(Callback):
    """Stop training when a loss becomes NaN or infinite, naming the task.

    After every batch the joint loss is checked; a non-finite one stops
    training with a ``ValueError`` that names the task whose loss diverged
    and the epoch (``on_divergence="raise"``), or puts back the state saved
    at the end of the best epoch of this call of ``fit``/``partial_fit`` and
    stops with a ``RuntimeWarning`` (``on_divergence="restore"``). The best
    epoch has the lowest ``valid_loss`` (``train_loss`` without a validation
    split); the saved state is the module's parameters, the optimizer's
    state and the weighting strategy. Before the first epoch ends, the
    initial state stands in. Each improving epoch costs one copy of the
    parameters and optimizer state (with ``"restore"`` only).

    :class:`~skmtl.neural.MultiTaskNet` has one by default, named
    ``"divergence"``: set ``callbacks__divergence__on_divergence="restore"``
    (:class:`~skmtl.neural.MultiTaskEstimator` does it for its
    ``on_divergence`` parameter).

    Parameters
    ----------
    on_divergence : {"raise", "restore"}, default="raise"

    Attributes
    ----------
    best_ : dict or None
        ``{"loss", "epoch", "module", "optimizer", "weighting"}`` of the best
        state of the run so far (``"restore"`` only).
    """

    _ADVICE = ("Lower the learning rate, scale the inputs and targets, or lower "
               "this task's weight.")

    def __init__(self, on_divergence="raise"):
        self.on_divergence = on_divergence

    def initialize(self):
        if self.on_divergence not in ("raise", "restore"):
            raise ValueError(f"on_divergence must be 'raise' or 'restore', got "
                             f"{self.on_divergence!r}.")
        self.best_ = None
        return self

    def on_train_begin(self, net, **kwargs):
        self.best_ = None
        self._save(net, np.inf)

    def on_batch_end(self, net, batch=None, training=False, loss=None,
                     task_losses=None, **kwargs):
        if loss is None:
            return
        value = loss.item()
        if math.isfinite(value):
            if training and self.best_ is not None and self.best_["loss"] == np.inf:
                # the run's first batch: its loss is the initial state's, so
                # that an epoch that blows up on the way never counts as best
                self.best_["loss"] = value
            return
        where = (f"the {'training' if training else 'validation'} loss of "
                 f"{self._culprit(net, value, task_losses)} at epoch "
                 f"{net.history[-1, 'epoch']} (batch "
                 f"{len(net.history[-1, 'batches'])})")
        if self.on_divergence == "restore" and self.best_ is not None:
            epoch = self._restore(net)
            warnings.warn(f"{where}; restored the parameters at the end of epoch "
                          f"{epoch} (the lowest loss of this run) and stopped "
                          f"training. {self._ADVICE}", RuntimeWarning, stacklevel=2)
            raise KeyboardInterrupt  # skorch's way to stop the fit loop
        raise ValueError(f"{where}; training stopped. {self._ADVICE}")

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        monitored = row.get("valid_loss", row.get("train_loss"))
        if monitored is not None:
            self._save(net, float(monitored))

    @staticmethod
    def _culprit(net, value, task_losses):
        if task_losses is None:
            return f"the objective became {value}"
        values = task_losses.detach().cpu().numpy()
        bad = np.flatnonzero(~np.isfinite(values))
        if not bad.size:
            return f"the objective became {value}"
        return ", ".join(f"task {net.tasks[k].name!r} became {values[k]}"
                         for k in bad)

    def _save(self, net, loss):
        if self.on_divergence != "restore":
            return
        if self.best_ is not None and not loss < self.best_["loss"]:
            return
        if not all(bool(torch.isfinite(p).all()) for p in net.module_.parameters()):
            return
        self.best_ = {
            "loss": loss,
            "epoch": len(net.history) if net.history else 0,
            "module": {k: v.detach().clone()
                       for k, v in net.module_.state_dict().items()},
            "optimizer": copy.deepcopy(net.optimizer_.state_dict()),
            "weighting": copy.deepcopy(net.weighting_),
        }

    def _restore(self, net):
        """Put the best state back; drop the unfinished epoch; its number."""
        best = self.best_
        net.module_.load_state_dict(best["module"])
        net.weighting_ = copy.deepcopy(best["weighting"])
        # the optimizer is rebuilt so that it holds the restored weighting's
        # parameters, then gets its saved state (moments, step counts) back
        net.initialize_optimizer()
        net.optimizer_.load_state_dict(best["optimizer"])
        if net.history and len(net.history) > best["epoch"]:
            net.history.pop()
        return best["epoch"]


class StarvationMonitor(Callback):
    """Warn when a weighting strategy starves a task.

    After every epoch, each task's share of the task weights,
    ``lambda_k / sum_j lambda_j``, is recorded in the history
    (``"task_share"``). When a task's share stays below ``min_share`` times
    the equal share ``1 / K`` for ``patience`` epochs in a row while its
    training loss falls by less than ``min_improvement`` (relative) over
    those epochs, a ``UserWarning`` names the task and the epoch (once per
    task and call of ``fit``). Fixed weights are the user's choice and are
    not checked.

    :class:`~skmtl.neural.MultiTaskNet` has one by default, named
    ``"starvation"`` (``callbacks__starvation__min_share=...``).

    Parameters
    ----------
    min_share : float, default=0.1
        Threshold as a fraction of the equal share ``1 / n_tasks``.
    patience : int, default=3
        Consecutive epochs below the threshold before a warning.
    min_improvement : float, default=0.02
        Relative fall of the task's training loss over those epochs below
        which it counts as no longer improving.

    Attributes
    ----------
    warned_ : set of str
        Tasks warned about during the current call of ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural import StarvationMonitor
    >>> monitor = StarvationMonitor().initialize()
    >>> shares = monitor.starving(np.array([[0.04, 1.96]] * 4),
    ...                           np.array([[2.0, 0.5], [1.99, 0.4], [1.99, 0.3],
    ...                                     [1.98, 0.2]]))
    >>> shares
    [0]
    """

    def __init__(self, min_share=0.1, patience=3, min_improvement=0.02):
        self.min_share = min_share
        self.patience = patience
        self.min_improvement = min_improvement

    def initialize(self):
        self.warned_ = set()
        return self

    def on_train_begin(self, net, **kwargs):
        self.warned_ = set()

    def on_epoch_end(self, net, **kwargs):
        history = net.history
        weights = np.asarray(history[-1, "task_weights"], dtype=float)
        total = weights.sum()
        shares = weights / total if total > 0 else np.full(len(weights), np.nan)
        history.record("task_share", shares.tolist())
        strategy = getattr(net, "weighting_", None)
        if type(strategy).__name__ == "Fixed" or len(history) <= self.patience:
            return
        names = [t.name for t in net.tasks]
        window = history[-self.patience - 1:]
        try:
            if any(len(row["task_share"]) != len(names) for row in window[1:]):
                return  # a window across add_tasks
            recent_shares = np.asarray([row["task_share"] for row in window[1:]])
            losses = np.asarray([[row.get(f"train_loss_{n}", np.nan) for n in names]
                                 for row in window], dtype=float)
        except KeyError:  # an epoch recorded before the monitor was added
            return
        for k in self.starving(recent_shares, losses):
            if names[k] in self.warned_:
                continue
            self.warned_.add(names[k])
            warnings.warn(
                f"task {names[k]!r} is starving: its share of the task weights "
                f"has been below {self.min_share:g} x 1/{len(names)} for "
                f"{self.patience} epochs (now {shares[k]:.3g}, at epoch "
                f"{history[-1, 'epoch']}) while its training loss stopped "
                f"improving. The weighting {type(strategy).__name__} gives it "
                f"almost no weight: try a loss-scale-robust weighting, fixed "
                f"task_weights, or compare with the single-task baseline.",
                UserWarning, stacklevel=2)

    def starving(self, shares, losses):
        """Tasks starving over a window of epochs.

        Parameters
        ----------
        shares : ndarray of shape (patience, n_tasks)
            Weight shares of the last ``patience`` epochs.
        losses : ndarray of shape (patience + 1, n_tasks)
            Training losses of those epochs and of the epoch before.

        Returns
        -------
        tasks : list of int
        """
        shares = np.asarray(shares, dtype=float)
        losses = np.asarray(losses, dtype=float)
        threshold = self.min_share / shares.shape[1]
        low = np.all(shares < threshold, axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            fall = (losses[0] - losses[-1]) / np.abs(losses[0])
        stalled = ~(fall >= self.min_improvement)  # NaN counts as stalled
        return [int(k) for k in np.flatnonzero(low & stalled)]
