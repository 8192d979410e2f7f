"""Pictures of transfer between tasks: per-task gains and task affinity."""

import numpy as np

from ._base import _category_ticks, _check_names, _figure_and_axes
from ._heatmaps import TaskSimilarityDisplay

_COLOURS = {"negative": "tab:red", "positive": "tab:green", "none": "tab:gray"}


class TransferReportDisplay:
    """Per-task gain of a multi-task model over single-task training.

    One bar per task: the mean cross-validated score difference (multi-task
    minus single-task), with error bars of one standard error; bars are red
    for negative transfer, green where the gain exceeds ``threshold``
    standard errors and grey otherwise. Build it from a
    :class:`~skmtl.model_selection.TransferReport` with :meth:`from_report`,
    or run the report and draw it with :meth:`from_estimator`.

    Parameters
    ----------
    difference : array-like of shape (n_tasks,)
    std_error : array-like of shape (n_tasks,)
    task_names : list of str
    threshold : float, default=2.0
        Standard errors that make a gain positive or negative transfer.
    metric_names : str or list of str, default=None

    Attributes
    ----------
    bars_ : matplotlib BarContainer
    errorbars_ : matplotlib ErrorbarContainer
    verdicts_ : list of str
        ``"negative"``, ``"positive"`` or ``"none"`` per task drawn.
    task_order_ : ndarray of int
        The tasks in the order drawn (indices into ``task_names``).
    task_ticks_ : list of str
        The task names written under the axis (every ``k``-th one when they
        would not fit side by side).
    reference_line_ : matplotlib Line2D
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    See Also
    --------
    skmtl.model_selection.transfer_report : The report this display draws.
    PerTaskScoreDisplay : The scores themselves, model by model.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skmtl.plotting import TransferReportDisplay
    >>> display = TransferReportDisplay([0.2, -0.3, 0.01], [0.05, 0.1, 0.1],
    ...                                 task_names=["a", "b", "c"]).plot()
    >>> display.verdicts_
    ['positive', 'negative', 'none']
    """

    def __init__(self, difference, std_error, *, task_names, threshold=2.0,
                 metric_names=None):
        self.difference = difference
        self.std_error = std_error
        self.task_names = task_names
        self.threshold = threshold
        self.metric_names = metric_names

    def plot(self, ax=None, *, bar_kw=None, sort=False):
        """Draw the bars.

        With many tasks (more than the axis has room to name), every
        ``k``-th task is named so that no labels overlap (see
        ``task_ticks_``).

        Parameters
        ----------
        ax : matplotlib Axes, default=None
        bar_kw : dict, default=None
            Passed to ``ax.bar``.
        sort : bool, default=False
            Order the tasks by their gain, lowest first: with many tasks
            the bars become a profile whose red left end is the negative
            transfer.

        Returns
        -------
        self : TransferReportDisplay
        """
        difference = np.asarray(self.difference, dtype=float)
        std_error = np.asarray(self.std_error, dtype=float)
        if difference.ndim != 1 or difference.shape != std_error.shape:
            raise ValueError(f"difference and std_error must be 1-D of one length, "
                             f"got shapes {difference.shape} and {std_error.shape}.")
        names = _check_names(self.task_names, len(difference), "task", "task_")
        order = np.arange(len(names))
        if sort:
            order = np.argsort(np.where(np.isnan(difference), np.inf, difference),
                               kind="stable")
            difference, std_error = difference[order], std_error[order]
            names = [names[k] for k in order]
        self.task_order_ = order
        bound = self.threshold * np.nan_to_num(std_error, nan=np.inf)
        self.verdicts_ = ["negative" if d < -b else "positive" if d > b else "none"
                          for d, b in zip(difference, bound)]
        fig, ax = _figure_and_axes(ax)
        positions = np.arange(len(names))
        self.bars_ = ax.bar(positions, difference,
                            color=[_COLOURS[v] for v in self.verdicts_],
                            **(bar_kw or {}))
        self.errorbars_ = ax.errorbar(positions, difference,
                                      yerr=np.nan_to_num(std_error), fmt="none",
                                      ecolor="black", capsize=3)
        self.reference_line_ = ax.axhline(0.0, color="black", linewidth=0.8)
        step = _category_ticks(ax, "x", names, positions)
        self.task_ticks_ = [names[k] for k in range(0, len(names), step)]
        ax.set_xlabel("task" if step == 1 else
                      f"task ({len(names)} tasks, every {step}th named)")
        metric = self.metric_names
        if metric is not None and not isinstance(metric, str):
            metric = metric[0] if len(set(metric)) == 1 else "score"
        ax.set_ylabel(f"{metric or 'score'} gain over single-task (± 1 s.e.)")
        self.ax_, self.figure_ = ax, fig
        return self

    @classmethod
    def from_report(cls, report, *, ax=None, bar_kw=None, sort=False):
        """Draw a :class:`~skmtl.model_selection.TransferReport`.

        Parameters
        ----------
        report : TransferReport
        ax, bar_kw, sort
            As in :meth:`plot`.

        Returns
        -------
        display : TransferReportDisplay
        """
        display = cls(report.difference, report.std_error, task_names=report.tasks,
                      threshold=report.threshold, metric_names=report.metrics)
        return display.plot(ax=ax, bar_kw=bar_kw, sort=sort)

    @classmethod
    def from_estimator(cls, estimator, X, y, *, ax=None, bar_kw=None, sort=False,
                       **report_params):
        """Run :func:`~skmtl.model_selection.transfer_report` and draw it.

        ``report_params`` (``baseline``, ``pooled``, ``cv``, ``metric``, ...)
        go to the report; ``ax``, ``bar_kw`` and ``sort`` are as in
        :meth:`plot`.

        Returns
        -------
        display : TransferReportDisplay
            With the report as ``report_``.
        """
        from ..model_selection import transfer_report

        report = transfer_report(estimator, X, y, **report_params)
        display = cls.from_report(report, ax=ax, bar_kw=bar_kw, sort=sort)
        display.report_ = report
        return display


def plot_task_affinity(affinity, *, task_names=None, ax=None, **plot_params):
    """Heatmap of a task affinity matrix (row i: the task trained with, column
    j: the task helped).

    Parameters
    ----------
    affinity : array-like of shape (n_tasks, n_tasks)
        From :func:`~skmtl.model_selection.task_affinity`.
    task_names : list of str, default=None
    ax : matplotlib Axes, default=None
    **plot_params
        Passed to :meth:`TaskSimilarityDisplay.plot`.

    Returns
    -------
    display : TaskSimilarityDisplay

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skmtl.plotting import plot_task_affinity
    >>> display = plot_task_affinity(np.array([[0.0, 0.1], [-0.2, 0.0]]))
    >>> display.ax_.get_ylabel()
    'trained with task i'
    """
    display = TaskSimilarityDisplay(affinity, task_names=task_names,
                                    kind="affinity").plot(ax=ax, **plot_params)
    display.ax_.set_xlabel("helped task j")
    display.ax_.set_ylabel("trained with task i")
    return display
