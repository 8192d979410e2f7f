"""Task gradient norms and pairwise cosines recorded by GradientConflict."""

import numpy as np

from ._training import _fitted_network

__all__ = ["GradientConflictDisplay"]


class GradientConflictDisplay:
    """Per-task gradient norms and pairwise gradient cosines over the epochs.

    Draws what :class:`~skmtl.neural.GradientConflict` recorded: on the left
    each task's gradient norm on the shared parameters (log scale), on the
    right the cosine of every pair of task gradients, with a line at 0
    (below it the tasks conflict).

    Parameters
    ----------
    norms : array-like of shape (n_epochs, n_tasks)
    cosines : array-like of shape (n_epochs, n_tasks, n_tasks)
    task_names : list of str, default=None
    epochs : array-like of shape (n_epochs,), default=None

    Attributes
    ----------
    norm_lines_ : dict
        ``{task name: Line2D}``.
    cosine_lines_ : dict
        ``{(task i, task j): Line2D}`` for ``i < j``.
    axes_ : ndarray of two matplotlib Axes
    figure_ : matplotlib Figure

    See Also
    --------
    TaskWeightsDisplay : The task weights a strategy chose.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skmtl.neural import GradientConflict, MultiTaskRegressor
    >>> from skmtl.plotting import GradientConflictDisplay
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(100, 3)
    >>> est = MultiTaskRegressor(hidden_layer_sizes=(8,), max_epochs=3,
    ...                          callbacks=[GradientConflict(every=2)],
    ...                          random_state=0).fit(X, X[:, :2])
    >>> display = GradientConflictDisplay.from_estimator(est)
    >>> sorted(display.cosine_lines_)
    [('task_0', 'task_1')]
    """

    def __init__(self, norms, cosines, *, task_names=None, epochs=None):
        self.norms = norms
        self.cosines = cosines
        self.task_names = task_names
        self.epochs = epochs

    @classmethod
    def from_estimator(cls, estimator, *, axes=None, line_kw=None, legend=True):
        """Draw the values recorded by a ``GradientConflict`` callback during fit.

        Parameters
        ----------
        estimator : fitted neural multi-task estimator, or a Pipeline ending in one
            Fitted with ``callbacks=[GradientConflict()]``.
        axes : sequence of two matplotlib Axes, default=None
        line_kw : dict, default=None
        legend : bool, default=True

        Returns
        -------
        display : GradientConflictDisplay
        """
        model = _fitted_network(estimator, cls.__name__)
        history = model.history_
        if "task_gradient_norms" not in history[-1]:
            raise ValueError("the estimator's history holds no gradient norms: fit "
                             "it with callbacks=[GradientConflict()] (from "
                             "skmtl.neural).")
        display = cls(np.asarray(history[:, "task_gradient_norms"], dtype=float),
                      np.asarray(history[:, "task_gradient_cosines"], dtype=float),
                      task_names=[t.name for t in model.tasks_],
                      epochs=np.asarray(history[:, "epoch"]))
        return display.plot(axes=axes, line_kw=line_kw, legend=legend)

    def plot(self, axes=None, *, line_kw=None, legend=True):
        """Draw the norms and the cosines.

        Parameters
        ----------
        axes : sequence of two matplotlib Axes, default=None
        line_kw : dict, default=None
        legend : bool, default=True

        Returns
        -------
        self : GradientConflictDisplay
        """
        norms = np.asarray(self.norms, dtype=float)
        cosines = np.asarray(self.cosines, dtype=float)
        if norms.ndim != 2 or cosines.shape != norms.shape + norms.shape[1:]:
            raise ValueError(f"norms must be (n_epochs, n_tasks) and cosines "
                             f"(n_epochs, n_tasks, n_tasks); got shapes {norms.shape} "
                             f"and {cosines.shape}.")
        n_epochs, n_tasks = norms.shape
        names = (list(self.task_names) if self.task_names is not None
                 else [f"task_{k}" for k in range(n_tasks)])
        if len(names) != n_tasks:
            raise ValueError(f"got {len(names)} task names for {n_tasks} tasks.")
        epochs = (np.arange(1, n_epochs + 1) if self.epochs is None
                  else np.asarray(self.epochs))
        if axes is None:
            import matplotlib.pyplot as plt

            fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        else:
            fig = axes[0].figure
        kw = {"marker": "o", "markersize": 3}
        kw.update(line_kw or {})
        left, right = axes[0], axes[1]
        self.norm_lines_ = {}
        for k, name in enumerate(names):
            (self.norm_lines_[name],) = left.plot(epochs, norms[:, k], label=name, **kw)
        left.set_yscale("log")
        left.set_xlabel("epoch")
        left.set_ylabel("gradient norm (shared parameters)")
        self.cosine_lines_ = {}
        for i in range(n_tasks):
            for j in range(i + 1, n_tasks):
                (self.cosine_lines_[names[i], names[j]],) = right.plot(
                    epochs, cosines[:, i, j], label=f"{names[i]} / {names[j]}", **kw)
        right.axhline(0.0, color="grey", linewidth=0.8, linestyle="--")
        right.set_ylim(-1.05, 1.05)
        right.set_xlabel("epoch")
        right.set_ylabel("cosine of task gradients")
        if legend:
            left.legend()
            if self.cosine_lines_:
                right.legend()
        self.axes_, self.figure_ = np.asarray(axes), fig
        return self
