"""Tests of skmtl/neural/weighting/_mgda_ub.py."""

import numpy as np
import pytest
import torch
from weighting_problems import _brute_force_min_norm, _conflicting_problem

from skmtl.neural import MultiTaskRegressor
from skmtl.neural.weighting import MGDAUB


def test_mgda_ub_weights_are_the_min_norm_weights_of_the_representation_gradients():
    X, Y = _conflicting_problem(seed=2)
    est = MultiTaskRegressor(weighting=MGDAUB(normalization="none"),
                             hidden_layer_sizes=(5,), max_epochs=1,
                             batch_size=len(X), standardize_targets=False, lr=1e-12,
                             random_state=0).fit(X, Y)
    net = est.net_
    Xt, yt = (torch.as_tensor(a, dtype=torch.float32) for a in (X, Y))
    losses, _ = net.get_task_losses(net.infer(Xt), yt, training=True)
    features = net.module_.shared_representation()
    Z = torch.stack([torch.autograd.grad(losses[k], features, retain_graph=True)[0]
                     .flatten() for k in range(2)]).double().numpy()
    net.module_.zero_grad()
    net.weighting_.backward(losses, net)
    strategy = net.weighting_
    weights = (strategy._weights_sum / strategy._weights_count).numpy()
    np.testing.assert_allclose(weights @ Z, _brute_force_min_norm(Z), rtol=1e-4,
                               atol=1e-8)


def test_mgda_ub_needs_one_shared_representation():
    X, Y = _conflicting_problem()
    with pytest.raises(ValueError, match="MGDAUB combines the tasks' gradients of "
                       "the shared representation, but MMoE has no single "
                       "representation read by every head.*use MGDA"):
        MultiTaskRegressor(weighting="mgda_ub", architecture="mmoe",
                           hidden_layer_sizes=(4,), max_epochs=1).fit(X, Y)
