"""Datafits: masked, per-task normalized squared and logistic losses.

Per-task normalization (the same for both losses): task column ``k`` sees
only its labelled rows ``L_k``, each row weighted by its sample weight
``s_i``, averaged over those rows and multiplied by the task weight
``lambda_k``:

    datafit(W, b) = sum_k lambda_k / n_k * sum_{i in L_k} s_i loss(y_ik, x_i w_k + b_k)

with ``n_k = sum_{i in L_k} s_i``. The squared loss uses ``loss = (y - z)^2 / 2``,
so with every label present, unit weights and one column per task this is
scikit-learn's ``(1 / (2 n)) ||Y - XW||_F^2``. The per-entry weights
``D_ik = lambda_k s_i / n_k`` (0 where the label is missing) are the ``D``
below.

The datafit protocol
--------------------
Every datafit gives the solvers the same methods, so that a solver never
asks which loss it minimizes (:class:`Datafit` lists them). The solver
variable is ``W`` (n_features, n_columns) and intercepts ``b``
(n_columns,); a datafit keeps a *state* ``S``, linear in ``(W, b)``, from
which its value and gradient follow cheaply (``H W`` for the squared loss,
the scores ``X W + b`` for the logistic loss), so that accelerated methods
extrapolate states instead of recomputing products. What a datafit offers
beyond the protocol (the Gram rows of the squared loss, for coordinate
descent) a solver asks for by name (``Solver.datafit_needs``).
"""

import copy

import numpy as np
import scipy.sparse as sp
from scipy.linalg import blas
from scipy.sparse.linalg import LinearOperator, eigsh

__all__ = ["Datafit", "entry_weights", "weighted_gram", "dual_value", "Quadratic",
           "LocalQuadratic", "Logistic"]

# Largest number of float64 entries of per-task Gram matrices we build.
_GRAM_ENTRIES = 2.5e7



def weighted_gram(X, weights, uniform=False):
    """``X^T diag(weights) X`` for dense or sparse ``X`` (columns of a design).

    ``uniform``: every weight equals ``weights[0]``, so the product is the
    symmetric rank-k update ``X^T X`` scaled once.
    """
    if sp.issparse(X):
        return np.asarray((X.T @ X.multiply(weights[:, None])).todense())
    if uniform:
        G = X.T @ X
        G *= weights[0]
        return G
    return X.T @ (X * weights[:, None])


def t_dot(X, U):
    """``X^T U`` for a design ``X`` (dense or sparse) and a dense ``U``.

    For dense ``X`` as ``(U^T X)^T``: OpenBLAS multiplies a C-ordered ``X``
    by a few columns twice as fast from the left (2000 x 1000 by 20
    columns: 3.2 ms instead of 6.6 ms on one thread).
    """
    if sp.issparse(X) or U.ndim != 2:
        return np.asarray(X.T @ U)
    return np.ascontiguousarray((U.T @ X).T)


def x_dot(X, W):
    """``X W`` for a design ``X`` (dense or sparse) and a dense ``W``.

    For dense ``X`` as ``(W^T X^T)^T`` (Fortran-ordered), 15-25% faster
    than ``X @ W`` with OpenBLAS for a few columns (2000 x 1000 by 20
    columns: 2.7 ms instead of 3.7 ms on one thread).
    """
    if sp.issparse(X) or W.ndim != 2:
        return np.asarray(X @ W)
    return (W.T @ X.T).T


def entry_weights(labelled, sample_weight, column_weights):
    """Per-entry weights ``D`` (n, M) and per-task averaging weights ``E``.

    ``E_ik = s_i / n_k`` on labelled entries (each column sums to 1) and
    ``D = E * lambda``.
    """
    s = np.ones(labelled.shape[0]) if sample_weight is None else sample_weight
    E = labelled * s[:, None]
    totals = E.sum(axis=0)
    if np.any(totals <= 0):
        # Every labelled row has zero sample weight: average unweighted.
        bad = totals <= 0
        E[:, bad] = labelled[:, bad]
        totals = E.sum(axis=0)
    E = E / totals
    return E * column_weights[None, :], E


def _top_eigenvalue(matvec, dim):
    """Largest eigenvalue of a symmetric PSD operator (Lanczos, tiny safety margin)."""
    if dim == 1:
        return float(matvec(np.ones(1))[0])
    if dim <= 40:
        A = np.column_stack([matvec(e) for e in np.eye(dim)])
        return float(np.linalg.eigvalsh(0.5 * (A + A.T))[-1])
    op = LinearOperator((dim, dim), matvec=matvec, dtype=float)
    try:
        value = eigsh(op, k=1, which="LA", tol=1e-6, v0=np.ones(dim),
                      return_eigenvectors=False, maxiter=1000)[0]
    except Exception:  # ARPACK did not converge: power iteration, generous margin
        v = np.ones(dim) / np.sqrt(dim)
        value = 0.0
        for _ in range(100):
            w = matvec(v)
            value = float(np.linalg.norm(w))
            if value == 0:
                break
            v = w / value
        value *= 1.1
    return float(value) * (1.0 + 1e-6)


def dual_value(pen, yy, B, W, V, f):
    """Dual objective of a squared-loss problem at the rescaled residual of ``W``.

    ``V = B - H W`` is the negative gradient and ``f`` the datafit at ``W``;
    the dual point is ``s * r(W)`` with ``s`` the largest scaling that keeps
    it feasible for the penalty ``pen``. None when the penalty has no finite
    conjugate there.
    """
    s = pen.dual_scale(V)
    conj = pen.conjugate(s * V)
    if not np.isfinite(conj):
        return None
    return s * (yy - float(np.vdot(B, W))) - s * s * f - conj


class Datafit:
    """What every datafit offers a solver.

    A datafit is built from the validated data of one fit and owns every
    quantity derived from it. The solvers use these members, and nothing
    else, of any datafit:

    ``n_features``, ``n_columns``, ``column_weights``
        The shape of ``W`` and the task weight of each column.
    ``learns_intercept``
        Whether the intercepts ``b`` are solver variables (the logistic
        loss); False when the datafit eliminates them (the squared loss:
        ``intercept`` computes them from ``W``) or fits none.
    ``state(W, b)``
        The state ``S`` (linear in ``W`` and ``b``).
    ``value(W, b, S)``, ``value_and_gradient(W, b, S)``
        The datafit and its gradient ``(gW, gb)`` (``gb`` is None when the
        datafit does not learn intercepts).
    ``lipschitz()``
        A Lipschitz constant of the gradient in ``(W, b)``.
    ``intercept(W, b)``
        The fitted intercepts of a solution.
    ``negative_gradient_at_zero()``
        ``(V0, b0)``: minus the gradient in ``W`` at ``W = 0`` with the best
        intercepts ``b0`` there (for ``alpha_max``).
    ``duality_gap(penalty, W, S, value, penalty_value)``
        A duality gap of the penalized problem at ``W``, or None where the
        datafit has no conjugate to build one with (the solvers then stop
        on the relative change of the objective).
    ``gap_scale``
        The scale a relative tolerance multiplies: ``tol * gap_scale`` is
        the duality gap to reach.
    ``trivial``
        True when ``W = 0`` is optimal whatever the penalty (constant
        targets), so that no solver needs to run.
    ``gradient_cost()``
        Multiply-adds of one gradient (small problems run on one BLAS
        thread).
    """

    name = None  # e.g. "squared loss", for messages (the class name if None)
    learns_intercept = False
    gap_scale = 1.0
    trivial = False

    def duality_gap(self, penalty, W, S, value, penalty_value):
        """No duality gap unless the datafit gives one."""
        return None

    def gradient_cost(self):
        X = self.X
        per_column = X.nnz if sp.issparse(X) else X.shape[0] * X.shape[1]
        return per_column * self.n_columns


class _QuadraticForm(Datafit):
    """``f(W) = 1/2 (tr(W^T H W) - 2 <B, W> + yy)`` with ``S = H W``.

    Shared by the squared loss on the whole problem and on a working set:
    a subclass gives ``B``, ``yy`` and ``hessian_dot``.
    """

    name = "squared loss"

    @property
    def gap_scale(self):
        return self.yy

    @property
    def trivial(self):
        return self.yy == 0

    def state(self, W, b=None):
        return self.hessian_dot(W)

    def value(self, W, b, S):
        """``f(W)`` from ``W`` and ``S = H W``."""
        return 0.5 * (float(np.vdot(W, S)) - 2.0 * float(np.vdot(self.B, W))
                      + self.yy)

    def value_and_gradient(self, W, b, S):
        return self.value(W, b, S), S - self.B, None

    def negative_gradient_at_zero(self):
        return self.B, np.zeros(self.n_columns)

    def duality_gap(self, penalty, W, S, value, penalty_value):
        """Gap at the rescaled residual of ``W``; None without a conjugate."""
        if not hasattr(penalty, "conjugate"):
            return None
        dual = dual_value(penalty, self.yy, self.B, W, self.B - S, value)
        return None if dual is None else value + penalty_value - dual


class Quadratic(_QuadraticForm):
    """Masked weighted least squares with per-task intercepts eliminated.

    ``f(W) = 1/2 sum_ik D_ik (Yc_ik - (Xc_k W)_ik)^2`` where ``Xc_k``, ``Yc``
    are centered with task ``k``'s weights ``E`` when ``fit_intercept`` (the
    optimal intercept ``b_k = ybar_k - xbar_k w_k`` is exact for squared
    loss). Everything the solvers need is a function of ``H W`` (``H`` the
    Hessian, block diagonal over columns), which is computed on a Gram
    matrix (``mode="gram"``) or through ``X`` (``mode="x"``).

    ``X`` is never copied or centered: products with ``Xc`` add a rank-one
    correction, and ``Xc^T U = X^T U`` whenever every column of ``U`` sums to
    zero, which holds for ``U = D * Z`` with ``Z`` a product ``Xc W`` or a
    residual. The Gram matrix is built lazily: the coordinate descent solver
    asks for the rows of its working sets only, proximal gradient for all.

    Parameters
    ----------
    X : ndarray or sparse matrix (n, p)
    Y : ndarray (n, M), NaN where missing
    sample_weight : ndarray (n,) or None
    column_weights : ndarray (M,)
    fit_intercept : bool
    mode : {"auto", "gram", "x"}
    """

    def __init__(self, X, Y, sample_weight, column_weights, fit_intercept=True,
                 mode="auto"):
        n, p = X.shape
        labelled = ~np.isnan(Y)
        if sp.issparse(X):
            X = X.tocsc().astype(np.float64, copy=False)  # column slices
        else:
            X = np.asarray(X, dtype=np.float64)
        self.X = X
        self.n_features = p
        self.n_columns = M = Y.shape[1]
        self.fit_intercept = fit_intercept
        self.column_weights = np.asarray(column_weights, dtype=float)
        D, E = entry_weights(labelled, sample_weight, self.column_weights)
        self.D = D
        self.labelled = labelled
        Y0 = np.where(labelled, Y, 0.0)
        # Shared pattern: every column sees the same rows with the same weights
        # (shared_weights, summing to 1; uniform_weights: all equal).
        self.shared = bool(np.all(E == E[:, :1]))
        self.shared_weights = E[:, 0] if self.shared else None
        self.uniform_weights = self.shared and bool(np.all(E[:, 0] == E[0, 0]))
        if fit_intercept:
            if self.shared:
                self.x_mean = np.asarray(X.T @ E[:, 0]).ravel()[:, None]  # (p, 1)
            else:
                self.x_mean = np.asarray(X.T @ E)  # (p, M)
            self.y_mean = (E * Y0).sum(axis=0)
        else:
            self.x_mean = np.zeros((p, 1 if self.shared else M))
            self.y_mean = np.zeros(M)
        Yc = np.where(labelled, Y0 - self.y_mean, 0.0)
        self.Yc = Yc
        self.yy = float(np.sum(D * Yc ** 2))  # 2 * f(0)
        # B = Xc^T (D * Yc); the centering term vanishes since sum_i D_ik Yc_ik = 0.
        self.B = t_dot(X, D * Yc)
        if mode == "auto":
            n_entries = p * p * (1 if self.shared else M)
            nnz = X.nnz if sp.issparse(X) else n * p
            mode = "gram" if n_entries <= _GRAM_ENTRIES and p * p < 2 * nnz else "x"
        self.mode = mode
        self.G = None           # shared Gram (p, p) of the E-weighted centered X
        self.H = None           # per-column Hessians (M, p, p) otherwise
        self._rows_done = None  # which rows of G are computed (lazy rows)
        self._lipschitz = None
        self._diagonal = None
        self._gram_form = None
        self._gram32 = None     # float32 Gram (mixed precision)
        # Whether coordinate descent may build the Gram matrix in float32 and
        # refine through X (see ``approximate_gram``): worth it for one solve;
        # along a path the float64 Gram gives every outer gradient cheaply.
        self.mixed_precision = False

    # -- Gram matrices (mode "gram") ----------------------------------------
    def _weighted_cross(self, columns, weights, mean, full=False):
        """``Xc[:, columns]^T diag(weights) Xc`` (r, p), or the full Gram."""
        X = self.X
        if full:
            if sp.issparse(X) or self.uniform_weights:
                G = weighted_gram(X, weights, self.uniform_weights)
            else:
                Xs = X * np.sqrt(weights)[:, None]  # symmetric, as the others
                G = Xs.T @ Xs
        else:
            Xr = X[:, columns]
            if sp.issparse(Xr):
                G = np.asarray((Xr.multiply(weights[:, None]).T @ X).todense())
            elif self.uniform_weights:
                G = Xr.T @ X
                G *= weights[0]
            else:
                G = (Xr * weights[:, None]).T @ X
        if self.fit_intercept:
            if full and G.flags.c_contiguous:
                # In place: G.T is Fortran-ordered, G symmetric.
                blas.dger(-weights.sum(), mean, mean, a=G.T, overwrite_a=True)
            else:
                rows = slice(None) if full else columns
                G -= weights.sum() * np.outer(mean[rows], mean)
        return G

    def gram_rows(self, rows):
        """Rows ``rows`` of the shared Gram matrix (built lazily, then cached)."""
        p = self.n_features
        if self.G is None:
            self.G = np.empty((p, p))
            self._rows_done = np.zeros(p, dtype=bool)
        done = self._rows_done
        new = rows[~done[rows]] if rows is not None else np.flatnonzero(~done)
        if new.size:
            weights, mean = self.shared_weights, self.x_mean[:, 0]
            if new.size + done.sum() > 0.25 * p:
                # Most of it is needed: one symmetric product is cheaper.
                self.G = self._weighted_cross(None, weights, mean, full=True)
                done[:] = True
            else:
                self.G[new] = self._weighted_cross(new, weights, mean)
                done[new] = True
        return self.G if rows is None else self.G[rows]

    @property
    def allows_mixed_precision(self):
        """Whether ``approximate_gram`` may serve this problem (see there)."""
        return self.mixed_precision and self.shared and not sp.issparse(self.X)

    def approximate_gram(self):
        """The shared Gram matrix of the weighted, centered ``X`` in float32.

        Half the time of the float64 one (one symmetric float32 product of
        ``X`` centered in float64, then rounded) and a relative error near
        ``1e-6``: coordinate descent uses it only for the steps of its
        working sets, anchored at the exact gradient that it computes
        through ``X`` in float64, so that the solution is exact (mixed
        precision iterative refinement; dense ``X``, shared pattern).
        """
        if self._gram32 is None:
            X = self.X
            weights = self.shared_weights
            Xc = np.empty(X.shape, dtype=np.float32)
            np.subtract(X, self.x_mean[:, 0], out=Xc, casting="same_kind")
            if not self.uniform_weights:
                Xc *= np.sqrt(weights).astype(np.float32)[:, None]
            G = Xc.T @ Xc
            if self.uniform_weights:
                G *= np.float32(weights[0])
            self._gram32 = G
        return self._gram32

    @property
    def gram_complete(self):
        """Whether the shared Gram matrix is fully built."""
        return self._rows_done is not None and bool(self._rows_done.all())

    def _full_gram(self):
        if self.shared:
            return self.gram_rows(None)
        if self.H is None:
            p, M = self.n_features, self.n_columns
            self.H = np.empty((M, p, p))
            for k in range(M):
                rows = np.flatnonzero(self.D[:, k] > 0)
                X = self.X[rows]
                d = self.D[rows, k]
                if sp.issparse(X):
                    G = np.asarray((X.T @ X.multiply(d[:, None])).todense())
                else:
                    G = X.T @ (X * d[:, None])
                if self.fit_intercept:
                    G -= d.sum() * np.outer(self.x_mean[:, k], self.x_mean[:, k])
                self.H[k] = 0.5 * (G + G.T)
        return self.H

    @property
    def prefers_gram(self):
        """Whether this problem is best solved in the Gram space.

        More rows than features and the Gram matrices within memory
        (``mode="gram"``: one of ``p^2`` entries when every label is present
        with one weight per row, one per task column otherwise, at most
        2.5e7 entries in all): the rule by which ``solver="auto"`` picks
        ``"gram_cd"``.
        """
        return self.mode == "gram" and self.X.shape[0] > self.n_features

    def gram_form(self):
        """This datafit with every product taken on Gram matrices (``mode="gram"``).

        Itself when it is in that mode already, else a copy in it. With
        every label present and one weight per row, one Gram matrix of the
        weighted, centered ``X`` serves every column (its rows built as the
        solver asks for them, all at once by one symmetric product when
        most are needed); with missing labels each column has its own rows
        and weights, hence its own Gram matrix (``n_columns`` of them).

        Raises
        ------
        ValueError
            When those matrices would hold more than 2.5e7 entries (200 MB).
        """
        if self.mode == "gram":
            return self
        p, M = self.n_features, self.n_columns
        entries = p * p * (1 if self.shared else M)
        if entries > _GRAM_ENTRIES:
            per = ("one Gram matrix" if self.shared else
                   f"one Gram matrix per task column (missing labels: {M})")
            raise ValueError(
                f"solving in the Gram space needs {per} of {p} x {p}, "
                f"{entries:.3g} entries in all, above the limit of "
                f"{_GRAM_ENTRIES:.3g}; use solver='cd', which works through X.")
        if self._gram_form is None:
            self._gram_form = copy.copy(self)
            self._gram_form.mode = "gram"
        return self._gram_form

    # -- products ----------------------------------------------------------
    def xc_dot(self, W, rows=None):
        """``Z_k = Xc_k w_k`` (n, M) for ``W`` on features ``rows`` (all if None).

        Entries of unlabelled rows are not zeroed: callers multiply by ``D``.
        """
        if rows is not None and rows.size > self.n_features // 4 \
                and not sp.issparse(self.X):
            # A product with all of X beats copying most of its columns.
            full = np.zeros((self.n_features, W.shape[1]))
            full[rows] = W
            W, rows = full, None
        Z = x_dot(self.X if rows is None else self.X[:, rows], W)
        if self.fit_intercept:
            mean = self.x_mean if rows is None else self.x_mean[rows]
            Z -= np.sum(mean * W, axis=0)
        return Z

    def residual(self, W):
        """Weighted residual ``D * (Yc - Xc W)`` (n, M); its columns sum to 0."""
        support = np.flatnonzero(np.any(W != 0, axis=1))
        R = self.Yc.copy()
        if support.size:
            R -= self.xc_dot(W[support], support)
        R *= self.D
        return R

    def xt_dot(self, U, rows=None):
        """``Xc^T U`` for the features ``rows`` (column ``j`` of ``U`` for model
        column ``j mod n_columns``).

        ``X^T U`` minus the means times the column sums of ``U``: the
        residuals' columns sum to zero but for rounding, which the means of
        features far from zero would otherwise multiply.
        """
        V = t_dot(self.X if rows is None else self.X[:, rows], U)
        if self.fit_intercept:
            mean = self.x_mean if rows is None else self.x_mean[rows]
            if mean.shape[1] > 1:
                mean = np.tile(mean, (1, U.shape[1] // mean.shape[1]))
            V -= mean * U.sum(axis=0)
        return V

    def hessian_dot(self, W, rows=None):
        """``H W`` (p, M); with ``rows``, only for those features (W zero elsewhere)."""
        if self.mode == "gram":
            if self.shared:
                if rows is None:
                    return (self.gram_rows(None) @ W) * self.column_weights
                if self.gram_complete and rows.size > self.n_features // 4:
                    # A product with the whole matrix beats copying its rows.
                    full = np.zeros((self.n_features, W.shape[1]))
                    full[rows] = W
                    return (self.G @ full) * self.column_weights
                return (self.gram_rows(rows).T @ W) * self.column_weights
            H = self._full_gram()
            if rows is None:
                return np.einsum("kij,jk->ik", H, W)
            return np.einsum("kij,jk->ik", H[:, :, rows], W)
        return self.xt_dot(self.D * self.xc_dot(W, rows))

    def local_hessian(self, rows):
        """Hessian blocks restricted to features ``rows``.

        Returns ``(G, None)`` with ``H_k = lambda_k G`` for a shared pattern,
        or ``(None, H)`` with ``H`` of shape (M, r, r).
        """
        if self.mode == "gram":
            if not self.shared:
                return None, self._full_gram()[:, rows][:, :, rows]
            if rows.size == self.n_features:  # sorted working set: every row
                return self.gram_rows(None), None
            missing = rows.size if self.G is None else int(
                np.sum(~self._rows_done[rows]))
            # Rows cost n p each, the block alone n r^2: compute whole rows only
            # when they are few (working-set features outside the support
            # often never need theirs).
            if not missing or rows.size ** 2 >= self.n_features * missing:
                return self.gram_rows(rows)[:, rows], None
        X = self.X[:, rows]
        if self.shared:
            G = weighted_gram(X, self.shared_weights, self.uniform_weights)
            if self.fit_intercept:
                G -= np.outer(self.x_mean[rows, 0], self.x_mean[rows, 0])
            return 0.5 * (G + G.T), None
        if sp.issparse(X):
            X = X.toarray()
        H = np.einsum("ia,ik,ib->kab", X, self.D, X, optimize=True)
        if self.fit_intercept:
            m = self.x_mean[rows]
            H -= self.column_weights[:, None, None] * np.einsum("ak,bk->kab", m, m)
        return None, H

    def hessian_diagonal(self):
        """Diagonal of each column's Hessian, (p, M)."""
        if self._diagonal is not None:
            return self._diagonal
        X = self.X
        weights = self.shared_weights[:, None] if self.shared else self.D
        if sp.issparse(X):
            sq = np.asarray(X.multiply(X).T @ weights)
        elif self.uniform_weights:
            sq = np.einsum("ij,ij->j", X, X)[:, None] * weights[0]
        else:
            sq = (X * X).T @ weights
        if self.fit_intercept:
            # sum_i D_ik (x_ij - m_jk)^2 = sum D x^2 - lambda_k m_jk^2
            sq = sq - (1.0 if self.shared else self.column_weights) * self.x_mean ** 2
        if self.shared:
            sq = sq * self.column_weights
        self._diagonal = np.maximum(sq, 0.0)
        return self._diagonal

    # -- quantities --------------------------------------------------------
    def gradient_cost(self):
        per_column = super().gradient_cost() // self.n_columns
        if self.mode == "gram":
            per_column = min(per_column, self.n_features ** 2)
        return per_column * self.n_columns

    def lipschitz(self):
        if self._lipschitz is None:
            self._lipschitz = self._compute_lipschitz()
        return self._lipschitz

    def _compute_lipschitz(self):
        p, M = self.n_features, self.n_columns
        if self.mode == "gram" and self.shared:
            G = self.gram_rows(None)
            return _top_eigenvalue(lambda v: G @ v, p) * self.column_weights.max()
        if self.mode == "gram":
            H = self._full_gram()
            return max(_top_eigenvalue(lambda v, k=k: H[k] @ v, p) for k in range(M))
        if self.shared:
            k = int(np.argmax(self.column_weights))
            columns = [k]
        else:
            columns = [k for k in range(M) if self.column_weights[k]]
        values = [0.0]
        for k in columns:
            d, mean = self.D[:, k], self.x_mean[:, min(k, self.x_mean.shape[1] - 1)]

            def matvec(v, d=d, mean=mean):
                z = np.asarray(self.X @ v).ravel()
                if self.fit_intercept:
                    z = z - mean @ v
                return np.asarray(self.X.T @ (d * z)).ravel()

            values.append(_top_eigenvalue(matvec, p))
        return max(values)

    def intercept(self, W, b=None):
        """The optimal intercepts for ``W`` (``ybar_k - xbar_k w_k``)."""
        if not self.fit_intercept:
            return np.zeros(self.n_columns)
        return self.y_mean - np.sum(self.x_mean * W, axis=0)


class LocalQuadratic(_QuadraticForm):
    """The squared loss restricted to a working set (for its inner FISTA).

    ``H_k = lambda_k G`` (shared pattern, ``H`` None) or the blocks ``H``
    (n_columns, w, w); no intercept (the outer problem is centered).
    """

    fit_intercept = False

    def __init__(self, G, H, lam, B, yy):
        self.G, self.H, self.column_weights, self.B, self.yy = G, H, lam, B, yy
        self.n_features, self.n_columns = B.shape
        self._L = None

    def hessian_dot(self, W):
        if self.G is not None:
            return (self.G @ W) * self.column_weights
        return np.einsum("kij,jk->ik", self.H, W)

    def gradient_cost(self):
        return self.n_features ** 2 * self.n_columns

    def lipschitz(self):
        if self._L is None:
            if self.G is not None:
                top = np.linalg.eigvalsh(self.G)[-1] if len(self.G) else 0.0
                self._L = float(top) * float(self.column_weights.max()) * (1 + 1e-10)
            else:
                self._L = max(float(np.linalg.eigvalsh(h)[-1]) for h in self.H) * (
                    1 + 1e-10)
        return self._L

    def intercept(self, W, b=None):
        return np.zeros(self.n_columns)


class Logistic(Datafit):
    """Masked weighted logistic loss for binary and multinomial task columns.

    ``groups`` lists, per task, its columns of ``W``: one column is a binary
    (sigmoid) task with targets in {0, 1}; several columns a softmax task
    whose targets ``T`` hold the class index in the first column of the group.
    Intercepts, when fitted, are unpenalized solver variables ``b``; the
    state is the matrix of scores ``X W + b``.
    """

    name = "logistic loss"

    def __init__(self, X, T, groups, sample_weight, task_weights, fit_intercept=True):
        self.X = X
        n, p = X.shape
        self.n_features = p
        self.groups = [np.asarray(g) for g in groups]
        self.n_columns = M = sum(len(g) for g in groups)
        self.fit_intercept = fit_intercept
        labelled = ~np.isnan(T)
        column_weights = np.empty(M)
        for g, lam in zip(self.groups, task_weights, strict=True):
            column_weights[g] = lam
        self.column_weights = column_weights
        D, _ = entry_weights(labelled, sample_weight, column_weights)
        self.D = D
        self.labelled = labelled
        T0 = np.where(labelled, T, 0.0)
        # One-hot targets per column.
        self.onehot = np.zeros((n, M))
        self.binary = []
        for g in self.groups:
            if len(g) == 1:
                self.onehot[:, g[0]] = T0[:, g[0]]
                self.binary.append(True)
            else:
                idx = T0[:, g[0]].astype(int)
                self.onehot[np.arange(n), g[idx]] = 1.0
                self.binary.append(False)
        self.onehot *= labelled
        self._lipschitz = None

    @property
    def learns_intercept(self):
        return self.fit_intercept

    def state(self, W, b):
        return np.asarray(self.X @ W) + b

    def value(self, W, b, S):
        return self.value_and_residual(S)[0]

    def value_and_gradient(self, W, b, S):
        f, G = self.value_and_residual(S)
        gW, gb = self.backward(G)
        return f, gW, gb if self.fit_intercept else None

    def intercept(self, W, b):
        return np.zeros(self.n_columns) if b is None else np.asarray(b, dtype=float)

    def value_and_residual(self, Z):
        """Loss and ``dLoss/dZ`` (n, M) at scores ``Z``."""
        total = 0.0
        G = np.zeros_like(Z)
        for g, is_binary in zip(self.groups, self.binary, strict=True):
            d = self.D[:, g[0]]
            if is_binary:
                z = Z[:, g[0]]
                y = self.onehot[:, g[0]]
                total += float(d @ (np.logaddexp(0.0, z) - y * z))
                G[:, g[0]] = d * (_expit(z) - y)
            else:
                z = Z[:, g]
                zmax = z.max(axis=1, keepdims=True)
                e = np.exp(z - zmax)
                norm = e.sum(axis=1, keepdims=True)
                lse = (np.log(norm) + zmax)[:, 0]
                y = self.onehot[:, g]
                total += float(d @ (lse - np.sum(y * z, axis=1)))
                G[:, g] = d[:, None] * (e / norm - y)
        return total, G

    def backward(self, G):
        gW = np.asarray(self.X.T @ G)
        gb = G.sum(axis=0) if self.fit_intercept else np.zeros(G.shape[1])
        return gW, gb

    def lipschitz(self):
        if self._lipschitz is not None:
            return self._lipschitz
        n, p = self.X.shape
        dim = p + int(self.fit_intercept)
        values = []
        for g, is_binary in zip(self.groups, self.binary, strict=True):
            d = self.D[:, g[0]]
            if not d.any():
                continue

            def matvec(v, d=d):
                z = np.asarray(self.X @ v[:p]).ravel()
                if self.fit_intercept:
                    z = z + v[p]
                u = d * z
                out = np.asarray(self.X.T @ u).ravel()
                if self.fit_intercept:
                    out = np.append(out, u.sum())
                return out

            scale = 0.25 if is_binary else 0.5
            values.append(scale * _top_eigenvalue(matvec, dim))
        self._lipschitz = max(values) if values else 1.0
        return self._lipschitz

    def negative_gradient_at_zero(self):
        """Minus the gradient in W at W = 0 with the best intercepts there."""
        b = self._best_intercepts()
        Z = np.zeros((self.X.shape[0], self.n_columns)) + b
        _, G = self.value_and_residual(Z)
        gW, _ = self.backward(G)
        return -gW, b

    def _best_intercepts(self, max_iter=200):
        """Intercepts minimizing the loss at ``W = 0`` (gradient descent)."""
        M = self.n_columns
        if not self.fit_intercept:
            return np.zeros(M)
        n = self.X.shape[0]
        b = np.zeros(M)
        step = 1.0 / max(0.5 * self.column_weights.max(), 1e-12)
        for _ in range(max_iter):
            _, G = self.value_and_residual(np.zeros((n, M)) + b)
            g = G.sum(axis=0)
            b -= step * g
            if np.abs(g).max() < 1e-10:
                break
        return b


def _expit(z):
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    e = np.exp(z[~pos])
    out[~pos] = e / (1.0 + e)
    return out
