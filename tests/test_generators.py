"""Generated problems carry the structure they claim to plant."""

import numpy as np
import pytest

from skmtl.datasets import make_multitask_classification, make_multitask_regression


def test_shared_support_and_noise_level():
    X, Y, info = make_multitask_regression(
        n_samples=400, n_features=12, n_tasks=4, n_informative=3, noise=0.5,
        random_state=0, return_structure=True)
    nonzero_rows = np.flatnonzero(np.any(info.coef != 0, axis=1))
    np.testing.assert_array_equal(nonzero_rows, info.support)
    assert len(info.support) == 3
    residual = Y - X @ info.coef
    assert residual.std() == pytest.approx(0.5, rel=0.1)
    np.testing.assert_array_equal(Y, info.Y_full)


def test_low_rank_clusters_and_graph_structures():
    _, _, low = make_multitask_regression(n_tasks=6, n_informative=5,
                                          structure="low_rank", rank=2,
                                          random_state=0, return_structure=True)
    assert np.linalg.matrix_rank(low.coef) == 2
    _, _, clustered = make_multitask_regression(
        n_tasks=6, n_informative=8, structure="clusters", n_clusters=2,
        task_similarity=0.95, random_state=0, return_structure=True)
    corr = np.corrcoef(clustered.coef[clustered.support].T)
    same = clustered.clusters[:, None] == clustered.clusters[None, :]
    off_diagonal = ~np.eye(6, dtype=bool)
    assert corr[same & off_diagonal].mean() > corr[~same].mean() + 0.5
    _, _, graph = make_multitask_regression(
        n_tasks=5, structure="graph", task_similarity=0.9, random_state=0,
        return_structure=True)
    W = graph.coef
    neighbour = np.mean([np.linalg.norm(W[:, k] - W[:, k + 1]) for k in range(4)])
    far = np.linalg.norm(W[:, 0] - W[:, 4])
    assert far > neighbour
    assert graph.graph[0, 1] == 1 and graph.graph[0, 2] == 0


def test_samples_per_task_and_missing_rate():
    X, Y = make_multitask_regression(n_tasks=3, samples_per_task=[5, 10, 7],
                                     random_state=0)
    assert X.shape[0] == 22
    np.testing.assert_array_equal((~np.isnan(Y)).sum(axis=0), [5, 10, 7])
    assert np.all((~np.isnan(Y)).sum(axis=1) == 1)
    _, Y = make_multitask_regression(n_samples=1000, n_tasks=2, missing_rate=0.4,
                                     random_state=0)
    assert np.isnan(Y).mean() == pytest.approx(0.4, abs=0.03)


def test_classification_generator_labels_follow_the_scores():
    X, Y, info = make_multitask_classification(
        n_samples=2000, n_features=6, n_tasks=2, n_classes=3, class_sep=5.0,
        random_state=0, return_structure=True)
    assert set(np.unique(Y)) == {0.0, 1.0, 2.0}
    for k in range(2):
        predicted = np.argmax(X @ info.coef[k], axis=1)
        assert np.mean(predicted == Y[:, k]) > 0.8


@pytest.mark.parametrize("kwargs, message", [
    (dict(n_informative=30), "n_informative=30 exceeds n_features=20"),
    (dict(structure="tree"), "structure must be one of"),
    (dict(structure="low_rank", rank=9), "rank=9 exceeds"),
    (dict(missing_rate=1.0), r"missing_rate must be in \[0, 1\)"),
    (dict(samples_per_task=[1, 2]), "samples_per_task must be a positive int or 5"),
    (dict(task_similarity=2.0), r"task_similarity must be in \[0, 1\]"),
])
def test_generator_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_multitask_regression(**kwargs)
