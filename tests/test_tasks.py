"""Task model: specification, inference, encodings, transforms and masked losses."""

import numpy as np
import pytest
import torch

from skmtl import TASK_TYPES, Task
from skmtl.tasks import infer_tasks, missing_mask, resolve_tasks


def test_task_spec_equality_repr_and_errors():
    box = Task("bbox", n_outputs=4)
    assert box == Task("bbox", "regression", n_outputs=4)
    assert box != Task("bbox", "regression", n_outputs=3)
    assert repr(box) == "Task('bbox', 'regression', n_outputs=4)"
    assert repr(Task("r", loss="huber")) == "Task('r', 'regression', loss='huber')"
    assert hash(box) == hash(Task("bbox", n_outputs=4))
    with pytest.raises(ValueError, match="unknown type 'regresion'"):
        Task("a", "regresion")
    with pytest.raises(ValueError, match="n_outputs must be a positive integer"):
        Task("a", n_outputs=0)
    with pytest.raises(ValueError, match="one column of labels"):
        Task("digit", "classification", n_outputs=2)
    with pytest.raises(ValueError, match="loss='l1' is not one of"):
        Task("a", loss="l1")
    with pytest.raises(ValueError, match="option group= is not used by regression"):
        Task("a", group="query")
    with pytest.raises(TypeError, match="non-empty string"):
        Task("")


def test_every_type_is_registered_with_its_behaviour():
    assert set(TASK_TYPES) == {"regression", "classification", "binary", "ranking",
                               "count", "quantile", "ordinal"}
    for name, task_type in TASK_TYPES.items():
        assert task_type.name == name
        assert task_type.default_metric in task_type.metrics
    assert Task("c", "classification").is_classification
    assert not Task("c", "count").is_classification


def test_missing_mask_numeric_and_object():
    np.testing.assert_array_equal(missing_mask(np.array([1.0, np.nan])),
                                  [False, True])
    labels = np.array(["a", None, np.nan, "b"], dtype=object)
    np.testing.assert_array_equal(missing_mask(labels), [False, True, True, False])
    np.testing.assert_array_equal(missing_mask(np.array([1, 2])), [False, False])


def test_infer_tasks_one_per_column():
    Y = np.array([[1.5, 0], [2.5, 1]])
    tasks = infer_tasks(Y)
    assert [t.name for t in tasks] == ["task_0", "task_1"]
    assert {t.type for t in tasks} == {"regression"}
    assert [t.type for t in infer_tasks(Y, "classification")] == ["classification"] * 2
    # "auto" infers as scikit-learn's type_of_target: two labels are binary,
    # more strings classification, floats regression
    labels = np.array([["x", 1.5], ["y", 2.5], ["z", 3.0]], dtype=object)
    assert [t.type for t in infer_tasks(labels, "auto")] == ["classification",
                                                            "regression"]
    assert [t.type for t in infer_tasks(labels[:2], "auto")] == ["binary",
                                                                "regression"]
    assert [t.name for t in infer_tasks(Y, names=["a", "b"])] == ["a", "b"]


def test_resolve_tasks_assigns_columns_and_classes():
    Y = np.array([[3.0, 0.1, 0.2, 0.3, 0.4], [7.0, 0.5, 0.6, 0.7, 0.8],
                  [3.0, np.nan, np.nan, np.nan, np.nan]])
    digit, box = resolve_tasks([Task("digit", "classification"),
                                Task("bbox", n_outputs=4)], Y)
    np.testing.assert_array_equal(digit.columns_, [0])
    np.testing.assert_array_equal(box.columns_, [1, 2, 3, 4])
    np.testing.assert_array_equal(digit.classes_, [3, 7])
    assert digit.classes_.dtype.kind == "i"
    assert digit.n_model_outputs == 2 and box.n_model_outputs == 4


def test_resolve_tasks_does_not_change_the_users_task():
    spec = Task("digit", "classification")
    fitted = resolve_tasks([spec], np.array([[1.0], [2.0]]))[0]
    assert not hasattr(spec, "classes_") and hasattr(fitted, "classes_")


@pytest.mark.parametrize("Y, tasks, message", [
    (np.ones((3, 2)), [Task("a")], r"Y has 2 column\(s\) but the tasks describe 1"),
    (np.array([[1.0, np.nan], [2.0, np.nan]]), None, "task 'task_1' has no labelled"),
    (np.array([[1.0, np.inf], [2.0, 3.0]]), [Task("a"), Task("b")],
     "task 'b': Y holds inf"),
    (np.array([[0.5], [1.0]]), [Task("digit", "classification")],
     "task 'digit' is a classification task but its labels include the "
     "non-integer value 0.5"),
    (np.array([[0.0], [1.0], [2.0]]), [Task("flag", "binary")],
     "task 'flag' is binary but its labels hold 3 classes"),
    (np.array([[-1.0], [2.0]]), [Task("visits", "count")],
     "count task but its labels include the negative value"),
    (np.array([["a"], ["b"]], dtype=object), [Task("price")],
     "task 'price' is a regression task but its labels hold non-numeric"),
    (np.array([[1.0], [2.0]]), [Task("a"), Task("a")], "used twice"),
    (np.array([[1.0, np.nan, 2.0], [2.0, np.nan, 1.0]]), [Task("a"),
                                                           Task("b", n_outputs=2)],
     r"task 'b': output 0 \(column 1 of Y\) has no labelled sample"),
])
def test_resolve_tasks_errors_name_the_task(Y, tasks, message):
    with pytest.raises(ValueError, match=message):
        resolve_tasks(tasks, Y)


def test_classification_encoding_with_strings_and_unseen_labels():
    Y = np.array([["cat"], [None], ["dog"], ["cat"]], dtype=object)
    task = resolve_tasks([Task("pet", "classification")], Y)[0]
    np.testing.assert_array_equal(task.classes_, ["cat", "dog"])
    encoded = task.encode(Y)
    np.testing.assert_array_equal(encoded[[0, 2, 3], 0], [0, 1, 0])
    assert np.isnan(encoded[1, 0])
    with pytest.raises(ValueError, match="task 'pet': label 'bird' was not seen"):
        task.encode(np.array([["bird"]], dtype=object))


def test_declared_classes_cover_labels_absent_from_training():
    task = resolve_tasks([Task("d", "classification", classes=[0, 1, 2])],
                         np.array([[0.0], [1.0]]))[0]
    np.testing.assert_array_equal(task.classes_, [0, 1, 2])
    assert task.encode(np.array([[2.0]]))[0, 0] == 2
    with pytest.raises(ValueError, match=r"labels \[5\] are not among"):
        resolve_tasks([Task("d", "classification", classes=[0, 1])],
                      np.array([[0.0], [5.0]]))


def test_binary_with_a_single_observed_class():
    with pytest.warns(UserWarning, match="every label in Y is 0"):
        task = resolve_tasks([Task("b", "binary")], np.array([[0.0], [0.0]]))[0]
    np.testing.assert_array_equal(task.classes_, [0, 1])
    with pytest.raises(ValueError, match="only the class 'yes' occurs"):
        resolve_tasks([Task("b", "binary")], np.array([["yes"]], dtype=object))


def test_prediction_transforms():
    digit = resolve_tasks([Task("d", "classification")],
                          np.array([[2.0], [5.0], [9.0]]))[0]
    raw = np.array([[0.1, 3.0, 0.2], [5.0, 0.0, 0.0]])
    np.testing.assert_array_equal(digit.transform(raw)[:, 0], [5, 2])
    proba = digit.predict_proba(raw)[0]
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(proba[1], np.exp([5, 0, 0]) / np.exp([5, 0, 0]).sum())

    flags = resolve_tasks([Task("f", "binary", n_outputs=2)],
                          np.array([["n", "y"], ["y", "n"]], dtype=object))[0]
    np.testing.assert_array_equal(flags.transform(np.array([[-1.0, 2.0]])),
                                  [["n", "y"]])
    p = flags.predict_proba(np.array([[0.0, np.log(3.0)]]))
    np.testing.assert_allclose(p[0], [[0.5, 0.5]])
    np.testing.assert_allclose(p[1], [[0.25, 0.75]])

    counts = resolve_tasks([Task("c", "count")], np.array([[1.0], [3.0]]))[0]
    np.testing.assert_allclose(counts.transform(np.array([[np.log(4.0)]])), [[4.0]])
    assert counts.predict_proba(np.zeros((1, 1))) is None


def _fitted(task, Y):
    return resolve_tasks([task], Y)[0]


def test_masked_losses_equal_the_loss_on_labelled_entries():
    torch.manual_seed(0)
    raw = torch.randn(6, 2, dtype=torch.float64, requires_grad=True)
    target = torch.tensor([[1.0, np.nan], [np.nan, 2.0], [0.5, 0.1], [np.nan, np.nan],
                           [2.0, 3.0], [1.0, np.nan]], dtype=torch.float64)
    task = _fitted(Task("r", n_outputs=2), target.numpy())
    loss = task.loss_fn(raw, target)
    mask = ~torch.isnan(target)
    expected = ((raw[mask] - target[mask]) ** 2).mean()
    assert torch.allclose(loss, expected)
    loss.backward()
    grad = raw.grad.clone()
    assert torch.all(grad[~mask] == 0)
    raw.grad = None
    expected.backward()
    assert torch.allclose(grad, raw.grad)


def test_huber_loss_matches_torch():
    raw = torch.tensor([[0.0], [3.0], [1.0]])
    target = torch.tensor([[0.5], [0.0], [np.nan]])
    task = _fitted(Task("r", loss="huber", huber_delta=1.0), target.numpy())
    expected = torch.nn.functional.huber_loss(raw[:2], target[:2])
    assert torch.allclose(task.loss_fn(raw, target), expected)


def test_classification_binary_count_losses_by_hand():
    raw = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
    target = torch.tensor([[0.0], [np.nan], [2.0]])
    task = _fitted(Task("d", "classification"), np.array([[0.0], [1.0], [2.0]]))
    log_softmax = raw - torch.logsumexp(raw, dim=1, keepdim=True)
    expected = -(log_softmax[0, 0] + log_softmax[2, 2]) / 2
    assert torch.allclose(task.loss_fn(raw, target), expected)

    flag = _fitted(Task("f", "binary"), np.array([[0.0], [1.0]]))
    raw_b = torch.tensor([[0.3], [-2.0], [5.0]])
    y_b = torch.tensor([[1.0], [0.0], [np.nan]])
    by_hand = -(torch.log(torch.sigmoid(raw_b[0, 0]))
                + torch.log(1 - torch.sigmoid(raw_b[1, 0]))) / 2
    assert torch.allclose(flag.loss_fn(raw_b, y_b), by_hand)

    count = _fitted(Task("c", "count"), np.array([[1.0], [2.0]]))
    raw_c = torch.tensor([[0.0], [np.log(2.0)]])
    y_c = torch.tensor([[1.0], [3.0]])
    # half Poisson deviance: mu - y*log(mu) - (y - y*log(y)), 0 at mu = y
    by_hand = ((1.0 - 0.0 - 1.0) + (2.0 - 3.0 * np.log(2.0) - 3.0
                                    + 3.0 * np.log(3.0))) / 2
    assert by_hand > 0
    assert count.loss_fn(torch.log(y_c), y_c).abs().max() < 1e-6
    assert torch.allclose(count.loss_fn(raw_c, y_c), torch.tensor(by_hand))


def test_ranking_loss_within_groups_by_hand():
    task = _fitted(Task("rel", "ranking", group="query"),
                   np.array([[2.0], [0.0], [1.0], [1.0]]))
    score = torch.tensor([[1.0], [0.0], [0.5], [2.0]])
    rel = torch.tensor([[2.0], [0.0], [1.0], [np.nan]])
    groups = torch.tensor([0, 0, 1, 1])
    # Group 0 has one ordered pair (item 0 over item 1); group 1 has no
    # labelled pair, so the loss is softplus(-(s0 - s1)) over one pair.
    expected = torch.nn.functional.softplus(torch.tensor(-1.0))
    assert torch.allclose(task.loss_fn(score, rel, groups=groups), expected)
    # Without groups, items 0 and 2 and 1 and 2 form pairs too.
    pairs = [(0, 1), (0, 2), (2, 1)]
    by_hand = np.mean([np.log1p(np.exp(-(score[i, 0] - score[j, 0]).item()))
                       for i, j in pairs])
    assert task.loss_fn(score, rel).item() == pytest.approx(by_hand)


@pytest.mark.parametrize("task, Y", [
    (Task("r", n_outputs=2), np.array([[1.0, 2.0], [3.0, 4.0]])),
    (Task("d", "classification"), np.array([[0.0], [1.0]])),
    (Task("f", "binary"), np.array([[0.0], [1.0]])),
    (Task("c", "count"), np.array([[0.0], [1.0]])),
    (Task("q", "ranking"), np.array([[0.0], [1.0]])),
])
def test_all_missing_batch_gives_zero_loss_and_zero_gradient(task, Y):
    task = _fitted(task, Y)
    raw = torch.randn(3, task.n_model_outputs, requires_grad=True)
    target = torch.full((3, task.n_outputs), float("nan"))
    loss = task.loss_fn(raw, target)
    assert torch.isfinite(loss) and loss.item() == 0.0
    loss.backward()
    assert torch.all(raw.grad == 0)
