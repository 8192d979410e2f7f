"""Tests of skmtl/neural/weighting/_graddrop.py."""

import pytest
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


# -- on="representation": the paper's rule on the shared representation -----


def _representation_rows(seed=0):
    """A HardSharing step whose linear heads have 3, 1 and 2 outputs: the
    representation h, the tasks' gradients of h (dense) and as factors."""
    from skmtl.neural import HardSharing
    from skmtl.neural.weighting import _jacobian

    torch.manual_seed(seed)
    module = HardSharing([3, 1, 2], input_shape=(5,)).train()
    outputs = module(torch.randn(32, 5))
    losses = torch.stack([((k + 1) * out - 0.5).pow(2).mean()
                          for k, out in enumerate(outputs)])
    features = module.shared_representation()
    dense, _ = _jacobian.representation_gradients(
        losses, module.shared_representation(per_task=True))
    factors = module._head_factors()
    deltas, _ = _jacobian.representation_gradients(losses, [z for z, _ in factors],
                                                    stack=False)
    factored = _jacobian.FactoredRows(deltas, [layer.weight for _, layer in factors],
                                      features.shape)
    return features.detach(), dense.detach(), factored


def _papers_rule(rows, features, leak, draw):
    """Algorithm 1 of Chen et al. (2020), one task and feature at a time, in
    float64: (combined gradient of h, fraction of each task's squared norm kept)."""
    rows, h = rows.double(), features.double()
    n_tasks, _, n_features = rows.shape
    summed = [(torch.sign(h) * rows[k]).sum(0) for k in range(n_tasks)]
    combined = torch.zeros_like(h)
    kept, total = torch.zeros(n_tasks, dtype=torch.float64), torch.zeros(n_tasks,
                                                                        dtype=torch.float64)
    for j in range(n_features):
        positive = sum(float(summed[k][j]) for k in range(n_tasks))
        absolute = sum(abs(float(summed[k][j])) for k in range(n_tasks))
        purity = 0.5 * (1 + positive / absolute) if absolute > 0 else 0.5
        for k in range(n_tasks):
            s = float(summed[k][j])
            hit = (purity > draw[j] and s > 0) or (purity < draw[j] and s < 0)
            m = leak[k] + (1 - leak[k]) * float(hit)
            combined[:, j] += m * rows[k, :, j]
            kept[k] += m * m * float((rows[k, :, j] ** 2).sum())
            total[k] += float((rows[k, :, j] ** 2).sum())
    return combined, kept / total


@pytest.mark.parametrize("leak", [[0.0, 0.0, 0.0], [0.2, 0.0, 0.5]])
def test_graddrop_on_the_representation_follows_the_papers_batch_rule(leak):
    from skmtl.neural.weighting._graddrop import _batch_sign_dropout

    features, dense, factored = _representation_rows()
    leak_tensor = (None if not any(leak)
                   else torch.tensor(leak, dtype=dense.dtype).view(-1, 1))
    torch.manual_seed(1)
    draw = torch.rand(features.shape[1:], dtype=dense.dtype)
    expected, expected_fraction = _papers_rule(dense, features, leak, draw)
    for rows in (dense, factored):
        torch.manual_seed(1)   # the same draw
        combined, fraction = _batch_sign_dropout(rows, features, leak_tensor)
        torch.testing.assert_close(combined.double(), expected, rtol=1e-5, atol=1e-8)
        torch.testing.assert_close(fraction.double(), expected_fraction, rtol=1e-5,
                                   atol=1e-8)
    # the test can fail: some tasks were dropped at some features, not all
    assert 0 < float(expected_fraction.min()) < 1 - 1e-6
    # and the rule is not the entry-by-entry one: h > 0 at some samples only
    assert torch.any(features == 0) and torch.any(features > 0)


def test_graddrop_on_the_representation_keeps_one_sign_per_feature():
    from skmtl.neural.weighting._graddrop import _batch_sign_dropout

    features, dense, factored = _representation_rows(seed=2)
    signs = torch.sign(features)
    summed = (dense * signs).sum(1).double()       # (n_tasks, n_features)
    positive = summed.clamp(min=0).sum(0)
    negative = summed.clamp(max=0).sum(0)
    agree = (summed >= 0).all(0) | (summed <= 0).all(0)
    for rows in (dense, factored):
        combined, _ = _batch_sign_dropout(rows, features, None)
        # the combined gradient's batch sum is that of the tasks of one sign
        kept = (combined * signs).sum(0).double()
        one_sign = (torch.isclose(kept, positive, rtol=1e-4, atol=1e-9)
                    | torch.isclose(kept, negative, rtol=1e-4, atol=1e-9))
        assert bool(one_sign.all())
        # where the tasks agree, nothing is dropped: every sample keeps the sum
        torch.testing.assert_close(combined[:, agree], dense.sum(0)[:, agree],
                                   rtol=1e-5, atol=1e-8)
    assert bool((~agree).any())   # the test can fail
    # P is the probability of keeping the positive side
    P = 0.5 * (1 + summed.sum(0) / summed.abs().sum(0))
    draws = torch.stack([
        torch.isclose((_batch_sign_dropout(factored, features, None)[0] * signs)
                      .sum(0).double(), positive, rtol=1e-4, atol=1e-9)
        for _ in range(400)]).double().mean(0)
    assert float((draws[~agree] - P[~agree]).abs().mean()) < 0.05
