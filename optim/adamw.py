"""AdamW (Loshchilov & Hutter 2019): torch.optim.AdamW, tagged for the parameterization engine.

    p <- p - lr * wd * p ;   p <- p - lr * m_hat / (sqrt(v_hat) + eps)

Weight decay is decoupled but coupled to the LR (torch's convention: lr * wd), so wd_mode='independent' divides
the group's wd by its LR multiplier (parameterization.param_groups). Family `adam` (Gupta et al. Table 2: hidden
and readout LR 1/fan_in, input LR constant under mup_spectral).
"""

import torch


class AdamW(torch.optim.AdamW):
    family = 'adam'
    decoupled_wd = True
    shared = ('lr', 'betas', 'fused')  # train.py's keys (optim.SHARED)
    hparams = {}
