"""LAMB (optim/lamb.py) against pytorch-optimizer's `Lamb` with its ||w|| clamp removed and its options matched,
and against a plain transcription of You et al. 2019 Algorithm 2 where pytorch-optimizer's conventions differ
(bias correction together with wd inside the update). float64, a square, a non-square and a 1-D parameter.
    pytest tests/test_optim_lamb.py
"""

import pytest
import torch
from pytorch_optimizer import Lamb as PTOLamb

import optim
from conftest import optim_config
from optim.lamb import LAMB

SHAPES = [(6, 6), (5, 9), (7,)]


class PTOLambNoClamp(PTOLamb):
    clamp = float('inf')  # pytorch-optimizer clamps ||w|| at 10; the paper (and our default) does not


def pto(params, lr, wd, eps, clamp=None, weight_decouple=False):
    # adam_debias=True: no 1/(1 - b1^t) on the final step (its default divides by it); foreach=False: the plain loop
    cls = PTOLamb if clamp == 10.0 else PTOLambNoClamp
    return cls(params, lr=lr, betas=(0.9, 0.99), weight_decay=wd, eps=eps, weight_decouple=weight_decouple,
               adam_debias=True, foreach=False)


def paper_lamb(params, grads_per_step, lr, wd, eps, beta1=0.9, beta2=0.99):
    """You et al. 2019 Algorithm 2, transcribed plainly (phi = identity, trust 1 when a norm is 0)."""
    x = [p.detach().clone() for p in params]
    m = [torch.zeros_like(p) for p in x]
    v = [torch.zeros_like(p) for p in x]
    for t, grads in enumerate(grads_per_step, start=1):
        for i, g in enumerate(grads):
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g * g
            m_hat, v_hat = m[i] / (1 - beta1 ** t), v[i] / (1 - beta2 ** t)
            r = m_hat / (torch.sqrt(v_hat) + eps)
            u = r + wd * x[i]
            wn, un = torch.norm(x[i]), torch.norm(u)
            ratio = wn / un if wn > 0 and un > 0 else 1.0
            x[i] = x[i] - lr * ratio * u
    return x


def make_params(seed=0, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return [torch.nn.Parameter(scale * torch.randn(*s, generator=g, dtype=torch.float64)) for s in SHAPES]


def gradients(steps, seed=1):
    g = torch.Generator().manual_seed(seed)
    return [[torch.randn(*s, generator=g, dtype=torch.float64) for s in SHAPES] for _ in range(steps)]


def run(opt, params, grads_per_step):
    for grads in grads_per_step:
        for p, gr in zip(params, grads):
            p.grad = gr.clone()
        opt.step()
    return [p.detach() for p in params]


def ours(params, lr, wd, eps, **kw):
    return LAMB(params, lr=lr, betas=(0.9, 0.99), eps=eps, weight_decay=wd, **kw)


def test_matches_pytorch_optimizer_without_wd():
    # bias correction on (ours) vs off (PTO): with wd = 0 a per-tensor scale of r cancels in the trust ratio; eps
    # tiny so that its different placements (sqrt(v_hat)+eps vs sqrt(v)+eps; ||u|| vs ||u||+eps) do not show.
    # float64, 8 steps: agreement to rounding (measured max |diff| ~ 1e-16).
    grads = gradients(8)
    a, b = make_params(), make_params()
    ra = run(ours(a, lr=0.05, wd=0.0, eps=1e-30), a, grads)
    rb = run(pto(b, lr=0.05, wd=0.0, eps=1e-30), b, grads)
    for x, y in zip(ra, rb):
        torch.testing.assert_close(x, y, rtol=1e-12, atol=1e-14)


def test_matches_pytorch_optimizer_wd_in_update_without_bias_correction():
    # lamb_bias_correction=False + wd > 0 is exactly PTO's weight_decouple=False (wd * w added to u, paper form)
    grads = gradients(8)
    a, b = make_params(), make_params()
    ra = run(ours(a, lr=0.05, wd=0.1, eps=1e-30, bias_correction=False), a, grads)
    rb = run(pto(b, lr=0.05, wd=0.1, eps=1e-30, weight_decouple=False), b, grads)
    for x, y in zip(ra, rb):
        torch.testing.assert_close(x, y, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize('eps', [1e-6, 1e-2])
def test_matches_paper_algorithm_with_wd(eps):
    # the default (bias correction, wd inside u, no clamp, ||u|| without eps) against Algorithm 2 itself;
    # eps = 1e-2 makes the eps placement matter. Same operations in a different order: 1e-12 relative.
    grads = gradients(8)
    a = make_params()
    expected = paper_lamb(a, grads, lr=0.05, wd=0.1, eps=eps)
    got = run(ours(a, lr=0.05, wd=0.1, eps=eps), a, grads)
    for x, y in zip(got, expected):
        torch.testing.assert_close(x, y, rtol=1e-12, atol=1e-14)


def test_clamp_flag_matches_pytorch_optimizer_clamp_and_changes_big_tensors():
    # ||w|| ~ 5 * sqrt(numel) > 10 for every tensor here: the clamp at 10 shrinks the step
    grads = gradients(5)
    a, b, c = make_params(scale=5.0), make_params(scale=5.0), make_params(scale=5.0)
    assert all(torch.norm(p) > 10 for p in a)
    clamped = run(ours(a, lr=0.05, wd=0.0, eps=1e-30, clamp=10.0), a, grads)
    reference = run(pto(b, lr=0.05, wd=0.0, eps=1e-30, clamp=10.0), b, grads)
    unclamped = run(ours(c, lr=0.05, wd=0.0, eps=1e-30), c, grads)
    start = make_params(scale=5.0)
    for x, y, z, p0 in zip(clamped, reference, unclamped, start):
        torch.testing.assert_close(x, y, rtol=1e-12, atol=1e-14)
        assert torch.norm(x - p0) < 0.99 * torch.norm(z - p0)  # smaller steps with the clamp


def test_step_size_is_lr_times_weight_norm():
    # ||dW||_F = lr * ||W||_F on every tensor, whatever the gradient scale (the property that makes the LR
    # width-independent); a zero tensor gets trust 1 (its step is lr * ||u||)
    params = make_params() + [torch.nn.Parameter(torch.zeros(4, dtype=torch.float64))]
    before = [p.detach().clone() for p in params]
    opt = ours(params, lr=0.01, wd=0.0, eps=1e-8)
    for p in params:
        p.grad = 1e3 * torch.randn_like(p)
    opt.step()
    for p, p0 in zip(params[:-1], before[:-1]):
        torch.testing.assert_close(torch.norm(p - p0), 0.01 * torch.norm(p0), rtol=1e-10, atol=0)
    # first step with bias correction: u = g / (|g| + eps) ~ sign(g), so ||dw|| = lr * ||u|| ~ lr * sqrt(4)
    torch.testing.assert_close(torch.norm(params[-1]), torch.tensor(0.02, dtype=torch.float64), rtol=1e-6, atol=0)


def test_bias_correction_flag_changes_result_with_wd():
    grads = gradients(3)
    a, b = make_params(), make_params()
    ra = run(ours(a, lr=0.05, wd=0.1, eps=1e-8), a, grads)
    rb = run(ours(b, lr=0.05, wd=0.1, eps=1e-8, bias_correction=False), b, grads)
    assert max((x - y).abs().max().item() for x, y in zip(ra, rb)) > 1e-6


def test_from_config_reads_flags():
    p = [torch.nn.Parameter(torch.ones(3))]
    groups = [dict(params=p, lr=0.1, initial_lr=0.1, eps=1e-8, weight_decay=0.0)]
    opt = optim.from_config(LAMB, groups, optim_config(learning_rate=0.1, beta1=0.8, beta2=0.9,
                                                       lamb_bias_correction=False, lamb_clamp=10.0))
    g = opt.param_groups[0]
    assert g['betas'] == (0.8, 0.9) and g['bias_correction'] is False and g['clamp'] == 10.0 and g['eps'] == 1e-8
    assert LAMB.family == 'adafactor'  # Gupta et al.'s rule: optimizer_family='invariant'
