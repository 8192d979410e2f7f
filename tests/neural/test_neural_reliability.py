"""Resuming, divergence, devices, streaming and Accelerate for the networks.

Every comparison of parameters here is exact (``torch.equal``): on the CPU,
the same seed and the same sequence of batches give the same floats.
"""

import io
import pickle
import re
import sys
import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from skorch.callbacks import Checkpoint, LoadInitState
from skorch.exceptions import DeviceWarning

from skmtl import Task
from skmtl.neural import MultiTaskClassifier, MultiTaskEstimator, MultiTaskRegressor
from skmtl.neural.weighting import Weighting
from skmtl.utils import iter_chunks


def _data(n=96, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 4)
    Y = np.c_[X[:, 0] - X[:, 1], np.sin(X[:, 2]) + 0.1 * rng.randn(n)]
    Y[rng.rand(n) < 0.2, 1] = np.nan
    return X, Y


def _net(**params):
    # dropout and shuffling: both draw from torch's generator every epoch
    defaults = dict(hidden_layer_sizes=(8,), trunk__dropout=0.2, lr=0.01,
                    batch_size=16, max_epochs=5, random_state=0)
    return MultiTaskRegressor(**{**defaults, **params})


def _assert_same_parameters(a, b):
    sa, sb = a.net_.module_.state_dict(), b.net_.module_.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key


def _assert_different_parameters(a, b):
    sa, sb = a.net_.module_.state_dict(), b.net_.module_.state_dict()
    assert any(not torch.equal(sa[k], sb[k]) for k in sa)


# -- checkpoint and resume ----------------------------------------------------

def test_pickle_then_warm_start_resumes_exactly():
    X, Y = _data()
    full = _net(max_epochs=7).fit(X, Y)
    first = _net(max_epochs=3).fit(X, Y)
    _assert_different_parameters(first, full)
    resumed = pickle.loads(pickle.dumps(first))
    resumed.set_params(warm_start=True, max_epochs=4).fit(X, Y)
    _assert_same_parameters(resumed, full)
    assert len(resumed.history_) == 7
    np.testing.assert_array_equal(resumed.history_[:, "train_loss"],
                                  full.history_[:, "train_loss"])
    np.testing.assert_array_equal(resumed.predict(X), full.predict(X))


def test_warm_start_false_refits_from_scratch():
    X, Y = _data()
    est = _net(max_epochs=3).fit(X, Y)
    again = pickle.loads(pickle.dumps(est)).fit(X, Y)
    _assert_same_parameters(est, again)
    assert len(again.history_) == 3


def test_partial_fit_after_fit_continues_the_same_run():
    X, Y = _data()
    full = _net(max_epochs=4).fit(X, Y)
    est = _net(max_epochs=2).fit(X, Y)
    est.partial_fit(X, Y).partial_fit(X, Y)
    _assert_same_parameters(est, full)


def test_skorch_checkpoint_and_load_init_state_resume_exactly(tmp_path):
    X, Y = _data()
    files = dict(f_params="params.pt", f_optimizer="optimizer.pt",
                 f_history="history.json", f_criterion=None)
    checkpoint = Checkpoint(monitor=None, dirname=str(tmp_path), **files)
    _net(max_epochs=3, callbacks=[checkpoint]).fit(X, Y)
    resume = LoadInitState(Checkpoint(monitor=None, dirname=str(tmp_path), **files))
    resumed = _net(max_epochs=2, callbacks=[resume]).fit(X, Y)
    full = _net(max_epochs=5).fit(X, Y)
    assert len(resumed.history_) == 5
    _assert_same_parameters(resumed, full)


def test_a_different_seed_gives_different_parameters():
    X, Y = _data()
    _assert_different_parameters(_net().fit(X, Y), _net(random_state=1).fit(X, Y))


# -- divergence -----------------------------------------------------------------

def _diverging(**params):
    # SGD on linear heads: stable for task "small", but "huge", weighted 3,
    # steps past the stability limit and grows geometrically until inf.
    rng = np.random.RandomState(0)
    X = rng.randn(64, 3)
    Y = np.c_[X @ [1.0, 2.0, 0.0], X @ [0.0, 1.0, -1.0]]
    defaults = dict(tasks=[Task("small"), Task("huge")], hidden_layer_sizes=(),
                    task_weights={"huge": 3.0}, optimizer=torch.optim.SGD, lr=0.4,
                    standardize_targets=False, batch_size=16, max_epochs=30,
                    random_state=0)
    return MultiTaskEstimator(**{**defaults, **params}), X, Y


def test_divergence_raises_naming_task_and_epoch_and_unfits():
    est, X, Y = _diverging()
    with pytest.raises(ValueError, match=r"loss of task 'huge' became inf at epoch "
                                         r"\d+ \(batch \d+\)"):
        est.fit(X, Y)
    assert not hasattr(est, "net_") and not hasattr(est, "tasks_")
    with pytest.raises(NotFittedError):
        est.predict(X)


def test_divergence_restore_keeps_the_best_epoch_and_warns():
    est, X, Y = _diverging(on_divergence="restore")
    with pytest.warns(RuntimeWarning, match=r"task 'huge' became \w+ at epoch \d+"
                                            r".*restored the parameters") as record:
        est.fit(X, Y)
    message = str(record[0].message)
    bad_epoch = int(re.search(r" at epoch (\d+)", message).group(1))
    best_epoch = int(re.search(r"end of epoch (\d+)", message).group(1))
    assert 1 <= best_epoch < bad_epoch  # the setting diverges after good epochs
    assert len(est.history_) == bad_epoch - 1  # the unfinished epoch is dropped
    losses = est.history_[:, "train_loss"]
    assert best_epoch == 1 + int(np.argmin(losses))
    # exactly the parameters of a run stopped at the best epoch
    reference, _, _ = _diverging(max_epochs=best_epoch)
    _assert_same_parameters(est, reference.fit(X, Y))
    assert np.all(np.isfinite(est.predict(X)))
    assert est.score(X, Y) > -1.0


def test_divergence_restore_without_a_better_epoch_gives_the_initial_network():
    # lr 1e4 blows up within epoch 1: its mean loss, though finite, is far
    # above the first batch's (the initial network's), so no epoch is better
    est, X, Y = _diverging(on_divergence="restore", lr=1e4)
    with pytest.warns(RuntimeWarning, match="end of epoch 0") as record:
        est.fit(X, Y)
    bad_epoch = int(re.search(r" at epoch (\d+)", str(record[0].message)).group(1))
    assert len(est.history_) == bad_epoch - 1
    torch.manual_seed(0)
    untrained = MultiTaskEstimator(**{**est.get_params(), "lr": 1e-12,
                                      "max_epochs": 1})
    untrained.fit(X, Y)
    # lr 1e-12 leaves the initial weights within float32 rounding
    for a, b in zip(est.net_.module_.parameters(),
                    untrained.net_.module_.parameters()):
        torch.testing.assert_close(a, b)


# -- devices --------------------------------------------------------------------

@pytest.mark.skipif(torch.cuda.is_available(), reason="checks a CPU-only machine")
@pytest.mark.parametrize("device, match", [
    ("cuda", "CUDA is not available"),
    ("cuda:7", "CUDA is not available"),
    ("nope", "not a torch device"),
])
def test_unavailable_device_is_a_clear_error_before_any_fit(device, match):
    X, Y = _data()
    est = _net(device=device)
    with pytest.raises(ValueError, match=match):
        est.fit(X, Y)
    assert not any(k.endswith("_") for k in vars(est))
    fitted = _net(max_epochs=1).fit(X, Y)
    with pytest.raises(ValueError, match=match):
        fitted.to(device)
    assert fitted.device == "cpu"


def test_predictions_are_numpy_and_to_cpu_keeps_them():
    X, Y = _data()
    est = _net(max_epochs=2).fit(X, Y)
    before = est.predict(X)
    assert isinstance(before, np.ndarray) and before.dtype == np.float64
    assert est.to(torch.device("cpu")) is est
    np.testing.assert_array_equal(est.predict(X), before)


class _AsIfOnCuda:
    """Pickle torch tensors with the location tag of a CUDA device."""

    def __enter__(self):
        self.original = torch.serialization.location_tag
        torch.serialization.location_tag = lambda storage: "cuda:0"

    def __exit__(self, *exc):
        torch.serialization.location_tag = self.original


@pytest.mark.skipif(torch.cuda.is_available(), reason="simulates a missing GPU")
def test_model_pickled_on_a_gpu_loads_on_a_cpu_only_machine():
    # the simulation is real: such tensors cannot load here without mapping
    buffer = io.BytesIO()
    with _AsIfOnCuda():
        torch.save(torch.ones(2), buffer)
    buffer.seek(0)
    with pytest.raises(RuntimeError, match="CUDA"):
        torch.load(buffer)

    X, Y = _data()
    est = _net(max_epochs=2).fit(X, Y)
    expected = est.predict(X)
    est.device = est.net_.device = "cuda"  # as after fit(device="cuda")
    with _AsIfOnCuda():
        blob = pickle.dumps(est)
    with pytest.warns(DeviceWarning, match="no CUDA devices"):
        loaded = pickle.loads(blob)
    assert loaded.device == "cpu"
    assert all(p.device.type == "cpu" for p in loaded.net_.module_.parameters())
    np.testing.assert_array_equal(loaded.predict(X), expected)
    loaded.partial_fit(X, Y)  # and training goes on, on the CPU
    assert len(loaded.history_) == 3


# -- streaming chunks -------------------------------------------------------------

def _stream_net(**params):
    return _net(trunk__dropout=0.0, standardize_targets=False,
                iterator_train__shuffle=False, **params)


def test_streaming_chunks_equals_fitting_the_concatenated_data():
    # Without shuffling (and with chunks that hold whole batches), one pass
    # of partial_fit over the chunks is one epoch over the concatenation.
    X, Y = _data()
    epochs = 3
    full = _stream_net(max_epochs=epochs).fit(X, Y)
    streamed = _stream_net()
    for _ in range(epochs):
        for X_chunk, Y_chunk in iter_chunks(X, Y, chunk_size=32):
            streamed.partial_fit(X_chunk, Y_chunk)
    _assert_same_parameters(streamed, full)
    assert len(streamed.history_) == 3 * epochs  # one entry per chunk


def test_streaming_from_a_dask_array():
    da = pytest.importorskip("dask.array")
    X, Y = _data()
    X_dask, Y_dask = da.from_array(X, chunks=(32, 2)), da.from_array(Y, chunks=48)
    full = _stream_net(max_epochs=2).fit(X, Y)
    streamed = _stream_net()
    for _ in range(2):
        for X_chunk, Y_chunk in iter_chunks(X_dask, Y_dask):
            assert isinstance(X_chunk, np.ndarray) and X_chunk.shape == (32, 4)
            streamed.partial_fit(X_chunk, Y_chunk)
    _assert_same_parameters(streamed, full)


def test_shuffled_stream_of_classification_chunks_is_reproducible_and_learns():
    rng = np.random.RandomState(0)
    X = rng.randn(600, 4)
    Y = np.c_[X[:, 0] > 0, X[:, 1] + X[:, 2] > 0].astype(float)
    Y[:140, 1] = np.nan  # the first chunk has few labels of task 1
    Y[140:150, 1] = 1.0  # and of one class only: classes= declares both

    def stream(seed):
        est = MultiTaskClassifier(hidden_layer_sizes=(16,), lr=0.02, batch_size=32,
                                  random_state=seed)
        for _ in range(4):
            for X_chunk, Y_chunk in iter_chunks(X, Y, chunk_size=150):
                est.partial_fit(X_chunk, Y_chunk, classes=[[0.0, 1.0], [0.0, 1.0]])
        return est

    first, second = stream(0), stream(0)
    _assert_same_parameters(first, second)
    assert first.score(X, Y) > 0.9


def test_bad_chunk_leaves_a_streamed_model_unchanged():
    X, Y = _data()
    est = _stream_net().partial_fit(X[:32], Y[:32])
    state = {k: v.clone() for k, v in est.net_.module_.state_dict().items()}
    bad = Y[32:64].copy()
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="inf"):
        est.partial_fit(X[32:64], bad)
    with pytest.raises(ValueError, match="3 features"):
        est.partial_fit(X[32:64, :3], Y[32:64])
    assert len(est.history_) == 1
    for key, value in est.net_.module_.state_dict().items():
        assert torch.equal(value, state[key])


# -- Accelerate (opt-in) ------------------------------------------------------------

def test_accelerator_without_accelerate_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "accelerate", None)  # import fails
    X, Y = _data()
    est = _net(accelerator=object())
    with pytest.raises(ImportError, match=r"skmtl\[accelerate\]"):
        est.fit(X, Y)
    assert not hasattr(est, "net_")


class _GradientLevel(Weighting):
    level = "gradient"

    def combine(self, task_losses, training=True):
        return task_losses.sum()

    def weights(self):
        return np.ones(self.n_tasks_)


def test_accelerate_cpu_mode_trains_like_the_plain_net():
    accelerate = pytest.importorskip("accelerate")
    X, Y = _data()
    plain = _stream_net(max_epochs=3).fit(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeviceWarning)
        accelerated = _stream_net(max_epochs=3,
                                  accelerator=accelerate.Accelerator(cpu=True))
        accelerated.fit(X, Y)
        predictions = accelerated.predict(X)
    assert type(accelerated.net_).__name__ == "AcceleratedMultiTaskNet"
    np.testing.assert_array_equal(accelerated.history_[:, "train_loss"],
                                  plain.history_[:, "train_loss"])
    np.testing.assert_allclose(predictions, plain.predict(X), rtol=1e-6)
    assert isinstance(predictions, np.ndarray)
    # a strategy with a step of its own trains on one process; on several it
    # is refused unless it says how its step is distributed
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeviceWarning)
        _stream_net(accelerator=accelerate.Accelerator(cpu=True),
                    weighting=_GradientLevel()).fit(X, Y)


def test_a_custom_gradient_level_strategy_is_refused_on_several_processes(
        monkeypatch):
    accelerate = pytest.importorskip("accelerate")
    monkeypatch.setattr(accelerate.Accelerator, "num_processes",
                        property(lambda self: 2))
    X, Y = _data()
    assert _GradientLevel().distributed_step is None
    with pytest.raises(ValueError, match="_GradientLevel cannot train on several "
                                         "processes"):
        _stream_net(accelerator=accelerate.Accelerator(cpu=True),
                    weighting=_GradientLevel()).fit(X, Y)
