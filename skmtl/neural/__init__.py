"""Multi-task neural networks on torch and skorch.

:class:`MultiTaskEstimator` (and the single-type :class:`MultiTaskRegressor`
and :class:`MultiTaskClassifier`) is a scikit-learn estimator that builds and
trains a :class:`MultiTaskNet`, a skorch ``NeuralNet`` whose module returns
one output per task. Architectures decide how the tasks share parameters,
:mod:`skmtl.neural.weighting` how their losses are combined.

Importing this module imports torch and skorch; ``import skmtl`` does not.
"""

from . import weighting
from ._accelerate import AcceleratedMultiTaskNet
from ._affinity import LookaheadAffinity
from ._aitm import AITM, AdaptiveInformationTransfer
from ._architectures import (
    ARCHITECTURE_ALIASES,
    ARCHITECTURES,
    CGC,
    PLE,
    CrossStitch,
    HardSharing,
    MMoE,
    MultiTaskModule,
    SoftSharing,
)
from ._callbacks import DivergenceGuard, EpochSeed, StarvationMonitor
from ._checkpoints import PerTaskCheckpoint
from ._conflict import GradientConflict
from ._data import BatchIterator, SparseRows, TaskDataset, encode_groups
from ._estimators import MultiTaskClassifier, MultiTaskEstimator, MultiTaskRegressor
from ._inputs import CategoricalEncoder, EmbeddedInputs, embedding_size
from ._net import MultiTaskNet
from ._shards import ShardedDataset, write_shard
from ._trunks import MLP, TRUNK_ALIASES, TRUNKS, ConvNet, build_trunk

__all__ = [
    "AITM",
    "ARCHITECTURE_ALIASES",
    "AdaptiveInformationTransfer",
    "ARCHITECTURES",
    "AcceleratedMultiTaskNet",
    "BatchIterator",
    "CGC",
    "CategoricalEncoder",
    "ConvNet",
    "GradientConflict",
    "CrossStitch",
    "DivergenceGuard",
    "EmbeddedInputs",
    "EpochSeed",
    "HardSharing",
    "LookaheadAffinity",
    "MLP",
    "MMoE",
    "MultiTaskClassifier",
    "MultiTaskEstimator",
    "MultiTaskModule",
    "MultiTaskNet",
    "MultiTaskRegressor",
    "PLE",
    "PerTaskCheckpoint",
    "ShardedDataset",
    "SoftSharing",
    "SparseRows",
    "StarvationMonitor",
    "TRUNKS",
    "TRUNK_ALIASES",
    "TaskDataset",
    "build_trunk",
    "embedding_size",
    "encode_groups",
    "weighting",
    "write_shard",
]
