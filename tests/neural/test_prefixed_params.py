"""A misspelt prefixed parameter fails before training, with the valid names."""

import numpy as np
import pytest
from torch import nn

from skmtl.neural import MultiTaskRegressor

X = np.random.RandomState(0).randn(20, 3)
Y = X[:, :2].copy()


@pytest.mark.parametrize("params, message", [
    ({"trunk__dropuot": 0.1},
     r"unknown parameter\(s\) trunk__dropuot \(did you mean trunk__dropout\?\) for "
     r"the trunk MLP; it takes trunk__activation, trunk__dropout\."),
    ({"architecture": "mmoe", "module__n_expert": 3},
     r"module__n_expert \(did you mean module__n_experts\?\) for the "
     r"architecture MMoE; it takes .*module__n_experts"),
    ({"optimizer__weight_decy": 1e-3},
     r"optimizer__weight_decy \(did you mean optimizer__weight_decay\?\) for the "
     r"optimizer Adam; it takes .*optimizer__betas"),
    ({"trunk": "conv", "trunk__chanels": (4,)},
     r"trunk__chanels \(did you mean trunk__channels\?\) for the trunk ConvNet"),
    ({"module__nope": 1, "trunk__dropout": 0.0},
     r"module__nope for the architecture HardSharing; it takes "
     r"module__head_hidden\."),
])
def test_unknown_prefixed_parameter_lists_the_valid_ones(params, message):
    est = MultiTaskRegressor(max_epochs=1, **params)
    with pytest.raises(ValueError, match=message):
        est.fit(X, Y)
    assert not hasattr(est, "net_")
    # set_params reaches the same check
    est = MultiTaskRegressor(max_epochs=1).set_params(**params)
    with pytest.raises(ValueError, match=message):
        est.fit(X, Y)


class AnyOptions(nn.Module):
    """A trunk that takes any keyword: nothing to check."""

    def __init__(self, input_shape, **options):
        super().__init__()
        self.options = options
        self.layer = nn.Linear(input_shape[0], 4)

    def forward(self, x):
        return self.layer(x)


def test_valid_and_open_ended_parameters_pass():
    MultiTaskRegressor(max_epochs=1, trunk__dropout=0.1, optimizer__lr=0.01,
                       optimizer__weight_decay=1e-4).fit(X, Y)
    MultiTaskRegressor(max_epochs=1, trunk=AnyOptions,
                       trunk__whatever=3).fit(X, Y)
