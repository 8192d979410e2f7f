"""Opt-in training through Hugging Face Accelerate (several GPUs, mixed precision).

``MultiTaskEstimator(accelerator=Accelerator(...))`` trains an
:class:`AcceleratedMultiTaskNet`: skorch's ``AccelerateMixin`` on top of
:class:`MultiTaskNet`. It is opt-in because an accelerated net has limits a
plain one does not (see the user guide on GPUs): on several processes the
accelerator cannot be pickled or cloned, so such a model cannot go through
``GridSearchCV`` or ``pickle`` while it holds it.
"""

import torch
from skorch.dataset import unpack_data
from skorch.hf import AccelerateMixin
from skorch.utils import to_device

from ._data import n_rows
from ._net import MultiTaskNet

__all__ = ["AcceleratedMultiTaskNet", "accelerated_net_kwargs", "require_accelerate"]


def require_accelerate():
    """Import ``accelerate`` or raise an ImportError naming the extra to install."""
    try:
        import accelerate
    except ImportError as exc:
        raise ImportError(
            "accelerator= needs Hugging Face Accelerate, which is not installed: "
            "pip install 'skmtl[accelerate]' (or pip install accelerate).") from exc
    return accelerate


class AcceleratedMultiTaskNet(AccelerateMixin, MultiTaskNet):
    """:class:`MultiTaskNet` trained through an ``accelerate.Accelerator``.

    The accelerator prepares the module, the optimizer and the training
    data loader (so with ``accelerate launch`` each process trains on its
    shard and gradients are averaged across GPUs) and runs the forward pass
    under its autocast (mixed precision). Each step records the per-task
    losses as :class:`MultiTaskNet` does and back-propagates the weighted
    joint loss (plus the architecture's penalty) with
    ``accelerator.backward``. After training the module is unwrapped
    (``unwrap_after_train=True``), so prediction runs on the plain module,
    batch by batch on the accelerator's device, in the calling process.

    Parameters
    ----------
    accelerator : accelerate.Accelerator
    device : None
        Leave None: the accelerator places tensors.
    **kwargs
        As :class:`MultiTaskNet`.

    Notes
    -----
    Only the weighting strategies whose step is their combined loss
    back-propagated once (``uses_gradients`` False: fixed, uncertainty,
    DWA, RLW, FAMO, GLS, STCH, IMTL's loss form) train under an
    accelerator, exactly as without one; the others are refused by name
    when the net is initialized. Gradient-level strategies, GradNorm and
    MetaWeighting compute per-task gradients with ``torch.autograd.grad`` in
    their own ``backward``, outside the accelerator's gradient
    synchronisation and loss scaling. With several processes each records
    the losses of its own shard in its history.
    """

    def compute_device(self):
        return torch.device(self.accelerator.device)

    def initialize_module(self):
        super().initialize_module()
        if self.weighting_.uses_gradients:
            name = type(self.weighting_).__name__
            raise ValueError(
                f"weighting {name} computes per-task gradients in its own "
                f"backward step, which Accelerate neither synchronises across "
                f"processes nor scales for mixed precision: under accelerator= "
                f"{name} would not train as it does without one. Use a strategy "
                f"whose step is its combined loss ({_accelerated_choices()}), or "
                f"train {name} without accelerator=.")
        return self

    def _initialize_accelerator(self):
        # the strategy is placed on the accelerator's device by
        # initialize_module; prepared, it would be wrapped (DistributedDataParallel
        # on several processes), which hides its methods
        modules = self._modules
        self._modules = [name for name in modules if name != "weighting"]
        try:
            return super()._initialize_accelerator()
        finally:
            self._modules = modules

    def infer(self, x, **fit_params):
        # training batches come placed by the prepared data loader; prediction
        # batches (plain iterator, see predict_raw) are moved here
        return super().infer(to_device(x, self.compute_device()), **fit_params)

    def train_step_single(self, batch, **fit_params):
        self._set_mode(True)
        Xi, yi = unpack_data(batch)
        self.train_batch_ = (Xi, yi)  # for strategies that look at it after the step
        with self.accelerator.autocast():
            y_pred = self.infer(Xi, **fit_params)
            losses, counts = self.get_task_losses(y_pred, yi, X=Xi, training=True)
            task_losses = self._record("train", losses, counts, n_rows(Xi))
            loss = self.weighting_.combine(losses, training=True)
            penalty = self._penalty()
            if penalty is not None:
                loss = loss + penalty
        self.accelerator.backward(loss)
        return {"loss": loss, "y_pred": y_pred, "task_losses": task_losses}

    def get_iterator(self, dataset, training=False):
        if getattr(self, "_predicting", False):
            # every row predicted in this process (no sharding across GPUs)
            return MultiTaskNet.get_iterator(self, dataset, training=training)
        return super().get_iterator(dataset, training=training)

    def predict_raw(self, X):
        self._predicting = True
        try:
            return super().predict_raw(X)
        finally:
            self._predicting = False


def _accelerated_choices():
    """Names of the registered strategies that train under an accelerator."""
    from .weighting import WEIGHTINGS

    names = []
    for name, strategy in sorted(WEIGHTINGS.items()):
        try:
            if not strategy().uses_gradients:
                names.append(repr(name))
        except TypeError:  # a registered class that needs arguments
            continue
    return ", ".join(names)


def accelerated_net_kwargs(accelerator, verbose, net_kwargs):
    """(net class, device, extra kwargs) for training through ``accelerator``."""
    require_accelerate()
    extra = {"accelerator": accelerator}
    if not verbose:
        # skorch's PrintLog is silenced by verbose=0 only with the print sink
        extra["callbacks__print_log__sink"] = print
    # Accelerate shards and places DataLoaders; it passes other iterators
    # through untouched, so the slicing BatchIterator is replaced here.
    for key in ("iterator_train", "iterator_valid"):
        if key not in net_kwargs:
            extra[key] = torch.utils.data.DataLoader
    return AcceleratedMultiTaskNet, None, extra
