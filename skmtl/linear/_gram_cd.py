"""Coordinate descent in the Gram space (``"gram_cd"``), for n_samples > n_features.

With more samples than features every quantity of the squared loss is a
function of the Gram matrix ``G = Xc^T diag(w) Xc`` (p, p) and of
``B = Xc^T (D * Yc)`` (p, M): after they are built no step touches ``X``,
so a sweep over the features costs ``p^2 M`` instead of scikit-learn's
``2 n p M``. The datafit in that form is ``Quadratic.gram_form()``:

* the negative gradient is ``V = B - H W`` with ``H_k = lambda_k G``: a block
  of rows of ``W`` that changes by ``delta`` updates ``H W`` by the matching
  columns of ``G`` times ``delta`` (``_sweeps.solve_gram``);
* the datafit is ``1/2 (tr(W^T H W) - 2 <B, W> + yy)``, i.e.
  ``||Y - X W||^2 = tr(Y^T Y) - 2 tr(W^T X^T Y) + tr(W^T G W)`` with the
  weights, so the duality gap needs no residual.

The outer loop (``_cd.coordinate_descent``: gap-safe screening, working
sets, dual extrapolation) computes the rows of ``G`` that its working sets
need, and all of ``G`` at once (one symmetric product, ``n p^2 / 2``
multiply-adds) when most features violate their optimality condition.

A single fit (not a path) that needs all of ``G`` builds it in float32
(``Quadratic.approximate_gram``: half the time) and runs the outer loop
through ``X`` in float64: each working set's sweeps start from the exact
``H W`` of the outer gradient and add float32 products only for the
change of ``W`` (``_sweeps.solve_gram``'s ``Q0``), so the outer iterations
refine to the float64 solution and gap.

Missing labels give each task its own rows, hence its own Gram matrix: the
datafit then holds ``M`` of them (``M p^2`` entries, ``M`` times the work to
build). ``solver="auto"`` picks this solver for ``n_samples > n_features``
where the Gram matrices hold at most 2.5e7 entries
(:attr:`Quadratic.prefers_gram`); ``solver="gram_cd"`` forces it.
"""

from ._cd import CoordinateDescent, coordinate_descent

__all__ = ["GramCoordinateDescent"]


class GramCoordinateDescent(CoordinateDescent):
    """Working-set block coordinate descent on the Gram matrix.

    For the squared loss and row-separable penalties (:class:`L1`,
    :class:`L21`, :class:`Ridge` and their elastic-net forms), as
    :class:`CoordinateDescent`, with every product taken on the Gram matrix
    ``X^T X`` and ``X^T Y`` (centered and weighted as the datafit says),
    whatever the shape. ``solver="auto"`` picks it when there are more
    samples than features and the Gram matrices fit in memory (at most
    2.5e7 entries: ``p <= 5000`` with every label present, one Gram matrix
    per task column with missing labels); otherwise
    :class:`CoordinateDescent`, which works through ``X`` when that is
    cheaper. A single fit whose working sets need the whole Gram matrix (a
    small ``alpha``, every label present, dense ``X``) builds it in float32
    and refines through ``X`` in float64: the same solution and duality
    gap in less time.

    Parameters
    ----------
    selection : {"cyclic", "random"}, default="cyclic"
        Order in which each sweep visits the blocks of features of a
        working set: in turn, or in a new random order every sweep.
    random_state : int, RandomState instance or None, default=None
        Seed of the random order.
    screening : bool, default=True
        Discard the features that the gap-safe sphere proves inactive.

    Notes
    -----
    Friedman, Hastie & Tibshirani (2010), "Regularization paths for
    generalized linear models via coordinate descent", J. Stat. Software 33
    (covariance updates: coordinate descent on the Gram matrix); see
    :func:`~skmtl.linear._cd.coordinate_descent` for the working sets,
    screening and dual extrapolation.

    Examples
    --------
    >>> from skmtl.datasets import make_multitask_regression
    >>> from skmtl.linear import L21, GramCoordinateDescent, MultiTaskLinearRegressor
    >>> X, Y = make_multitask_regression(n_samples=200, n_features=20, n_tasks=3,
    ...                                  random_state=0)
    >>> MultiTaskLinearRegressor(L21(0.1)).fit(X, Y).solver_  # n > p: auto
    'gram_cd'
    >>> GramCoordinateDescent(selection="random", random_state=0)
    GramCoordinateDescent(random_state=0, selection='random')
    """

    name = "gram_cd"
    datafit_needs = ("gram_form",)

    def suits(self, penalty, datafit):
        """Picked by ``solver="auto"`` where the datafit prefers the Gram space."""
        return bool(getattr(datafit, "prefers_gram", False))

    def solve(self, datafit, penalty, V0, b0=None, *, max_iter=1000, tol=1e-4,
              state=None):
        return coordinate_descent(datafit.gram_form(), penalty, V0, max_iter=max_iter,
                                  tol=tol, screening=self.screening,
                                  selection=self.selection,
                                  random_state=self.random_state, state=state)
