"""Adam + parameter scaling (optim/adam_ps.py) against torch.optim.AdamW's direction times max(eps2, RMS(W)),
composed by hand (there is no packaged Adam+PS). CPU, float64.  pytest tests/test_optim_adam_ps.py
"""

import pytest
import torch

import optim
from conftest import optim_config
from optim.adam_ps import AdamPS

SHAPES = [(8, 8), (5, 3), (7,), (6,)]  # square matrix, non-square matrix, vector, zero-initialised vector
# float64; we and the reference differ only in operation order (lerp vs mul/add, the RMS computed once), so
# rounding: measured max |diff| ~1e-16; 1e-12 still catches any change of the rule
TOL = dict(rtol=1e-12, atol=1e-12)


def make_params(seed=0):
    g = torch.Generator().manual_seed(seed)
    ps = [0.02 * torch.randn(*s, generator=g, dtype=torch.float64) for s in SHAPES]
    ps[-1].zero_()  # RMS 0: the eps2 floor decides its step
    return ps


def make_grads(steps, seed=1):
    g = torch.Generator().manual_seed(seed)
    return [[torch.randn(*s, generator=g, dtype=torch.float64) for s in SHAPES] for _ in range(steps)]


def run(opt, grads, lrs=None):
    params = [p for group in opt.param_groups for p in group['params']]
    for t, gs in enumerate(grads):
        for p, gr in zip(params, gs):
            p.grad = gr.clone()
        if lrs is not None:
            for group in opt.param_groups:
                group['lr'] = lrs[t]
        opt.step()
    return params


def reference(params, grads, lrs, betas, eps, eps2, wd):
    """torch AdamW (lr 1, no decay) run on zeroed clones gives Adam's direction d = m_hat / (sqrt(v_hat) + eps);
    then W <- W (1 - lr wd) - lr max(eps2, RMS(W_{t-1})) d, the RMS taken before this step's decay."""
    clones = [torch.zeros_like(p, requires_grad=True) for p in params]
    adamw = torch.optim.AdamW(clones, lr=1.0, betas=betas, eps=eps, weight_decay=0.0, foreach=False, fused=False)
    for gs, lr in zip(grads, lrs):
        with torch.no_grad():
            for c, g in zip(clones, gs):
                c.zero_()
                c.grad = g.clone()
        adamw.step()  # c = 0 - 1 * d
        for i, c in enumerate(clones):
            rms = params[i].pow(2).mean().sqrt()
            params[i] = params[i] * (1 - lr * wd) - lr * torch.clamp(rms, min=eps2) * (-c.detach())
    return params


@pytest.mark.parametrize('wd', [0.0, 0.5])
def test_matches_adamw_direction_times_rms(wd):
    grads, lrs = make_grads(10), [0.5] * 4 + [0.2] * 3 + [0.05] * 3  # a schedule: decay follows the current LR
    kw = dict(betas=(0.9, 0.98), eps=1e-8, eps2=1e-3)
    ours = run(AdamPS(make_params(), lr=0.5, weight_decay=wd, **kw), grads, lrs)
    ref = reference(make_params(), grads, lrs, wd=wd, **kw)
    for x, y in zip(ours, ref):
        torch.testing.assert_close(x, y, **TOL)
    assert ours[-1].abs().max() > 0  # the zero vector moved, by lr * eps2 per step


def test_step_is_relative_to_parameter_rms():
    """W -> 2^k W (exact in float64) with the same gradients: every step is 2^k times larger (wd = 0)."""
    grads = make_grads(5)
    ps, big = make_params()[:3], [2.0 ** 6 * p for p in make_params()[:3]]
    run(AdamPS(ps, lr=0.3), [g[:3] for g in grads])
    run(AdamPS(big, lr=0.3), [g[:3] for g in grads])
    for x, y, p0 in zip(ps, big, make_params()[:3]):
        torch.testing.assert_close(y - 2.0 ** 6 * p0, 2.0 ** 6 * (x - p0), rtol=1e-13, atol=0)


def test_eps2_floor_sets_the_step_of_small_tensors_only():
    def first_step(p0, eps2):
        p = p0.clone()
        p.grad = torch.tensor([1.0, -2.0, 0.5, 3.0], dtype=torch.float64)
        AdamPS([p], lr=0.1, eps=0.0, eps2=eps2).step()  # first Adam direction: sign(g)
        return p - p0
    zero, big = torch.zeros(4, dtype=torch.float64), torch.full((4,), 0.5, dtype=torch.float64)
    sign = torch.tensor([1.0, -1.0, 1.0, 1.0], dtype=torch.float64)
    torch.testing.assert_close(first_step(zero, 1e-3), -0.1 * 1e-3 * sign, rtol=1e-15, atol=0)
    torch.testing.assert_close(first_step(zero, 1e-2), -0.1 * 1e-2 * sign, rtol=1e-15, atol=0)
    assert torch.equal(first_step(big, 1e-3), first_step(big, 1e-2))  # RMS 0.5 > eps2: the floor is inactive
    torch.testing.assert_close(first_step(big, 1e-3), -0.1 * 0.5 * sign, rtol=1e-15, atol=0)


def test_from_config_and_group_hyperparameters():
    groups = [dict(params=[torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))], lr=0.1, eps=0.0,
                   weight_decay=0.0)]
    opt = optim.build_optimizer('adam_ps', groups, optim_config(learning_rate=0.1, beta1=0.8, beta2=0.9,
                                                                adam_ps_eps2=0.02))
    assert opt.param_groups[0]['eps2'] == 0.02 and opt.param_groups[0]['betas'] == (0.8, 0.9)
    assert AdamPS.family == 'adafactor' and AdamPS.hparams == {'adam_ps_eps2': 1e-3}
    p = opt.param_groups[0]['params'][0]
    p.grad = torch.ones(3, dtype=torch.float64)
    opt.param_groups[0]['eps2'] = 0.05  # read from the group on every step
    opt.step()
    torch.testing.assert_close(p, torch.full((3,), -0.1 * 0.05, dtype=torch.float64), rtol=1e-15, atol=0)
