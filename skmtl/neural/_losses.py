"""Masked per-task losses of a batch.

Each task type of :mod:`skmtl.tasks` owns its torch loss (the weighted mean
over the task's labelled entries in the batch, exactly 0 when it has none;
:meth:`skmtl.tasks.TaskType.loss`). This module applies them to a network's
outputs: it splits the target matrix into the tasks' columns, routes the
query ids to ranking tasks and the sample weights to every task, and returns
the vector of task losses, which a weighting strategy turns into one
objective.
"""

import numpy as np
import torch

from .._dependencies import TaskGraph
from ._data import group_names

__all__ = ["TaskLosses", "outputs_by_task"]


def outputs_by_task(y_pred, task_names):
    """The module's outputs as a list in task order.

    A module may return a tuple or list (task order), a dict keyed by task
    name, or a single tensor when there is one task.
    """
    if isinstance(y_pred, dict):
        missing = [n for n in task_names if n not in y_pred]
        if missing:
            raise ValueError(f"the module's output dict has no entry for task(s) "
                             f"{missing}; its keys are {list(y_pred)}.")
        return [y_pred[n] for n in task_names]
    if isinstance(y_pred, torch.Tensor):
        y_pred = (y_pred,)
    if len(y_pred) != len(task_names):
        raise ValueError(f"the module returned {len(y_pred)} output(s) but there are "
                         f"{len(task_names)} tasks {task_names}; return one output "
                         f"per task (a tuple in task order or a dict by name).")
    return list(y_pred)


class TaskLosses:
    """Compute the vector of masked task losses for a batch.

    Parameters
    ----------
    tasks : list of Task
        Fitted tasks (with ``columns_``), in output order.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from skmtl.tasks import resolve_tasks
    >>> from skmtl.neural._losses import TaskLosses
    >>> tasks = resolve_tasks(None, np.zeros((3, 2)))
    >>> losses, counts = TaskLosses(tasks)(
    ...     (torch.ones(3, 1), torch.zeros(3, 1)),
    ...     torch.tensor([[0.0, float("nan")], [0.0, float("nan")],
    ...                   [float("nan"), float("nan")]]))
    >>> losses.tolist(), counts.tolist()
    ([1.0, 0.0], [2.0, 0.0])
    """

    def __init__(self, tasks):
        self.tasks = list(tasks)
        self.names = [t.name for t in self.tasks]
        self.slices = []
        for task in self.tasks:
            cols = np.asarray(task.columns_)
            contiguous = cols.size and np.array_equal(
                cols, np.arange(cols[0], cols[0] + cols.size))
            self.slices.append(slice(int(cols[0]), int(cols[-1]) + 1) if contiguous
                               else torch.as_tensor(cols, dtype=torch.long))
        names = group_names(self.tasks)
        self.group_columns = [
            None if t.type_.query_group(t) is None
            else names.index(t.type_.query_group(t)) for t in self.tasks]
        n_outputs = sum(t.n_outputs for t in self.tasks)
        membership = torch.zeros(n_outputs, len(self.tasks))
        for k, task in enumerate(self.tasks):
            membership[np.asarray(task.columns_), k] = 1.0
        self.membership = membership
        self.columns = [[int(j) for j in t.columns_] for t in self.tasks]
        self.outputs_per_task = membership.sum(0).numpy()
        self.graph = TaskGraph(self.tasks)
        self.children = set(self.graph.children())
        # the parts of loss_inputs: the entry counts, then each dependent
        # task's given_targets (their widths are the types')
        self.input_widths = [len(self.tasks)]
        self.input_part = {}
        for k in sorted(self.children):
            task = self.tasks[k]
            self.input_part[k] = len(self.input_widths)
            self.input_widths.append(task.type_.given_targets(
                task, torch.zeros((0, task.n_outputs)),
                torch.zeros(0, dtype=torch.bool)).shape[1])
        # per task, what a batch's loss with dependent tasks reads: (task,
        # type, columns, its part of loss_inputs or None), looked up once (a
        # batch's loss runs in the training loop's cold caches)
        self.steps = [(task, task.type_, self.slices[k], self.input_part.get(k))
                      for k, task in enumerate(self.tasks)]

    def __call__(self, outputs, targets, groups=None, complete=None,
                 sample_weight=None, loss_inputs=None):
        """Task losses and labelled-entry counts.

        Parameters
        ----------
        outputs : tuple, list or dict of tensors
            Raw outputs of the module, one per task.
        targets : tensor of shape (batch, n_outputs)
            Encoded targets, NaN where missing.
        groups : tensor of shape (batch, n_groups), optional
            Integer query ids of the ranking tasks.
        complete : bool or sequence of bool, optional
            Whether every entry of ``targets`` is labelled, when the caller
            knows it (e.g. for a whole dataset), or for each task whether
            every entry of its columns is; None checks the batch.
        sample_weight : tensor of shape (batch,), optional
            Weight of each row in every task's loss.
        loss_inputs : tensor of shape (batch, m), optional
            The batch's rows of :meth:`loss_inputs` (computed from
            ``targets`` when not given).

        Returns
        -------
        losses : tensor of shape (n_tasks,)
            Masked (weighted) mean loss of each task (0 where the task has no
            label).
        counts : tensor of shape (n_tasks,) or None
            Labelled entries of each task in the batch, weighted by the
            sample weights (no gradient); None when the batch is complete and
            unweighted (then every task has ``batch * n_outputs`` of them).
        """
        outputs = outputs_by_task(outputs, self.names)
        labelled_tasks = None
        if complete is not None and not isinstance(complete, bool | np.bool_):
            labelled_tasks = complete
            complete = all(complete)
        if self.children:
            return self._dependent_losses(outputs, targets, groups, complete,
                                          labelled_tasks, sample_weight,
                                          loss_inputs)
        if (self.membership.device != targets.device
                or self.membership.dtype != targets.dtype):
            self.membership = self.membership.to(targets)
        missing = None
        if complete is None:
            missing = torch.isnan(targets)
            complete = not bool(missing.any())
        losses = []
        for k, task in enumerate(self.tasks):
            raw = outputs[k]
            if raw.ndim == 1:
                raw = raw[:, None]
            losses.append(task.loss_fn(
                raw, targets[:, self.slices[k]], groups=self._groups(k, groups),
                sample_weight=sample_weight, complete=complete))
        if complete and sample_weight is None:
            return torch.stack(losses), None
        with torch.no_grad():
            present = (torch.ones_like(targets) if complete else
                       (~(torch.isnan(targets) if missing is None else missing)
                        ).to(self.membership.dtype))
            if sample_weight is not None:
                present = present * sample_weight[:, None]
            counts = present.sum(0) @ self.membership
        return torch.stack(losses), counts

    def _groups(self, k, groups):
        """Task ``k``'s query ids in the batch (None for a task without)."""
        column = self.group_columns[k]
        if column is None:
            return None
        if groups is None:
            task = self.tasks[k]
            raise ValueError(f"ranking task {task.name!r} ranks within groups "
                             f"{task.group!r} but the batch has no query ids.")
        return groups[:, column]

    def loss_inputs(self, targets):
        """What the losses read from the targets alone, for each row.

        The losses of dependent tasks (``Task(..., given=parent)``) need
        masks of their parents' labels; they are computed here, once for a
        whole dataset (:class:`~skmtl.neural.BatchIterator` hands each
        batch its rows), rather than from every batch.

        Parameters
        ----------
        targets : tensor of shape (n, n_outputs)
            Encoded targets, NaN where missing.

        Returns
        -------
        loss_inputs : tensor of shape (n, m) or None
            The labelled entries of each task in the row (``n_tasks``
            columns; a dependent task's are its type's ``given_entries``),
            then each dependent task's ``given_targets``; None when no task
            depends on another.
        """
        if not self.children:
            return None
        missing = torch.isnan(targets)
        present = (~missing).to(targets.dtype)
        entries = present @ self.membership.to(present)
        given = []
        for k in sorted(self.children):
            task = self.tasks[k]
            negative = self.graph.path_negative(targets, k, missing)
            columns = task.type_.given_targets(
                task, targets[:, self.slices[k]], negative).to(targets.dtype)
            entries[:, k] = task.type_.given_entries(task, columns).sum(1)
            given.append(columns)
        return torch.cat([entries] + given, dim=1)

    def _dependent_losses(self, outputs, targets, groups, complete, labelled_tasks,
                          sample_weight, loss_inputs):
        """``__call__`` when a task depends on another: its loss reads its
        parents' outputs and the rows' ``loss_inputs``."""
        if labelled_tasks is None:
            # the batch is not complete as a whole, but a task whose columns
            # are all labelled in it still takes its type's fused loss
            labelled_tasks = [True] * len(self.tasks)
            if not complete:
                labelled_columns = (~torch.isnan(targets).any(0)).tolist()
                labelled_tasks = [all(labelled_columns[j] for j in columns)
                                  for columns in self.columns]
        if loss_inputs is None:
            loss_inputs = self.loss_inputs(targets)
        parts = loss_inputs.split_with_sizes(self.input_widths, dim=1)
        reach = self.graph.log_reach(outputs)
        losses = []
        for k, (task, type_, columns, part) in enumerate(self.steps):
            raw = outputs[k]
            if raw.ndim == 1:
                raw = raw[:, None]
            task_groups = (None if self.group_columns[k] is None
                           else self._groups(k, groups))
            if part is not None:
                log_reach, log_not_reach = reach[k]
                losses.append(type_.given_loss(
                    task, raw, parts[part], log_reach, log_not_reach,
                    groups=task_groups, sample_weight=sample_weight))
            else:
                losses.append(type_.loss(
                    task, raw, targets[:, columns], groups=task_groups,
                    sample_weight=sample_weight, complete=labelled_tasks[k]))
        # loss_inputs come from the targets alone: no gradient to track
        entries = parts[0]
        if sample_weight is not None:
            entries = entries * sample_weight[:, None]
        return torch.stack(losses), entries.sum(0)
