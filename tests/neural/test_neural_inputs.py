"""Inputs as users have them: sparse matrices, categorical and id columns,
dicts of named inputs, and the messages when X holds strings."""

import pickle

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from skorch.helper import SliceDict
from torch import nn

from skmtl import Task
from skmtl.neural import (
    CategoricalEncoder,
    EmbeddedInputs,
    MultiTaskEstimator,
    MultiTaskRegressor,
    SparseRows,
    TaskDataset,
    embedding_size,
)
from skmtl.neural.weighting import PCGrad

ARCHITECTURES = ["hard", "soft", "cross_stitch", "mmoe", "cgc", "ple"]


def _small(**params):
    defaults = dict(hidden_layer_sizes=(16,), lr=0.02, max_epochs=5, batch_size=32,
                    random_state=0)
    return MultiTaskRegressor(**{**defaults, **params})


# -- sparse X ----------------------------------------------------------------

def _sparse_problem(n=240, p=60, seed=0):
    rng = np.random.RandomState(seed)
    X = sp.random(n, p, density=0.05, random_state=rng, format="csr")
    w = rng.randn(p, 2)
    return X, X @ w


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_and_dense_inputs_train_the_same_network(fmt):
    X, Y = _sparse_problem()
    sparse = _small().fit(X.asformat(fmt), Y)
    dense = _small().fit(X.toarray(), Y)
    for (name, a), b in zip(sparse.net_.module_.state_dict().items(),
                            dense.net_.module_.state_dict().values()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=name)
    np.testing.assert_allclose(sparse.predict(X.asformat(fmt)),
                               dense.predict(X.toarray()), rtol=1e-5, atol=1e-6)


def test_sparse_matrix_is_densified_one_batch_at_a_time(monkeypatch):
    X, Y = _sparse_problem(n=10_000)
    densified = []
    owners = {cls for fmt in ("csr", "csc", "coo")
              for cls in type(X.asformat(fmt)).__mro__ if "toarray" in vars(cls)}
    for owner in owners:
        original = vars(owner)["toarray"]

        def spy(self, *args, _original=original, **kwargs):
            densified.append(self.shape[0])
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(owner, "toarray", spy)
    est = _small(batch_size=64, max_epochs=2).fit(X, Y)
    assert densified, "the spy saw no densification at all"
    assert max(densified) <= 64 and sum(densified) == 2 * 10_000  # two epochs
    densified.clear()
    est.predict(X)
    predict_batch = est.net_.get_params_for("iterator_valid")["batch_size"]
    assert max(densified) <= predict_batch < 10_000
    assert sum(densified) == 10_000


def test_sparse_rows_fetch_dense_float32_batches():
    X = sp.random(10, 7, density=0.3, random_state=0, format="csc")
    rows = SparseRows(X)
    assert sp.isspmatrix_csr(rows.matrix) or rows.matrix.format == "csr"
    np.testing.assert_array_equal(rows[2:5].numpy(),
                                  X.toarray()[2:5].astype(np.float32))
    np.testing.assert_array_equal(rows[torch.tensor([9, 0])].numpy(),
                                  X.toarray()[[9, 0]].astype(np.float32))
    ds = TaskDataset(X, np.ones((10, 1)))
    assert isinstance(ds.X, SparseRows)
    assert isinstance(ds.take([1, 2]).X, SparseRows)


def _table(n=400, seed=0):
    rng = np.random.RandomState(seed)
    df = pd.DataFrame({
        "age": rng.uniform(18, 80, n),
        "income": rng.lognormal(3, 1, n),
        "city": pd.Categorical(rng.choice(["paris", "lyon", "nice", "lille"], n)),
        "plan": rng.choice(["free", "pro", "team"], n).astype(object),
        "user_id": rng.randint(0, 300, n).astype(np.int64) + 10**9,
    })
    city_effect = df["city"].map({"paris": 2.0, "lyon": -1.0, "nice": 0.5,
                                  "lille": -1.5}).to_numpy(dtype=float)
    plan_effect = df["plan"].map({"free": -1.0, "pro": 1.0, "team": 0.0}).to_numpy()
    Y = np.c_[city_effect + 0.02 * (df["age"] - 50),
              plan_effect - city_effect]
    return df, Y


def test_pipeline_with_default_sparse_one_hot_encoder():
    df, Y = _table()
    encode = ColumnTransformer([
        ("numeric", StandardScaler(), ["age", "income"]),
        ("ids", OneHotEncoder(handle_unknown="ignore"), ["city", "plan", "user_id"]),
    ])
    assert sp.issparse(encode.fit_transform(df))  # the case the issue reports
    pipe = make_pipeline(encode, _small(max_epochs=30))
    pipe.fit(df, Y)
    assert pipe.predict(df).shape == (len(df), 2)
    assert pipe.score(df, Y) > 0.8


# -- categorical and id columns ----------------------------------------------

def test_encoder_learns_sorted_categories_and_maps_unknown_rare_missing_to_zero():
    values = np.array(["b", "a", "b", "c", "b", "a", None], dtype=object)
    enc = CategoricalEncoder(min_frequency=2).fit([values])
    assert enc.categories_[0].tolist() == ["a", "b"]  # "c" is rare
    assert enc.n_categories_ == [3]
    codes = enc.transform([np.array(["a", "b", "c", "zzz", None, np.nan],
                                    dtype=object)])
    assert codes[:, 0].tolist() == [1, 2, 0, 0, 0, 0]
    assert codes.dtype == np.int64
    frac = CategoricalEncoder(min_frequency=0.3).fit([values])  # >= 3 of 7 rows
    assert frac.categories_[0].tolist() == ["b"]
    with pytest.raises(ValueError, match="min_frequency"):
        CategoricalEncoder(min_frequency=-1).fit([values])


def test_ids_stay_int64_end_to_end():
    ids = np.array([16777216, 16777217] * 100, dtype=np.int64)
    assert np.float32(16777217) == np.float32(16777216)  # what float32 would do
    X = pd.DataFrame({"x": np.zeros(200), "id": ids})
    Y = (ids == 16777217).astype(float) * 4.0
    est = _small(categorical_features=["id"], max_epochs=40, lr=0.05).fit(X, Y)
    assert est.categories_[0].dtype == np.int64
    assert est.categories_[0].tolist() == [16777216, 16777217]
    pred = est.predict(X.iloc[:2])
    assert pred[1] - pred[0] > 3.0
    # an integer array too
    est = _small(categorical_features=[1], max_epochs=1).fit(
        np.c_[np.zeros(200, dtype=np.int64), ids], Y)
    assert est.categories_[0].tolist() == [16777216, 16777217]
    codes = est.input_encoder_.transform([ids[:2]])
    assert codes[:, 0].tolist() == [1, 2]


def test_from_dtype_names_indices_and_masks_select_the_same_columns():
    df, Y = _table(n=100)
    masks = []
    for spec in ("from_dtype", ["city", "plan"], [2, 3],
                 np.array([False, False, True, True, False])):
        est = _small(categorical_features=spec, max_epochs=1).fit(df, Y)
        masks.append(est.is_categorical_.tolist())
        assert [len(c) for c in est.categories_] == [4, 3]
    assert all(m == masks[0] for m in masks)
    with pytest.raises(ValueError, match="does not have"):
        _small(categorical_features=["town"]).fit(df, Y)
    with pytest.raises(ValueError, match=r"outside \[0, 4\]"):
        _small(categorical_features=[7]).fit(df, Y)


def test_embedding_sizes_follow_the_rule_or_embedding_dim():
    df, Y = _table(n=200)
    spec = ["city", "plan", "user_id"]
    est = _small(categorical_features=spec, max_epochs=1).fit(df, Y)
    tables = [n + 1 for n in map(len, est.categories_)]
    assert est.embedding_dims_ == [embedding_size(n) for n in tables]
    assert embedding_size(10**6) == 50 and embedding_size(5) == 4
    embeddings = est.net_.module_.embeddings
    assert [e.num_embeddings for e in embeddings] == tables
    assert [e.embedding_dim for e in embeddings] == est.embedding_dims_
    # the trunk reads the numeric columns and the embeddings
    first = est.net_.module_.module.trunk[0][1]
    assert first.in_features == 2 + sum(est.embedding_dims_)
    est = _small(categorical_features=spec, embedding_dim={"user_id": 7, 2: 3},
                 max_epochs=1).fit(df, Y)
    assert est.embedding_dims_ == [3, embedding_size(4), 7]
    assert _small(categorical_features=spec, embedding_dim=5,
                  max_epochs=1).fit(df, Y).embedding_dims_ == [5, 5, 5]
    with pytest.raises(ValueError, match="not categorical"):
        _small(categorical_features=spec, embedding_dim={"age": 3}).fit(df, Y)


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_every_architecture_learns_from_the_embedded_categories(architecture):
    df, Y = _table()
    est = _small(categorical_features="from_dtype", architecture=architecture,
                 max_epochs=40, lr=0.01)
    X = df[["city", "plan"]]  # only categorical columns: nothing else to learn
    est.fit(X, Y)
    assert isinstance(est.net_.module_, EmbeddedInputs)
    assert est.score(X, Y) > 0.9


def test_unknown_categories_at_predict_use_the_reserved_row():
    df, Y = _table(n=200)
    est = _small(categorical_features="from_dtype", max_epochs=2).fit(df, Y)
    new = df.iloc[:3].copy()
    new["plan"] = ["enterprise", None, "free"]
    new["city"] = pd.Categorical(["rome", "paris", "paris"])
    pred = est.predict(new)
    assert np.isfinite(pred).all()
    codes = est.input_encoder_.transform([new["city"].to_numpy(),
                                          new["plan"].to_numpy()])
    assert codes[:, 0].tolist() == [0, est.categories_[0].tolist().index("paris") + 1,
                                    est.categories_[0].tolist().index("paris") + 1]
    assert codes[:, 1].tolist()[:2] == [0, 0]
    # the reserved row starts at zero and is trained only on rare categories
    est = _small(categorical_features="from_dtype", min_frequency=1000,
                 max_epochs=2).fit(df, Y)
    assert [len(c) for c in est.categories_] == [0, 0]


def test_a_million_id_table_is_one_embedding_not_a_one_hot():
    n = 10**6
    rng = np.random.RandomState(0)
    ids = rng.permutation(n).astype(np.int64) + 2**40
    X = pd.DataFrame({"x": rng.randn(n), "item": ids})
    Y = X["x"].to_numpy()
    est = MultiTaskRegressor(categorical_features=["item"], embedding_dim=2,
                             sparse_embeddings=True, hidden_layer_sizes=(8,),
                             max_epochs=1, batch_size=8192, random_state=0)
    est.fit(X, Y)
    table = est.net_.module_.embeddings[0]
    assert table.num_embeddings == n + 1 and table.embedding_dim == 2
    n_parameters = sum(p.numel() for p in est.net_.module_.parameters())
    assert n_parameters < 2 * (n + 1) + 100  # the table and a tiny MLP
    assert est.predict(X.iloc[:5]).shape == (5,)


def test_sparse_embeddings_train_with_sparse_adam():
    df, Y = _table()
    est = _small(categorical_features="from_dtype", sparse_embeddings=True,
                 max_epochs=40, lr=0.01)
    X = df[["city", "plan"]]
    est.fit(X, Y)
    net = est.net_
    assert isinstance(net.sparse_optimizer_, torch.optim.SparseAdam)
    tables = {id(e.weight) for e in net.module_.embeddings}
    dense = {id(p) for group in net.optimizer_.param_groups for p in group["params"]}
    assert tables.isdisjoint(dense)
    assert net.module_.embeddings[0].weight.grad.is_sparse
    assert est.score(X, Y) > 0.9
    with pytest.raises(ValueError, match="sparse gradients"):
        _small(categorical_features="from_dtype", sparse_embeddings=True,
               weighting=PCGrad()).fit(X, Y)


def test_categorical_model_survives_pickle_with_identical_predictions():
    df, Y = _table(n=200)
    est = _small(categorical_features="from_dtype", sparse_embeddings=True,
                 max_epochs=3).fit(df, Y)
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(loaded.predict(df), est.predict(df))
    assert [c.tolist() for c in loaded.categories_] == [
        c.tolist() for c in est.categories_]


def test_dataframe_with_categories_in_grid_search_and_cross_validate():
    df, Y = _table(n=300)
    est = MultiTaskEstimator(tasks=[Task("a"), Task("b")],
                             categorical_features="from_dtype",
                             hidden_layer_sizes=(16,), max_epochs=15, lr=0.02,
                             batch_size=32, random_state=0)
    scores = cross_validate(est, df, Y, cv=KFold(3))["test_score"]
    assert scores.shape == (3,) and np.isfinite(scores).all()
    search = GridSearchCV(est, {"embedding_dim": [2, 4]}, cv=KFold(2)).fit(df, Y)
    assert search.best_params_["embedding_dim"] in (2, 4)
    assert search.predict(df).shape == (300, 2)


def test_columns_are_checked_against_the_fit():
    df, Y = _table(n=100)
    est = _small(categorical_features="from_dtype", max_epochs=1).fit(df, Y)
    with pytest.raises(ValueError, match="feature names"):
        est.predict(df[["income", "age", "city", "plan", "user_id"]])


# -- messages ----------------------------------------------------------------

def test_strings_in_x_name_the_column_and_point_to_categorical_features():
    df, Y = _table(n=50)
    with pytest.raises(ValueError, match=r"column 'city'.*categorical_features"):
        _small().fit(df, Y)
    with pytest.raises(ValueError, match=r"column 'plan'.*categorical_features"):
        _small(categorical_features=["city"]).fit(df, Y)
    X = np.c_[np.zeros(50), np.where(Y[:, 0] > 0, "yes", "no")].astype(object)
    X[:, 0] = 0.0
    with pytest.raises(ValueError, match=r"column 1 .*'(yes|no)'.*"
                                         r"categorical_features"):
        _small().fit(X, Y)
    est = _small(max_epochs=1).fit(df[["age", "income"]], Y)
    bad = df[["age", "income"]].astype(object)
    bad.iloc[0, 1] = "n/a"
    with pytest.raises(ValueError, match=r"column 'income'.*'n/a'"):
        est.predict(bad)


# -- named inputs ------------------------------------------------------------

class BagOfWords(nn.Module):
    """A text trunk: mean of the token embeddings, over the first ``lengths``."""

    calls = []

    def __init__(self, vocabulary_size=50, dim=8):
        super().__init__()
        self.embedding = nn.EmbeddingBag(vocabulary_size, dim, mode="sum")
        self.out_features = dim

    def forward(self, tokens, lengths):
        BagOfWords.calls.append((tuple(tokens.shape), tokens.dtype, lengths.dtype))
        keep = torch.arange(tokens.shape[1]) < lengths[:, None]
        summed = self.embedding(tokens.flatten(),
                                torch.arange(0, tokens.numel(), tokens.shape[1]),
                                per_sample_weights=keep.float().flatten())
        return summed / lengths.clamp(min=1)[:, None]


def _texts(n=240, seed=0):
    rng = np.random.RandomState(seed)
    tokens = rng.randint(0, 50, (n, 10)).astype(np.int64)
    lengths = rng.randint(1, 11, n).astype(np.int64)
    keep = np.arange(10) < lengths[:, None]
    Y = np.c_[((tokens < 25) & keep).sum(1) / lengths,
              ((tokens % 2 == 0) & keep).sum(1) / lengths]
    return SliceDict(tokens=tokens, lengths=lengths), Y


def test_named_inputs_reach_the_trunk_as_keyword_arguments_per_batch():
    X, Y = _texts()
    BagOfWords.calls.clear()
    est = _small(trunk=BagOfWords, max_epochs=60, batch_size=64, lr=0.05)
    est.fit(X, Y)
    shapes = {call[0] for call in BagOfWords.calls}
    assert (64, 10) in shapes and (240 - 3 * 64, 10) in shapes  # sliced batches
    assert {call[1:] for call in BagOfWords.calls} == {(torch.int64, torch.int64)}
    assert est.input_names_ == ["tokens", "lengths"]
    assert est.input_shape_ == {"tokens": (10,), "lengths": ()}
    assert est.score(X, Y) > 0.8
    plain = {"tokens": X["tokens"][:5], "lengths": X["lengths"][:5]}
    np.testing.assert_allclose(est.predict(plain), est.predict(X)[:5], rtol=1e-6)
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    with pytest.raises(ValueError, match="named inputs"):
        est.predict(X["tokens"])
    with pytest.raises(ValueError, match=r"\['lengths', 'words'\]"):
        est.predict({"words": X["tokens"], "lengths": X["lengths"]})


def test_named_inputs_in_cross_validation_and_soft_sharing():
    X, Y = _texts(n=150)
    scores = cross_validate(_small(trunk=BagOfWords, architecture="soft",
                                   max_epochs=5), X, Y, cv=3)["test_score"]
    assert scores.shape == (3,)


def test_named_inputs_messages():
    X, Y = _texts(n=60)
    with pytest.raises(TypeError, match="needs one input tensor.*'hard' or 'soft'"):
        _small(trunk=BagOfWords, architecture="mmoe").fit(X, Y)

    class NoSize(BagOfWords):
        def __init__(self):
            super().__init__()
            del self.out_features

    with pytest.raises(ValueError, match="out_features"):
        _small(trunk=NoSize).fit(X, Y)
    with pytest.raises(ValueError, match="different numbers of samples"):
        _small(trunk=BagOfWords).fit({"tokens": X["tokens"],
                                      "lengths": X["lengths"][:-1]}, Y)
    with pytest.raises(ValueError, match="categorical_features applies"):
        _small(trunk=BagOfWords, categorical_features=[0]).fit(X, Y)
