"""Download-once fetchers for the standard multi-task benchmarks (MALSAR files).

A fetcher downloads its file once into the data home, checks its SHA-256 and
parses it; later calls read the cached file and check it again. No checksum is
published for these files, so unless one is passed (``sha256=``) the checksum
of the first download is recorded next to the file and every later call
verifies the cached file against it.
"""

import hashlib
import json
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from .._stacking import stack_tasks
from ..tasks import Task

__all__ = ["get_data_home", "clear_data_home", "fetch_school", "fetch_landmine"]

# Pinned to a commit so that the bytes behind the URL cannot change.
SCHOOL_URL = ("https://raw.githubusercontent.com/jiayuzhou/MALSAR/"
              "ca3d55b878cc4113f0d9603e8ac46538aeb1ecd9/data/school.mat")
# MALSAR's repository does not hold LandmineData.mat (its original home,
# www.ee.duke.edu/~lcarin/LandmineData.zip, is gone); this is a public copy.
LANDMINE_URL = ("https://raw.githubusercontent.com/daizhongxiang/"
                "Federated_Bayesian_Optimization/"
                "9f46a1dfbbcfd5823e026ad9418a4cb881676ae9/LandmineData.mat")
# Checksums skmtl knows for the default URLs. None: not yet known (the files
# could not be downloaded when the fetchers were written), so the checksum of
# the first download is recorded and verified afterwards.
KNOWN_SHA256 = {SCHOOL_URL: None, LANDMINE_URL: None}

_CHUNK = 1 << 16


def get_data_home(data_home=None):
    """The folder where fetchers cache their files, created if needed.

    By order of precedence: the ``data_home`` argument, the ``SKMTL_DATA``
    environment variable, then ``~/skmtl_data``. ``~`` is expanded.

    Parameters
    ----------
    data_home : str or path-like, default=None

    Returns
    -------
    data_home : pathlib.Path

    Examples
    --------
    >>> import tempfile
    >>> from skmtl.datasets import get_data_home
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     get_data_home(tmp).is_dir()
    True
    """
    if data_home is None:
        data_home = os.environ.get("SKMTL_DATA") or Path("~") / "skmtl_data"
    data_home = Path(data_home).expanduser()
    data_home.mkdir(parents=True, exist_ok=True)
    return data_home


def clear_data_home(data_home=None):
    """Delete the data home and every file cached in it.

    Parameters
    ----------
    data_home : str or path-like, default=None
        As in :func:`get_data_home`.
    """
    shutil.rmtree(get_data_home(data_home))


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _record_path(path):
    return path.with_name(path.name + ".sha256.json")


def _read_record(path):
    record = _record_path(path)
    if not record.exists():
        return None
    return json.loads(record.read_text())


def _write_record(path, url, sha256):
    _record_path(path).write_text(json.dumps({"url": url, "sha256": sha256}))


def _download(url, destination, expected):
    """Stream ``url`` into ``destination`` atomically; return its SHA-256."""
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(dir=destination.parent, prefix=destination.name,
                               suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url,
                                                                timeout=60) as src:
            for chunk in iter(lambda: src.read(_CHUNK), b""):
                digest.update(chunk)
                out.write(chunk)
        actual = digest.hexdigest()
        if expected is not None and actual != expected.lower():
            raise OSError(
                f"the file downloaded from {url} has SHA-256 {actual}, not the "
                f"expected {expected}: it is corrupted or has changed. Nothing "
                f"was cached; check the URL or pass the right sha256=."
            )
        os.replace(tmp, destination)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return actual


def _by_hand(filename, url, path):
    """How to provide a data file without network access."""
    return (f"To work offline, download {url} on a machine with network access "
            f"and copy it to {path} (the data home is the data_home= argument, "
            f"else the SKMTL_DATA environment variable, else ~/skmtl_data); the "
            f"fetcher then reads it from there, records its SHA-256 in "
            f"{path.name}.sha256.json and checks it on every later call.")


def _fetch_file(filename, url, sha256, data_home, download_if_missing):
    """Path of the verified cached file, downloading it on first use.

    Returns
    -------
    path : pathlib.Path
    sha256 : str
        Checksum of the file.
    """
    path = get_data_home(data_home) / filename
    expected = sha256 if sha256 is not None else KNOWN_SHA256.get(url)
    if path.exists():
        record = _read_record(path)
        actual = _sha256(path)
        if expected is None and record is not None:
            expected = record["sha256"]
        if expected is not None and actual != expected.lower():
            raise OSError(
                f"the cached file {path} has SHA-256 {actual}, not the expected "
                f"{expected}: it is corrupted or was replaced. Delete it to "
                f"download it again."
            )
        if record is None:
            _write_record(path, None, actual)
        return path, actual
    if not download_if_missing:
        raise OSError(f"{filename} is not in the data home {path.parent} and "
                      f"download_if_missing=False. {_by_hand(filename, url, path)}")
    try:
        actual = _download(url, path, expected)
    except urllib.error.URLError as exc:  # offline, DNS, proxy, HTTP error
        raise OSError(f"could not download {filename} from {url} "
                      f"({getattr(exc, 'reason', exc)}; {exc}). "
                      f"{_by_hand(filename, url, path)}") from exc
    except TimeoutError as exc:
        raise OSError(f"downloading {filename} from {url} timed out. "
                      f"{_by_hand(filename, url, path)}") from exc
    _write_record(path, url, actual)
    return path, actual


def _load_cells(path, names):
    """The named cell arrays of a MATLAB file, as lists of 2-D float arrays."""
    from scipy.io import loadmat

    try:
        content = loadmat(path)
    except NotImplementedError as exc:  # MATLAB v7.3 files are HDF5
        raise ValueError(f"{path} is a MATLAB v7.3 (HDF5) file; save it with "
                         f"-v7 to read it.") from exc
    except ValueError as exc:
        raise ValueError(f"{path} is not a readable MATLAB file: {exc}") from exc
    cells = []
    for name in names:
        if name not in content:
            found = sorted(k for k in content if not k.startswith("__"))
            raise ValueError(f"{path} has no variable {name!r}; it holds {found}.")
        value = content[name]
        if value.dtype != object:
            raise ValueError(f"{path}: {name!r} must be a cell array (one entry "
                             f"per task), got a {value.dtype} array.")
        cells.append([np.atleast_2d(np.asarray(c, dtype=np.float64))
                      for c in value.ravel()])
    return cells


def _check_tasks(path, Xs, ys, task_names, n_features):
    if len(Xs) != len(ys):
        raise ValueError(f"{path}: {len(Xs)} feature matrices but {len(ys)} label "
                         f"arrays; the file must hold one of each per task.")
    out_ys = []
    for name, Xk, yk in zip(task_names, Xs, ys, strict=True):
        if Xk.shape[1] != n_features:
            raise ValueError(f"{path}: task {name!r} has {Xk.shape[1]} features, "
                             f"expected {n_features}.")
        if yk.size != Xk.shape[0]:
            raise ValueError(f"{path}: task {name!r} has {Xk.shape[0]} samples but "
                             f"{yk.size} labels.")
        out_ys.append(yk.ravel())
    return out_ys


def _result(Xs, ys, tasks, path, sha256, descr, return_X_y, per_task,
            as_frame=False):
    if per_task:
        return (Xs, ys) if return_X_y else Bunch(
            data=Xs, target=ys, tasks=tasks, task_names=[t.name for t in tasks],
            filename=str(path), sha256=sha256, DESCR=descr)
    X, Y = stack_tasks(Xs, ys)
    feature_names = [f"feature_{j}" for j in range(X.shape[1])]
    frame = None
    if as_frame:
        import pandas as pd

        X = pd.DataFrame(X, columns=feature_names)
        Y = pd.DataFrame(Y, columns=[t.name for t in tasks])
        frame = pd.concat([X, Y], axis=1)
    if return_X_y:
        return X, Y
    task_index = np.repeat(np.arange(len(Xs)), [len(y) for y in ys])
    return Bunch(data=X, target=Y, tasks=tasks, task_names=[t.name for t in tasks],
                 feature_names=feature_names, task_index=task_index, frame=frame,
                 filename=str(path), sha256=sha256, DESCR=descr)


def fetch_school(data_home=None, *, url=SCHOOL_URL, sha256=None,
                 download_if_missing=True, return_X_y=False, per_task=False,
                 keep_constant=False, as_frame=False):
    """The school data set: exam scores of 15,362 students in 139 schools.

    Each school is a regression task: predict a student's exam score from
    27 features: the year of the exam; the student's gender, verbal reasoning
    band and ethnic group; the school's percentages of students eligible for
    free meals and in the top verbal reasoning band, its gender and its
    denomination (categorical attributes are one-hot). The Inner London
    Education Authority data as distributed with MALSAR (``data/school.mat``),
    the standard multi-task regression benchmark. Tasks have their own
    students, so every row of ``Y`` is labelled for one task only.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Cache folder; None uses ``SKMTL_DATA`` or ``~/skmtl_data`` (see
        :func:`get_data_home`).
    url : str, default=SCHOOL_URL
        Where to download the file from (``https://``, ``http://`` or
        ``file://``). A cached file is used whatever ``url`` says: delete it
        (or choose another ``data_home``) to download again.
    sha256 : str, default=None
        Expected SHA-256 of the file, checked after download and on every
        call. None uses the checksum skmtl knows for the default URL; none is
        known yet, so the checksum of the first download (or of a file placed
        in the data home by hand) is recorded in ``school.mat.sha256.json``
        and every later call checks the cached file against it.
    download_if_missing : bool, default=True
        If False, raise ``OSError`` instead of downloading a missing file.
    return_X_y : bool, default=False
        Return ``(X, Y)`` instead of a Bunch.
    per_task : bool, default=False
        Return per-task lists (``Xs[k]``, ``ys[k]`` for task ``k``) instead of
        the stacked ``X`` and NaN-masked ``Y``.
    keep_constant : bool, default=False
        Keep MALSAR's last feature column, a constant 1 standing for the
        intercept. Dropped by default, since estimators fit intercepts.
    as_frame : bool, default=False
        Return ``X`` and ``Y`` as pandas DataFrames (features
        ``feature_0``, ...; one column of ``Y`` per task, named after it, so
        that an estimator matches them to its tasks by name). Ignored with
        ``per_task=True``.

    Returns
    -------
    data : Bunch
        ``data``: ``X`` of shape (15362, 27); ``target``: ``Y`` of shape
        (15362, 139), NaN-masked (with ``per_task=True``: lists of per-task
        arrays); ``tasks``: one regression :class:`~skmtl.Task` per school,
        named ``"school_1"`` to ``"school_139"`` in the file's order;
        ``task_index`` (stacked form only): the task of each row, for
        ``GroupKFold``; ``feature_names`` and ``frame`` (``X`` and ``Y`` side
        by side with ``as_frame=True``, else None; stacked form only);
        ``filename``; ``sha256``; ``DESCR``.
    (X, Y) : tuple
        With ``return_X_y=True``.

    Raises
    ------
    OSError
        If the file is missing and cannot be downloaded (the message says
        where to put a copy made elsewhere, for machines without network
        access), or if its SHA-256 differs from the expected one (a failed
        download caches nothing).
    ValueError
        If the file does not have the expected layout.

    Notes
    -----
    The file holds two 1×139 cell arrays: ``X{t}`` of shape (n_t, 28) with a
    constant last column, and ``Y{t}`` of shape (n_t, 1).

    References: H. Goldstein, "Multilevel modelling of survey data", The
    Statistician 40, 1991; A. Argyriou, T. Evgeniou, M. Pontil, "Convex
    multi-task feature learning", Machine Learning 73, 2008; J. Zhou, J. Chen,
    J. Ye, "MALSAR: Multi-tAsk Learning via StructurAl Regularization", 2011.

    Examples
    --------
    >>> from skmtl.datasets import fetch_school
    >>> X, Y = fetch_school(return_X_y=True)  # doctest: +SKIP
    >>> X.shape, Y.shape  # doctest: +SKIP
    ((15362, 27), (15362, 139))
    """
    path, checksum = _fetch_file("school.mat", url, sha256, data_home,
                                 download_if_missing)
    Xs, ys = _load_cells(path, ["X", "Y"])
    names = [f"school_{k + 1}" for k in range(len(Xs))]
    ys = _check_tasks(path, Xs, ys, names, Xs[0].shape[1] if Xs else 0)
    if not keep_constant:
        for name, Xk in zip(names, Xs, strict=True):
            if not np.all(Xk[:, -1] == 1):
                raise ValueError(
                    f"{path}: the last feature of task {name!r} is not the "
                    f"constant 1 of MALSAR's school.mat; pass keep_constant=True "
                    f"to keep every column.")
        Xs = [Xk[:, :-1] for Xk in Xs]
    tasks = [Task(name, "regression") for name in names]
    descr = (f"School data (MALSAR): {len(Xs)} schools, "
             f"{sum(len(y) for y in ys)} students, exam score regression.")
    return _result(Xs, ys, tasks, path, checksum, descr, return_X_y, per_task,
                   as_frame)


def fetch_landmine(data_home=None, *, url=LANDMINE_URL, sha256=None,
                   download_if_missing=True, return_X_y=False, per_task=False,
                   as_frame=False):
    """The landmine data set: mine detection in 29 minefields.

    Each minefield is a binary classification task: does a radar image
    region (9 features: four moment-based, three correlation-based, one
    energy-ratio and one spatial-variance feature) show a landmine (1) or
    clutter (0)? Fields 1-15 are highly foliated, fields 16-29 bare earth
    or desert. The standard multi-task classification benchmark
    (``LandmineData.mat``); labels are rare (about 6% mines).

    Parameters
    ----------
    data_home : str or path-like, default=None
        Cache folder; None uses ``SKMTL_DATA`` or ``~/skmtl_data`` (see
        :func:`get_data_home`).
    url : str, default=LANDMINE_URL
        Where to download the file from (``https://``, ``http://`` or
        ``file://``). A cached file is used whatever ``url`` says: delete it
        (or choose another ``data_home``) to download again.
    sha256 : str, default=None
        Expected SHA-256 of the file, checked after download and on every
        call. None uses the checksum skmtl knows for the default URL; none is
        known yet, so the checksum of the first download (or of a file placed
        in the data home by hand) is recorded in
        ``LandmineData.mat.sha256.json`` and every later call checks the
        cached file against it.
    download_if_missing : bool, default=True
        If False, raise ``OSError`` instead of downloading a missing file.
    return_X_y : bool, default=False
        Return ``(X, Y)`` instead of a Bunch.
    per_task : bool, default=False
        Return per-task lists (``Xs[k]``, ``ys[k]`` for task ``k``) instead of
        the stacked ``X`` and NaN-masked ``Y``.
    as_frame : bool, default=False
        ``X`` and ``Y`` as DataFrames, ``Y``'s columns named after the tasks,
        as in :func:`fetch_school`.

    Returns
    -------
    data : Bunch
        ``data``: ``X`` of shape (14820, 9); ``target``: ``Y`` of shape
        (14820, 29), 0/1 labels, NaN-masked (with ``per_task=True``: lists of
        per-task arrays); ``tasks``: one binary :class:`~skmtl.Task` per
        field, named ``"field_1"`` to ``"field_29"``; ``task_index``,
        ``feature_names`` and ``frame`` (stacked form only, as in
        :func:`fetch_school`); ``filename``; ``sha256``; ``DESCR``.
    (X, Y) : tuple
        With ``return_X_y=True``.

    Raises
    ------
    OSError
        If the file is missing and cannot be downloaded (the message says
        where to put a copy made elsewhere, for machines without network
        access), or if its SHA-256 differs from the expected one (a failed
        download caches nothing).
    ValueError
        If the file does not have the expected layout.

    Notes
    -----
    The file holds two 1×29 cell arrays: ``feature{t}`` of shape (n_t, 9) and
    ``label{t}`` of shape (n_t, 1).

    Reference: Y. Xue, X. Liao, L. Carin, B. Krishnapuram, "Multi-task
    learning for classification with Dirichlet process priors", JMLR 8, 2007.

    Examples
    --------
    >>> from skmtl.datasets import fetch_landmine
    >>> X, Y = fetch_landmine(return_X_y=True)  # doctest: +SKIP
    >>> X.shape, Y.shape  # doctest: +SKIP
    ((14820, 9), (14820, 29))
    """
    path, checksum = _fetch_file("LandmineData.mat", url, sha256, data_home,
                                 download_if_missing)
    Xs, ys = _load_cells(path, ["feature", "label"])
    names = [f"field_{k + 1}" for k in range(len(Xs))]
    ys = _check_tasks(path, Xs, ys, names, Xs[0].shape[1] if Xs else 0)
    for name, yk in zip(names, ys, strict=True):
        if not np.all(np.isin(yk, (0.0, 1.0))):
            raise ValueError(f"{path}: labels of task {name!r} must be 0 or 1, "
                             f"found {np.setdiff1d(yk, (0.0, 1.0))[:3].tolist()}.")
    tasks = [Task(name, "binary", classes=[0, 1]) for name in names]
    descr = (f"Landmine data: {len(Xs)} minefields, {sum(len(y) for y in ys)} "
             f"regions, mine (1) / clutter (0) classification.")
    return _result(Xs, ys, tasks, path, checksum, descr, return_X_y, per_task,
                   as_frame)

