"""Heatmaps of a fitted model: coefficients (features × tasks), task similarity."""

import numpy as np

from ._base import _check_names, _draw_heatmap, _figure_and_axes, task_coefficients

__all__ = ["CoefficientHeatmapDisplay", "TaskSimilarityDisplay"]


class CoefficientHeatmapDisplay:
    """Heatmap of the coefficients of a linear multi-task model: features × tasks.

    One row per feature, one column per task; the colour scale is symmetric
    around zero, so a feature that no task uses (a zero row, as joint feature
    selection produces) is a white stripe. Build it with
    :meth:`from_estimator`, or from a coefficient matrix and :meth:`plot`.

    Parameters
    ----------
    coef : array-like of shape (n_tasks, n_features)
        Coefficients, one row per task, as ``coef_`` of a multi-task linear
        model.
    feature_names : list of str, default=None
        Names of the features; ``"x0"``, ``"x1"``, ... by default.
    task_names : list of str, default=None
        Names of the tasks; ``"task_0"``, ... by default.

    Attributes
    ----------
    im_ : matplotlib AxesImage
        The heatmap; ``im_.get_array()`` is the features × tasks matrix shown.
    colorbar_ : matplotlib Colorbar or None
    text_ : ndarray of matplotlib Text or None
        Cell annotations, with ``include_values=True``.
    feature_indices_ : ndarray of int
        The features shown, in row order (all of them unless
        ``max_features`` is set).
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    See Also
    --------
    TaskSimilarityDisplay : Which tasks resemble each other.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.linear_model import MultiTaskLasso
    >>> from skmtl.datasets import make_multitask_regression
    >>> from skmtl.plotting import CoefficientHeatmapDisplay
    >>> X, Y = make_multitask_regression(n_samples=80, n_features=10, n_tasks=4,
    ...                                  n_informative=3, random_state=0)
    >>> model = MultiTaskLasso(alpha=0.5).fit(X, Y)
    >>> display = CoefficientHeatmapDisplay.from_estimator(model)
    >>> display.im_.get_array().shape
    (10, 4)
    """

    def __init__(self, coef, *, feature_names=None, task_names=None):
        self.coef = coef
        self.feature_names = feature_names
        self.task_names = task_names

    def plot(self, ax=None, *, max_features=None, cmap="RdBu_r", colorbar=True,
             include_values=False, values_format=".2g", im_kw=None):
        """Draw the heatmap.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure by default.
        max_features : int, default=None
            Show only the ``max_features`` features with the largest
            coefficient norm across tasks (kept in their original order).
        cmap : str or Colormap, default="RdBu_r"
            A diverging colormap suits the symmetric scale.
        colorbar : bool, default=True
        include_values : bool, default=False
            Write each coefficient in its cell.
        values_format : str, default=".2g"
            Format of the written values.
        im_kw : dict, default=None
            Passed to ``imshow``, overriding the defaults above.

        Returns
        -------
        self : CoefficientHeatmapDisplay
        """
        coef = np.asarray(self.coef, dtype=float)
        if coef.ndim == 1:
            coef = coef[None, :]
        if coef.ndim != 2 or not np.all(np.isfinite(coef)):
            raise ValueError(f"coef must be a finite (n_tasks, n_features) matrix, "
                             f"got shape {coef.shape}.")
        n_tasks, n_features = coef.shape
        features = _check_names(self.feature_names, n_features, "feature", "x")
        tasks = _check_names(self.task_names, n_tasks, "task", "task_")
        shown = np.arange(n_features)
        if max_features is not None:
            if int(max_features) < 1:
                raise ValueError(f"max_features must be >= 1, got {max_features}.")
            norms = np.linalg.norm(coef, axis=0)
            shown = np.sort(np.argsort(-norms, kind="stable")[:int(max_features)])
        data = coef[:, shown].T
        limit = float(np.abs(data).max()) or 1.0
        fig, ax = _figure_and_axes(ax)
        self.im_, self.colorbar_, self.text_ = _draw_heatmap(
            ax, data, row_labels=[features[j] for j in shown],
            column_labels=tasks, cmap=cmap, vmin=-limit, vmax=limit,
            colorbar=colorbar, colorbar_label="coefficient",
            include_values=include_values, values_format=values_format,
            im_kw=im_kw)
        ax.set_xlabel("task")
        ax.set_ylabel("feature")
        self.feature_indices_ = shown
        self.ax_, self.figure_ = ax, fig
        return self

    @classmethod
    def from_estimator(cls, estimator, *, feature_names=None, task_names=None,
                       ax=None, max_features=None, cmap="RdBu_r", colorbar=True,
                       include_values=False, values_format=".2g", im_kw=None):
        """Heatmap of a fitted linear model's coefficients.

        Parameters
        ----------
        estimator : fitted estimator
            A model with ``coef_`` of shape (n_tasks, n_features) (skmtl's
            linear models, scikit-learn's ``MultiTaskLasso``, multi-output
            ``Ridge``), or a :class:`~skmtl.SingleTaskBaseline` of linear
            models (a task whose model has one row per class shows one
            column per class); a ``Pipeline`` or fitted search around one.
        feature_names, task_names : list of str, default=None
            Override the names found on the estimator (``feature_names_in_``,
            the ``Pipeline``'s ``get_feature_names_out``, ``tasks_``).
        ax, max_features, cmap, colorbar, include_values, values_format, im_kw
            As in :meth:`plot`.

        Returns
        -------
        display : CoefficientHeatmapDisplay

        Raises
        ------
        TypeError
            If the estimator (or a task's model) has no ``coef_``.
        """
        coef, labels, found_features = task_coefficients(estimator)
        display = cls(coef,
                      feature_names=(feature_names if feature_names is not None
                                     else found_features),
                      task_names=task_names if task_names is not None else labels)
        return display.plot(ax=ax, max_features=max_features, cmap=cmap,
                            colorbar=colorbar, include_values=include_values,
                            values_format=values_format, im_kw=im_kw)


def _correlation_from_covariance(covariance):
    scale = np.sqrt(np.diag(covariance))
    with np.errstate(divide="ignore", invalid="ignore"):
        correlation = covariance / np.outer(scale, scale)
    return correlation


def _cosine_similarity(coef):
    norms = np.linalg.norm(coef, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        unit = coef / norms[:, None]
    # A task without any non-zero coefficient has no direction: NaN.
    return np.clip(unit @ unit.T, -1.0, 1.0)


_KINDS = ("auto", "correlation", "covariance", "cosine")
_LABELS = {"affinity": "score gain of task j from task i",
           "correlation": "task correlation", "covariance": "task covariance",
           "cosine": "cosine similarity of coefficients"}


class TaskSimilarityDisplay:
    """Heatmap of a task × task similarity matrix.

    Shows which tasks the model treats as related: the task correlation or
    covariance a relationship model learns (MTRL's ``task_covariance_``), or
    the cosine similarity of the tasks' coefficient vectors. Build it with
    :meth:`from_estimator`, or from any square matrix and :meth:`plot`.

    Parameters
    ----------
    similarity : array-like of shape (n_tasks, n_tasks)
        The matrix to show; ``NaN`` cells (e.g. the cosine of an all-zero
        coefficient vector) are left blank.
    task_names : list of str, default=None
        ``"task_0"``, ... by default.
    kind : {"correlation", "covariance", "cosine"} or str, default="correlation"
        What the matrix is: it sets the colour scale (``[-1, 1]`` for
        correlation and cosine, symmetric around zero otherwise) and the
        colorbar label.

    Attributes
    ----------
    im_ : matplotlib AxesImage
    colorbar_ : matplotlib Colorbar or None
    text_ : ndarray of matplotlib Text or None
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    See Also
    --------
    CoefficientHeatmapDisplay : The coefficients themselves.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skmtl.plotting import TaskSimilarityDisplay
    >>> display = TaskSimilarityDisplay(np.array([[1.0, 0.8], [0.8, 1.0]]),
    ...                                 task_names=["math", "reading"]).plot()
    >>> [t.get_text() for t in display.text_.ravel()]
    ['1.00', '0.80', '0.80', '1.00']
    """

    def __init__(self, similarity, *, task_names=None, kind="correlation"):
        self.similarity = similarity
        self.task_names = task_names
        self.kind = kind

    def plot(self, ax=None, *, cmap="RdBu_r", colorbar=True, include_values="auto",
             values_format=".2f", vmin=None, vmax=None, im_kw=None):
        """Draw the heatmap.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
        cmap : str or Colormap, default="RdBu_r"
        colorbar : bool, default=True
        include_values : bool or "auto", default="auto"
            Write each value in its cell; ``"auto"``: for at most 12 tasks.
        values_format : str, default=".2f"
        vmin, vmax : float, default=None
            Colour limits; by default ``[-1, 1]`` for correlations and
            cosines, ``[-m, m]`` with ``m`` the largest absolute value
            otherwise.
        im_kw : dict, default=None
            Passed to ``imshow``.

        Returns
        -------
        self : TaskSimilarityDisplay
        """
        matrix = np.asarray(self.similarity, dtype=float)
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise ValueError(f"similarity must be a square (n_tasks, n_tasks) "
                             f"matrix, got shape {matrix.shape}.")
        if np.isinf(matrix).any():
            raise ValueError("similarity holds infinite values.")
        names = _check_names(self.task_names, matrix.shape[0], "task", "task_")
        if vmin is None or vmax is None:
            if self.kind in ("correlation", "cosine"):
                limit = 1.0
            else:
                limit = float(np.nanmax(np.abs(matrix), initial=0.0)) or 1.0
            vmin = -limit if vmin is None else vmin
            vmax = limit if vmax is None else vmax
        if include_values == "auto":
            include_values = matrix.shape[0] <= 12
        fig, ax = _figure_and_axes(ax)
        self.im_, self.colorbar_, self.text_ = _draw_heatmap(
            ax, matrix, row_labels=names, column_labels=names, cmap=cmap,
            vmin=vmin, vmax=vmax, colorbar=colorbar,
            colorbar_label=_LABELS.get(self.kind, str(self.kind)),
            include_values=include_values, values_format=values_format,
            im_kw=im_kw)
        ax.set_xlabel("task")
        ax.set_ylabel("task")
        self.ax_, self.figure_ = ax, fig
        return self

    @classmethod
    def from_estimator(cls, estimator, *, kind="auto", task_names=None, ax=None,
                       cmap="RdBu_r", colorbar=True, include_values="auto",
                       values_format=".2f", vmin=None, vmax=None, im_kw=None):
        """Task similarity learned by (or read from) a fitted model.

        Parameters
        ----------
        estimator : fitted estimator
        kind : {"auto", "correlation", "covariance", "cosine"}, default="auto"
            ``"correlation"``: the model's ``task_correlation_``, or the
            correlation of its ``task_covariance_``; ``"covariance"``: its
            ``task_covariance_`` as is; ``"cosine"``: the cosine similarity
            of the tasks' coefficient vectors (``coef_``, or the per-task
            models of a :class:`~skmtl.SingleTaskBaseline`). ``"auto"``
            takes a correlation when the model learned one, else the cosine.
        task_names : list of str, default=None
            Override the names of the model's tasks.
        ax, cmap, colorbar, include_values, values_format, vmin, vmax, im_kw
            As in :meth:`plot`.

        Returns
        -------
        display : TaskSimilarityDisplay

        Raises
        ------
        ValueError
            If ``kind`` asks for a matrix the model does not have.
        """
        from ..metrics._scorer import _final_estimator

        if kind not in _KINDS:
            raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}.")
        final = _final_estimator(estimator)
        correlation = getattr(final, "task_correlation_", None)
        covariance = getattr(final, "task_covariance_", None)
        if kind == "auto":
            kind = ("correlation" if correlation is not None
                    or covariance is not None else "cosine")
        labels = None
        if kind == "correlation":
            if correlation is not None:
                matrix = np.asarray(correlation, dtype=float)
            elif covariance is not None:
                matrix = _correlation_from_covariance(
                    np.asarray(covariance, dtype=float))
            else:
                raise ValueError(f"{type(final).__name__} learns no task "
                                 f"correlation or covariance; use kind='cosine'.")
        elif kind == "covariance":
            if covariance is None:
                raise ValueError(f"{type(final).__name__} has no task_covariance_; "
                                 f"use kind='cosine'.")
            matrix = np.asarray(covariance, dtype=float)
        else:
            coef, labels, _ = task_coefficients(estimator)
            matrix = _cosine_similarity(coef)
        if task_names is None:
            tasks = getattr(final, "tasks_", None)
            if labels is not None:
                task_names = labels
            elif tasks is not None and len(tasks) == matrix.shape[0]:
                task_names = [t.name for t in tasks]
        display = cls(matrix, task_names=task_names, kind=kind)
        return display.plot(ax=ax, cmap=cmap, colorbar=colorbar,
                            include_values=include_values,
                            values_format=values_format, vmin=vmin, vmax=vmax,
                            im_kw=im_kw)
