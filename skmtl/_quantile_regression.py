"""The single-task model of quantile tasks: several quantiles of a target.

It imports nothing from skmtl but utilities, so that the quantile task type
(:mod:`skmtl.tasks`) can name it as its baseline without an import cycle.
"""

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, MetaEstimatorMixin, RegressorMixin, clone
from sklearn.utils.validation import check_is_fitted, validate_data

from .utils._validation import check_sample_weight

__all__ = ["MultiQuantileRegressor"]


def _fit_one(estimator, X, y, sample_weight):
    if sample_weight is None:
        return estimator.fit(X, y)
    return estimator.fit(X, y, sample_weight=sample_weight)


class MultiQuantileRegressor(MetaEstimatorMixin, RegressorMixin, BaseEstimator):
    """Several quantiles of each target, one model per level, never crossing.

    Fits a clone of ``estimator`` per output column and quantile level,
    with its ``quantile`` parameter set to the level; at prediction the
    quantiles of each row are sorted (rearrangement), so that they never
    cross. The single-task model of quantile tasks
    (``Task(..., "quantile")``): :class:`SingleTaskBaseline` and
    :func:`~skmtl.model_selection.transfer_report` use it for them.

    Parameters
    ----------
    estimator : estimator, default=None
        A regressor with a ``quantile`` parameter (e.g.
        ``sklearn.linear_model.QuantileRegressor``,
        ``HistGradientBoostingRegressor(loss="quantile")``); None is linear
        quantile regression without penalty, ``QuantileRegressor(alpha=0)``.
    quantiles : sequence of float, default=(0.1, 0.5, 0.9)
        Increasing levels in (0, 1).
    n_jobs : int, default=None
        Models fitted in parallel through joblib.

    Attributes
    ----------
    estimators_ : list of list of estimators
        ``estimators_[j][k]``: the model of output column ``j`` at level
        ``quantiles[k]``.
    n_features_in_ : int

    See Also
    --------
    sklearn.linear_model.QuantileRegressor : One level of one target.

    Notes
    -----
    Rearranging crossing quantile curves into increasing order gives
    quantile estimates at least as close to the true ones: Chernozhukov,
    Fernández-Val & Galichon (2010), "Quantile and probability curves
    without crossing", Econometrica 78.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl import MultiQuantileRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(0, 1, size=(300, 1))
    >>> y = 2 * X[:, 0] + rng.uniform(-1, 1, size=300)  # quantiles 2x + 2 tau - 1
    >>> est = MultiQuantileRegressor(quantiles=(0.1, 0.5, 0.9)).fit(X, y)
    >>> np.round(est.predict_quantiles([[0.5]]), 1)  # true: 0.2, 1, 1.8
    array([[0.2, 0.9, 1.8]])
    >>> np.round(est.predict([[0.5]]), 1)  # the level nearest 0.5
    array([0.9])
    """

    def __init__(self, estimator=None, quantiles=(0.1, 0.5, 0.9), n_jobs=None):
        self.estimator = estimator
        self.quantiles = quantiles
        self.n_jobs = n_jobs

    def _levels(self):
        levels = np.asarray(self.quantiles, dtype=np.float64)
        if (levels.ndim != 1 or levels.size == 0 or np.any(levels <= 0)
                or np.any(levels >= 1) or np.any(np.diff(levels) <= 0)):
            raise ValueError(f"quantiles={self.quantiles!r} must be increasing levels "
                             f"strictly between 0 and 1.")
        return levels

    def _at_level(self, level):
        """A new model of the level ``level``."""
        if self.estimator is None:
            from sklearn.linear_model import QuantileRegressor

            return QuantileRegressor(quantile=level, alpha=0.0)
        try:
            return clone(self.estimator).set_params(quantile=level)
        except ValueError:
            raise ValueError(f"estimator {self.estimator!r} has no quantile= "
                             f"parameter; use e.g. QuantileRegressor or "
                             f"HistGradientBoostingRegressor with the quantile "
                             f"loss.") from None

    def fit(self, X, y, sample_weight=None):
        """Fit one model per output column and level.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        try:
            return self._fit(X, y, sample_weight)
        except Exception:
            # A failed fit leaves the estimator unfitted (as skmtl's others).
            for name in ("estimators_", "n_features_in_", "_y_was_1d"):
                self.__dict__.pop(name, None)
            raise

    def _fit(self, X, y, sample_weight):
        levels = self._levels()
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True,
                             accept_sparse=["csr", "csc"])
        self._y_was_1d = y.ndim == 1
        Y = y[:, None] if y.ndim == 1 else y
        sample_weight = check_sample_weight(sample_weight, X.shape[0])
        jobs = [delayed(_fit_one)(self._at_level(float(level)), X, Y[:, j],
                                  sample_weight)
                for j in range(Y.shape[1]) for level in levels]
        fitted = Parallel(n_jobs=self.n_jobs)(jobs)
        m = len(levels)
        self.estimators_ = [fitted[j * m:(j + 1) * m] for j in range(Y.shape[1])]
        return self

    def _column_quantiles(self, X):
        return [np.sort(np.column_stack([est.predict(X) for est in models]), axis=1)
                for models in self.estimators_]

    def predict_quantiles(self, X):
        """The quantiles of every level, increasing along each row.

        Returns
        -------
        quantiles : ndarray of shape (n_samples, n_quantiles) or list
            For a 1-D ``y`` at fit the array itself, else one array per
            output column.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, accept_sparse=["csr", "csc"])
        columns = self._column_quantiles(X)
        return columns[0] if self._y_was_1d else columns

    def predict(self, X):
        """The quantile whose level is nearest 0.5 (the median if it is one).

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, accept_sparse=["csr", "csc"])
        middle = int(np.argmin(np.abs(self._levels() - 0.5)))
        pred = np.column_stack([q[:, middle] for q in self._column_quantiles(X)])
        return pred[:, 0] if self._y_was_1d else pred

    def score(self, X, y, sample_weight=None):
        """R² of :meth:`predict` (the level nearest 0.5) on ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        return super().score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.input_tags.sparse = True
        return tags
