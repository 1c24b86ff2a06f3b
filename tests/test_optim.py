"""Properties every optimizer of the registry must have, parametrized over optim.REGISTRY (CPU, float64 where
it matters). Reference-agreement tests live in tests/test_optim_<name>.py.  pytest tests/test_optim.py
"""

import copy

import pytest
import torch

import optim

NAMES = sorted(optim.REGISTRY)
CFG = dict(learning_rate=1e-2, beta1=0.9, beta2=0.95, momentum=0.9, fused=False)


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
    cls = optim.REGISTRY[name]
    assert cls.family in ('sgd', 'adam', 'adafactor', 'invariant') and isinstance(cls.decoupled_wd, bool)


@pytest.mark.parametrize('name', NAMES)
def test_loss_decreases(name):
    params, loss_fn = problem()
    losses = run(name, make(name, params), params, loss_fn, 100)
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


@pytest.mark.parametrize('name', NAMES)
def test_train_py_end_to_end(name, tmp_path, char_data):
    from conftest import run_script
    r = run_script(['train.py', 'config/debug_cpu.py', f'--optimizer={name}', f'--out_dir={tmp_path}',
                    '--run_name=r', '--learning_rate=3e-3', '--eval_interval=30'])
    assert r.returncode == 0, r.stderr
    import json
    rows = [json.loads(line) for line in open(tmp_path / 'r' / 'metrics.jsonl')]
    evals = [row['val_loss'] for row in rows if row['kind'] == 'eval']
    assert evals[-1] < evals[0] - 0.3, evals
