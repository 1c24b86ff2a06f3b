"""
torchrun plumbing: process-group setup, rank-0 printing, and the few collectives train.py needs.

One device is the degenerate case: without torchrun's RANK variable nothing is initialised and every helper is a
no-op, so train.py has a single code path.
"""

import os

import torch
import torch.distributed as dist


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


def cleanup():
    if dist.is_initialized():
        dist.destroy_process_group()
