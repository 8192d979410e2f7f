"""Tests of skmtl/neural/weighting/_fixed.py."""

import pytest
import torch
from weighting_problems import resolve_tasks_pair

from skmtl.neural.weighting import Fixed


def test_fixed_weights_by_task_order_or_name():
    fitted = resolve_tasks_pair()
    assert Fixed([1.0, 2.0]).initialize(fitted).weights().tolist() == [1.0, 2.0]
    assert Fixed().initialize(fitted).weights().tolist() == [1.0, 1.0]
    fixed = Fixed({"b": 4.0}).initialize(fitted)
    assert fixed.weights().tolist() == [1.0, 4.0]
    losses = torch.tensor([0.5, 0.25], requires_grad=True)
    total = fixed.combine(losses)
    assert total.item() == pytest.approx(0.5 + 4.0 * 0.25)
    total.backward()
    assert losses.grad.tolist() == [1.0, 4.0]
    with pytest.raises(ValueError, match="unknown task"):
        Fixed({"c": 1.0}).initialize(fitted)


def test_fixed_has_scikit_learn_parameters():
    fixed = Fixed((1.0, 3.0))
    assert fixed.get_params() == {"task_weights": (1.0, 3.0)}
    assert repr(fixed) == "Fixed(task_weights=(1.0, 3.0))"
    assert repr(Fixed()) == "Fixed()"
    assert fixed.set_params(task_weights=None).task_weights is None
    with pytest.raises(ValueError, match="Fixed has no parameter 'alpha'"):
        fixed.set_params(alpha=1)
