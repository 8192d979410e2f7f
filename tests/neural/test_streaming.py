"""Logs larger than memory: sharded memory-mapped logs streamed through
``fit``, ``partial_fit`` with declared categories, and the funnel losses
under Accelerate."""

import warnings

import numpy as np
import pytest
import torch
from skorch.exceptions import DeviceWarning

from skmtl import Task
from skmtl.datasets import make_funnel
from skmtl.neural import MultiTaskEstimator


def _funnel_frame(n=800, seed=0):
    X, Y = make_funnel(n, n_users=40, n_items=15, rates=(0.3, 0.4),
                       random_state=seed)
    return X, Y


def _parameters(est):
    return {k: v.detach().clone() for k, v in est.net_.module_.state_dict().items()}


def _assert_same_parameters(first, second, atol=1e-6):
    a, b = _parameters(first), _parameters(second)
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], atol=atol, rtol=0, msg=key)


# -- Accelerate runs the funnel losses ------------------------------------------

@pytest.mark.parametrize("options", [
    {},
    {"conditional_weight": 0.5, "counterfactual": "ips"},
    {"conditional_weight": 0.5, "counterfactual": "dr"},
])
@pytest.mark.parametrize("architecture", ["hard", "aitm"])
def test_accelerator_trains_dependent_tasks_as_without_one(options, architecture):
    accelerate = pytest.importorskip("accelerate")
    X, Y = _funnel_frame(400)
    tasks = [Task("click", "binary"),
             Task("conversion", "binary", given="click", **options)]

    def fit(**params):
        est = MultiTaskEstimator(
            tasks=tasks, architecture=architecture, hidden_layer_sizes=(8,),
            lr=0.01, batch_size=64, max_epochs=2, trunk__dropout=0.0,
            iterator_train__shuffle=False, categorical_features=["user_id", "item_id"],
            embedding_dim=3, random_state=0, **params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeviceWarning)
            return est.fit(X, Y)

    plain = fit()
    accelerated = fit(accelerator=accelerate.Accelerator(cpu=True))
    assert type(accelerated.net_).__name__ == "AcceleratedMultiTaskNet"
    for key in ("train_loss", "train_loss_click", "train_loss_conversion"):
        np.testing.assert_allclose(accelerated.history_[:, key],
                                   plain.history_[:, key], rtol=1e-6)
    _assert_same_parameters(accelerated, plain)
    np.testing.assert_allclose(accelerated.predict_proba(X, funnel="joint")[1],
                               plain.predict_proba(X, funnel="joint")[1], rtol=1e-6)
