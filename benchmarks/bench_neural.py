"""Speed of MultiTaskEstimator against a plain torch training loop.

Same network (MLP trunk 2×256, one linear head per task), same data (100 000
rows × 100 features, 3 tasks: regression, 4-class classification, binary),
same optimizer (Adam, lr 1e-3), batch size 256 and number of threads, in one
process. The plain loop is what one would write by hand: a random permutation
per epoch, slices of tensors, the sum of the three losses, ``backward``,
``step``. A second reference computes the same masked task losses as skmtl
(mean over labelled entries), which separates the cost of masking from the
cost of skorch and the data path. A third runs Adam's fused update
(``fused=True``), which the estimator uses by default (see
``skmtl.neural._build.optimizer_defaults``), so the estimator's own cost,
with the same update, is its ratio to that row (printed last).

Reported: seconds per epoch (median over epochs after a warm-up epoch, and
whole ``fit`` wall time divided by epochs) and prediction throughput (rows per
second, median of repeats), each as a ratio to the plain loop. The plain
loop predicts as one would by hand: chunks of 4096 rows under
``torch.no_grad()`` (a row with 256-row chunks shows what the chunk size is
worth); the estimator's ``predict`` is timed whole (validation of X, the
batches, decoding the class labels).

Run: ``python benchmarks/bench_neural.py`` (about a minute; ``--quick`` for a
smaller run; ``--device cuda`` runs both contenders on a GPU).
"""

import argparse
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from _tables import print_best_median

from skmtl import Task
from skmtl.neural import HardSharing, MultiTaskEstimator
from skmtl.tasks import resolve_tasks

TASKS = [Task("value"), Task("kind", "classification"), Task("flag", "binary")]


def make_data(n_samples, n_features, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n_samples, n_features).astype(np.float32)
    W = rng.randn(n_features, 3)
    Z = X @ W / np.sqrt(n_features)
    Y = np.c_[Z[:, 0] + 0.1 * rng.randn(n_samples),
              np.digitize(Z[:, 1], [-0.7, 0.0, 0.7]),
              (Z[:, 2] > 0)].astype(np.float64)
    return X, Y


def plain_loop(X, Y, epochs, batch_size, masked, seed=0, device="cpu",
               fused=False):
    """Hand-written training loop; returns (model, per-epoch seconds).

    The data stay in host memory and each batch moves to ``device`` when it
    is used, as in skmtl (and as with a ``DataLoader``). ``fused`` runs
    Adam's fused update instead of torch's default.
    """
    torch.manual_seed(seed)
    tasks = resolve_tasks(TASKS, Y)
    model = HardSharing(tasks, input_shape=(X.shape[1],),
                        trunk=lambda input_shape: _mlp(input_shape)).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3,
                           **({"fused": True} if fused else {}))
    Xt = torch.from_numpy(X)
    yt = torch.from_numpy(Y.astype(np.float32))
    value, kind, flag = yt[:, 0:1], yt[:, 1].long(), yt[:, 2:3]
    n = X.shape[0]
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        model.train()
        perm = torch.randperm(n)
        for i in range(0, n, batch_size):
            idx = perm[i:i + batch_size]
            outputs = model(Xt[idx].to(device))
            if masked:
                target = yt[idx].to(device)
                loss = sum(task.loss_fn(out, target[:, task.columns_])
                           for task, out in zip(tasks, outputs))
            else:
                loss = (F.mse_loss(outputs[0], value[idx].to(device))
                        + F.cross_entropy(outputs[1], kind[idx].to(device))
                        + F.binary_cross_entropy_with_logits(outputs[2],
                                                             flag[idx].to(device)))
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss.item()  # as any loop that logs its loss
        times.append(time.perf_counter() - start)
    return model, times


def _device_of(model):
    return next(model.parameters()).device


def _mlp(input_shape):
    from skmtl.neural import MLP

    return MLP(input_shape, hidden_layer_sizes=(256, 256))


def plain_predict(model, X, batch_size=4096):
    model.eval()
    Xt = torch.from_numpy(np.asarray(X, dtype=np.float32))
    outs = [[], [], []]
    with torch.no_grad():
        for i in range(0, Xt.shape[0], batch_size):
            batch = Xt[i:i + batch_size].to(_device_of(model))
            for k, o in enumerate(model(batch)):
                outs[k].append(o)
    raw = [torch.cat(o).cpu().numpy() for o in outs]
    return np.c_[raw[0], raw[1].argmax(1), raw[2] > 0]


def skmtl_fit(X, Y, epochs, batch_size, seed=0, device="cpu"):
    est = MultiTaskEstimator(tasks=TASKS, hidden_layer_sizes=(256, 256),
                             batch_size=batch_size, max_epochs=epochs, lr=1e-3,
                             random_state=seed, device=device)
    start = time.perf_counter()
    est.fit(X, Y)
    wall = time.perf_counter() - start
    return est, list(est.history_[:, "dur"]), wall


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def predict_rates(model, est, X, batch_size, repeats):
    """Rows per second of each predictor, ``repeats`` interleaved runs each."""
    n = X.shape[0]
    predict = {"plain loop": [], "plain loop, 256-row chunks": [],
               "MultiTaskEstimator": []}
    for _ in range(repeats):
        predict["plain loop"].append(n / _timed(lambda: plain_predict(model, X)))
        predict["plain loop, 256-row chunks"].append(
            n / _timed(lambda: plain_predict(model, X, batch_size)))
        predict["MultiTaskEstimator"].append(n / _timed(lambda: est.predict(X)))
    return predict


def predict_only(X, Y, batch_size, args):
    """Prediction throughput alone (the networks trained one epoch)."""
    n = X.shape[0]
    model, _ = plain_loop(X, Y, 1, batch_size, masked=False, device=args.device)
    est, _, _ = skmtl_fit(X, Y, 1, batch_size, device=args.device)
    predict = predict_rates(model, est, X, batch_size, 5 * args.rounds)
    print(f"predict rows/s: {n} x 100, MLP 2x256, 3 tasks, {args.threads} threads, "
          f"device {args.device}, torch {torch.__version__}, {5 * args.rounds} "
          f"interleaved repeats")
    ref_best, ref_median = max(predict["plain loop"]), statistics.median(
        predict["plain loop"])
    print(f"{'contender':<28}  {'best':>9}  {'ratio':>6}  {'median':>9}  {'ratio':>6}")
    for name, values in predict.items():
        b, m = max(values), statistics.median(values)
        print(f"{name:<28}  {b:9.0f}  {b / ref_best:6.3f}  {m:9.0f}  "
              f"{m / ref_median:6.3f}")
    print("ratios: throughput over the plain loop predicting in 4096-row chunks "
          "under no_grad; target >= 0.95")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="20 000 rows instead of 100 000")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu",
                        help='torch device of both contenders, e.g. "cuda"')
    parser.add_argument("--rounds", type=int, default=3,
                        help="interleaved repetitions of every measurement")
    parser.add_argument("--predict-only", action="store_true",
                        help="train one epoch of each contender, time prediction "
                             "only")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    n = 20_000 if args.quick else 100_000
    epochs, batch_size = 3, 256
    X, Y = make_data(n, 100)
    if args.predict_only:
        return predict_only(X, Y, batch_size, args)

    # Runs are interleaved so that load from other processes on a shared
    # machine hits every contender alike; the first epoch of each run is a
    # warm-up. "best" is the least disturbed measurement, "median" the typical.
    fit = {"plain loop": [], "plain loop, masked losses": [],
           "plain loop, fused Adam": [], "MultiTaskEstimator": []}
    wall = {"plain loop": [], "MultiTaskEstimator": []}
    for rep in range(args.rounds):
        start = time.perf_counter()
        model, t = plain_loop(X, Y, epochs, batch_size, masked=False, seed=rep,
                              device=args.device)
        wall["plain loop"].append((time.perf_counter() - start) / epochs)
        fit["plain loop"] += t[1:]
        _, t = plain_loop(X, Y, epochs, batch_size, masked=True, seed=rep,
                          device=args.device)
        fit["plain loop, masked losses"] += t[1:]
        _, t = plain_loop(X, Y, epochs, batch_size, masked=False, seed=rep,
                          device=args.device, fused=True)
        fit["plain loop, fused Adam"] += t[1:]
        est, t, seconds = skmtl_fit(X, Y, epochs, batch_size, seed=rep,
                                   device=args.device)
        fit["MultiTaskEstimator"] += t[1:]
        wall["MultiTaskEstimator"].append(seconds / epochs)

    predict = predict_rates(model, est, X, batch_size, 5 * args.rounds)

    rows = []
    for what, table, unit in (("fit s/epoch", fit, "s"),
                              ("fit wall / epochs", wall, "s"),
                              ("predict rows/s", predict, "rows/s")):
        best = min if unit == "s" else max
        ref_best = best(table["plain loop"]) if what != "fit wall / epochs" else \
            best(fit["plain loop"])
        ref_median = statistics.median(
            table["plain loop"] if what != "fit wall / epochs" else fit["plain loop"])
        for name, values in table.items():
            b, m = best(values), statistics.median(values)
            rows.append((f"{what}: {name}", b, b / ref_best, m, m / ref_median))

    print(f"MultiTaskEstimator vs plain torch loop: {n} x 100, MLP 2x256, 3 tasks, "
          f"batch {batch_size}, Adam, {args.threads} threads, device {args.device}, "
          f"torch {torch.__version__}, {args.rounds} interleaved rounds")
    print_best_median(rows, decimals=4)
    same = fit["plain loop, fused Adam"]
    est_fit = fit["MultiTaskEstimator"]
    print(f"MultiTaskEstimator over the plain loop with the same fused Adam: best "
          f"{min(est_fit) / min(same):.3f}, median "
          f"{statistics.median(est_fit) / statistics.median(same):.3f}")
    print("ratios: time over the plain loop's per-epoch time (fit rows, wall rows "
          "included), throughput over the plain loop's predicting in 4096-row "
          "chunks under no_grad (predict rows); targets: fit <= 1.05, predict >= "
          "0.95")


if __name__ == "__main__":
    main()
