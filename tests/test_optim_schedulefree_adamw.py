"""Schedule-Free AdamW (optim/schedulefree_adamw.py) against the official schedulefree package:
AdamWScheduleFreeReference (stores x, y, z explicitly) for the train-mode (y) and eval-mode (x) parameters, and
AdamWScheduleFree (the in-place form we follow). float64; a square, a non-square and a 1-D parameter; warmup and
weight decay on.     pytest tests/test_optim_schedulefree_adamw.py
"""

import copy

import pytest
import torch
from schedulefree import AdamWScheduleFree, AdamWScheduleFreeReference

import optim
from conftest import optim_config
from optim.schedulefree_adamw import ScheduleFreeAdamW

SHAPES = [(6, 6), (5, 9), (7,)]
HP = dict(lr=0.05, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.1, warmup_steps=3, r=0.5, weight_lr_power=2.0)


def make_params(seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.nn.Parameter(torch.randn(*s, generator=g, dtype=torch.float64)) for s in SHAPES]


def gradients(steps, seed=1):
    g = torch.Generator().manual_seed(seed)
    return [[torch.randn(*s, generator=g, dtype=torch.float64) for s in SHAPES] for _ in range(steps)]


def run(opt, params, grads_per_step):
    for grads in grads_per_step:
        for p, gr in zip(params, grads):
            p.grad = gr.clone()
        opt.step()


def snapshot(params):
    return [p.detach().clone() for p in params]


def max_diff(a, b):
    return max((x - y).abs().max().item() for x, y in zip(a, b))


@pytest.mark.parametrize('hp', [HP, dict(HP, weight_decay=0.0, warmup_steps=0, r=0.0)])
def test_matches_reference_train_and_eval_weights(hp):
    # the reference keeps x, y, z and computes y = b1 x + (1 - b1) z; we update y in place (lerp form) and
    # recover x = lerp(y, z, 1 - 1/b1): same algebra, different rounding -> 1e-12 relative in float64
    # (measured max |diff| ~ 1e-15 over 10 steps, 3 of them warmup)
    grads = gradients(10)
    a, b = make_params(), make_params()
    ours = ScheduleFreeAdamW(a, **hp)
    ref = AdamWScheduleFreeReference(b, **hp)
    ref.train()
    for i in range(0, 10, 5):  # compare mid-way too
        run(ours, a, grads[i:i + 5])
        run(ref, b, grads[i:i + 5])
        torch.testing.assert_close(snapshot(a), snapshot(b), rtol=1e-12, atol=1e-13)  # y
        ours.eval()
        ref.eval()
        torch.testing.assert_close(snapshot(a), snapshot(b), rtol=1e-12, atol=1e-13)  # x
        ours.train()
        ref.train()


def test_matches_official_fast_implementation():
    # AdamWScheduleFree (foreach=False) does the same operations in the same order as ours: equal to rounding
    grads = gradients(10)
    a, b = make_params(), make_params()
    ours = ScheduleFreeAdamW(a, **HP)
    off = AdamWScheduleFree(b, foreach=False, **HP)
    off.train()
    run(ours, a, grads)
    run(off, b, grads)
    torch.testing.assert_close(snapshot(a), snapshot(b), rtol=1e-14, atol=1e-15)
    for p, q in zip(a, b):
        torch.testing.assert_close(ours.state[p]['z'], off.state[q]['z'], rtol=1e-14, atol=1e-15)
    assert ours.param_groups[0]['weight_sum'] == off.param_groups[0]['weight_sum']


def test_train_eval_round_trip_is_bitwise_and_idempotent():
    grads = gradients(6)
    params = make_params()
    opt = ScheduleFreeAdamW(params, **HP)
    run(opt, params, grads[:3])
    y = snapshot(params)
    opt.train()  # already in train mode: no-op
    assert all(torch.equal(p, q) for p, q in zip(params, y))
    opt.eval()
    x = snapshot(params)
    assert max_diff(x, y) > 1e-6  # eval really swapped in different weights
    opt.eval()  # idempotent
    assert all(torch.equal(p, q) for p, q in zip(params, x))
    opt.train()
    assert all(torch.equal(p, q) for p, q in zip(params, y))  # bitwise back to y
    assert all('y' not in opt.state[p] for p in params)  # the copy of y is dropped in train mode
    # training continues exactly as if eval() had never been called
    twin = make_params()
    opt2 = ScheduleFreeAdamW(twin, **HP)
    run(opt2, twin, grads[:3])
    run(opt, params, grads[3:])
    run(opt2, twin, grads[3:])
    assert all(torch.equal(p, q) for p, q in zip(params, twin))


def test_step_in_eval_mode_raises():
    params = make_params()
    opt = ScheduleFreeAdamW(params, **HP)
    run(opt, params, gradients(1))
    opt.eval()
    with pytest.raises(RuntimeError, match='eval mode'):
        run(opt, params, gradients(1))


def test_state_dict_saved_in_eval_mode_resumes_exactly():
    # a checkpoint taken in eval mode holds x in the params and y in the state: load + train() gives back y
    grads = gradients(6)
    params = make_params()
    opt = ScheduleFreeAdamW(params, **HP)
    run(opt, params, grads[:3])
    opt.eval()
    saved_params, saved_state = snapshot(params), copy.deepcopy(opt.state_dict())
    opt.train()
    run(opt, params, grads[3:])
    twin = [torch.nn.Parameter(p.clone()) for p in saved_params]
    opt2 = ScheduleFreeAdamW(twin, **HP)
    opt2.load_state_dict(saved_state)
    opt2.train()
    run(opt2, twin, grads[3:])
    assert all(torch.equal(p, q) for p, q in zip(params, twin))


def test_warmup_weight_power_and_r_change_the_result():
    grads = gradients(5)
    base = make_params()
    run(ScheduleFreeAdamW(base, **HP), base, grads)
    for change in (dict(warmup_steps=0), dict(weight_lr_power=0.0), dict(r=0.0)):
        other = make_params()
        run(ScheduleFreeAdamW(other, **dict(HP, **change)), other, grads)
        assert max_diff(base, other) > 1e-6, change


def test_warmup_scales_the_first_steps():
    # during warmup the z step is lr * (k+1)/warmup * g_hat; with wd = 0 the first step moves z by lr/warmup * g_hat
    params = make_params()
    p0 = snapshot(params)
    opt = ScheduleFreeAdamW(params, **dict(HP, weight_decay=0.0, warmup_steps=4))
    run(opt, params, gradients(1))
    g_hat = [g / (g.abs() + 1e-8) for g in gradients(1)[0]]  # first step: v_hat = g^2
    for p, q, gh in zip(params, p0, g_hat):
        torch.testing.assert_close(opt.state[p]['z'], q - HP['lr'] / 4 * gh, rtol=1e-12, atol=1e-14)
    assert opt.param_groups[0]['scheduled_lr'] == HP['lr'] / 4


def test_from_config_reads_own_keys():
    p = [torch.nn.Parameter(torch.ones(3))]
    groups = [dict(params=p, lr=0.1, initial_lr=0.1, eps=1e-8, weight_decay=0.0)]
    cfg = optim_config(learning_rate=0.1, beta1=0.95, beta2=0.99, lr_schedule='constant',
                       schedulefree_adamw_warmup_steps=7, schedulefree_adamw_r=1.0,
                       schedulefree_adamw_weight_lr_power=0.5)
    opt = optim.from_config(ScheduleFreeAdamW, groups, cfg)
    g = opt.param_groups[0]
    assert (g['betas'], g['warmup_steps'], g['r'], g['weight_lr_power'], g['eps']) == ((0.95, 0.99), 7, 1.0, 0.5, 1e-8)
    with pytest.warns(UserWarning, match='constant'):
        optim.from_config(ScheduleFreeAdamW, [dict(groups[0], params=p)], optim_config(lr_schedule='cosine'))
