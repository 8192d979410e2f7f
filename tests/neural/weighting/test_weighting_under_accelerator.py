"""Every strategy under ``accelerator=``: it trains exactly as without one, or
it is refused with a message that names it (never a silent no-op)."""

import warnings

import numpy as np
import pytest
from skorch.exceptions import DeviceWarning

from skmtl.neural import MultiTaskRegressor
from skmtl.neural.weighting import WEIGHTINGS

accelerate = pytest.importorskip("accelerate")

# strategies whose weights are random draws (from torch's generator)
RANDOM = {"rlw"}


def _data(n=96, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 4)
    Y = np.c_[X[:, 0] - X[:, 1], 10 * np.sin(X[:, 2]) + rng.randn(n)]
    Y[rng.rand(n) < 0.2, 1] = np.nan
    return X, Y


def _fit(weighting, X, Y, **params):
    # no dropout, no shuffling: the accelerator's data loader draws nothing
    est = MultiTaskRegressor(weighting=weighting, hidden_layer_sizes=(8,), lr=0.01,
                             batch_size=16, max_epochs=3, trunk__dropout=0.0,
                             standardize_targets=False,
                             iterator_train__shuffle=False, random_state=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeviceWarning)
        return est.fit(X, Y)


@pytest.mark.parametrize("name", sorted(WEIGHTINGS))
def test_every_strategy_trains_as_without_an_accelerator_or_is_refused(name):
    if name == "upgrad":
        pytest.importorskip("torchjd.aggregation")
        pytest.importorskip("quadprog")
    X, Y = _data()
    strategy = WEIGHTINGS[name]()
    try:
        accelerated = _fit(name, X, Y, accelerator=accelerate.Accelerator(cpu=True))
    except ValueError as exc:
        assert strategy.uses_gradients
        assert f"weighting {type(strategy).__name__} computes per-task" in str(exc)
        return
    assert not strategy.uses_gradients
    if name in RANDOM:
        # the accelerator's torch DataLoader draws a seed from torch's
        # generator every epoch, so the random weights are other draws
        weights = accelerated.task_weights_history_
        np.testing.assert_allclose(weights.sum(axis=1), 2.0, rtol=1e-5)
        assert np.all(np.abs(weights - 1.0) > 1e-3)
        return
    plain = _fit(name, X, Y)
    # the weights the strategy chose (GradNorm's and MetaWeighting's used to
    # stay at 1 under an accelerator) and the losses they gave
    np.testing.assert_allclose(accelerated.task_weights_history_,
                               plain.task_weights_history_, rtol=1e-5)
    np.testing.assert_allclose(accelerated.history_[:, "train_loss"],
                               plain.history_[:, "train_loss"], rtol=1e-5)
    np.testing.assert_allclose(accelerated.predict(X), plain.predict(X), rtol=1e-5,
                               atol=1e-6)


def test_the_strategies_that_change_their_weights_in_backward_are_refused():
    X, Y = _data()
    for name in ("gradnorm", "meta_weighting", "pcgrad", "mgda_ub"):
        cls = type(WEIGHTINGS[name]()).__name__
        with pytest.raises(ValueError, match=f"weighting {cls} computes per-task"):
            _fit(name, X, Y, accelerator=accelerate.Accelerator(cpu=True))
    # IMTL's loss form is the loss-level step: it trains
    _fit(WEIGHTINGS["imtl"](form="loss"), X, Y,
         accelerator=accelerate.Accelerator(cpu=True))
