"""Solvers: what they share, proximal gradient (FISTA) and alternating
minimization. Block coordinate descent (``"cd"``) lives in ``_cd.py`` and
``_sweeps.py``; solver names in ``_registry.py``.

A solver is a small object (its options are its parameters) that states the
methods it needs of the penalty and of the datafit (``penalty_needs``,
``datafit_needs``); :meth:`Solver.check` fails with a message that names
what is missing. Solvers use the datafit only through the protocol of
:class:`~skmtl.linear._datafits.Datafit` plus the methods they declare, so
no solver asks which loss it minimizes. They trust their inputs (validated
by the estimators) and return a :class:`SolverResult`.

Convergence: where the datafit gives a duality gap (the squared loss with a
penalty that has a Fenchel conjugate), it must fall below ``tol *
datafit.gap_scale`` (``2 f(0)`` for the squared loss, ``f(0)`` the datafit
of the intercept-only model: scikit-learn's ``tol * ||Y - mean||^2 / n``
rule); otherwise the relative change of the objective between iterations
must fall below ``tol``.
"""

from dataclasses import dataclass, field

import numpy as np

from ..utils._registry import ParamsMixin

__all__ = ["Solver", "FISTA", "Alternating", "SolverResult", "fista"]

# What FISTA and alternating minimization use of any datafit.
_PROTOCOL = ("state", "value", "value_and_gradient", "lipschitz", "intercept")


@dataclass
class SolverResult:
    """What a solver returns.

    Attributes
    ----------
    coef : ndarray of shape (p, M) or (n_parts, p, M)
        The solver variable (split penalties keep their parts).
    intercept : ndarray of shape (M,)
    n_iter : int
        Iterations run (outer iterations where there are two levels).
    dual_gap : float, default=nan
        The final duality gap, NaN where the solver had none.
    converged : bool, default=True
    objective : list of float
        The objective after each iteration (or each check).
    inner_iter : int or None, default=None
        Sweeps or inner FISTA steps, where there are.
    task_covariance : ndarray or None, default=None
        The task covariance a structured penalty learned.
    state : dict or None, default=None
        What the solver needs to continue exactly where it stopped
        (``warm_start``): FISTA's extrapolated point and momentum, the
        working set solver's dual point and working set; None when there is
        nothing beyond ``coef`` (alternating minimization) or nothing to
        continue.
    """

    coef: np.ndarray
    intercept: np.ndarray
    n_iter: int
    dual_gap: float = np.nan
    converged: bool = True
    objective: list = field(default_factory=list)
    inner_iter: int | None = None
    task_covariance: np.ndarray | None = None
    state: dict | None = None


class Solver(ParamsMixin):
    """Base class of the solvers of the linear models.

    A subclass sets ``name``, lists the methods it needs of the prepared
    penalty (``penalty_needs``) and of the datafit (``datafit_needs``), and
    implements :meth:`solve`. Its options are its ``__init__`` parameters
    (``get_params`` / ``set_params`` / ``clone`` work). An estimator takes a
    solver object as ``solver=`` as well as a name.

    Attributes
    ----------
    name : str
        The name ``solver_`` reports (and the registered name, if any).
    penalty_needs, datafit_needs : tuple of str
        Methods the solver calls on the prepared penalty and on the datafit.
    """

    name = None
    penalty_needs = ()
    datafit_needs = _PROTOCOL

    def missing(self, penalty, datafit):
        """The needed methods the penalty and the datafit lack (two lists)."""
        return ([m for m in self.penalty_needs if not hasattr(penalty, m)],
                [m for m in self.datafit_needs if not hasattr(datafit, m)])

    def accepts(self, penalty, datafit):
        """Whether the penalty and the datafit have everything it needs."""
        lacking_penalty, lacking_datafit = self.missing(penalty, datafit)
        return not lacking_penalty and not lacking_datafit

    def suits(self, penalty, datafit):
        """Whether ``solver="auto"`` should pick this solver for the problem.

        ``"auto"`` takes the first registered solver that accepts the
        problem and suits it, else the first that accepts it. True by
        default; a solver that is the better choice only on some problems
        (the Gram-space solver: more samples than features) says which.
        """
        return True

    def check(self, penalty, datafit, penalty_name=None, alternatives=()):
        """Raise ``ValueError`` naming what the solver needs that is missing.

        ``penalty_name`` names the penalty in the message (the prepared
        object's class by default); ``alternatives`` are the names of the
        solvers that would accept the problem, suggested instead.
        """
        lacking_penalty, lacking_datafit = self.missing(penalty, datafit)
        instead = ("solver=" + " or ".join(repr(s) for s in alternatives)
                   if alternatives else "another penalty")
        if lacking_penalty:
            name = type(penalty).__name__ if penalty_name is None else penalty_name
            raise ValueError(
                f"solver={self.name!r} needs a penalty with "
                f"{', '.join(m + '()' for m in lacking_penalty)}; {name} does not "
                f"have it. Use {instead}.")
        if lacking_datafit:
            name = getattr(datafit, "name", None)
            name = f"the {name}" if name else type(datafit).__name__
            raise ValueError(
                f"solver={self.name!r} needs a datafit with "
                f"{', '.join(m + '()' for m in lacking_datafit)}; {name} does not "
                f"have it. Use {instead}.")

    def solve(self, datafit, penalty, V0, b0=None, *, max_iter=1000, tol=1e-4,
              state=None):
        """Minimize ``datafit + penalty`` from ``V0`` (and intercepts ``b0``).

        Parameters
        ----------
        datafit : Datafit
        penalty : prepared penalty (see ``Penalty.prepare``)
        V0 : ndarray (p, M), or (n_parts, p, M) for split penalties
        b0 : ndarray (M,) or None
            Initial intercepts (datafits that learn them).
        max_iter : int
        tol : float
        state : dict, optional
            ``SolverResult.state`` of a run on the same problem that stopped
            at ``max_iter`` at ``V0``, to continue it exactly.

        Returns
        -------
        SolverResult
        """
        raise NotImplementedError(f"{type(self).__name__} must implement solve().")


class FISTA(Solver):
    """Accelerated proximal gradient with gradient-based restart.

    Works with every datafit and any penalty with a proximal operator. On
    the squared loss it runs on the Gram matrix (built once) when
    ``n_features < 2 n_samples`` and the Gram matrices fit in memory, on
    ``X`` otherwise.

    Notes
    -----
    Beck & Teboulle (2009), "A fast iterative shrinkage-thresholding
    algorithm for linear inverse problems", SIAM J. Imaging Sciences;
    O'Donoghue & Candès (2015), "Adaptive restart for accelerated gradient
    schemes" (gradient restart).

    Examples
    --------
    >>> from skmtl.linear import FISTA, L21, MultiTaskLinearRegressor
    >>> MultiTaskLinearRegressor(L21(0.1), solver=FISTA()).solver
    FISTA()
    """

    name = "fista"
    penalty_needs = ("value", "prox")

    def solve(self, datafit, penalty, V0, b0=None, *, max_iter=1000, tol=1e-4,
              state=None):
        return fista(datafit, penalty, V0, b0=b0, max_iter=max_iter, tol=tol,
                     state=state)


class Alternating(Solver):
    """Alternate a FISTA solve of ``W`` (structure fixed) and a structure step.

    For penalties that learn a task structure (:class:`Clustered`,
    :class:`TaskRelationship`): the objective ``datafit(W) + min_S
    penalty(W, S)`` is evaluated exactly after each structure step;
    iterations stop when its relative change falls below ``tol``.
    ``n_iter`` counts outer iterations, ``inner_iter`` the FISTA steps. The
    structure is a function of ``W``, so a run that starts from the ``W``
    where another stopped continues it exactly.

    Parameters
    ----------
    inner_max_iter : int, default=1000
        FISTA steps per outer iteration, at most.

    Examples
    --------
    >>> from skmtl.linear import Alternating
    >>> Alternating(inner_max_iter=200)
    Alternating(inner_max_iter=200)
    """

    name = "alternating"
    penalty_needs = ("value", "conditional_prox", "conditional_value",
                     "structure_step")

    def __init__(self, inner_max_iter=1000):
        self.inner_max_iter = inner_max_iter

    def solve(self, datafit, penalty, V0, b0=None, *, max_iter=100, tol=1e-4,
              state=None):
        V = np.array(V0, dtype=float)
        b = b0
        objective = []
        if np.any(V):
            penalty.structure_step(V)
        converged = False
        total_inner = 0
        F_old = np.inf
        n_iter = 0
        for n_iter in range(1, max_iter + 1):  # noqa: B007 - n_iter is returned
            result = fista(datafit, penalty, V, b0=b, max_iter=self.inner_max_iter,
                           tol=tol * 0.1, prox=penalty.conditional_prox,
                           value=penalty.conditional_value)
            V, b = result.coef, result.intercept
            total_inner += result.n_iter
            penalty.structure_step(V)
            F = (datafit.value(V, b, datafit.state(V, b)) + penalty.value(V))
            objective.append(F)
            if abs(F_old - F) <= tol * max(abs(F), 1e-300):
                converged = True
                break
            F_old = F
        return SolverResult(V, b, n_iter, np.nan, converged, objective,
                            inner_iter=total_inner)


def fista(df, pen, V0, b0=None, max_iter=1000, tol=1e-4, prox=None, value=None,
          state=None):
    """FISTA with restart on any datafit (see :class:`FISTA`).

    Parameters
    ----------
    df : Datafit
    pen : prepared penalty (see ``Penalty.prepare``)
    V0 : ndarray (p, M), or (n_parts, p, M) for split penalties
    b0 : ndarray (M,) or None
        Initial intercepts (datafits that learn them).
    prox, value : callables, optional
        Override the penalty's proximal operator and value (alternating
        solver: the penalty with its structure held fixed).
    state : dict, optional
        ``SolverResult.state`` of a previous run on the same problem that
        stopped at ``max_iter`` at ``V0``: continue with its extrapolated
        point and momentum, so that two runs of ``k`` iterations equal one
        of ``2 k``.
    """
    prox = pen.prox if prox is None else prox
    value = pen.value if value is None else value
    n_parts = pen.n_parts
    L = df.lipschitz() * n_parts
    if L <= 0:
        L = 1.0
    step = 1.0 / L
    V = np.array(V0, dtype=float)
    M = df.n_columns
    b = np.zeros(M) if b0 is None else np.array(b0, dtype=float)
    fit_b = df.learns_intercept

    def coef(V):
        return pen.coef(V) if n_parts > 1 else V

    S = df.state(coef(V), b)
    f, gW, gb = df.value_and_gradient(coef(V), b, S)
    F = f + value(V)
    objective = [F]
    tol_abs = tol * df.gap_scale
    gap = np.nan
    if state is None:
        Y, bY, SY = V, b, S
        t = 1.0
    else:
        Y, bY, t = np.array(state["Y"]), np.array(state["bY"]), state["t"]
        SY = df.state(coef(Y), bY)
    resumed = state is not None
    converged = False
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        if n_iter > 1 or resumed:
            _, gW, gb = df.value_and_gradient(coef(Y), bY, SY)
        g = np.stack([gW] * n_parts) if n_parts > 1 else gW
        V_new = prox(Y - step * g, step)
        b_new = bY - step * gb if fit_b else b
        W_new = coef(V_new)
        S_new = df.state(W_new, b_new)
        f_new = df.value(W_new, b_new, S_new)
        F_new = f_new + value(V_new)
        objective.append(F_new)
        gap_now = df.duality_gap(pen, W_new, S_new, f_new, F_new - f_new)
        if gap_now is not None:
            gap = gap_now
            if gap <= tol_abs:
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
    return SolverResult(V, df.intercept(coef(V), b), n_iter, gap, converged,
                        objective, state=resume)
