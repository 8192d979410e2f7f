"""Problems and reference computations shared by the weighting tests."""

import itertools

import numpy as np
import pytest
import torch

from skmtl import Task
from skmtl.neural import MultiTaskEstimator, MultiTaskRegressor
from skmtl.neural.weighting import (
    DWA,
    FAMO,
    MGDA,
    RLW,
    WEIGHTINGS,
    CAGrad,
    Fixed,
    GradNorm,
    MetaWeighting,
    NashMTL,
    PCGrad,
    Uncertainty,
    UPGrad,
)

TASKS = [Task("a"), Task("b")]


def _data(n=80, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 3)
    return X, np.c_[X[:, 0] + X[:, 1], X[:, 1] - X[:, 2]]


def _est(**params):
    defaults = dict(tasks=TASKS, hidden_layer_sizes=(8,), lr=0.01, max_epochs=3,
                    batch_size=16, random_state=0)
    defaults.update(params)
    return MultiTaskEstimator(**defaults)


def resolve_tasks_pair():
    from skmtl.tasks import resolve_tasks

    return resolve_tasks(TASKS, np.zeros((2, 2)))


STRATEGIES = sorted(set(WEIGHTINGS.values()), key=lambda cls: cls.__name__)


GRADIENT_LEVEL = [PCGrad, MGDA, CAGrad, NashMTL, UPGrad]


def _needs_torchjd(cls):
    if cls is UPGrad:
        pytest.importorskip("torchjd")
        pytest.importorskip("quadprog")


def _conflicting_problem(n=64, seed=0, aligned=False):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 3)
    first = X[:, 0] + X[:, 1]
    second = first if aligned else -X[:, 0] + 0.5 * X[:, 2]
    return X, np.c_[first, second]


def _one_step(weighting, X, Y, architecture="hard", hidden=(6,), step_rows=None):
    """A fitted-for-zero-steps net; returns (net, shared params, per-task grads).

    The per-task gradients of the shared parameters are computed
    independently (one forward and backward per task) before the strategy's
    own backward on the same batch writes ``.grad``.
    """
    est = MultiTaskRegressor(weighting=weighting, architecture=architecture,
                             hidden_layer_sizes=hidden, max_epochs=1, batch_size=len(X),
                             standardize_targets=False, lr=1e-12, random_state=0)
    est.fit(X, Y)
    net = est.net_
    module = net.module_
    rows = slice(None) if step_rows is None else step_rows
    Xt = torch.as_tensor(X[rows], dtype=torch.float32)
    yt = torch.as_tensor(Y[rows], dtype=torch.float32)
    shared = module.shared_parameters()
    per_task = []
    module.own_head_grads = []
    for k in range(Y.shape[1]):
        module.zero_grad()
        losses, _ = net.get_task_losses(net.infer(Xt), yt, training=True)
        losses[k].backward()
        per_task.append(torch.cat([p.grad.flatten() for p in shared]).clone())
        module.own_head_grads.append([p.grad.clone()
                                      for p in module.heads[k].parameters()])
    module.zero_grad()
    net._train_batch_ = (Xt, yt)
    losses, _ = net.get_task_losses(net.infer(Xt), yt, training=True)
    net.weighting_.backward(losses, net)
    combined = torch.cat([p.grad.flatten() for p in shared])
    return net, combined.double().numpy(), torch.stack(per_task).double().numpy()


def _brute_force_min_norm(J):
    """Minimum-norm point of the convex hull of J's rows (see the KKT version)."""
    return _brute_force_min_norm_kkt(J)[1] @ J


def _slow_and_fast(n=240, seed=0):
    """Task "fast" is learned in a few epochs; task "slow" is mostly noise."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 3)
    return X, np.c_[2 * X[:, 0], 0.3 * X[:, 1] + rng.randn(n)]


MIXED = [Task("value"), Task("kind", "classification"), Task("flag", "binary")]


def _mixed(n=96, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 4)
    Y = np.c_[X[:, 0] + 0.1 * rng.randn(n), np.digitize(X[:, 1], [-0.5, 0.5]),
              X[:, 2] > 0].astype(float)
    Y[rng.rand(n) < 0.3, 0] = np.nan
    Y[rng.rand(n) < 0.3, 1] = np.nan
    return X, Y


PARAMS = {Uncertainty: ("lr", [0.01, 0.1]), DWA: ("temperature", [1.0, 2.0]),
          GradNorm: ("alpha", [0.5, 1.5]), RLW: ("distribution", ["normal", "uniform"]),
          FAMO: ("lr", [0.01, 0.05]), MetaWeighting: ("holdout", [0.2, 0.4]),
          CAGrad: ("c", [0.2, 0.5]), NashMTL: ("update_every", [1, 2]),
          Fixed: ("task_weights", [(1, 1, 1), (1, 2, 1)]),
          UPGrad: ("pref_vector", [None, (0.5, 0.25, 0.25)])}


TWO = [Task("a"), Task("b")]


def _jacobians(seed, n_tasks=3, n_params=10):
    rng = np.random.RandomState(seed)
    scales = 10.0 ** rng.uniform(-2, 2, size=(n_tasks, 1))
    return (rng.randn(n_tasks, n_params) + 0.3) * scales


def _conflicting(n=64, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 3)
    return X, np.c_[X[:, 0] + X[:, 1], 5 * (-X[:, 0] + 0.5 * X[:, 2])]


def _step(weighting, X, Y):
    """Per-task gradients of the shared parameters and the strategy's .grad."""
    est = MultiTaskRegressor(weighting=weighting, hidden_layer_sizes=(6,),
                             max_epochs=1, batch_size=len(X), lr=1e-12,
                             standardize_targets=False, random_state=0).fit(X, Y)
    net = est.net_
    Xt = torch.as_tensor(X, dtype=torch.float32)
    yt = torch.as_tensor(Y, dtype=torch.float32)
    shared = net.module_.shared_parameters()
    rows = []
    for k in range(Y.shape[1]):
        net.module_.zero_grad()
        losses, _ = net.get_task_losses(net.infer(Xt), yt, training=True)
        losses[k].backward()
        rows.append(torch.cat([p.grad.flatten() for p in shared]).clone())
    net.module_.zero_grad()
    losses, _ = net.get_task_losses(net.infer(Xt), yt, training=True)
    net.weighting_.backward(losses, net)
    d = torch.cat([p.grad.flatten() for p in shared]).double().numpy()
    return net, d, torch.stack(rows).double().numpy(), losses.detach().double().numpy()


def _brute_force_min_norm_kkt(J):
    """Exact min-norm point of conv(J) by enumerating supports (KKT check)."""
    G = J @ J.T
    n = len(J)
    best = None
    for size in range(1, n + 1):
        for S in itertools.combinations(range(n), size):
            S = list(S)
            system = np.zeros((size + 1, size + 1))
            system[:size, :size] = G[np.ix_(S, S)]
            system[:size, size] = system[size, :size] = 1
            rhs = np.r_[np.zeros(size), 1.0]
            alpha = np.linalg.lstsq(system, rhs, rcond=None)[0][:size]
            if np.any(alpha < -1e-12):
                continue
            w = np.zeros(n)
            w[S] = alpha
            x = w @ J
            if np.all(J @ x >= x @ x - 1e-9):
                norm = x @ x
                if best is None or norm < best[0] - 1e-12:
                    best = (norm, w)
    return best


def _pcgrad_vectors(J, order):
    out = np.zeros(J.shape[1])
    for i in range(len(J)):
        g = J[i].copy()
        for j in order:
            if j != i and g @ J[j] < 0:
                g -= g @ J[j] / (J[j] @ J[j]) * J[j]
        out += g
    return out
