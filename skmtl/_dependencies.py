"""Dependent tasks: a task defined where its parent task's event happened.

``Task("purchase", "binary", given="click")`` declares that the purchase
exists only after a click. :class:`TaskGraph` holds the dependencies of a
list of fitted tasks: each task's ancestors (root first) with the encoded
label of the event it depends on, the rows where the parent path did not
happen, the probability of the parent path (NumPy, for predictions, and
log-space torch pairs, for the losses), and the label-space targets the
conditional and joint scores compare against. Every decision about a type
(how a child of that type trains, what its joint prediction is, which label
is implied where its parent is negative) is the type's, in
:mod:`skmtl.tasks`.
"""

import numpy as np

from .utils._targets import _show, check_targets, missing_mask

__all__ = ["TaskGraph", "check_dependencies", "funnel_targets", "FUNNELS"]

FUNNELS = ("conditional", "joint")

# rows named in error messages
_SHOWN_ROWS = 5


def _show_rows(rows):
    rows = np.flatnonzero(rows)
    shown = ", ".join(str(int(r)) for r in rows[:_SHOWN_ROWS])
    more = f" and {rows.size - _SHOWN_ROWS} more" if rows.size > _SHOWN_ROWS else ""
    return f"{rows.size} row(s) ({shown}{more})"


def check_funnel(funnel):
    """Raise ``ValueError`` unless ``funnel`` is ``"conditional"`` or ``"joint"``."""
    if funnel not in FUNNELS:
        raise ValueError(f"funnel must be one of {FUNNELS}, got {funnel!r}.")
    return funnel


class TaskGraph:
    """The dependencies between fitted tasks (``Task(..., given=parent)``).

    Parameters
    ----------
    tasks : list of Task
        Fitted tasks (with ``columns_`` and their classes).

    Attributes
    ----------
    parents : list of (int, int) or None
        For each task, its parent's index in ``tasks`` and the encoded label
        of the parent's event; None for a task without parent.
    paths : list of list of (int, int)
        For each task, its ancestors from the root to the parent, as
        ``(index, event code)`` pairs; empty for a task without parent.
    order : list of int
        The tasks in an order where every parent comes before its children.

    Raises
    ------
    ValueError
        When a task depends on an unknown task, when the dependencies make a
        cycle, or when a parent cannot have children (its type gives no
        event probability, or the named class is not one of its classes).
    """

    def __init__(self, tasks):
        self.tasks = list(tasks)
        names = [t.name for t in self.tasks]
        index = {name: k for k, name in enumerate(names)}
        self.parents = []
        for task in self.tasks:
            parent = task.given_task
            if parent is None:
                self.parents.append(None)
                continue
            if parent not in index:
                raise ValueError(f"task {task.name!r} is given {parent!r}, which is "
                                 f"not one of the tasks {names}.")
            p = index[parent]
            code = self.tasks[p].type_.event_code(self.tasks[p], task.given_event)
            self.parents.append((p, code))
        self.order = self._topological_order(names)
        # (task, parent, event code, parent task) of each dependent task,
        # parents first
        self.reach_steps = [(k, *self.parents[k], self.tasks[self.parents[k][0]])
                            for k in self.order if self.parents[k] is not None]
        self.paths = [[] for _ in self.tasks]
        for k in self.order:
            if self.parents[k] is not None:
                p, code = self.parents[k]
                self.paths[k] = self.paths[p] + [(p, code)]

    def _topological_order(self, names):
        order, state = [], [0] * len(self.tasks)  # 0 new, 1 on the path, 2 done
        for start in range(len(self.tasks)):
            chain, k = [], start
            while k is not None and state[k] == 0:
                state[k] = 1
                chain.append(k)
                k = None if self.parents[k] is None else self.parents[k][0]
            if k is not None and state[k] == 1:
                cycle = chain[chain.index(k):] + [k]
                raise ValueError("the tasks' dependencies make a cycle: "
                                 + " given ".join(repr(names[j]) for j in cycle)
                                 + "; a task cannot depend on its descendants.")
            for j in reversed(chain):
                state[j] = 2
                order.append(j)
        return order

    @property
    def has_dependencies(self):
        """Whether some task depends on another."""
        return any(p is not None for p in self.parents)

    def children(self):
        """Indices of the tasks with a parent."""
        return [k for k in range(len(self.tasks)) if self.parents[k] is not None]

    # -- rows where the parent path did not happen ----------------------------

    def path_negative(self, encoded, k, missing=None):
        """Rows where an ancestor of task ``k`` is labelled and its event did
        not happen (bool, ``(n,)``), from encoded targets (NumPy or torch),
        NaN where missing (``missing``: their NaN mask, when known)."""
        negative = None
        for a, code in self.paths[k]:
            column = int(self.tasks[a].columns_[0])
            value = encoded[:, column]
            labelled = value == value if missing is None else ~missing[:, column]
            rows = labelled & (value != code)  # labelled, not the event
            negative = rows if negative is None else negative | rows
        return negative

    def not_applicable(self, Y, k):
        """Rows where task ``k``'s parent path did not happen, from labels
        ``Y`` (label space, every task's columns); none for a task without
        parent."""
        Y = np.asarray(Y)
        encoded = np.full(Y.shape, np.nan)
        for a, _ in self.paths[k]:
            columns = self.tasks[a].columns_
            encoded[:, columns] = self.tasks[a].encode(Y[:, columns])
        if not self.paths[k]:
            return np.zeros(Y.shape[0], dtype=bool)
        return self.path_negative(encoded, k)

    def blank_not_applicable(self, encoded):
        """Encoded targets with each child's entries set to NaN where its
        parent path did not happen (their label there is implied); in place,
        returned."""
        for k in self.children():
            negative = self.path_negative(encoded, k)
            if negative.any():
                columns = self.tasks[k].columns_
                encoded[np.ix_(negative, columns)] = np.nan
        return encoded

    # -- probability of the parent path -------------------------------------

    def reach_proba(self, raw_per_task):
        """For each task, ``P(parent path)`` ``(n,)`` (None for a task without
        parent), the product of its ancestors' event probabilities, from the
        raw outputs (NumPy, on the targets' scale)."""
        reach = [None] * len(self.tasks)
        for k in self.order:
            if self.parents[k] is None:
                continue
            p, code = self.parents[k]
            parent = self.tasks[p]
            event = parent.type_.predict_proba(parent, raw_per_task[p])[0][:, code]
            reach[k] = event if reach[p] is None else reach[p] * event
        return reach

    def log_reach(self, raw_per_task):
        """For each task, ``(log R, log (1 - R))`` of ``R = P(parent path)``,
        torch tensors ``(n, 1)`` (None for a task without parent).

        Along a chain, ``R_child = R_parent p`` with ``p`` the parent's event
        probability: ``log R_child = log R_parent + log p`` and ``log (1 -
        R_child) = logaddexp(log (1 - R_parent), log R_parent + log (1 -
        p))``: sums of log-probabilities, no ``log`` of a difference.
        """
        import torch

        reach = [None] * len(self.tasks)
        for k, p, code, parent in self.reach_steps:
            raw = raw_per_task[p]
            if raw.ndim == 1:
                raw = raw[:, None]
            log_p, log_not_p = parent.type_.event_log_proba(parent, raw, code)
            if reach[p] is None:
                reach[k] = (log_p, log_not_p)
            else:
                log_r, log_not_r = reach[p]
                reach[k] = (log_r + log_p,
                            torch.logaddexp(log_not_r, log_r + log_not_p))
        return reach

    # -- targets and predictions --------------------------------------------

    def targets(self, Y, funnel):
        """Label-space targets of the ``funnel`` scores (see
        :func:`funnel_targets`)."""
        check_funnel(funnel)
        Y = np.asarray(Y)
        children = self.children()
        if not children:
            return Y
        encoded = np.empty(Y.shape)
        for task in self.tasks:
            encoded[:, task.columns_] = task.encode(Y[:, task.columns_])
        out = Y.astype(object if Y.dtype.kind not in "f" else Y.dtype, copy=True)
        for k in children:
            task = self.tasks[k]
            negative = self.path_negative(encoded, k)
            if funnel == "conditional":
                out[np.ix_(negative, task.columns_)] = np.nan
                continue
            implied = task.type_.implied_label(task)
            if implied is None:
                raise ValueError(f"task {task.name!r} ({task.type}) depends on "
                                 f"{task.given_task!r} but has no joint label; "
                                 f"score it with funnel='conditional'.")
            out[np.ix_(negative, task.columns_)] = implied
        if out.dtype == object:
            try:
                return out.astype(np.float64)
            except (TypeError, ValueError):
                return out
        return out


def check_dependencies(tasks, Y, encoded=None):
    """Check the dependencies of fitted tasks and the labels of ``Y``.

    Raises a ``ValueError`` for an unknown parent, a cycle, a parent that
    cannot have children, and a child's label where its parent path did not
    happen, other than the implied one (the negative class of a binary task,
    0 for regression and count), naming the first rows. ``encoded``: the
    tasks' encoding of ``Y`` (``Task.encode``), when the caller has it.
    """
    graph = TaskGraph(tasks)
    if not graph.has_dependencies:
        return graph
    Y = np.asarray(Y)
    if Y.ndim == 1:
        Y = Y[:, None]
    if encoded is None:
        encoded = np.empty(Y.shape)
        for task in tasks:
            encoded[:, task.columns_] = task.encode(Y[:, task.columns_])
    for k in graph.children():
        task = tasks[k]
        negative = graph.path_negative(encoded, k)
        block = Y[:, task.columns_]
        labelled = ~missing_mask(block)
        implied = task.type_.implied_label(task)
        if implied is None:
            wrong = labelled.any(axis=1) & negative
        else:
            code = task.encode(np.full((1, task.n_outputs), implied,
                                       dtype=np.asarray(implied).dtype))[0]
            wrong = (labelled & (encoded[:, task.columns_] != code)).any(axis=1) \
                & negative
        if wrong.any():
            parent = tasks[graph.parents[k][0]].name
            allowed = ("NaN" if implied is None
                       else f"NaN or {_show(implied)} (implied)")
            raise ValueError(
                f"task {task.name!r} depends on {parent!r} but is labelled where "
                f"the parent path did not happen, in {_show_rows(wrong)}; its "
                f"label there must be {allowed}.")
    return graph


def funnel_targets(Y, tasks, funnel="joint"):
    """The targets that conditional or joint predictions are scored against.

    For a task that depends on another (``Task(..., given=parent)``):

    - ``funnel="conditional"``: its labels where the parent path happened,
      ``NaN`` elsewhere (the labels that ``P(task | parent)`` is scored
      on);
    - ``funnel="joint"``: its labels where the parent path happened and its
      implied label where it did not (the negative class of a binary task,
      0 for regression and count): the label of ``parent and task`` (binary)
      or the unconditional value (hurdle), on every row where it is known.

    Other columns are returned as they are.

    Parameters
    ----------
    Y : array-like of shape (n_samples, n_outputs) or DataFrame
        Labels, ``NaN`` where missing; a DataFrame's columns are matched to
        the tasks by name.
    tasks : list of Task
        Fitted tasks (``estimator.tasks_``).
    funnel : {"conditional", "joint"}, default="joint"

    Returns
    -------
    Y_funnel : ndarray of shape (n_samples, n_outputs)
        In the tasks' order.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl import Task
    >>> from skmtl.tasks import resolve_tasks
    >>> from skmtl.metrics import funnel_targets
    >>> Y = np.array([[1.0, 1.0], [1.0, 0.0], [0.0, np.nan]])
    >>> tasks = resolve_tasks([Task("click", "binary"),
    ...                        Task("buy", "binary", given="click")], Y)
    >>> funnel_targets(Y, tasks, "joint")
    array([[1., 1.],
           [1., 0.],
           [0., 0.]])
    """
    Y, _, _ = check_targets(Y, tasks=tasks)
    return TaskGraph(tasks).targets(Y, funnel)
