"""GradientConflict records task gradient norms and cosines; its Display draws them."""

import matplotlib
import numpy as np
import pytest
import torch

from skmtl.neural import GradientConflict, MultiTaskRegressor
from skmtl.plotting import GradientConflictDisplay

matplotlib.use("Agg")


def _data(n=96, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 3)
    return X, np.c_[X[:, 0] + X[:, 1], -X[:, 0] + 0.5 * X[:, 2], X[:, 1]]


def _fit(callbacks, **params):
    X, Y = _data()
    defaults = dict(hidden_layer_sizes=(6,), max_epochs=3, batch_size=32,
                    random_state=0, callbacks=callbacks)
    defaults.update(params)
    return MultiTaskRegressor(**defaults).fit(X, Y), X, Y


def test_recorded_values_are_the_norms_and_cosines_of_the_task_gradients():
    # one sampled step per epoch (every > steps): the first batch of the
    # epoch, after its update; recompute it by hand from the final state
    est, X, Y = _fit([GradientConflict(every=100)], max_epochs=1, batch_size=96,
                     lr=1e-12)
    net = est.net_
    Xt = torch.as_tensor(X, dtype=torch.float32)
    yt = torch.as_tensor((Y - est.target_mean_) / est.target_scale_,
                         dtype=torch.float32)
    shared = net.module_.shared_parameters()
    losses, _ = net.get_task_losses(net.infer(Xt), yt, training=True)
    J = torch.stack([torch.cat([g.flatten() for g in torch.autograd.grad(
        losses[k], shared, retain_graph=True)]) for k in range(3)]).double().numpy()
    norms = np.linalg.norm(J, axis=1)
    np.testing.assert_allclose(est.history_[-1, "task_gradient_norms"], norms,
                               rtol=1e-4)
    cosines = J @ J.T / np.outer(norms, norms)
    np.testing.assert_allclose(est.history_[-1, "task_gradient_cosines"], cosines,
                               rtol=1e-4, atol=1e-6)
    assert cosines[0, 1] < 0  # the problem's first two tasks conflict


def test_the_callback_does_not_change_training():
    plain, X, _ = _fit([])
    watched, _, _ = _fit([GradientConflict(every=1)])
    np.testing.assert_array_equal(plain.predict(X), watched.predict(X))
    assert len(watched.history_[:, "task_gradient_norms"]) == 3
    callback = next(cb for _, cb in watched.net_.callbacks_
                    if isinstance(cb, GradientConflict))
    assert callback.n_samples_ == 3  # 96 rows / 32 per batch, every step


def test_every_is_validated():
    with pytest.raises(ValueError, match="every must be a positive integer"):
        _fit([GradientConflict(every=0)])


def test_display_draws_norms_and_pairwise_cosines():
    est, _, _ = _fit([GradientConflict(every=2)])
    display = GradientConflictDisplay.from_estimator(est)
    assert sorted(display.norm_lines_) == ["task_0", "task_1", "task_2"]
    assert len(display.cosine_lines_) == 3
    recorded = np.asarray(est.history_[:, "task_gradient_cosines"])
    np.testing.assert_allclose(display.cosine_lines_["task_0", "task_1"].get_ydata(),
                               recorded[:, 0, 1])
    assert display.axes_[0].get_yscale() == "log"
    plain, _, _ = _fit([])
    with pytest.raises(ValueError, match=r"callbacks=\[GradientConflict\(\)\]"):
        GradientConflictDisplay.from_estimator(plain)
    with pytest.raises(ValueError, match="norms must be"):
        GradientConflictDisplay(np.ones((2, 3)), np.ones((2, 3))).plot()
