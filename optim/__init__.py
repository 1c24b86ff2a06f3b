"""
Optimizer registry: config name -> class, and the one convention every optimizer file follows.

Every optimizer is a torch.optim.Optimizer that reads lr / eps / weight_decay (and its own hyperparameters) from
each param group on every step, so the per-group multipliers of parameterization.param_groups and the LR schedule
reach it. Adding one takes five steps:

1. optim/<name>.py opens with a docstring: the paper (title, authors, year) and the reference implementation, the
   update as equations, every place where the sources disagree and which one we follow, and the family.
2. The math is a pure function `<name>_update_(p, grad, <state>, step, *, <hyperparameters>)`: one step on one
   tensor (or on one param group's lists of tensors), in place (the trailing underscore), no optimizer object;
   hyperparameters keyword-only. <state> is p's state tensors (or its state dict where their set depends on
   the shape); step is this step's 1-based count, a Python int.
3. A thin class with the class attributes
      family        sgd | adam | adafactor | invariant: how the update scales with the gradient and parameter
                    scale, which is all parameterization.py needs to derive LR exponents (Everett et al. 2024,
                    Table 2); optionally role_family ({role: family}) for roles it updates by another rule.
                    Either may be a callable(cfg) when a flag decides it (Muon's muon_scale='rms' moves its
                    hidden matrices to the adam family); family_of() below is the one reader;
      decoupled_wd  True when weight decay is p -= lr * wd * p (AdamW), False for L2 in the gradient (SGD, Adam);
                    wd_mode='independent' needs the former. A callable(cfg) when a flag decides it;
      shared        the constructor arguments it takes from train.py's own keys (SHARED below: learning_rate ->
                    lr, beta1/beta2 -> betas, beta1, momentum, nesterov, fused, tokens_per_iter);
      hparams       {'<name>_<key>': default} for its own hyperparameters. Each key is the constructor argument
                    and param-group key <key> (so it cannot be a key parameterization.py puts in the groups:
                    GROUP_KEYS), and a config global of train.py (--sophia_rho=0.05 works, typos are caught);
      allowed       {argument: rule} for check(): a tuple of choices or a range ('>= 0', '[0, 1)'); lr, betas,
                    beta1, eps, weight_decay fall back to the rules of SHARED_RULES;
      needs_full_tensors = True   when the update needs whole tensors (eigendecompositions, Newton-Schulz, norms):
                    under torchrun train.py then wraps it in optim.distributed.OwnerOptimizer (one owner rank per
                    tensor); elementwise optimizers run unchanged on every rank (DDP) or on DTensor shards (FSDP2).
4. __init__(params, <shared and own arguments with defaults>) builds the defaults dict, validates it with
   `check(self, defaults)` (a one-line ValueError naming the bad value and what is allowed) and calls
   super().__init__. State is created lazily in step(), the same way in every file:

        state = self.state[p]
        if not state:
            state.update(self._init_state(p, group))    # {'step': 0, <tensors>}: step is a Python int
        state['step'] += 1
        <name>_update_(p, p.grad, <state>, state['step'], lr=group['lr'], ...)

5. One line in REGISTRY ('module:Class', imported on first use, so a broken or heavy optimizer file never breaks
   the others). from_config() below builds it from a run config; nothing in the class reads the config.

sgd, adam and adamw are torch's own classes with these attributes added: their math and state (a tensor step)
are torch's. Exceptions inside the convention, each explained in its file: Sophia updates a whole param group at
once (one fused kernel launch), Schedule-Free keeps its step index per group (as officially), SOAP's first call
only initialises its state (official).

Optional hooks train.py calls when present: `eval()` / `train()` around evaluation (eval-time weights),
`hessian_due()` + `update_hessian()` (Sophia: an extra forward/backward on sampled labels); from_config calls
`check_config(cfg)` (a warning about the rest of the run config, Schedule-Free's LR schedule).
"""

import difflib
import importlib
import operator

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

# constructor argument <- train.py's config, for the arguments a class lists in `shared`
SHARED = {
    'lr': lambda groups, cfg: cfg['learning_rate'],
    'betas': lambda groups, cfg: (cfg['beta1'], cfg['beta2']),
    'beta1': lambda groups, cfg: cfg['beta1'],  # first moment only (Adafactor's momentum, PSGD)
    'momentum': lambda groups, cfg: cfg['momentum'],
    'nesterov': lambda groups, cfg: cfg['nesterov'] and cfg['momentum'] > 0,  # torch refuses Nesterov without momentum
    'fused': lambda groups, cfg: uses_fused(groups, cfg) or None,
    'tokens_per_iter': lambda groups, cfg: cfg['tokens_per_iter'],  # Sophia's default bs
}
SHARED_RULES = {'lr': '>= 0', 'beta1': '[0, 1)', 'beta2': '[0, 1)', 'eps': '>= 0', 'weight_decay': '>= 0'}
GROUP_KEYS = ('params', 'names', 'role', 'lr_mult', 'lr', 'initial_lr', 'eps', 'weight_decay')  # parameterization.py's
COMPARE = {'>=': operator.ge, '>': operator.gt, '<=': operator.le, '<': operator.lt}


def get_optimizer_class(name):
    if name not in REGISTRY:
        close = difflib.get_close_matches(name, REGISTRY, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ''
        raise ValueError(f"unknown optimizer '{name}'{hint}: choose one of {', '.join(REGISTRY)}")
    module, cls = REGISTRY[name].split(':')
    return getattr(importlib.import_module(module), cls)


def name_of(cls):
    """The registry name of an optimizer class: the prefix of its config keys."""
    return {path: name for name, path in REGISTRY.items()}[f'{cls.__module__}:{cls.__name__}']


def from_config(cls, groups, cfg):
    """cls over these param groups, its arguments read from the run config: each of `cls.shared` as SHARED says,
    each own key '<name>_<key>' of `cls.hparams` as the argument <key>. cfg must hold every key it reads
    (train.py's config does, plus tokens_per_iter and fused)."""
    name = name_of(cls)
    try:
        args = {arg: SHARED[arg](groups, cfg) for arg in cls.shared}
        args.update({key[len(name) + 1:]: cfg[key] for key in cls.hparams})
    except KeyError as e:
        raise KeyError(f"optimizer '{name}': the config has no {e}: pass train.py's full config") from None
    if hasattr(cls, 'check_config'):
        cls.check_config(cfg)
    return cls(groups, **args)


def build_optimizer(name, groups, cfg):
    """The optimizer for these param groups; hyperparameters it needs come from the run config dict."""
    return from_config(get_optimizer_class(name), groups, cfg)


def hparam_defaults():
    """{key: default} of every optimizer's own hyperparameters (config globals of train.py)."""
    out = {}
    for name in REGISTRY:
        for key, value in get_optimizer_class(name).hparams.items():
            if not key.startswith(name + '_') or key[len(name) + 1:] in GROUP_KEYS:
                raise ValueError(f"optim/{name}.py: hyperparameter '{key}' must be '{name}_<key>' with <key> not "
                                 f"one of the param-group keys {', '.join(GROUP_KEYS)}")
            out[key] = value
    return out


def check(optimizer, defaults):
    """Validate an optimizer's constructor arguments: for every value with a rule (optimizer.allowed, else
    SHARED_RULES; betas are checked as beta1, beta2), a ValueError naming the bad value and what is allowed.
    A rule is a tuple of choices, a bound ('>= 0', '> 0', '<= 0', '< 1') or an interval ('[0, 1)', '(0, 1]')."""
    rules = {**SHARED_RULES, **getattr(optimizer, 'allowed', {})}
    values = dict(defaults)
    if 'betas' in values:
        values.update(zip(('beta1', 'beta2'), values.pop('betas')))
    for arg, value in values.items():
        rule = rules.get(arg)
        if rule is None or value is None:  # None: the argument's documented "not set" (Adafactor's eps)
            continue
        if isinstance(rule, tuple):
            ok, what = value in rule, 'one of ' + ', '.join(map(repr, rule))
        elif rule[0] in '[(':
            low, high = (float(x) for x in rule[1:-1].split(','))
            ok = ((low <= value if rule[0] == '[' else low < value) and
                  (value <= high if rule[-1] == ']' else value < high))
            what = f'in {rule}'
        else:
            op, bound = rule.split()
            ok, what = COMPARE[op](value, float(bound)), rule
        if not ok:  # name the config key the user set (<name>_<arg> for an optimizer's own hyperparameter)
            key = next((k for k in getattr(optimizer, 'hparams', {}) if k.endswith('_' + arg)), arg)
            raise ValueError(f"{type(optimizer).__name__}: {key}={value!r}: must be {what}")


def decouples_wd(name, cfg):
    """Whether this optimizer, under this config, applies decoupled weight decay (p -= lr * wd * p)."""
    d = get_optimizer_class(name).decoupled_wd
    return d(cfg) if callable(d) else d


def family_of(name, cfg):
    """{role: family}: the optimizer's family for every role, unless optimizer_family overrides them all.
    The class's `family` and `role_family` are values, or callables of the run config (cfg may be partial: a
    callable falls back to the class's hparams defaults for keys it lacks)."""
    cls = get_optimizer_class(name)
    forced = cfg.get('optimizer_family', '')
    roles = ('embedding', 'hidden', 'readout', 'vector')
    if forced:
        return {r: forced for r in roles}
    family, per_role = cls.family, getattr(cls, 'role_family', {})
    family = family(cfg) if callable(family) else family
    per_role = per_role(cfg) if callable(per_role) else per_role
    return {r: per_role.get(r, family) for r in roles}


def uses_fused(groups, cfg):
    """torch's fused (one kernel per step) Adam / AdamW / SGD whenever every parameter lives on CUDA or the CPU
    (torch has fused CPU kernels since 2.4; scripts/bench_optim.py measured its AdamW step 7x faster than the
    single-tensor loop, torch's CPU default, at width 512). On DTensor shards (FSDP2) on the CPU it is bitwise the
    single-process step."""
    return cfg['fused'] and all(p.device.type in ('cuda', 'cpu') for g in groups for p in g['params'])
