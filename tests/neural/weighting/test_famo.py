"""Tests of skmtl/neural/weighting/_famo.py."""

import torch
from weighting_problems import _slow_and_fast

from skmtl.neural import MultiTaskRegressor
from skmtl.neural.weighting import FAMO


def test_famo_favours_the_task_whose_loss_falls_less():
    X, Y = _slow_and_fast()
    for update in ("same_batch", "next_batch"):
        est = MultiTaskRegressor(weighting=FAMO(update=update, lr=0.05),
                                 hidden_layer_sizes=(8,), lr=0.01, max_epochs=6,
                                 batch_size=32, random_state=0).fit(X, Y)
        z = torch.softmax(est.net_.weighting_.logits_.detach(), 0).numpy()
        assert z[1] > z[0], update
