"""SGD with (optionally Nesterov) momentum: torch.optim.SGD, tagged for the parameterization engine.

    b_t = mu * b_{t-1} + (g_t + wd * p)        (dampening 0)
    p  <- p - lr * (g_t + mu * b_t if nesterov else b_t)

Family `sgd`: the update scales with the gradient, so LR exponents include the gradient exponents (Everett Table 2).
Weight decay is L2 (added to the gradient), so decoupled_wd is False.
"""

import torch


class SGD(torch.optim.SGD):
    family = 'sgd'
    decoupled_wd = False
    shared = ('lr', 'momentum', 'nesterov', 'fused')  # train.py's keys (optim.SHARED)
    hparams = {}
