"""Solvers: FISTA with restart and alternating minimization (block coordinate
descent, ``"cd"``, lives in ``_cd.py`` and ``_sweeps.py``).

Each solver states the penalty and datafit methods it needs
(:data:`REQUIREMENTS`); :func:`check_capabilities` fails with a message that
names what is missing. Solvers trust their inputs (validated by the
estimators) and return a :class:`SolverResult`.

Convergence: with the squared loss and a penalty that has a Fenchel
conjugate, the duality gap must fall below ``tol * 2 f(0)`` (``f(0)`` the
datafit of the intercept-only model; this is scikit-learn's
``tol * ||Y - mean||^2 / n`` rule); otherwise the relative change of the
objective between iterations must fall below ``tol``.
"""

from dataclasses import dataclass, field

import numpy as np

__all__ = ["SOLVERS", "REQUIREMENTS", "check_capabilities", "fista",
           "alternating", "SolverResult"]

REQUIREMENTS = {
    "fista": {"penalty": ("value", "prox"), "datafit": ()},
    "cd": {"penalty": ("value", "prox_rows", "dual_scale", "conjugate"),
           "datafit": ("hessian_dot", "local_hessian")},
    "alternating": {"penalty": ("value", "conditional_prox", "structure_step"),
                    "datafit": ()},
}
"""Methods each solver needs from the penalty and from the datafit."""

SOLVERS = ("auto", "fista", "cd", "alternating")

def check_capabilities(solver, penalty, datafit, name=None):
    """Raise ``ValueError`` naming what ``solver`` needs that is missing.

    ``penalty`` is the prepared penalty the solver would use; ``name`` the
    penalty's name for the message (its class name by default).
    """
    needs = REQUIREMENTS[solver]
    missing = [m for m in needs["penalty"] if not hasattr(penalty, m)]
    if missing:
        name = type(penalty).__name__ if name is None else name
        raise ValueError(
            f"solver={solver!r} needs a penalty with {', '.join(missing)}(); "
            f"{name} does not have it. Use "
            f"{_suggest(penalty, datafit)}.")
    missing = [m for m in needs["datafit"] if not hasattr(datafit, m)]
    if missing:
        kind = "squared" if datafit.is_quadratic else "logistic"
        raise ValueError(
            f"solver={solver!r} needs a datafit with {', '.join(missing)}() (the "
            f"squared loss); the {kind} loss does not have it. Use "
            f"{_suggest(penalty, datafit)}.")


def _suggest(penalty, datafit):
    ok = [s for s in ("fista", "cd", "alternating")
          if all(hasattr(penalty, m) for m in REQUIREMENTS[s]["penalty"])
          and all(hasattr(datafit, m) for m in REQUIREMENTS[s]["datafit"])]
    return "solver=" + " or ".join(repr(s) for s in ok) if ok else "another penalty"


def choose_solver(penalty, datafit):
    """The solver ``"auto"`` picks."""
    if hasattr(penalty, "structure_step") and not hasattr(penalty, "prox"):
        return "alternating"
    if datafit.is_quadratic and all(hasattr(penalty, m)
                                    for m in REQUIREMENTS["cd"]["penalty"]):
        return "cd"  # row-separable: L1, L2,1, L2
    return "fista"


@dataclass
class SolverResult:
    """What a solver returns.

    ``state`` is what the solver needs to continue exactly where it stopped
    (``warm_start``): FISTA's extrapolated point and momentum, the working
    set solver's dual point and working set; None when there is nothing
    beyond ``coef`` (alternating minimization) or nothing to continue.
    """

    coef: np.ndarray            # solver variable (n_parts, p, M) or (p, M)
    intercept: np.ndarray       # (M,)
    n_iter: int
    dual_gap: float = np.nan
    converged: bool = True
    objective: list = field(default_factory=list)
    inner_iter: int | None = None   # sweeps / inner FISTA steps, where there are
    task_covariance: np.ndarray | None = None  # learned by structured penalties
    state: dict | None = None


def _dual_gap(df, pen, W, HW, f, penalty_value):
    """Duality gap of the squared-loss problem, or None if the conjugate is infinite."""
    if not hasattr(pen, "conjugate"):
        return None
    V = df.B - HW
    s = pen.dual_scale(V)
    conj = pen.conjugate(s * V)
    if not np.isfinite(conj):
        return None
    dual = s * (df.yy - float(np.vdot(df.B, W))) - s * s * f - conj
    return f + penalty_value - dual


# ---------------------------------------------------------------------------
# FISTA
# ---------------------------------------------------------------------------

def fista(df, pen, V0, b0=None, max_iter=1000, tol=1e-4, prox=None, value=None,
          state=None):
    """Accelerated proximal gradient with gradient-based restart.

    Parameters
    ----------
    df : Quadratic or Logistic
    pen : prepared penalty (see ``Penalty.prepare``)
    V0 : ndarray (p, M), or (n_parts, p, M) for split penalties
    b0 : ndarray (M,) or None
        Initial intercepts (logistic datafit only).
    prox, value : callables, optional
        Override the penalty's proximal operator and value (alternating
        solver: the penalty with its structure held fixed).
    state : dict, optional
        ``SolverResult.state`` of a previous run on the same problem that
        stopped at ``max_iter`` at ``V0``: continue with its extrapolated
        point and momentum, so that two runs of ``k`` iterations equal one
        of ``2 k``.

    Notes
    -----
    Beck & Teboulle (2009), "A fast iterative shrinkage-thresholding
    algorithm for linear inverse problems", SIAM J. Imaging Sciences;
    O'Donoghue & Candès (2015), "Adaptive restart for accelerated gradient
    schemes" (gradient restart).
    """
    prox = pen.prox if prox is None else prox
    value = pen.value if value is None else value
    n_parts = pen.n_parts
    quadratic = df.is_quadratic
    L = df.lipschitz() * n_parts
    if L <= 0:
        L = 1.0
    step = 1.0 / L
    V = np.array(V0, dtype=float)
    M = df.n_columns
    b = np.zeros(M) if b0 is None else np.array(b0, dtype=float)
    fit_b = (not quadratic) and df.fit_intercept

    def coef(V):
        return pen.coef(V) if n_parts > 1 else V

    def state_of(V, b):
        W = coef(V)
        return df.hessian_dot(W) if quadratic else df.forward(W, b)

    def smooth(S, W):
        """Datafit value and gradients (wrt W, b) at a state."""
        if quadratic:
            return df.value(W, S), S - df.B, None
        f, G = df.value_and_residual(S)
        gW, gb = df.backward(G)
        return f, gW, gb

    S = state_of(V, b)
    f, gW, gb = smooth(S, coef(V))
    F = f + value(V)
    objective = [F]
    tol_abs = tol * df.yy if quadratic else None
    gap = np.nan
    if state is None:
        Y, bY, SY = V, b, S
        t = 1.0
    else:
        Y, bY, t = np.array(state["Y"]), np.array(state["bY"]), state["t"]
        SY = state_of(Y, bY)
    resumed = state is not None
    converged = False
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        if n_iter > 1 or resumed:
            _, gW, gb = smooth(SY, coef(Y))
        g = np.stack([gW] * n_parts) if n_parts > 1 else gW
        V_new = prox(Y - step * g, step)
        b_new = bY - step * gb if fit_b else b
        S_new = state_of(V_new, b_new)
        W_new = coef(V_new)
        if quadratic:
            f_new = df.value(W_new, S_new)
        else:
            f_new, _ = df.value_and_residual(S_new)
        F_new = f_new + value(V_new)
        objective.append(F_new)
        if quadratic:
            gap_now = _dual_gap(df, pen, W_new, S_new, f_new, F_new - f_new)
            if gap_now is not None:
                gap = gap_now
                if gap <= tol_abs:
                    V, b, converged = V_new, b_new, True
                    break
            elif abs(F - F_new) <= tol * max(abs(F_new), 1e-300) and F_new <= F:
                V, b, converged = V_new, b_new, True
                break
        elif abs(F - F_new) <= tol * max(abs(F_new), 1e-300) and F_new <= F:
            V, b, converged = V_new, b_new, True
            break
        # Gradient restart: momentum pointing uphill is dropped.
        restart = np.vdot(Y - V_new, V_new - V) > 0 or F_new > F
        if fit_b:
            restart = restart or (np.dot(bY - b_new, b_new - b) > 0)
        if restart:
            t = 1.0
            Y, bY, SY = V_new, b_new, S_new
        else:
            t_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
            beta = (t - 1.0) / t_new
            Y = V_new + beta * (V_new - V)
            SY = S_new + beta * (S_new - S)
            bY = b_new + beta * (b_new - b) if fit_b else b_new
            t = t_new
        V, b, S, F = V_new, b_new, S_new, F_new
    resume = None if converged else {"Y": Y, "bY": bY, "t": t}
    if quadratic:
        b = df.intercept(coef(V))
    return SolverResult(V, b, n_iter, gap, converged, objective, state=resume)


def fista_intercepts_only(df, max_iter=200):
    """Best intercepts of the logistic datafit at ``W = 0`` (gradient descent)."""
    M = df.n_columns
    if not df.fit_intercept:
        return np.zeros(M)
    n = df.X.shape[0]
    b = np.zeros(M)
    step = 1.0 / max(0.5 * df.column_weights.max(), 1e-12)
    for _ in range(max_iter):
        _, G = df.value_and_residual(np.zeros((n, M)) + b)
        g = G.sum(axis=0)
        b -= step * g
        if np.abs(g).max() < 1e-10:
            break
    return b


# ---------------------------------------------------------------------------
# A working set's problem, for FISTA (see _cd.py)
# ---------------------------------------------------------------------------

class LocalQuadratic:
    """The squared-loss problem restricted to a working set (for inner FISTA)."""

    is_quadratic = True
    fit_intercept = False

    def __init__(self, G, H, lam, B, yy):
        self.G, self.H, self.lam, self.B, self.yy = G, H, lam, B, yy
        self.n_columns = B.shape[1]
        self._L = None

    def hessian_dot(self, W):
        if self.G is not None:
            return (self.G @ W) * self.lam
        return np.einsum("kij,jk->ik", self.H, W)

    def value(self, W, HW):
        return 0.5 * (float(np.vdot(W, HW)) - 2.0 * float(np.vdot(self.B, W))
                      + self.yy)

    def lipschitz(self):
        if self._L is None:
            if self.G is not None:
                top = np.linalg.eigvalsh(self.G)[-1] if len(self.G) else 0.0
                self._L = float(top) * float(self.lam.max()) * (1 + 1e-10)
            else:
                self._L = max(float(np.linalg.eigvalsh(h)[-1]) for h in self.H) * (
                    1 + 1e-10)
        return self._L

    def intercept(self, W):
        return np.zeros(self.n_columns)


# ---------------------------------------------------------------------------
# Alternating minimization (MTRL, Clustered)
# ---------------------------------------------------------------------------

def alternating(df, pen, V0, b0=None, max_iter=100, tol=1e-4, inner_max_iter=1000):
    """Alternate a FISTA solve of ``W`` (structure fixed) and a structure step.

    The objective ``datafit(W) + min_S penalty(W, S)`` is evaluated exactly
    after each structure step; iterations stop when its relative change falls
    below ``tol``. ``n_iter`` counts outer iterations, ``inner_iter`` the
    FISTA steps (at most ``inner_max_iter`` per outer iteration). The
    structure is a function of ``W``, so a run that starts from the ``W``
    where another stopped continues it exactly.
    """
    V = np.array(V0, dtype=float)
    b = b0
    objective = []
    if np.any(V):
        pen.structure_step(V)
    converged = False
    total_inner = 0
    F_old = np.inf
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007 - n_iter is returned
        result = fista(df, pen, V, b0=b, max_iter=inner_max_iter, tol=tol * 0.1,
                       prox=pen.conditional_prox, value=pen.conditional_value)
        V, b = result.coef, result.intercept
        total_inner += result.n_iter
        pen.structure_step(V)
        if df.is_quadratic:
            f = df.value(V, df.hessian_dot(V))
        else:
            f, _ = df.value_and_residual(df.forward(V, b))
        F = f + pen.value(V)
        objective.append(F)
        if abs(F_old - F) <= tol * max(abs(F), 1e-300):
            converged = True
            break
        F_old = F
    return SolverResult(V, b, n_iter, np.nan, converged, objective,
                        inner_iter=total_inner)
