"""Per-task score bars: a multi-task model against its baselines."""

import numpy as np

from ._base import _category_ticks, _check_names, _figure_and_axes

__all__ = ["PerTaskScoreDisplay"]


def _columns(table):
    """A score table (DataFrame or dict of arrays) as a dict of 1-D arrays."""
    if hasattr(table, "columns"):
        return {str(c): np.asarray(table[c]) for c in table.columns}
    if isinstance(table, dict):
        return {str(k): np.asarray(v) for k, v in table.items()}
    raise TypeError(f"a score table must be a DataFrame or a dict of columns, got "
                    f"{type(table).__name__}.")


def _long_table(table):
    """Columns model, task, score (and metric) from either accepted form."""
    if isinstance(table, dict) and table and all(
            hasattr(v, "columns") or isinstance(v, dict) for v in table.values()):
        pieces = []
        for model, sub in table.items():
            columns = _columns(sub)
            columns["model"] = np.full(len(columns["score"]), str(model),
                                       dtype=object)
            pieces.append(columns)
        keys = set.intersection(*(set(p) for p in pieces))
        return {k: np.concatenate([p[k] for p in pieces]) for k in keys}
    return _columns(table)


class PerTaskScoreDisplay:
    """Per-task scores of several models as grouped bars.

    One group of bars per task, one bar per model: the picture that answers
    "does sharing help, and for which task?" when a multi-task model is
    drawn next to :class:`~skmtl.SingleTaskBaseline` and
    :class:`~skmtl.PooledBaseline`. With ``relative_to`` the bars show each
    model's gain over a reference model (negative bars: negative transfer).

    Parameters
    ----------
    scores : array-like of shape (n_models, n_tasks)
        Score of each model on each task (``NaN``: not scored, no bar).
    task_names : list of str
    model_names : list of str
    metric_names : str or list of str, default=None
        The metric (one for all tasks) or the metric of each task, for the
        axis labels.

    Attributes
    ----------
    bars_ : dict
        ``{model name: BarContainer}``; ``bars_[m].patches[k]`` is the bar of
        the ``k``-th task drawn.
    task_order_ : ndarray of int
        The tasks in the order drawn (indices into ``task_names``).
    task_ticks_ : list of str
        The task names written under the axis (every one, or every
        ``k``-th one when they would not fit side by side).
    reference_line_ : matplotlib Line2D or None
        The zero line, with ``relative_to``.
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    See Also
    --------
    skmtl.metrics.per_task_scores : The per-task score table.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.linear_model import Ridge
    >>> from skmtl import PooledBaseline, SingleTaskBaseline
    >>> from skmtl.datasets import make_multitask_regression
    >>> from skmtl.plotting import PerTaskScoreDisplay
    >>> X, Y = make_multitask_regression(n_samples=60, n_tasks=3, random_state=0)
    >>> models = {"single-task": SingleTaskBaseline(Ridge()).fit(X, Y),
    ...           "pooled": PooledBaseline(Ridge()).fit(X, Y)}
    >>> display = PerTaskScoreDisplay.from_estimators(models, X, Y, metric="r2")
    >>> len(display.bars_["pooled"].patches)
    3
    """

    def __init__(self, scores, *, task_names, model_names, metric_names=None):
        self.scores = scores
        self.task_names = task_names
        self.model_names = model_names
        self.metric_names = metric_names

    def plot(self, ax=None, *, relative_to=None, bar_kw=None, legend=True,
             sort_by=None):
        """Draw the bars.

        With many tasks (more than the axis has room to name), every
        ``k``-th task is named so that no labels overlap (see
        ``task_ticks_``); ``sort_by`` then turns the bars into a readable
        profile of the scores.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
        relative_to : str, default=None
            Name of a model: draw every other model's score minus this
            model's score, task by task, with a line at zero.
        bar_kw : dict, default=None
            Passed to every ``ax.bar`` call.
        legend : bool, default=True
        sort_by : str, default=None
            Name of a model: order the tasks by its score (its gain with
            ``relative_to``), lowest first. None keeps the task order.

        Returns
        -------
        self : PerTaskScoreDisplay
        """
        scores = np.asarray(self.scores, dtype=float)
        if scores.ndim != 2:
            raise ValueError(f"scores must be (n_models, n_tasks), got shape "
                             f"{scores.shape}.")
        models = _check_names(self.model_names, scores.shape[0], "model", "model_")
        tasks = _check_names(self.task_names, scores.shape[1], "task", "task_")
        metrics = self.metric_names
        if metrics is not None and not isinstance(metrics, str):
            metrics = _check_names(metrics, len(tasks), "metric", "")
            if len(set(metrics)) == 1:
                metrics = metrics[0]
        if relative_to is not None:
            if relative_to not in models:
                raise ValueError(f"relative_to={relative_to!r} is not one of the "
                                 f"models {models}.")
            reference = models.index(relative_to)
            scores = np.delete(scores - scores[reference], reference, axis=0)
            models = [m for m in models if m != relative_to]
        order = np.arange(len(tasks))
        if sort_by is not None:
            if sort_by not in models:
                raise ValueError(f"sort_by={sort_by!r} is not one of the models "
                                 f"drawn {models}.")
            key = scores[models.index(sort_by)]
            order = np.argsort(np.where(np.isnan(key), np.inf, key), kind="stable")
            scores = scores[:, order]
            tasks = [tasks[k] for k in order]
            if isinstance(metrics, list):
                metrics = [metrics[k] for k in order]
        self.task_order_ = order
        fig, ax = _figure_and_axes(ax)
        width = 0.8 / max(len(models), 1)
        positions = np.arange(len(tasks))
        self.bars_ = {}
        for i, model in enumerate(models):
            offset = (i - (len(models) - 1) / 2) * width
            self.bars_[model] = ax.bar(positions + offset, scores[i], width,
                                       label=model, **(bar_kw or {}))
        if isinstance(metrics, list):
            labels = [f"{task}\n({metric})" for task, metric in
                      zip(tasks, metrics, strict=True)]
            metric_label = "score"
        else:
            labels = tasks
            metric_label = metrics or "score"
        step = _category_ticks(ax, "x", labels, positions)
        self.task_ticks_ = [tasks[k] for k in range(0, len(tasks), step)]
        ax.set_xlabel("task" if step == 1 else
                      f"task ({len(tasks)} tasks, every {step}th named)")
        self.reference_line_ = None
        if relative_to is not None:
            self.reference_line_ = ax.axhline(0.0, color="black", linewidth=0.8)
            ax.set_ylabel(f"{metric_label} gain over {relative_to}")
        else:
            ax.set_ylabel(metric_label)
        if legend and models:
            ax.legend()
        self.ax_, self.figure_ = ax, fig
        return self

    @classmethod
    def from_scores(cls, table, *, metric=None, ax=None, relative_to=None,
                    bar_kw=None, legend=True, sort_by=None):
        """Bars from score tables.

        Parameters
        ----------
        table : dict or DataFrame
            Either ``{model name: per-task table}`` with tables as returned
            by :func:`skmtl.metrics.per_task_scores` (DataFrame or dict of
            arrays), or one long table with columns ``model``, ``task`` and
            ``score`` (and optionally ``metric``).
        metric : str, default=None
            Keep only the rows of this metric; required when the tables hold
            several metrics per task.
        ax, relative_to, bar_kw, legend, sort_by
            As in :meth:`plot`.

        Returns
        -------
        display : PerTaskScoreDisplay
        """
        columns = _long_table(table)
        missing = {"model", "task", "score"} - set(columns)
        if missing:
            raise ValueError(f"the score table lacks the column(s) "
                             f"{sorted(missing)}; it has {sorted(columns)}.")
        model_col = np.array([str(v) for v in columns["model"]], dtype=object)
        task_col = np.array([str(v) for v in columns["task"]], dtype=object)
        score_col = columns["score"].astype(float)
        metric_col = columns.get("metric")
        if metric_col is not None:
            metric_col = np.array([str(v) for v in metric_col], dtype=object)
        if metric is not None:
            if metric_col is None:
                raise ValueError("metric= needs a 'metric' column in the table.")
            keep = metric_col == metric
            if not keep.any():
                raise ValueError(f"no row has metric {metric!r}; the table holds "
                                 f"{sorted(set(metric_col))}.")
            model_col, task_col, score_col, metric_col = (
                model_col[keep], task_col[keep], score_col[keep], metric_col[keep])
        models = list(dict.fromkeys(model_col))
        tasks = list(dict.fromkeys(task_col))
        scores = np.full((len(models), len(tasks)), np.nan)
        seen = np.zeros_like(scores, dtype=bool)
        task_metrics = {}
        for row, (model, task, score) in enumerate(
                zip(model_col, task_col, score_col, strict=True)):
            i, k = models.index(model), tasks.index(task)
            if seen[i, k]:
                held = [] if metric_col is None else sorted(set(metric_col))
                raise ValueError(f"model {model!r} has several scores for task "
                                 f"{task!r}; choose one metric with metric= "
                                 f"(the table holds {held}).")
            seen[i, k] = True
            scores[i, k] = score
            if metric_col is not None:
                task_metrics.setdefault(task, metric_col[row])
        metric_names = ([task_metrics[t] for t in tasks]
                        if len(task_metrics) == len(tasks) else None)
        display = cls(scores, task_names=tasks, model_names=models,
                      metric_names=metric_names)
        return display.plot(ax=ax, relative_to=relative_to, bar_kw=bar_kw,
                            legend=legend, sort_by=sort_by)

    @classmethod
    def from_estimators(cls, estimators, X, y, *, metric=None, ax=None,
                        relative_to=None, bar_kw=None, legend=True, sort_by=None):
        """Bars from fitted models scored on ``X``, ``y``.

        Each model is scored task by task on the labelled entries of ``y``
        with :func:`skmtl.metrics.per_task_scores` (through the tasks it was
        fitted with, so classes and task types are its own).

        Parameters
        ----------
        estimators : dict
            ``{name: fitted estimator}``, drawn in this order; every model
            must predict the same tasks.
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples, n_outputs)
            NaN-masked targets.
        metric : str or dict, default=None
            As in :func:`skmtl.metrics.per_task_scores`: None uses each task
            type's default metric (R² for regression, accuracy for
            classification).
        ax, relative_to, bar_kw, legend, sort_by
            As in :meth:`plot`.

        Returns
        -------
        display : PerTaskScoreDisplay
        """
        from ..metrics import make_multitask_scorer

        if not isinstance(estimators, dict) or not estimators:
            raise TypeError("estimators must be a non-empty dict {name: fitted "
                            "estimator}.")
        if metric is not None and not isinstance(metric, str | dict):
            raise ValueError("from_estimators draws one metric per task: pass a "
                             "metric name or a dict {task or type: name}.")
        scorer = make_multitask_scorer(metric)
        tables, reference = {}, None
        for name, estimator in estimators.items():
            table, _ = scorer.table(estimator, X, y)
            if reference is None:
                reference = (name, list(table["task"]))
            elif list(table["task"]) != reference[1]:
                raise ValueError(f"model {name!r} predicts the tasks "
                                 f"{list(table['task'])} but model "
                                 f"{reference[0]!r} predicts {reference[1]}.")
            tables[name] = table
        return cls.from_scores(tables, ax=ax, relative_to=relative_to,
                               bar_kw=bar_kw, legend=legend, sort_by=sort_by)
