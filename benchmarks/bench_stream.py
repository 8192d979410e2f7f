"""An impression log larger than memory: one pass over shards on disk, skmtl's
``fit(ShardedDataset)`` against a hand-written torch loop over the same files.

The log is a funnel like :func:`skmtl.datasets.make_funnel`'s, generated in
blocks of a million rows straight to disk: a user id and an item id (int64;
Zipf-like frequencies over ``--users`` users and ``--items`` items), 8
float32 context columns, a click and, where there was a click, a conversion
(float32; ``NaN`` elsewhere), from latent user and item factors that the two
stages share in part. Rows go to shards of ``--shard-rows`` rows, each a
directory of ``.npy`` column files (``skmtl.neural.write_shard``'s layout),
in a temporary directory removed at the end; 20 million rows take 1.1 GB.

Contenders, each in its own process (so that each peak RSS is its own),
training the same network for one pass (an embedding of 16 per id, an MLP
(64, 32) shared by the tasks, one linear head per task; Adam (fused) at lr
1e-3, batch 1024, rows shuffled within blocks of ``--chunk-rows`` rows read
in a random order, one torch thread by default):

* ``hand loop``: the ids used as embedding rows directly (known to be
  ``0 .. n - 1``), the columns opened with ``np.load(mmap_mode="r")`` and
  sliced block by block, ESMM's loss (click log-loss plus the log-loss of
  ``P(click) * P(conversion | click)`` against ``click and conversion``);
* ``skmtl``: ``MultiTaskEstimator(tasks=[Task("click", "binary"),
  Task("conversion", "binary", given="click")],
  categorical_features=["user_id", "item_id"])`` fitted on a
  ``ShardedDataset``: a scan of the id and label columns (categories,
  classes), then the pass; its time includes the scan. A warm-up fit on
  4,096 held-out rows comes first (the hand loop builds its model and
  optimizer before its timer: the first fused Adam of a process imports
  sympy and more, about 3 s).

Printed per contender: rows per second of the whole fit, its time and its
CPU time as ratios to the hand loop's, the peak resident
memory (``ru_maxrss``) and the resident memory before training (imports,
the held-out rows), and the click and CTCVR AUC on 200 000 held-out
impressions. Run with two sizes to see that the memory does not grow with
the rows: ``python benchmarks/bench_stream.py --rows 2000000 20000000``
(default ``--rows 1000000``; ``--quick`` 200 000 rows).
"""

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

N_CONTEXT = 8
FEATURES = ["user_id", "item_id"] + [f"context_{j}" for j in range(N_CONTEXT)]
TARGETS = ["click", "conversion"]


# -- the log -----------------------------------------------------------------------

def _structure(n_users, n_items, seed):
    rng = np.random.RandomState(seed)
    factors = 8

    def popularity(n):
        p = 1.0 / np.arange(1, n + 1)
        p = p[rng.permutation(n)]
        return np.cumsum(p / p.sum())

    shared_users = rng.randn(n_users, factors) / np.sqrt(factors)
    return {
        "users": popularity(n_users), "items": popularity(n_items),
        "user": [shared_users, rng.randn(n_users, factors) / np.sqrt(factors)],
        "item": [rng.randn(n_items, factors) / np.sqrt(factors) for _ in range(2)],
        "context": rng.randn(2, N_CONTEXT) * 0.25,
        "intercept": (-2.4, -1.6),
    }


def _block(structure, n, rng):
    """``n`` impressions: the columns of the log."""
    users = np.minimum(np.searchsorted(structure["users"], rng.rand(n)),
                       len(structure["users"]) - 1)
    items = np.minimum(np.searchsorted(structure["items"], rng.rand(n)),
                       len(structure["items"]) - 1)
    context = rng.randn(n, N_CONTEXT).astype(np.float32)
    logits = []
    for k in range(2):
        user = structure["user"][0] if k == 0 else 0.5 * (
            structure["user"][0] + structure["user"][1])
        score = np.einsum("ij,ij->i", user[users] * 3.0, structure["item"][k][items])
        logits.append(structure["intercept"][k] + score
                      + context @ structure["context"][k])
    click = (rng.rand(n) < 1 / (1 + np.exp(-logits[0]))).astype(np.float32)
    conversion = (rng.rand(n) < 1 / (1 + np.exp(-logits[1]))).astype(np.float32)
    conversion[click == 0] = np.nan
    columns = {"user_id": users.astype(np.int64), "item_id": items.astype(np.int64),
               "click": click, "conversion": conversion}
    columns.update({f"context_{j}": context[:, j].copy() for j in range(N_CONTEXT)})
    return columns


def write_log(directory, n_rows, shard_rows, n_users, n_items, seed=0,
              block_rows=1_000_000):
    """Shards of ``.npy`` columns, written block by block (bounded memory)."""
    structure = _structure(n_users, n_items, seed)
    rng = np.random.RandomState(seed + 1)
    shards, done = [], 0
    while done < n_rows:
        rows = min(shard_rows, n_rows - done)
        path = Path(directory) / f"part-{len(shards):05d}"
        path.mkdir(parents=True)
        files = None
        for start in range(0, rows, block_rows):
            block = _block(structure, min(block_rows, rows - start), rng)
            if files is None:
                files = {name: np.lib.format.open_memmap(
                    path / f"{name}.npy", mode="w+", dtype=values.dtype,
                    shape=(rows,)) for name, values in block.items()}
            for name, values in block.items():
                files[name][start:start + len(values)] = values
        for values in files.values():
            values.flush()
        del files
        shards.append(str(path))
        done += rows
    held_out = _block(structure, 200_000, np.random.RandomState(seed + 2))
    np.savez(Path(directory) / "held_out.npz", **held_out)
    return shards


# -- contenders (each in its own process) ------------------------------------------

def _rss_now_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def _peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _auc(y, score):
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, score))


def _held_out(directory):
    held = dict(np.load(Path(directory) / "held_out.npz"))
    click, conversion = held["click"], np.nan_to_num(held["conversion"])
    return held, click, click * conversion


def run_skmtl(directory, shards, args):
    import torch

    from skmtl import Task
    from skmtl.neural import MultiTaskEstimator, ShardedDataset

    torch.set_num_threads(args.threads)
    held, click, joint = _held_out(directory)
    import pandas as pd

    X_held = pd.DataFrame({c: held[c] for c in FEATURES})
    data = ShardedDataset(shards, FEATURES, TARGETS, chunk_rows=args.chunk_rows)
    est = MultiTaskEstimator(
        tasks=[Task("click", "binary"), Task("conversion", "binary", given="click")],
        categorical_features=["user_id", "item_id"], embedding_dim=16,
        hidden_layer_sizes=(64, 32), lr=1e-3, batch_size=1024, max_epochs=1,
        n_threads=args.threads, random_state=0, verbose=int(args.progress))
    # warm-up on a few held-out rows, as the hand loop builds its model and
    # optimizer before its timer: the first fused Adam of a process imports
    # sympy and more (about 3 s), whoever builds it
    Y_held = pd.DataFrame({"click": held["click"], "conversion": held["conversion"]})
    est.fit(X_held.iloc[:4096], Y_held.iloc[:4096])
    before = _rss_now_mb()
    start, cpu = time.perf_counter(), time.process_time()
    est.fit(data)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    proba = est.predict_proba(X_held, funnel="joint")
    return {"rows": data.n_rows, "seconds": seconds, "cpu": cpu,
            "rss_before": before,
            "peak_rss": _peak_rss_mb(), "click_auc": _auc(click, proba[0][:, 1]),
            "ctcvr_auc": _auc(joint, proba[1][:, 1])}


def run_hand_loop(directory, shards, args):
    import torch
    import torch.nn.functional as F
    from torch import nn

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    held, click, joint = _held_out(directory)

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.users = nn.Embedding(args.users, 16)
            self.items = nn.Embedding(args.items, 16)
            self.mlp = nn.Sequential(nn.Linear(32 + N_CONTEXT, 64), nn.ReLU(),
                                     nn.Linear(64, 32), nn.ReLU())
            self.heads = nn.ModuleList([nn.Linear(32, 1), nn.Linear(32, 1)])

        def forward(self, users, items, context):
            h = self.mlp(torch.cat([self.users(users), self.items(items), context],
                                   dim=1))
            return [head(h)[:, 0] for head in self.heads]

    model = Model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
    columns = [{name: np.load(Path(shard) / f"{name}.npy", mmap_mode="r")
                for name in FEATURES + TARGETS} for shard in shards]
    blocks = [(s, start) for s, cols in enumerate(columns)
              for start in range(0, len(cols["click"]), args.chunk_rows)]
    before = _rss_now_mb()
    start_time, cpu = time.perf_counter(), time.process_time()
    n_rows = 0
    for i in torch.randperm(len(blocks)).tolist():
        s, start = blocks[i]
        stop = start + args.chunk_rows
        cols = columns[s]
        permutation = torch.randperm(len(cols["click"][start:stop]))
        users = torch.from_numpy(np.array(cols["user_id"][start:stop]))[permutation]
        items = torch.from_numpy(np.array(cols["item_id"][start:stop]))[permutation]
        context = torch.from_numpy(np.column_stack(
            [cols[f"context_{j}"][start:stop] for j in range(N_CONTEXT)]))[permutation]
        c = torch.from_numpy(np.array(cols["click"][start:stop]))[permutation]
        v = torch.from_numpy(np.nan_to_num(cols["conversion"][start:stop]))[permutation]
        n_rows += len(c)
        for b in range(0, len(c), 1024):
            batch = slice(b, b + 1024)
            ctr_logit, cvr_logit = model(users[batch], items[batch], context[batch])
            ctr_loss = F.binary_cross_entropy_with_logits(ctr_logit, c[batch])
            ctcvr = torch.sigmoid(ctr_logit) * torch.sigmoid(cvr_logit)
            ctcvr_loss = F.binary_cross_entropy(ctcvr, c[batch] * v[batch])
            optimizer.zero_grad(set_to_none=True)
            (ctr_loss + ctcvr_loss).backward()
            optimizer.step()
    seconds, cpu = time.perf_counter() - start_time, time.process_time() - cpu
    with torch.inference_mode():
        ctr_logit, cvr_logit = model(
            torch.from_numpy(held["user_id"]), torch.from_numpy(held["item_id"]),
            torch.from_numpy(np.column_stack([held[f"context_{j}"]
                                              for j in range(N_CONTEXT)])))
        p_click = torch.sigmoid(ctr_logit).numpy()
        p_joint = (torch.sigmoid(ctr_logit) * torch.sigmoid(cvr_logit)).numpy()
    return {"rows": n_rows, "seconds": seconds, "cpu": cpu, "rss_before": before,
            "peak_rss": _peak_rss_mb(), "click_auc": _auc(click, p_click),
            "ctcvr_auc": _auc(joint, p_joint)}


CONTENDERS = {"hand loop": run_hand_loop, "skmtl": run_skmtl}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--quick", action="store_true", help="200 000 rows")
    parser.add_argument("--shard-rows", type=int, default=2_000_000)
    parser.add_argument("--chunk-rows", type=int, default=65536)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--progress", action="store_true",
                        help="skmtl's progress bar (verbose=1)")
    parser.add_argument("--dir", default=None,
                        help="where to write the shards (default: a temporary "
                             "directory)")
    parser.add_argument("--contender", help=argparse.SUPPRESS)
    parser.add_argument("--shards", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.contender:  # a child process: train, print the figures as JSON
        result = CONTENDERS[args.contender](Path(args.shards[0]).parent,
                                            args.shards, args)
        print(json.dumps(result))
        return
    if args.quick:
        args.rows = [200_000]
    import torch

    print(f"log: {args.users} users, {args.items} items, {N_CONTEXT} context "
          f"columns; shards of {args.shard_rows} rows; chunks of {args.chunk_rows} "
          f"rows; batch 1024, one pass, {args.threads} torch thread(s), torch "
          f"{torch.__version__}")
    print(f"\n{'rows':>11s} {'contender':10s} {'rows/s':>9s} {'ratio':>6s} "
          f"{'CPU ratio':>9s} {'RSS before':>11s} {'peak RSS':>9s} "
          f"{'click AUC':>10s} {'CTCVR AUC':>10s}")
    for n_rows in args.rows:
        directory = Path(tempfile.mkdtemp(dir=args.dir, prefix="skmtl-stream-"))
        try:
            start = time.perf_counter()
            shards = write_log(directory, n_rows, args.shard_rows, args.users,
                               args.items)
            written = time.perf_counter() - start
            results = {}
            for name in CONTENDERS:
                command = [sys.executable, __file__, "--contender", name,
                           "--chunk-rows", str(args.chunk_rows), "--users",
                           str(args.users), "--items", str(args.items),
                           "--threads", str(args.threads), "--shards", *shards]
                if args.progress:
                    command.append("--progress")
                out = subprocess.run(command, check=True, stdout=subprocess.PIPE,
                                     text=True).stdout
                results[name] = json.loads(out.strip().splitlines()[-1])
            reference = results["hand loop"]
            for name, r in results.items():
                speed = r["rows"] / r["seconds"]
                print(f"{r['rows']:11d} {name:10s} {speed:9.0f} "
                      f"{r['seconds'] / reference['seconds']:6.2f} "
                      f"{r['cpu'] / reference['cpu']:9.2f} "
                      f"{r['rss_before']:9.0f}MB "
                      f"{r['peak_rss']:7.0f}MB {r['click_auc']:10.4f} "
                      f"{r['ctcvr_auc']:10.4f}")
            print(f"{'':11s} (log written in {written:.0f} s)")
        finally:
            shutil.rmtree(directory, ignore_errors=True)
    print("\nratio: the contender's time over the hand loop's (wall clock); CPU "
          "ratio: the same for the CPU time of the process (less sensitive to other "
          "jobs on a shared machine); RSS before: resident memory after imports "
          "and setup, before the pass.")


if __name__ == "__main__":
    main()
