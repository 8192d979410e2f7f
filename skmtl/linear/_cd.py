"""Working-set block coordinate descent for row-separable penalties (L1, L2,1, L2).

The outer loop computes the full gradient and duality gap once per
iteration, discards the features that the gap-safe sphere proves inactive,
and builds a working set: the current support plus the features closest to
violating their optimality condition, at least twice the support. The
working set's problem is solved to a fraction of the outer gap by the block
sweeps of ``_sweeps.py``.

Where the working set's problem lives depends on the shape:

* ``n_samples >= n_features`` (the datafit's ``mode="gram"``): on rows of the
  Gram matrix, computed only for the features that enter a working set
  (all at once, by a symmetric product, when most features violate their
  optimality condition). The outer gradient ``B - G[:, support] W[support]``
  needs no pass over ``X``.
* ``n_features > n_samples`` (``mode="x"``): the weighted residual ``R`` is
  kept up to date and the outer gradient is one product ``X^T R``; a small
  working set is solved on its own Gram matrix, a large one through ``X``.

The duality gap uses the best dual point seen so far, including the
extrapolated ones of the sweeps (celer's dual extrapolation), re-evaluated
on every feature.
"""

import numpy as np
from sklearn.utils import check_random_state

from . import _sweeps
from ._datafits import dual_value
from ._solvers import Solver, SolverResult
from ._sweeps import blas_threads, block_lipschitz, solve_gram, solve_x

__all__ = ["CoordinateDescent", "coordinate_descent"]

_WS_START = 64  # size of the first working set (tests lower it)


def _gram_is_cheaper(df, width, size):
    """In X mode: solve a working set on its Gram matrix rather than through X."""
    if df.shared:
        return width <= max(4 * size, 16 * df.n_columns)
    return width <= size


def _working_set(priority, size, support, alive):
    """The ``size`` features of lowest priority, support first (all if ``size``
    reaches the features left)."""
    if size >= int(alive.sum()):
        return np.flatnonzero(alive)
    ws = np.argpartition(priority, size - 1)[:size]
    # Support first: its blocks are the busy ones, and blocks of features
    # that stay at zero cost one product each.
    in_support = np.isin(ws, support)
    return np.concatenate([np.sort(ws[in_support]), np.sort(ws[~in_support])])


def _negative_gradient(df, W, R):
    """``(V, f)``: ``V = B - H W`` on every feature and the datafit ``f(W)``."""
    if R is None:
        support = np.flatnonzero(np.any(W != 0, axis=1))
        if not support.size:
            return df.B.copy(), 0.5 * df.yy
        HW = df.hessian_dot(W[support], rows=support)
        return df.B - HW, df.value(W, None, HW)
    if not W.any():
        return df.B.copy(), 0.5 * df.yy  # X^T R at W = 0, without the product
    V = df.xt_dot(R)
    return V, 0.5 * (df.yy - float(np.vdot(df.B, W)) - float(np.vdot(V, W)))


def _update_residuals(df, R, ws, old, new, point):
    """Update ``R`` in place for ``W[ws]`` going from ``old`` to ``new``, and
    return the residual of ``W`` with ``point`` in the rows ``ws`` (None
    without a ``point``): one product with ``X`` for both."""
    M = R.shape[1]
    steps = [new - old] + ([] if point is None else [point - new])
    both = np.hstack(steps)
    rows = np.flatnonzero(np.any(both != 0, axis=1))
    if not rows.size:
        return None if point is None else R.copy()
    Z = df.xc_dot(both[rows], ws[rows])
    Z *= np.hstack([df.D] * len(steps))
    R -= Z[:, :M]
    return None if point is None else R - Z[:, M:]


def _two_negative_gradients(df, W, R, W_t, R_t=None):
    """``(V, f, V_t, f_t)`` at ``W`` (residual ``R``) and at ``W_t``, one pass over X.

    The residual of ``W_t`` (``R_t`` if known) differs from ``R`` on the rows
    where ``W_t`` differs from ``W``; both gradients come from one product
    with ``X^T``.
    """
    M = R.shape[1]
    if R_t is None:
        rows = np.flatnonzero(np.any(W != W_t, axis=1))
        R_t = R + df.D * df.xc_dot(W[rows] - W_t[rows], rows)
    if not W.any():
        V, V_t = df.B.copy(), df.xt_dot(R_t)
    else:
        both = df.xt_dot(np.hstack([R, R_t]))
        V, V_t = both[:, :M], both[:, M:]
    half = 0.5 * df.yy
    return (V, half - 0.5 * (float(np.vdot(df.B, W)) + float(np.vdot(V, W))),
            V_t, half - 0.5 * (float(np.vdot(df.B, W_t)) + float(np.vdot(V_t, W_t))))


class CoordinateDescent(Solver):
    """Working-set block coordinate descent with gap-safe screening.

    For the squared loss and row-separable penalties (:class:`L1`,
    :class:`L21`, :class:`Ridge` and their elastic-net forms): each outer
    iteration computes the gradient and the duality gap, discards the
    features the gap-safe sphere proves inactive and solves a working set
    (the support plus the features closest to violating their optimality
    condition) by block sweeps, on the rows of the Gram matrix that it needs
    (``n_samples >= n_features``) or through ``X``.

    Parameters
    ----------
    selection : {"cyclic", "random"}, default="cyclic"
        Order in which each sweep visits the blocks of a working set: in
        turn, or in a new random order every sweep (as scikit-learn's
        ``selection="random"``).
    random_state : int, RandomState instance or None, default=None
        Seed of the random order.
    screening : bool, default=True
        Discard the features that the gap-safe sphere proves inactive.

    Notes
    -----
    See :func:`coordinate_descent` for the references.

    Examples
    --------
    >>> from skmtl.linear import CoordinateDescent
    >>> CoordinateDescent(selection="random", random_state=0)
    CoordinateDescent(random_state=0, selection='random')
    """

    name = "cd"
    penalty_needs = ("value", "prox_rows", "dual_scale", "conjugate")
    datafit_needs = ("hessian_dot", "local_hessian", "hessian_diagonal", "residual",
                     "xc_dot", "xt_dot", "intercept")

    def __init__(self, selection="cyclic", random_state=None, screening=True):
        self.selection = selection
        self.random_state = random_state
        self.screening = screening

    def solve(self, datafit, penalty, V0, b0=None, *, max_iter=1000, tol=1e-4,
              state=None):
        return coordinate_descent(datafit, penalty, V0, max_iter=max_iter, tol=tol,
                                  screening=self.screening, selection=self.selection,
                                  random_state=self.random_state, state=state)


def coordinate_descent(df, pen, W0, max_iter=1000, tol=1e-4, screening=True,
                       selection="cyclic", random_state=None, state=None):
    """Working-set block coordinate descent over features, with gap-safe screening.

    Parameters
    ----------
    df : Quadratic
    pen : Penalty with ``prox_rows``, ``dual_scale`` and ``conjugate``
        (row-separable: L1, L2,1, L2 and their elastic-net forms).
    W0 : ndarray (p, M)
        Starting point (warm start).
    max_iter : int
        Outer iterations (each one full gradient and duality gap). It also
        bounds the inner work: each outer iteration solves its working set
        with at most ``_sweeps.MAX_SWEEPS`` (100) sweeps, or 1000 FISTA steps
        when the working set is one block, so a run makes at most
        ``1000 max_iter`` inner iterations whatever ``tol``. The cap does not
        depend on ``max_iter``, so ``k`` iterations continued by ``k`` more
        (``state``) equal ``2 k``.
    tol : float
        Stop when the duality gap is below ``tol * 2 f(0)``.
    selection : {"cyclic", "random"}, default="cyclic"
        Order in which each sweep visits the blocks of a working set: in
        turn, or in a new random order every sweep (as scikit-learn's
        ``selection="random"``).
    random_state : int, RandomState or None
        Seed of the random order.
    state : dict, optional
        ``SolverResult.state`` of a run that stopped at ``max_iter`` at
        ``W0`` on the same data: continue with its dual point, working set
        and screened features.

    Returns
    -------
    SolverResult
        With ``inner_iter``, the total number of sweeps.

    Notes
    -----
    Ndiaye, Fercoq, Gramfort & Salmon (2017), "Gap safe screening rules for
    sparsity enforcing penalties", JMLR 18; Massias, Gramfort & Salmon (2018),
    "Celer: a fast solver for the Lasso with dual extrapolation", ICML
    (working sets, dual extrapolation); Tseng & Yun (2009), "A coordinate
    gradient descent method for nonsmooth separable minimization", Math.
    Programming 117 (block proximal steps).
    """
    p, M = W0.shape
    W = np.array(W0, dtype=float)
    lam = df.column_weights
    row_L = df.hessian_diagonal().max(axis=1)
    col_norms = np.sqrt(row_L)
    alive = row_L > 0
    sparse_penalty = hasattr(pen, "row_dual_norms") and pen.strength > 0
    can_screen = screening and sparse_penalty and pen.l2_strength == 0
    tol_abs = tol * df.yy
    gram = df.mode == "gram"
    n = df.X.shape[0]
    size = _sweeps.BLOCK
    max_sweeps = _sweeps.MAX_SWEEPS
    rng = check_random_state(random_state) if selection == "random" else None
    objective = []
    gap = np.nan
    converged = False
    best_dual, best_V = -np.inf, None
    candidate = None  # the best dual point of the last working set, as a W
    ws_size = 0
    sweeps = 0
    cache = None  # the last working set, its Hessian and block constants
    cached_ws = None  # that working set (kept by the state, the Hessian is not)
    support_stable = False
    solved = None  # the last working set, where its problem was solved to the end
    # Mixed precision (a single solve in the Gram space that needs all of G):
    # the working sets run on a float32 Gram matrix, anchored at the exact
    # gradient X^T R that the outer loop computes through X in float64.
    mixed = False
    if state is not None and np.array_equal(state["B"], df.B):
        alive = state["alive"].copy()
        best_dual, best_V = state["best_dual"], state["best_V"]
        candidate, ws_size = state["candidate"], state["ws_size"]
        support_stable, cached_ws = state["support_stable"], state["cached_ws"]
        mixed, solved = state.get("mixed", False), state.get("solved")
        gram = gram and not mixed
    W[~alive] = 0.0
    R = None if gram else df.residual(W)
    R_t = None  # the residual of the candidate, where computed with R's update
    if R is not None and state is not None and state.get("R") is not None \
            and np.array_equal(state["B"], df.B):
        R = state["R"].copy()  # the one kept up to date: the same rounding
        R_t = state.get("R_t")
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007 - n_iter is returned
        if R is not None and candidate is not None:
            V, f, V_t, f_t = _two_negative_gradients(df, W, R, candidate, R_t)
        else:
            V, f = _negative_gradient(df, W, R)
            if candidate is not None:
                V_t, f_t = _negative_gradient(df, candidate, None)
        V_stale = False  # V is the gradient at W (until screening zeroes rows)
        pen_value = pen.value(W)
        objective.append(f + pen_value)
        value = dual_value(pen, df.yy, df.B, W, V, f)
        if value is not None and value > best_dual:
            best_dual, best_V = value, V
        if candidate is not None:
            value = dual_value(pen, df.yy, df.B, candidate, V_t, f_t)
            if value is not None and value > best_dual:
                best_dual, best_V = value, V_t
        gap = f + pen_value - best_dual if np.isfinite(best_dual) else np.nan
        if np.isfinite(gap):
            if gap <= tol_abs:
                converged = True
                break
        elif (len(objective) > 1 and objective[-1] <= objective[-2]
              and objective[-2] - objective[-1] <= tol * abs(objective[-1])):
            converged = True  # no dual point: relative change of the objective
            break
        if sparse_penalty:
            # Screening and priorities use the best dual point (the safe
            # sphere is centered there, with the radius of its gap).
            center = best_V if best_V is not None else V
            s = pen.dual_scale(center)
            dual_norms = pen.row_dual_norms(s * center)
            support = np.flatnonzero(np.any(W != 0, axis=1))
            if can_screen and np.isfinite(gap):
                radius = np.sqrt(2.0 * max(gap, 0.0))
                alive &= ~(dual_norms + radius * col_norms < pen.strength)
                dropped = np.flatnonzero(~alive & np.any(W != 0, axis=1))
                if dropped.size:
                    V_stale = True
                    if R is not None:
                        R += df.D * df.xc_dot(W[dropped], dropped)
                    W[dropped] = 0.0
                    support = np.flatnonzero(np.any(W != 0, axis=1))
            with np.errstate(divide="ignore", invalid="ignore"):
                priority = (pen.strength - dual_norms) / col_norms
            priority[support] = -np.inf
            priority[~alive] = np.inf
            n_alive = int(alive.sum())
            # Features that violate their optimality condition at W, and those
            # that violate it twice over (likely to end in the support).
            violation = pen.row_dual_norms(V)[alive] / pen.strength
            n_violating = int(np.sum(violation > 1.0))
            if gram and df.shared and np.sum(violation > 2.0) > 0.5 * n_alive:
                # The working sets will grow to most features: build the Gram
                # matrix at once (one symmetric product) rather than by rows,
                # in float32 where one solve is to be made.
                if (df.allows_mixed_precision and not df.gram_complete
                        and n_alive > size):
                    mixed, gram, cache = True, False, None
                    R = df.residual(W)
                    df.approximate_gram()
                else:
                    df.gram_rows(None)
            if (gram and df.gram_complete) or mixed:
                # Working sets cost no new Gram rows: take every violator.
                ws_size = max(ws_size, support.size + n_violating)
            ws_size = min(max(ws_size, 2 * support.size, _WS_START), n_alive)
            if ((gram and df.gram_complete) or mixed) and ws_size > 0.5 * n_alive:
                # Sweeps over every feature cost little more, and a working
                # set that stays the same keeps its Hessian and constants.
                ws_size = n_alive
            ws = _working_set(priority, ws_size, support, alive)
            if solved is not None and np.array_equal(ws, solved):
                # Solved to the end already, yet the gap is above tol: what
                # is missing lies outside it (priorities from an old dual
                # point can keep choosing it).
                ws_size = min(2 * ws_size, n_alive)
                ws = _working_set(priority, ws_size, support, alive)
        else:
            ws = np.flatnonzero(alive)
            n_alive = ws.size
        if ws.size == 0:
            converged = True
            break
        # A working set that holds every feature left is the whole problem;
        # one that did not change, or whose last solve left the support as
        # it was, is probably the right one: solve it to the end.
        if (ws.size == n_alive or not np.isfinite(gap) or support_stable
                or (cached_ws is not None and np.array_equal(cached_ws, ws))):
            target = tol_abs
        else:
            target = max(0.3 * gap, tol_abs)
        W_ws = W[ws]
        cap = max_sweeps
        if gram or mixed or _gram_is_cheaper(df, ws.size, size):
            if ws.size <= size:
                cap = 10 * max_sweeps
            if cache is None or not np.array_equal(cache[0], ws):
                cached_ws = ws
                if mixed and ws.size > size:
                    G32 = df.approximate_gram()
                    G, H = (G32 if ws.size == p else G32[np.ix_(ws, ws)]), None
                else:
                    G, H = df.local_hessian(ws)
                cache = (ws, G, H, block_lipschitz(G, H, lam, ws.size, size)
                         if ws.size > size else None)
            _, G, H, lipschitz = cache
            old = W_ws.copy()
            # The exact H W at the start anchors the float32 Gram's steps; V
            # is stale where screening just zeroed coefficients.
            Q0 = None
            if G is not None and G.dtype == np.float32:
                Q0 = df.B[ws] - (df.xt_dot(R, ws) if V_stale else V[ws])
            with blas_threads(ws.size * size * M):
                W_ws, n_sweeps, point = solve_gram(pen, G, H, lam, df.B[ws], W_ws,
                                                   df.yy, target, size, lipschitz,
                                                   max_sweeps=max_sweeps, rng=rng,
                                                   Q0=Q0)
            if R is not None:
                R_t = _update_residuals(df, R, ws, old, W_ws, point)
        else:
            R_t = None
            with blas_threads(n * size * M):
                W_ws, n_sweeps, point = solve_x(df, pen, ws, W_ws, R, target, size,
                                                max_sweeps=max_sweeps, rng=rng)
        sweeps += n_sweeps
        # Whether this working set's problem was solved to the end (one
        # block: FISTA, up to 10 max_sweeps steps).
        solved = ws if target <= tol_abs and n_sweeps < cap else None
        support_stable = np.array_equal(np.any(W_ws != 0, axis=1),
                                        np.any(W[ws] != 0, axis=1))
        W[ws] = W_ws
        candidate = None
        if point is not None and not np.array_equal(point, W_ws):
            candidate = np.zeros((p, M))
            candidate[ws] = point
        else:
            R_t = None
    resume = None if converged else {
        "B": df.B, "alive": alive, "best_dual": best_dual, "best_V": best_V,
        "candidate": candidate, "ws_size": ws_size, "support_stable": support_stable,
        "cached_ws": cached_ws, "R": R, "R_t": R_t, "mixed": mixed,
        "solved": solved}
    return SolverResult(W, df.intercept(W, None), n_iter, gap, converged, objective,
                        inner_iter=sweeps, state=resume)
