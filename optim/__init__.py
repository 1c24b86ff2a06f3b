"""
Optimizer registry: config name -> class. Every class is a torch.optim.Optimizer that

- reads lr / eps / weight_decay (and its own hyperparameters) from each param group on every step, so the
  per-group multipliers of parameterization.param_groups and the LR schedule reach it;
- declares `family` (sgd | adam | adafactor | invariant): how its update scales with the gradient and parameter
  scale, which is all the parameterization engine needs to derive LR exponents (Everett et al. Table 2);
  optionally `role_family` ({role: family}) for roles it updates by another rule (Muon's auxiliary AdamW);
- declares `decoupled_wd`: True when weight decay is applied as p -= lr * wd * p (AdamW), False for L2 in the
  gradient (SGD, Adam); wd_mode='independent' needs the former. A callable(cfg) when a flag decides it;
- declares `hparams`: {config key: default} for its own hyperparameters. Keys start with the config name
  (`sophia_rho`); train.py makes them config globals, so `--sophia_rho=0.05` works and typos are caught.
  Shared keys (learning_rate, beta1, beta2, momentum, nesterov, eps via the groups, weight_decay via the groups)
  are train.py's own;
- builds itself from the run config with `from_config(groups, cfg)`; cfg also carries `tokens_per_iter`.

- declares `needs_full_tensors = True` when its update needs whole tensors (eigendecompositions, Newton-Schulz,
  norms): under torchrun train.py then wraps it in optim.distributed.OwnerOptimizer (one owner rank per tensor).
  Elementwise optimizers run unchanged on every rank (DDP) or on their DTensor shards (FSDP2).

Optional hooks train.py calls when present: `eval()` / `train()` around evaluation (eval-time weights),
`hessian_due()` + `update_hessian()` (Sophia: an extra forward/backward on sampled labels).

Adding an optimizer: write optim/<name>.py in that shape and add one line to REGISTRY ('module:Class', imported
on first use so a broken or heavy optimizer file never breaks the others).
"""

import difflib
import importlib

REGISTRY = {
    'sgd': 'optim.sgd:SGD',
    'adam': 'optim.adam:Adam',
    'adamw': 'optim.adamw:AdamW',
    'adam_atan2': 'optim.adam_atan2:AdamAtan2',
    'adam_ps': 'optim.adam_ps:AdamPS',
    'adafactor': 'optim.adafactor:Adafactor',
    'adopt': 'optim.adopt:ADOPT',
    'lamb': 'optim.lamb:LAMB',
    'sophia': 'optim.sophia:SophiaG',
    'splus': 'optim.splus:SPlus',
    'shampoo': 'optim.shampoo:Shampoo',
    'soap': 'optim.soap:SOAP',
    'psgd': 'optim.psgd:PSGDKron',
    'muon': 'optim.muon:Muon',
    'schedulefree_adamw': 'optim.schedulefree_adamw:ScheduleFreeAdamW',
}


def get_optimizer_class(name):
    if name not in REGISTRY:
        close = difflib.get_close_matches(name, REGISTRY, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ''
        raise ValueError(f"unknown optimizer '{name}'{hint}: choose one of {', '.join(REGISTRY)}")
    module, cls = REGISTRY[name].split(':')
    return getattr(importlib.import_module(module), cls)


def build_optimizer(name, groups, cfg):
    """The optimizer for these param groups; hyperparameters it needs come from the run config dict."""
    return get_optimizer_class(name).from_config(groups, cfg)


def hparam_defaults():
    """{key: default} of every optimizer's own hyperparameters (config globals of train.py)."""
    out = {}
    for name in REGISTRY:
        for key, value in getattr(get_optimizer_class(name), 'hparams', {}).items():
            assert key.startswith(name + '_'), f"optim/{name}: hyperparameter '{key}' must start with '{name}_'"
            out[key] = value
    return out


def decouples_wd(name, cfg):
    """Whether this optimizer, under this config, applies decoupled weight decay (p -= lr * wd * p)."""
    d = get_optimizer_class(name).decoupled_wd
    return d(cfg) if callable(d) else d


def family_of(name, cfg):
    """{role: family}: the optimizer's family for every role, unless optimizer_family overrides them all."""
    cls = get_optimizer_class(name)
    forced = cfg.get('optimizer_family', '')
    roles = ('embedding', 'hidden', 'readout', 'vector')
    if forced:
        return {r: forced for r in roles}
    return {r: getattr(cls, 'role_family', {}).get(r, cls.family) for r in roles}


def uses_fused(groups, cfg):
    """torch's fused (single-kernel) implementation whenever every parameter lives on CUDA."""
    return cfg.get('fused', True) and all(p.is_cuda for g in groups for p in g['params'])
