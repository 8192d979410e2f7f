"""Palmer penguins: three tasks of three types on the same birds."""

import numpy as np
from sklearn.utils import Bunch

from ..tasks import Task

__all__ = ["load_penguins"]

MEASUREMENTS = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm"]
ISLANDS = ["Biscoe", "Dream", "Torgersen"]
TARGETS = ["species", "sex", "body_mass_g"]
SPECIES = ["Adelie", "Chinstrap", "Gentoo"]
SEXES = ["female", "male"]


def _import_palmerpenguins():
    try:
        import palmerpenguins
    except ImportError as exc:
        raise ImportError(
            "load_penguins needs the palmerpenguins package (and pandas); install "
            "them with: pip install 'skmtl[datasets]'"
        ) from exc
    return palmerpenguins


def load_penguins(*, return_X_y=False, as_frame=False):
    """The Palmer penguins: species, sex and body mass of 342 penguins.

    Three tasks of three types on the same birds, from their bill and flipper
    measurements and their island:

    =========== ============== ============================================
    task        type           labels
    =========== ============== ============================================
    species     classification ``"Adelie"``, ``"Chinstrap"``, ``"Gentoo"``
    sex         binary         ``"female"``, ``"male"``; missing for 9 birds
    body_mass_g regression     grams
    =========== ============== ============================================

    The features are ``bill_length_mm``, ``bill_depth_mm``,
    ``flipper_length_mm`` and the island, one-hot (``island_Biscoe``,
    ``island_Dream``, ``island_Torgersen``). The data ship with the
    ``palmerpenguins`` package (the ``datasets`` extra), so no download
    happens.

    The raw table has 344 birds; the 2 without any measurement (their
    features and body mass are all missing) are dropped, since features may
    not be missing. The 9 remaining birds whose sex was not recorded keep
    their row, with ``NaN`` in the ``sex`` column of ``Y``: the partly
    labelled setting.

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(X, Y)`` instead of a Bunch.
    as_frame : bool, default=False
        Return ``X`` and ``Y`` as pandas DataFrames (columns named as above;
        ``sex`` holds ``NaN`` where missing).

    Returns
    -------
    data : Bunch
        ``data``: ``X`` of shape (342, 6), float64; ``target``: ``Y`` of shape
        (342, 3), object dtype, holding the class labels as strings (species,
        sex; ``NaN`` where the sex is missing) and the body mass as float;
        ``tasks``: the three :class:`~skmtl.Task` objects, with their
        classes declared, to pass as ``tasks=`` to an estimator;
        ``feature_names``; ``target_names``; ``frame`` (the raw rows kept,
        with ``as_frame=True``); ``DESCR``.
    (X, Y) : tuple
        With ``return_X_y=True``.

    Raises
    ------
    ImportError
        If ``palmerpenguins`` (or pandas) is not installed.

    Notes
    -----
    Y keeps the labels as strings rather than integer codes: skmtl's
    estimators encode each classification task themselves (``classes_``) and
    predict the strings back. Label-encode ``Y[:, 0]`` and ``Y[:, 1]`` for a
    library that needs numbers.

    Reference: K. B. Gorman, T. D. Williams, W. R. Fraser, "Ecological sexual
    dimorphism and environmental variability within a community of Antarctic
    penguins (genus Pygoscelis)", PLoS ONE 9(3), 2014.

    Examples
    --------
    >>> from skmtl.datasets import load_penguins
    >>> data = load_penguins()
    >>> data.data.shape, data.target.shape
    ((342, 6), (342, 3))
    >>> [(t.name, t.type) for t in data.tasks]
    [('species', 'classification'), ('sex', 'binary'), ('body_mass_g', 'regression')]
    >>> data.target[0]
    array(['Adelie', 'male', 3750.0], dtype=object)
    """
    raw = _import_palmerpenguins().load_penguins()
    kept = raw.dropna(subset=MEASUREMENTS).reset_index(drop=True)
    if kept["body_mass_g"].isna().any():
        raise ValueError("palmerpenguins returned a bird with measurements but "
                         "no body mass; this loader does not expect that.")
    islands = kept["island"].to_numpy(dtype=object)
    for column, known in (("island", ISLANDS), ("species", SPECIES),
                          ("sex", SEXES)):
        unknown = set(kept[column].dropna()) - set(known)
        if unknown:
            raise ValueError(f"palmerpenguins returned unknown {column} values "
                             f"{sorted(unknown)}.")
    one_hot = (islands[:, None] == np.array(ISLANDS, dtype=object)).astype(float)
    X = np.column_stack([kept[MEASUREMENTS].to_numpy(dtype=float), one_hot])
    feature_names = MEASUREMENTS + [f"island_{name}" for name in ISLANDS]

    Y = np.empty((len(kept), len(TARGETS)), dtype=object)
    Y[:, 0] = kept["species"].to_numpy(dtype=object)
    sex = kept["sex"].to_numpy(dtype=object)
    Y[:, 1] = [value if isinstance(value, str) else np.nan for value in sex]
    Y[:, 2] = kept["body_mass_g"].to_numpy(dtype=float)
    tasks = [Task("species", "classification", classes=SPECIES),
             Task("sex", "binary", classes=SEXES),
             Task("body_mass_g", "regression")]

    frame = None
    if as_frame:
        import pandas as pd

        X = pd.DataFrame(X, columns=feature_names)
        Y = pd.DataFrame({"species": Y[:, 0], "sex": Y[:, 1],
                          "body_mass_g": Y[:, 2].astype(float)})
        frame = kept
    if return_X_y:
        return X, Y
    n_sex = int(sum(isinstance(v, str) for v in sex))
    descr = (f"Palmer penguins: {len(kept)} birds ({len(raw) - len(kept)} without "
             f"measurements dropped); species (3 classes), sex ({n_sex} labelled) "
             f"and body mass (g).")
    return Bunch(data=X, target=Y, tasks=tasks, feature_names=feature_names,
                 target_names=list(TARGETS), frame=frame, DESCR=descr)
