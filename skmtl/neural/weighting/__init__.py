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
* Other scalarizations: :class:`GLS` (geometric mean) and :class:`STCH`
  (smooth Tchebycheff) (``_scalarization.py``).
* Gradient level: :class:`PCGrad`, :class:`MGDA`, :class:`MGDAUB`,
  :class:`CAGrad`, :class:`NashMTL` and :class:`UPGrad` (torchjd, optional)
  (``_gradient_level.py``); :class:`IMTL` (also its loss form) and
  :class:`DBMTL` (``_balancing.py``); :class:`AlignedMTL`, :class:`ConFIG`,
  :class:`GradVac`, :class:`GradDrop` (``_surgery.py``); :class:`FairGrad`,
  :class:`ExcessMTL` (``_fairness.py``).
"""

from ._adaptive import GradNorm, MetaWeighting
from ._balancing import DBMTL, IMTL
from ._base import ALIASES, WEIGHTINGS, Weighting, resolve_weighting
from ._fairness import ExcessMTL, FairGrad
from ._gradient_level import MGDA, MGDAUB, CAGrad, NashMTL, PCGrad, UPGrad
from ._loss_level import DWA, FAMO, RLW, Fixed, Uncertainty
from ._scalarization import GLS, STCH
from ._surgery import AlignedMTL, ConFIG, GradDrop, GradVac

__all__ = [
    "ALIASES",
    "AlignedMTL",
    "CAGrad",
    "ConFIG",
    "DBMTL",
    "DWA",
    "ExcessMTL",
    "FAMO",
    "FairGrad",
    "Fixed",
    "GLS",
    "GradDrop",
    "GradNorm",
    "GradVac",
    "IMTL",
    "MGDA",
    "MGDAUB",
    "MetaWeighting",
    "NashMTL",
    "PCGrad",
    "RLW",
    "STCH",
    "UPGrad",
    "Uncertainty",
    "WEIGHTINGS",
    "Weighting",
    "resolve_weighting",
]
