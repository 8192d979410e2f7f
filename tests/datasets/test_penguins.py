"""load_penguins: three task types on the same birds, from the pip package."""

import sys

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmtl import SingleTaskBaseline
from skmtl.datasets import load_penguins
from skmtl.metrics import make_multitask_scorer, per_task_scores

palmerpenguins = pytest.importorskip("palmerpenguins")


def test_shapes_tasks_and_missing_sex():
    data = load_penguins()
    X, Y = data.data, data.target
    assert X.shape == (342, 6) and X.dtype == np.float64
    assert Y.shape == (342, 3) and Y.dtype == object
    assert not np.isnan(X).any()
    assert [list(t.classes or []) for t in data.tasks] == [
        ["Adelie", "Chinstrap", "Gentoo"], ["female", "male"], []]
    assert [(t.name, t.type) for t in data.tasks] == [
        ("species", "classification"), ("sex", "binary"),
        ("body_mass_g", "regression")]
    assert data.feature_names == ["bill_length_mm", "bill_depth_mm",
                                  "flipper_length_mm", "island_Biscoe",
                                  "island_Dream", "island_Torgersen"]
    np.testing.assert_array_equal(X[:, 3:].sum(axis=1), 1.0)
    # Raw table: 152 Adelie, 68 Chinstrap, 124 Gentoo; the two birds without
    # measurements (one Adelie, one Gentoo) are dropped.
    species, counts = np.unique(Y[:, 0].astype(str), return_counts=True)
    assert species.tolist() == ["Adelie", "Chinstrap", "Gentoo"]
    assert counts.tolist() == [151, 68, 123]
    sex_missing = [not isinstance(v, str) for v in Y[:, 1]]
    assert sum(sex_missing) == 9
    assert all(np.isnan(v) for v, m in zip(Y[:, 1], sex_missing, strict=True) if m)
    assert set(Y[~np.array(sex_missing), 1]) == {"female", "male"}
    assert np.asarray(Y[:, 2], dtype=float).min() == 2700.0


def test_rows_match_the_raw_table():
    raw = palmerpenguins.load_penguins()
    X, Y = load_penguins(return_X_y=True)
    kept = raw.dropna(subset=["bill_length_mm"]).reset_index(drop=True)
    np.testing.assert_array_equal(
        X[:, :3], kept[["bill_length_mm", "bill_depth_mm",
                        "flipper_length_mm"]].to_numpy())
    np.testing.assert_array_equal(X[:, 5], kept["island"] == "Torgersen")
    np.testing.assert_array_equal(Y[:, 2].astype(float), kept["body_mass_g"])
    np.testing.assert_array_equal(Y[:, 0], kept["species"].to_numpy(dtype=object))


def test_as_frame():
    X, Y = load_penguins(as_frame=True, return_X_y=True)
    assert list(X.columns)[:3] == ["bill_length_mm", "bill_depth_mm",
                                   "flipper_length_mm"]
    assert list(Y.columns) == ["species", "sex", "body_mass_g"]
    assert Y["sex"].isna().sum() == 9
    assert Y["body_mass_g"].dtype == np.float64
    data = load_penguins(as_frame=True)
    assert data.frame.shape == (342, 8)


def test_fits_mixed_tasks_from_frames():
    data = load_penguins(as_frame=True)
    scaled = make_pipeline(StandardScaler(), LogisticRegression())
    model = SingleTaskBaseline({"classification": scaled, "binary": scaled,
                                "regression": Ridge()}, tasks=data.tasks)
    model.fit(data.data, data.target)
    prediction = model.predict(data.data)
    assert set(prediction[:, 0]) <= {"Adelie", "Chinstrap", "Gentoo"}
    assert set(prediction[:, 1]) <= {"female", "male"}
    table = per_task_scores(data.target, prediction, model.tasks_, as_frame=False)
    assert table["n_labelled"].tolist() == [342, 333, 342]
    species, sex, mass = table["score"]
    assert species > 0.97 and sex > 0.75 and mass > 0.7
    # Rows are sorted by species: declared classes let a fold miss one.
    cv = cross_val_score(model, data.data, data.target, cv=KFold(3),
                         scoring=make_multitask_scorer())
    assert np.all(np.isfinite(cv))
    cv = cross_val_score(model, data.data, data.target,
                         cv=KFold(3, shuffle=True, random_state=0),
                         scoring=make_multitask_scorer())
    assert np.all(cv > 0.8)


def test_missing_package_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "palmerpenguins", None)
    with pytest.raises(ImportError, match=r"pip install 'skmtl\[datasets\]'"):
        load_penguins()
