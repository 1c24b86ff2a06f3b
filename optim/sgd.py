"""SGD with (optionally Nesterov) momentum: torch.optim.SGD, tagged for the parameterization engine.

    b_t = mu * b_{t-1} + (g_t + wd * p)        (dampening 0)
    p  <- p - lr * (g_t + mu * b_t if nesterov else b_t)

Family `sgd`: the update scales with the gradient, so LR exponents include the gradient exponents (Everett Table 2).
Weight decay is L2 (added to the gradient), so decoupled_wd is False.
"""

import torch

import optim


class SGD(torch.optim.SGD):
    family = 'sgd'
    decoupled_wd = False

    @classmethod
    def from_config(cls, groups, cfg):
        return cls(groups, lr=cfg['learning_rate'], momentum=cfg.get('momentum', 0.9),
                   nesterov=cfg.get('nesterov', False) and cfg.get('momentum', 0.9) > 0,
                   fused=optim.uses_fused(groups, cfg) or None)
