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
from .weighting._processes import global_task_losses, same_random_draws

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
    of every batch, and every step is the step of one process on the
    global batch (all the shards), also with labels spread unevenly over
    the shards: each process's task means count by its labelled entries
    of each task.

    * A strategy whose step is its combined loss back-propagated once
      (``distributed_step == "loss"``: fixed, uncertainty, DWA, RLW, FAMO,
      GLS, STCH, IMTL's loss form) combines the global batch's task losses
      (one all-reduce of ``2 n_tasks`` numbers), the same on every process,
      and each process back-propagates its part of that combination
      through ``accelerator.backward`` (``DistributedDataParallel``
      averages the module's gradients); the strategy's own parameters get
      their gradient from the global combination.
    * A gradient-level strategy (``distributed_step == "jacobian"``:
      PCGrad, MGDA, CAGrad, Nash-MTL, UPGrad, IMTL, ...) runs outside
      ``DistributedDataParallel``'s synchronisation: each process computes
      the task Jacobian of the shared parameters on its shard, the Jacobian
      and the task losses of all the shards are summed (one all-reduce of
      ``n_tasks × (n_shared + 2)`` numbers), the strategy combines them
      identically on every process, and the other parameters' (heads')
      gradients are reduced once.
    * Random draws of a strategy (RLW's weights, PCGrad's order) are those
      of the first process.
    * The representation form (``on="representation"``, MGDA-UB) sums the
      Gram matrix of the tasks' gradients of each shard's representation
      across processes (``n_tasks²`` numbers), each process back-propagates
      the combination's rows of its shard, and the shared parameters'
      gradients are summed.

    GradNorm, MetaWeighting and the representation forms of GradDrop,
    DB-MTL and ExcessMTL are refused on several processes by name.

    Strategies that compute gradients in their own ``backward`` are refused
    with ``mixed_precision="fp16"`` (Accelerate's loss scaling would not
    apply to them) and with gradient accumulation. With several processes
    the per-task losses in the history are those of all the shards (the same
    on every process); skorch's ``train_loss`` is each process's own.
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
            if strategy.get_params().get("on", "parameters") != "parameters":
                raise ValueError(
                    f"weighting {name}(on={strategy.on!r}) cannot train on "
                    f"several processes: its combination reads the per-sample "
                    f"gradients of each shard's representation themselves, not "
                    f"only their Gram matrix (which sums across processes). Use "
                    f"{name}(on='parameters') there (its task Jacobian is "
                    f"averaged across processes).")
            raise ValueError(
                f"weighting {name} cannot train on several processes: its step "
                f"is not a combination of the per-task gradients averaged across "
                f"processes, so each process would take another step. Use a "
                f"strategy that can ({_accelerated_choices()}), or train {name} "
                f"on one process.")
        sharded = getattr(self.accelerator.distributed_type, "value", None)
        if self.n_processes > 1 and sharded in _SHARDED:
            raise ValueError(
                f"weighting {name} computes per-task gradients of the shared "
                f"parameters, which {sharded} shards across processes: it "
                f"trains on several processes with plain data parallelism "
                f"(accelerate launch --multi_gpu) only. Use it without "
                f"{sharded}, or a strategy whose step is its combined loss.")
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
        several = self.n_processes > 1
        with self.accelerator.autocast():
            y_pred = self.infer(Xi, **fit_params)
            losses, counts = self.get_task_losses(y_pred, yi, X=Xi, training=True)
            task_losses = self._record("train", losses, counts, n_rows(Xi))
            if several:
                # each task's labelled entries in this process's shard: its
                # share of the global batch's task means
                self.train_task_counts_ = (
                    torch.full_like(task_losses, n_rows(Xi)) if counts is None
                    else counts.detach())
            penalty = self._penalty()
            if not (strategy.uses_gradients or several):
                loss = strategy.combine(losses, training=True)
                if penalty is not None:
                    loss = loss + penalty
        if strategy.uses_gradients:
            loss = strategy.backward(losses, self, penalty=penalty)
        elif several:
            loss = self._global_loss_step(losses, penalty)
        else:
            self.accelerator.backward(loss)
        return {"loss": loss, "y_pred": y_pred, "task_losses": task_losses}

    def _global_loss_step(self, losses, penalty):
        """A loss-level strategy's step of the global batch, on each process.

        The strategy combines the global batch's task losses (the same on
        every process, its random draws the first process's), and each
        process back-propagates its part of the combination's
        linearization, ``sum_k dC/dL_k * n_processes * share_k * L_k`` of
        its shard, which ``DistributedDataParallel`` averages: the gradient
        of the combination of the global batch's losses, whether the
        combination is linear or not (GLS, STCH, FAMO), and with labels
        spread unevenly over the shards. The strategy's own parameters get
        their gradient from the global combination itself.
        """
        global_losses, shares = global_task_losses(self, losses)
        global_losses.requires_grad_()
        with same_random_draws(self):
            total = self.weighting_.combine(global_losses, training=True)
        (slopes,) = torch.autograd.grad(total, global_losses, retain_graph=True,
                                        allow_unused=True)
        if slopes is None:
            slopes = torch.zeros_like(global_losses)
        part = (slopes * shares * self.n_processes * losses).sum()
        # total: the gradient of the strategy's parameters (none of the
        # module's); the penalty is the same on every process
        objective = part + total - total.detach()
        if penalty is not None:
            objective = objective + penalty
        self.accelerator.backward(objective)
        return total.detach() if penalty is None else total.detach() + penalty.detach()

    def batch_task_losses(self, X, y, parameters=None, training=True):
        """As :meth:`MultiTaskNet.batch_task_losses`; on several processes,
        ``X, y`` being each process's shard, the task losses of all the
        shards together (without gradient, the same on every process)."""
        if self.n_processes <= 1:
            return super().batch_task_losses(X, y, parameters=parameters,
                                             training=training)
        losses, counts = self._batch_losses_and_counts(X, y, parameters, training)
        if counts is None:
            counts = torch.full_like(losses, n_rows(X))
        return global_task_losses(self, losses, counts.detach())[0]

    def on_epoch_end(self, net, **kwargs):
        if self.n_processes > 1:
            # the epoch's task losses of all the shards: the history and the
            # strategies that learn from them (DWA) see the global means
            for sums in self.epoch_sums_.values():
                rows = torch.tensor([float(sums[3])], device=sums[0].device)
                *sums[:3], rows = self.sum_across_processes(sums[:3] + [rows])
                sums[3] = int(round(float(rows)))
        super().on_epoch_end(net, **kwargs)

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


# Accelerate's distributed types that shard or compile the parameters away
# from the module's tensors: no per-task Jacobian there
_SHARDED = ("DEEPSPEED", "FSDP", "XLA", "MEGATRON_LM")


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
