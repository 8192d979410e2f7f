"""Combining per-task gradients, computed on their Gram matrix.

Every gradient-level multi-task method returns a direction ``d = w @ J`` that
is a linear combination of the task gradients ``J`` (n_tasks, n_params). The
weights ``w`` depend on ``J`` only through its Gram matrix ``G = J @ J.T``, so
the methods below work on the small ``(n_tasks, n_tasks)`` matrix: the cost
of forming ``G`` is paid once and the combination is cheap for any number of
parameters.
"""

import numpy as np

__all__ = [
    "min_norm_weights",
    "pcgrad_weights",
    "cagrad_weights",
    "nash_weights",
    "fairgrad_weights",
    "imtl_g_weights",
    "aligned_mtl_weights",
    "config_weights",
    "gradvac_weights",
    "project_simplex",
]


def _check_gram(gram):
    G = np.asarray(gram, dtype=np.float64)
    if G.ndim != 2 or G.shape[0] != G.shape[1]:
        raise ValueError(f"gram must be a square (n_tasks, n_tasks) matrix, got "
                         f"shape {G.shape}.")
    if not np.all(np.isfinite(G)):
        raise ValueError("gram holds NaN or inf: a task gradient is not finite.")
    return (G + G.T) / 2


def project_simplex(v):
    """Euclidean projection of ``v`` onto the probability simplex.

    Parameters
    ----------
    v : array-like of shape (n,)

    Returns
    -------
    w : ndarray of shape (n,)
        ``argmin_{w >= 0, sum w = 1} ||w - v||``.

    Examples
    --------
    >>> from skmtl.utils._gradient_combination import project_simplex
    >>> project_simplex([0.5, 2.0, -1.0]).tolist()
    [0.0, 1.0, 0.0]
    """
    v = np.asarray(v, dtype=np.float64)
    u = np.sort(v)[::-1]
    cumulative = np.cumsum(u) - 1.0
    index = np.arange(1, len(v) + 1)
    rho = np.nonzero(u - cumulative / index > 0)[0][-1]
    theta = cumulative[rho] / (rho + 1)
    return np.maximum(v - theta, 0.0)


def _affine_minimizer(G, S):
    """Weights on ``S`` of the minimum-norm point of the affine hull of ``S``."""
    k = len(S)
    system = np.zeros((k + 1, k + 1))
    system[:k, :k] = G[np.ix_(S, S)]
    system[:k, k] = system[k, :k] = 1.0
    rhs = np.zeros(k + 1)
    rhs[k] = 1.0
    solution = np.linalg.lstsq(system, rhs, rcond=None)[0]
    return solution[:k]


def min_norm_weights(gram, *, tol=1e-12, max_iter=1000):
    """Convex weights of the minimum-norm point of the tasks' gradient hull.

    Solves ``min_{w in simplex} w @ G @ w`` exactly with Wolfe's (1976)
    minimum-norm-point algorithm on the Gram matrix: the direction
    ``d = w @ J`` is MGDA's common descent direction (Désidéri 2012; Sener &
    Koltun 2018), for any number of tasks.

    Parameters
    ----------
    gram : array-like of shape (n_tasks, n_tasks)
        Gram matrix ``J @ J.T`` of the task gradients.
    tol : float, default=1e-12
        Relative optimality tolerance.
    max_iter : int, default=1000

    Returns
    -------
    w : ndarray of shape (n_tasks,)
        Non-negative weights summing to one.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.utils._gradient_combination import min_norm_weights
    >>> J = np.array([[1.0, 0.0], [-0.5, 1.0]])
    >>> np.round(min_norm_weights(J @ J.T) @ J, 4).tolist()
    [0.3077, 0.4615]
    """
    G = _check_gram(gram)
    n = G.shape[0]
    scale = max(np.max(np.diag(G)), np.finfo(float).tiny)
    # Start from the point of smallest norm.
    start = int(np.argmin(np.diag(G)))
    S = [start]
    lam = np.array([1.0])
    for _ in range(max_iter):
        w = np.zeros(n)
        w[S] = lam
        gradient = G @ w  # x . g_j for every vertex j
        norm2 = w @ gradient
        j = int(np.argmin(gradient))
        # Wolfe's stopping rule: no vertex improves on the current point.
        if norm2 - gradient[j] <= tol * scale or j in S:
            return w
        S.append(j)
        lam = np.append(lam, 0.0)
        while True:
            alpha = _affine_minimizer(G, S)
            if np.all(alpha > tol):
                lam = alpha
                break
            # Move towards the affine minimizer until a weight hits zero, drop it.
            negative = alpha <= tol
            ratios = lam[negative] / np.maximum(lam[negative] - alpha[negative],
                                                np.finfo(float).tiny)
            theta = min(1.0, float(np.min(ratios)))
            lam = theta * alpha + (1 - theta) * lam
            keep = lam > tol
            S = [s for s, k in zip(S, keep) if k]
            lam = lam[keep]
            lam = lam / lam.sum()
    w = np.zeros(n)
    w[S] = lam
    return w


def pcgrad_weights(gram, order=None):
    """Weights of PCGrad's "gradient surgery" direction.

    Each task gradient is projected, in turn over the other tasks in
    ``order``, onto the normal plane of every gradient it conflicts with
    (negative inner product); the projected gradients are summed (Yu et al.
    2020). Projections are tracked as combinations of the original gradients,
    so only the Gram matrix is needed.

    Parameters
    ----------
    gram : array-like of shape (n_tasks, n_tasks)
    order : array-like of int, default=None
        Order in which the other tasks are visited (PCGrad shuffles it each
        step); None visits them by index.

    Returns
    -------
    w : ndarray of shape (n_tasks,)
        ``d = w @ J`` is the PCGrad direction.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.utils._gradient_combination import pcgrad_weights
    >>> J = np.array([[1.0, 0.0], [-0.5, 1.0]])
    >>> (pcgrad_weights(J @ J.T) @ J).tolist()
    [0.8, 1.4]
    """
    G = _check_gram(gram)
    n = G.shape[0]
    order = np.arange(n) if order is None else np.asarray(order)
    total = np.zeros(n)
    for i in range(n):
        c = np.zeros(n)
        c[i] = 1.0
        for j in order:
            if j == i:
                continue
            inner = c @ G[:, j]
            if inner < 0 and G[j, j] > 0:
                c[j] -= inner / G[j, j]
        total += c
    return total


def cagrad_weights(gram, c=0.5, *, rescale=True, max_iter=500, tol=1e-10):
    """Weights of the conflict-averse gradient (CAGrad, Liu et al. 2021).

    With the average gradient ``g0`` and ``phi = c**2 ||g0||**2``, CAGrad solves
    ``min_{w in simplex} g_w . g0 + sqrt(phi) ||g_w||`` (``g_w = w @ J``) and
    returns ``d = g0 + sqrt(phi) / ||g_w|| * g_w``, divided by ``1 + c**2`` when
    ``rescale``. The inner problem is solved by projected gradient descent
    with backtracking on the Gram matrix.

    Parameters
    ----------
    gram : array-like of shape (n_tasks, n_tasks)
    c : float, default=0.5
        Radius of the ball around ``g0`` where the worst task is improved;
        ``c=0`` gives the average gradient.
    rescale : bool, default=True
    max_iter : int, default=500
    tol : float, default=1e-10

    Returns
    -------
    w : ndarray of shape (n_tasks,)
        ``d = w @ J``.
    """
    G = _check_gram(gram)
    n = G.shape[0]
    mean = np.full(n, 1.0 / n)
    g0_norm = np.sqrt(max(mean @ G @ mean, 0.0))
    sqrt_phi = c * g0_norm
    if sqrt_phi == 0:
        return mean / (1 + c ** 2) if rescale else mean
    b = G @ mean  # g_j . g0

    def objective(w):
        return w @ b + sqrt_phi * np.sqrt(max(w @ G @ w, 1e-30))

    w = mean.copy()
    value = objective(w)
    step = 1.0 / max(np.linalg.norm(G, 2), 1e-30)
    for _ in range(max_iter):
        norm = np.sqrt(max(w @ G @ w, 1e-30))
        gradient = b + sqrt_phi * (G @ w) / norm
        while True:
            candidate = project_simplex(w - step * gradient)
            new_value = objective(candidate)
            if new_value <= value - 1e-4 * gradient @ (w - candidate) or step < 1e-20:
                break
            step /= 2
        if abs(value - new_value) <= tol * max(1.0, abs(value)):
            w, value = candidate, new_value
            break
        w, value = candidate, new_value
        step *= 2
    gw_norm = np.sqrt(max(w @ G @ w, 1e-30))
    weights = mean + sqrt_phi / gw_norm * w
    return weights / (1 + c ** 2) if rescale else weights


def nash_weights(gram, *, tol=1e-10, max_iter=100):
    """Nash-bargaining weights of Nash-MTL (Navon et al. 2022).

    Finds ``alpha > 0`` with ``G @ alpha = 1 / alpha`` (element-wise): each
    task's gain along ``d = alpha @ J`` is inversely proportional to its
    weight. These are the stationarity conditions of the strictly convex
    problem ``min_{alpha > 0} alpha @ G @ alpha / 2 - sum(log(alpha))``,
    solved here by damped Newton steps (exact to ``tol``), instead of the
    sequence of convex programs of the original paper.

    Parameters
    ----------
    gram : array-like of shape (n_tasks, n_tasks)
    tol : float, default=1e-10
        Tolerance on the Newton decrement.
    max_iter : int, default=100

    Returns
    -------
    alpha : ndarray of shape (n_tasks,)

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.utils._gradient_combination import nash_weights
    >>> np.round(nash_weights(np.diag([4.0, 1.0])), 6).tolist()  # 1/||g_k||
    [0.5, 1.0]
    """
    G = _check_gram(gram)
    # A tiny ridge, relative to each task's own squared norm (so that the
    # solution stays invariant to the scale of each task), keeps the problem
    # strictly convex when gradients are collinear.
    G = G + np.diag(1e-12 * np.maximum(np.diag(G), 1e-300))
    alpha = 1.0 / np.sqrt(np.maximum(np.diag(G), 1e-30))

    def objective(a):
        return 0.5 * a @ G @ a - np.sum(np.log(a))

    return _positive_newton(
        objective, lambda a: G @ a - 1.0 / a,
        lambda a: G + np.diag(1.0 / a ** 2), alpha, tol, max_iter)


def fairgrad_weights(gram, alpha=1.0, *, tol=1e-10, max_iter=100):
    """Weights of FairGrad's alpha-fair allocation (Ban & Ji 2024).

    Finds ``w > 0`` with ``(G @ w)_k = w_k ** (-1 / alpha)``: along
    ``d = w @ J`` the gain of task ``k`` is ``w_k ** (-1/alpha)``, the
    alpha-fair resource allocation. ``alpha = 1`` is Nash-MTL's
    bargaining solution. These are the stationarity conditions of the
    strictly convex ``w @ G @ w / 2 - sum_k F(w_k)`` with ``F(w) = w ** (1 -
    1/alpha) / (1 - 1/alpha)`` (``log w`` when ``alpha = 1``), solved by
    damped Newton steps.

    Parameters
    ----------
    gram : array-like of shape (n_tasks, n_tasks)
    alpha : float, default=1.0
        Fairness: 1 is proportional fairness, large values approach the
        max-min allocation.
    tol : float, default=1e-10
    max_iter : int, default=100

    Returns
    -------
    w : ndarray of shape (n_tasks,)

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.utils._gradient_combination import fairgrad_weights
    >>> np.round(fairgrad_weights(np.diag([4.0, 1.0]), alpha=2.0), 6).tolist()
    [0.39685, 1.0]
    """
    G = _check_gram(gram)
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha!r}.")
    if alpha == 1:
        return nash_weights(G, tol=tol, max_iter=max_iter)
    G = G + np.diag(1e-12 * np.maximum(np.diag(G), 1e-300))
    p = 1.0 / alpha
    w = np.maximum(np.diag(G), 1e-30) ** (-alpha / (alpha + 1))

    def objective(v):
        return 0.5 * v @ G @ v - np.sum(v ** (1 - p)) / (1 - p)

    return _positive_newton(
        objective, lambda v: G @ v - v ** (-p),
        lambda v: G + np.diag(p * v ** (-p - 1)), w, tol, max_iter)


def _positive_newton(objective, gradient_of, hessian_of, x, tol, max_iter):
    """Minimise a strictly convex ``objective`` over ``x > 0`` by damped Newton
    steps (halved to stay positive, then Armijo backtracking)."""
    for _ in range(max_iter):
        gradient = gradient_of(x)
        direction = -np.linalg.solve(hessian_of(x), gradient)
        decrement = -gradient @ direction
        if decrement / 2 <= tol:
            break
        step = 1.0
        while np.any(x + step * direction <= 0):
            step /= 2
        value = objective(x)
        while objective(x + step * direction) > value - 0.25 * step * decrement:
            step /= 2
            if step < 1e-16:
                break
        x = x + step * direction
    return x


def imtl_g_weights(gram):
    """Weights of IMTL-G, impartial gradients (Liu et al. 2021).

    ``w = G^+ n / sum(G^+ n)`` with ``n_k = ||g_k||``: the combination
    ``d = w @ J`` (weights summing to one) has the same projection
    ``d . g_k / ||g_k||`` onto every task's unit gradient, the closed form
    of the paper's ``alpha = g_1 U^T (D U^T)^-1`` written on the Gram
    matrix (the pseudo-inverse also handles linearly dependent gradients,
    as in torchjd's ``IMTLG``).

    Parameters
    ----------
    gram : array-like of shape (n_tasks, n_tasks)

    Returns
    -------
    w : ndarray of shape (n_tasks,)

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.utils._gradient_combination import imtl_g_weights
    >>> imtl_g_weights(np.diag([4.0, 1.0])).round(6).tolist()  # d = (1, 1) / 3 * 2
    [0.333333, 0.666667]
    """
    G = _check_gram(gram)
    norms = np.sqrt(np.maximum(np.diag(G), 0.0))
    v = np.linalg.pinv(G, hermitian=True) @ norms
    total = v.sum()
    if abs(total) < 1e-12 * max(np.abs(v).max(), 1e-300):
        return np.zeros(len(G))
    return v / total


def aligned_mtl_weights(gram, pref_vector=None, scale="min"):
    """Weights of Aligned-MTL (Senushkin et al. 2023).

    With ``G = V diag(lambda) V^T`` (its positive eigenvalues), the balance
    transformation ``B = sqrt(sigma) V diag(lambda)^-1/2 V^T`` aligns the
    task gradients: ``J' = B J`` has Gram matrix ``B G B = sigma I`` on the
    span of the gradients, condition number 1 (orthogonal gradients of
    equal norm). The direction is ``pref_vector @ J' = (B pref) @ J``.
    ``sigma`` is the smallest eigenvalue (``"min"``, the paper's), the
    median or the mean (``"median"``, ``"mean"``).

    Parameters
    ----------
    gram : array-like of shape (n_tasks, n_tasks)
    pref_vector : array-like of shape (n_tasks,), default=None
        None is ones (the sum of the aligned gradients).
    scale : {"min", "median", "mean"}, default="min"

    Returns
    -------
    w : ndarray of shape (n_tasks,)

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.utils._gradient_combination import aligned_mtl_weights
    >>> aligned_mtl_weights(np.diag([4.0, 1.0])).round(6).tolist()  # ||g|| = 1 each
    [0.5, 1.0]
    """
    G = _check_gram(gram)
    n = len(G)
    pref = np.ones(n) if pref_vector is None else np.asarray(pref_vector, float)
    eigenvalues, V = np.linalg.eigh(G)
    keep = eigenvalues > max(eigenvalues.max(), 0.0) * n * np.finfo(float).eps
    if not keep.any():
        return pref.copy()
    eigenvalues, V = eigenvalues[keep], V[:, keep]
    sigma = {"min": eigenvalues.min(), "median": np.median(eigenvalues),
             "mean": eigenvalues.mean()}[scale]
    B = np.sqrt(sigma) * (V / np.sqrt(eigenvalues)) @ V.T
    return B @ pref


def config_weights(gram, pref_vector=None):
    """Weights of ConFIG, the conflict-free direction (Liu et al. 2025).

    With unit gradients ``u_k = g_k / ||g_k||``, the direction ``v = U^+
    pref`` has ``u_k . v = pref_k`` (equal cosines with every task for
    equal preferences); ConFIG returns ``(sum_k g_k . v') v'`` with ``v' =
    v / ||v||``: that direction, with the length of the sum of the
    gradients' projections on it. On the Gram matrix: ``v = c @ J`` with
    ``c = D^-1 (D^-1 G D^-1)^+ pref`` (``D = diag(||g_k||)``).

    Parameters
    ----------
    gram : array-like of shape (n_tasks, n_tasks)
    pref_vector : array-like of shape (n_tasks,), default=None
        None is ones.

    Returns
    -------
    w : ndarray of shape (n_tasks,)

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.utils._gradient_combination import config_weights
    >>> config_weights(np.diag([4.0, 1.0])).round(6).tolist()  # d = (1.5, 1.5)
    [0.75, 1.5]
    """
    G = _check_gram(gram)
    n = len(G)
    pref = np.ones(n) if pref_vector is None else np.asarray(pref_vector, float)
    norms = np.sqrt(np.maximum(np.diag(G), 1e-300))
    unit_gram = G / np.outer(norms, norms)
    c = (np.linalg.pinv(unit_gram, hermitian=True) @ pref) / norms
    squared = c @ G @ c
    if not squared > 0:
        return np.zeros(n)
    return c * (np.sum(G @ c) / squared)


def gradvac_weights(gram, targets, beta=0.5, order=None, eps=1e-8):
    """Weights of Gradient Vaccine (Wang et al. 2021), and updated targets.

    For each task ``i`` and, in turn, every other task ``j``: when the
    cosine ``phi_ij`` of the (already corrected) ``g_i`` with ``g_j`` is
    below its target ``phi_hat_ij``, ``g_i`` gets ``w g_j`` added, with

        ``w = ||g_i|| (phi_hat sqrt(1 - phi²) - phi sqrt(1 - phi_hat²))
        / (||g_j|| sqrt(1 - phi_hat²))``,

    which raises the cosine to exactly ``phi_hat``; the target then moves
    to ``(1 - beta) phi_hat + beta phi``. The direction is the sum of the
    corrected gradients. Tracked as combinations of the original gradients
    (only the Gram matrix is needed, as in torchjd's ``GradVac``).

    Parameters
    ----------
    gram : array-like of shape (n_tasks, n_tasks)
    targets : ndarray of shape (n_tasks, n_tasks)
        ``phi_hat``; updated in place.
    beta : float, default=0.5
    order : list of sequences, default=None
        ``order[i]``: the other tasks in the order task ``i`` visits them;
        None visits them by index.
    eps : float, default=1e-8

    Returns
    -------
    w : ndarray of shape (n_tasks,)
    """
    G = _check_gram(gram)
    n = len(G)
    C = np.eye(n)
    for i in range(n):
        others = [j for j in range(n) if j != i] if order is None else order[i]
        for j in others:
            inner = C[i] @ G[:, j]
            norm_i = np.sqrt(max(C[i] @ G @ C[i], 0.0))
            norm_j = np.sqrt(max(G[j, j], 0.0))
            phi = inner / (norm_i * norm_j + eps)
            target = targets[i, j]
            if phi < target:
                root_phi = np.sqrt(max(1 - phi ** 2, 0.0))
                root_target = np.sqrt(max(1 - target ** 2, 0.0))
                C[i, j] += (norm_i * (target * root_phi - phi * root_target)
                            / (norm_j * root_target + eps))
            targets[i, j] = (1 - beta) * target + beta * phi
    return C.sum(axis=0)
