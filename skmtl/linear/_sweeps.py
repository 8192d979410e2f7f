"""Block sweeps that solve one working set's problem (for ``_cd.py``).

A working set's problem is the squared-loss datafit restricted to a few
features plus a row-separable penalty. It is solved by block coordinate
descent: blocks of :data:`BLOCK` features (one block = some features across
all tasks) get a few proximal gradient steps each with the block's own
Lipschitz constant, so every step is a matrix product instead of a Python
loop over features. Two forms:

* :func:`solve_gram`, on the working set's Gram matrix, keeping ``Q = H W``;
* :func:`solve_x`, through the columns of ``X``, keeping the weighted
  residual ``R = D * (Yc - Xc W)`` (when the working set is large and
  ``n_samples`` small, its Gram matrix costs more than the sweeps).

Both accelerate the iterates (Anderson extrapolation, kept only when it
lowers the objective) and certify convergence with the best dual point seen
(dual extrapolation): the duality gap of the residual of the current ``W``
is often orders of magnitude above the true suboptimality.
"""

import contextlib
from collections import deque

import numpy as np

from ._datafits import LocalQuadratic, dual_value, weighted_gram
from ._solvers import fista

__all__ = ["solve_gram", "solve_x", "DualTracker", "blas_threads",
           "block_lipschitz", "BLOCK", "MAX_SWEEPS"]

# Features per block. Fixed (not a function of n_samples): weighted and
# repeated rows then take the same steps; tests lower it to exercise blocks.
BLOCK = 64
_BLOCK_STEPS = 3       # proximal gradient steps per block and sweep
_X_CHECK = 2           # sweeps between gap checks through X
MAX_SWEEPS = 100       # per working-set problem, i.e. per outer iteration
_EXTRAPOLATE = 5       # iterates combined by Anderson and dual extrapolation
_SMALL_PRODUCT = 4e6   # multiply-adds below which BLAS threads cost more than they give
_CONTROLLER = []       # threadpoolctl controller, created on first use


def blas_threads(multiply_adds):
    """One BLAS thread for work made of products below ``_SMALL_PRODUCT``.

    Splitting a small product over threads costs more than it saves, and on
    a busy machine every split waits for a descheduled thread. No change
    (the caller's setting) for larger products.
    """
    if multiply_adds > _SMALL_PRODUCT:
        return contextlib.nullcontext()
    if not _CONTROLLER:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


def _combination(UU):
    """Weights ``c`` (sum 1) minimizing ``|sum_i c_i dU_i|``, from the Gram ``UU``."""
    K = UU.shape[0]
    UU = 0.5 * (UU + UU.T)
    UU.flat[::K + 1] += 1e-12 * max(float(np.trace(UU)), 1e-300)
    try:
        z = np.linalg.solve(UU, np.ones(K))
    except np.linalg.LinAlgError:
        return None
    total = z.sum()
    if not np.all(np.isfinite(z)) or total == 0:
        return None
    return z / total


class _Anderson:
    """Anderson extrapolation of the iterates of every ``K + 1`` sweeps.

    ``__call__(W, A)`` records ``W`` and an array ``A`` affine in ``W`` (``Q``
    or ``R``); every ``K + 1`` calls it returns the extrapolated pair.

    Notes
    -----
    Bertrand & Massias (2021), "Anderson acceleration of coordinate descent",
    AISTATS.
    """

    def __init__(self, K=_EXTRAPOLATE):
        self.K = K
        self.history = []

    def __call__(self, W, A):
        self.history.append((W.copy(), A.copy()))
        if len(self.history) <= self.K:
            return None
        history, self.history = self.history, []
        steps = np.stack([(b[0] - a[0]).ravel()
                          for a, b in zip(history[:-1], history[1:], strict=True)])
        c = _combination(steps @ steps.T)
        if c is None:
            return None
        return (sum(ci * h[0] for ci, h in zip(c, history[1:], strict=True)),
                sum(ci * h[1] for ci, h in zip(c, history[1:], strict=True)))


class DualTracker:
    """Best dual value over the residuals of the iterates and their extrapolations.

    The residual is affine in ``W``, so the extrapolated residual
    ``sum_i c_i r(W_i)`` (``sum_i c_i = 1``) is the residual of
    ``W~ = sum_i c_i W_i``: a dual point is represented by a coefficient
    matrix, which lets the outer loop re-evaluate it on every feature.

    ``add(W, arrays, gram)`` records ``W`` and arrays affine in ``W``;
    ``gram(dW, dA)`` returns the ``K x K`` Gram matrix of the residual
    differences from the stacked differences. ``extrapolate()`` returns the
    combined ``(W~, arrays~)`` or None.

    Notes
    -----
    Massias, Gramfort & Salmon (2018), "Celer: a fast solver for the Lasso
    with dual extrapolation", ICML.
    """

    def __init__(self, K=_EXTRAPOLATE):
        self.history = deque(maxlen=K + 1)
        self.best = -np.inf
        self.point = None

    def add(self, W, *arrays):
        self.history.append((W.copy(), *(a.copy() for a in arrays)))

    def extrapolate(self, gram):
        history = self.history
        if len(history) < history.maxlen:
            return None
        width = len(history[0])
        diffs = [np.stack([(b[j] - a[j]).ravel()
                           for a, b in zip(list(history)[:-1], list(history)[1:],
                                           strict=True)])
                 for j in range(width)]
        c = _combination(gram(*diffs))
        if c is None:
            return None
        recent = list(history)[1:]
        return [sum(ci * h[j] for ci, h in zip(c, recent, strict=True))
                for j in range(width)]

    def offer(self, value, W):
        """Keep (a copy of) ``W`` as the best dual point if ``value`` is the best."""
        if value is not None and value > self.best:
            self.best = value
            self.point = np.array(W)
        return self.best


def _converged(gap, target, objective, rel_tol):
    if np.isfinite(gap):
        return gap <= target
    # No duality gap (no penalty at all): relative change of the objective.
    return (len(objective) > 1 and objective[-1] <= objective[-2]
            and objective[-2] - objective[-1] <= rel_tol * max(abs(objective[-1]),
                                                               1e-300))


def _order(plans, rng):
    """The blocks' plans in turn, or in a random order (``selection="random"``)."""
    if rng is None or len(plans) < 2:
        return plans
    return [plans[i] for i in rng.permutation(len(plans))]


def blocks_of(width, size):
    return [(start, min(start + size, width)) for start in range(0, width, size)]


# ---------------------------------------------------------------------------
# On the working set's Gram matrix
# ---------------------------------------------------------------------------

def block_lipschitz(G, H, lam, width, size):
    """Largest eigenvalue of each diagonal block (batched over equal blocks)."""
    full = width // size
    tops = []
    if full:
        if G is not None:
            cut = G[:full * size, :full * size].reshape(full, size, full, size)
            stack = cut[np.arange(full), :, np.arange(full), :].astype(float)
            tops.extend(np.linalg.eigvalsh(stack)[:, -1] * float(lam.max()))
        else:
            for i in range(full):
                part = slice(i * size, (i + 1) * size)
                tops.append(np.linalg.eigvalsh(H[:, part, part])[:, -1].max())
    if width % size:
        part = slice(full * size, width)
        if G is not None:
            tops.append(np.linalg.eigvalsh(G[part, part].astype(float))[-1]
                        * float(lam.max()))
        else:
            tops.append(np.linalg.eigvalsh(H[:, part, part])[:, -1].max())
    return [float(t) * (1.0 + 1e-10) for t in tops]


def solve_gram(pen, G, H, lam, B, W, yy, target, size, lipschitz=None,
               max_sweeps=MAX_SWEEPS, rng=None, Q0=None):
    """Minimize ``1/2 tr(W^T H W) - <B, W> + yy/2 + pen(W)`` to a gap ``target``.

    ``H_k = lambda_k G`` (shared pattern) or ``H`` (M, w, w); ``W`` (w, M) is
    updated in place. Returns ``(W, n_sweeps, point)``: ``point`` is the
    ``W~`` whose rescaled residual is the best dual point seen (None for
    one block).
    ``size`` features per block; ``lipschitz``: the blocks' constants, if
    known. One block is solved by FISTA (``n_sweeps`` then counts its
    iterations, at most ``10 max_sweeps``). ``rng``: visit the blocks in a
    new random order every sweep (None: in turn).

    ``G`` may be a float32 approximation of the Gram matrix when ``Q0``,
    the exact ``H W`` at the starting ``W``, is given (mixed precision,
    more than one block): the sweeps then minimize the model
    ``f(W0) - <V0, W - W0> + 1/2 (W - W0)^T H~ (W - W0)`` around the start,
    whose gradient is exact at ``W0``, so that the outer loop, which
    computes the exact gradient at the point returned, converges to the
    exact solution (iterative refinement); the error of ``H~`` only
    multiplies the step ``W - W0``.
    """
    width = W.shape[0]
    if width <= size:
        local = LocalQuadratic(G, H, lam, B, yy)
        result = fista(local, pen, W, max_iter=10 * max_sweeps,
                       tol=target / max(yy, 1e-300))
        W[:] = result.coef
        return W, result.n_iter, None
    if lipschitz is None:
        lipschitz = block_lipschitz(G, H, lam, width, size)
    # The same weight for every column (the usual case) is a scalar factor.
    scale = float(lam[0]) if np.all(lam == lam[0]) else lam
    plans = []
    for (a, b), L in zip(blocks_of(width, size), lipschitz, strict=True):
        if L > 0:
            block = slice(a, b)
            # Symmetry: the block's columns are its (contiguous) rows, transposed.
            if G is not None:
                # The diagonal blocks in float64 (small), the rows as stored.
                plans.append((block, 1.0 / L, G[block, block].astype(float),
                              G[block]))
            else:
                plans.append((block, 1.0 / L, H[:, block, block],
                              H[:, block].transpose(0, 2, 1)))
    prox = pen.prox_rows

    if G is not None and np.all(scale == 1.0):
        def dot(matrix, delta):
            return matrix @ delta
    elif G is not None:
        def dot(matrix, delta):
            return (matrix @ delta) * scale
    else:
        def dot(matrix, delta):
            return np.einsum("kij,jk->ik", matrix, delta)

    def datafit(W, Q):
        return 0.5 * (float(np.vdot(W, Q)) - 2.0 * float(np.vdot(B, W)) + yy)

    def residual_gram(dW, dQ):
        return dW @ dQ.T

    if G is not None:
        # Q^T is kept C-ordered: a block's update is delta^T G[block], a
        # product of C-ordered rows of G (a third cheaper than G[block]^T delta).
        QT = np.ascontiguousarray((dot(G, W) if Q0 is None else Q0).T)
        Q = QT.T

        unit = bool(np.all(scale == 1.0))
        low = G.dtype  # float32 rows: a float32 product, accumulated in float64

        def update(rows, delta):
            QT.__iadd__((delta if unit else delta * scale).T.astype(low, copy=False)
                        @ rows)
    else:
        Q = dot(H, W)

        def update(columns, delta):
            Q.__iadd__(dot(columns, delta))
    anderson = _Anderson()
    duals = DualTracker(4)
    objective = []
    sweep = 0
    # count_nonzero: a third of the cost of any() on these small blocks.
    nonzero = np.count_nonzero
    for sweep in range(1, max_sweeps + 1):  # noqa: B007 - sweep is returned
        for block, step, diagonal, column in _order(plans, rng):
            old = W[block]
            base = Q[block] - B[block]
            new = prox(old - step * base, step)
            for _ in range(_BLOCK_STEPS - 1):
                delta = new - old
                if not nonzero(delta):
                    break
                grad = dot(diagonal, delta)
                grad += base
                new = prox(new - step * grad, step)
            delta = new - old
            if nonzero(delta):
                W[block] = new
                update(column, delta)
        extrapolated = anderson(W, Q)
        if extrapolated is not None:
            W_acc, Q_acc = extrapolated
            if (datafit(W_acc, Q_acc) + pen.value(W_acc)
                    < datafit(W, Q) + pen.value(W)):
                W[:], Q[:] = W_acc, Q_acc
        f = datafit(W, Q)
        primal = f + pen.value(W)
        objective.append(primal)
        duals.offer(dual_value(pen, yy, B, W, B - Q, f), W)
        duals.add(W, Q)
        combined = duals.extrapolate(residual_gram)
        if combined is not None:
            W_t, Q_t = combined
            duals.offer(dual_value(pen, yy, B, W_t, B - Q_t, datafit(W_t, Q_t)), W_t)
        if _converged(primal - duals.best, target, objective,
                      1e-3 * target / max(yy, 1e-300)):
            break
    return W, sweep, duals.point


# ---------------------------------------------------------------------------
# Through X (n_features > n_samples)
# ---------------------------------------------------------------------------

def solve_x(df, pen, ws, W, R, target, size, max_sweeps=MAX_SWEEPS, rng=None):
    """Block sweeps over the working set ``ws`` that keep ``R`` up to date.

    ``R = D * (Yc - Xc W)`` (n, M) and ``W`` (w, M) are updated in place.
    With a shared pattern each block gets :data:`_BLOCK_STEPS` steps on its
    own Gram matrix; otherwise one step with a bound on its Lipschitz
    constant; ``size`` features per block; at most ``max_sweeps`` sweeps,
    blocks in a random order when ``rng`` is given. Returns
    ``(W, n_sweeps, point)`` as :func:`solve_gram`.
    """
    X = df.X[:, ws]
    lam = df.column_weights
    scale = float(lam[0]) if np.all(lam == lam[0]) else lam
    D = df.D
    inverse_D = np.divide(1.0, D, out=np.zeros_like(D), where=D > 0)
    B = df.B[ws]
    yy = df.yy
    mean = df.x_mean[ws] if df.fit_intercept else None
    # H_k <= Xb^T diag(max_k D_k) Xb bounds the blocks of a non-shared pattern.
    weights = df.shared_weights if df.shared else D.max(axis=1)
    plans = []
    for a, b in blocks_of(ws.size, size):
        block = slice(a, b)
        Xb = X[:, block]
        Gb = weighted_gram(Xb, weights, df.uniform_weights)
        if df.shared and df.fit_intercept:
            Gb -= np.outer(mean[block, 0], mean[block, 0])
        L = float(np.linalg.eigvalsh(Gb)[-1]) * (float(lam.max()) if df.shared else 1.0)
        if L > 0:
            plans.append((block, Xb, Gb if df.shared else None, 1.0 / (L * (1 + 1e-10)),
                          None if mean is None else mean[block]))
    prox = pen.prox_rows

    def datafit(R):
        return 0.5 * float(np.vdot(R * inverse_D, R))

    def residual_gram(dW, dR, dV):
        return (dR * inverse_D.ravel()) @ dR.T

    anderson = _Anderson()
    duals = DualTracker(4)
    objective = []
    sweep = 0
    for sweep in range(1, max_sweeps + 1):  # noqa: B007 - sweep is returned
        for block, Xb, Gb, step, mean_b in _order(plans, rng):
            old = W[block]
            neg_grad = np.asarray(Xb.T @ R)
            new = prox(old + step * neg_grad, step)
            if Gb is not None:
                for _ in range(_BLOCK_STEPS - 1):
                    delta = new - old
                    if not delta.any():
                        break
                    grad = (Gb @ delta) * scale
                    grad -= neg_grad
                    new = prox(new - step * grad, step)
            delta = new - old
            if delta.any():
                W[block] = new
                Z = np.asarray(Xb @ delta)
                if mean_b is not None:
                    Z -= np.sum(mean_b * delta, axis=0)
                Z *= D
                R -= Z
        extrapolated = anderson(W, R)
        if extrapolated is not None:
            W_acc, R_acc = extrapolated
            if datafit(R_acc) + pen.value(W_acc) < datafit(R) + pen.value(W):
                W[:], R[:] = W_acc, R_acc
        if sweep % _X_CHECK and sweep < max_sweeps:
            continue
        V = np.asarray(X.T @ R)
        f = datafit(R)
        primal = f + pen.value(W)
        objective.append(primal)
        duals.offer(dual_value(pen, yy, B, W, V, f), W)
        duals.add(W, R, V)
        combined = duals.extrapolate(residual_gram)
        if combined is not None:
            W_t, R_t, V_t = combined
            duals.offer(dual_value(pen, yy, B, W_t, V_t, datafit(R_t)), W_t)
        if _converged(primal - duals.best, target, objective,
                      1e-3 * target / max(yy, 1e-300)):
            break
    return W, sweep, duals.point
