"""Digit class and box from one network vs one network per task.

The seed problem of skmtl: 28×28 colour images holding one rescaled digit of
scikit-learn's 8×8 set at a random position (``make_digit_localization``);
task 1 is the digit's class, task 2 its bounding box. The test images use
handwritten digits never seen in training. One conv trunk (two conv+pool
blocks -> 64·7·7 -> 256, ``ConvNet``) with a 10-class head and a 4-value box
head, trained with Adam and a one-cycle learning rate, against the same
network trained on each task alone.

Run: ``python benchmarks/bench_digits.py`` (about 1.5 minutes on 2 idle
cores; on a busy machine ``--threads 1`` is much faster; ``--device cuda``
on a GPU). ``--unscaled`` adds
the multi-task network trained on raw box coordinates, whose loss is ~100x
smaller than the cross-entropy; ``--bbox-weight 4`` one with a larger task
weight on the box.
"""

import argparse
import time

import numpy as np
import torch
from skorch.callbacks import LRScheduler

from skmtl.datasets import box_iou, make_digit_localization
from skmtl.neural import (
    ConvNet,
    MultiTaskClassifier,
    MultiTaskEstimator,
    MultiTaskRegressor,
)


def network(cls, n_samples, epochs=15, batch_size=64, lr=3e-3, seed=0, device="cpu",
            **params):
    steps = epochs * int(np.ceil(n_samples / batch_size))
    schedule = LRScheduler(policy=torch.optim.lr_scheduler.OneCycleLR, max_lr=lr,
                           total_steps=steps, step_every="batch")
    return cls(trunk=ConvNet, lr=lr, max_epochs=epochs, batch_size=batch_size,
               callbacks=[schedule], random_state=seed, device=device, **params)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=6000)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu",
                        help='torch device of the networks, e.g. "cuda"')
    parser.add_argument("--unscaled", action="store_true")
    parser.add_argument("--multi-task-only", action="store_true",
                        help="skip the per-task networks")
    parser.add_argument("--bbox-weight", type=float, default=None,
                        help="also train the multi-task network with this "
                             "task weight on the box (e.g. 4)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    X, Y, tasks = make_digit_localization(args.n_train, subset="train",
                                          random_state=0, return_tasks=True)
    X_test, Y_test = make_digit_localization(2000, subset="test", random_state=1)

    rows = []

    def report(name, digits, boxes, seconds):
        rows.append((name, np.mean(digits == Y_test[:, 0]),
                     np.mean(box_iou(Y_test[:, 1:], boxes)), seconds))

    def timed_fit(est, X, y):
        start = time.perf_counter()
        est.fit(X, y)
        return time.perf_counter() - start

    mtl = network(MultiTaskEstimator, args.n_train, args.epochs, tasks=tasks,
                  device=args.device)
    seconds = timed_fit(mtl, X, Y)
    P = mtl.predict(X_test)
    report("multi-task (class + box)", P[:, 0], P[:, 1:], seconds)

    if not args.multi_task_only:
        digit = network(MultiTaskClassifier, args.n_train, args.epochs,
                        device=args.device)
        box = network(MultiTaskRegressor, args.n_train, args.epochs,
                      device=args.device)
        seconds = timed_fit(digit, X, Y[:, 0].astype(int))
        seconds += timed_fit(box, X, Y[:, 1:])
        report("one network per task", digit.predict(X_test), box.predict(X_test),
               seconds)

    if args.bbox_weight is not None:
        weighted = network(MultiTaskEstimator, args.n_train, args.epochs, tasks=tasks,
                           task_weights={"bbox": args.bbox_weight}, device=args.device)
        seconds = timed_fit(weighted, X, Y)
        P = weighted.predict(X_test)
        report(f"multi-task, bbox weight {args.bbox_weight:g}", P[:, 0], P[:, 1:],
               seconds)

    if args.unscaled:
        raw = network(MultiTaskEstimator, args.n_train, args.epochs, tasks=tasks,
                      standardize_targets=False, device=args.device)
        seconds = timed_fit(raw, X, Y)
        P = raw.predict(X_test)
        report("multi-task, raw box targets", P[:, 0], P[:, 1:], seconds)

    print(f"digit class + box: {args.n_train} training images, 2000 test images of "
          f"unseen handwriting, ConvNet trunk, {args.epochs} epochs, batch 64, "
          f"Adam one-cycle lr 3e-3, {args.threads} threads, device {args.device}")
    width = max(len(r[0]) for r in rows)
    print(f"{'model':<{width}}  {'accuracy':>8}  {'mean IoU':>8}  {'fit (s)':>8}")
    print("-" * (width + 30))
    for name, acc, iou, seconds in rows:
        print(f"{name:<{width}}  {acc:8.4f}  {iou:8.4f}  {seconds:8.1f}")
    print("done when: multi-task accuracy >= 0.95 and mean IoU >= 0.80 in < 120 s")


if __name__ == "__main__":
    main()
