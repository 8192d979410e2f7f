"""Logs larger than memory: sharded memory-mapped logs streamed through
``fit``, ``partial_fit`` with declared categories, and the funnel losses
under Accelerate."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from skorch.exceptions import DeviceWarning

from skmtl import Task
from skmtl.datasets import make_funnel
from skmtl.neural import MultiTaskEstimator, ShardedDataset, write_shard


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


# -- a sharded log ------------------------------------------------------------------

SIZES = (1664, 1280, 2048)  # multiples of the batch size (64), not of 500
FEATURES = ["user_id", "item_id", "context_0", "context_1", "context_2",
            "context_3"]
TARGETS = ["click", "conversion", "dwell"]
TASKS = [Task("click", "binary"), Task("conversion", "binary", given="click"),
         Task("dwell")]


def _log(seed=0):
    """A funnel log with a regression task (standardized) beside it."""
    X, Y = make_funnel(sum(SIZES), n_users=300, n_items=25, rates=(0.3, 0.4),
                       random_state=seed)
    rng = np.random.RandomState(seed)
    Y["dwell"] = 30 + 10 * X["context_0"] + rng.randn(len(X))
    Y.loc[rng.rand(len(X)) < 0.3, "dwell"] = np.nan
    X[X.columns[2:]] = X[X.columns[2:]].astype(np.float32)
    return X, Y


def _write(X, Y, directory):
    frame = X.join(Y)
    bounds = np.cumsum((0,) + SIZES)
    return [write_shard(directory / f"part-{k}", frame.iloc[a:b])
            for k, (a, b) in enumerate(zip(bounds[:-1], bounds[1:]))]


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    X, Y = _log()
    shards = _write(X, Y, tmp_path_factory.mktemp("log"))
    return X, Y, shards


def _est(**params):
    defaults = dict(tasks=TASKS, hidden_layer_sizes=(16,), lr=0.01, batch_size=64,
                    max_epochs=1, trunk__dropout=0.0, iterator_train__shuffle=False,
                    categorical_features=["user_id", "item_id"], random_state=0)
    return MultiTaskEstimator(**{**defaults, **params})


def test_fit_on_shards_equals_fit_on_the_concatenated_log(log):
    X, Y, shards = log
    # chunks of 500 rows: batches run across chunk and shard boundaries
    data = ShardedDataset(shards, FEATURES, TARGETS, chunk_rows=500)
    assert data.n_rows == len(X)
    streamed = _est(max_epochs=2, min_frequency=5).fit(data)
    in_memory = _est(max_epochs=2, min_frequency=5).fit(X, Y)
    for ours, theirs in zip(streamed.categories_, in_memory.categories_):
        np.testing.assert_array_equal(ours, theirs)
    assert len(streamed.categories_[0]) < 250  # min_frequency dropped some
    # the scaling of the whole log, not of the first chunk
    np.testing.assert_allclose(streamed.target_mean_, in_memory.target_mean_,
                               rtol=1e-12)
    np.testing.assert_allclose(streamed.target_scale_, in_memory.target_scale_,
                               rtol=1e-12)
    assert [t.classes_.tolist() for t in streamed.tasks_[:2]] == [[0, 1], [0, 1]]
    _assert_same_parameters(streamed, in_memory, atol=1e-6)
    np.testing.assert_allclose(streamed.history_[:, "train_loss"],
                               in_memory.history_[:, "train_loss"], rtol=1e-5)
    np.testing.assert_allclose(streamed.predict_proba(X, funnel="joint")[1],
                               in_memory.predict_proba(X, funnel="joint")[1],
                               atol=1e-5)


def test_partial_fit_over_chunks_equals_one_epoch_of_fit(log):
    X, Y, shards = log
    data = ShardedDataset(shards, FEATURES, TARGETS, chunk_rows=512)
    one_epoch = _est(standardize_targets=False).fit(data)
    streamed = _est(standardize_targets=False)
    chunks = list(data.iter_chunks())
    assert max(len(chunk) for chunk, _ in chunks) == 512
    for X_chunk, Y_chunk in chunks:
        streamed.partial_fit(X_chunk, Y_chunk, categories={
            "user_id": X["user_id"].unique(), "item_id": X["item_id"].unique()})
    assert len(streamed.history_) == len(chunks)
    _assert_same_parameters(streamed, one_epoch, atol=1e-6)
    # and partial_fit(data) is one pass over the shards
    passed = _est(standardize_targets=False).partial_fit(data)
    assert len(passed.history_) == 1
    _assert_same_parameters(passed, one_epoch, atol=0)


def test_shuffled_stream_reads_every_row_once_in_bounded_chunks(log, monkeypatch,
                                                               tmp_path):
    X, Y, _ = log
    frame = X.join(Y)
    frame["row"] = np.arange(len(frame))
    directory = tmp_path
    bounds = np.cumsum((0,) + SIZES)
    paths = [write_shard(directory / f"p{k}", frame.iloc[a:b])
             for k, (a, b) in enumerate(zip(bounds[:-1], bounds[1:]))]
    data = ShardedDataset(paths, ["row"], TARGETS, chunk_rows=300)
    read = []
    original = type(data._opened[0])._read

    def recording(self, column, start, stop):
        read.append(stop - start)
        return original(self, column, start, stop)

    monkeypatch.setattr(type(data._opened[0]), "_read", recording)
    torch.manual_seed(0)
    rows = np.concatenate([block["row"] for block in data.iter_blocks(shuffle=True)])
    assert max(read) <= 300
    assert sorted(rows.tolist()) == list(range(len(frame)))
    assert not np.array_equal(rows, np.arange(len(frame)))  # shuffled
    torch.manual_seed(0)
    again = np.concatenate([b["row"] for b in data.iter_blocks(shuffle=True)])
    np.testing.assert_array_equal(rows, again)


def test_shuffled_fit_on_shards_is_reproducible_and_learns(log):
    X, Y, shards = log
    data = ShardedDataset(shards, FEATURES, TARGETS, chunk_rows=700)
    first = _est(iterator_train__shuffle=True, max_epochs=3).fit(data)
    second = _est(iterator_train__shuffle=True, max_epochs=3).fit(data)
    _assert_same_parameters(first, second, atol=0)
    plain = _est(max_epochs=3).fit(data)
    assert not torch.equal(_parameters(first)["embeddings.0.weight"],
                           _parameters(plain)["embeddings.0.weight"])
    losses = first.history_[:, "train_loss"]
    assert losses[-1] < losses[0]


def test_declared_categories_and_unknown_ids(log):
    X, Y, _ = log
    first = X.iloc[:300]
    users = np.arange(100)  # more users than the log shows
    est = _est().partial_fit(first, Y.iloc[:300], categories=[users, [3, 1, 2]])
    np.testing.assert_array_equal(est.categories_[0], users)
    np.testing.assert_array_equal(est.categories_[1], [1, 2, 3])
    assert est.net_.module_.embeddings[0].num_embeddings == 101
    # ids not declared share the reserved row, in training and prediction
    est.partial_fit(X.iloc[300:600], Y.iloc[300:600])
    codes = est.input_encoder_.transform([np.array([5, 10 ** 12]),
                                          np.array([2, 7])])
    np.testing.assert_array_equal(codes, [[6, 2], [0, 0]])
    unseen = X.iloc[:2].copy()
    unseen["user_id"] = 10 ** 12
    assert np.isfinite(est.predict_proba(unseen)[0]).all()
    # without categories=, the first chunk's ids are the categories
    learned = _est().partial_fit(first, Y.iloc[:300])
    np.testing.assert_array_equal(learned.categories_[0],
                                  np.unique(first["user_id"]))
    # a dict may declare one column only
    one = _est().partial_fit(first, Y.iloc[:300], categories={"item_id": [0, 1]})
    np.testing.assert_array_equal(one.categories_[0], learned.categories_[0])
    np.testing.assert_array_equal(one.categories_[1], [0, 1])
    with pytest.raises(ValueError, match="'context_0', which is not categorical"):
        _est().partial_fit(first, Y.iloc[:300], categories={"context_0": [1]})
    with pytest.raises(ValueError, match="categories has 1 entries but there are 2"):
        _est().partial_fit(first, Y.iloc[:300], categories=[users])
    with pytest.raises(ValueError, match="no categorical column"):
        _est(categorical_features=None).partial_fit(
            first.iloc[:, 2:], Y.iloc[:300], categories=[users])


def test_stream_errors_name_the_problem(log, tmp_path):
    X, Y, shards = log
    tasks = [Task("click", "binary"), Task("kind", "classification")]
    frame = X.iloc[:256].join(Y[["click"]])
    frame["kind"] = np.arange(256) % 2
    est = _est(tasks=tasks).partial_fit(frame[FEATURES], frame[["click", "kind"]],
                                        classes={"kind": [0, 1]})
    frame.loc[frame.index[:3], "kind"] = 2
    with pytest.raises(ValueError, match="kind"):
        est.partial_fit(frame[FEATURES], frame[["click", "kind"]])
    # a chunk with other columns
    with pytest.raises(ValueError, match="feature names"):
        est.partial_fit(frame[FEATURES[::-1]], frame[["click", "kind"]])
    # a shard that lacks a column, or whose columns differ in length
    broken = write_shard(tmp_path / "broken", X.iloc[:10, :3])
    with pytest.raises(ValueError,
                       match=r"broken. has no column \[.context_1., .context_2."):
        ShardedDataset([shards[0], broken], FEATURES, TARGETS)
    np.save(tmp_path / "broken" / "click.npy", np.zeros(11))
    with pytest.raises(ValueError, match="columns of different lengths"):
        ShardedDataset([broken], FEATURES[:3], ["click"])
    with pytest.raises(ValueError, match="both features and targets"):
        ShardedDataset(shards, FEATURES, ["click", "user_id"])
    with pytest.raises(ValueError, match="does not exist"):
        ShardedDataset([tmp_path / "nowhere.npy"], FEATURES, TARGETS)
    data = ShardedDataset(shards, FEATURES, TARGETS, chunk_rows=1000)
    with pytest.raises(ValueError, match="without y"):
        _est().fit(data, Y)
    with pytest.raises(ValueError, match="do not pass classes"):
        _est().partial_fit(data, classes={"click": [0, 1]})
    accelerate = pytest.importorskip("accelerate")
    with pytest.raises(ValueError, match="not a ShardedDataset: pass the chunks"):
        _est(accelerator=accelerate.Accelerator(cpu=True)).fit(data)
    # targets the tasks do not read
    wrong = ShardedDataset(shards, FEATURES, ["click", "conversion"])
    with pytest.raises(ValueError, match=r"no column for \['dwell'\]"):
        _est().fit(wrong)


def test_pickle_after_streaming(log):
    X, Y, shards = log
    data = ShardedDataset(shards, FEATURES, TARGETS, chunk_rows=1000)
    est = _est().fit(data)
    est.partial_fit(*next(data.iter_chunks()))
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(loaded.predict_proba(X)[1],
                                  est.predict_proba(X)[1])
    loaded.partial_fit(data)  # goes on streaming
    assert len(loaded.history_) == 3
    assert pickle.loads(pickle.dumps(data)).n_rows == data.n_rows


def test_progress_bar_counts_rows(log, capsys):
    pytest.importorskip("tqdm")
    _, _, shards = log
    data = ShardedDataset(shards, FEATURES, TARGETS, chunk_rows=1000)
    _est(verbose=1).fit(data)
    err = capsys.readouterr().err
    assert "rows" in err and "4.99k/4.99k" in err


def test_parquet_shards_train_like_npy_shards(log, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    pa = pytest.importorskip("pyarrow")
    X, Y, shards = log
    frame = X.join(Y)
    bounds = np.cumsum((0,) + SIZES)
    paths = []
    for k, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
        paths.append(tmp_path / f"part-{k}.parquet")
        pq.write_table(pa.Table.from_pandas(frame.iloc[a:b], preserve_index=False),
                       paths[-1], row_group_size=300)
    from_parquet = _est().fit(ShardedDataset(paths, FEATURES, TARGETS,
                                             chunk_rows=500))
    from_npy = _est().fit(ShardedDataset(shards, FEATURES, TARGETS, chunk_rows=500))
    _assert_same_parameters(from_parquet, from_npy, atol=0)
    # shuffled: record batches of the row groups (300 rows), every row once
    data = ShardedDataset(paths, FEATURES, TARGETS, chunk_rows=500)
    torch.manual_seed(0)
    blocks = list(data.iter_blocks(shuffle=True))
    assert max(len(b["context_0"]) for b in blocks) <= 500
    np.testing.assert_array_equal(
        np.sort(np.concatenate([b["context_0"] for b in blocks])),
        np.sort(X["context_0"].to_numpy()))


def test_parquet_without_pyarrow_names_the_extra(log, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    (tmp_path / "part.parquet").write_bytes(b"PAR1")
    with pytest.raises(ImportError, match=r"skmtl\[parquet\]"):
        ShardedDataset([tmp_path / "part.parquet"], FEATURES, TARGETS)


def test_accelerator_trains_a_stream_of_chunks_as_without_one(log):
    accelerate = pytest.importorskip("accelerate")
    _, _, shards = log
    data = ShardedDataset(shards, FEATURES, TARGETS, chunk_rows=1024)
    categories = {"user_id": np.arange(300), "item_id": np.arange(25)}

    def stream(**params):
        est = _est(**params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeviceWarning)
            for X_chunk, Y_chunk in data.iter_chunks():
                est.partial_fit(X_chunk, Y_chunk, categories=categories)
        return est

    _assert_same_parameters(stream(accelerator=accelerate.Accelerator(cpu=True)),
                            stream())


def test_dense_lookup_of_integer_ids_matches_the_binary_search():
    from skmtl.neural._inputs import CategoricalEncoder

    rng = np.random.RandomState(0)
    ids = rng.randint(-50, 5000, 3000)
    encoder = CategoricalEncoder().fit([ids[:2000]])
    values = np.r_[ids, -10 ** 9, 10 ** 12, rng.randint(-100, 6000, 500)]
    codes = encoder.transform([values])[:, 0]
    categories = encoder.categories_[0]
    position = np.minimum(np.searchsorted(categories, values), len(categories) - 1)
    expected = np.where(categories[position] == values, position + 1, 0)
    np.testing.assert_array_equal(codes, expected)
    assert (codes == 0).sum() > 500  # unknown ids met
    # the table is built on first use and not pickled
    assert "_dense_tables" in vars(encoder)
    loaded = pickle.loads(pickle.dumps(encoder))
    assert "_dense_tables" not in vars(loaded)
    np.testing.assert_array_equal(loaded.transform([values])[:, 0], codes)
    # sparse ids (a span of 10**12) take the binary search
    sparse = CategoricalEncoder().fit([np.array([3, 10 ** 12])])
    np.testing.assert_array_equal(
        sparse.transform([np.array([10 ** 12, 4, 3])])[:, 0], [2, 0, 1])


@pytest.mark.parametrize("blocks", [
    [np.arange(5, 100) % 37, np.arange(-20, 300), np.full(9, 55)],  # dense
    [np.arange(10), np.array([10 ** 12, 3]), np.arange(20)],  # turns sparse
    [np.array(["b", "a"]), np.array(["c", "a", "a"])],
    [np.array([0.5, 0.25]), np.array([0.5])],
])
def test_id_counts_of_the_scan_merge_chunks_exactly(blocks):
    from skmtl.neural._stream import _Counts

    counts = _Counts()
    for block in blocks:
        counts.add(block)
    values, n = counts.result()
    expected_values, expected_n = np.unique(np.concatenate(blocks),
                                            return_counts=True)
    np.testing.assert_array_equal(values, expected_values)
    np.testing.assert_array_equal(n, expected_n)
