"""
Whole-tensor optimizers under torchrun: each parameter has one owner rank that runs the optimizer on the full
matrix; the other ranks receive the result.

Elementwise optimizers (AdamW, Sophia, ADOPT, ...) need nothing from this file: under DDP every rank holds the same
all-reduced gradient and runs the same update, under FSDP2 they act on their DTensor shards. Optimizers whose
update needs a whole tensor -- an eigendecomposition of G G^T (SPlus, Shampoo, SOAP), Newton-Schulz (Muon), a
Kronecker preconditioner (PSGD), a norm (LAMB's trust ratio, Adafactor's factored moments and RMS clipping,
Adam+PS's RMS(W)) -- declare `needs_full_tensors = True`, and train.py wraps them in `OwnerOptimizer`:

    DDP    the owner of p runs the wrapped optimizer on p (the others set p.grad aside for the step), then p is
           broadcast from its owner. Expensive work is split across ranks (SPlus §5.1), each rank keeps the
           optimizer state of the parameters it owns only (ZeRO-1 style).
    FSDP2  the wrapped optimizer is built over full-size "proxy" tensors, allocated on each parameter's owner
           only. Per step: the gradient shards and parameter shards are gathered into the owner (dist.gather of
           FSDP2's padded chunks: one copy of each tensor travels, to one rank), the owner steps its proxies, and a
           dist.scatter sends every rank its shard of the new parameter back.

Owners: greedy longest-processing-time assignment by cost m*n*(m+n) (the eigendecomposition / matmul work of an
(m, n) matrix; vectors cost their size), so ranks get about the same work. Deterministic from the shapes, so every
rank computes the same table without talking.

Checkpoints: `state_dict()` gathers every owner's states into one single-device state dict (same format as the
unwrapped optimizer's), so a checkpoint written by N ranks loads in 1 process and vice versa; `load_state_dict()`
keeps the states of the parameters this rank owns.

Collectives are issued for every parameter in param-group order on every rank, so all ranks must call step(),
eval(), train() and state_dict() together (train.py does).
"""

import torch
import torch.distributed as dist


def is_dtensor(t):
    return hasattr(t, 'device_mesh') and hasattr(t, 'full_tensor')


def full_tensor(t):
    """The whole tensor on every rank: a DTensor's all-gather, or t itself. A collective for DTensors."""
    return t.full_tensor() if is_dtensor(t) else t


def _row_sharded(t):
    """True for an FSDP2 parameter / gradient: a DTensor sharded on dim 0 over a mesh of every rank."""
    from torch.distributed.tensor import Shard
    return (is_dtensor(t) and len(t.placements) == 1 and t.placements[0] == Shard(0)
            and t.device_mesh.size() == dist.get_world_size())


@torch.no_grad()
def gather_to(t, dst):
    """The whole of a row-sharded DTensor on rank dst only (None elsewhere): each rank sends its shard, padded to
    FSDP2's chunk size ceil(rows / ranks) (torch.chunk layout: shard r holds rows r*c ... r*c + len_r), so the
    traffic is one copy of the tensor into one rank instead of one into every rank (all-gather)."""
    if not _row_sharded(t):
        full = full_tensor(t)
        return full if dist.get_rank() == dst else None
    local, n, rows = t.to_local(), dist.get_world_size(), t.shape[0]
    c = -(-rows // n)
    padded = local.new_zeros((c, *t.shape[1:]))
    padded[:local.shape[0]] = local
    parts = [torch.empty_like(padded) for _ in range(n)] if dist.get_rank() == dst else None
    dist.gather(padded, parts, dst=dst)
    return torch.cat(parts)[:rows] if parts is not None else None


@torch.no_grad()
def scatter_from(full, p, src):
    """Rank src's whole tensor `full` into every rank's shard of the row-sharded DTensor p (the inverse of
    gather_to: padded chunks, one scatter)."""
    if not _row_sharded(p):
        if full is None:
            full = torch.empty(p.shape, dtype=p.dtype, device=p.to_local().device)
        new = torch.distributed.tensor.distribute_tensor(full, p.device_mesh, p.placements, src_data_rank=src)
        p.to_local().copy_(new.to_local())
        return
    local, n, rows = p.to_local(), dist.get_world_size(), p.shape[0]
    c = -(-rows // n)
    out = local.new_empty((c, *p.shape[1:]))
    parts = None
    if dist.get_rank() == src:
        padded = full.new_zeros((c * n, *p.shape[1:]))
        padded[:rows] = full
        parts = list(padded.to(local.dtype).chunk(n))
    dist.scatter(out, parts, src=src)
    local.copy_(out[:local.shape[0]])


def assign_owners(shapes, world_size):
    """Owner rank of each shape: largest cost first onto the least-loaded rank (ties -> lowest rank)."""
    def cost(shape):
        if len(shape) == 2:
            m, n = shape
            return m * n * (m + n)
        n = 1
        for d in shape:
            n *= d
        return n
    load = [0] * world_size
    owners = [0] * len(shapes)
    for i in sorted(range(len(shapes)), key=lambda i: (-cost(shapes[i]), i)):
        r = min(range(world_size), key=lambda r: (load[r], r))
        owners[i] = r
        load[r] += cost(shapes[i])
    return owners


class OwnerOptimizer:
    """Wraps an optimizer built by `build(groups)` so that each parameter is updated by its owner rank only.

    Exposes what train.py uses: param_groups (the wrapped optimizer's, so LR schedules work), step, zero_grad,
    state_dict / load_state_dict in single-device format, and eval / train for eval-time weights (SPlus's EMA).
    """

    def __init__(self, build, groups, rank, world_size):
        self.rank, self.world_size = rank, world_size
        self.params = [p for g in groups for p in g['params']]  # the model's parameters, in group order
        self.sharded = any(is_dtensor(p) for p in self.params)
        self.owners = assign_owners([tuple(p.shape) for p in self.params], world_size)
        if self.sharded:
            # proxies: full-size plain tensors on the owner, an empty placeholder elsewhere (keeps group layout)
            self.proxies = [torch.zeros(p.shape, dtype=p.dtype, device=p.to_local().device) if o == rank else
                            torch.empty(0, dtype=p.dtype, device=p.to_local().device)
                            for p, o in zip(self.params, self.owners)]
            it = iter(self.proxies)
            groups = [dict(g, params=[next(it) for _ in g['params']]) for g in groups]
        self.inner = build(groups)

    @property
    def param_groups(self):
        return self.inner.param_groups

    @property
    def state(self):
        return self.inner.state

    def owned(self, i):
        return self.owners[i] == self.rank

    # --- moving tensors between the model and the owners -------------------------------------------------------
    def _pull(self, grads=True):
        """FSDP: gather full parameters (and gradients) into the owners' proxies. Every rank takes part."""
        for i, (p, q) in enumerate(zip(self.params, self.proxies)):
            w = gather_to(p.data, self.owners[i])
            g = gather_to(p.grad, self.owners[i]) if grads and p.grad is not None else None
            if self.owned(i):
                q.copy_(w)
                q.grad = g.to(q.dtype) if g is not None else None

    @torch.no_grad()
    def _push(self):
        """New parameter values from their owners to every rank (a broadcast, or the shards of a scatter)."""
        for i, p in enumerate(self.params):
            src = self.owners[i]
            if not self.sharded:
                dist.broadcast(p.data, src=src)
                continue
            scatter_from(self.proxies[i] if self.owned(i) else None, p, src)

    # --- the optimizer interface --------------------------------------------------------------------------------
    @torch.no_grad()
    def step(self, closure=None):
        assert closure is None, "OwnerOptimizer.step() takes no closure"
        if self.sharded:
            self._pull()
            self.inner.step()
            for q in self.proxies:
                q.grad = None
        else:
            kept = [p.grad for p in self.params]
            for i, p in enumerate(self.params):
                if not self.owned(i):
                    p.grad = None  # the wrapped optimizer skips parameters without a gradient
            self.inner.step()
            for p, g in zip(self.params, kept):
                p.grad = g
        self._push()

    def zero_grad(self, set_to_none=True):
        for p in self.params:
            p.grad = None if set_to_none else (p.grad.zero_() if p.grad is not None else None)

    @torch.no_grad()
    def eval(self):
        if hasattr(self.inner, 'eval'):
            if self.sharded:
                self._pull(grads=False)  # proxies hold the live weights the swap saves
            self.inner.eval()
            self._push()

    @torch.no_grad()
    def train(self):
        if hasattr(self.inner, 'train'):
            self.inner.train()
            self._push()

    def state_dict(self):
        """The single-device state dict: every owner's per-parameter states merged (all ranks take part)."""
        sd = self.inner.state_dict()
        mine = {k: v for k, v in sd['state'].items() if self.owned(k)}
        gathered = [None] * self.world_size
        dist.all_gather_object(gathered, {k: _to_cpu(v) for k, v in mine.items()})
        state = {}
        for part in gathered:
            state.update(part)
        return dict(state=dict(sorted(state.items())), param_groups=sd['param_groups'])

    def load_state_dict(self, state_dict):
        """Load a single-device state dict; this rank keeps the states of the parameters it owns."""
        kept = {k: v for k, v in state_dict['state'].items() if self.owned(k)}
        self.inner.load_state_dict(dict(state_dict, state=kept))


def _to_cpu(obj):
    """State values as CPU tensors (for all_gather_object), nested lists/dicts included."""
    if torch.is_tensor(obj):
        return obj.detach().cpu()
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_cpu(v) for v in obj)
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    return obj
