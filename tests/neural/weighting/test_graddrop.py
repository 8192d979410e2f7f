"""Tests of skmtl/neural/weighting/_graddrop.py."""

import torch


def test_graddrop_keeps_one_sign_per_entry():
    from skmtl.neural.weighting._graddrop import _sign_dropout

    torch.manual_seed(0)
    g = torch.randn(3, 500, dtype=torch.float64)
    combined, mask = _sign_dropout(g, torch.zeros(3, 1, dtype=torch.float64))
    kept = mask * g
    # the kept contributions of an entry all have one sign
    assert torch.all((kept >= 0).all(0) | (kept <= 0).all(0))
    torch.testing.assert_close(combined, kept.sum(0))
    # where the tasks agree, nothing is dropped
    agree = (g > 0).all(0) | (g < 0).all(0)
    torch.testing.assert_close(combined[agree], g.sum(0)[agree])
    # P is the probability of keeping the positive side
    P = 0.5 * (1 + g.sum(0) / g.abs().sum(0))
    draws = torch.stack([(_sign_dropout(g, torch.zeros(3, 1, dtype=g.dtype))[0] > 0)
                         for _ in range(400)]).double().mean(0)
    mixed = ~agree
    assert float((draws[mixed] - P[mixed]).abs().mean()) < 0.05
    full, _ = _sign_dropout(g, torch.ones(3, 1, dtype=torch.float64))
    torch.testing.assert_close(full, g.sum(0))  # leak 1: the plain sum
