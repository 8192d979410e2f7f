"""Scikit-learn estimators around MultiTaskNet: the public classes and their
documentation (the implementation they share is in _network.py)."""

from sklearn.base import ClassifierMixin, RegressorMixin

from ..base import MultiTaskMixin
from ._network import _MultiTaskNetwork

__all__ = ["MultiTaskEstimator", "MultiTaskRegressor", "MultiTaskClassifier"]


_PARAMETERS_DOC = """
    Parameters
    ----------
    tasks : list of Task, default=None
        Task of each column of ``Y``; None infers one task per column
        ({inferred}).
    trunk : None, nn.Module class or callable, or nn.Module instance, \
default=None
        The network mapping a batch of inputs to features. None is an
        :class:`MLP` with ``hidden_layer_sizes``; a class is built with
        ``input_shape=`` (if it takes it) and the ``trunk__...`` parameters;
        an instance is copied (never trained in place).
    architecture : {{"hard", "soft", "cross_stitch", "mmoe", "ple", "cgc"}}, \
nn.Module class or instance, default="hard"
        How the tasks share parameters (:class:`HardSharing`,
        :class:`SoftSharing`, :class:`CrossStitch`, :class:`MMoE`,
        :class:`PLE`, :class:`CGC`). A class is built with ``tasks=``,
        ``input_shape=``, ``trunk=`` (those it accepts) and the
        ``module__...`` parameters (e.g. ``module__n_experts=8``); an instance
        must return one output per task and is used as given.
    hidden_layer_sizes : tuple of int, default=(100,)
        Hidden layers of the default MLP trunk.
    task_weights : None, sequence of float or dict, default=None
        Manual weight ``lambda_k`` of each task in the loss
        ``sum_k lambda_k L_k``: a sequence in task order or a dict by task
        name (unnamed tasks get 1). ``set_params(task_weights__<task>=w)``
        sets one task's weight.
    weighting : None, str or Weighting, default=None
        Task-weighting strategy (:mod:`skmtl.neural.weighting`); None is
        fixed weights from ``task_weights``.
    optimizer : torch optimizer class, default=torch.optim.Adam
        Built with ``lr`` and the ``optimizer__...`` parameters.
    lr : float, default=1e-3
    max_epochs : int, default=100
    batch_size : int, default=128
    standardize_targets : bool, default=True
        Train regression tasks on targets standardized per column (mean and
        standard deviation of the labelled entries), so that tasks in
        different units weigh alike in the loss; predictions are mapped back.
        Huber's ``delta`` is then in standard deviations.
    device : str, default="cpu"
        Torch device for training and prediction (``"cuda"``, ``"cuda:1"``);
        batches are moved there one at a time, predictions come back as
        NumPy. Asking for CUDA without it raises a ``ValueError``;
        :meth:`to` moves a fitted network (e.g. back to the CPU).
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialization, shuffling and dropout (torch's global
        generator is restored after fit). The same value gives the same
        parameters on the CPU.
    verbose : int, default=0
        1 prints skorch's table of per-epoch (per-task) losses.
    callbacks : list of skorch callbacks, default=None
        Added to the net (e.g. ``EarlyStopping``, ``LRScheduler``); copied at
        fit.
    train_split : None, float, int or callable, default=None
        Internal validation split: a fraction or a number of folds (skorch's
        ``ValidSplit``) or any skorch split callable. Its per-task losses are
        recorded in ``history_``. None trains on all samples.
    n_threads : int, default=None
        Torch threads used by ``fit`` and ``predict`` (restored afterwards);
        None leaves torch's setting. Small networks on a busy machine are
        often fastest with 1.
    warm_start : bool, default=False
        When fitted already, ``fit`` trains the network ``max_epochs`` more
        epochs instead of building a new one. Every epoch is seeded from
        ``(random_state, epoch number)``, so fitting ``E1`` epochs, pickling,
        loading and warm-starting ``E2`` more gives exactly the parameters of
        one ``E1 + E2``-epoch fit (on the CPU).
    on_divergence : {{"raise", "restore"}}, default="raise"
        A task loss that becomes NaN or infinite stops training with a
        ``ValueError`` naming the task and the epoch (``"raise"``; the
        estimator is then unfitted), or puts back the parameters of the
        run's best epoch and stops with a ``RuntimeWarning`` (``"restore"``).
    accelerator : accelerate.Accelerator, default=None
        Opt-in training through Hugging Face Accelerate (several GPUs with
        ``accelerate launch``, mixed precision); ``device`` is then ignored.
        Needs the ``accelerate`` extra; see the user guide for its limits
        (no gradient-level weighting; on several processes no pickling or
        ``GridSearchCV``).
    **kwargs
        Prefixed parameters routed like skorch's: ``module__...`` (the
        architecture), ``trunk__...`` (the trunk class), ``optimizer__...``,
        ``iterator_train__...``, ``iterator_valid__...``, ``callbacks__...``.
        They work in ``set_params`` and ``GridSearchCV`` grids.

    Attributes
    ----------
    net_ : MultiTaskNet
        The fitted skorch net (its ``module_`` is the torch module).
    tasks_ : list of Task
        Fitted tasks (columns, classes).
    history_ : skorch History
        Per-epoch losses: ``train_loss`` and ``train_loss_<task>`` (and
        ``valid_...`` with ``train_split``), ``task_weights``.
    task_weights_history_ : ndarray of shape (n_epochs, n_tasks)
        Task weights used in each epoch.
    target_mean_, target_scale_ : ndarray of shape (n_outputs,)
        Standardization of the regression columns (0 and 1 elsewhere).
    input_shape_ : tuple of int
        Shape of one input sample.
    n_features_in_ : int
    n_outputs_ : int
"""


class MultiTaskEstimator(MultiTaskMixin, _MultiTaskNetwork):
    _allow_nd = True  # images and other N-D samples
    _default_task_type = "auto"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = None
        return tags


class MultiTaskRegressor(MultiTaskMixin, RegressorMixin, _MultiTaskNetwork):
    _allow_nd = True  # images and other N-D samples
    _default_task_type = "regression"
    _expected_kind = "regression"


class MultiTaskClassifier(MultiTaskMixin, ClassifierMixin, _MultiTaskNetwork):
    _allow_nd = True  # images and other N-D samples
    _default_task_type = "classification"
    _expected_kind = "classification"


_NOTES = """
    Notes
    -----
    The network is trained by skorch: ``callbacks`` (early stopping,
    checkpoints, learning-rate schedules) and ``device`` work as in skorch.
    A failed ``fit`` leaves the estimator unfitted; ``partial_fit`` trains
    one epoch on a chunk of data (streams larger than memory).
    Batches are fetched by slicing tensors (:class:`TaskDataset`,
    :class:`BatchIterator`). A task without a label in a batch adds nothing
    to that batch's loss; a loss that becomes NaN or infinite stops training
    with a ``ValueError`` naming the task and the epoch.

    Multi-task networks with a shared trunk and task heads go back to
    Caruana [1]_; the architectures follow Duong et al. [2]_ (soft sharing),
    Misra et al. [3]_ (cross-stitch), Ma et al. [4]_ (MMoE) and Tang et al.
    [5]_ (PLE).

    References
    ----------
    .. [1] R. Caruana, "Multitask learning", Machine Learning 28, 1997.
    .. [2] L. Duong, T. Cohn, S. Bird and P. Cook, "Low resource dependency
       parsing: cross-lingual parameter sharing in a neural network parser",
       ACL 2015.
    .. [3] I. Misra, A. Shrivastava, A. Gupta and M. Hebert, "Cross-stitch
       networks for multi-task learning", CVPR 2016.
    .. [4] J. Ma et al., "Modeling task relationships in multi-task learning
       with multi-gate mixture-of-experts", KDD 2018.
    .. [5] H. Tang et al., "Progressive layered extraction (PLE)", RecSys 2020.
"""

MultiTaskEstimator.__doc__ = """Multi-task neural network: shared layers, task heads.

    Learns tasks of any type at once (regression, classification, binary,
    ranking, count) from one ``Y`` with a column per task output and ``NaN``
    where a label is missing. ``fit`` builds a skorch :class:`MultiTaskNet`
    as ``net_`` and trains it on ``sum_k lambda_k L_k``, each task's loss
    ``L_k`` averaged over its labelled entries in the batch.
""" + _PARAMETERS_DOC.format(
    inferred="numeric columns become regression tasks, other labels "
             "classification tasks; give Task(name, 'classification') for "
             "integer class labels") + """
    See Also
    --------
    MultiTaskRegressor, MultiTaskClassifier : Single-type conveniences.
    skmtl.SingleTaskBaseline : One model per task, the no-sharing reference.
""" + _NOTES + """
    Examples
    --------
    >>> import numpy as np
    >>> from skmtl import Task
    >>> from skmtl.neural import MultiTaskEstimator
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(200, 4)
    >>> Y = np.c_[X[:, 0] + X[:, 1], (X[:, 0] > 0).astype(float)]
    >>> Y[::3, 0] = np.nan  # a third of the first task's labels are missing
    >>> est = MultiTaskEstimator(
    ...     tasks=[Task("value"), Task("sign", "classification")],
    ...     hidden_layer_sizes=(16,), lr=0.01, max_epochs=30, random_state=0)
    >>> est.fit(X, Y).predict(X[:2]).shape
    (2, 2)
    >>> est.score(X, Y) > 0.8
    True
"""

MultiTaskRegressor.__doc__ = """Multi-task neural network for regression tasks.

    :class:`MultiTaskEstimator` whose tasks are regression-like (regression,
    count, ranking); ``tasks=None`` makes every column a regression task, so
    ``fit(X, Y)`` works like scikit-learn's multi-output regressors, with
    ``NaN`` marking missing labels. ``score`` is the mean R² over the tasks'
    labelled entries.
""" + _PARAMETERS_DOC.format(inferred="regression") + """
    See Also
    --------
    MultiTaskEstimator : Mixed task types.
""" + _NOTES + """
    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural import MultiTaskRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(200, 3)
    >>> Y = np.c_[X @ [1.0, 2.0, 0.0], X @ [1.0, 1.5, 0.5]]
    >>> Y[rng.rand(200) < 0.3, 1] = np.nan
    >>> est = MultiTaskRegressor(hidden_layer_sizes=(), lr=0.05, max_epochs=40,
    ...                          random_state=0).fit(X, Y)
    >>> round(est.score(X, Y), 2)
    1.0
"""

MultiTaskClassifier.__doc__ = """Multi-task neural network for classification tasks.

    :class:`MultiTaskEstimator` whose tasks are classification or binary
    tasks; ``tasks=None`` makes every column a classification task (any
    number of classes, any label type). ``score`` is the mean accuracy over
    the tasks' labelled entries; ``predict_proba`` gives one array per
    column.
""" + _PARAMETERS_DOC.format(inferred="classification") + """
    classes_ : ndarray or list of ndarray
        Class labels, per column of ``Y``.

    See Also
    --------
    MultiTaskEstimator : Mixed task types.
""" + _NOTES + """
    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural import MultiTaskClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(200, 3)
    >>> Y = np.c_[X[:, 0] > 0, X[:, 0] + X[:, 1] > 0].astype(float)
    >>> est = MultiTaskClassifier(hidden_layer_sizes=(16,), lr=0.01, max_epochs=30,
    ...                           random_state=0).fit(X, Y)
    >>> est.score(X, Y) > 0.9
    True
    >>> [p.shape for p in est.predict_proba(X[:5])]
    [(5, 2), (5, 2)]
"""
