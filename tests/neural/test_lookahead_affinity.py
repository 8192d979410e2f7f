"""Look-ahead inter-task affinity of a network recovers planted task groups."""

import copy

import numpy as np
import pytest
import torch

from skmtl.model_selection import suggest_task_groups, task_affinity
from skmtl.neural import LookaheadAffinity, MultiTaskRegressor


def _two_clusters(seed=0, n=300):
    """Tasks 0, 2, 4 depend on features 0-2 and tasks 1, 3 on features 3-5: the
    clusters need different features of the shared layer."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 6)
    first = np.r_[rng.randn(3), np.zeros(3)]
    second = np.r_[np.zeros(3), rng.randn(3)]
    clusters = np.array([0, 1, 0, 1, 0])
    Y = np.column_stack([X @ ((second if c else first) + 0.1 * rng.randn(6))
                         for c in clusters])
    return X, Y + 0.05 * rng.randn(*Y.shape), clusters


def _net(**params):
    defaults = dict(hidden_layer_sizes=(8,), lr=0.01, max_epochs=4, batch_size=32,
                    random_state=0)
    defaults.update(params)
    return MultiTaskRegressor(**defaults)


@pytest.mark.parametrize("seed", [0, 1])
def test_lookahead_affinity_recovers_planted_clusters(seed):
    X, Y, clusters = _two_clusters(seed)
    affinity = task_affinity(_net(hidden_layer_sizes=(16,)), X, Y, method="lookahead")
    same = clusters[:, None] == clusters[None, :]
    off = ~np.eye(5, dtype=bool)
    assert affinity[same & off].mean() > 0.002 > affinity[~same].mean()
    assert suggest_task_groups(affinity, 2) == [[0, 2, 4], [1, 3]]


def test_measuring_does_not_change_training():
    X, Y, _ = _two_clusters(1, n=96)
    plain = _net().fit(X, Y)
    measured = _net(callbacks=[("affinity", LookaheadAffinity(every=2))]).fit(X, Y)
    np.testing.assert_array_equal(plain.predict(X), measured.predict(X))
    # 96 rows in batches of 32 for 4 epochs: 12 batches, every other one.
    assert dict(measured.net_.callbacks_)["affinity"].n_steps_ == 6


class _Recording(LookaheadAffinity):
    """Keeps a copy of the module and the batch of the first measured step."""

    def _measure(self, net, batch):
        if not hasattr(self, "snapshot_"):
            self.snapshot_ = (copy.deepcopy(net.module_), batch)
            self.first_ = super()._measure(net, batch)
            return self.first_
        return super()._measure(net, batch)


def test_lookahead_by_hand_at_the_first_step():
    X, Y, _ = _two_clusters(2, n=32)
    est = _net(max_epochs=1, standardize_targets=False,
               callbacks=[("affinity", _Recording(every=100, lr=0.05))]).fit(X, Y)
    callback = dict(est.net_.callbacks_)["affinity"]
    module, (Xb, yb) = callback.snapshot_
    Xb = torch.as_tensor(Xb, dtype=torch.float32)
    yb = torch.as_tensor(np.asarray(yb), dtype=torch.float32)

    def task_losses(m):
        outputs = m(Xb)
        return torch.stack([((o[:, 0] - yb[:, k]) ** 2).mean()
                            for k, o in enumerate(outputs)])

    before = task_losses(module).detach()
    shared = list(module.shared_parameters())
    expected = np.empty((5, 5))
    for i in range(5):
        stepped = copy.deepcopy(module)
        grads = torch.autograd.grad(task_losses(module)[i], shared)
        with torch.no_grad():
            for p, g in zip(stepped.shared_parameters(), grads):
                p -= 0.05 * g
            expected[i] = (1 - task_losses(stepped) / before).numpy()
    np.testing.assert_allclose(callback.first_, expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("params, message", [
    (dict(every=0), "every must be a positive integer"),
    (dict(lr=-1.0), "lr must be positive"),
])
def test_callback_parameter_errors(params, message):
    X, Y, _ = _two_clusters(3, n=40)
    with pytest.raises(ValueError, match=message):
        _net(callbacks=[("a", LookaheadAffinity(**params))]).fit(X, Y)


def test_lookahead_needs_shared_parameters_and_a_network():
    from sklearn.linear_model import Ridge

    from skmtl import SingleTaskBaseline

    X, Y, _ = _two_clusters(4, n=40)
    with pytest.raises(ValueError, match="needs a neural multi-task estimator"):
        task_affinity(SingleTaskBaseline(Ridge()), X, Y, method="lookahead")
    with pytest.raises(ValueError, match="has no shared parameters"):
        task_affinity(_net(hidden_layer_sizes=()), X, Y, method="lookahead")
