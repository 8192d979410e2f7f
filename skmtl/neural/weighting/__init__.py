"""Task weighting: how the per-task losses become one training step.

The joint loss of a multi-task network is ``sum_k lambda_k L_k``. A strategy
(a :class:`Weighting`, a torch module) chooses ``lambda`` each step (loss
level) or combines the per-task gradients of the shared parameters
(gradient level); it is passed as ``MultiTaskEstimator(weighting=...)``, by
name or as an object. The weights used are recorded in the net's
``history`` every epoch (``task_weights_history_`` of the estimator after
fit).

* Loss level: :class:`Fixed` (manual weights), :class:`Uncertainty`,
  :class:`DWA`, :class:`RLW`, :class:`FAMO`, :class:`GLS` (geometric mean),
  :class:`STCH` (smooth Tchebycheff) and, chosen from gradients,
  :class:`GradNorm` and :class:`MetaWeighting`.
* Gradient level (subclasses of :class:`GradientWeighting`, which computes
  the task Jacobian and writes the gradients; each gives its combination):
  :class:`PCGrad`, :class:`MGDA`, :class:`CAGrad`, :class:`NashMTL`,
  :class:`UPGrad` (torchjd, optional), :class:`IMTL` (also its loss form),
  :class:`DBMTL`, :class:`AlignedMTL`, :class:`ConFIG`, :class:`GradVac`,
  :class:`GradDrop`, :class:`FairGrad`, :class:`ExcessMTL`; and
  :class:`MGDAUB`, on the gradients of the shared representation.

Layout: one module per strategy, named after it (``_nash_mtl.py`` holds
:class:`NashMTL` and its kernel on the Gram matrix, ``nash_weights``);
``_base.py`` the interface and the registry, ``_jacobian.py`` the Jacobian
path. A new strategy is one such module, registered with
``WEIGHTINGS.register(name, cls)``; its tests go in
``tests/neural/weighting/test_<module>.py``.
"""

from ._aligned_mtl import AlignedMTL
from ._base import ALIASES, WEIGHTINGS, Weighting, resolve_weighting
from ._cagrad import CAGrad
from ._config import ConFIG
from ._db_mtl import DBMTL
from ._dwa import DWA
from ._excess_mtl import ExcessMTL
from ._fairgrad import FairGrad
from ._famo import FAMO
from ._fixed import Fixed
from ._gls import GLS
from ._graddrop import GradDrop
from ._gradnorm import GradNorm
from ._gradvac import GradVac
from ._imtl import IMTL
from ._jacobian import GradientWeighting
from ._meta_weighting import MetaWeighting
from ._mgda import MGDA
from ._mgda_ub import MGDAUB
from ._nash_mtl import NashMTL
from ._pcgrad import PCGrad
from ._rlw import RLW
from ._stch import STCH
from ._uncertainty import Uncertainty
from ._upgrad import UPGrad

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
    "GradientWeighting",
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
