"""Adafactor (optim/adafactor.py) against torch.optim.Adafactor (relative-step cap on, no momentum) and, for the
momentum option, pytorch_optimizer.AdaFactor; plus the flags (LR cap, parameter scaling). float64 on CPU.

    pytest tests/test_optim_adafactor.py
"""

import pytest
import torch
from pytorch_optimizer import AdaFactor as PTOAdaFactor

import optim
from conftest import optim_config
from optim.adafactor import Adafactor

SHAPES = [(5, 5), (4, 7), (6,)]  # square, non-square (factored over rows and columns), vector (not factored)
# float64 end to end; ours and the reference order a few reductions differently (mean of g^2 vs norm^2 / n,
# division vs rsqrt-multiply), so they agree to rounding, compounded over the steps
TOL = dict(rtol=1e-12, atol=1e-13)


def make_params(seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.nn.Parameter(torch.randn(*s, generator=g, dtype=torch.float64)) for s in SHAPES]


def run(opt, params, steps, grad_scale=1.0, seed=1):
    """Gradients g = scale * (noise + 0.5 p): the same sequence for every optimizer given the same params."""
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        for p in params:
            p.grad = grad_scale * (torch.randn(p.shape, generator=g, dtype=torch.float64) + 0.5 * p.detach())
        opt.step()
    return params


def clone(params):
    return [torch.nn.Parameter(p.detach().clone()) for p in params]


# (lr, eps1, beta2_decay, d, weight_decay, grad scale): lr 0.5 makes the 1/sqrt(t) cap bind from t = 5 on;
# eps1 1e-3 with gradients ~1e-3 makes the eps1 floors active; d 1.2 and decay -0.6 are non-defaults
CASES = [(1e-2, None, -0.8, 1.0, 0.0, 1.0),
         (0.5, None, -0.8, 1.0, 0.1, 1.0),
         (0.5, 1e-3, -0.6, 1.2, 0.05, 1e-3)]


@pytest.mark.parametrize('lr,eps,decay,d,wd,scale', CASES)
def test_matches_torch_adafactor(lr, eps, decay, d, wd, scale):
    params = make_params()
    ref_params = clone(params)
    ours = Adafactor([dict(params=params, eps=eps)], lr=lr, beta2_decay=decay, clip_threshold=d, weight_decay=wd,
                     relative_step=True)  # torch always caps rho_t at 1/sqrt(t)
    ref = torch.optim.Adafactor(ref_params, lr=lr, beta2_decay=decay, eps=(eps, 1e-3), d=d, weight_decay=wd,
                                foreach=False)
    run(ours, params, 12, scale)
    run(ref, ref_params, 12, scale)
    for a, b in zip(params, ref_params):
        torch.testing.assert_close(a, b, **TOL)
        assert not torch.equal(a, make_params()[SHAPES.index(tuple(a.shape))])  # it did move


def test_momentum_matches_pytorch_optimizer():
    """adafactor_momentum: an EMA of the scaled step alpha_t U^ (tensor2tensor's convention, as PTO's AdaFactor).
    PTO adds eps1 = 1e-30 to g^2 instead of flooring: a relative 1e-30 change, invisible in float64."""
    params = make_params()
    ref_params = clone(params)
    ours = Adafactor([dict(params=params, eps=1e-30)], lr=0.05, momentum=True, beta1=0.9)
    ref = PTOAdaFactor(ref_params, lr=0.05, betas=(0.9, 0.999), relative_step=False, scale_parameter=True,
                       eps1=1e-30, eps2=1e-3, clip_threshold=1.0, momentum_dtype=torch.float64, foreach=False)
    run(ours, params, 12)
    run(ref, ref_params, 12)
    for a, b in zip(params, ref_params):
        torch.testing.assert_close(a, b, **TOL)
    # and momentum does change the trajectory
    plain = clone(make_params())
    run(Adafactor([dict(params=plain, eps=1e-30)], lr=0.05), plain, 12)
    assert not torch.allclose(plain[0], params[0])


def steps_over_rms(relative_step, lr, steps=6):
    """Constant gradient on a vector: V^ = g^2 exactly, U = sign(g), no clipping, so each step is
    alpha_t * sign(g) with alpha_t = RMS(theta_{t-1}) * rho_t. Returns rho_t per step."""
    p = torch.nn.Parameter(torch.linspace(1.0, 2.0, 8, dtype=torch.float64))
    g = torch.linspace(-1.0, 1.5, 8, dtype=torch.float64) + 0.01  # no zero entry
    opt = Adafactor([dict(params=[p], eps=1e-30)], lr=lr, relative_step=relative_step)
    rhos = []
    for _ in range(steps):
        before = p.detach().clone()
        p.grad = g.clone()
        opt.step()
        rms = before.norm() / before.numel() ** 0.5
        rhos.append(((before - p.detach()) / g.sign() / rms).tolist())
    return rhos


def test_no_lr_cap_by_default():
    """Cap off (our default): rho_t = lr even when lr >> 1/sqrt(t); cap on: min(lr, 1/sqrt(t)) as torch."""
    lr = 3.0
    for t, rho in enumerate(steps_over_rms(False, lr), start=1):
        assert rho == pytest.approx([lr] * 8, rel=1e-12), t
    for t, rho in enumerate(steps_over_rms(True, lr), start=1):
        assert rho == pytest.approx([min(lr, t ** -0.5)] * 8, rel=1e-12), t


def test_scale_parameter_flag():
    """Without parameter scaling the first step is the scaled one divided by max(eps2, RMS(theta_0))."""
    deltas = {}
    for scale in (True, False):
        params = make_params()
        before = [p.detach().clone() for p in params]
        run(Adafactor([dict(params=params, eps=None)], lr=0.1, scale_parameter=scale), params, 1)
        deltas[scale] = [b - p.detach() for b, p in zip(before, params)]
    for b, d_on, d_off in zip(make_params(), deltas[True], deltas[False]):
        rms = max(1e-3, (b.norm() / b.numel() ** 0.5).item())
        torch.testing.assert_close(d_on, d_off * rms, **TOL)
        assert not torch.allclose(d_on, d_off)


def test_eps2_floor_on_zero_params():
    """A zero-initialised tensor (biases) moves by eps2 * lr * U^: the eps2 floor of the parameter scale."""
    p = torch.nn.Parameter(torch.zeros(4, dtype=torch.float64))
    p.grad = torch.tensor([1.0, -2.0, 3.0, -4.0], dtype=torch.float64)
    Adafactor([dict(params=[p], eps=None)], lr=0.1, eps2=1e-3).step()
    torch.testing.assert_close(p.detach(), -1e-4 * p.grad.sign(), **TOL)  # first step: U^ = sign(g)


def test_from_config_reads_its_keys():
    params = make_params()
    cfg = optim_config(learning_rate=0.02, beta1=0.8, adafactor_beta2_decay=-0.7, adafactor_clip_threshold=1.5,
                       adafactor_eps2=1e-4, adafactor_scale_parameter=False, adafactor_relative_step=True,
                       adafactor_momentum=True)
    opt = optim.from_config(Adafactor, [dict(params=params, lr=0.02, eps=1e-8, weight_decay=0.0)], cfg)
    g = opt.param_groups[0]
    assert (g['beta2_decay'], g['clip_threshold'], g['eps2'], g['scale_parameter'], g['relative_step'], g['momentum'],
            g['beta1']) == (-0.7, 1.5, 1e-4, False, True, True, 0.8)
    assert Adafactor.family == 'adafactor' and Adafactor.decoupled_wd is True
    assert set(Adafactor.hparams) == {k for k in cfg if k.startswith('adafactor_')}
