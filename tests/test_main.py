"""The main job: ``python -m skmtl``."""

import subprocess
import sys

import numpy as np
import pytest

from skmtl._main import DATASETS, ESTIMATORS, main, run


def test_main_job_prints_a_per_task_table(capsys):
    results = run(estimators="single-task,pooled", seed=1)
    out = capsys.readouterr().out
    assert "test r2 per task" in out
    assert out.count("task_") == 8
    assert "mean" in out and "fit (s)" in out
    for result in results.values():
        assert len(result["scores"]) == 8
        assert np.all(np.isfinite(result["scores"]))
    # The generated tasks are learnable: the no-sharing baseline explains
    # a good part of the variance on held-out rows.
    assert np.mean(results["single-task"]["scores"]) > 0.4


@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_every_dataset_runs_with_the_baselines(dataset, capsys):
    results = run(dataset=dataset, estimators="single-task,pooled")
    # the mixed data set gets one pooled model per kind of task
    assert set(results) == {"single-task", "pooled"}
    assert "mean" in capsys.readouterr().out


def test_unknown_estimator_is_refused():
    with pytest.raises(ValueError, match=r"unknown estimator\(s\) \['nope'\]"):
        run(estimators="nope")


def test_list_and_help():
    assert main(["--list"]) == 0
    result = subprocess.run([sys.executable, "-m", "skmtl", "--help"],
                            capture_output=True, text=True, check=True)
    for option in ("--dataset", "--estimators", "--seed"):
        assert option in result.stdout
    assert set(ESTIMATORS) >= {"single-task", "pooled"}


def test_main_job_prints_the_transfer_report(capsys):
    results = run(estimators="single-task", transfer="pooled")
    out = capsys.readouterr().out
    assert "transfer report of 'pooled'" in out
    report = results["transfer_report"]
    assert len(report.tasks) == 8 and report.fold_scores["multitask"].shape == (5, 8)
    assert "transfer_report" not in run(estimators="pooled", transfer="none")
    with pytest.raises(ValueError, match="unknown estimator 'nope' for --transfer"):
        run(estimators="pooled", transfer="nope")


def test_main_job_fits_the_networks_on_mixed_tasks(capsys):
    results = run(dataset="mixed", estimators="single-task,mtl-mlp", seed=0)
    out = capsys.readouterr().out
    assert "accuracy/r2" in out
    # 3 regression tasks (R²) and 3 two-class tasks (accuracy), all learnable
    scores = results["mtl-mlp"]["scores"]
    assert len(scores) == 6
    assert np.all(np.asarray(scores) > 0.7)
