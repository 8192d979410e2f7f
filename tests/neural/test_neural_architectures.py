"""Architectures: shapes, what they share, and that each one learns."""

import functools

import numpy as np
import pytest
import torch
from sklearn.model_selection import train_test_split
from torch import nn

from skmtl.datasets import make_multitask_regression
from skmtl.metrics import per_task_scores
from skmtl.neural import (
    ARCHITECTURES,
    CGC,
    MLP,
    PLE,
    ConvNet,
    CrossStitch,
    HardSharing,
    MMoE,
    MultiTaskEstimator,
    SoftSharing,
    build_trunk,
)
from skmtl.neural._architectures import _mix


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_one_output_per_task_with_its_size(name):
    torch.manual_seed(0)
    net = ARCHITECTURES[name]([3, 1, 4], input_shape=(6,),
                              trunk=functools.partial(MLP, hidden_layer_sizes=(8,)))
    outputs = net(torch.randn(5, 6))
    assert isinstance(outputs, tuple)
    assert [tuple(o.shape) for o in outputs] == [(5, 3), (5, 1), (5, 4)]
    shared = {id(p) for p in net.shared_parameters()}
    head_params = {id(p) for p in net.heads.parameters()}
    assert not shared & head_params


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_image_input_with_a_conv_trunk(name):
    net = ARCHITECTURES[name]([10, 4], input_shape=(3, 8, 8),
                              trunk=functools.partial(ConvNet, channels=(4,),
                                                      out_features=8))
    assert [tuple(o.shape) for o in net(torch.zeros(2, 3, 8, 8))] == [(2, 10), (2, 4)]


def test_conv_trunk_runs_channels_last_with_the_same_function():
    torch.manual_seed(0)
    trunk = ConvNet((3, 12, 12), channels=(4, 8), out_features=5)
    conv = trunk[0].weight
    assert conv.is_contiguous(memory_format=torch.channels_last)
    x = torch.randn(6, 3, 12, 12)
    # the same layers on NCHW tensors, by hand
    h = x
    for layer in trunk:
        if isinstance(layer, nn.Conv2d):
            h = torch.nn.functional.conv2d(h, layer.weight.contiguous(), layer.bias,
                                           padding=1)
        else:
            h = layer(h)
    for inputs in (x, x.contiguous(memory_format=torch.channels_last)):
        torch.testing.assert_close(trunk(inputs), h, rtol=1e-5, atol=1e-6)
    copy_ = build_trunk(trunk, (3, 12, 12))  # fresh copies keep the layout
    assert copy_[0].weight.is_contiguous(memory_format=torch.channels_last)


def test_hard_sharing_shares_the_trunk():
    net = HardSharing([1, 1], input_shape=(4,))
    assert net.shared_parameters() == list(net.trunk.parameters())


def test_soft_sharing_penalty_by_hand():
    net = SoftSharing([1, 1], input_shape=(2,), strength=0.5,
                      trunk=functools.partial(MLP, hidden_layer_sizes=(3,)))
    assert net.penalty().item() == 0.0  # identical trunks at start
    with torch.no_grad():
        net.trunks[1][0][1].bias += torch.tensor([1.0, 2.0, 0.0])
    # each trunk is (d/2) away from the mean: 2 * ||d/2||² = ||d||² / 2 = 2.5
    assert net.penalty().item() == pytest.approx(0.5 * 2.5)
    assert SoftSharing([1, 1], input_shape=(2,), strength=0).penalty() is None
    assert net.shared_parameters() == []


def test_cross_stitch_with_identity_units_keeps_the_columns_apart():
    torch.manual_seed(0)
    net = CrossStitch([1, 1], input_shape=(3,),
                      trunk=functools.partial(MLP, hidden_layer_sizes=(5, 5)))
    assert net.alpha.shape == (2, 2, 2)
    torch.testing.assert_close(net.alpha.sum(-1), torch.ones(2, 2))
    X = torch.randn(4, 3)
    with torch.no_grad():
        net.alpha.copy_(torch.eye(2).repeat(2, 1, 1))
        before = net(X)
        net.columns[1][0][1].weight.add_(1.0)
        after = net(X)
    torch.testing.assert_close(before[0], after[0])
    assert not torch.allclose(before[1], after[1])
    with torch.no_grad():
        net.alpha.fill_(0.5)  # fully mixed: the change reaches task 0
        mixed = net(X)[0]
        net.columns[1][0][1].weight.add_(1.0)
    assert not torch.allclose(mixed, net(X)[0])


def test_cross_stitch_needs_a_sequential_trunk():
    class Plain(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.Linear(3, 2)

        def forward(self, X):
            return self.layer(X)

    with pytest.raises(TypeError, match="needs an nn.Sequential|nn.Sequential trunk"):
        CrossStitch([1], input_shape=(3,), trunk=Plain)


def test_mixture_of_experts_weights_by_softmax_gates():
    logits = torch.tensor([[0.0, float(np.log(3.0))]])
    experts = torch.tensor([[[1.0, 0.0], [0.0, 4.0]]])
    torch.testing.assert_close(_mix(logits, experts), torch.tensor([[0.25, 3.0]]))
    net = MMoE([1, 1], input_shape=(4,), n_experts=3)
    assert len(net.experts) == 3 and len(net.gates) == 2
    # the experts start from different weights
    w = [e[0][1].weight for e in net.experts]
    assert not torch.allclose(w[0], w[1])
    net(torch.randn(6, 4))[0].sum().backward()
    assert net.gates[0].weight.grad.abs().sum() > 0
    assert net.gates[1].weight.grad is None or net.gates[1].weight.grad.abs().sum() == 0
    with pytest.raises(ValueError, match="n_experts must be a positive integer"):
        MMoE([1], input_shape=(4,), n_experts=0)


def test_ple_levels_and_gates():
    net = PLE([1, 2], input_shape=(5,), n_levels=3, n_shared_experts=2,
              n_task_experts=1)
    assert len(net.levels) == 3
    assert [hasattr(s, "shared_gate") for s in net.levels] == [True, True, False]
    assert net.levels[0].task_gates[0].out_features == 1 + 2
    assert net.levels[0].shared_gate.out_features == 2 * 1 + 2
    # 3 levels of 2 shared experts, each one Linear (weight and bias)
    assert len(net.shared_parameters()) == 3 * 2 * 2
    assert len(CGC([1], input_shape=(5,)).levels) == 1
    with pytest.raises(ValueError, match="n_levels must be a positive integer"):
        PLE([1], input_shape=(5,), n_levels=0)


def test_build_trunk_from_classes_partials_and_instances():
    assert isinstance(build_trunk(None, (3,)), MLP)
    trunk = nn.Sequential(nn.Linear(3, 2))
    copy = build_trunk(trunk, (3,), fresh=False)
    assert copy is not trunk
    torch.testing.assert_close(copy[0].weight, trunk[0].weight)
    torch.manual_seed(0)
    fresh = build_trunk(trunk, (3,), fresh=True)
    assert not torch.allclose(fresh[0].weight, trunk[0].weight)
    assert build_trunk(functools.partial(MLP, hidden_layer_sizes=(7,)),
                       (3,)).out_features == 7
    with pytest.raises(TypeError, match="trunk must be None, an nn.Module"):
        build_trunk(42, (3,))
    with pytest.raises(TypeError, match="returned int, not an nn.Module"):
        build_trunk(lambda: 1, (3,))
    with pytest.raises(ValueError, match="failed on an input of shape"):
        HardSharing([1], input_shape=(4,), trunk=lambda: nn.Linear(3, 2))


@pytest.fixture(scope="module")
def mixed_problem():
    X, Y = make_multitask_regression(n_samples=600, n_features=10, n_tasks=3,
                                     n_informative=5, missing_rate=0.2, noise=0.1,
                                     random_state=0)
    Y = Y.astype(object)
    column = Y[:, 2].astype(float)
    labelled = ~np.isnan(column)
    Y[labelled, 2] = np.where(column[labelled] > np.median(column[labelled]), "up",
                              "down")
    return train_test_split(X, Y, random_state=0)


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_every_architecture_learns_two_regressions_and_a_classification(
        name, mixed_problem):
    X_train, X_test, Y_train, Y_test = mixed_problem
    est = MultiTaskEstimator(architecture=name, hidden_layer_sizes=(32,), lr=0.01,
                             max_epochs=30, batch_size=32, random_state=0)
    est.fit(X_train, Y_train)
    table = per_task_scores(Y_test, est.predict(X_test), est.tasks_, as_frame=False)
    assert list(table["metric"]) == ["r2", "r2", "accuracy"]
    # held-out R² of the two regressions and accuracy of the classification
    assert np.all(np.asarray(table["score"][:2]) > 0.95), table["score"]
    assert table["score"][2] > 0.9, table["score"]
