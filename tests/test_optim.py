"""Properties every optimizer of the registry must have, parametrized over optim.REGISTRY (CPU, float64 where
it matters). Reference-agreement tests live in tests/test_optim_<name>.py.  pytest tests/test_optim.py
"""

import copy

import pytest
import torch

import optim
from conftest import optim_config

NAMES = sorted(optim.REGISTRY)
# base LRs at which config/debug_cpu.py (30 steps, width 64 = base width) must drop the val loss by 0.3
E2E_LR = dict(lamb=1e-2, splus=0.1, adafactor=1e-2, adam_ps=0.1)
# toy-problem LRs where 1e-2 is too small for 100 steps: LAMB, Adafactor and Adam+PS are relative to ||W|| (W must
# grow ~10x here), SPlus scales by 2/(m+n), Muon and SOAP take ~lr per singular direction
TOY_LR = dict(lamb=5e-2, splus=0.1, soap=2e-2, muon=2e-2, adafactor=0.1, adam_ps=0.1)
CFG = optim_config(learning_rate=1e-2)


def problem(seed=0):
    """A small least-squares problem with a matrix, a vector and a bias: loss(params) -> scalar."""
    g = torch.Generator().manual_seed(seed)
    x, w_true = torch.randn(64, 8, generator=g, dtype=torch.float64), torch.randn(6, 8, generator=g, dtype=torch.float64)
    y = x @ w_true.T
    params = [torch.nn.Parameter(0.1 * torch.randn(6, 8, generator=g, dtype=torch.float64)),
              torch.nn.Parameter(torch.zeros(6, dtype=torch.float64))]

    def loss_fn(ps):
        return ((x @ ps[0].T + ps[1] - y) ** 2).mean()
    return params, loss_fn


def make(name, params, lr=1e-2, wd=0.0, split=False):
    groups = [dict(params=[p], lr=lr, initial_lr=lr, eps=1e-8, weight_decay=wd) for p in params] if split else \
        [dict(params=list(params), lr=lr, initial_lr=lr, eps=1e-8, weight_decay=wd)]
    return optim.build_optimizer(name, groups, CFG)


def run(name, opt, params, loss_fn, steps):
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(params)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize('name', NAMES)
def test_declares_family_and_wd_convention(name):
    cls = optim.get_optimizer_class(name)
    families = ('sgd', 'adam', 'adafactor', 'invariant', 'invariant_rms')
    assert set(optim.family_of(name, {}).values()) <= set(families)  # family / role_family: values or callables
    assert isinstance(cls.decoupled_wd, bool) or callable(cls.decoupled_wd)
    assert all(k.startswith(name + '_') for k in getattr(cls, 'hparams', {})), 'hparams keys are <name>_...'


@pytest.mark.parametrize('name', NAMES)
def test_eval_train_round_trip_restores_live_weights(name):
    """Optimizers with eval-time weights (SPlus EMA, Schedule-Free x): eval() changes the weights, train() brings
    back the live ones bitwise, both idempotent, and training continues as if evaluation never happened."""
    params, loss_fn = problem()
    opt = make(name, params)
    if not hasattr(opt, 'eval'):
        assert not hasattr(opt, 'train'), 'eval() and train() come together'
        return
    run(name, opt, params, loss_fn, 5)
    live = [p.detach().clone() for p in params]
    twin = [torch.nn.Parameter(p.detach().clone()) for p in params]
    opt_twin = make(name, twin)
    opt_twin.load_state_dict(copy.deepcopy(opt.state_dict()))
    opt.eval()
    opt.eval()
    assert not all(torch.equal(p, q) for p, q in zip(params, live)), 'eval() should swap in other weights'
    opt.train()
    opt.train()
    assert all(torch.equal(p, q) for p, q in zip(params, live))
    assert run(name, opt, params, loss_fn, 3) == run(name, opt_twin, twin, loss_fn, 3)


@pytest.mark.parametrize('name', NAMES)
def test_loss_decreases(name):
    params, loss_fn = problem()
    losses = run(name, make(name, params, lr=TOY_LR.get(name, 1e-2)), params, loss_fn, 100)
    assert losses[-1] < 0.5 * losses[0], losses[::20]


@pytest.mark.parametrize('name', NAMES)
def test_state_dict_round_trip_continues_identically(name):
    params, loss_fn = problem()
    opt = make(name, params, wd=0.1)
    run(name, opt, params, loss_fn, 5)
    params2 = [torch.nn.Parameter(p.detach().clone()) for p in params]
    opt2 = make(name, params2, wd=0.1)
    opt2.load_state_dict(copy.deepcopy(opt.state_dict()))
    assert run(name, opt, params, loss_fn, 5) == run(name, opt2, params2, loss_fn, 5)
    assert all(torch.equal(a, b) for a, b in zip(params, params2))


@pytest.mark.parametrize('name', NAMES)
def test_zero_lr_group_is_unchanged(name):
    params, loss_fn = problem()
    before = [p.detach().clone() for p in params]
    opt = make(name, params, split=True)
    opt.param_groups[0]['lr'] = 0.0
    run(name, opt, params, loss_fn, 3)
    assert torch.equal(params[0], before[0]) and not torch.equal(params[1], before[1])


@pytest.mark.parametrize('name', NAMES)
def test_two_groups_equal_two_optimizers(name):
    params, loss_fn = problem()
    params2 = [torch.nn.Parameter(p.detach().clone()) for p in params]
    one = make(name, params, split=True)
    one.param_groups[1]['lr'] = 3e-3
    two = [make(name, [params2[0]]), make(name, [params2[1]], lr=3e-3)]
    for _ in range(5):
        for o in [one] + two:
            o.zero_grad()
        loss_fn(params).backward()
        loss_fn(params2).backward()
        one.step()
        for o in two:
            o.step()
    for a, b in zip(params, params2):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize('name', NAMES)
def test_deterministic_under_a_seed(name):
    results = []
    for _ in range(2):
        torch.manual_seed(0)
        params, loss_fn = problem()
        results.append(run(name, make(name, params), params, loss_fn, 10))
    assert results[0] == results[1]


# a valid value other than the default, for the own keys whose generic other value (below) is not allowed
OTHER = {'adafactor_clip_threshold': 2.0, 'muon_ns_dtype': 'float64', 'muon_scale': 'rms',
         'shampoo_graft': 'none', 'splus_nonstandard': 'shape', 'splus_order': 'optax', 'splus_kernel': 'torch',
         'sophia_kernel': 'torch', 'psgd_memory_save_mode': 'one_diag'}


def other_value(key, default):
    """A valid non-default value: flipped bool, int + 1, half a nonzero float (0.5 for 0), or OTHER's."""
    if key in OTHER:
        return OTHER[key]
    if isinstance(default, bool):
        return not default
    if isinstance(default, int):
        return default + 1
    return default / 2 if default else 0.5


@pytest.mark.parametrize('name', NAMES)
def test_from_config_passes_every_key_to_the_optimizer(name):
    """optim.from_config with every own key and the shared keys at non-default values: the optimizer's defaults
    and its groups carry each of them (config '<name>_<key>' -> argument and group key '<key>'), so a key that is
    silently ignored fails here."""
    cls = optim.get_optimizer_class(name)
    own = {key: other_value(key, default) for key, default in cls.hparams.items()}
    assert all(own[k] != d for k, d in cls.hparams.items())
    cfg = optim_config(learning_rate=0.0123, beta1=0.81, beta2=0.97, momentum=0.7, nesterov=True, **own)
    params, _ = problem()
    opt = optim.from_config(cls, [dict(params=params, eps=1e-8, weight_decay=0.0)], cfg)
    shared = dict(lr=0.0123, betas=(0.81, 0.97), beta1=0.81, momentum=0.7, nesterov=True)
    expected = {**{arg: shared[arg] for arg in cls.shared if arg in shared},
                **{key[len(name) + 1:]: value for key, value in own.items()}}
    assert {k: opt.defaults[k] for k in expected} == expected
    assert {k: opt.param_groups[0][k] for k in expected} == expected


@pytest.mark.parametrize('name', NAMES)
def test_negative_learning_rate_is_refused(name):
    """Every optimizer refuses lr < 0 (it would train by gradient ascent) with a ValueError naming the value,
    built directly or from a config."""
    cls = optim.get_optimizer_class(name)
    params, _ = problem()
    with pytest.raises(ValueError, match='-0.001'):
        cls(params, lr=-1e-3)
    with pytest.raises(ValueError, match='-0.001'):
        optim.build_optimizer(name, [dict(params=params)], optim_config(learning_rate=-1e-3))


@pytest.mark.parametrize('name', NAMES)
def test_state_is_created_on_the_first_step_with_an_int_step(name):
    """One convention: no state before the first step; after it every tensor's state counts steps in a Python
    int (torch's own SGD/Adam/AdamW keep torch's tensor counter; Schedule-Free counts per group)."""
    params, loss_fn = problem()
    opt = make(name, params)
    assert all(not opt.state[p] for p in params)
    run(name, opt, params, loss_fn, 2)
    for p in params:
        state = opt.state[p]
        assert state
        if name in ('sgd', 'adam', 'adamw', 'schedulefree_adamw'):
            continue
        assert type(state['step']) is int and state['step'] == (1 if name == 'soap' else 2)  # SOAP skips call 1


def test_hparams_are_config_keys_and_unknown_optimizer_fails():
    keys = optim.hparam_defaults()
    assert keys and all(any(k.startswith(n + '_') for n in NAMES) for k in keys)
    with pytest.raises(ValueError, match="did you mean 'adamw'"):
        optim.get_optimizer_class('adamww')


@pytest.mark.parametrize('name', NAMES)
def test_train_py_end_to_end(name, tmp_path, char_data):
    from conftest import run_script
    r = run_script(['train.py', 'config/debug_cpu.py', f'--optimizer={name}', f'--out_dir={tmp_path}',
                    '--run_name=r', f'--learning_rate={E2E_LR.get(name, 3e-3)}', '--eval_interval=30'])
    assert r.returncode == 0, r.stderr
    import json
    rows = [json.loads(line) for line in open(tmp_path / 'r' / 'metrics.jsonl')]
    evals = [row['val_loss'] for row in rows if row['kind'] == 'eval']
    assert evals[-1] < evals[0] - 0.3, evals
