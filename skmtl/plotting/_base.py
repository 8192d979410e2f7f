"""Shared plumbing of the displays: lazy matplotlib, axes, annotated heatmaps."""

import numpy as np

from ..metrics._scorer import _final_estimator


def _pyplot():
    """matplotlib.pyplot, imported on first use so that skmtl does not need it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError("skmtl.plotting needs matplotlib; install it with: "
                          "pip install 'skmtl[plot]'") from exc
    return plt


def _figure_and_axes(ax):
    if ax is None:
        _, ax = _pyplot().subplots()
    return ax.figure, ax


def _check_names(names, n, what, default_prefix):
    if names is None:
        return [f"{default_prefix}{j}" for j in range(n)]
    names = [str(name) for name in names]
    if len(names) != n:
        raise ValueError(f"got {len(names)} {what} names for {n} {what}s.")
    return names


def _label_size_in_pixels(ax, axis):
    """Font size of the tick labels of ``axis``, in display pixels."""
    from matplotlib import rcParams
    from matplotlib.font_manager import FontProperties

    points = FontProperties(size=rcParams[f"{axis}tick.labelsize"]).get_size_in_points()
    return points * ax.figure.dpi / 72.0


def _category_ticks(ax, axis, labels, positions=None):
    """Name the categories (tasks, features) along ``axis`` so that no two
    tick labels overlap, whatever their number.

    Each label needs, along the axis, its text height (its width when
    written horizontally below the x axis); with more labels than the axis
    has room for, every ``step``-th one is written (ticks stay evenly
    spaced, the others unnamed). An x axis writes its labels horizontally
    when they fit, else at 45 degrees (up to 30 labels), else vertically.
    The sizes are estimated from the tick font at the figure's current
    size, so a figure made larger shows more names.

    Parameters
    ----------
    ax : matplotlib Axes
    axis : {"x", "y"}
    labels : list of str
    positions : array-like, default=None
        Data coordinate of each category (``arange(n)`` by default).

    Returns
    -------
    step : int
        1 when every category is named.
    """
    labels = [str(label) for label in labels]
    n = len(labels)
    positions = np.arange(n) if positions is None else np.asarray(positions, float)
    getattr(ax, f"get_{axis}lim")()  # settles the view limits
    if n > 1:
        ends = np.column_stack([positions[:2], positions[:2]])
        pixels = ax.transData.transform(ends)
        spacing = abs(float(np.diff(pixels[:, 0 if axis == "x" else 1])[0]))
    else:
        spacing = np.inf
    size = _label_size_in_pixels(ax, axis)
    lines = max((label.count("\n") + 1 for label in labels), default=1)
    height = 1.3 * size * lines  # the text and the gap to its neighbour
    rotation, align = 0, "center"
    needed = height
    if axis == "x":
        widest = max((len(part) for label in labels for part in label.split("\n")),
                     default=0)
        width = 0.62 * size * widest + 0.5 * size
        if width <= spacing:
            needed = width
        elif n <= 30:
            rotation, align, needed = 45, "right", height * np.sqrt(2)
        else:
            rotation, align = 90, "center"
    step = 1 if spacing >= needed else int(np.ceil(needed / max(spacing, 1e-9)))
    keep = np.arange(0, n, step)
    if axis == "x":
        ax.set_xticks(positions[keep], labels=[labels[k] for k in keep],
                      rotation=rotation, ha=align)
    else:
        ax.set_yticks(positions[keep], labels=[labels[k] for k in keep])
    return step


def _draw_heatmap(ax, data, *, row_labels, column_labels, cmap, vmin, vmax,
                  colorbar, colorbar_label, include_values, values_format,
                  im_kw):
    """imshow with tick labels, an optional colorbar and cell annotations."""
    fig = ax.figure
    kw = {"cmap": cmap, "vmin": vmin, "vmax": vmax, "aspect": "auto",
          "interpolation": "nearest"}
    kw.update(im_kw or {})
    im = ax.imshow(data, **kw)
    bar = None
    if colorbar:
        bar = fig.colorbar(im, ax=ax)
        bar.set_label(colorbar_label)
    # after the colorbar, which takes its width from the axes
    _category_ticks(ax, "x", column_labels)
    _category_ticks(ax, "y", row_labels)
    text = None
    if include_values:
        text = np.empty(data.shape, dtype=object)
        for i, j in np.ndindex(data.shape):
            value = data[i, j]
            # "+ 0.0" writes -0.0 as 0.
            label = "" if np.isnan(value) else format(value + 0.0, values_format)
            # Black text on light cells, white on dark ones, for any colormap.
            red, green, blue, _ = im.cmap(im.norm(value))
            dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5
            text[i, j] = ax.text(j, i, label, ha="center", va="center",
                                 color="white" if dark else "black")
    return im, bar, text


def _coefficients_of(model, owner):
    """2-D (n_rows, n_features) coefficients of one fitted linear model."""
    model = _final_estimator(model)
    if hasattr(model, "coef_"):
        return np.atleast_2d(np.asarray(model.coef_, dtype=float))
    inner = getattr(model, "estimators_", None)
    if inner is not None and all(hasattr(_final_estimator(e), "coef_")
                                 for e in inner):
        # MultiOutputRegressor / MultiOutputClassifier: one model per output.
        return np.vstack([_coefficients_of(e, owner) for e in inner])
    raise TypeError(f"{owner} ({type(model).__name__}) has no coef_; the "
                    f"coefficient displays need linear models.")


def _output_labels(tasks, n_rows):
    """Names of the rows of a ``coef_`` that has one row per task or output."""
    if tasks is None:
        return [f"task_{j}" for j in range(n_rows)]
    if len(tasks) == n_rows:
        return [task.name for task in tasks]
    if sum(task.n_outputs for task in tasks) == n_rows:
        return [task.name if task.n_outputs == 1 else f"{task.name}[{j}]"
                for task in tasks for j in range(task.n_outputs)]
    return [f"output_{j}" for j in range(n_rows)]


def _row_labels(task, n_rows):
    if n_rows == 1:
        return [task.name]
    classes = getattr(task, "classes_", None)
    if task.is_classification and classes is not None and len(classes) == n_rows:
        return [f"{task.name}={c}" for c in classes]
    return [f"{task.name}[{j}]" for j in range(n_rows)]


def task_coefficients(estimator):
    """Coefficients of a fitted estimator, one row per task (or task output).

    Reads ``coef_`` of shape (n_tasks, n_features) (the linear family,
    scikit-learn's multi-task and multi-output linear models), or the
    ``coef_`` of each per-task model in ``estimators_``
    (:class:`~skmtl.SingleTaskBaseline`), unwrapping a ``Pipeline`` or a
    fitted search. A task whose model has several coefficient rows (one per
    class or per output) gets one row per class or output.

    Parameters
    ----------
    estimator : fitted estimator

    Returns
    -------
    coef : ndarray of shape (n_rows, n_features)
    labels : list of str
        Name of each row.
    feature_names : list of str or None
        From ``feature_names_in_`` or the ``Pipeline``'s
        ``get_feature_names_out``, when there are names.

    Raises
    ------
    TypeError
        If the estimator, or the model of one of its tasks, has no ``coef_``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from skmtl import SingleTaskBaseline
    >>> from skmtl.plotting import task_coefficients
    >>> X = np.array([[0.0, 1], [1, 0], [1, 1], [2, 1]])
    >>> Y = np.column_stack([X @ [1.0, 2], X @ [-1.0, 0]])
    >>> coef, labels, _ = task_coefficients(SingleTaskBaseline(Ridge(1e-9)).fit(X, Y))
    >>> np.round(coef, 6)
    array([[ 1.,  2.],
           [-1.,  0.]])
    >>> labels
    ['task_0', 'task_1']
    """
    from sklearn.utils.validation import check_is_fitted

    final = _final_estimator(estimator)
    check_is_fitted(final)
    tasks = getattr(final, "tasks_", None)
    if hasattr(final, "coef_"):
        coef = np.asarray(final.coef_, dtype=float)
        if coef.ndim == 1:
            coef = coef[None, :]
        if coef.ndim != 2:
            raise ValueError(f"{type(final).__name__}.coef_ has shape {coef.shape}; "
                             f"expected (n_tasks, n_features).")
        labels = _output_labels(tasks, coef.shape[0])
    elif tasks is not None and hasattr(final, "estimators_"):
        blocks, labels = [], []
        for task, model in zip(tasks, final.estimators_, strict=True):
            block = _coefficients_of(model, f"the model of task {task.name!r}")
            blocks.append(block)
            labels += _row_labels(task, block.shape[0])
        widths = {block.shape[1] for block in blocks}
        if len(widths) != 1:
            raise ValueError(f"the per-task models have coefficient vectors of "
                             f"different lengths {sorted(widths)}.")
        coef = np.vstack(blocks)
    else:
        raise TypeError(f"{type(final).__name__} has no coef_ (nor per-task "
                        f"models with coef_); the coefficient displays need "
                        f"linear models.")
    return coef, labels, _feature_names(estimator, final, coef.shape[1])


def _feature_names(estimator, final, n_features):
    names = None
    if final is not estimator and hasattr(estimator, "steps"):
        try:
            names = estimator[:-1].get_feature_names_out()
        except (AttributeError, ValueError, TypeError):
            names = None
    if names is None:
        names = getattr(final, "feature_names_in_", None)
    if names is None or len(names) != n_features:
        return None
    return [str(name) for name in names]
