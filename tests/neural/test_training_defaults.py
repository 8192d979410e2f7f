"""What every strategy and task type goes through: the optimizer, the data path,
the loss reduction, target scaling.

Three guards, from the narrowest to the widest:

* every parameter's ``.grad`` follows torch's gradient layout contract (the
  parameter's strides) after a step of every strategy: the fused Adam on the
  CPU reads both buffers in memory order, and gradient-level strategies
  used to write channels-last convolution gradients in the default layout;
* every strategy trains the same with the default optimizer (fused Adam) as
  with torch's for-loop and foreach implementations of the same algorithm;
* every strategy, on every task type, trains to the predictions recorded in
  ``default_training_snapshot.json``. A change to a default that every
  strategy goes through fails here: re-run the score benchmarks on the new
  default (benchmarks/bench_weighting.py --part scores and --part seed,
  benchmarks/bench_digits.py --seed-example), update the figures in the
  documentation, then rewrite the snapshot with
  ``python tests/neural/test_training_defaults.py --write`` and say why in
  the commit.
"""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from skmtl import Task
from skmtl.neural import ConvNet, MultiTaskEstimator
from skmtl.neural.weighting import WEIGHTINGS

SNAPSHOT = Path(__file__).with_name("default_training_snapshot.json")

# Raw outputs after a few steps stay within 1e-6 of each other across
# implementations of the same update (fused / foreach / for-loop Adam);
# the broken fused update of gradient-level strategies moved them by 1e-2.
SNAPSHOT_ATOL = 2e-4


def _tasks():
    return [Task("digit", "classification"),
            Task("box", "regression", n_outputs=2),
            Task("bright", "binary"),
            Task("spots", "count"),
            Task("rank", "ranking", group="query")]


def _problem(n=96, seed=0):
    """Small images with one target of every task type (some labels missing)."""
    rng = np.random.RandomState(seed)
    X = rng.rand(n, 1, 8, 8).astype(np.float32)
    left, top = X[:, 0, :, :4].mean(axis=(1, 2)), X[:, 0, :4, :].mean(axis=(1, 2))
    Y = np.column_stack([
        np.digitize(left, np.quantile(left, [1 / 3, 2 / 3])),   # 3 classes
        left, top,                                             # 2 values
        (top > np.median(top)).astype(float),                  # 0 / 1
        rng.poisson(3 * X[:, 0, 2, 2]),                        # counts
        np.round(4 * X[:, 0, 5, 5]),                           # relevance
    ]).astype(float)
    Y[rng.rand(n) < 0.15, 1:3] = np.nan
    Y[rng.rand(n) < 0.15, 3] = np.nan
    groups = np.repeat(np.arange(n // 8), 8)
    return X, Y, groups


def _fit(weighting, callbacks=(), max_epochs=2, **params):
    X, Y, groups = _problem()
    est = MultiTaskEstimator(
        tasks=_tasks(), weighting=weighting, trunk=ConvNet,
        trunk__channels=(4, 8), trunk__out_features=16, lr=1e-2,
        max_epochs=max_epochs, batch_size=32, random_state=0, verbose=0,
        callbacks=list(callbacks), **params)
    return est.fit(X, Y, groups=groups), X


def _parameters(est):
    """The module's parameters by name, without the ranking heads' biases.

    A pairwise ranking loss does not change when every score shifts, so the
    bias of a ranking head gets rounding noise as its gradient, and Adam,
    which divides a gradient by its running magnitude, turns that noise into
    steps of size ``lr``: the bias is arbitrary, and no two implementations
    agree on it.
    """
    module = est.net_.module_
    arbitrary = {id(_head_bias(module, k)) for k, task in enumerate(est.tasks_)
                 if task.type == "ranking"}
    return {name: p.detach().clone() for name, p in module.named_parameters()
            if id(p) not in arbitrary}


def _head_bias(module, k):
    return [m for m in module.heads[k].modules()
            if isinstance(m, torch.nn.Linear)][-1].bias


class _RecordGradientLayouts(Callback):
    """Records the parameters whose ``.grad`` strides differ from theirs."""

    def __init__(self):
        self.mismatched = set()
        self.steps = 0

    def on_grad_computed(self, net, named_parameters, X=None, y=None, training=False,
                         **kwargs):
        self.steps += 1
        for name, p in named_parameters:
            if p.grad is not None and p.grad.stride() != p.stride():
                self.mismatched.add((name, p.stride(), p.grad.stride()))


def test_the_problem_has_channels_last_parameters():
    # the guard below means something only if some parameter's layout is not
    # the default one
    est, _ = _fit("fixed", max_epochs=1)
    assert any(not p.is_contiguous() for p in est.net_.module_.parameters())


@pytest.mark.parametrize("name", sorted(WEIGHTINGS))
def test_every_strategy_writes_gradients_in_the_parameters_layout(name):
    est, _ = _fit(name, callbacks=[("layouts", _RecordGradientLayouts())],
                  max_epochs=1)
    layouts = dict(est.net_.callbacks_)["layouts"]   # the estimator's copy
    assert layouts.steps == 3
    assert not layouts.mismatched, (
        f"{name} left gradients whose strides differ from their parameter's "
        f"(name, parameter strides, gradient strides): {sorted(layouts.mismatched)}")


@pytest.mark.parametrize("name", sorted(
    name for name, cls in WEIGHTINGS.items() if "on" in cls._get_param_names()))
def test_the_representation_form_writes_gradients_in_the_parameters_layout(name):
    strategy = WEIGHTINGS[name](on="representation")
    est, _ = _fit(strategy, callbacks=[("layouts", _RecordGradientLayouts())],
                  max_epochs=1)
    layouts = dict(est.net_.callbacks_)["layouts"]
    assert layouts.steps == 3
    assert not layouts.mismatched, (
        f"{name}(on='representation') left gradients whose strides differ from "
        f"their parameter's: {sorted(layouts.mismatched)}")
    trunk = est.net_.module_.shared_parameters()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in trunk)


@pytest.mark.parametrize("name", sorted(WEIGHTINGS))
def test_every_strategy_trains_the_same_with_every_adam_implementation(name):
    fused, _ = _fit(name)
    assert fused.net_.optimizer_.defaults["fused"] is True   # the default
    reference = _parameters(_fit(name, optimizer__fused=False)[0])
    foreach, _ = _fit(name, optimizer__foreach=True)
    assert foreach.net_.optimizer_.defaults["foreach"] is True
    for other in (fused, foreach):
        for key, value in _parameters(other).items():
            torch.testing.assert_close(
                value, reference[key], rtol=1e-5, atol=1e-6,
                msg=lambda message, key=key: f"{name}, parameter {key}: {message}")


def _snapshot_outputs(name):
    est, X = _fit(name)
    raw = est.net_.predict_raw(X[:8])
    # a ranking head's scores are defined up to a shift (see _parameters)
    return {task.name: np.round(values - values.mean() if task.type == "ranking"
                                else values, 6).tolist()
            for task, values in zip(est.tasks_, raw)}


def _read_snapshot():
    return json.loads(SNAPSHOT.read_text())


def test_the_snapshot_covers_every_strategy_and_task_type():
    snapshot = _read_snapshot()
    assert sorted(snapshot["outputs"]) == sorted(WEIGHTINGS)
    types = {t.type for t in _tasks()}
    assert types == {"regression", "classification", "binary", "count", "ranking"}
    for outputs in snapshot["outputs"].values():
        assert sorted(outputs) == sorted(t.name for t in _tasks())


@pytest.mark.parametrize("name", sorted(WEIGHTINGS))
def test_default_training_matches_the_snapshot(name):
    expected = _read_snapshot()["outputs"][name]
    got = _snapshot_outputs(name)
    for task, values in expected.items():
        np.testing.assert_allclose(
            got[task], values, rtol=0, atol=SNAPSHOT_ATOL,
            err_msg=(f"{name}, task {task!r}: training with the defaults no longer "
                     f"gives the recorded outputs. If a default that every strategy "
                     f"goes through changed on purpose, re-run the score benchmarks "
                     f"and rewrite the snapshot (see this module's docstring)."))


def _write_snapshot():
    torch.set_num_threads(1)   # as the tests run (conftest.py)
    outputs = {name: _snapshot_outputs(name) for name in sorted(WEIGHTINGS)}
    SNAPSHOT.write_text(json.dumps(
        {"torch": torch.__version__, "outputs": outputs}) + "\n")
    print(f"wrote {SNAPSHOT} ({len(outputs)} strategies)")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/neural/test_training_defaults.py --write")
    _write_snapshot()
