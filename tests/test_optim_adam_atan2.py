"""Adam-atan2 (optim/adam_atan2.py) against adam-atan2-pytorch (lucidrains, test-only reference), a plain
transcription of Everett et al. App. C.5 + AdamW decay, and torch Adam in the small-angle limit. CPU, float64.
    pytest tests/test_optim_adam_atan2.py
"""

import math

import pytest
import torch
from adam_atan2_pytorch import AdamAtan2 as RefAdamAtan2

import optim
from conftest import optim_config
from optim.adam_atan2 import AdamAtan2

SHAPES = [(8, 8), (5, 3), (7,)]  # square matrix, non-square matrix, vector
# float64 and the same operations up to order (lerp vs mul/add, where b multiplies): differences are rounding,
# a few ulps per step; 1e-12 leaves three orders of magnitude and still catches any change of the rule
TOL = dict(rtol=1e-12, atol=1e-12)


def make_params(seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(*s, generator=g, dtype=torch.float64) for s in SHAPES]


def make_grads(steps, seed=1, scale=1.0):
    """Per step, one gradient per parameter; entries of mixed size so atan2 works off its linear region too."""
    g = torch.Generator().manual_seed(seed)
    return [[scale * torch.randn(*s, generator=g, dtype=torch.float64) * torch.rand(*s, generator=g,
             dtype=torch.float64).mul(3).exp() for s in SHAPES] for _ in range(steps)]


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


@pytest.mark.parametrize('a,b', [(1.0, 1.0), (1.27, 1.0), (0.5, 2.0)])
def test_matches_adam_atan2_pytorch(a, b):
    grads = make_grads(10)
    ours = run(AdamAtan2(make_params(), lr=1e-2, betas=(0.9, 0.99), a=a, b=b), grads)
    ref = run(RefAdamAtan2(make_params(), lr=1e-2, betas=(0.9, 0.99), a=a, b=b), grads)
    for x, y in zip(ours, ref):
        torch.testing.assert_close(x, y, **TOL)  # measured max |diff| ~2e-16 (a, b = 1.27, 1)


def transcription(params, grads, lrs, betas, a, b, wd):
    """Everett App. C.5 (update = a * atan2(m_hat, b * sqrt(v_hat))) with torch AdamW's decay p *= 1 - lr * wd."""
    b1, b2 = betas
    m = [torch.zeros_like(p) for p in params]
    v = [torch.zeros_like(p) for p in params]
    for t, (gs, lr) in enumerate(zip(grads, lrs), start=1):
        for i, g in enumerate(gs):
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            m_hat, v_hat = m[i] / (1 - b1 ** t), v[i] / (1 - b2 ** t)
            params[i] = params[i] * (1 - lr * wd) - lr * a * torch.atan2(m_hat, b * torch.sqrt(v_hat))
    return params


def test_weight_decay_matches_transcription_and_lucidrains_default():
    grads, lrs = make_grads(8), [0.1, 0.1, 0.05, 0.05, 0.02, 0.02, 0.01, 0.01]  # decay follows the current LR
    kw = dict(betas=(0.9, 0.95), a=1.27, b=0.8)
    ours = run(AdamAtan2(make_params(), lr=0.1, weight_decay=0.3, **kw), grads, lrs)
    for x, y in zip(ours, transcription(make_params(), grads, lrs, wd=0.3, **kw)):
        torch.testing.assert_close(x, y, **TOL)
    # adam-atan2-pytorch 0.4.1 with decoupled_wd=False uses the same p * (1 - lr * wd)
    ref = run(RefAdamAtan2(make_params(), lr=0.1, weight_decay=0.3, **kw), grads, lrs)
    for x, y in zip(ours, ref):
        torch.testing.assert_close(x, y, **TOL)
    # ... and its decoupled_wd=True uses p * (1 - (lr / initial_lr) * wd): different once the LR has moved
    ref = run(RefAdamAtan2(make_params(), lr=0.1, weight_decay=0.3, decoupled_wd=True, **kw), grads, lrs)
    assert max((x - y).abs().max().item() for x, y in zip(ours, ref)) > 1e-3


def test_small_ratio_is_a_over_b_times_adam():
    """|m_hat| << b sqrt(v_hat): a * atan2(m_hat, b sqrt(v_hat)) = (a / b) m_hat / sqrt(v_hat) (1 + O(b^-2))."""
    a, b, grads = 3e4, 1e4, make_grads(10)
    ours = run(AdamAtan2(make_params(), lr=1e-3, betas=(0.9, 0.99), a=a, b=b), grads)
    adam = run(torch.optim.Adam(make_params(), lr=1e-3 * a / b, betas=(0.9, 0.99), eps=0.0, foreach=False), grads)
    for x, y, p0 in zip(ours, adam, make_params()):
        # the atan cubic term is |x|^3 / (3 b^2) <~ 1e-8 of a unit step; the total move is O(10 lr a / b)
        torch.testing.assert_close(x - p0, y - p0, rtol=1e-7, atol=1e-10)
        assert (x - p0).abs().max() > 1e-3


def test_first_step_is_a_arctan_one_over_b_and_zero_gradient_is_no_move():
    p = torch.zeros(5, dtype=torch.float64)
    p.grad = torch.tensor([2.0, -1e-30, 0.0, 1e30, -3.0], dtype=torch.float64)
    for a, b in [(1.0, 1.0), (1.27, 1.0), (2.0, 0.5)]:
        q = p.clone()
        q.grad = p.grad.clone()
        AdamAtan2([q], lr=0.1, a=a, b=b).step()  # m_hat = g, sqrt(v_hat) = |g|: atan2(g, b |g|) = sign(g) atan(1/b)
        step = 0.1 * a * math.atan(1 / b)
        torch.testing.assert_close(q, torch.tensor([-step, step, 0.0, -step, step], dtype=torch.float64),
                                   rtol=1e-15, atol=0)


def test_gradient_scale_invariant_and_eps_ignored():
    """Scaling every gradient by 2^-100 (exact in float64) or changing group eps leaves the run bitwise equal."""
    base = run(AdamAtan2(make_params(), lr=1e-2), make_grads(6))
    tiny = run(AdamAtan2(make_params(), lr=1e-2), make_grads(6, scale=2.0 ** -100))
    eps = run(AdamAtan2([dict(params=make_params(), eps=1.0)], lr=1e-2), make_grads(6))
    assert all(torch.equal(x, y) and torch.equal(x, z) for x, y, z in zip(base, tiny, eps))
    # torch Adam's epsilon is not scale-invariant: the same tiny gradients barely move it
    adam = run(torch.optim.Adam(make_params(), lr=1e-2, eps=1e-8, foreach=False), make_grads(6, scale=2.0 ** -100))
    assert max((x - y).abs().max().item() for x, y in zip(adam, make_params())) < 1e-20


def test_from_config_reads_a_and_b_into_every_group():
    groups = [dict(params=[torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))], lr=0.1, eps=1e-8,
                   weight_decay=0.0)]
    opt = optim.build_optimizer('adam_atan2', groups, optim_config(learning_rate=0.1, beta1=0.8, beta2=0.9,
                                                                   adam_atan2_a=2.0, adam_atan2_b=0.5))
    assert opt.param_groups[0]['a'] == 2.0 and opt.param_groups[0]['b'] == 0.5
    assert opt.param_groups[0]['betas'] == (0.8, 0.9)
    assert AdamAtan2.hparams == {'adam_atan2_a': 1.0, 'adam_atan2_b': 1.0}  # the paper's a = b = 1
    p = opt.param_groups[0]['params'][0]
    p.grad = torch.ones(3, dtype=torch.float64)
    opt.param_groups[0]['a'] = 4.0  # read from the group on every step
    opt.step()
    torch.testing.assert_close(p, torch.full((3,), -0.1 * 4.0 * math.atan(2.0), dtype=torch.float64))
