"""The fast data path: datasets of tensors, batches by slicing, query ids."""

import numpy as np
import pytest
import torch
from skorch.dataset import ValidSplit

from skmtl import Task
from skmtl.neural import BatchIterator, MultiTaskRegressor, TaskDataset, encode_groups
from skmtl.neural._data import labelled_columns
from skmtl.tasks import resolve_tasks


def test_dataset_stores_float32_copies_and_batches_by_slices():
    X = np.arange(12.0).reshape(6, 2)
    ds = TaskDataset(X, np.ones((6, 2)), groups=np.arange(6))
    X[0, 0] = 99.0  # the dataset holds its own copy
    Xb, yb = ds.batch(slice(0, 3))
    assert Xb.dtype == torch.float32 and Xb[0, 0].item() == 0.0
    assert Xb.data_ptr() == ds.X.data_ptr()  # a slice is a view
    assert set(yb) == {"targets", "groups"}
    assert yb["targets"].shape == (3, 2) and yb["groups"].shape == (3, 1)
    Xi, yi = ds[4]
    assert Xi.tolist() == [8.0, 9.0] and yi["groups"].tolist() == [4]
    weighted = TaskDataset(X, np.ones((6, 2)), sample_weight=np.arange(6.0))
    _, yw = weighted.batch(torch.tensor([5, 1]))
    assert set(yw) == {"targets", "sample_weight"}
    assert yw["sample_weight"].tolist() == [5.0, 1.0]
    assert weighted.take([2, 3]).sample_weight.tolist() == [2.0, 3.0]
    with pytest.raises(ValueError, match="X has 6 samples but y has 5"):
        TaskDataset(X, np.ones((5, 2)))


def test_prediction_dataset_shares_float32_memory():
    X = np.zeros((4, 3), dtype=np.float32)
    assert TaskDataset(X, copy=False).X.data_ptr() == X.ctypes.data
    readonly = X.copy()
    readonly.flags.writeable = False
    assert TaskDataset(readonly, copy=False).X.data_ptr() != readonly.ctypes.data


def test_iterator_visits_every_row_once_per_epoch_in_random_order():
    ds = TaskDataset(np.arange(10.0)[:, None], np.zeros((10, 1)))
    torch.manual_seed(0)
    it = BatchIterator(ds, batch_size=4, shuffle=True)
    assert len(it) == 3
    epoch = [Xb[:, 0].tolist() for Xb, _ in it]
    assert [len(b) for b in epoch] == [4, 4, 2]
    seen = sorted(v for b in epoch for v in b)
    assert seen == list(range(10))
    assert sum(epoch, []) != list(range(10))
    assert len(list(BatchIterator(ds, batch_size=4, drop_last=True))) == 2


def test_iterator_pads_prediction_batches_to_a_fixed_shape():
    ds = TaskDataset(np.ones((5, 2)))
    shapes = [tuple(Xb.shape) for Xb, _ in BatchIterator(ds, 4, pad_last=True)]
    assert shapes == [(4, 2), (4, 2)]
    # with targets (training, validation) nothing is padded
    ds = TaskDataset(np.ones((5, 2)), np.ones((5, 1)))
    assert [len(Xb) for Xb, _ in BatchIterator(ds, 4, pad_last=True)] == [4, 1]


def test_iterator_unwraps_skorch_validation_subsets():
    ds = TaskDataset(np.arange(20.0)[:, None], np.arange(20.0)[:, None])
    train, valid = ValidSplit(0.25, random_state=0)(ds)
    rows = sorted(v for Xb, _ in BatchIterator(valid, 3) for v in Xb[:, 0].tolist())
    assert rows == sorted(np.asarray(valid.indices, dtype=float).tolist())
    with pytest.raises(TypeError, match="needs a TaskDataset"):
        BatchIterator(torch.utils.data.TensorDataset(torch.zeros(3)), 2)


def test_completeness_of_datasets_and_subsets():
    y = np.ones((6, 2))
    assert labelled_columns(TaskDataset(np.ones((6, 1)), y)).all()
    y[5, 1] = np.nan
    ds = TaskDataset(np.ones((6, 1)), y)
    assert labelled_columns(ds).tolist() == [True, False]
    assert labelled_columns(torch.utils.data.Subset(ds, [0, 1, 2])).all()
    assert labelled_columns(torch.utils.data.Subset(ds, [4, 5])).tolist() == [True,
                                                                               False]
    assert labelled_columns(TaskDataset(np.ones((6, 1)))) is None


def test_training_never_fetches_single_samples(monkeypatch):
    def refuse(self, i):
        raise AssertionError("per-sample __getitem__ called in the training loop")

    monkeypatch.setattr(TaskDataset, "__getitem__", refuse)
    rng = np.random.RandomState(0)
    X, Y = rng.randn(50, 3), rng.randn(50, 2)
    est = MultiTaskRegressor(hidden_layer_sizes=(4,), max_epochs=2, batch_size=8,
                             train_split=0.2, random_state=0).fit(X, Y)
    assert est.predict(X).shape == (50, 2)


def test_predictions_of_a_row_do_not_depend_on_the_other_rows():
    rng = np.random.RandomState(0)
    X, Y = rng.randn(300, 5), rng.randn(300, 2)
    est = MultiTaskRegressor(hidden_layer_sizes=(32, 32), max_epochs=2,
                             batch_size=64, random_state=0).fit(X, Y)
    full = est.predict(X)
    rows = np.array([0, 17, 150, 299])
    np.testing.assert_array_equal(est.predict(X[rows]), full[rows])
    np.testing.assert_array_equal(est.predict(X[::-1])[::-1], full)


def test_encode_groups_from_one_array_or_a_dict():
    tasks = resolve_tasks([Task("a", "ranking", group="query"),
                           Task("b", "ranking", group="user"), Task("c", "ranking")],
                          np.zeros((4, 3)))
    codes = encode_groups({"query": ["x", "y", "x", "z"], "user": [5, 5, 6, 6]},
                          tasks, 4)
    # columns follow the sorted group names: query, user
    assert codes.tolist() == [[0, 0], [1, 0], [0, 1], [2, 1]]
    assert encode_groups([1, 1, 2, 2], tasks, 4).tolist() == [[0, 0], [0, 0],
                                                              [1, 1], [1, 1]]
    assert encode_groups(None, tasks[2:], 4) is None
    with pytest.raises(ValueError, match="pass the query ids as fit"):
        encode_groups(None, tasks, 4)
    with pytest.raises(ValueError, match="groups has no entry 'user'"):
        encode_groups({"query": [0, 0, 1, 1]}, tasks, 4)
    with pytest.raises(ValueError, match=r"one query id per sample \(4\)"):
        encode_groups([0, 1], tasks, 4)


def test_prediction_batches_are_larger_and_fixed_by_the_input_shape():
    from skmtl.neural._build import predict_batch_size

    assert predict_batch_size((100,), 256) == 4096
    assert predict_batch_size((1, 28, 28), 128) == 1024  # 2**20 values / 784
    assert predict_batch_size((3, 224, 224), 64) == 64  # never below batch_size
    assert predict_batch_size({"tokens": (10,), "lengths": ()}, 32) == 4096
    X = np.random.RandomState(0).randn(5000, 4)
    Y = X[:, :2] @ [[1.0, 0.5], [0.0, 2.0]]
    est = MultiTaskRegressor(hidden_layer_sizes=(8,), max_epochs=1, batch_size=64,
                             random_state=0).fit(X, Y)
    assert est.net_.get_params_for("iterator_valid")["batch_size"] == 4096
    # a row's prediction does not depend on the rows predicted with it
    np.testing.assert_array_equal(est.predict(X[4321:4322]), est.predict(X)[4321:4322])
