"""make_funnel: rates, NaN pattern, planted structure, selection bias, determinism."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from skmtl.datasets import make_funnel
from skmtl.metrics import masked_expected_calibration_error


def test_frame_layout_ids_and_nan_pattern():
    X, Y, truth = make_funnel(3000, 50, 20, n_numeric=3, random_state=0,
                              return_structure=True)
    assert list(X.columns) == ["user_id", "item_id", "context_0", "context_1",
                               "context_2"]
    assert X["user_id"].dtype == np.int64 and X["item_id"].dtype == np.int64
    assert X["user_id"].between(0, 49).all() and X["item_id"].between(0, 19).all()
    assert (X.dtypes.iloc[2:] == np.float64).all()
    assert list(Y.columns) == ["click", "conversion"] and Y.shape == (3000, 2)
    click, conversion = Y["click"].to_numpy(), Y["conversion"].to_numpy()
    assert set(np.unique(click)) == {0.0, 1.0}
    # a conversion is observed exactly where there was a click
    np.testing.assert_array_equal(np.isnan(conversion), click == 0)
    np.testing.assert_array_equal(conversion[click == 1],
                                  truth.counterfactual[click == 1, 1])
    np.testing.assert_array_equal(click, truth.counterfactual[:, 0])
    assert truth.counterfactual.dtype == np.int8
    np.testing.assert_allclose(truth.joint_proba,
                               np.cumprod(truth.conditional_proba, axis=1))
    assert truth.stages == ("click", "conversion")


def test_deeper_chain_observes_each_stage_after_the_previous_one():
    stages = ("click", "cart", "purchase")
    X, Y, truth = make_funnel(20000, 200, 80, stages=stages, rates=(0.3, 0.4, 0.5),
                              random_state=1, return_structure=True)
    Y = Y.to_numpy()
    cf = truth.counterfactual
    assert Y.shape == (20000, 3)
    np.testing.assert_array_equal(np.isnan(Y[:, 1]), cf[:, 0] == 0)
    np.testing.assert_array_equal(np.isnan(Y[:, 2]), (cf[:, 0] * cf[:, 1]) == 0)
    reached = np.cumprod(cf, axis=1)
    np.testing.assert_array_equal(Y[~np.isnan(Y[:, 2]), 2],
                                  reached[~np.isnan(Y[:, 2]), 2])


@pytest.mark.parametrize("stages, rates", [
    (("click", "conversion"), (0.05, 0.2)),
    (("click", "cart", "purchase"), (0.3, 0.25, 0.6)),
])
def test_rates_match_their_targets(stages, rates):
    X, Y, truth = make_funnel(100_000, 1000, 300, stages=stages, rates=rates,
                              random_state=2, return_structure=True)
    joint = truth.joint_proba
    reached = np.c_[np.ones(len(joint)), joint[:, :-1]]
    # expected rates of the generated rows: the intercepts were set on another
    # sample of impressions, so they agree up to that sample's error
    expected = joint.sum(axis=0) / reached.sum(axis=0)
    np.testing.assert_allclose(expected, rates, rtol=0.03)
    # observed rates: each stage over the rows where it is observed
    observed = np.nanmean(Y.to_numpy(), axis=0)
    n_observed = (~np.isnan(Y.to_numpy())).sum(axis=0)
    tolerance = 4 * np.sqrt(np.asarray(rates) * (1 - np.asarray(rates)) / n_observed)
    assert np.all(np.abs(observed - rates) < tolerance + 0.03 * np.asarray(rates))


def test_true_probabilities_carry_the_planted_structure():
    X, Y, truth = make_funnel(60_000, 500, 200, random_state=3,
                              return_structure=True)
    cf, proba = truth.counterfactual, truth.conditional_proba
    # the labels are draws from the returned probabilities: a calibrated truth
    assert masked_expected_calibration_error(cf, proba,
                                             strategy="quantile") < 0.01
    for k in range(2):
        assert roc_auc_score(cf[:, k], proba[:, k]) > 0.75
    ctcvr = cf[:, 0] * cf[:, 1]
    assert roc_auc_score(ctcvr, truth.joint_proba[:, 1]) > 0.85
    # impressions follow the Zipf-like frequencies
    counts = np.bincount(X["user_id"], minlength=500) / len(X)
    assert np.abs(counts - truth.user_frequency).max() < 0.01
    assert truth.user_frequency.max() / truth.user_frequency.min() == \
        pytest.approx(500.0)


def test_shared_factors_share_one_side_of_each_shared_dimension():
    _, _, half = make_funnel(100, 30, 10, n_factors=8, shared_factors=0.5,
                             random_state=0, return_structure=True)
    assert half.n_shared_factors == 4
    U, V = half.user_factors, half.item_factors
    np.testing.assert_array_equal(U[0][:, :2], U[1][:, :2])  # users shared
    assert not np.allclose(V[0][:, :2], V[1][:, :2])
    np.testing.assert_array_equal(V[0][:, 2:4], V[1][:, 2:4])  # items shared
    assert not np.allclose(U[0][:, 2:4], U[1][:, 2:4])
    assert not np.allclose(U[0][:, 4:], U[1][:, 4:])
    _, _, none = make_funnel(100, 30, 10, shared_factors=0.0, random_state=0,
                             return_structure=True)
    assert none.n_shared_factors == 0
    assert not np.isclose(none.user_factors[0], none.user_factors[1]).any()


def _selection(selection_bias, seed):
    X, Y, truth = make_funnel(40_000, 400, 150, selection_bias=selection_bias,
                              random_state=seed, return_structure=True)
    clicked = Y["click"].to_numpy() == 1
    p_conversion = truth.conditional_proba[:, 1]
    propensity_ratio = p_conversion[clicked].mean() / p_conversion.mean()
    # a conversion model trained on clicked impressions only, applied to all
    context = X.filter(like="context").to_numpy()
    naive = LogisticRegression().fit(context[clicked],
                                     Y["conversion"].to_numpy()[clicked])
    naive_ratio = (naive.predict_proba(context)[:, 1].mean()
                   / truth.counterfactual[:, 1].mean())
    return propensity_ratio, naive_ratio


@pytest.mark.parametrize("seed", [0, 1])
def test_selection_bias_makes_clicked_impressions_convert_more(seed):
    # (over seeds 0-11 the ratios ranged over 3.4-4.0 and 2.9-3.9 with
    # selection_bias=2, 1.00-1.07 and 0.97-1.18 without)
    propensity_ratio, naive_ratio = _selection(2.0, seed)
    assert propensity_ratio > 2.5
    assert naive_ratio > 2.0  # the naive model overestimates on the entire space
    propensity_ratio, naive_ratio = _selection(0.0, seed)
    # without selection, shared factors alone do not make clicks select
    # conversions: clicked and other impressions convert alike, up to the
    # chance associations of a log that a few popular items dominate
    assert 0.9 < propensity_ratio < 1.15
    assert 0.85 < naive_ratio < 1.25


def test_random_state_determines_the_output():
    a = make_funnel(70_000, 100, 40, random_state=5, return_structure=True)
    b = make_funnel(70_000, 100, 40, random_state=5)  # two blocks of rows
    pd.testing.assert_frame_equal(a[0], b[0])
    pd.testing.assert_frame_equal(a[1], b[1])
    c = make_funnel(70_000, 100, 40, random_state=6)
    assert not a[0].equals(c[0])
    X, Y = make_funnel(70_000, 100, 40, random_state=5, as_frame=False)
    assert X.dtype == np.float64 and X.shape == (70_000, 6)
    np.testing.assert_array_equal(X, a[0].to_numpy(dtype=np.float64))
    np.testing.assert_array_equal(X[:, :2].astype(np.int64),
                                  a[0][["user_id", "item_id"]].to_numpy())
    np.testing.assert_array_equal(Y, a[1].to_numpy())
    rng = np.random.RandomState(5)
    d = make_funnel(1000, 100, 40, random_state=rng)
    e = make_funnel(1000, 100, 40, random_state=rng)
    assert not d[0].equals(e[0])  # a RandomState advances


def test_float32_output():
    X, Y, truth = make_funnel(500, 20, 10, dtype=np.float32, random_state=0,
                              return_structure=True)
    assert X["user_id"].dtype == np.int64
    assert X["context_0"].dtype == np.float32
    assert (Y.dtypes == np.float32).all()
    assert truth.conditional_proba.dtype == np.float32
    X64, _ = make_funnel(500, 20, 10, random_state=0)
    np.testing.assert_array_equal(X["user_id"], X64["user_id"])


@pytest.mark.parametrize("kwargs, match", [
    ({"rates": (0.1,)}, r"rates holds 1 value\(s\) for 2 stages"),
    ({"rates": (0.1, 1.0)}, "rate of stage 'conversion' must be strictly between"),
    ({"rates": (0.1, 1.5)}, r"rate of stage 'conversion' must be a finite number "
                            r"in \[0.0, 1.0\]"),
    ({"stages": ("click", "click")}, "distinct names"),
    ({"stages": "click"}, "non-empty sequence of names"),
    ({"shared_factors": 1.5}, r"shared_factors must be a finite number in"),
    ({"selection_bias": np.nan}, "selection_bias must be a finite number"),
    ({"user_popularity": -1.0}, "user_popularity must be a finite number >= 0"),
    ({"n_users": 0}, "n_users must be an integer >= 1"),
    ({"n_numeric": 1.5}, "n_numeric must be an integer >= 0"),
    ({"dtype": np.int64}, "dtype must be np.float32 or np.float64"),
])
def test_bad_parameters_say_what_is_wrong(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_funnel(100, **kwargs)
