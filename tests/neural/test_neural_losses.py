"""Masked multi-task losses: only labelled entries count, never NaN."""

import numpy as np
import pytest
import torch

from skmtl import Task
from skmtl.neural._losses import TaskLosses, outputs_by_task
from skmtl.tasks import resolve_tasks

NAN = float("nan")


def _problem(task, n=12, seed=0):
    """A fitted task, raw outputs and complete encoded targets for it."""
    rng = np.random.RandomState(seed)
    if task.type == "classification":
        labels = rng.randint(0, 3, size=(n, 1)).astype(float)
    elif task.type == "binary":
        labels = rng.randint(0, 2, size=(n, task.n_outputs)).astype(float)
    elif task.type in ("count", "ranking"):
        labels = rng.randint(0, 4, size=(n, task.n_outputs)).astype(float)
    else:
        labels = rng.randn(n, task.n_outputs)
    (fitted,) = resolve_tasks([task], labels)
    raw = torch.tensor(rng.randn(n, fitted.n_model_outputs), dtype=torch.float64,
                       requires_grad=True)
    target = torch.tensor(fitted.encode(labels), dtype=torch.float64)
    return fitted, raw, target


TASKS = [Task("r"), Task("r2", n_outputs=2), Task("h", loss="huber", huber_delta=0.5),
         Task("c", "classification"), Task("b", "binary"),
         Task("ml", "binary", n_outputs=3), Task("n", "count"), Task("q", "ranking")]


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.name)
def test_masked_loss_and_gradient_equal_those_of_the_labelled_subset(task):
    fitted, raw, target = _problem(task)
    # hide whole rows (and, for multi-output tasks, single entries)
    missing = np.zeros(target.shape, dtype=bool)
    missing[[1, 4, 7]] = True
    if target.shape[1] > 1:
        missing[9, 0] = True
    masked_target = target.clone()
    masked_target[torch.as_tensor(missing)] = NAN
    loss = fitted.loss_fn(raw, masked_target)
    (grad,) = torch.autograd.grad(loss, raw)

    rows = ~missing.all(axis=1)
    raw_sub = raw.detach()[rows].clone().requires_grad_(True)
    sub_target = masked_target[torch.as_tensor(rows)]
    sub_loss = fitted.loss_fn(raw_sub, sub_target)
    (sub_grad,) = torch.autograd.grad(sub_loss, raw_sub)

    assert torch.isfinite(loss)
    torch.testing.assert_close(loss, sub_loss)
    torch.testing.assert_close(grad[torch.as_tensor(rows)], sub_grad)
    # unlabelled rows receive no gradient at all
    assert torch.all(grad[torch.as_tensor(~rows)] == 0)


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.name)
def test_all_missing_batch_gives_zero_finite_loss_and_zero_gradient(task):
    fitted, raw, target = _problem(task)
    loss = fitted.loss_fn(raw, torch.full_like(target, NAN))
    (grad,) = torch.autograd.grad(loss, raw)
    assert loss.item() == 0.0
    assert torch.all(grad == 0)


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.name)
def test_loss_gradient_matches_finite_differences(task):
    fitted, raw, target = _problem(task, n=6)
    target[2] = NAN
    assert torch.autograd.gradcheck(lambda r: fitted.loss_fn(r, target),
                                    (raw,), eps=1e-6, atol=1e-5)


def test_regression_loss_is_the_mean_over_labelled_entries_by_hand():
    (task,) = resolve_tasks([Task("r", n_outputs=2)], np.zeros((3, 2)))
    raw = torch.tensor([[1.0, 2.0], [0.0, 0.0], [3.0, 3.0]])
    target = torch.tensor([[0.0, NAN], [NAN, NAN], [1.0, 0.0]])
    # labelled entries: (1-0)², (3-1)², (3-0)² -> mean of 1, 4, 9
    assert task.loss_fn(raw, target).item() == pytest.approx(14 / 3)


def test_ranking_pairs_within_groups_or_within_the_batch():
    (task,) = resolve_tasks([Task("q", "ranking")], np.zeros((4, 1)))
    raw = torch.tensor([[0.0], [1.0], [2.0], [0.5]])
    target = torch.tensor([[1.0], [0.0], [2.0], [1.0]])
    groups = torch.tensor([0, 0, 1, 1])
    softplus = torch.nn.functional.softplus
    # within groups: (0 over 1) in group 0, (2 over 3) in group 1
    by_hand = (softplus(torch.tensor(1.0)) + softplus(torch.tensor(-1.5))) / 2
    assert task.loss_fn(raw, target, groups).item() == pytest.approx(by_hand.item())
    # over the batch, every pair with different relevance counts: 5 pairs
    assert task.loss_fn(raw, target).item() != pytest.approx(by_hand.item())
    pairs = [(0, 1), (2, 0), (2, 1), (2, 3), (3, 1)]
    batch = sum(softplus(-(raw[i, 0] - raw[j, 0])) for i, j in pairs) / 5
    assert task.loss_fn(raw, target).item() == pytest.approx(batch.item())


def _fitted_mixed():
    Y = np.array([[0.5, 0.0, 1.0, 1.0, 2.0], [1.5, 2.0, 0.0, 0.0, 0.0],
                  [2.0, 1.0, 1.0, 1.0, 3.0], [0.0, 0.0, 0.0, 1.0, 1.0]])
    tasks = resolve_tasks([Task("r"), Task("c", "classification"),
                           Task("b", "binary", n_outputs=2), Task("n", "count")], Y)
    return tasks, Y


def test_task_losses_vector_and_counts():
    tasks, Y = _fitted_mixed()
    targets = np.vstack([t.encode(Y[:, t.columns_]).T for t in tasks]).T
    targets[0, 0] = np.nan      # one regression label missing
    targets[:, 1] = np.nan      # the classification task has no label here
    targets[2, 3] = np.nan      # one of the binary task's entries
    rng = np.random.RandomState(0)
    outputs = tuple(torch.tensor(rng.randn(4, t.n_model_outputs), dtype=torch.float32)
                    for t in tasks)
    target_t = torch.tensor(targets, dtype=torch.float32)
    losses, counts = TaskLosses(tasks)(outputs, target_t)
    expected = [t.loss_fn(o, target_t[:, t.columns_]) for t, o in zip(tasks, outputs)]
    torch.testing.assert_close(losses, torch.stack(expected))
    assert counts.tolist() == [3.0, 0.0, 7.0, 4.0]
    assert losses[1].item() == 0.0


def test_complete_batches_take_the_unmasked_path_with_identical_losses():
    tasks, Y = _fitted_mixed()
    tasks = tasks + resolve_tasks([Task("h", loss="huber", huber_delta=0.3)],
                                  np.ones((4, 1)))
    tasks[-1].columns_ = np.array([5])
    targets = np.c_[np.vstack([t.encode(Y[:, t.columns_]).T for t in tasks[:-1]]).T,
                    np.linspace(-1, 1, 4)]
    rng = np.random.RandomState(1)
    outputs = [torch.tensor(rng.randn(4, t.n_model_outputs), dtype=torch.float64,
                            requires_grad=True) for t in tasks]
    target_t = torch.tensor(targets, dtype=torch.float64)
    compute = TaskLosses(tasks)
    dense, counts = compute(outputs, target_t, complete=True)
    assert counts is None
    masked = torch.stack([t.loss_fn(o, target_t[:, t.columns_])
                          for t, o in zip(tasks, outputs)])
    torch.testing.assert_close(dense, masked)
    grads_dense = torch.autograd.grad(dense.sum(), outputs)
    grads_masked = torch.autograd.grad(masked.sum(), outputs)
    for a, b in zip(grads_dense, grads_masked):
        torch.testing.assert_close(a, b)
    # the batch check finds it complete by itself
    auto, counts = compute(outputs, target_t)
    assert counts is None
    torch.testing.assert_close(auto, dense)


def test_outputs_by_task_accepts_tuples_dicts_and_single_tensors():
    a, b = torch.zeros(2, 1), torch.ones(2, 3)
    assert outputs_by_task((a, b), ["x", "y"])[1] is b
    assert outputs_by_task({"y": b, "x": a}, ["x", "y"])[0] is a
    assert outputs_by_task(a, ["x"])[0] is a
    with pytest.raises(ValueError, match="returned 1 output"):
        outputs_by_task((a,), ["x", "y"])
    with pytest.raises(ValueError, match=r"no entry for task\(s\) \['y'\]"):
        outputs_by_task({"x": a}, ["x", "y"])


def test_complete_batch_with_a_ranking_task_keeps_its_pairwise_loss():
    # the complete, unweighted fast path calls each type's mean_loss; ranking
    # has none (its loss is over pairs), so a complete batch with a ranking
    # task must still give every task its own loss
    Y = np.array([[0.5, 2.0], [1.5, 0.0], [2.0, 1.0], [0.0, 3.0]])
    tasks = resolve_tasks([Task("r"), Task("q", "ranking")], Y)
    rng = np.random.RandomState(2)
    outputs = [torch.tensor(rng.randn(4, 1), dtype=torch.float64) for _ in tasks]
    target_t = torch.tensor(np.c_[tasks[0].encode(Y[:, :1]),
                                  tasks[1].encode(Y[:, 1:])], dtype=torch.float64)
    losses, counts = TaskLosses(tasks)(outputs, target_t, complete=True)
    assert counts is None
    expected = [t.loss_fn(o, target_t[:, t.columns_]) for t, o in zip(tasks, outputs)]
    torch.testing.assert_close(losses, torch.stack(expected))
