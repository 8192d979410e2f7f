"""A conversion model on the entire space: skmtl's dependent task against
hand-written ESMM and naive torch loops.

Data: :func:`skmtl.datasets.make_funnel` (default 300 000 impressions of
1 000 items to 4 000 users, click rate 0.1, conversions at 0.2 of clicks,
selection bias 2: users click what they would buy), 80% to train, 20% to
score. Every contender trains the
same network in the same process: a trunk with a 16-dimensional embedding of
the user id and of the item id (read from the first two columns of ``X``,
ids as numbers) concatenated with the context columns, an MLP (64, 32)
shared by the tasks and one linear head per task
(:class:`~skmtl.neural.HardSharing`); Adam (fused), lr 3e-3, batch 512, the
same epochs (5) and seed, one torch thread; a warm-up fit comes first.

* ``naive loop``: click log-loss on every impression plus the conversion
  log-loss on the clicked ones (conversion ``NaN`` elsewhere), by hand;
* ``ESMM loop``: click log-loss plus the log-loss of ``P(click) *
  P(conversion | click)`` against ``click and conversion`` on every
  impression (Ma et al., SIGIR 2018), by hand, as written in the ESMM
  implementations (probabilities multiplied, torch's clamped
  ``binary_cross_entropy``);
* ``ESMM loop, log space``: the same loss computed as skmtl computes it,
  in log space (``log q = log sigmoid(click logit) + log sigmoid(conversion
  logit)``, ``log (1 - q)`` with ``logaddexp``, the logistic loss of ``log q
  - log (1 - q)``), by hand: the time skmtl's dependent task takes beyond
  this loop is what its training loop adds, beyond the ESMM loop also
  what the log-space loss costs;
* ``skmtl naive``: ``MultiTaskEstimator`` with an independent conversion
  task (labels ``NaN`` outside clicks);
* ``skmtl given``: ``Task("conversion", "binary", given="click")``, the
  entire-space loss computed in log space;
* with ``--variants``: the same plus the conditional log-loss
  (``conditional_weight=1``), plus ESCM²'s inverse-propensity risk
  (``conditional_weight=0.5, counterfactual="ips"``), plus its doubly
  robust risk (``counterfactual="dr"``: an imputation head beside the
  conversion logit), and with
  ``architecture="aitm"`` (towers ``(64, 32)`` on the shared trunk).

Reported on the held-out impressions: the AUC of the conversion model
``P(conversion | click)`` on the entire space (against the counterfactual
labels, would the impression have converted had it been clicked), the AUC of
``P(click and conversion)`` against the observed ``click and conversion``,
both with the ceiling the generator's true probabilities reach, and the fit
time as a ratio to the ESMM loop.

Run: ``python benchmarks/bench_funnel.py`` (``--quick`` for 60 000
impressions; ``--seeds 3`` repeats over data and weight seeds and prints
the mean, with the standard deviation of the CVR AUC; ``--repeat 3``, the
default, fits every contender three times with the same seed, in turn
(each round fits every contender once), and reports the shortest fit
time: on a shared machine other work only adds time;
``--clock process`` times the process's CPU time instead of the wall
clock; ``--variants``).
"""

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score
from torch import nn

from skmtl import Task
from skmtl.datasets import make_funnel
from skmtl.neural import HardSharing, MultiTaskEstimator
from skmtl.tasks import resolve_tasks


class IdTrunk(nn.Module):
    """Embeddings of the user and item ids (columns 0 and 1 of ``X``) and the
    context columns, through an MLP."""

    def __init__(self, input_shape, n_users, n_items, dim=16, hidden=(64, 32)):
        super().__init__()
        self.users = nn.Embedding(n_users, dim)
        self.items = nn.Embedding(n_items, dim)
        layers, width = [], 2 * dim + input_shape[0] - 2
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        self.mlp = nn.Sequential(*layers)
        self.out_features = width

    def forward(self, X):
        ids = X[:, :2].long()
        return self.mlp(torch.cat([self.users(ids[:, 0]), self.items(ids[:, 1]),
                                   X[:, 2:]], dim=1))


def _module(tasks, n_features, n_users, n_items):
    return HardSharing(tasks, input_shape=(n_features,),
                       trunk=IdTrunk((n_features,), n_users, n_items))


def hand_loop(X, Y, loss, epochs, batch_size, lr, seed, n_users, n_items):
    """A torch loop as one writes it; ``loss`` is "naive", "esmm" or
    "esmm_log" (ESMM's loss in log space)."""
    torch.manual_seed(seed)
    tasks = resolve_tasks([Task("click", "binary"), Task("conversion", "binary")], Y)
    model = _module(tasks, X.shape[1], n_users, n_items)
    opt = torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    Xt = torch.from_numpy(X)
    click = torch.from_numpy(Y[:, 0:1].astype(np.float32))
    conversion = torch.from_numpy(np.nan_to_num(Y[:, 1:2]).astype(np.float32))
    n = X.shape[0]
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(n)
        for i in range(0, n, batch_size):
            idx = perm[i:i + batch_size]
            ctr_logit, cvr_logit = model(Xt[idx])
            c, v = click[idx], conversion[idx]
            ctr_loss = F.binary_cross_entropy_with_logits(ctr_logit, c)
            if loss == "esmm":
                ctcvr = torch.sigmoid(ctr_logit) * torch.sigmoid(cvr_logit)
                task_loss = F.binary_cross_entropy(ctcvr, c * v)
            elif loss == "esmm_log":
                log_click = F.logsigmoid(ctr_logit)
                log_q = log_click + F.logsigmoid(cvr_logit)
                log_not_q = torch.logaddexp(log_click - ctr_logit, log_q - cvr_logit)
                task_loss = F.binary_cross_entropy_with_logits(log_q - log_not_q, c * v)
            else:
                clicked = c[:, 0] > 0
                task_loss = (F.binary_cross_entropy_with_logits(
                    cvr_logit[clicked], v[clicked]) if clicked.any()
                    else cvr_logit.sum() * 0)
            opt.zero_grad(set_to_none=True)
            (ctr_loss + task_loss).backward()
            opt.step()
    return model.eval()


def _predict(model, X):
    with torch.inference_mode():
        ctr_logit, cvr_logit = model(torch.from_numpy(X))
    return (torch.sigmoid(ctr_logit)[:, 0].numpy(),
            torch.sigmoid(cvr_logit)[:, 0].numpy())


CLOCKS = {"wall": time.perf_counter, "process": time.process_time}


def _timed(fits, repeat, clock="wall"):
    """``{name: (result of its last fit, the shortest of its repeat fit
    times)}`` of the callables ``fits``, fitted in turn: each of the
    ``repeat`` rounds fits every contender once, so that a change of load
    during the run weighs on every contender alike. On a shared machine
    other work only adds time, so the minimum is the fit's own cost (as
    ``timeit`` reports). ``clock="process"`` counts the CPU time of this
    process only (every contender runs one torch thread), which the other
    processes of a loaded machine do not inflate."""
    now = CLOCKS[clock]
    results, times = {}, {name: [] for name in fits}
    for _ in range(repeat):
        for name, fit in fits.items():
            start = now()
            results[name] = fit()
            times[name].append(now() - start)
    return {name: (results[name], min(times[name])) for name in fits}


def run(n_impressions, n_users, n_items, selection_bias, epochs, batch_size, lr,
        seed, threads, variants=False, repeat=1, clock="wall"):
    X, Y, truth = make_funnel(n_impressions, n_users=n_users, n_items=n_items,
                              rates=(0.1, 0.2), selection_bias=selection_bias,
                              as_frame=False, random_state=seed,
                              return_structure=True)
    X = X.astype(np.float32)
    n_train = int(0.8 * n_impressions)
    train, test = slice(0, n_train), slice(n_train, None)
    counterfactual = truth.counterfactual[test, 1]
    joint_label = (Y[test, 0] == 1) & (Y[test, 1] == 1)
    rows = [("ceiling (true probabilities)",
             roc_auc_score(counterfactual, truth.conditional_proba[test, 1]),
             roc_auc_score(joint_label, truth.joint_proba[test, 1]), np.nan)]
    torch.set_num_threads(threads)
    # warm-up: the first fit in a process pays for torch's lazy initialization
    hand_loop(X[:2048], Y[:2048], "esmm", 1, batch_size, lr, seed, n_users, n_items)
    loops = {"naive loop": "naive", "ESMM loop": "esmm",
             "ESMM loop, log space": "esmm_log"}
    fits = {label: lambda loss=loss: hand_loop(X[train], Y[train], loss, epochs,
                                               batch_size, lr, seed, n_users, n_items)
            for label, loss in loops.items()}
    given = Task("conversion", "binary", given="click")
    contenders = [("skmtl naive", Task("conversion", "binary"), "hard"),
                  ("skmtl given", given, "hard")]
    if variants:
        contenders += [
            ("skmtl given + conditional (w=1)",
             Task("conversion", "binary", given="click", conditional_weight=1.0),
             "hard"),
            ("skmtl given + ESCM2 IPS (w=0.5)",
             Task("conversion", "binary", given="click", conditional_weight=0.5,
                  counterfactual="ips"), "hard"),
            ("skmtl given + ESCM2 DR (w=0.5)",
             Task("conversion", "binary", given="click", conditional_weight=0.5,
                  counterfactual="dr"), "hard"),
            ("skmtl given, AITM", given, "aitm")]
    for name, child, architecture in contenders:
        est = MultiTaskEstimator(
            tasks=[Task("click", "binary"), child], trunk=IdTrunk,
            architecture=architecture, trunk__n_users=n_users,
            trunk__n_items=n_items, lr=lr, max_epochs=epochs,
            batch_size=batch_size, random_state=seed, n_threads=threads)
        fits[name] = lambda est=est: est.fit(X[train], Y[train])
    for name, (fitted, seconds) in _timed(fits, repeat, clock).items():
        if name in loops:
            ctr, cvr = _predict(fitted, X[test])
        else:
            proba = fitted.predict_proba(X[test])
            ctr, cvr = proba[0][:, 1], proba[1][:, 1]
        rows.append((name, roc_auc_score(counterfactual, cvr),
                     roc_auc_score(joint_label, ctr * cvr), seconds))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--selection-bias", type=float, default=2.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3,
                        help="fits per contender; the shortest time is reported")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                        help="wall-clock time, or the process's CPU time (not "
                             "inflated by other processes on a loaded machine)")
    parser.add_argument("--variants", action="store_true",
                        help="also the conditional term, ESCM2's IPS and DR, "
                             "and AITM")
    args = parser.parse_args()
    n, users, items = (60_000, 1_000, 300) if args.quick else (300_000, 4_000, 1_000)
    print(f"make_funnel: {n} impressions, {users} users, {items} items, "
          f"selection bias {args.selection_bias}; {args.epochs} epochs, lr "
          f"{args.lr}, batch 512, {args.threads} thread(s), torch "
          f"{torch.__version__}; fit time ({args.clock} clock): the shortest of "
          f"{args.repeat}")
    results = {}
    for seed in range(args.seeds):
        for name, cvr, ctcvr, seconds in run(n, users, items, args.selection_bias,
                                             args.epochs, 512, args.lr, seed,
                                             args.threads, args.variants,
                                             args.repeat, args.clock):
            results.setdefault(name, []).append((cvr, ctcvr, seconds))
    esmm_time = np.mean([r[2] for r in results["ESMM loop"]])
    print(f"\n{'model':34s} {'CVR AUC (entire space)':>24s} {'CTCVR AUC':>11s} "
          f"{'fit s':>7s} {'time / ESMM':>12s}")
    for name, values in results.items():
        values = np.asarray(values)
        cvr, ctcvr, seconds = values.mean(axis=0)
        spread = (f" ±{values[:, 0].std():.3f}" if len(values) > 1 else "")
        print(f"{name:34s} {cvr:>18.3f}{spread:>6s} {ctcvr:>11.3f} "
              f"{seconds:>7.1f} {seconds / esmm_time:>12.2f}")


if __name__ == "__main__":
    main()
