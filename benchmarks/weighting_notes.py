"""The figures in the Notes of FAMO, ExcessMTL, MGDA and MGDAUB, from single runs.

Weights (epoch means, first and last epoch), final training losses and test
scores of single fits on the digits configuration of ``bench_weighting.py
--part digits`` (1600 training images, ConvNet (16, 32) -> 128, 8 epochs,
batch 64, Adam lr 2e-3, one thread; seed 0 unless the row says otherwise),
and the task gradient norms of equal weighting recorded by
``GradientConflict``.

Run from the repository root: ``python benchmarks/weighting_notes.py
[equal] [famo] [excess] [mgda]`` (all by default; about two minutes).
"""

import sys
import time

import numpy as np
import torch

from skmtl.datasets import box_iou, make_digit_localization
from skmtl.neural import ConvNet, GradientConflict, MultiTaskEstimator
from skmtl.neural.weighting import FAMO, MGDA, MGDAUB, ExcessMTL

COMMON = dict(trunk=ConvNet, trunk__channels=(16, 32), trunk__out_features=128,
              lr=2e-3, max_epochs=8, batch_size=64)


def run(label, weighting, data, seed=0, callbacks=None):
    X, Y, tasks, X_test, Y_test = data
    start = time.perf_counter()
    est = MultiTaskEstimator(tasks=tasks, weighting=weighting, random_state=seed,
                             callbacks=callbacks, **COMMON).fit(X, Y)
    seconds = time.perf_counter() - start
    P = est.predict(X_test)
    acc = np.mean(P[:, 0] == Y_test[:, 0])
    iou = np.mean(box_iou(Y_test[:, 1:], P[:, 1:].astype(float)))
    history = est.net_.history
    weights = np.round(history[:, "task_weights"], 2)
    losses = {task.name: round(history[-1, f"train_loss_{task.name}"], 3)
              for task in est.tasks_}
    print(f"{label} seed {seed}: accuracy {acc:.3f} IoU {iou:.3f}; weights epoch 1 "
          f"{weights[0]}, epoch {len(weights)} {weights[-1]}; final train losses "
          f"{losses} ({seconds:.0f} s)", flush=True)
    if callbacks:
        norms = np.round(history[:, "task_gradient_norms"], 3)
        print(f"  task gradient norms by epoch (class, box):\n{norms}", flush=True)


def main(which):
    torch.set_num_threads(1)
    X, Y, tasks = make_digit_localization(1600, subset="train", random_state=0,
                                          return_tasks=True)
    X_test, Y_test = make_digit_localization(1000, subset="test", random_state=1)
    data = (X, Y, tasks, X_test, Y_test)
    if "equal" in which:
        run("equal", None, data, 0, callbacks=[GradientConflict(every=5)])
        run("equal", None, data, 1)
    if "famo" in which:
        run("FAMO published (lr 0.025, l2, same_batch)",
            FAMO(lr=0.025, decay="l2", update="same_batch"), data)
        run("FAMO default", FAMO(), data, 0)
        run("FAMO default", FAMO(), data, 1)
        run("FAMO lr 0.25", FAMO(lr=0.25), data, 0)
    if "excess" in which:
        for eta in (1.0, 0.1, 0.01):
            run(f"ExcessMTL robust_step_size={eta}", ExcessMTL(robust_step_size=eta),
                data)
    if "mgda" in which:
        for make in (MGDA, MGDAUB):
            run(f"{make.__name__} normalization='none'", make(normalization="none"),
                data)
            for seed in (0, 1):
                run(f"{make.__name__} normalization='loss+' (default)", make(), data,
                    seed)
            run(f"{make.__name__} normalization='l2'", make(normalization="l2"), data)


if __name__ == "__main__":
    main(sys.argv[1:] or ["equal", "famo", "excess", "mgda"])
