"""The seed problem, small: one conv network for a digit's class and box.

The full configuration (6000 images, 15 epochs, 0.96 accuracy and 0.88 mean
IoU on unseen handwriting) runs in benchmarks/bench_digits.py; this test
trains a smaller network for a few seconds.
"""

import numpy as np
import torch
from skorch.callbacks import LRScheduler

from skmtl.datasets import box_iou, make_digit_localization
from skmtl.neural import ConvNet, MultiTaskEstimator


def test_class_and_box_from_one_conv_network_on_unseen_handwriting():
    X, Y, tasks = make_digit_localization(2000, subset="train", random_state=0,
                                          return_tasks=True)
    X_test, Y_test = make_digit_localization(500, subset="test", random_state=1)
    epochs, batch, lr = 10, 64, 3e-3
    schedule = LRScheduler(policy=torch.optim.lr_scheduler.OneCycleLR, max_lr=lr,
                           total_steps=epochs * int(np.ceil(len(X) / batch)),
                           step_every="batch")
    est = MultiTaskEstimator(tasks=tasks, trunk=ConvNet, trunk__channels=(16, 32),
                             trunk__out_features=128, lr=lr, max_epochs=epochs,
                             batch_size=batch, callbacks=[schedule], random_state=0)
    P = est.fit(X, Y).predict(X_test)
    accuracy = np.mean(P[:, 0] == Y_test[:, 0])
    iou = np.mean(box_iou(Y_test[:, 1:], P[:, 1:].astype(float)))
    # references: chance is 0.1 accuracy; always predicting the mean training
    # box gives a low IoU
    constant = np.mean(box_iou(Y_test[:, 1:],
                               np.tile(Y[:, 1:].mean(axis=0), (len(Y_test), 1))))
    assert accuracy >= 0.7, accuracy
    assert iou >= 0.75 and iou > constant + 0.3, (iou, constant)
