"""ADOPT (optim/adopt.py) against the official implementation (torch-adopt `adopt.ADOPT`, single-tensor path),
with and without clipping, coupled and decoupled weight decay; plus the first-step and flag behaviour. float64.

    pytest tests/test_optim_adopt.py
"""

import adopt
import pytest
import torch

import optim
from conftest import optim_config
from optim.adopt import ADOPT

# the reference package calls torch APIs that torch 2.13 deprecates: not ours to fix
pytestmark = [pytest.mark.filterwarnings('ignore::DeprecationWarning'),
              pytest.mark.filterwarnings('ignore:.*is_compiling.*:UserWarning')]
SHAPES = [(5, 5), (4, 7), (6,)]
# float64; the only difference in the arithmetic is p * (1 - lr wd) here vs p + (-lr wd) p there (decoupled wd),
# a rounding-level difference compounded over the steps
TOL = dict(rtol=1e-12, atol=1e-13)


def make_params(seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.nn.Parameter(torch.randn(*s, generator=g, dtype=torch.float64)) for s in SHAPES]


def run(opt, params, steps, seed=1, scales=None):
    """Gradients g = scale_t * (noise + 0.5 p); the same sequence for every optimizer given the same params."""
    g = torch.Generator().manual_seed(seed)
    for t in range(steps):
        s = 1.0 if scales is None else scales[t]
        for p in params:
            p.grad = s * (torch.randn(p.shape, generator=g, dtype=torch.float64) + 0.5 * p.detach())
        opt.step()
    return params


def clone(params):
    return [torch.nn.Parameter(p.detach().clone()) for p in params]


# a gradient scale that jumps x30 at step 3 and x0.01 at step 6 makes the clip at k^(1/4) bind
SCALES = [1, 1, 30, 1, 1, 0.01, 1, 1, 1, 1]


@pytest.mark.parametrize('clip', [True, False])
@pytest.mark.parametrize('decouple', [False, True])
def test_matches_official_adopt(clip, decouple):
    params = make_params()
    ref_params = clone(params)
    kw = dict(lr=0.05, betas=(0.9, 0.99), eps=1e-6, weight_decay=0.1, decouple=decouple)
    ours = ADOPT(params, clip=clip, **kw)
    ref = adopt.ADOPT(ref_params, clip_lambda=(lambda step: step ** 0.25) if clip else None, foreach=False, **kw)
    run(ours, params, 10, scales=SCALES)
    run(ref, ref_params, 10, scales=SCALES)
    for a, b in zip(params, ref_params):
        torch.testing.assert_close(a, b, **TOL)


def test_clip_binds_and_changes_the_result():
    """Step 1 (k = 1) with a gradient 100x the first: |g / sqrt(v_0)| = 100 is clipped to 1^(1/4) = 1."""
    out = {}
    for clip in (True, False):
        p = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
        opt = ADOPT([p], lr=0.1, betas=(0.9, 0.9999), clip=clip)
        p.grad = torch.tensor([1.0, -1.0, 0.5], dtype=torch.float64)
        opt.step()
        assert torch.equal(p.detach(), torch.zeros(3, dtype=torch.float64))  # the first call only sets v
        p.grad = 100 * p.grad
        opt.step()
        out[clip] = p.detach().clone()
    torch.testing.assert_close(out[True], -0.1 * 0.1 * torch.tensor([1.0, -1.0, 1.0], dtype=torch.float64), **TOL)
    torch.testing.assert_close(out[False], -0.1 * 0.1 * torch.tensor([100.0, -100.0, 100.0], dtype=torch.float64),
                               **TOL)


def test_first_step_only_sets_v():
    """No parameter update and no decoupled decay on the first call; coupled decay enters v."""
    for decouple in (False, True):
        p = torch.nn.Parameter(torch.tensor([1.0, 2.0], dtype=torch.float64))
        opt = ADOPT([p], lr=0.1, weight_decay=0.5, decouple=decouple)
        p.grad = torch.tensor([0.3, -0.4], dtype=torch.float64)
        opt.step()
        assert torch.equal(p.detach(), torch.tensor([1.0, 2.0], dtype=torch.float64))
        g = p.grad + (0 if decouple else 0.5 * p.detach())
        torch.testing.assert_close(opt.state[p]['exp_avg_sq'], g * g, **TOL)
        assert opt.state[p]['step'] == 1 and not opt.state[p]['exp_avg'].any()


def test_decoupled_wd_follows_the_flag_and_config():
    assert optim.decouples_wd('adopt', {}) is False
    assert optim.decouples_wd('adopt', {'adopt_decouple': True}) is True
    params = make_params()
    cfg = optim_config(learning_rate=3e-3, beta1=0.8, beta2=0.9999, adopt_clip=False, adopt_decouple=True)
    opt = optim.from_config(ADOPT, [dict(params=params, lr=3e-3, eps=1e-6, weight_decay=0.1)], cfg)
    g = opt.param_groups[0]
    assert (g['betas'], g['clip'], g['decouple'], g['eps']) == ((0.8, 0.9999), False, True, 1e-6)
    assert ADOPT.family == 'adam' and set(ADOPT.hparams) == {'adopt_clip', 'adopt_decouple'}
