"""A task type is one class: no module outside skmtl/tasks.py names a type, and
a type written in user code works everywhere once registered."""

import ast
from pathlib import Path

import numpy as np
import pytest
from sklearn.compose import TransformedTargetRegressor
from sklearn.linear_model import RidgeCV
from sklearn.metrics import r2_score

import skmtl
from skmtl import SingleTaskBaseline, Task, TaskType, register_task_type
from skmtl.metrics import per_task_scores
from skmtl.model_selection import default_baselines, transfer_report
from skmtl.tasks import TASK_TYPES, resolve_tasks

PACKAGE = Path(skmtl.__file__).parent


def _docstring_nodes(tree):
    nodes = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef
                      | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                nodes.add(id(first.value))
    return nodes


# Constants that spell a type's name without naming a type, with the reason.
NOT_TYPES = {
    ("skmtl/metrics/_binary.py", "quantile"):
        "the binning strategy of calibration curves, scikit-learn's "
        "calibration_curve(strategy='quantile')",
}


def _type_names_in_code(path, names):
    """String constants of ``path`` equal to a type name, outside docstrings and
    outside ``Task(...)`` calls (which declare tasks, as user code does)."""
    tree = ast.parse(path.read_text())
    skip = _docstring_nodes(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Task":
            skip.update(id(sub) for sub in ast.walk(node))
    where = str(path.relative_to(PACKAGE.parent))
    return [f"{where}:{node.lineno}: {node.value!r}" for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and node.value in names
            and id(node) not in skip and (where, node.value) not in NOT_TYPES]


def test_no_module_outside_tasks_names_a_task_type():
    """Every decision about a type is a method or attribute of its class."""
    names = set(TASK_TYPES)
    assert {"regression", "classification", "binary", "ranking", "count",
            "quantile", "ordinal"} <= names
    found = [hit for path in sorted(PACKAGE.rglob("*.py"))
             if path != PACKAGE / "tasks.py"
             for hit in _type_names_in_code(path, names)]
    assert found == []


# -- a type written in user code ----------------------------------------------

class LogNormal(TaskType):
    """Positive values learned on the log scale: squared error of log(y)."""

    name = "log_normal"
    default_metric = "r2"
    metrics = ("r2",)
    uncertainty_scale = 0.25  # not one of the built-in constants: it must reach

    def check_labels(self, task, Y):
        if np.nanmin(self.encode(task, Y)) <= 0:
            raise ValueError(f"task {task.name!r}: log-normal labels must be > 0.")

    def transform(self, task, raw):
        return np.exp(np.asarray(raw, dtype=np.float64))

    def per_entry_loss(self, task, raw, target):
        import torch

        return (raw - torch.log(target.clamp(min=1e-12))) ** 2

    def baseline_estimator(self, task):
        return TransformedTargetRegressor(RidgeCV(), func=np.log, inverse_func=np.exp)


@pytest.fixture
def log_normal():
    register_task_type(LogNormal, replace=True)
    yield
    del TASK_TYPES["log_normal"]


def _data(seed=0, n=300):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 4)
    price = np.exp(0.8 * X[:, 0] - 0.5 * X[:, 1] + 0.1 * rng.randn(n))
    kind = (X[:, 0] + X[:, 2] > 0).astype(float)
    Y = np.c_[price, kind]
    Y[rng.rand(n) < 0.2, 0] = np.nan
    return X, Y


def test_registration_checks_the_type():
    with pytest.raises(TypeError, match="TaskType"):
        register_task_type(object)
    with pytest.raises(ValueError, match="registered already"):
        register_task_type(type("Other", (TaskType,), {"name": "regression"}))
    with pytest.raises(ValueError, match="unknown type 'log_normal'"):
        Task("price", "log_normal")


def test_user_type_through_the_estimator_metrics_baselines_and_report(log_normal):
    from skmtl.neural import MultiTaskEstimator
    from skmtl.neural.weighting import Uncertainty

    X, Y = _data()
    tasks = [Task("price", "log_normal"), Task("kind", "binary")]

    # The network: the type's loss, output transform and default metric.
    est = MultiTaskEstimator(tasks=tasks, hidden_layer_sizes=(32,), lr=0.01,
                             max_epochs=60, random_state=0).fit(X, Y)
    pred = est.predict(X)
    assert np.all(pred[:, 0] > 0)
    labelled = ~np.isnan(Y[:, 0])
    assert r2_score(np.log(Y[labelled, 0]), np.log(pred[labelled, 0])) > 0.9
    raw = np.array([[0.0], [1.0]])
    loss = est.tasks_[0].loss_fn(_tensor(raw), _tensor([[1.0], [np.e ** 3]]))
    assert float(loss) == pytest.approx((0.0 + 4.0) / 2)
    # The uncertainty weighting takes the type's constant.
    strategy = Uncertainty().initialize(est.tasks_)
    np.testing.assert_allclose(strategy.scales_.numpy(), [0.25, 1.0])

    # Metrics: the type's default metric, on its labelled entries.
    table = per_task_scores(Y, pred, est.tasks_, as_frame=False)
    assert list(table["type"]) == ["log_normal", "binary"]
    assert list(table["metric"]) == ["r2", "accuracy"]
    assert table["score"][0] == pytest.approx(r2_score(Y[labelled, 0],
                                                       pred[labelled, 0]))
    assert est.score(X, Y) == pytest.approx(np.mean(table["score"]))

    # The single-task baseline: the type's own model, on its labelled rows.
    single, pooled = default_baselines(est, Y)
    # the two types' models differ: one pooled model per estimator type
    assert sorted(pooled.estimator) == ["classifier", "regressor"]
    assert isinstance(pooled.estimator["regressor"], TransformedTargetRegressor)
    assert isinstance(single, SingleTaskBaseline)
    assert isinstance(single.estimator["price"], TransformedTargetRegressor)
    fitted = single.fit(X, Y)
    alone = LogNormal().baseline_estimator(None).fit(X[labelled], Y[labelled, 0])
    np.testing.assert_allclose(fitted.predict(X)[:, 0], alone.predict(X))

    # The transfer report, with those baselines.
    report = transfer_report(est, X, Y, cv=3)
    assert report.tasks == ["price", "kind"]
    assert report.metrics == ["r2", "accuracy"]
    assert np.all(np.isfinite(report.fold_scores["single_task"]))
    assert report.fold_scores["multitask"].shape == (3, 2)


def test_user_type_declared_by_name_in_a_baseline_dict(log_normal):
    X, Y = _data(1)
    tasks = [Task("price", "log_normal"), Task("kind", "binary")]
    from sklearn.linear_model import LogisticRegression

    est = SingleTaskBaseline({"log_normal": LogNormal().baseline_estimator(None),
                              "classifier": LogisticRegression()},
                             tasks=tasks).fit(X, Y)
    assert [t.type for t in est.tasks_] == ["log_normal", "binary"]
    assert est.score(X, Y) > 0.8


def test_inference_asks_the_types():
    Y = np.array([[0.5, "a"], [1.5, "b"], [2.5, "c"]], dtype=object)
    tasks = resolve_tasks(None, Y, default_type="auto")
    assert [t.type for t in tasks] == ["regression", "classification"]
    assert [t.type for t in resolve_tasks(None, np.zeros((3, 2)),
                                          default_type="classifier")] == [
        "classification"] * 2
    assert [name for name, t in TASK_TYPES.items() if "binary" in t.inferred_from] \
        == ["binary"]
    with pytest.raises(ValueError, match="unknown default task type 'nope'"):
        resolve_tasks(None, np.zeros((3, 1)), default_type="nope")


def _tensor(values):
    import torch

    return torch.as_tensor(np.asarray(values, dtype=np.float32))
