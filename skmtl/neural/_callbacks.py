"""Training-loop helpers that make runs reproducible and resumable.

:class:`EpochSeed` derives torch's random state at the start of every epoch
from ``(seed, epoch number)``. The shuffling order, dropout masks and any
random weighting of an epoch then depend only on the seed and the epoch's
number, never on how many epochs ran in this process: a run that is stopped
after ``E1`` epochs, saved (pickle, or skorch's ``Checkpoint``), loaded and
trained ``E2`` more epochs ends with the same parameters as an uninterrupted
run of ``E1 + E2`` epochs.
"""

import numpy as np
import torch
from skorch.callbacks import Callback

__all__ = ["EpochSeed", "epoch_seed"]


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
