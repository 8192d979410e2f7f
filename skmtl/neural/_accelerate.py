"""Opt-in training through Hugging Face Accelerate (several GPUs, mixed precision).

``MultiTaskEstimator(accelerator=Accelerator(...))`` trains an
:class:`AcceleratedMultiTaskNet`: skorch's ``AccelerateMixin`` on top of
:class:`MultiTaskNet`. It is opt-in because an accelerated net has limits a
plain one does not (see the user guide on GPUs): on several processes the
accelerator cannot be pickled or cloned, so such a model cannot go through
``GridSearchCV`` or ``pickle`` while it holds it.
"""

import contextlib

import torch
from skorch.dataset import unpack_data
from skorch.hf import AccelerateMixin
from skorch.utils import to_device

from ._data import n_rows
from ._net import MultiTaskNet
from .weighting._processes import average_gradients

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
    On several processes (``accelerate launch``), each trains on its shard
    of every batch. A strategy whose step is its combined loss
    back-propagated once (``distributed_step == "loss"``: fixed,
    uncertainty, DWA, RLW, FAMO, GLS, STCH, IMTL's loss form) trains through
    ``accelerator.backward``: ``DistributedDataParallel`` averages the
    module's gradients, and the strategy's own learnable parameters (e.g.
    uncertainty's log-variances) are averaged here. A gradient-level
    strategy (``distributed_step == "jacobian"``: PCGrad, MGDA, CAGrad,
    Nash-MTL, UPGrad, IMTL, ...) runs outside ``DistributedDataParallel``'s
    synchronisation: each process computes the task Jacobian of the shared
    parameters on its shard, the Jacobian and the task losses are averaged
    across processes, weighted by each process's labels of each task (one
    all-reduce of ``n_tasks × (n_shared + 2)`` numbers), the strategy
    combines them identically on every process (its random draws, e.g.
    PCGrad's order, are those of the first process), and the other
    parameters' (heads') gradients are reduced once: the update of one
    process on the global batch, also with labels spread unevenly over the
    shards (the loss-level path weights each process equally, as
    ``DistributedDataParallel`` does). GradNorm, MetaWeighting and MGDA-UB
    are refused on several processes by name.
    Strategies that compute gradients in their own ``backward`` are refused
    with ``mixed_precision="fp16"`` (Accelerate's loss scaling would not
    apply to them) and with gradient accumulation. With several processes
    each records the losses of its own shard in its history.
    """

    _TRANSIENT = MultiTaskNet._TRANSIENT + ("train_task_counts_",)

    def compute_device(self):
        return torch.device(self.accelerator.device)

    @property
    def n_processes(self):
        """Number of processes training together (``accelerate launch``)."""
        return self.accelerator.num_processes

    def plain_module(self):
        return self.accelerator.unwrap_model(self.module_)

    def initialize_module(self):
        super().initialize_module()
        strategy = self.weighting_
        if not strategy.uses_gradients:
            return self
        name = type(strategy).__name__
        if self.n_processes > 1 and strategy.distributed_step is None:
            raise ValueError(
                f"weighting {name} cannot train on several processes: its step "
                f"is not a combination of the per-task gradients averaged across "
                f"processes, so each process would take another step. Use a "
                f"strategy that can ({_accelerated_choices()}), or train {name} "
                f"on one process.")
        if getattr(self.accelerator, "scaler", None) is not None:
            raise ValueError(
                f"weighting {name} computes per-task gradients in its own "
                f"backward step, which Accelerate's fp16 loss scaling does not "
                f"reach: under mixed_precision='fp16' {name} would not train as "
                f"it does without it. Use mixed_precision='bf16' or 'no', or a "
                f"strategy whose step is its combined loss.")
        if self.accelerator.gradient_accumulation_steps > 1:
            raise ValueError(
                f"weighting {name} combines the per-task gradients of each "
                f"batch: gradient accumulation "
                f"(gradient_accumulation_steps="
                f"{self.accelerator.gradient_accumulation_steps}) would combine "
                f"the parts of a batch separately. Use a larger batch_size "
                f"instead.")
        return self

    def sum_across_processes(self, tensors):
        """Sums across the processes of a list of tensors (the same shapes on
        every process): one all-reduce per dtype."""
        out = list(tensors)
        by_dtype = {}
        for i, t in enumerate(out):
            by_dtype.setdefault(t.dtype, []).append(i)
        for index in by_dtype.values():
            flat = torch.cat([out[i].detach().reshape(-1) for i in index])
            torch.distributed.all_reduce(flat)
            parts = flat.split([out[i].numel() for i in index])
            for i, part in zip(index, parts):
                out[i] = part.view(out[i].shape)
        return out

    @contextlib.contextmanager
    def same_random_draws(self):
        """Random draws of the first process on every process.

        The first process draws from its generators as it would alone; the
        others draw, inside this context, from copies of its generators'
        states (their own generators are left as they were).
        """
        device = self.compute_device()
        states = [torch.get_rng_state()]
        if device.type == "cuda":
            states.append(torch.cuda.get_rng_state(device))
        sizes = [len(state) for state in states]
        on = device if torch.distributed.get_backend() == "nccl" else "cpu"
        flat = torch.cat(states).to(on)
        torch.distributed.broadcast(flat, src=0)
        if self.accelerator.process_index == 0:
            yield
            return
        states = flat.cpu().split(sizes)
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.set_rng_state(states[0])
            if device.type == "cuda":
                torch.cuda.set_rng_state(states[1], device)
            yield

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
        strategy = self.weighting_
        if strategy.uses_gradients and self.n_processes > 1:
            # the strategy averages what it needs itself (the task Jacobian),
            # so DistributedDataParallel must not average the result again
            with self.accelerator.no_sync(self.module_):
                return self._train_step(batch, **fit_params)
        return self._train_step(batch, **fit_params)

    def _train_step(self, batch, **fit_params):
        self._set_mode(True)
        Xi, yi = unpack_data(batch)
        self.train_batch_ = (Xi, yi)  # for strategies that look at it after the step
        strategy = self.weighting_
        with self.accelerator.autocast():
            y_pred = self.infer(Xi, **fit_params)
            losses, counts = self.get_task_losses(y_pred, yi, X=Xi, training=True)
            task_losses = self._record("train", losses, counts, n_rows(Xi))
            if self.n_processes > 1:
                # each task's labelled entries in this process's shard: its
                # share of the global batch's task means
                self.train_task_counts_ = (
                    torch.full_like(task_losses, n_rows(Xi)) if counts is None
                    else counts.detach())
            penalty = self._penalty()
            if not strategy.uses_gradients:
                loss = strategy.combine(losses, training=True)
                if penalty is not None:
                    loss = loss + penalty
        if strategy.uses_gradients:
            loss = strategy.backward(losses, self, penalty=penalty)
        else:
            self.accelerator.backward(loss)
            # DistributedDataParallel averages the module's gradients; the
            # strategy's learnable parameters (not wrapped) are averaged here
            average_gradients(self, strategy.parameters())
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
    """Names of the registered strategies that train on several processes."""
    from .weighting import WEIGHTINGS

    names = []
    for name, strategy in sorted(WEIGHTINGS.items()):
        try:
            if strategy().distributed_step is not None:
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
