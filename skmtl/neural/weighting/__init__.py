"""Task weighting: how the per-task losses become one training step.

The joint loss of a multi-task network is ``sum_k lambda_k L_k``. A strategy
(a :class:`Weighting`) chooses ``lambda`` each step (loss level) or combines
the per-task gradients of the shared parameters (gradient level); it is
passed as ``MultiTaskEstimator(weighting=...)``, by name or as an object.
The weights used are recorded in the net's ``history`` every epoch.

Loss-level strategies live in ``_loss_level.py``; gradient-level ones in
their own module.
"""

from ._base import WEIGHTINGS, Weighting, resolve_weighting
from ._loss_level import Fixed

__all__ = ["WEIGHTINGS", "Fixed", "Weighting", "resolve_weighting"]
