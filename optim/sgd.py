"""SGD with (optionally Nesterov) momentum: torch.optim.SGD, tagged for the parameterization engine.

    b_t = mu * b_{t-1} + (g_t + wd * p)        (dampening 0)
    p  <- p - lr * (g_t + mu * b_t if nesterov else b_t)

Family `sgd`: the update scales with the gradient, so LR exponents include the gradient exponents (Everett Table 2).
Weight decay is L2 (added to the gradient), so decoupled_wd is False.
"""

import torch

from optim.distributed import is_dtensor


class SGD(torch.optim.SGD):
    family = 'sgd'
    decoupled_wd = False
    shared = ('lr', 'momentum', 'nesterov', 'fused')  # train.py's keys (optim.SHARED)
    hparams = {}

    def __init__(self, params, *args, fused=None, **kwargs):
        params = list(params)
        tensors = [p for g in params for p in (g['params'] if isinstance(g, dict) else [g])]
        if fused and any(is_dtensor(p) for p in tensors):
            fused = None  # torch has no DTensor (FSDP2) rule for the fused SGD kernel; its loop is bitwise the same
        super().__init__(params, *args, fused=fused, **kwargs)
