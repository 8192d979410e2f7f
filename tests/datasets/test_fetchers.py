"""Fetchers against MALSAR-shaped files made here, served offline.

Files are written with ``scipy.io.savemat`` (cell arrays as object arrays) and
served from a local directory (``file://``) or from an HTTP server on
127.0.0.1 in a thread: no test touches the internet.
"""

import functools
import hashlib
import http.server
import re
import threading
from pathlib import Path

import numpy as np
import pytest
from scipy.io import savemat
from sklearn.linear_model import LogisticRegression

from skmtl import SingleTaskBaseline
from skmtl.datasets import (
    clear_data_home,
    fetch_landmine,
    fetch_school,
    get_data_home,
)


def _cells(arrays):
    cell = np.empty((1, len(arrays)), dtype=object)
    for k, a in enumerate(arrays):
        cell[0, k] = a
    return cell


def _school_tasks(n_tasks=4, seed=0):
    rng = np.random.RandomState(seed)
    sizes = rng.randint(3, 9, size=n_tasks)
    Xs = [np.column_stack([rng.randn(n, 27), np.ones(n)]) for n in sizes]
    ys = [rng.randn(n, 1) * 10 + 30 for n in sizes]
    return Xs, ys


def _landmine_tasks(n_tasks=3, seed=1):
    rng = np.random.RandomState(seed)
    sizes = rng.randint(20, 30, size=n_tasks)
    Xs = [rng.randn(n, 9) for n in sizes]
    ys = [(X[:, :1] + 0.3 * rng.randn(len(X), 1) > 0).astype(float) for X in Xs]
    return Xs, ys


def _write(path, variables):
    savemat(path, {name: _cells(value) for name, value in variables.items()})
    return path


def _sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def school_file(tmp_path):
    Xs, ys = _school_tasks()
    source = tmp_path / "source"
    source.mkdir()
    return _write(source / "school.mat", {"X": Xs, "Y": ys}), Xs, ys


@pytest.fixture
def server(tmp_path):
    """An HTTP server on 127.0.0.1 serving ``tmp_path / "served"``; counts GETs."""
    root = tmp_path / "served"
    root.mkdir()
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{httpd.server_address[1]}", requests
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def test_school_parses_to_nan_masked_stack(school_file, tmp_path):
    path, Xs, ys = school_file
    data = fetch_school(data_home=tmp_path / "home", url=path.as_uri())
    n = sum(len(y) for y in ys)
    assert data.data.shape == (n, 27)
    assert data.target.shape == (n, 4)
    assert [t.name for t in data.tasks] == ["school_1", "school_2", "school_3",
                                            "school_4"]
    assert all(t.type == "regression" for t in data.tasks)
    start = 0
    for k, (Xk, yk) in enumerate(zip(Xs, ys, strict=True)):
        rows = slice(start, start + len(yk))
        np.testing.assert_array_equal(data.data[rows], Xk[:, :-1])
        np.testing.assert_array_equal(data.target[rows, k], yk.ravel())
        others = np.delete(data.target[rows], k, axis=1)
        assert np.isnan(others).all()
        np.testing.assert_array_equal(data.task_index[rows], k)
        start += len(yk)
    assert data.sha256 == _sha256(path)
    assert Path(data.filename) == tmp_path / "home" / "school.mat"


def test_school_as_frame_names_the_task_columns(school_file, tmp_path):
    path, _, _ = school_file
    data = fetch_school(data_home=tmp_path / "home", url=path.as_uri())
    X, Y = fetch_school(data_home=tmp_path / "home", return_X_y=True,
                        as_frame=True)
    assert list(Y.columns) == data.task_names
    assert list(X.columns) == data.feature_names
    np.testing.assert_array_equal(Y.to_numpy(), data.target)
    np.testing.assert_array_equal(X.to_numpy(), data.data)
    framed = fetch_school(data_home=tmp_path / "home", as_frame=True)
    assert list(framed.frame.columns) == data.feature_names + data.task_names


def test_school_per_task_and_constant_column(school_file, tmp_path):
    path, Xs, ys = school_file
    home = tmp_path / "home"
    Xs_out, ys_out = fetch_school(data_home=home, url=path.as_uri(), per_task=True,
                                  return_X_y=True, keep_constant=True)
    assert len(Xs_out) == len(ys_out) == 4
    for Xk, yk, Xo, yo in zip(Xs, ys, Xs_out, ys_out, strict=True):
        np.testing.assert_array_equal(Xo, Xk)
        assert Xo.shape[1] == 28
        np.testing.assert_array_equal(yo, yk.ravel())
    X, Y = fetch_school(data_home=home, return_X_y=True)
    assert X.shape[1] == 27


def test_school_refuses_to_drop_a_non_constant_column(tmp_path):
    Xs, ys = _school_tasks()
    Xs[2][0, -1] = 5.0
    path = _write(tmp_path / "school.mat", {"X": Xs, "Y": ys})
    with pytest.raises(ValueError, match="task 'school_3' is not the constant 1"):
        fetch_school(data_home=tmp_path / "home", url=path.as_uri())
    X, _ = fetch_school(data_home=tmp_path / "home", url=path.as_uri(),
                        keep_constant=True, return_X_y=True)
    assert X.shape[1] == 28


def test_landmine_parses_binary_tasks(tmp_path):
    Xs, ys = _landmine_tasks()
    path = _write(tmp_path / "LandmineData.mat", {"feature": Xs, "label": ys})
    data = fetch_landmine(data_home=tmp_path / "home", url=path.as_uri())
    n = sum(len(y) for y in ys)
    assert data.data.shape == (n, 9) and data.target.shape == (n, 3)
    assert [(t.name, t.type) for t in data.tasks] == [
        ("field_1", "binary"), ("field_2", "binary"), ("field_3", "binary")]
    np.testing.assert_array_equal(data.data, np.concatenate(Xs))
    labelled = ~np.isnan(data.target)
    np.testing.assert_array_equal(labelled.sum(axis=0), [len(y) for y in ys])
    np.testing.assert_array_equal(labelled.sum(axis=1), 1)
    np.testing.assert_array_equal(data.target[labelled], np.concatenate(ys).ravel())
    # The tasks plug straight into an estimator.
    model = SingleTaskBaseline(LogisticRegression(), tasks=data.tasks)
    model.fit(data.data, data.target)
    assert model.score(data.data, data.target) > 0.8
    assert [list(t.classes_) for t in model.tasks_] == [[0, 1]] * 3


def test_landmine_rejects_labels_other_than_0_1(tmp_path):
    Xs, ys = _landmine_tasks()
    ys[1][0, 0] = 2.0
    path = _write(tmp_path / "LandmineData.mat", {"feature": Xs, "label": ys})
    with pytest.raises(ValueError, match="task 'field_2' must be 0 or 1"):
        fetch_landmine(data_home=tmp_path / "home", url=path.as_uri())


@pytest.mark.parametrize("variables, message", [
    ({"X": None}, "has no variable 'Y'"),
    ({"Y": None}, "has no variable 'X'"),
    ({"X": "short", "Y": None}, "4 labels arrays|3 feature matrices but 4"),
    ({"X": "wide", "Y": None}, "task 'school_2' has 30 features, expected 28"),
    ({"X": None, "Y": "long"}, "task 'school_1' has"),
])
def test_school_layout_errors(tmp_path, variables, message):
    Xs, ys = _school_tasks()
    content = {}
    for name, how in variables.items():
        value = {"X": list(Xs), "Y": list(ys)}[name]
        if how == "short":
            value = value[:3]
        elif how == "wide":
            value[1] = np.ones((len(ys[1]), 30))
        elif how == "long":
            value[0] = np.ones((len(ys[0]) + 1, 1))
        content[name] = value
    path = _write(tmp_path / "school.mat", content)
    with pytest.raises(ValueError, match=message):
        fetch_school(data_home=tmp_path / "home", url=path.as_uri())


def test_school_rejects_a_plain_matrix_and_a_non_mat_file(tmp_path):
    path = tmp_path / "school.mat"
    savemat(path, {"X": np.ones((3, 28)), "Y": np.ones((3, 1))})
    with pytest.raises(ValueError, match="'X' must be a cell array"):
        fetch_school(data_home=tmp_path / "a", url=path.as_uri())
    path.write_bytes(b"this is not a MATLAB file at all" * 10)
    with pytest.raises(ValueError, match="not a readable MATLAB file"):
        fetch_school(data_home=tmp_path / "b", url=path.as_uri())


def test_http_download_happens_once(server, tmp_path):
    root, base_url, requests = server
    Xs, ys = _school_tasks()
    _write(root / "school.mat", {"X": Xs, "Y": ys})
    home = tmp_path / "home"
    first = fetch_school(data_home=home, url=f"{base_url}/school.mat")
    assert requests == ["/school.mat"]
    second = fetch_school(data_home=home, url=f"{base_url}/school.mat")
    assert requests == ["/school.mat"]  # served from the cache
    np.testing.assert_array_equal(first.data, second.data)
    np.testing.assert_array_equal(first.target, second.target)
    assert first.sha256 == second.sha256 == _sha256(root / "school.mat")
    # The cache holds the file and its recorded checksum, nothing else.
    assert sorted(p.name for p in home.iterdir()) == ["school.mat",
                                                       "school.mat.sha256.json"]


def test_http_checksum_mismatch_caches_nothing(server, tmp_path):
    root, base_url, requests = server
    Xs, ys = _landmine_tasks()
    _write(root / "LandmineData.mat", {"feature": Xs, "label": ys})
    home = tmp_path / "home"
    url = f"{base_url}/LandmineData.mat"
    with pytest.raises(OSError, match="has SHA-256 .* not the expected 0{64}"):
        fetch_landmine(data_home=home, url=url, sha256="0" * 64)
    assert list(home.iterdir()) == []
    good = _sha256(root / "LandmineData.mat")
    data = fetch_landmine(data_home=home, url=url, sha256=good.upper())
    assert data.sha256 == good
    assert len(requests) == 2


def test_http_error_caches_nothing(server, tmp_path):
    _, base_url, requests = server
    home = tmp_path / "home"
    with pytest.raises(OSError, match="404"):
        fetch_school(data_home=home, url=f"{base_url}/missing.mat")
    assert requests == ["/missing.mat"]
    assert list(home.iterdir()) == []


def test_corrupted_cache_is_detected(school_file, tmp_path):
    path, _, _ = school_file
    home = tmp_path / "home"
    fetch_school(data_home=home, url=path.as_uri())
    cached = home / "school.mat"
    cached.write_bytes(cached.read_bytes()[:-8] + b"\x00" * 8)
    with pytest.raises(OSError, match="cached file .* Delete it"):
        fetch_school(data_home=home, url=path.as_uri())
    # An explicit checksum is checked against the cache too.
    cached.unlink()
    fetch_school(data_home=home, url=path.as_uri())
    with pytest.raises(OSError, match="not the expected f{64}"):
        fetch_school(data_home=home, sha256="f" * 64)


def test_file_placed_by_hand_is_used_and_recorded(school_file, tmp_path):
    path, _, ys = school_file
    home = tmp_path / "home"
    home.mkdir()
    (home / "school.mat").write_bytes(path.read_bytes())
    X, Y = fetch_school(data_home=home, download_if_missing=False,
                        url="http://127.0.0.1:9/never-contacted.mat",
                        return_X_y=True)
    assert Y.shape == (sum(len(y) for y in ys), 4)
    record = (home / "school.mat.sha256.json").read_text()
    assert _sha256(path) in record


def test_missing_file_without_download(tmp_path):
    with pytest.raises(OSError, match="download_if_missing=False"):
        fetch_landmine(data_home=tmp_path, download_if_missing=False)


def test_data_home_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.delenv("SKMTL_DATA", raising=False)
    assert get_data_home() == tmp_path / "user" / "skmtl_data"
    monkeypatch.setenv("SKMTL_DATA", str(tmp_path / "env"))
    assert get_data_home() == tmp_path / "env"
    assert get_data_home(tmp_path / "arg") == tmp_path / "arg"
    assert (tmp_path / "env").is_dir() and (tmp_path / "arg").is_dir()
    assert get_data_home("~/x") == tmp_path / "user" / "x"
    clear_data_home()
    assert not (tmp_path / "env").exists()


def test_env_variable_routes_the_cache(school_file, tmp_path, monkeypatch):
    path, _, _ = school_file
    monkeypatch.setenv("SKMTL_DATA", str(tmp_path / "env"))
    fetch_school(url=path.as_uri())
    assert (tmp_path / "env" / "school.mat").exists()


@pytest.mark.parametrize("fetch, filename", [(fetch_school, "school.mat"),
                                             (fetch_landmine, "LandmineData.mat")])
def test_offline_fetch_says_which_file_to_put_where(fetch, filename, tmp_path,
                                                    monkeypatch):
    import urllib.error
    import urllib.request

    def offline(url, timeout=None):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name "
                                    "resolution")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    home = tmp_path / "home"
    with pytest.raises(OSError) as caught:
        fetch(data_home=home)
    message = str(caught.value)
    assert f"could not download {filename}" in message
    assert "name resolution" in message
    assert f"copy it to {home / filename}" in message
    assert "SKMTL_DATA" in message
    assert isinstance(caught.value.__cause__, urllib.error.URLError)
    assert list(home.iterdir()) == []
    with pytest.raises(OSError, match=re.escape(f"copy it to {home / filename}")):
        fetch(data_home=home, download_if_missing=False)
