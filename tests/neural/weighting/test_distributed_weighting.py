"""Weighting strategies on two processes (gloo, CPU) against one process.

Two processes, each given half of every batch, must take the step of one
process on the whole batch: the gradient-level strategies average the task
Jacobian across processes and combine it identically on each, the
loss-level ones combine the global batch's task losses and
DistributedDataParallel averages each process's part of the step. Run as a script, this
module prints the table of the largest parameter differences::

    python tests/neural/weighting/test_distributed_weighting.py
"""

import os
import sys
import tempfile
import warnings

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

accelerate = pytest.importorskip("accelerate")

if not (torch.distributed.is_available() and torch.distributed.is_gloo_available()):
    pytest.skip("torch.distributed with the gloo backend is not available in this "
                "torch build: the two-process runs need it", allow_module_level=True)

# every strategy that trains on several processes, and soft sharing (whose
# penalty must reach each step); UPGrad when torchjd is installed
STRATEGIES = ["equal", "equal_soft_sharing", "uncertainty", "rlw", "famo",
              "famo_same_batch", "gls", "stch", "dwa_3_epochs", "imtl_loss",
              "pcgrad", "mgda", "cagrad", "nash_mtl", "nash_mtl_every_2", "upgrad",
              "imtl", "imtl_gradient", "graddrop", "gradvac", "db_mtl",
              "excess_mtl", "fairgrad", "aligned_mtl", "config",
              # each process's task means are weighted by its labels: the
              # global batch's step even with labels spread unevenly
              "equal+missing", "uncertainty+missing", "gls+missing",
              "pcgrad+missing", "mgda+missing", "nash_mtl+missing",
              "nash_mtl_every_2+missing", "imtl+missing", "upgrad+missing",
              # the representation form: the Gram matrix sums across processes
              "pcgrad_representation", "mgda_representation", "mgda_ub",
              "cagrad_representation", "nash_mtl_representation",
              "upgrad_representation", "imtl_representation",
              "gradvac_representation", "fairgrad_representation",
              "aligned_mtl_representation", "config_representation",
              "pcgrad_representation+missing", "mgda_ub+missing",
              "nash_mtl_representation+missing", "imtl_representation+missing"]
HALF = 8  # rows of each process's shard of a batch
N_STEPS = 3


def _strategy(name):
    """(weighting, other parameters) of a case of STRATEGIES."""
    from skmtl.neural.weighting import DWA, FAMO, IMTL, NashMTL

    if name == "nash_mtl_every_2":
        return NashMTL(update_every=2), {}
    if name == "imtl_gradient":
        return IMTL(form="gradient"), {}
    if name == "imtl_loss":
        return IMTL(form="loss"), {}
    if name == "famo_same_batch":
        return FAMO(update="same_batch"), {}
    if name == "dwa_3_epochs":
        # DWA's weights change from the third epoch on
        return DWA(), {"max_epochs": 3}
    if name.endswith("_representation"):
        # the cheap form: task gradients of the shared representation
        from skmtl.neural.weighting import WEIGHTINGS

        return WEIGHTINGS[name.removesuffix("_representation")](
            on="representation"), {}
    if name == "equal_soft_sharing":
        # the architecture's penalty must reach every process's step
        return "equal", {"architecture": "soft", "module__strength": 1.0}
    return name, {}


def _data(missing=False):
    # three tasks, two of them in conflict
    rng = np.random.RandomState(0)
    X = rng.randn(2 * HALF * N_STEPS, 5)
    Y = np.c_[X[:, 0] - X[:, 1], -X[:, 0] + 0.5 * X[:, 2], 3 * np.sin(X[:, 3])]
    if missing:
        # labels spread unevenly over the shards: the first process sees no
        # label of the last task, and fewer of the first; each shard's task
        # mean is then not half of the batch's
        row = np.arange(len(X)) % (2 * HALF)
        Y[row < HALF, 2] = np.nan
        Y[(row < HALF) & (row % 3 == 0), 0] = np.nan
        Y[row == HALF + 1, 1] = np.nan
    return X, Y


def _fit(name, accelerator, batch_size, callbacks=None):
    from skorch.exceptions import DeviceWarning

    from skmtl.neural import MultiTaskRegressor

    X, Y = _data(missing=name.endswith("+missing"))
    # no dropout, no shuffling; Adam, as users train
    weighting, params = _strategy(name.removesuffix("+missing"))
    params = {"max_epochs": 1, **params}
    est = MultiTaskRegressor(weighting=weighting, hidden_layer_sizes=(16, 8),
                             lr=0.05, batch_size=batch_size,
                             trunk__dropout=0.0, standardize_targets=False,
                             iterator_train__shuffle=False, random_state=0,
                             accelerator=accelerator, callbacks=callbacks,
                             **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeviceWarning)
        est.fit(X, Y)
    state = _state(est.net_.module_)
    # the epoch's task losses in the history: all the shards' on each process
    names = [f"train_loss_{task.name}" for task in est.tasks_]
    state["history"] = torch.tensor(est.history_[:, names])
    return state


def _state(module):
    return {key: value.detach().cpu().clone()
            for key, value in module.state_dict().items()}


_INITIAL = {}


class _InitialState(Callback):
    """Keeps the module's state before the first step (in _INITIAL: the
    estimator trains a copy of its callbacks)."""

    def on_train_begin(self, net, **kwargs):
        _INITIAL["state"] = _state(net.module_)


class _OtherDraws(Callback):
    """Moves the random generator of every process but the first before each
    step, as a process's own draws would (dropout masks, data augmentation):
    the strategies' random draws must still be the first process's."""

    def __init__(self, rank=0):
        self.rank = rank

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        torch.rand(7 * self.rank)


def _on_each_process(names, out_dir):
    # forked from a process that may hold accelerate's one-process state
    from accelerate.state import AcceleratorState, GradientState

    AcceleratorState._reset_state(reset_partial_state=True)
    GradientState._reset_state()
    torch.set_num_threads(1)
    for name in names:
        accelerator = accelerate.Accelerator(cpu=True)
        assert accelerator.num_processes == 2
        rank = accelerator.process_index
        state = _fit(name, accelerator, batch_size=HALF, callbacks=[_OtherDraws(rank)])
        torch.save(state, os.path.join(out_dir, f"{name}-{rank}.pt"))
        AcceleratorState._reset_state()


def _available(names):
    out = []
    for name in names:
        if name.startswith("upgrad"):
            try:
                import quadprog  # noqa: F401
                import torchjd.aggregation  # noqa: F401
            except ImportError:
                continue
        out.append(name)
    return out


def _largest(a, b, keys):
    return max(float((a[k] - b[k]).abs().max()) for k in keys)


def parameter_differences(names=STRATEGIES):
    """For each strategy, the largest absolute differences: two processes'
    parameters against one's after the steps, their per-task losses in the
    history against one's, process 0 against process 1 (both), and one
    process's parameters against the initial ones (the steps moved them)."""
    names = _available(names)
    with tempfile.TemporaryDirectory() as out_dir:
        accelerate.debug_launcher(_on_each_process, args=(names, out_dir),
                                  num_processes=2)
        two = {name: [torch.load(os.path.join(out_dir, f"{name}-{rank}.pt"))
                      for rank in (0, 1)] for name in names}
    from accelerate.state import AcceleratorState

    differences = {}
    for name in names:
        AcceleratorState._reset_state(reset_partial_state=True)
        one = _fit(name, accelerate.Accelerator(cpu=True), batch_size=2 * HALF,
                   callbacks=[_InitialState()])
        first, second = two[name]
        initial = _INITIAL.pop("state")
        params = [k for k in one if k != "history"]
        differences[name] = (
            _largest(first, one, params), _largest(first, one, ["history"]),
            _largest(first, second, list(one)), _largest(one, initial, params))
    AcceleratorState._reset_state(reset_partial_state=True)
    return differences


@pytest.fixture(scope="module")
def differences():
    return parameter_differences()


@pytest.mark.parametrize("name", STRATEGIES)
def test_two_processes_take_the_step_of_one_process_on_the_whole_batch(
        differences, name):
    if name not in differences:
        pytest.skip("UPGrad needs torchjd with its quadprog projector")
    to_one, history, between, moved = differences[name]
    assert moved > 1e-2, f"{name}: the steps left the parameters in place"
    assert to_one < 1e-5, f"{name}: two processes differ from one by {to_one:.2e}"
    assert history < 1e-5, f"{name}: the histories differ by {history:.2e}"
    assert between < 1e-6, f"{name}: the two processes differ by {between:.2e}"


if __name__ == "__main__":
    header = ("params 2 - 1 proc", "history 2 - 1 proc", "proc 0 - proc 1",
              "1 proc - initial")
    print(f"{'strategy':<34}" + "".join(f"{h:>20}" for h in header))
    for name, values in parameter_differences(sys.argv[1:] or STRATEGIES).items():
        print(f"{name:<34}" + "".join(f"{v:>20.2e}" for v in values))
