"""SophiaG (optim/sophia.py) against the official SophiaG packaged as `sophia-opt`, plus its documented behaviour:
Lion-like start (h = 0), per-coordinate clipping, the Hessian-refresh cadence and its survival through
state_dict, where `bs` comes from, and train.py's Hessian hook end to end.  pytest tests/test_optim_sophia.py
"""

import copy
import json

import torch

import sophia_opt  # test-only numerical reference (requirements-test.txt): the official SophiaG

import optim
from conftest import optim_config
from optim.sophia import SophiaG

SHAPES = [(5, 5), (4, 7), (6,)]  # square matrix, non-square matrix, vector


def make_params(seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.nn.Parameter(torch.randn(*s, generator=g, dtype=torch.float64)) for s in SHAPES]


def grads_for(step, scale=1.0):
    g = torch.Generator().manual_seed(1000 + step)
    return [scale * torch.randn(*s, generator=g, dtype=torch.float64) for s in SHAPES]


def set_grads(params, grads):
    for p, g in zip(params, grads):
        p.grad = g.clone()


def groups(params, lr=1e-2, wd=0.0, eps=1e-8):
    return [dict(params=params[:2], lr=lr, initial_lr=lr, eps=eps, weight_decay=wd),
            dict(params=params[2:], lr=lr / 3, initial_lr=lr / 3, eps=eps, weight_decay=wd)]


def test_matches_official_sophia_opt_with_hessian_refreshes():
    betas, rho, bs, wd = (0.965, 0.99), 0.04, 16, 0.1  # bs: 15-50% of coordinates clipped
    ours_p, ref_p = make_params(), make_params()
    ours = SophiaG(groups(ours_p, wd=wd), lr=1e-2, betas=betas, rho=rho, bs=bs)
    ref = sophia_opt.SophiaG(groups(ref_p, wd=wd), lr=1e-2, betas=betas, rho=rho)  # its bs is a step() argument
    clipped = []
    for step in range(12):
        for ps in (ours_p, ref_p):
            set_grads(ps, grads_for(step))
        ours.step()
        ref.step(bs=bs)
        if step % 3 == 2:  # Hessian refresh from a separate "sampled-label" gradient, larger so h matters
            for ps in (ours_p, ref_p):
                set_grads(ps, grads_for(100 + step, scale=3.0))
            ours.update_hessian()
            ref.update_hessian()
        states = [ours.state[p] for p in ours_p]
        n_clipped = sum((s['exp_avg'].abs() >= rho * bs * s['hessian'] + 1e-15).sum().item() for s in states)
        clipped.append(n_clipped / sum(p.numel() for p in ours_p))
    # both branches of the clip were exercised after the first refresh
    assert clipped[0] == 1.0 and 0.0 < min(clipped[3:]) and max(clipped[3:]) < 1.0, clipped
    # same operations in the same order in float64: bitwise equal (measured max difference 0)
    for a, b in zip(ours_p, ref_p):
        assert torch.equal(a, b), (a - b).abs().max()
        for key in ('exp_avg', 'hessian'):
            assert torch.equal(ours.state[a][key], ref.state[b][key])
        assert float(ours.state[a]['step']) == float(ref.state[b]['step']) == 12


def test_zero_hessian_gives_lion_like_sign_update():
    """h = 0 before the first refresh: every coordinate is clipped, the step is exactly lr * sign(m)."""
    params = make_params()
    opt = SophiaG(groups(params), betas=(0.9, 0.99))
    for step in range(4):
        before = [p.detach().clone() for p in params]
        set_grads(params, grads_for(step))
        opt.step()
        for p, b, lr in zip(params, before, [1e-2, 1e-2, 1e-2 / 3]):  # the two groups' LRs
            m = opt.state[p]['exp_avg']
            torch.testing.assert_close(p - b, -lr * m.sign(), rtol=0, atol=1e-15)  # rounding of p only


def test_clip_ratio_at_most_one_and_tiny_h_moves_exactly_lr():
    p = torch.nn.Parameter(torch.zeros(4, dtype=torch.float64))
    lr, rho, bs = 0.1, 0.5, 10
    opt = SophiaG([p], lr=lr, betas=(0.0, 0.99), rho=rho, bs=bs, weight_decay=0.0)  # beta1 = 0: m = g
    p.grad = torch.zeros_like(p)
    opt.step()  # creates the state; h = 0 and g = 0, so this step moves nothing (sign(0) = 0)
    assert torch.equal(p.detach(), torch.zeros_like(p))
    opt.state[p]['hessian'].copy_(torch.tensor([1e-40, 1.0, 0.1, 1e-3], dtype=torch.float64))
    p.grad = torch.tensor([1e-6, 2.0, -0.2, 50.0], dtype=torch.float64)
    opt.step()
    # ratio |m| / (rho * bs * h): [huge -> 1, 2/5 = 0.4, 0.2/0.5 = 0.4, 50/0.005 -> 1]
    torch.testing.assert_close(p.detach(), torch.tensor([-lr, -0.4 * lr, 0.4 * lr, -lr], dtype=torch.float64),
                               rtol=1e-14, atol=0)
    assert p.abs().max() <= lr
    assert p[0].item() == -lr  # a coordinate with tiny h and a tiny gradient still moves exactly lr


def test_update_hessian_is_an_ema_of_squared_grads_without_bias_correction():
    params = make_params()
    opt = SophiaG(params, betas=(0.965, 0.9))
    before = [p.detach().clone() for p in params]
    g1, g2 = grads_for(0), grads_for(1)
    set_grads(params, g1)
    opt.update_hessian()  # before any step: creates the state like the official code
    set_grads(params, g2)
    opt.update_hessian()
    for p, b, a, c in zip(params, before, g1, g2):
        torch.testing.assert_close(opt.state[p]['hessian'], 0.9 * (0.1 * a * a) + 0.1 * c * c, rtol=1e-14, atol=0)
        assert torch.equal(p.detach(), b) and float(opt.state[p]['step']) == 0  # no parameter move, no step
    assert not opt.hessian_due()


def due_steps(opt, params, start, stop):
    due = []
    for step in range(start, stop):
        set_grads(params, grads_for(step))
        opt.step()
        if opt.hessian_due():
            due.append(step + 1)  # the 1-based count of the step that just ran
            set_grads(params, grads_for(500 + step))
            opt.update_hessian()
    return due


def test_hessian_due_every_k_steps():
    params = make_params()
    opt = SophiaG(groups(params), k=10)
    assert not opt.hessian_due()  # before any step
    assert due_steps(opt, params, 0, 25) == [10, 20]  # official: iter_num % 10 == 9 (0-based) after the step
    opt3 = optim.build_optimizer('sophia', groups(make_params()), optim_config(learning_rate=1e-2, sophia_k=3))
    assert due_steps(opt3, opt3.param_groups[0]['params'] + opt3.param_groups[1]['params'], 0, 10) == [3, 6, 9]


def test_state_dict_round_trip_keeps_the_cadence():
    params = make_params()
    opt = SophiaG(groups(params), k=10)
    assert due_steps(opt, params, 0, 7) == []
    params2 = [torch.nn.Parameter(p.detach().clone()) for p in params]
    opt2 = SophiaG(groups(params2), k=4)  # the saved group's interval (10) wins on load
    opt2.load_state_dict(copy.deepcopy(opt.state_dict()))
    assert due_steps(opt2, params2, 7, 25) == [10, 20]
    assert due_steps(opt, params, 7, 25) == [10, 20]
    assert all(torch.equal(a, b) for a, b in zip(params, params2))


def test_bs_and_hyperparameters_from_config():
    cfg = optim_config(learning_rate=6e-4, beta1=0.965, beta2=0.99, tokens_per_iter=4096)
    opt = optim.build_optimizer('sophia', groups(make_params()), cfg)
    g = opt.param_groups[0]
    assert g['bs'] == 4096 and g['rho'] == 0.04 and g['k'] == 10 and g['clip_eps'] == 1e-15
    assert g['betas'] == (0.965, 0.99) and g['eps'] == 1e-8  # the group's Adam eps is left alone (unused)
    cfg.update(sophia_bs=100, sophia_rho=0.05, sophia_k=7, sophia_clip_eps=1e-12)
    g = optim.build_optimizer('sophia', groups(make_params()), cfg).param_groups[0]
    assert (g['bs'], g['rho'], g['k'], g['clip_eps']) == (100, 0.05, 7, 1e-12)
    assert SophiaG(make_params()).param_groups[0]['bs'] == 5120  # built without a config: official step() default


def run_with_hessian(opt, params, steps=6):
    for step in range(steps):
        set_grads(params, grads_for(step))
        opt.step()
        if step % 2 == 1:
            set_grads(params, grads_for(100 + step, scale=3.0))
            opt.update_hessian()
    return [p.detach().clone() for p in params]


def test_only_rho_times_bs_matters_and_it_changes_the_update():
    pa, pb, pc = make_params(), make_params(), make_params()
    ra = run_with_hessian(SophiaG(pa, rho=0.04, bs=200), pa)
    rb = run_with_hessian(SophiaG(pb, rho=0.08, bs=100), pb)
    rc = run_with_hessian(SophiaG(pc, rho=0.04, bs=400), pc)
    for x, y in zip(ra, rb):
        torch.testing.assert_close(x, y, rtol=1e-13, atol=1e-15)  # rho*bs is 8.0 in both, up to float rounding
    assert all(not torch.equal(x, z) for x, z in zip(ra, rc))  # a larger bs clips less: a smaller step


def test_sophia_eps_is_used_and_group_eps_is_not():
    def run(group_eps, clip_eps):
        params = make_params()
        opt = SophiaG(groups(params, eps=group_eps), rho=1e-4, bs=10, clip_eps=clip_eps)  # rho*bs*h ~ 1e-3 h
        return run_with_hessian(opt, params)
    base = run(1e-8, 1e-15)
    assert all(torch.equal(x, y) for x, y in zip(base, run(1e-1, 1e-15)))
    assert all(not torch.equal(x, y) for x, y in zip(base, run(1e-8, 1e-1)))


def test_train_py_runs_the_hessian_hook(tmp_path, char_data):
    from conftest import run_script
    r = run_script(['train.py', 'config/debug_cpu.py', '--optimizer=sophia', f'--out_dir={tmp_path}', '--run_name=r',
                    '--learning_rate=3e-3', '--eval_interval=30'])
    assert r.returncode == 0, r.stderr
    evals = [row['val_loss'] for row in map(json.loads, open(tmp_path / 'r' / 'metrics.jsonl')) if row['kind'] == 'eval']
    assert evals[-1] < evals[0] - 0.3, evals
    ckpt = torch.load(tmp_path / 'r' / 'ckpt.pt', weights_only=False)
    state = ckpt['optimizer']['state']
    assert ckpt['iter_num'] == 30 and len(state) > 0
    assert all(float(s['step']) == 30 for s in state.values())
    # the hook ran: h is only ever written by update_hessian (steps 10, 20, 30), so it is nonzero for every param
    assert all(s['hessian'].abs().max() > 0 for s in state.values())
    assert all(g['bs'] == 8 * 32 for g in ckpt['optimizer']['param_groups'])  # tokens_per_iter of debug_cpu
