"""GPU check of the neural family: fit, predict, move to CPU and pickle on CUDA.

For every architecture (and a conv trunk on images) and a few task-weighting
strategies, on mixed tasks (regression, classification, binary, 20% of the
labels missing):

1. ``fit`` with ``device=<device>`` (the network's parameters must live there);
2. ``predict`` / ``predict_proba`` (NumPy arrays, finite values);
3. ``pickle`` the fitted GPU model and load it (same predictions);
4. ``to("cpu")``, check every parameter moved and compare the CPU
   predictions with the GPU ones (GPU and CPU kernels round differently:
   regression columns within ``1e-3`` of the target scale, class labels
   mostly equal), then ``pickle`` the CPU model (identical predictions) and
   train it one more epoch on the CPU (the optimizer's state, the fused
   Adam's step counters included, must have followed the parameters);
5. resume: fit E1 epochs, pickle, warm-start E2 more; on the GPU the result
   matches the uninterrupted run only up to cuDNN/cuBLAS non-determinism,
   so its largest parameter difference is reported, not asserted;
6. with ``accelerate`` installed: one single-process ``Accelerator`` fit
   (mixed precision bf16 when the GPU supports it).

It also times each fit on the device against the same fit on the CPU, in
the same process (the ratio column; tiny networks gain nothing from a GPU:
the ratio shows that the device path works, not GPU speed).

Prints one row per case and exits non-zero if any case fails (or, with the
default ``--device cuda``, when CUDA is not available).

Run on a machine with a GPU: ``python benchmarks/gpu_check.py`` (about a
minute; ``--weightings all`` checks every task-weighting strategy, UPGrad
only where torchjd is installed); ``--device cpu`` runs the same checks on
the CPU (a dry run of the script itself).
"""

import argparse
import importlib.util
import pickle
import sys
import time
import traceback
import warnings

import numpy as np
import torch

from skmtl import Task
from skmtl.neural import ARCHITECTURES, ConvNet, MultiTaskEstimator
from skmtl.neural.weighting import WEIGHTINGS

TASKS = [Task("value"), Task("kind", "classification"), Task("flag", "binary")]
PREFERRED_WEIGHTINGS = ("fixed", "uncertainty", "dwa", "pcgrad", "mgda")


def make_data(n_samples=512, n_features=16, images=False, seed=0):
    rng = np.random.RandomState(seed)
    if images:
        X = rng.rand(n_samples, 1, 12, 12).astype(np.float32)
        Z = X.reshape(n_samples, -1) @ rng.randn(144, 3) / 12
    else:
        X = rng.randn(n_samples, n_features).astype(np.float32)
        Z = X @ rng.randn(n_features, 3) / np.sqrt(n_features)
    Y = np.c_[Z[:, 0], np.digitize(Z[:, 1], [-0.5, 0.5]), Z[:, 2] > 0].astype(float)
    Y[rng.rand(*Y.shape) < 0.2] = np.nan
    return X, Y


def make_estimator(architecture, weighting, device, images=False, **params):
    extra = dict(trunk=ConvNet, trunk__channels=(4,), trunk__out_features=16) \
        if images else dict(hidden_layer_sizes=(32,))
    task_weights = (1.0, 2.0, 1.0) if weighting == "fixed" else None
    params = {**dict(tasks=TASKS, architecture=architecture, weighting=weighting,
                     task_weights=task_weights, lr=0.01, max_epochs=4,
                     batch_size=64, device=device, random_state=0),
              **extra, **params}
    return MultiTaskEstimator(**params)


def _on(est, device_type):
    return all(p.device.type == device_type
               for p in est.net_.module_.parameters())


def _max_regression_gap(a, b):
    return float(np.nanmax(np.abs(a[:, 0].astype(float) - b[:, 0].astype(float))))


def check_case(architecture, weighting, device, images=False):
    """Run the checks of one case; returns a dict for the table."""
    X, Y = make_data(images=images)
    device_type = torch.device(device).type
    row = {"case": f"{architecture}{'+conv' if images else ''}",
           "weighting": weighting}

    start = time.perf_counter()
    est = make_estimator(architecture, weighting, device, images).fit(X, Y)
    if device_type == "cuda":
        torch.cuda.synchronize()
    row["fit_s"] = time.perf_counter() - start
    start = time.perf_counter()
    make_estimator(architecture, weighting, "cpu", images).fit(X, Y)
    row["vs_cpu"] = row["fit_s"] / (time.perf_counter() - start)

    assert _on(est, device_type), f"parameters are not on {device}"
    predicted = est.predict(X)
    assert isinstance(predicted, np.ndarray) and predicted.shape == Y.shape
    assert np.all(np.isfinite(predicted.astype(float))), "non-finite predictions"
    proba = est.predict_proba(X)
    assert isinstance(proba[1], np.ndarray) and np.allclose(proba[1].sum(1), 1,
                                                             atol=1e-4)

    restored = pickle.loads(pickle.dumps(est))
    assert _on(restored, device_type), "unpickled model left the device"
    np.testing.assert_array_equal(restored.predict(X), predicted)

    est.to("cpu")
    assert _on(est, "cpu") and est.device == "cpu", "to('cpu') left parameters"
    on_cpu = est.predict(X)
    row["cpu_gap"] = _max_regression_gap(on_cpu, predicted)
    row["labels_same"] = float(np.mean(on_cpu[:, 1:] == predicted[:, 1:]))
    assert row["cpu_gap"] < 1e-3 * np.nanstd(Y[:, 0]) + 1e-5, "CPU != GPU"
    assert row["labels_same"] > 0.98, "CPU and GPU labels differ"
    cpu_restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(cpu_restored.predict(X), on_cpu)
    est.partial_fit(X, Y)
    assert np.all(np.isfinite(est.predict(X).astype(float))), "CPU epoch failed"

    full = make_estimator(architecture, weighting, device, images,
                          max_epochs=5).fit(X, Y)
    part = make_estimator(architecture, weighting, device, images,
                          max_epochs=2).fit(X, Y)
    part = pickle.loads(pickle.dumps(part))
    part.set_params(warm_start=True, max_epochs=3).fit(X, Y)
    row["resume_gap"] = max(
        float((a.detach() - b.detach()).abs().max()) for a, b in
        zip(full.net_.module_.parameters(), part.net_.module_.parameters()))
    return row


def check_accelerate(device):
    try:
        from accelerate import Accelerator
    except ImportError:
        return None
    X, Y = make_data()
    cuda = torch.device(device).type == "cuda"
    precision = "bf16" if cuda and torch.cuda.is_bf16_supported() else "no"
    accelerator = Accelerator(cpu=not cuda, mixed_precision=precision)
    row = {"case": f"hard+accelerate({precision})", "weighting": "fixed"}
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # device= is ignored: the accelerator places the tensors
        est = make_estimator("hard", "fixed", device, accelerator=accelerator)
        est.fit(X, Y)
        predicted = est.predict(X)
    row["fit_s"] = time.perf_counter() - start
    assert np.all(np.isfinite(predicted.astype(float)))
    assert type(est.net_).__name__ == "AcceleratedMultiTaskNet"
    return row


def _format(row):
    def num(key, fmt):
        value = row.get(key)
        return format(value, fmt) if isinstance(value, float) else "-"

    return (f"{row['case']:<24} {row['weighting']:<14} {num('fit_s', '8.2f')} "
            f"{num('vs_cpu', '7.2f')} {num('cpu_gap', '10.2e')} "
            f"{num('labels_same', '7.3f')} {num('resume_gap', '10.2e')}  "
            f"{row['status']}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--architectures", nargs="*", default=sorted(ARCHITECTURES))
    parser.add_argument("--weightings", nargs="*", default=list(PREFERRED_WEIGHTINGS),
                        help='strategies checked on hard sharing ("all": every one; '
                             'the first also runs every architecture)')
    args = parser.parse_args(argv)
    if torch.device(args.device).type == "cuda" and not torch.cuda.is_available():
        print(f"device {args.device!r}: CUDA is not available on this machine "
              f"(torch {torch.__version__}); nothing checked.")
        return 2
    if args.weightings == ["all"]:
        names = {}  # one name per strategy (WEIGHTINGS holds aliases too)
        for name in sorted(WEIGHTINGS, key=lambda w: (w != "fixed", w)):
            names.setdefault(WEIGHTINGS[name], name)
        weightings = list(names.values())
        if importlib.util.find_spec("torchjd") is None:
            weightings.remove("upgrad")
            print("torchjd is not installed: UPGrad not checked")
    else:
        weightings = [w for w in args.weightings if w in WEIGHTINGS]
    name = (torch.cuda.get_device_name(torch.device(args.device))
            if torch.device(args.device).type == "cuda" else "CPU")
    print(f"device {args.device} ({name}), torch {torch.__version__}, "
          f"weightings {weightings}")
    cases = [(a, weightings[0], False) for a in args.architectures]
    cases += [("hard", w, False) for w in weightings[1:]]
    cases += [("hard", weightings[0], True)]
    header = (f"{'case':<24} {'weighting':<14} {'fit_s':>8} {'vs_cpu':>7} "
              f"{'cpu_gap':>10} {'labels':>7} {'resume_gap':>10}  status")
    print(header)
    print("-" * len(header))
    for device in {args.device, "cpu"}:  # warm-up: first-use costs out of timings
        make_estimator("hard", weightings[0], device, max_epochs=1).fit(*make_data())
    failures = 0
    for architecture, weighting, images in cases:
        try:
            row = check_case(architecture, weighting, args.device, images)
            row["status"] = "ok"
        except Exception as exc:  # report every case, then fail at the end
            failures += 1
            row = {"case": architecture, "weighting": weighting,
                   "status": f"FAILED: {type(exc).__name__}: {exc}"}
            traceback.print_exc(file=sys.stderr)
        print(_format(row), flush=True)
    try:
        row = check_accelerate(args.device)
        if row is not None:
            row["status"] = "ok"
            print(_format(row))
        else:
            print(f"{'accelerate':<24} {'-':<14} (not installed: skipped)")
    except Exception as exc:
        failures += 1
        print(f"{'accelerate':<24} FAILED: {type(exc).__name__}: {exc}")
        traceback.print_exc(file=sys.stderr)
    print(f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
