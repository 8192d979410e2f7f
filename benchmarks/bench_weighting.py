"""Task-weighting strategies: cost per training step, and test scores.

1. Cost. Seconds per training step of ``MultiTaskEstimator`` with each
   strategy, relative to equal weighting (``Fixed``) in the same run, for
   T = 3 and T = 10 tasks (regression, 4-class classification and binary
   tasks in turn). Setting (DESIGN §8 at a smaller size): 6 400 rows × 100
   features, MLP trunk 2×256 with a linear head per task, Adam, batch 256,
   25 steps per epoch, 8 epochs (200 steps) per fit; the time of an epoch
   (skorch's ``dur``) divided by its steps, averaged over the epochs after
   the first (so that updates made every k steps are counted at their
   rate), the fastest of ``--rounds`` interleaved rounds (the machine is
   shared: the minimum is the measurement least disturbed by other
   processes). The
   reference "torchjd UPGrad" is torchjd's own pipeline
   (``mtl_backward(losses, features=h)`` then ``jac_to_grad(shared_params,
   UPGrad())``) in the same training loop.
   Targets: loss-level <= 1.1×, MGDA-UB <= 1.6×, the other gradient-level
   methods no slower than torchjd's UPGrad. Each gradient-level strategy is
   timed in both forms: its task gradients of the shared parameters
   (``on="parameters"``, the default) and of the shared representation
   (``on="representation"``, target <= 1.3× at 3 and at 10 tasks).
   ``--clock process`` measures the process's CPU time instead of the wall
   time (less disturbed on a shared machine); ``--part cost-seed`` times
   both forms on the seed's network instead (ConvNet (32, 64) -> 256, two
   tasks, batch 128; process time).

   Memory (``--part memory``, a few seconds; part of ``all``): the peak memory
   of one training step above what is allocated before it (network, Adam's
   state, batch), for every strategy and both forms, relative to equal
   weighting, on the seed's network (ConvNet (32, 64) -> 256, 28×28 digit
   images, 10-class and 4-value box heads, batch 128). On CUDA
   ``torch.cuda.max_memory_allocated``; on the CPU the running sum of the
   allocations and frees of torch's CPU allocator that ``torch.profiler``
   records with ``profile_memory=True`` (exact for tensors; the process's
   RSS would mix in Python objects and the C allocator's caching).

2. Scores, mean ± std over ``--seeds`` seeds, with equal weighting and
   single-task training (one network per task) as references:

   * digits: ``make_digit_localization`` (class: accuracy; box: mean IoU on
     test images of unseen handwriting), ConvNet trunk with channels (16, 32)
     and 128 features, 1600 training images, 8 epochs, batch 64, Adam lr
     2e-3 — a cheaper configuration than ``bench_digits.py``;
   * tabular: 6 regression tasks of rank 2 (``make_multitask_regression``,
     ``structure="low_rank"``), 300 training rows with 30% of labels
     missing, extra label noise of standard deviation 1 and 2 (in units of
     the task's spread) on two tasks; MLP (64, 64), 60 epochs, batch 32;
     mean test R² over the tasks (test labels noisy too).

Run from the repository root: ``python benchmarks/bench_weighting.py
--threads 1`` (about 15-20 minutes on 2 busy cores); ``--part cost``,
``--part memory`` or ``--part scores`` (``digits`` or ``tabular`` for one
problem) for one part,
``--seeds 1`` for seed 0 only, ``--only famo,mgda`` for some strategies,
``--quick`` for a smoke run. ``--part seed`` scores the strategies on the
seed's network instead (ConvNet (32, 64) -> 256, 30 epochs, batch 128, Adam
lr 1e-3, the same 1600 images; not part of ``all``: about an hour at one
thread).
"""

import argparse
import time

import numpy as np
import torch
from skorch.callbacks import Callback

from skmtl import SingleTaskBaseline, Task
from skmtl.datasets import box_iou, make_digit_localization, make_multitask_regression
from skmtl.metrics import masked_r2_score
from skmtl.neural import (
    ConvNet,
    MultiTaskClassifier,
    MultiTaskEstimator,
    MultiTaskRegressor,
)
from skmtl.neural.weighting import (
    DBMTL,
    DWA,
    FAMO,
    GLS,
    IMTL,
    MGDA,
    MGDAUB,
    RLW,
    STCH,
    AlignedMTL,
    CAGrad,
    ConFIG,
    ExcessMTL,
    FairGrad,
    Fixed,
    GradDrop,
    GradNorm,
    GradVac,
    MetaWeighting,
    NashMTL,
    PCGrad,
    Uncertainty,
    UPGrad,
    Weighting,
)

LOSS_LEVEL = {
    "equal (Fixed)": Fixed,
    "Uncertainty": Uncertainty,
    "Uncertainty (lr 0.05)": lambda: Uncertainty(lr=0.05),
    "DWA": DWA,
    "RLW": RLW,
    "FAMO": FAMO,
    "FAMO (paper: same batch)": lambda: FAMO(lr=0.025, decay="l2",
                                             update="same_batch"),
    "GradNorm": GradNorm,
    "GradNorm (every step)": lambda: GradNorm(every=1),
    "GradNorm (every 20 steps)": lambda: GradNorm(every=20),
    "MetaWeighting": MetaWeighting,
    "MetaWeighting (every step)": lambda: MetaWeighting(every=1),
    "IMTL-L": lambda: IMTL(form="loss"),
    "GLS": GLS,
    "STCH": STCH,
}
GRADIENT_LEVEL = {
    "PCGrad": PCGrad,
    "MGDA": MGDA,
    "MGDA (no normalization)": lambda: MGDA(normalization="none"),
    "MGDA-UB": MGDAUB,
    "MGDA-UB (no normalization)": lambda: MGDAUB(normalization="none"),
    "CAGrad": CAGrad,
    "NashMTL": NashMTL,
    "UPGrad": UPGrad,
    "IMTL (hybrid)": IMTL,
    "IMTL-G": lambda: IMTL(form="gradient"),
    "DB-MTL": DBMTL,
    "Aligned-MTL": AlignedMTL,
    "ConFIG": ConFIG,
    "GradVac": GradVac,
    "GradDrop": GradDrop,
    "FairGrad": FairGrad,
    "ExcessMTL": ExcessMTL,
    "ExcessMTL (paper: step 1)": lambda: ExcessMTL(robust_step_size=1.0),
}
COST_ONLY = ("(every step)", "(every 20 steps)")
REPRESENTATION_TAG = "[repr.]"   # score rows of the on="representation" form
SCORE_ONLY = ("(no normalization)", "(paper: step 1)", "(lr 0.05)")


class TorchjdUPGrad(Weighting):
    """torchjd's own pipeline, as its documentation shows it: the reference."""

    level = "gradient"

    def initialize(self, tasks):
        from torchjd.aggregation import UPGrad as Aggregator

        super().initialize(tasks)
        self._aggregator = Aggregator()
        return self

    def combine(self, task_losses, training=True):
        return task_losses.sum()

    def backward(self, task_losses, net, penalty=None):
        from torchjd.autojac import jac_to_grad, mtl_backward

        module = net.module_
        # the losses are entries of one stacked tensor: keep the graph
        # between torchjd's per-task passes
        mtl_backward(list(task_losses.unbind()),
                     features=module.shared_representation(), retain_graph=True)
        jac_to_grad(module.shared_parameters(), self._aggregator)
        return task_losses.detach().sum()

    def weights(self):
        return np.ones(self.n_tasks_)


# -- 1. cost per step ---------------------------------------------------------


def cost_problem(n_tasks, n_samples, n_features=100, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n_samples, n_features).astype(np.float32)
    Z = X @ rng.randn(n_features, n_tasks) / np.sqrt(n_features)
    tasks, columns = [], []
    for k in range(n_tasks):
        kind = ("regression", "classification", "binary")[k % 3]
        tasks.append(Task(f"t{k}", kind))
        if kind == "regression":
            columns.append(Z[:, k] + 0.1 * rng.randn(n_samples))
        elif kind == "classification":
            columns.append(np.digitize(Z[:, k], [-0.7, 0.0, 0.7]))
        else:
            columns.append(Z[:, k] > 0)
    return X, np.column_stack(columns).astype(float), tasks


class ProcessTime(Callback):
    """Records each epoch's CPU time of the process (``time.process_time``)
    as ``cpu_dur``: unlike the wall time (skorch's ``dur``), it does not
    count the time the process waits for a core on a shared machine."""

    def on_epoch_begin(self, net, **kwargs):
        self._start = time.process_time()

    def on_epoch_end(self, net, **kwargs):
        net.history.record("cpu_dur", time.process_time() - self._start)


def seconds_per_step(weighting, X, Y, tasks, epochs, batch_size, clock="wall"):
    est = MultiTaskEstimator(tasks=tasks, weighting=weighting,
                             hidden_layer_sizes=(256, 256), batch_size=batch_size,
                             max_epochs=epochs, lr=1e-3, random_state=0,
                             callbacks=[ProcessTime()])
    est.fit(X, Y)
    steps = int(np.ceil(len(X) / batch_size))
    # the mean over epochs 2-8, not the fastest epoch: a strategy that updates
    # every k steps has epochs without an update, and the fastest epoch would
    # leave its updates out
    durations = est.history_[1:, "dur" if clock == "wall" else "cpu_dur"]
    return sum(durations) / (len(durations) * steps)


def _only(strategies, only):
    """The strategies whose row name contains one of the comma-separated
    substrings of ``only`` (all for None); equal weighting is always kept."""
    if not only:
        return strategies
    wanted = [w.strip().lower() for w in only.split(",")]
    return {name: make for name, make in strategies.items()
            if name.startswith("equal") or any(w in name.lower() for w in wanted)}


def representation_form(make):
    """The factory of ``make``'s ``on="representation"`` form, or None when the
    strategy has no such option (loss level; MGDA-UB, which is that form)."""
    if "on" not in make().get_params():
        return None
    return lambda: make().set_params(on="representation")


def _forms(strategies):
    """``{row: {form: factory}}``: the parameters form (``params``; the only
    one of loss-level strategies) and, for gradient-level ones, ``repr``."""
    rows = {}
    for name, make in strategies.items():
        forms = {"params": make}
        cheap = representation_form(make) if name in GRADIENT_LEVEL else None
        if cheap is not None:
            forms["repr"] = cheap
        elif name.startswith("MGDA-UB"):
            forms = {"repr": make}   # MGDA(on="representation"), heads scaled
        rows[name] = forms
    return rows


def _level(name):
    return ("reference" if "reference" in name else
            "gradient" if name in GRADIENT_LEVEL else "loss")


def run_cost(args):
    strategies = {name: make for table in (LOSS_LEVEL, GRADIENT_LEVEL)
                  for name, make in table.items()
                  if not any(tag in name for tag in SCORE_ONLY)}
    strategies["torchjd UPGrad (reference)"] = TorchjdUPGrad
    rows = _forms(_only(strategies, args.only))
    n_samples = 256 * (10 if args.quick else 25)
    epochs = 2 if args.quick else 8
    results = {}
    for n_tasks in (3, 10):
        X, Y, tasks = cost_problem(n_tasks, n_samples)
        times = {(name, form): [] for name, forms in rows.items() for form in forms}
        for _ in range(args.rounds):
            for name, forms in rows.items():
                for form, make in forms.items():
                    times[name, form].append(seconds_per_step(
                        make(), X, Y, tasks, epochs, 256, clock=args.clock))
        results[n_tasks] = {key: min(t) for key, t in times.items()}
    base = {T: results[T]["equal (Fixed)", "params"] for T in results}
    print(f"\nCost per training step relative to equal weighting (same run): "
          f"{n_samples} rows x 100 features, MLP 2x256, batch 256, "
          f"{n_samples // 256} steps/epoch, mean of epochs 2-{epochs}, fastest "
          f"of {args.rounds} rounds, {args.threads} thread(s), {args.clock} "
          f"time. Columns: the "
          f"task gradients of the shared parameters (on=\"parameters\", the "
          f"default) and of the shared representation (on=\"representation\")")

    def cell(T, name, form):
        t = results[T].get((name, form))
        return f"{'-':>16}" if t is None else f"{t * 1e3:7.2f} {t / base[T]:6.2f}x "

    header = (f"{'strategy':<28} {'level':<9} {'T=3 parameters':>16} "
              f"{'T=3 represent.':>16} {'T=10 parameters':>16} "
              f"{'T=10 represent.':>16}")
    print(header + "\n" + " " * 38 + "    ms  ratio" * 4)
    print("-" * len(header))
    for name in rows:
        print(f"{name:<28} {_level(name):<9} " + " ".join(
            cell(T, name, form) for T in (3, 10) for form in ("params", "repr")))


def run_cost_seed(args):
    """Both forms' process time per step on the seed's network (2 tasks)."""
    strategies = {name: make for table in (LOSS_LEVEL, GRADIENT_LEVEL)
                  for name, make in table.items()
                  if name in GRADIENT_LEVEL or name.startswith("equal")
                  if not any(tag in name for tag in SCORE_ONLY)}
    rows = _forms(_only(strategies, args.only))
    X, Y, tasks = make_digit_localization(128 * 8, subset="train", random_state=0,
                                          return_tasks=True)
    epochs = 3
    times = {(name, form): [] for name, forms in rows.items() for form in forms}
    for _ in range(args.rounds):
        for name, forms in rows.items():
            for form, make in forms.items():
                est = MultiTaskEstimator(
                    tasks=tasks, weighting=make(), trunk=ConvNet,
                    trunk__channels=(32, 64), trunk__out_features=256,
                    batch_size=128, max_epochs=epochs, lr=1e-3, random_state=0,
                    callbacks=[ProcessTime()]).fit(X, Y)
                durations = est.history_[1:, "cpu_dur"]
                times[name, form].append(sum(durations) / (len(durations) * 8))
    base = min(times["equal (Fixed)", "params"])
    print(f"\nCost per training step on the seed's network (ConvNet (32, 64) -> "
          f"256, 28x28 images, class + box heads, batch 128, 8 steps/epoch, mean "
          f"of epochs 2-{epochs}, fastest of {args.rounds} rounds, process time, "
          f"{args.threads} thread(s)); equal weighting {base * 1e3:.1f} ms")
    print(f"{'strategy':<28} {'parameters':>11} {'representation':>15}")
    for name, forms in rows.items():
        cells = [f"{min(times[name, form]) / base:10.2f}x" if form in forms
                 else f"{'-':>11}" for form in ("params", "repr")]
        print(f"{name:<28} {cells[0]} {cells[1]:>15}")


# -- memory per step ----------------------------------------------------------


def _second_step_peak(prof):
    """Peak of the memory allocated during the second recorded step, above
    what was allocated when it began, from ``torch.profiler``'s allocator
    events (profile_memory=True), in bytes.

    The first step is measured only to learn what the second frees: the
    profiler cannot size a block allocated before it started (the previous
    step's graph, which the first step frees), but it sizes everything the
    first step leaves for the second."""
    events = prof.profiler.kineto_results.events()
    steps = sorted((e.start_ns(), e.end_ns()) for e in events
                   if e.name() == "bench::train_step")
    begin, end = steps[1]
    memory = sorted((e.start_ns(), e.nbytes()) for e in events
                    if e.name() == "[memory]")
    current, at_begin, peak = 0, None, None
    for time_ns, nbytes in memory:
        if time_ns >= begin and at_begin is None:
            at_begin = peak = current
        current += nbytes
        if begin <= time_ns <= end:
            peak = max(peak, current)
    return peak - at_begin


def step_peak_bytes(weighting, X, Y, tasks, device="cpu"):
    """Peak memory allocated during one training step, above what was
    allocated before it (the network, Adam's state and the batch).

    The net is trained for one epoch first (Adam's state exists), then a
    ``partial_fit`` on two batches of 128 rows runs two steps; the second
    is measured, by ``torch.cuda.max_memory_allocated`` on CUDA and, on the
    CPU, from the allocations and frees that ``torch.profiler`` records
    (profile_memory): exact for every tensor torch allocates, blind to the
    Python objects around them."""
    est = MultiTaskEstimator(tasks=tasks, weighting=weighting, trunk=ConvNet,
                             trunk__channels=(32, 64), trunk__out_features=256,
                             batch_size=128, max_epochs=1, lr=1e-3, device=device,
                             random_state=0).fit(X, Y)
    net = est.net_
    step = net.train_step
    peaks = []

    def measured_step(batch, **fit_params):
        if device == "cuda":
            torch.cuda.synchronize()
            before = torch.cuda.memory_allocated()
            torch.cuda.reset_peak_memory_stats()
            out = step(batch, **fit_params)
            torch.cuda.synchronize()
            peaks.append(torch.cuda.max_memory_allocated() - before)
            return out
        with torch.profiler.record_function("bench::train_step"):
            return step(batch, **fit_params)

    net.train_step = measured_step
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU],
                                profile_memory=True) as prof:
        est.partial_fit(X[:256], Y[:256])
    del net.train_step
    return peaks[1] if device == "cuda" else _second_step_peak(prof)


def run_memory(args):
    strategies = {name: make for table in (LOSS_LEVEL, GRADIENT_LEVEL)
                  for name, make in table.items()
                  if not any(tag in name for tag in SCORE_ONLY + COST_ONLY)}
    rows = _forms(_only(strategies, args.only))
    device = "cuda" if torch.cuda.is_available() else "cpu"
    X, Y, tasks = make_digit_localization(256, subset="train", random_state=0,
                                          return_tasks=True)
    peaks = {(name, form): step_peak_bytes(make(), X, Y, tasks, device)
             for name, forms in rows.items() for form, make in forms.items()}
    base = peaks["equal (Fixed)", "params"]
    how = ("torch.cuda.max_memory_allocated" if device == "cuda" else
           "torch.profiler's CPU allocator events")
    print(f"\nPeak memory of one training step above what is allocated before "
          f"it, relative to equal weighting: the seed's network (ConvNet "
          f"(32, 64) -> 256, 28x28 images, 10-class + 4-box heads), batch 128, "
          f"Adam, {device} ({how}); equal weighting: {base / 2 ** 20:.1f} MiB")
    header = (f"{'strategy':<28} {'level':<9} {'parameters':>16} "
              f"{'representation':>16}")
    print(header + "\n" + " " * 38 + "   MiB  ratio" * 2)
    print("-" * len(header))
    for name, forms in rows.items():
        cells = []
        for form in ("params", "repr"):
            if form in forms:
                peak = peaks[name, form]
                cells.append(f"{peak / 2 ** 20:7.1f} {peak / base:6.2f}x ")
            else:
                cells.append(f"{'-':>16}")
        print(f"{name:<28} {_level(name):<9} " + " ".join(cells))


def run_conflict(args):
    """Overhead of the GradientConflict callback on bench_neural's network."""
    from skmtl.neural import GradientConflict

    n_samples = 256 * (20 if args.quick else 100)
    epochs = 2 if args.quick else 4
    X, Y, tasks = cost_problem(3, n_samples)
    variants = {"no callback": lambda: [],
                "GradientConflict() (every=100)": lambda: [GradientConflict()],
                "GradientConflict(every=50)": lambda: [GradientConflict(every=50)],
                "GradientConflict(every=10)": lambda: [GradientConflict(every=10)]}
    times = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, make in variants.items():
            est = MultiTaskEstimator(tasks=tasks, hidden_layer_sizes=(256, 256),
                                     batch_size=256, max_epochs=epochs, lr=1e-3,
                                     callbacks=make(), random_state=0).fit(X, Y)
            times[name].append(min(est.history_[1:, "dur"]))
    base = min(times["no callback"])
    print(f"\nGradientConflict overhead: {n_samples} rows x 100 features, 3 tasks, "
          f"MLP 2x256, batch 256, {n_samples // 256} steps/epoch, fastest of "
          f"epochs 2-{epochs} in {args.rounds} rounds")
    for name, t in times.items():
        print(f"{name:<32} {min(t):7.3f} s/epoch {min(t) / base:5.2f}x")


# -- 2. scores ----------------------------------------------------------------


def _strategies_for_scores():
    """The rows of the score tables: every strategy and, after each
    gradient-level one, its ``on="representation"`` form."""
    out = {"equal (Fixed)": Fixed}
    for table in (LOSS_LEVEL, GRADIENT_LEVEL):
        for name, make in table.items():
            if name not in out and not any(tag in name for tag in COST_ONLY):
                out[name] = make
                cheap = representation_form(make) if table is GRADIENT_LEVEL else None
                if cheap is not None:
                    out[f"{name} {REPRESENTATION_TAG}"] = cheap
    return out


def _mean_std(values):
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}"


DIGITS_SETTINGS = {
    # a cheap configuration, for many strategies and seeds
    "digits": dict(n_train=1600, epochs=8, batch_size=64, lr=2e-3,
                   channels=(16, 32), out_features=128),
    # the seed's network and optimizer (issue: 30-epoch run of the seed network)
    "seed": dict(n_train=1600, epochs=30, batch_size=128, lr=1e-3,
                 channels=(32, 64), out_features=256),
}


def digits_scores(args, strategies, setting="digits"):
    config = dict(DIGITS_SETTINGS[setting])
    if args.quick:
        config.update(n_train=500, epochs=2)
    n_train, epochs = config["n_train"], config["epochs"]
    X, Y, tasks = make_digit_localization(n_train, subset="train", random_state=0,
                                          return_tasks=True)
    X_test, Y_test = make_digit_localization(1000, subset="test", random_state=1)
    common = dict(trunk=ConvNet, trunk__channels=config["channels"],
                  trunk__out_features=config["out_features"], lr=config["lr"],
                  max_epochs=epochs, batch_size=config["batch_size"])
    rows = {}
    for name, make in strategies.items():
        acc, iou, seconds = [], [], []
        for seed in range(args.seeds):
            start = time.perf_counter()
            est = MultiTaskEstimator(tasks=tasks, weighting=make(), random_state=seed,
                                     **common).fit(X, Y)
            seconds.append(time.perf_counter() - start)
            P = est.predict(X_test)
            acc.append(np.mean(P[:, 0] == Y_test[:, 0]))
            iou.append(np.mean(box_iou(Y_test[:, 1:], P[:, 1:].astype(float))))
        rows[name] = (acc, iou, seconds)
        if args.verbose:
            print(f"  {name}: {_mean_std(acc)} / {_mean_std(iou)}", flush=True)
    acc, iou, seconds = [], [], []
    for seed in range(args.seeds):
        start = time.perf_counter()
        digit = MultiTaskClassifier(random_state=seed, **common).fit(
            X, Y[:, 0].astype(int))
        box = MultiTaskRegressor(random_state=seed, **common).fit(X, Y[:, 1:])
        seconds.append(time.perf_counter() - start)
        acc.append(np.mean(digit.predict(X_test) == Y_test[:, 0]))
        iou.append(np.mean(box_iou(Y_test[:, 1:], box.predict(X_test))))
    rows["single-task (2 networks)"] = (acc, iou, seconds)
    print(f"\nDigits class + box ({setting}): {n_train} training images, 1000 test "
          f"images of unseen handwriting, ConvNet {config['channels']} -> "
          f"{config['out_features']}, {epochs} epochs, batch {config['batch_size']}, "
          f"Adam lr {config['lr']:g}; mean ± std over {args.seeds} seeds")
    equal_acc, equal_iou = (np.mean(v) for v in rows["equal (Fixed)"][:2])
    header = (f"{'strategy':<36} {'accuracy':>15} {'mean IoU':>15} {'fit (s)':>8}"
              f"  >= 0.9x equal")
    print(header)
    print("-" * len(header))
    for name, (acc, iou, seconds) in rows.items():
        ok = (np.mean(acc) >= 0.9 * equal_acc and np.mean(iou) >= 0.9 * equal_iou)
        print(f"{name:<36} {_mean_std(acc):>15} {_mean_std(iou):>15} "
              f"{np.mean(seconds):8.1f}  {'yes' if ok else 'NO'}")
    print(f"0.9x equal weighting: accuracy {0.9 * equal_acc:.3f}, mean IoU "
          f"{0.9 * equal_iou:.3f}")


def tabular_problem(seed):
    X, Y = make_multitask_regression(n_samples=2300, n_features=20, n_tasks=6,
                                     structure="low_rank", rank=2, noise=0.1,
                                     random_state=seed)
    rng = np.random.RandomState(seed)
    Y = Y + rng.randn(*Y.shape) * Y.std(0) * np.array([0, 0, 0, 0, 1.0, 2.0])
    X_train, Y_train, X_test, Y_test = X[:300], Y[:300].copy(), X[300:], Y[300:]
    Y_train[rng.rand(*Y_train.shape) < 0.3] = np.nan
    for k in range(Y.shape[1]):  # keep a few labels per task
        if np.isnan(Y_train[:, k]).sum() > 290:
            Y_train[:10, k] = Y[:10, k]
    return X_train, Y_train, X_test, Y_test


def tabular_scores(args, strategies):
    epochs = 10 if args.quick else 60
    common = dict(hidden_layer_sizes=(64, 64), lr=1e-3, max_epochs=epochs,
                  batch_size=32)
    rows = {}
    problems = [tabular_problem(seed) for seed in range(args.seeds)]
    for name, make in strategies.items():
        scores, worst, seconds = [], [], []
        for seed, (X, Y, X_test, Y_test) in enumerate(problems):
            start = time.perf_counter()
            est = MultiTaskRegressor(weighting=make(), random_state=seed,
                                     **common).fit(X, Y)
            seconds.append(time.perf_counter() - start)
            r2 = masked_r2_score(Y_test, est.predict(X_test), multioutput="raw_values")
            scores.append(np.mean(r2))
            worst.append(np.min(r2[:4]))
        rows[name] = (scores, worst, seconds)
    scores, worst, seconds = [], [], []
    for seed, (X, Y, X_test, Y_test) in enumerate(problems):
        start = time.perf_counter()
        est = SingleTaskBaseline(MultiTaskRegressor(random_state=seed, **common))
        est.fit(X, Y)
        seconds.append(time.perf_counter() - start)
        r2 = masked_r2_score(Y_test, est.predict(X_test), multioutput="raw_values")
        scores.append(np.mean(r2))
        worst.append(np.min(r2[:4]))
    rows["single-task (6 networks)"] = (scores, worst, seconds)
    print(f"\nTabular: 6 low-rank regression tasks, 300 training rows (30% labels "
          f"missing), extra label noise on tasks 5 and 6; MLP (64, 64), {epochs} "
          f"epochs, batch 32, Adam lr 1e-3; test R², mean ± std over {args.seeds} "
          f"seeds")
    header = (f"{'strategy':<36} {'mean R²':>15} {'worst clean R²':>15} "
              f"{'fit (s)':>8}")
    print(header)
    print("-" * len(header))
    for name, (scores, worst, seconds) in rows.items():
        print(f"{name:<36} {_mean_std(scores):>15} {_mean_std(worst):>15} "
              f"{np.mean(seconds):8.1f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--part", choices=("cost", "cost-seed", "memory", "conflict",
                                           "scores", "digits", "tabular", "seed",
                                           "all"),
                        default="all")
    parser.add_argument("--only", default=None,
                        help="comma-separated substrings: time or score only the "
                             "strategies whose row name contains one (equal "
                             "weighting is always kept)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--clock", choices=("wall", "process"), default="wall",
                        help="--part cost: wall time per step (skorch's dur), or "
                             "the process's CPU time, which a loaded machine "
                             "disturbs less (with --threads 1)")
    parser.add_argument("--verbose", action="store_true",
                        help="print each strategy's scores as they come")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    if args.part in ("cost", "all"):
        run_cost(args)
    if args.part == "cost-seed":
        run_cost_seed(args)
    if args.part in ("memory", "all"):
        run_memory(args)
    if args.part in ("conflict", "all"):
        run_conflict(args)
    if args.part in ("scores", "digits", "tabular", "seed", "all"):
        strategies = _only(_strategies_for_scores(), args.only)
        if args.part in ("scores", "tabular", "all"):
            tabular_scores(args, strategies)
        if args.part in ("scores", "digits", "all"):
            digits_scores(args, strategies)
        if args.part == "seed":
            digits_scores(args, strategies, setting="seed")
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
