"""Task weighting: how the per-task losses become one training step.

The joint loss of a multi-task network is ``sum_k lambda_k L_k``. A strategy
(a :class:`Weighting`) chooses ``lambda`` each step (loss level) or combines
the per-task gradients of the shared parameters (gradient level); it is
passed as ``MultiTaskEstimator(weighting=...)``, by name or as an object.
The weights used are recorded in the net's ``history`` every epoch
(``task_weights_history_`` of the estimator after fit).

* Loss level: :class:`Fixed` (manual weights), :class:`Uncertainty`,
  :class:`DWA`, :class:`RLW`, :class:`FAMO` (``_loss_level.py``) and, chosen
  from gradients, :class:`GradNorm` and :class:`MetaWeighting`
  (``_adaptive.py``).
* Gradient level: :class:`PCGrad`, :class:`MGDA`, :class:`MGDAUB`,
  :class:`CAGrad`, :class:`NashMTL` and :class:`UPGrad` (torchjd, optional)
  (``_gradient_level.py``).
"""

from ._adaptive import GradNorm, MetaWeighting
from ._base import ALIASES, WEIGHTINGS, Weighting, resolve_weighting
from ._gradient_level import MGDA, MGDAUB, CAGrad, NashMTL, PCGrad, UPGrad
from ._loss_level import DWA, FAMO, RLW, Fixed, Uncertainty

__all__ = [
    "ALIASES",
    "CAGrad",
    "DWA",
    "FAMO",
    "Fixed",
    "GradNorm",
    "MGDA",
    "MGDAUB",
    "MetaWeighting",
    "NashMTL",
    "PCGrad",
    "RLW",
    "UPGrad",
    "Uncertainty",
    "WEIGHTINGS",
    "Weighting",
    "resolve_weighting",
]
