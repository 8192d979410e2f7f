"""Tests of skmtl/neural/weighting/_imtl.py."""

import numpy as np
import pytest
import torch
from weighting_problems import TWO, _conflicting, _jacobians, _step

from skmtl.neural.weighting import IMTL
from skmtl.neural.weighting._imtl import imtl_g_weights


@pytest.mark.parametrize("seed", range(5))
def test_imtl_g_has_equal_projections_onto_every_unit_gradient(seed):
    J = _jacobians(seed)
    w = imtl_g_weights(J @ J.T)
    assert w.sum() == pytest.approx(1.0)
    d = w @ J
    projections = J @ d / np.linalg.norm(J, axis=1)
    np.testing.assert_allclose(projections, projections[0], rtol=1e-6)
    # the paper's closed form: alpha_{2:K} = g_1 U^T (D U^T)^-1
    U = J / np.linalg.norm(J, axis=1, keepdims=True)
    D_ = (J[:1] - J[1:]).T
    U_ = (U[:1] - U[1:]).T
    alpha = J[0] @ U_ @ np.linalg.inv(D_.T @ U_)
    np.testing.assert_allclose(w, np.r_[1 - alpha.sum(), alpha], rtol=1e-6)


def test_imtl_loss_form_scales_every_loss_to_one_at_the_optimum():
    strategy = IMTL(form="loss").initialize(TWO)
    assert strategy.level == "loss" and IMTL().level == "gradient"
    optimizer = torch.optim.SGD([strategy.log_scales_], lr=0.5)
    losses = torch.tensor([4.0, 0.25])
    for _ in range(200):
        optimizer.zero_grad()
        strategy.combine(losses).backward()
        optimizer.step()
    scaled = torch.exp(strategy.log_scales_.detach()) * losses
    torch.testing.assert_close(scaled, torch.ones(2), rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="IMTL: form must be one of"):
        IMTL(form="both").initialize(TWO)


def test_imtl_gradient_and_hybrid_forms_give_impartial_network_steps():
    X, Y = _conflicting()
    for form in ("gradient", "hybrid"):
        _, d, J, _ = _step(IMTL(form=form), X, Y)
        projections = J @ d / np.linalg.norm(J, axis=1)
        np.testing.assert_allclose(projections, projections[0], rtol=1e-4)
