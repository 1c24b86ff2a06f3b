"""
torchrun plumbing: process-group setup, rank-0 printing, and the few collectives train.py needs.

One device is the degenerate case: without torchrun's RANK variable nothing is initialised and every helper is a
no-op, so train.py has a single code path.
"""

import os
import sys

import torch
import torch.distributed as dist

from optim.distributed import is_dtensor


def setup(device):
    """(ddp, rank, local_rank, world_size, device) from torchrun's environment."""
    if int(os.environ.get('RANK', -1)) == -1:
        return False, 0, 0, 1, device
    rank, local_rank, world_size = (int(os.environ[k]) for k in ('RANK', 'LOCAL_RANK', 'WORLD_SIZE'))
    if device.startswith('cuda'):
        device = f'cuda:{local_rank}'
        torch.cuda.set_device(device)
    dist.init_process_group(backend='nccl' if device.startswith('cuda') else 'gloo')
    return True, rank, local_rank, world_size, device


def is_master():
    return not dist.is_initialized() or dist.get_rank() == 0


def print0(*args, **kwargs):
    if is_master():
        print(*args, **kwargs, flush=True)


def broadcast_floats(values, device):
    """Rank 0's list of floats on every rank (eval results and stop decisions made on rank 0)."""
    if not dist.is_initialized():
        return values
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.broadcast(t, src=0)
    return t.tolist()


def any_rank(flag, device):
    """True on every rank if flag is True on any rank (e.g. one rank saw a non-finite loss)."""
    if not dist.is_initialized():
        return flag
    t = torch.tensor([float(flag)], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def finish():
    """End a torchrun process: wait for every rank, tear the group down and exit with status 0 without the
    interpreter's finalization (a no-op on one device, where the script ends normally).

    Why no finalization: after destroy_process_group, objects that still reference the gloo group (the device mesh,
    DTensors, finished work handles) are destroyed while Python shuts down, and that can abort the process
    ("terminate called without an active exception", SIGABRT, no Python frame) although the run is complete: 4 of 80
    runs of a small 2-rank FSDP2 program on a loaded 2-core machine (tests/test_distributed.py), and once in the
    test suite. PyTorch discusses the same abort in pytorch/pytorch PR #179291. Every file is closed before this is
    called, so nothing is lost by skipping finalization."""
    if not dist.is_initialized():
        return
    dist.barrier()  # no rank tears the group down while another still writes (gloo aborts otherwise)
    dist.destroy_process_group()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


# -----------------------------------------------------------------------------
# checkpoints in single-device format, whatever the parallelism: a run written by N ranks loads on 1 and back.
# Under FSDP2 parameters and elementwise optimizer states are DTensor shards; these gather them (collectives:
# every rank calls them, in the same order) and scatter them back on load. Whole-tensor optimizers
# (optim.distributed.OwnerOptimizer) gather their owners' states themselves.

def _gather_full(obj):
    """obj with every DTensor replaced by the full tensor (on the CPU), nested containers included."""
    if is_dtensor(obj):
        return obj.full_tensor().cpu()
    if isinstance(obj, dict):
        return {k: _gather_full(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_gather_full(v) for v in obj)
    return obj


def full_model_state(module):
    """module.state_dict() with DTensor shards gathered into full tensors."""
    return _gather_full(module.state_dict())


def load_full_model_state(module, state):
    """Load a full (single-device) state dict into a module whose tensors may be DTensor shards: each rank cuts
    its own shard from the full tensor it read (no communication)."""
    from torch.distributed.tensor import distribute_tensor
    own = module.state_dict()
    fixed = {}
    for k, v in state.items():
        t = own.get(k)
        if t is not None and is_dtensor(t):
            v = distribute_tensor(v.to(t.to_local().device, t.dtype), t.device_mesh, t.placements, src_data_rank=None)
        fixed[k] = v
    module.load_state_dict(fixed)


def full_optimizer_state(optimizer):
    """optimizer.state_dict() in single-device format (DTensor states gathered; owners' states merged)."""
    if hasattr(optimizer, 'inner'):  # OwnerOptimizer: gathers its owners' states itself
        return optimizer.state_dict()
    return _gather_full(optimizer.state_dict())


def load_full_optimizer_state(optimizer, state):
    """Load a single-device optimizer state dict: states shaped like a DTensor parameter become shards of it."""
    if hasattr(optimizer, 'inner'):
        return optimizer.load_state_dict(state)
    from torch.distributed.tensor import distribute_tensor
    params = [p for g in optimizer.param_groups for p in g['params']]

    def shard_like(p, v):
        if is_dtensor(p) and torch.is_tensor(v) and tuple(v.shape) == tuple(p.shape) and v.dim() > 0:
            return distribute_tensor(v.to(p.to_local().device), p.device_mesh, p.placements, src_data_rank=None)
        if isinstance(v, (list, tuple)):
            return type(v)(shard_like(p, x) for x in v)
        return v
    states = {i: {k: shard_like(params[i], v) for k, v in s.items()} for i, s in state['state'].items()}
    optimizer.load_state_dict(dict(state, state=states))


def gather_objects(obj):
    """[obj of rank 0, obj of rank 1, ...] on every rank ([obj] on one device)."""
    if not dist.is_initialized():
        return [obj]
    out = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out


def all_mean(t):
    """Mean of a tensor over ranks (t itself on one device)."""
    if not dist.is_initialized():
        return t
    t = t.clone()
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t / dist.get_world_size()
