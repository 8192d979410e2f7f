"""Conversions between per-task datasets, long tables and NaN-masked Y."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from skmtl import Task, stack_tasks, unstack_tasks


def test_stack_then_unstack_round_trip():
    rng = np.random.RandomState(0)
    Xs = [rng.randn(n, 3) for n in (4, 2, 3)]
    ys = [rng.randn(n) for n in (4, 2, 3)]
    X, Y, names = stack_tasks(Xs, ys, return_names=True)
    assert X.shape == (9, 3) and Y.shape == (9, 3)
    assert names == ["task_0", "task_1", "task_2"]
    assert np.sum(~np.isnan(Y)) == 9
    np.testing.assert_array_equal(Y[4:6, 1], ys[1])
    assert np.all(np.isnan(Y[4:6, [0, 2]]))
    Xs_back, ys_back = unstack_tasks(X, Y)
    for a, b in zip(Xs + ys, Xs_back + ys_back):
        np.testing.assert_array_equal(a, b)


def test_stack_multi_output_task_and_sparse_and_strings():
    Xs = [sp.csr_matrix(np.eye(2)), sp.csr_matrix(np.ones((1, 2)))]
    ys = [np.array([[1.0, 2.0], [3.0, 4.0]]), np.array(["a"], dtype=object)]
    X, Y = stack_tasks(Xs, ys)
    assert sp.issparse(X) and X.shape == (3, 2)
    assert Y.shape == (3, 3) and Y.dtype == object
    assert Y[2, 2] == "a" and Y[0, 1] == 2.0
    Xs_back, ys_back = unstack_tasks(X, Y, tasks=[Task("box", n_outputs=2),
                                                  Task("c", "classification")])
    assert ys_back[0].shape == (2, 2) and list(ys_back[1]) == ["a"]
    assert Xs_back[1].shape == (1, 2)


def test_long_table_route_with_and_without_sample_ids():
    table = pd.DataFrame({"school": ["b", "a", "a", "b"], "student": [1, 1, 2, 2],
                          "x": [0.1, 0.2, 0.3, 0.4], "score": [5.0, 6.0, 7.0, 8.0]})
    X, Y, names = stack_tasks(table, task_column="school", target_column="score",
                              return_names=True)
    assert names == ["a", "b"]
    assert X.shape == (4, 2)  # student and x remain features
    np.testing.assert_array_equal(Y[:, 0], [np.nan, 6.0, 7.0, np.nan])
    X, Y = stack_tasks(table.drop(columns="x"), task_column="school",
                       target_column="score", sample_column="student")
    np.testing.assert_array_equal(Y, [[6.0, 5.0], [7.0, 8.0]])
    assert X.shape == (2, 0)
    array = np.array([[0, 1.0, 10.0], [1, 2.0, 20.0]])
    X, Y = stack_tasks(array, task_column=0, target_column=2)
    np.testing.assert_array_equal(X, [[1.0], [2.0]])
    np.testing.assert_array_equal(Y, [[10.0, np.nan], [np.nan, 20.0]])


def test_stacking_errors():
    with pytest.raises(ValueError, match="got 2 feature matrices but 1 label"):
        stack_tasks([np.ones((1, 2)), np.ones((1, 2))], [[1.0]])
    with pytest.raises(ValueError, match="task 0: X has 2 rows but y has 1"):
        stack_tasks([np.ones((2, 2))], [[1.0]])
    with pytest.raises(ValueError, match="needs ys"):
        stack_tasks([np.ones((2, 2))])
    table = pd.DataFrame({"t": ["a", "a"], "s": [1, 1], "y": [1.0, 2.0]})
    with pytest.raises(ValueError, match="sample 1 has 2 labels for task 'a'"):
        stack_tasks(table, task_column="t", target_column="y", sample_column="s")
    with pytest.raises(ValueError, match="'nope' is not a column"):
        stack_tasks(table, task_column="nope", target_column="y")
    with pytest.raises(ValueError, match="X has 2 rows but Y has 3"):
        unstack_tasks(np.ones((2, 1)), np.ones((3, 1)))
