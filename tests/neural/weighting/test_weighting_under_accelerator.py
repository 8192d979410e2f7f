"""Every strategy under ``accelerator=``: on one process it trains exactly as
without one; on several, the strategies that cannot be distributed are refused
with a message that names them (never a silent no-op). The multi-process runs
are in test_distributed_weighting.py."""

import warnings

import numpy as np
import pytest
from skorch.exceptions import DeviceWarning

from skmtl.neural import MultiTaskRegressor
from skmtl.neural.weighting import WEIGHTINGS

accelerate = pytest.importorskip("accelerate")

# strategies whose weights are random draws (from torch's generator)
RANDOM = {"rlw", "graddrop", "meta_weighting"}


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
def test_every_strategy_trains_on_one_process_as_without_an_accelerator(name):
    if name == "upgrad":
        pytest.importorskip("torchjd.aggregation")
        pytest.importorskip("quadprog")
    X, Y = _data()
    accelerated = _fit(name, X, Y, accelerator=accelerate.Accelerator(cpu=True))
    if name in RANDOM:
        # the accelerator's torch DataLoader draws a seed from torch's
        # generator every epoch, so the random weights are other draws
        weights = accelerated.task_weights_history_
        assert np.all(np.abs(weights - 1.0) > 1e-3)
        if name == "rlw":
            np.testing.assert_allclose(weights.sum(axis=1), 2.0, rtol=1e-5)
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


def test_several_processes_refuse_the_strategies_that_cannot_be_distributed(
        monkeypatch):
    X, Y = _data()
    # the refusal is decided when the net is initialized, from the number of
    # processes: no process group is needed to see it
    monkeypatch.setattr(accelerate.Accelerator, "num_processes",
                        property(lambda self: 2))
    for name in ("gradnorm", "meta_weighting"):
        strategy = WEIGHTINGS[name]()
        assert strategy.distributed_step is None
        cls = type(strategy).__name__
        with pytest.raises(ValueError, match=f"weighting {cls} cannot train on "
                                             f"several processes.*'pcgrad'"):
            _fit(name, X, Y, accelerator=accelerate.Accelerator(cpu=True))
    # a representation form whose combination reads the rows themselves
    representation = WEIGHTINGS["graddrop"](on="representation")
    assert representation.distributed_step is None
    with pytest.raises(ValueError, match=r"GradDrop\(on='representation'\) "
                                         r"cannot train on several processes.*"
                                         r"GradDrop\(on='parameters'\)"):
        _fit(representation, X, Y, accelerator=accelerate.Accelerator(cpu=True))
    # the others combine the Gram matrix, which sums across processes
    for name in ("pcgrad", "mgda", "nash_mtl", "imtl", "upgrad", "cagrad"):
        assert WEIGHTINGS[name](on="representation").distributed_step == "gram"
    assert WEIGHTINGS["mgda_ub"]().distributed_step == "gram"
    for name in ("db_mtl", "excess_mtl"):
        assert WEIGHTINGS[name](on="representation").distributed_step is None
    assert WEIGHTINGS["pcgrad"]().distributed_step == "jacobian"
    assert WEIGHTINGS["imtl"](form="loss").distributed_step == "loss"
    assert WEIGHTINGS["uncertainty"]().distributed_step == "loss"


def test_gradient_accumulation_is_refused_for_gradient_level_strategies():
    X, Y = _data()
    with pytest.raises(ValueError, match="PCGrad combines the per-task gradients "
                                         "of each batch: gradient accumulation"):
        _fit("pcgrad", X, Y, accelerator=accelerate.Accelerator(
            cpu=True, gradient_accumulation_steps=2))
    # a loss-level strategy accumulates as Accelerate does
    _fit("equal", X, Y, accelerator=accelerate.Accelerator(
        cpu=True, gradient_accumulation_steps=2))


def test_sharded_data_parallelism_is_refused_for_gradient_level_strategies(
        monkeypatch):
    from accelerate.utils import DistributedType

    X, Y = _data()
    monkeypatch.setattr(accelerate.Accelerator, "num_processes",
                        property(lambda self: 2))
    monkeypatch.setattr(accelerate.Accelerator, "distributed_type",
                        property(lambda self: DistributedType.FSDP))
    with pytest.raises(ValueError, match="PCGrad computes per-task gradients of "
                                         "the shared parameters, which FSDP shards"):
        _fit("pcgrad", X, Y,
             accelerator=accelerate.Accelerator(cpu=True))
