"""Adam (Kingma & Ba 2014): torch.optim.Adam, tagged for the parameterization engine.

    m_t = b1 m + (1 - b1) g,   v_t = b2 v + (1 - b2) g^2,   p <- p - lr * m_hat / (sqrt(v_hat) + eps)

with g += wd * p (L2, so decoupled_wd is False). Family `adam`: the update scale is the LR whatever the gradient
scale. eps is read per group, so the per-layer epsilon of Everett §4.3 applies.
"""

import torch


class Adam(torch.optim.Adam):
    family = 'adam'
    decoupled_wd = False
    shared = ('lr', 'betas', 'fused')  # train.py's keys (optim.SHARED)
    hparams = {}
