"""Training curves of the neural estimators: task weights and per-task losses."""

import numpy as np

from ..metrics._scorer import _final_estimator
from ._base import _check_names, _figure_and_axes

__all__ = ["TaskWeightsDisplay", "LearningCurveDisplay"]


def _fitted_network(estimator, owner):
    """The final step of ``estimator`` if it is a fitted neural estimator."""
    model = _final_estimator(estimator)
    if not hasattr(model, "net_"):
        if hasattr(model, "history_") or hasattr(type(model), "task_weights_history_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError(f"{owner} needs a fitted estimator; call fit first.")
        raise TypeError(f"{owner} draws the training history of a neural multi-task "
                        f"estimator (MultiTaskEstimator and its variants); got "
                        f"{type(model).__name__}.")
    return model


def _epochs(epochs, n):
    return np.arange(1, n + 1) if epochs is None else np.asarray(epochs)


class TaskWeightsDisplay:
    """Task weights over the epochs of training, one line per task.

    Draws what a weighting strategy (:mod:`skmtl.neural.weighting`) did: the
    weights ``lambda_k`` used in each epoch (their epoch mean for strategies
    that change them every step), as recorded in ``task_weights_history_``.

    Parameters
    ----------
    weights : array-like of shape (n_epochs, n_tasks)
    task_names : list of str, default=None
    epochs : array-like of shape (n_epochs,), default=None
        Epoch numbers (1, 2, ... by default).
    strategy_name : str, default=None
        Shown in the title.

    Attributes
    ----------
    lines_ : dict
        ``{task name: Line2D}``.
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    See Also
    --------
    LearningCurveDisplay : The per-task losses over the same epochs.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skmtl.neural import MultiTaskRegressor
    >>> from skmtl.plotting import TaskWeightsDisplay
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(100, 3)
    >>> Y = np.c_[X[:, 0], rng.randn(100)]
    >>> est = MultiTaskRegressor(weighting="dwa", hidden_layer_sizes=(8,),
    ...                          max_epochs=5, random_state=0).fit(X, Y)
    >>> display = TaskWeightsDisplay.from_estimator(est)
    >>> sorted(display.lines_)
    ['task_0', 'task_1']
    >>> display.lines_["task_0"].get_ydata().shape
    (5,)
    """

    def __init__(self, weights, *, task_names=None, epochs=None, strategy_name=None):
        self.weights = weights
        self.task_names = task_names
        self.epochs = epochs
        self.strategy_name = strategy_name

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, yscale="linear", line_kw=None,
                       legend=True):
        """Draw the task weights of a fitted neural estimator (or its pipeline).

        Parameters
        ----------
        estimator : fitted MultiTaskEstimator, MultiTaskRegressor or \
MultiTaskClassifier, or a Pipeline ending in one
        ax : matplotlib Axes, default=None
        yscale : {"linear", "log"}, default="linear"
            "log" shows weights of very different sizes (learned uncertainty
            weights follow the inverse losses).
        line_kw : dict, default=None
            Passed to every ``ax.plot`` call.
        legend : bool, default=True

        Returns
        -------
        display : TaskWeightsDisplay
        """
        model = _fitted_network(estimator, cls.__name__)
        strategy = model.net_.weighting_
        display = cls(model.task_weights_history_,
                      task_names=[t.name for t in model.tasks_],
                      epochs=np.asarray(model.history_[:, "epoch"]),
                      strategy_name=type(strategy).__name__)
        return display.plot(ax=ax, yscale=yscale, line_kw=line_kw, legend=legend)

    def plot(self, ax=None, *, yscale="linear", line_kw=None, legend=True):
        """Draw one line per task.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
        yscale : {"linear", "log"}, default="linear"
        line_kw : dict, default=None
        legend : bool, default=True

        Returns
        -------
        self : TaskWeightsDisplay
        """
        weights = np.asarray(self.weights, dtype=float)
        if weights.ndim != 2:
            raise ValueError(f"weights must be (n_epochs, n_tasks), got shape "
                             f"{weights.shape}.")
        names = _check_names(self.task_names, weights.shape[1], "task", "task_")
        epochs = _epochs(self.epochs, weights.shape[0])
        if len(epochs) != weights.shape[0]:
            raise ValueError(f"got {len(epochs)} epochs for {weights.shape[0]} rows "
                             f"of weights.")
        fig, ax = _figure_and_axes(ax)
        kw = {"marker": "o", "markersize": 3}
        kw.update(line_kw or {})
        self.lines_ = {}
        for k, name in enumerate(names):
            (self.lines_[name],) = ax.plot(epochs, weights[:, k], label=name, **kw)
        ax.set_xlabel("epoch")
        ax.set_ylabel("task weight")
        ax.set_yscale(yscale)
        if self.strategy_name:
            ax.set_title(self.strategy_name)
        if legend:
            ax.legend()
        self.ax_, self.figure_ = ax, fig
        return self


class LearningCurveDisplay:
    """Per-task training and validation loss over the epochs of training.

    One colour per task; the training loss is a solid line and, when the
    estimator was fitted with a ``train_split``, the validation loss a
    dashed line of the same colour. The losses are each task's own (masked
    mean over its labelled entries), before any task weighting, as recorded
    in the net's history (``train_loss_<task>``, ``valid_loss_<task>``).
    Unlike scikit-learn's ``LearningCurveDisplay`` (scores against the
    training set size), the x-axis is the epoch.

    Parameters
    ----------
    train_losses : array-like of shape (n_epochs, n_tasks)
    valid_losses : array-like of shape (n_epochs, n_tasks), default=None
    task_names : list of str, default=None
    epochs : array-like of shape (n_epochs,), default=None

    Attributes
    ----------
    lines_ : dict
        ``{(task name, "train" or "valid"): Line2D}``.
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    See Also
    --------
    TaskWeightsDisplay : The task weights over the same epochs.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skmtl.neural import MultiTaskRegressor
    >>> from skmtl.plotting import LearningCurveDisplay
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(100, 3)
    >>> Y = np.c_[X[:, 0], X[:, 1]]
    >>> est = MultiTaskRegressor(hidden_layer_sizes=(8,), max_epochs=4,
    ...                          train_split=0.25, random_state=0).fit(X, Y)
    >>> display = LearningCurveDisplay.from_estimator(est)
    >>> sorted(display.lines_)[:2]
    [('task_0', 'train'), ('task_0', 'valid')]
    """

    def __init__(self, train_losses, *, valid_losses=None, task_names=None,
                 epochs=None):
        self.train_losses = train_losses
        self.valid_losses = valid_losses
        self.task_names = task_names
        self.epochs = epochs

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, yscale="linear", line_kw=None,
                       legend=True):
        """Draw the per-task losses of a fitted neural estimator (or its pipeline).

        Parameters
        ----------
        estimator : fitted MultiTaskEstimator, MultiTaskRegressor or \
MultiTaskClassifier, or a Pipeline ending in one
        ax : matplotlib Axes, default=None
        yscale : {"linear", "log"}, default="linear"
        line_kw : dict, default=None
            Passed to every ``ax.plot`` call.
        legend : bool, default=True

        Returns
        -------
        display : LearningCurveDisplay
        """
        model = _fitted_network(estimator, cls.__name__)
        history = model.history_
        names = [t.name for t in model.tasks_]

        def losses(prefix):
            keys = [f"{prefix}_loss_{name}" for name in names]
            if not all(key in history[0] for key in keys):
                return None
            return np.array([[np.nan if row.get(key) is None else row[key]
                              for key in keys] for row in history], dtype=float)

        display = cls(losses("train"), valid_losses=losses("valid"),
                      task_names=names, epochs=np.asarray(history[:, "epoch"]))
        return display.plot(ax=ax, yscale=yscale, line_kw=line_kw, legend=legend)

    def plot(self, ax=None, *, yscale="linear", line_kw=None, legend=True):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
        yscale : {"linear", "log"}, default="linear"
        line_kw : dict, default=None
        legend : bool, default=True

        Returns
        -------
        self : LearningCurveDisplay
        """
        train = np.asarray(self.train_losses, dtype=float)
        if train.ndim != 2:
            raise ValueError(f"train_losses must be (n_epochs, n_tasks), got shape "
                             f"{train.shape}.")
        valid = None
        if self.valid_losses is not None:
            valid = np.asarray(self.valid_losses, dtype=float)
            if valid.shape != train.shape:
                raise ValueError(f"valid_losses has shape {valid.shape} but "
                                 f"train_losses has shape {train.shape}.")
        names = _check_names(self.task_names, train.shape[1], "task", "task_")
        epochs = _epochs(self.epochs, train.shape[0])
        fig, ax = _figure_and_axes(ax)
        self.lines_ = {}
        for k, name in enumerate(names):
            kw = dict(line_kw or {})
            (line,) = ax.plot(epochs, train[:, k], label=f"{name} (train)", **kw)
            self.lines_[(name, "train")] = line
            if valid is not None:
                kw.setdefault("color", line.get_color())
                kw["linestyle"] = "--"
                (self.lines_[(name, "valid")],) = ax.plot(
                    epochs, valid[:, k], label=f"{name} (valid)", **kw)
        ax.set_xlabel("epoch")
        ax.set_ylabel("task loss")
        ax.set_yscale(yscale)
        if legend:
            ax.legend()
        self.ax_, self.figure_ = ax, fig
        return self
