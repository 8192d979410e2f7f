"""Speed and memory of a network with id embeddings against a hand-written loop.

An impression log (``skmtl.datasets.make_funnel``): 1 000 000 rows, a
``user_id`` column of 100 000 ids, an ``item_id`` column of 10 000 ids and 8
numeric columns; two binary tasks, click and conversion (labelled only
after a click, NaN elsewhere).

Contenders, in one process, on the same DataFrame:

* ``MultiTaskEstimator(categorical_features=["user_id", "item_id"],
  embedding_dim=16, hidden_layer_sizes=(64,))``: one epoch, batch 1024,
  Adam (lr 1e-3; fused, the estimator's default on a CPU);
* a hand-written torch loop with the same model (two ``nn.Embedding`` of
  width 16 concatenated with the numeric columns, ``Linear(40, 64)`` + ReLU,
  one linear head per task), the same optimizer (Adam, fused, lr 1e-3), the
  same masked losses (mean binary cross-entropy over each task's labelled
  rows), batch 1024, a random permutation per epoch. Its time includes what
  a user writes around it: the ids mapped to codes (``np.unique``), the
  tensors built.

Measured:

* fit: wall time of one epoch, ``fit`` included (validation, learning the
  categories); the best of ``--rounds`` interleaved runs and the median;
* predict: rows per second of ``est.predict(df)`` against the hand loop
  predicting in chunks of 4 096 rows under ``torch.no_grad()`` (ids mapped
  with ``np.searchsorted`` on the fitted ids, probabilities thresholded);
* peak memory: each contender's fit and prediction run in a forked child
  process (the data inherited from the parent), before the timings; the
  child returns the heap's free pages (``malloc_trim``), resets the
  kernel's peak-RSS counter (``/proc/self/clear_refs``, value 5), and the
  peak ``VmHWM`` minus the ``VmRSS`` at the start is the memory the run
  added. It counts every allocator (NumPy, torch), unlike ``tracemalloc``.

Targets: fit <= 1.10x, peak memory <= 1.2x, predict throughput >= 0.95x.

Run: ``python benchmarks/bench_tabular.py`` (a few minutes on two cores;
``--n-rows 100000`` for a quick run).
"""

import argparse
import ctypes
import os
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from _tables import print_best_median
from torch import nn

from skmtl import Task
from skmtl.datasets import make_funnel
from skmtl.neural import MultiTaskEstimator

IDS = ["user_id", "item_id"]
EMBEDDING_DIM, HIDDEN, BATCH, LR = 16, 64, 1024, 1e-3


def make_log(n_rows, seed=0):
    df, Y = make_funnel(n_impressions=n_rows, n_users=100_000, n_items=10_000,
                        n_numeric=8, random_state=seed)
    return df, np.asarray(Y, dtype=np.float64)


class HandModel(nn.Module):
    """Embeddings of the two id columns, concatenated with the numeric ones."""

    def __init__(self, n_users, n_items, n_numeric):
        super().__init__()
        self.users = nn.Embedding(n_users, EMBEDDING_DIM)
        self.items = nn.Embedding(n_items, EMBEDDING_DIM)
        self.hidden = nn.Sequential(
            nn.Linear(n_numeric + 2 * EMBEDDING_DIM, HIDDEN), nn.ReLU())
        self.heads = nn.ModuleList(nn.Linear(HIDDEN, 1) for _ in range(2))

    def forward(self, numeric, codes):
        h = self.hidden(torch.cat([numeric, self.users(codes[:, 0]),
                                   self.items(codes[:, 1])], dim=1))
        return [head(h) for head in self.heads]


def hand_fit(df, Y, seed=0):
    """One epoch of the hand-written loop; returns what predict needs."""
    torch.manual_seed(seed)
    vocabularies, codes = [], []
    for column in IDS:
        uniques, inverse = np.unique(df[column].to_numpy(), return_inverse=True)
        vocabularies.append(uniques)
        codes.append(inverse)
    codes = torch.from_numpy(np.stack(codes, axis=1).astype(np.int64))
    numeric_columns = [c for c in df.columns if c not in IDS]
    numeric = torch.from_numpy(df[numeric_columns].to_numpy(dtype=np.float32))
    targets = torch.from_numpy(Y.astype(np.float32))
    model = HandModel(len(vocabularies[0]), len(vocabularies[1]), numeric.shape[1])
    optimizer = torch.optim.Adam(model.parameters(), lr=LR, fused=True)
    model.train()
    order = torch.randperm(len(df))
    for start in range(0, len(df), BATCH):
        index = order[start:start + BATCH]
        outputs = model(numeric[index], codes[index])
        y = targets[index]
        loss = 0.0
        for k, out in enumerate(outputs):
            labelled = ~torch.isnan(y[:, k])
            if labelled.any():
                loss = loss + F.binary_cross_entropy_with_logits(
                    out[labelled, 0], y[labelled, k])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss.item()  # as any loop that logs its loss
    return model, vocabularies, numeric_columns


def hand_predict(fitted, df, chunk=4096):
    model, vocabularies, numeric_columns = fitted
    codes = []
    for column, uniques in zip(IDS, vocabularies):
        values = df[column].to_numpy()
        position = np.minimum(np.searchsorted(uniques, values), len(uniques) - 1)
        codes.append(np.where(uniques[position] == values, position, 0))
    codes = torch.from_numpy(np.stack(codes, axis=1).astype(np.int64))
    numeric = torch.from_numpy(df[numeric_columns].to_numpy(dtype=np.float32))
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(df), chunk):
            outputs = model(numeric[start:start + chunk], codes[start:start + chunk])
            out.append(torch.cat(outputs, dim=1))
    return (torch.cat(out) > 0).numpy().astype(np.float64)


def estimator(seed=0):
    return MultiTaskEstimator(
        tasks=[Task("click", "binary"), Task("conversion", "binary")],
        categorical_features=IDS, embedding_dim=EMBEDDING_DIM,
        hidden_layer_sizes=(HIDDEN,), batch_size=BATCH, max_epochs=1, lr=LR,
        random_state=seed)


def _timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def _fit_estimator(df, Y, seed):
    return estimator(seed).fit(df, Y)


def _predict_estimator(est, df):
    return est.predict(df)


def _status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def peak_memory(run):
    """Bytes that ``run()`` adds at its peak, measured in a forked child."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: reset the peak, run, report
        os.close(read)
        try:
            # hand the heap's free pages (left by the parent's earlier work)
            # back to the system, or the run would reuse them unseen
            ctypes.CDLL("libc.so.6").malloc_trim(0)
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            before = _status("VmRSS")
            run()
            added = _status("VmHWM") - before
        except BaseException:
            added = -1
        os.write(write, str(added).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        added = int(f.read() or -1)
    os.waitpid(pid, 0)
    if added < 0:
        raise RuntimeError("the memory measurement failed in the child process")
    return added


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-rows", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=2,
                        help="interleaved repetitions of the timings")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    df, Y = make_log(args.n_rows)
    n = len(df)

    # memory first, from the parent's fresh heap
    memory = {
        "hand loop": peak_memory(lambda: hand_predict(hand_fit(df, Y), df)),
        "MultiTaskEstimator": peak_memory(lambda: estimator().fit(df, Y).predict(df)),
    }
    fit = {"hand loop": [], "MultiTaskEstimator": []}
    predict = {"hand loop": [], "MultiTaskEstimator": []}
    for rep in range(args.rounds):
        seconds, fitted = _timed(hand_fit, df, Y, rep)
        fit["hand loop"].append(seconds)
        seconds, est = _timed(_fit_estimator, df, Y, rep)
        fit["MultiTaskEstimator"].append(seconds)
        for _ in range(3):
            predict["hand loop"].append(n / _timed(hand_predict, fitted, df)[0])
            predict["MultiTaskEstimator"].append(
                n / _timed(_predict_estimator, est, df)[0])

    print(f"Impression log {n} rows (user_id {df['user_id'].nunique()} ids, item_id "
          f"{df['item_id'].nunique()} ids, 8 numeric), 2 binary tasks; embeddings "
          f"{EMBEDDING_DIM}, MLP {HIDDEN}, batch {BATCH}, fused Adam, one epoch, "
          f"{args.threads} threads, torch {torch.__version__}, {args.rounds} "
          f"interleaved rounds")
    rows = []
    for what, table, best in (("fit s (1 epoch)", fit, min),
                              ("predict rows/s", predict, max)):
        ref_best, ref_median = best(table["hand loop"]), statistics.median(
            table["hand loop"])
        for name, values in table.items():
            b, m = best(values), statistics.median(values)
            rows.append((f"{what}: {name}", b, b / ref_best, m, m / ref_median))
    for name, added in memory.items():
        ratio = added / memory["hand loop"]
        rows.append((f"peak memory MB: {name}", added / 2**20, ratio,
                     added / 2**20, ratio))
    print_best_median(rows, decimals=3)
    print("ratios: over the hand loop (time, throughput, memory added at the peak); "
          "targets: fit <= 1.10, peak memory <= 1.20, predict >= 0.95")


if __name__ == "__main__":
    main()
