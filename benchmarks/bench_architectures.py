"""Cost of each architecture relative to hard sharing: parameters and step time.

    python benchmarks/bench_architectures.py [--tasks 4] [--threads 1]

Every architecture of ``skmtl.neural`` is built for ``--tasks`` regression
tasks on 50 input features with the same trunk (an MLP 50 -> 128 -> 64) and
linear heads; one training step is a forward pass, the sum of the tasks'
squared errors (plus the architecture's penalty), a backward pass and an
Adam step on a batch of 256 rows. The table gives the number of parameters
and the best-of-5 mean step time over 50 steps, each as a ratio to hard
sharing measured in the same run. The user guide's table of costs
(``doc/user_guide/architectures.rst``) comes from this script.
"""

import argparse
import functools
import time

import torch

from skmtl.neural import CGC, MLP, PLE, CrossStitch, HardSharing, MMoE, SoftSharing

ARCHITECTURES = {
    "HardSharing": (HardSharing, {}),
    "SoftSharing": (SoftSharing, {}),
    "CrossStitch": (CrossStitch, {}),
    "MMoE (4 experts)": (MMoE, {"n_experts": 4}),
    "CGC (1 shared, 1 per task)": (CGC, {}),
    "PLE (2 levels)": (PLE, {}),
}


def step_time(module, X, n_steps=50, repeat=5):
    optimizer = torch.optim.Adam(module.parameters())

    def step():
        loss = sum(output.pow(2).mean() for output in module(X))
        penalty = module.penalty()
        if penalty is not None:
            loss = loss + penalty
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    for _ in range(10):
        step()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(n_steps):
            step()
        best = min(best, (time.perf_counter() - start) / n_steps)
    return best


def main(n_tasks=4, threads=1):
    torch.set_num_threads(threads)
    trunk = functools.partial(MLP, hidden_layer_sizes=(128, 64))
    X = torch.randn(256, 50)
    rows = {}
    for name, (cls, params) in ARCHITECTURES.items():
        torch.manual_seed(0)
        module = cls([1] * n_tasks, input_shape=(50,), trunk=trunk, **params)
        n_parameters = sum(p.numel() for p in module.parameters())
        rows[name] = (n_parameters, step_time(module, X))
    reference_parameters, reference_time = rows["HardSharing"]
    print(f"{n_tasks} tasks, MLP trunk 50 -> 128 -> 64, batch 256, "
          f"{threads} torch thread(s)")
    print(f"{'architecture':<28}{'parameters':>11}{'ratio':>7}{'step (ms)':>11}"
          f"{'ratio':>7}")
    for name, (n_parameters, seconds) in rows.items():
        size_ratio = n_parameters / reference_parameters
        print(f"{name:<28}{n_parameters:>11d}{size_ratio:>7.1f}"
              f"{seconds * 1e3:>11.2f}{seconds / reference_time:>7.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--tasks", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    main(args.tasks, args.threads)
