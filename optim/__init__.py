"""
Optimizer registry: config name -> class. Every class is a torch.optim.Optimizer that

- reads lr / eps / weight_decay (and its own hyperparameters) from each param group on every step, so the
  per-group multipliers of parameterization.param_groups and the LR schedule reach it;
- declares `family` (sgd | adam | adafactor | invariant): how its update scales with the gradient and parameter
  scale, which is all the parameterization engine needs to derive LR exponents (Everett et al. Table 2);
- declares `decoupled_wd`: True when weight decay is applied as p -= lr * wd * p (AdamW), False for L2 in the
  gradient (SGD, Adam); wd_mode='independent' needs the former;
- builds itself from the run config with `from_config(groups, cfg)`.

Adding an optimizer: write optim/<name>.py in that shape and add one line to REGISTRY.
"""

import difflib

from optim.adam import Adam
from optim.adamw import AdamW
from optim.sgd import SGD

REGISTRY = {
    'sgd': SGD,
    'adam': Adam,
    'adamw': AdamW,
    # (registry line: adam_atan2)
    # (registry line: adopt)
    # (registry line: schedulefree_adamw)
    # (registry line: lamb)
}


def get_optimizer_class(name):
    if name not in REGISTRY:
        close = difflib.get_close_matches(name, REGISTRY, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ''
        raise ValueError(f"unknown optimizer '{name}'{hint}: choose one of {', '.join(REGISTRY)}")
    return REGISTRY[name]


def build_optimizer(name, groups, cfg):
    """The optimizer for these param groups; hyperparameters it needs come from the run config dict."""
    return get_optimizer_class(name).from_config(groups, cfg)


def uses_fused(groups, cfg):
    """torch's fused (single-kernel) implementation whenever every parameter lives on CUDA."""
    return cfg.get('fused', True) and all(p.is_cuda for g in groups for p in g['params'])
