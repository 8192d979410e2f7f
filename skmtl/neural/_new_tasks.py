"""Adding tasks to a fitted network: the pieces of ``add_tasks``.

:meth:`MultiTaskEstimator.add_tasks` validates the new tasks and their
labels (:func:`new_task_targets`), appends their heads to the module
(:func:`grow_net`) and trains them, the shared part frozen or fine-tuned
(:func:`training_new_tasks`).
"""

import contextlib
import types

import numpy as np
from torch import nn

from ..base import check_targets
from ..tasks import Task, resolve_tasks
from .weighting import Fixed

__all__ = ["frozen_except", "grow_net", "new_task_targets", "training_new_tasks"]


def _as_task_list(tasks):
    if isinstance(tasks, Task):
        return [tasks]
    if isinstance(tasks, str) or not hasattr(tasks, "__iter__"):
        raise TypeError(f"tasks must be a Task or a list of Task, got {tasks!r}; "
                        f"e.g. Task('price', 'regression').")
    tasks = list(tasks)
    if not tasks:
        raise ValueError("add_tasks needs at least one new task.")
    for task in tasks:
        if not isinstance(task, Task):
            raise TypeError(f"tasks must be Task objects, got {type(task).__name__} "
                            f"{task!r}; e.g. Task('price', 'regression').")
    return tasks


def new_task_targets(fitted_tasks, tasks, y, default_type):
    """The fitted new tasks and the targets of every task.

    Parameters
    ----------
    fitted_tasks : list of Task
        The model's tasks (``tasks_``).
    tasks : Task or list of Task
        The new tasks.
    y : array-like or DataFrame
        Labels of the new tasks only (one column per new output), or of
        every task (the model's columns first; NaN where missing).
    default_type : str

    Returns
    -------
    new_tasks : list of Task
        Fitted copies whose ``columns_`` follow the model's columns.
    Y : ndarray of shape (n_samples, n_old_outputs + n_new_outputs)
        NaN in the model's columns where ``y`` has only the new ones.
    """
    tasks = _as_task_list(tasks)
    old = {task.name for task in fitted_tasks}
    seen = set()
    for task in tasks:
        if task.name in old:
            raise ValueError(f"task {task.name!r} is already a task of the model "
                             f"{sorted(old)}; give the new tasks other names.")
        if task.name in seen:
            raise ValueError(f"task name {task.name!r} is given twice among the new "
                             f"tasks; names must be unique.")
        seen.add(task.name)
        if task.given is not None:
            raise ValueError(f"task {task.name!r} depends on {task.given!r}; "
                             f"add_tasks adds independent tasks only (fit a new "
                             f"model for a funnel).")
    n_old = sum(len(task.columns_) for task in fitted_tasks)
    n_new = sum(task.n_outputs for task in tasks)
    if hasattr(y, "columns") and len(y.columns) == n_new:
        # a table of the new tasks' columns, matched by name
        Y, _, _ = check_targets(y, tasks=tasks)
    else:
        Y, _, _ = check_targets(y, tasks=list(fitted_tasks) + tasks)
    if Y.shape[1] == n_new:
        Y_new, Y = Y, None
    elif Y.shape[1] == n_old + n_new:
        Y_new = Y[:, n_old:]
    else:
        raise ValueError(
            f"y has {Y.shape[1]} column(s); give the {n_new} column(s) of the "
            f"new tasks {[t.name for t in tasks]}, or {n_old + n_new} (the "
            f"model's {n_old} first, NaN where missing, then the new ones).")
    new_tasks = resolve_tasks(tasks, Y_new, default_type=default_type)
    for task in new_tasks:
        task.columns_ = np.asarray(task.columns_) + n_old
    if Y is None:
        Y = np.concatenate([np.full((Y_new.shape[0], n_old), np.nan,
                                    dtype=np.float64 if Y_new.dtype.kind == "f"
                                    else object), Y_new], axis=1)
    return new_tasks, Y


def grow_net(net, tasks, weighting):
    """Append the new tasks' modules to the net's module; set the task list
    (``tasks``: old and new) and the strategy; a fresh optimizer.

    Returns
    -------
    parameters : list of nn.Parameter
        The new modules' parameters.
    """
    module = net.module_
    add = getattr(module, "add_tasks", None)
    if not callable(add):
        raise TypeError(f"{type(module).__name__} cannot add tasks to a fitted "
                        f"network; use an architecture of skmtl.neural such as "
                        f"HardSharing.")
    n_old = len(net.tasks)
    parameters = add(tasks[n_old:])
    module.to(net.compute_device())
    net.tasks = list(tasks)
    net.initialize_criterion()
    net.weighting = net.weighting_ = weighting.to(net.compute_device())
    net.initialize_optimizer()
    return parameters


@contextlib.contextmanager
def training_new_tasks(net, parameters, freeze_shared):
    """The training of :meth:`add_tasks`: with ``freeze_shared``, only
    ``parameters`` (the new modules') train, on the tasks' losses summed with
    weight 1 (the strategy, which weighs tasks that share parameters, is put
    back afterwards); otherwise everything trains as in ``fit``."""
    if not freeze_shared:
        yield
        return
    strategy = net.weighting_
    net.weighting_ = Fixed().initialize(net.tasks).to(net.compute_device())
    try:
        with frozen_except(net.module_, parameters):
            yield
    finally:
        net.weighting_ = strategy


@contextlib.contextmanager
def frozen_except(module, trainable):
    """Train only ``trainable`` inside the block.

    Every other parameter has ``requires_grad`` False, and the submodules
    holding only frozen parameters run in evaluation mode even while the
    module trains (dropout off, batch-norm statistics left as they are), so
    that the frozen part computes exactly what it computed before.
    """
    keep = {id(p) for p in trainable}
    flags = [(p, p.requires_grad) for p in module.parameters()]
    for p, _ in flags:
        if id(p) not in keep:
            p.requires_grad_(False)
    patched = []

    def visit(parent):
        for child in parent.children():
            if any(id(p) in keep for p in child.parameters()):
                visit(child)
            elif next(child.parameters(), None) is not None or next(
                    child.buffers(), None) is not None:
                # stateless children (activations) follow their parent
                child.train = types.MethodType(_stay_in_eval, child)
                patched.append(child)
                child.eval()

    visit(module)
    try:
        yield
    finally:
        for child in patched:
            del child.train
        for p, flag in flags:
            p.requires_grad_(flag)


def _stay_in_eval(self, mode=True):
    return nn.Module.train(self, False)
