"""Reliability curves of binary tasks: predicted probability against observed rate."""

import warnings

import numpy as np

from ..metrics._binary import BIN_STRATEGIES, _positive_proba, calibration_bins
from ..metrics._recommender import _column_classes, probability_columns
from ..metrics._scorer import (
    _fitted_tasks,
    _proba_columns,
    _task_classes,
    _task_columns,
)
from ..tasks import missing_mask
from ._base import _check_names, _figure_and_axes

__all__ = ["ReliabilityDisplay"]


def _is_binary(task, classes):
    # Two classes per column: binary tasks, and two-class tasks of the other
    # class-label types (classification, ordinal).
    return task.is_classification and len(classes) == 2


def _curve(name, y, p, classes, sample_weight, n_bins, strategy):
    """Bins of one column's labelled entries, or None when it has none."""
    labelled = ~missing_mask(y)
    if not labelled.any():
        warnings.warn(f"task {name!r} has no labelled entry: no curve drawn.",
                      UserWarning, stacklevel=4)
        return None
    weight = (np.ones(int(labelled.sum())) if sample_weight is None
              else np.asarray(sample_weight, dtype=float)[labelled])
    try:
        positive, p = _positive_proba("the reliability curve", y[labelled],
                                      np.asarray(p)[labelled], classes,
                                      check_range=True)
    except ValueError as exc:
        raise ValueError(f"task {name!r}: {exc}") from exc
    return calibration_bins(positive, p, weight, n_bins, strategy)


class ReliabilityDisplay:
    """Reliability curves of binary tasks, one line per task.

    For each binary task (each column of a multilabel task), the labelled
    entries are binned by their predicted probability of the positive class,
    and each bin is drawn at its mean predicted probability (x) and its
    observed rate of positives (y), as
    :class:`sklearn.calibration.CalibrationDisplay` does for one model and
    one target. A calibrated model's curve follows the diagonal; a curve
    below it over-predicts (more clicks predicted than observed). Entries
    whose label is missing (``NaN``: a conversion where there was no click)
    are left out, so each curve shows the model on the rows where its task
    is observed.

    Parameters
    ----------
    prob_pred : list of ndarray
        Mean predicted probability of each non-empty bin, one array per task.
    prob_true : list of ndarray
        Observed fraction of positives of each bin, one array per task.
    task_names : list of str, default=None
    bin_weights : list of ndarray, default=None
        Number of labelled entries (summed sample weights) of each bin.

    Attributes
    ----------
    lines_ : dict
        ``{task name: Line2D}``; ``lines_[name].get_xydata()`` holds the
        (mean predicted probability, observed rate) of each bin.
    reference_line_ : matplotlib Line2D or None
        The diagonal of perfect calibration.
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    See Also
    --------
    skmtl.metrics.masked_expected_calibration_error : The weighted mean
        distance of these curves from the diagonal.
    skmtl.metrics.masked_calibration_ratio : Predicted over observed
        positives, one figure per task.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skmtl import Task
    >>> from skmtl.linear import MultiTaskLogisticClassifier
    >>> from skmtl.plotting import ReliabilityDisplay
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(300, 3)
    >>> Y = (rng.rand(300, 2) < 1 / (1 + np.exp(-X[:, :2]))).astype(float)
    >>> Y[Y[:, 0] == 0, 1] = np.nan  # conversions are observed after clicks only
    >>> est = MultiTaskLogisticClassifier(
    ...     tasks=[Task("click", "binary"), Task("conversion", "binary")]).fit(X, Y)
    >>> display = ReliabilityDisplay.from_estimator(est, X, Y, n_bins=5)
    >>> sorted(display.lines_)
    ['click', 'conversion']
    """

    def __init__(self, prob_pred, prob_true, *, task_names=None, bin_weights=None):
        self.prob_pred = prob_pred
        self.prob_true = prob_true
        self.task_names = task_names
        self.bin_weights = bin_weights

    def plot(self, ax=None, *, ref_line=True, line_kw=None, ref_line_kw=None,
             legend=True):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
        ref_line : bool, default=True
            Draw the diagonal of perfect calibration.
        line_kw : dict, default=None
            Passed to every curve's ``ax.plot``.
        ref_line_kw : dict, default=None
            Passed to the diagonal's ``ax.plot``.
        legend : bool, default=True

        Returns
        -------
        self : ReliabilityDisplay
        """
        if len(self.prob_pred) != len(self.prob_true):
            raise ValueError(f"got {len(self.prob_pred)} prob_pred arrays and "
                             f"{len(self.prob_true)} prob_true arrays.")
        names = _check_names(self.task_names, len(self.prob_pred), "task", "task_")
        fig, ax = _figure_and_axes(ax)
        self.reference_line_ = None
        if ref_line:
            kw = {"linestyle": ":", "color": "black", "label": "perfectly calibrated"}
            kw.update(ref_line_kw or {})
            (self.reference_line_,) = ax.plot([0, 1], [0, 1], **kw)
        self.lines_ = {}
        for name, x, y in zip(names, self.prob_pred, self.prob_true, strict=True):
            kw = {"marker": "s", "label": name}
            kw.update(line_kw or {})
            (self.lines_[name],) = ax.plot(np.asarray(x, dtype=float),
                                           np.asarray(y, dtype=float), **kw)
        ax.set(xlabel="mean predicted probability",
               ylabel="observed rate (fraction of positives)")
        if legend:
            ax.legend(loc="upper left")
        self.ax_, self.figure_ = ax, fig
        return self

    @classmethod
    def from_predictions(cls, Y_true, Y_proba, *, task_names=None, classes=None,
                         n_bins=10, strategy="uniform", sample_weight=None,
                         ax=None, ref_line=True, line_kw=None, ref_line_kw=None,
                         legend=True):
        """Curves from labels and predicted probabilities, one per column.

        Parameters
        ----------
        Y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Binary labels, ``NaN`` where missing (a DataFrame's column names
            become the task names).
        Y_proba : array-like or list
            Positive-class probabilities of the shape of ``Y_true``, or a
            list with one ndarray per column (1-D, or (n_samples, 2) as
            ``predict_proba`` returns; None skips a column).
        task_names : list of str, default=None
        classes : (negative, positive) or list of such pairs, default=None
            The two labels of each column; None means 0 and 1.
        n_bins : int, default=10
        strategy : {"uniform", "quantile"}, default="uniform"
            Bins of equal width on [0, 1], or with equal numbers of entries
            (quantiles of the predictions): better for rare positives.
        sample_weight : array-like of shape (n_samples,), default=None
        ax, ref_line, line_kw, ref_line_kw, legend
            As in :meth:`plot`.

        Returns
        -------
        display : ReliabilityDisplay
        """
        if strategy not in BIN_STRATEGIES:
            raise ValueError(f"strategy must be one of {BIN_STRATEGIES}, got "
                             f"{strategy!r}.")
        if task_names is None and hasattr(Y_true, "columns"):
            task_names = [str(c) for c in Y_true.columns]
        Y_true = np.asarray(Y_true)
        if Y_true.ndim == 1:
            Y_true = Y_true[:, None]
        n_samples, n_outputs = Y_true.shape
        names = _check_names(task_names, n_outputs, "task", "task_")
        probabilities = probability_columns(Y_proba, n_samples, n_outputs)
        classes = _column_classes(classes, n_outputs)
        curves, kept = [], []
        for j, name in enumerate(names):
            if probabilities[j] is None:
                continue
            curve = _curve(name, Y_true[:, j], probabilities[j], classes[j],
                           sample_weight, n_bins, strategy)
            if curve is not None:
                curves.append(curve)
                kept.append(name)
        return cls._from_curves(curves, kept, ax, ref_line, line_kw, ref_line_kw,
                                legend)

    @classmethod
    def from_estimator(cls, estimator, X, Y, *, tasks=None, n_bins=10,
                       strategy="uniform", sample_weight=None, ax=None,
                       ref_line=True, line_kw=None, ref_line_kw=None, legend=True):
        """Curves of a fitted model's binary tasks on ``X``, ``Y``.

        Reads ``predict_proba`` and the tasks the model was fitted with
        (their classes); tasks that are not binary (regression, more than
        two classes) are left out unless named in ``tasks``.

        Parameters
        ----------
        estimator : fitted estimator with ``predict_proba``
        X : array-like of shape (n_samples, n_features)
        Y : array-like of shape (n_samples, n_outputs)
            NaN-masked targets.
        tasks : list of str, default=None
            Names of the tasks to draw; None draws every binary task.
        n_bins, strategy, sample_weight
            As in :meth:`from_predictions`.
        ax, ref_line, line_kw, ref_line_kw, legend
            As in :meth:`plot`.

        Returns
        -------
        display : ReliabilityDisplay
        """
        if strategy not in BIN_STRATEGIES:
            raise ValueError(f"strategy must be one of {BIN_STRATEGIES}, got "
                             f"{strategy!r}.")
        Y_true, fitted = _fitted_tasks(estimator, Y)
        pairs = _task_columns(fitted, Y_true.shape[1])
        known = [task.name for task, _ in pairs]
        if tasks is not None:
            tasks = [tasks] if isinstance(tasks, str) else list(tasks)
            unknown = [name for name in tasks if name not in known]
            if unknown:
                raise ValueError(f"tasks {unknown} are not among the model's "
                                 f"tasks {known}.")
        chosen = []
        for task, columns in pairs:
            if tasks is not None and task.name not in tasks:
                continue
            if not task.is_classification:
                if tasks is not None:
                    raise ValueError(f"task {task.name!r} is a {task.type} task; "
                                     f"reliability curves need binary tasks.")
                continue
            classes = _task_classes(task, Y_true[:, columns])
            if not _is_binary(task, classes):
                if tasks is not None:
                    raise ValueError(f"task {task.name!r} has {len(classes)} "
                                     f"classes; reliability curves need binary "
                                     f"tasks.")
                continue
            chosen.append((task, columns, classes))
        if not chosen:
            raise ValueError(f"the model has no binary task to draw; its tasks "
                             f"are {[(t.name, t.type) for t, _ in pairs]}.")
        proba = _proba_columns(estimator, X, fitted, Y_true.shape[1])
        curves, names = [], []
        for task, columns, classes in chosen:
            for k, j in enumerate(columns):
                name = task.name if len(columns) == 1 else f"{task.name}[{k}]"
                curve = _curve(name, Y_true[:, j], proba[j], classes,
                               sample_weight, n_bins, strategy)
                if curve is not None:
                    curves.append(curve)
                    names.append(name)
        return cls._from_curves(curves, names, ax, ref_line, line_kw, ref_line_kw,
                                legend)

    @classmethod
    def _from_curves(cls, curves, names, ax, ref_line, line_kw, ref_line_kw,
                     legend):
        display = cls([c[0] for c in curves], [c[1] for c in curves],
                      task_names=names, bin_weights=[c[2] for c in curves])
        return display.plot(ax=ax, ref_line=ref_line, line_kw=line_kw,
                            ref_line_kw=ref_line_kw, legend=legend)
