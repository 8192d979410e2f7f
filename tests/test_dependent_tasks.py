"""Dependent tasks (Task(..., given=parent)): declaration, validation, the
entire-space and hurdle losses, joint targets."""

import pickle

import numpy as np
import pytest
import torch

from skmtl import Task
from skmtl._dependencies import TaskGraph
from skmtl.metrics import funnel_targets, per_task_scores
from skmtl.neural._losses import TaskLosses
from skmtl.tasks import resolve_tasks

NAN = np.nan


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def _funnel_Y():
    # click, cart | click, purchase | cart, revenue | purchase
    return np.array([
        [1, 1, 1, 30.0],
        [1, 1, 0, NAN],
        [1, 0, NAN, NAN],
        [0, NAN, NAN, NAN],
        [1, 1, 1, 12.0],
        [1, NAN, NAN, NAN],   # cart unknown: purchase unknown too
        [0, 0, 0, 0.0],       # implied labels where the click did not happen
        [1, 1, 0, 0.0],
    ])


CHAIN = [Task("click", "binary"), Task("cart", "binary", given="click"),
         Task("purchase", "binary", given="cart"),
         Task("revenue", given="purchase")]


# -- declaration ------------------------------------------------------------

def test_given_forms_repr_equality_and_pickle():
    task = Task("purchase", "binary", given="click")
    assert task.given == ("click", None)
    assert (task.given_task, task.given_event) == ("click", None)
    assert repr(task) == "Task('purchase', 'binary', given='click')"
    rated = Task("review", "binary", given=("rating", 5), conditional_weight=0.5)
    assert rated.given_event == 5
    assert repr(rated) == ("Task('review', 'binary', given=('rating', 5), "
                           "conditional_weight=0.5)")
    assert task != Task("purchase", "binary")
    assert task == Task("purchase", "binary", given=("click", None)[0])
    assert pickle.loads(pickle.dumps(rated)) == rated
    # a task pickled before the options existed reads as independent
    old = Task("a")
    del old.__dict__["given"], old.__dict__["conditional_weight"]
    assert old.given is None and old.conditional_weight == 0.0


@pytest.mark.parametrize("kwargs, message", [
    (dict(given=3), "parent task's name or a \\(name, class\\) pair"),
    (dict(given=("click", "x", 1)), "parent task's name"),
    (dict(given=("click", None)), "names no class"),
    (dict(given="purchase"), "cannot depend on itself"),
    (dict(given=""), "empty parent"),
    (dict(given="click", conditional_weight=-1.0), "conditional_weight must be"),
    (dict(conditional_weight=1.0), "without given="),
])
def test_bad_declarations(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Task("purchase", "binary", **kwargs)


def test_conditional_weight_only_for_entire_space_children():
    with pytest.raises(ValueError, match="conditional loss alone"):
        Task("revenue", given="purchase", conditional_weight=1.0)


# -- validation against the other tasks and the labels -------------------------

def test_unknown_parent_and_cycle_are_refused():
    Y = np.array([[1.0, 1.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="'b' is given 'x', which is not one"):
        resolve_tasks([Task("a", "binary"), Task("b", "binary", given="x")], Y)
    with pytest.raises(ValueError, match="cycle: 'a' given 'b' given 'a'"):
        resolve_tasks([Task("a", "binary", given="b"),
                       Task("b", "binary", given="a")], Y)
    Y3 = np.array([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]])
    with pytest.raises(ValueError, match="cycle: 'a' given 'c' given 'b' given 'a'"):
        resolve_tasks([Task("a", "binary", given="c"), Task("b", "binary", given="a"),
                       Task("c", "binary", given="b")], Y3)


def test_a_parent_must_give_an_event_probability():
    Y = np.array([[1.5, 1.0], [0.0, 0.0], [2.0, 1.0]])
    with pytest.raises(ValueError, match="'price' .* cannot be the parent"):
        resolve_tasks([Task("price"), Task("b", "binary", given="price")], Y)
    Y = np.array([[0, 1.0], [1, 1.0], [2, 0.0], [2, 1.0]])
    with pytest.raises(ValueError, match="has 3 classes: a task that depends on it "
                                         "names the class"):
        resolve_tasks([Task("rating", "classification"),
                       Task("b", "binary", given="rating")], Y)
    with pytest.raises(ValueError, match="no class 7"):
        resolve_tasks([Task("rating", "classification"),
                       Task("b", "binary", given=("rating", 7))], Y)
    with pytest.raises(ValueError, match="3 columns: the parent"):
        resolve_tasks([Task("m", "binary", n_outputs=3),
                       Task("b", "binary", given="m")],
                      np.array([[0, 1, 1, 1.0], [1, 0, 1, 0.0]]))


def test_a_label_where_the_parent_path_did_not_happen_names_the_rows():
    Y = np.zeros((10, 2))
    Y[:, 0] = [1, 0, 1, 0, 0, 0, 0, 0, 0, 1]
    Y[[1, 4, 5, 6, 7, 8], 1] = 1.0  # purchases without a click
    Y[3, 1] = NAN
    with pytest.raises(ValueError, match=r"'purchase' depends on 'click' but is "
                                         r"labelled .* in 6 row\(s\) \(1, 4, 5, 6, 7 "
                                         r"and 1 more\); its label there must be "
                                         r"NaN or 0 \(implied\)"):
        resolve_tasks([Task("click", "binary"),
                       Task("purchase", "binary", given="click")], Y)


def test_the_path_counts_not_only_the_parent():
    # no click, cart unknown, purchase 1: the purchase is not applicable
    Y = np.array([[0, NAN, 1.0], [1, 1, 1.0], [1, 0, 0.0]])
    with pytest.raises(ValueError, match=r"'purchase' depends on 'cart' .* 1 "
                                         r"row\(s\) \(0\)"):
        resolve_tasks(CHAIN[:3], Y)


def test_implied_labels_are_accepted_and_mean_not_applicable():
    Y = _funnel_Y()
    tasks = resolve_tasks(CHAIN, Y)
    bad = Y.copy()
    bad[6, 3] = 5.0  # revenue without a purchase
    with pytest.raises(ValueError, match=r"'revenue' .* \(6\)"):
        resolve_tasks(CHAIN, bad)

    graph = TaskGraph(tasks)
    assert graph.parents == [None, (0, 1), (1, 1), (2, 1)]
    assert graph.paths[3] == [(0, 1), (1, 1), (2, 1)]
    np.testing.assert_array_equal(
        graph.path_negative(Y, 3), [0, 1, 1, 1, 0, 0, 1, 1])
    conditional = funnel_targets(Y, tasks, "conditional")
    expected = Y.copy()
    expected[[3, 6], 1] = NAN
    expected[[2, 3, 6], 2] = NAN
    expected[[1, 2, 3, 6, 7], 3] = NAN
    np.testing.assert_array_equal(conditional, expected)
    joint = funnel_targets(Y, tasks, "joint")
    expected = Y.copy()
    expected[[3, 6], 1] = 0
    expected[[2, 3, 6], 2] = 0
    expected[[1, 2, 3, 6, 7], 3] = 0
    np.testing.assert_array_equal(joint, expected)


def test_graph_order_puts_parents_first_whatever_the_task_order():
    Y = _funnel_Y()[:, [3, 2, 1, 0]]
    tasks = resolve_tasks(CHAIN[::-1], Y)
    graph = TaskGraph(tasks)
    assert graph.order == [3, 2, 1, 0]
    assert graph.paths[0] == [(3, 1), (2, 1), (1, 1)]


def test_several_children_and_a_class_of_a_classification_parent():
    Y = np.array([[2, 1, 0.0, NAN], [0, NAN, NAN, 1], [2, 0, 1.0, NAN],
                  [1, NAN, NAN, NAN]])
    tasks = resolve_tasks([Task("rating", "classification"),
                           Task("review", "binary", given=("rating", 2)),
                           Task("share", "binary", given=("rating", 2)),
                           Task("other", "binary", given=("rating", 0))], Y)
    graph = TaskGraph(tasks)
    assert graph.parents == [None, (0, 2), (0, 2), (0, 0)]
    joint = funnel_targets(Y, tasks, "joint")
    np.testing.assert_array_equal(joint[:, 1], [1, 0, 0, 0])
    np.testing.assert_array_equal(joint[:, 2], [0, 0, 1, 0])
    np.testing.assert_array_equal(joint[:, 3], [0, 1, 0, 0])


# -- losses --------------------------------------------------------------------

def _outputs(seed=0, n=8, scale=1.0):
    rng = np.random.RandomState(seed)
    return [torch.tensor(scale * rng.randn(n, 1), dtype=torch.float64,
                         requires_grad=True) for _ in range(4)]


def test_entire_space_and_hurdle_losses_by_hand():
    Y = _funnel_Y()
    tasks = resolve_tasks(CHAIN, Y)
    targets = np.empty(Y.shape)
    for t in tasks:
        targets[:, t.columns_] = t.encode(Y[:, t.columns_])
    TaskGraph(tasks).blank_not_applicable(targets)
    raw = _outputs()
    weight = np.array([1, 2, 1, 0.5, 1, 3, 1, 1])
    losses, counts = TaskLosses(tasks)(
        raw, torch.tensor(targets), sample_weight=torch.tensor(weight))

    a, b, c, d = (r.detach().numpy()[:, 0] for r in raw)
    joint = funnel_targets(Y, tasks, "joint")

    def bce(p, y, rows):
        loss = -(y * np.log(p) + (1 - y) * np.log(1 - p))
        return np.sum(weight[rows] * loss[rows]) / np.sum(weight[rows])

    click = bce(_sigmoid(a), Y[:, 0], ~np.isnan(Y[:, 0]))
    q_cart = _sigmoid(a) * _sigmoid(b)
    q_purchase = q_cart * _sigmoid(c)
    cart = bce(q_cart, joint[:, 1], ~np.isnan(joint[:, 1]))
    purchase = bce(q_purchase, joint[:, 2], ~np.isnan(joint[:, 2]))
    rows = [0, 4]  # revenue where the purchase happened
    revenue = np.average((d[rows] - Y[rows, 3]) ** 2, weights=weight[rows])
    np.testing.assert_allclose(losses.detach().numpy(),
                               [click, cart, purchase, revenue], rtol=1e-12)
    # the entire-space losses cover every row where the joint label is known
    known = ~np.isnan(joint)
    np.testing.assert_allclose(counts.numpy()[:3], weight @ known[:, :3])
    assert counts[3] == weight[rows].sum()


def test_conditional_weight_adds_the_conditional_log_loss():
    Y = _funnel_Y()[:, :2]
    plain = resolve_tasks(CHAIN[:2], Y)
    both = resolve_tasks([CHAIN[0], Task("cart", "binary", given="click",
                                         conditional_weight=0.5)], Y)
    targets = torch.tensor(funnel_targets(Y, plain, "conditional"))
    raw = _outputs()[:2]
    base = TaskLosses(plain)(raw, targets)[0]
    with_conditional = TaskLosses(both)(raw, targets)[0]
    b = raw[1].detach().numpy()[:, 0]
    rows = ~np.isnan(targets[:, 1].numpy())
    p, y = _sigmoid(b[rows]), Y[rows, 1]
    conditional = np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p)))
    np.testing.assert_allclose((with_conditional[1] - base[1]).item(),
                               0.5 * conditional, rtol=1e-12)
    assert with_conditional[0] == base[0]


def test_gradients_match_finite_differences():
    Y = _funnel_Y()
    tasks = resolve_tasks(CHAIN, Y)
    targets = torch.tensor(funnel_targets(Y, tasks, "conditional"))
    criterion = TaskLosses(tasks)
    weights = torch.tensor([0.7, 1.3, 2.0, 0.4], dtype=torch.float64)

    def objective(*raw):
        losses, _ = criterion(raw, targets)
        return (losses * weights).sum()

    assert torch.autograd.gradcheck(objective, tuple(_outputs(seed=1)))
    assert torch.autograd.gradcheck(objective, tuple(_outputs(seed=2, scale=6.0)))


def test_the_joint_log_loss_stays_finite_where_probabilities_saturate():
    # a click and a purchase both near certain, labelled "no purchase": the
    # loss is -log(1 - q) with 1 - q = 1 - sigmoid(40)^2 ~ 2 exp(-40), which
    # float64 loses when 1 - q is computed directly
    Y = np.array([[1.0, 0.0], [0.0, NAN]])
    tasks = resolve_tasks(CHAIN[:2], Y)
    raw = [torch.tensor([[40.0], [-40.0]], dtype=torch.float64, requires_grad=True),
           torch.tensor([[40.0], [40.0]], dtype=torch.float64, requires_grad=True)]
    losses, _ = TaskLosses(tasks)(raw, torch.tensor(Y))
    expected_row0 = 40.0 - np.log(2.0)   # -log(2 e^-40), to 1e-17
    expected_row1 = np.exp(-40.0)        # -log(1 - sigmoid(-40) sigmoid(40))
    np.testing.assert_allclose(losses[1].item(), (expected_row0 + expected_row1) / 2,
                               rtol=1e-12)
    losses[1].backward()
    assert all(torch.isfinite(r.grad).all() for r in raw)
    # float32 stays finite too
    raw32 = [r.detach().float().requires_grad_(True) for r in raw]
    losses32, _ = TaskLosses(tasks)(raw32, torch.tensor(Y, dtype=torch.float32))
    losses32.sum().backward()
    assert torch.isfinite(losses32).all()
    assert all(torch.isfinite(r.grad).all() for r in raw32)


def test_a_batch_without_joint_label_gives_zero():
    Y = np.array([[1.0, 1.0], [0.0, NAN]])
    tasks = resolve_tasks(CHAIN[:2], Y)
    raw = _outputs(n=2)[:2]
    losses, counts = TaskLosses(tasks)(raw, torch.tensor([[NAN, NAN], [1.0, NAN]]))
    assert losses.detach()[1] == 0.0 and counts[1] == 0.0


# -- scoring ---------------------------------------------------------------------

def test_per_task_scores_conditional_and_joint():
    Y = _funnel_Y()[:, :3]
    tasks = resolve_tasks(CHAIN[:3], Y)
    rng = np.random.RandomState(0)
    cond = [rng.rand(8) for _ in range(3)]
    reach = [np.ones(8), cond[0], cond[0] * cond[1]]
    joint = [r * c for r, c in zip(reach, cond)]
    proba = [np.c_[1 - p, p] for p in cond]
    joint_proba = [np.c_[1 - p, p] for p in joint]
    pred = np.column_stack([p > 0.5 for p in cond]).astype(float)
    table = per_task_scores(Y, pred, CHAIN[:3], "roc_auc", Y_proba=proba,
                            as_frame=False)
    from sklearn.metrics import roc_auc_score

    rows = ~np.isnan(funnel_targets(Y, tasks, "conditional")[:, 2])
    assert table["score"][2] == pytest.approx(roc_auc_score(Y[rows, 2],
                                                            cond[2][rows]))
    table = per_task_scores(Y, pred, tasks, "roc_auc", Y_proba=joint_proba,
                            funnel="joint", as_frame=False)
    target = funnel_targets(Y, tasks, "joint")[:, 2]
    rows = ~np.isnan(target)
    assert table["score"][2] == pytest.approx(roc_auc_score(target[rows],
                                                            joint[2][rows]))
    assert table["n_labelled"][2] == rows.sum()
    with pytest.raises(ValueError, match="funnel must be one of"):
        per_task_scores(Y, pred, tasks, funnel="entire")


def test_a_ranking_child_ranks_within_its_groups_where_the_parent_happened():
    Y = np.array([[1, 2.0], [1, 0.0], [0, NAN], [1, 1.0], [1, 3.0], [0, NAN]])
    tasks = resolve_tasks([Task("click", "binary"),
                           Task("relevance", "ranking", group="query",
                                given="click")], Y)
    targets = torch.tensor(funnel_targets(Y, tasks, "conditional"))
    groups = torch.tensor([[0], [0], [0], [1], [1], [1]])
    raw = _outputs(n=6)[:2]
    losses, _ = TaskLosses(tasks)(raw, targets, groups=groups)
    expected = tasks[1].loss_fn(raw[1], targets[:, 1:], groups=groups[:, 0])
    torch.testing.assert_close(losses[1], expected)
    pooled = tasks[1].loss_fn(raw[1], targets[:, 1:])
    assert not torch.isclose(losses[1], pooled)


def test_funnel_targets_match_a_dataframe_by_column_name():
    pd = pytest.importorskip("pandas")
    Y = _funnel_Y()[:, :2]
    frame = pd.DataFrame({"cart": Y[:, 1], "click": Y[:, 0]})  # not task order
    tasks = resolve_tasks(CHAIN[:2], Y)
    np.testing.assert_array_equal(funnel_targets(frame, tasks, "joint"),
                                  funnel_targets(Y, tasks, "joint"))
