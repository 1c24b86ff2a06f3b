"""SPlus (optim/splus.py) against pytorch_optimizer.SPlus and a plain transcription of the official torch step
(kvfrans/splus torch/splus.py), plus its flags, eval-time weights, dtypes and the eigh fallback.
pytest tests/test_optim_splus.py
"""

import copy

import pytest
import torch
from pytorch_optimizer import SPlus as PTOSPlus

import optim
from conftest import optim_config
from optim.splus import SPlus, refreshed_basis

SHAPES = [(5, 5), (6, 4), (3, 7), (5,)]  # square, tall, wide, vector


def make_params(shapes=SHAPES, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.nn.Parameter(torch.randn(*s, generator=g, dtype=dtype)) for s in shapes]


def make_grads(params, steps, seed=1):
    """Fixed gradient sequence (steps x params): the updates do not depend on the weights, so any mismatch is
    a real one, not chaos amplified through a loss."""
    g = torch.Generator().manual_seed(seed)
    return [[torch.randn(p.shape, generator=g, dtype=p.dtype) for p in params] for _ in range(steps)]


def drive(opt, params, grads):
    """Step opt through the gradient sequence; returns the weights after each step."""
    out = []
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = g.clone()
        opt.step()
        out.append([p.detach().clone() for p in params])
    return out


def transcription(ps, grads, lr, b1=0.9, b2=0.999, ema_rate=0.999, inverse_every=3, eps=1e-30, wd=0.0,
                  max_dim=10000, c=1e-3, scale=lambda m, n: 2 / (m + n), order='official', sign_only=()):
    """torch/splus.py's step written out plainly (scale 2/(m+n) as in eq. 15; the file literally has
    1/(m+n)/2). ps: tensors updated in place; sign_only: indices treated as nonstandard ('role'). order='optax':
    EMA of the pre-update weights and W <- W - s (U + wd W). Returns the per-parameter state."""
    st = []
    for p in ps:
        rot = p.ndim == 2
        st.append(dict(step=0, m=torch.zeros_like(p), ema=torch.zeros_like(p),
                       sides=[torch.zeros(d, d, dtype=p.dtype) if d < max_dim else None for d in p.shape]
                       if rot else None,
                       q=[torch.eye(d, dtype=p.dtype) if d < max_dim else None for d in p.shape] if rot else None))
    for gs in grads:
        for i, (p, g, s) in enumerate(zip(ps, gs, st)):
            if p.ndim != 2 or p.shape[0] > max_dim or p.shape[1] > max_dim or i in sign_only:
                lr_s = lr * c
            else:
                lr_s = lr * scale(p.shape[0], p.shape[1])
            s['step'] += 1
            s['m'] = torch.lerp(s['m'], g, 1 - b1)
            if p.ndim == 2 and i not in sign_only:
                m = s['m']
                QL, QR = s['q']
                m = QL.T @ m if QL is not None else m
                m = m @ QR if QR is not None else m
                L, R = s['sides']
                s['sides'] = [torch.lerp(L, g @ g.T, 1 - b2) if L is not None else None,
                              torch.lerp(R, g.T @ g, 1 - b2) if R is not None else None]
                u = torch.sign(m)
                u = QL @ u if QL is not None else u
                u = u @ QR.T if QR is not None else u
                if s['step'] == 1 or s['step'] % inverse_every == 0:
                    s['q'] = [torch.linalg.eigh(S + eps * torch.eye(S.shape[0], dtype=S.dtype))[1]
                              if S is not None else None for S in s['sides']]
            else:
                u = torch.sign(s['m'])
            if order == 'official':
                p.add_(u, alpha=-lr_s)
                s['ema'] = torch.lerp(s['ema'], p, 1 - ema_rate)
                p.mul_(1 - lr_s * wd)
            else:
                s['ema'] = torch.lerp(s['ema'], p, 1 - ema_rate)
                p.sub_(lr_s * (u + wd * p))
    return st


def ours(params, lr, wd=0.0, **kw):
    kw = {'inverse_every': 3, **kw}
    return SPlus(params, lr=lr, weight_decay=wd, **kw)


@pytest.mark.parametrize('wd', [0.0, 0.1])
def test_matches_pytorch_optimizer(wd):
    # float32: pytorch_optimizer runs eigh in float32 whatever the dtype. Same ops in the same order, so the
    # weights agree to rounding (measured: bitwise); a rotated sign flipping would be an O(lr) jump, not 1e-6.
    # 7 steps with inverse_every=3: bases refreshed at steps 1, 3 and 6; wd > 0 too (PTO decays after the
    # update and the EMA, like the official file).
    params = make_params(dtype=torch.float32)
    ref = [torch.nn.Parameter(p.detach().clone()) for p in params]
    grads = make_grads(params, 7)
    opt = ours(params, lr=0.3, wd=wd)
    pto = PTOSPlus(ref, lr=0.3, weight_decay=wd, inverse_steps=3, foreach=False)
    for wa, wb in zip(drive(opt, params, grads), drive(pto, ref, grads)):
        for x, y in zip(wa, wb):
            torch.testing.assert_close(x, y, rtol=1e-6, atol=1e-6)
    opt.eval()  # eval weights: the bias-corrected EMA, both ways
    pto.eval()
    for x, y in zip(params, ref):
        torch.testing.assert_close(x, y, rtol=1e-6, atol=1e-6)


def test_matches_official_transcription_with_weight_decay():
    # float64, same products in the same order: agreement to 1e-12 (measured: bitwise), across two refreshes
    params = make_params()
    ref = [p.detach().clone() for p in params]
    grads = make_grads(params, 8)
    opt = ours(params, lr=0.3, wd=0.5)
    drive(opt, params, grads)
    st = transcription(ref, grads, lr=0.3, wd=0.5)
    for p, r, s in zip(params, ref, st):
        torch.testing.assert_close(p.detach(), r, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(opt.state[p]['ema'], s['ema'], rtol=1e-12, atol=1e-12)
        assert opt.state[p]['step'] == s['step'] == 8


def test_literal_torch_file_scale_is_lr_over_4():
    # torch/splus.py computes 1 / (m + n) / 2 (4x smaller than eq. 15): that is ours with lr/4 and constant*4
    params = make_params()
    ref = [p.detach().clone() for p in params]
    grads = make_grads(params, 5)
    drive(ours(params, lr=0.3 / 4, wd=0.5, nonstandard_constant=4e-3), params, grads)
    transcription(ref, grads, lr=0.3, wd=0.5, scale=lambda m, n: 1 / (m + n) / 2)
    for p, r in zip(params, ref):
        torch.testing.assert_close(p.detach(), r, rtol=1e-12, atol=1e-12)


def test_first_step_is_plain_sign_then_bases_are_eigenvectors():
    p = torch.nn.Parameter(torch.randn(6, 4, dtype=torch.float64))
    p0 = p.detach().clone()
    g = torch.randn(6, 4, dtype=torch.float64)
    opt = SPlus([p], lr=0.2, weight_decay=0.0)
    p.grad = g.clone()
    opt.step()
    assert torch.equal(p.detach(), p0 - 0.2 * (2 / 10) * torch.sign(g))  # Q = I at t = 1: U = sign(M)
    L, R = 1e-3 * g @ g.T, 1e-3 * g.T @ g
    for Q, S in zip(opt.state[p]['bases'], (L, R)):  # refreshed after the update
        D = Q.T @ S @ Q
        torch.testing.assert_close(D, torch.diag(D.diagonal()), rtol=0, atol=1e-15)
        torch.testing.assert_close(Q.T @ Q, torch.eye(len(Q), dtype=Q.dtype), rtol=0, atol=1e-12)
        assert not torch.equal(Q, torch.eye(len(Q), dtype=Q.dtype))


def test_eval_train_round_trip_and_bias_corrected_ema():
    params = make_params()
    ref = [p.detach().clone() for p in params]
    grads = make_grads(params, 5)
    opt = ours(params, lr=0.3, wd=0.1, ema_rate=0.9)
    opt.eval()  # before any step: no state, nothing to swap
    assert all(torch.equal(p, r) for p, r in zip(params, ref))
    drive(opt, params, grads)
    st = transcription(ref, grads, lr=0.3, wd=0.1, ema_rate=0.9)
    live = [p.detach().clone() for p in params]
    opt.eval()
    evals = [p.detach().clone() for p in params]
    opt.eval()  # idempotent
    for p, e, s in zip(params, evals, st):
        assert torch.equal(p, e)
        torch.testing.assert_close(e, s['ema'] / (1 - 0.9 ** 5), rtol=1e-12, atol=1e-12)
        assert not torch.equal(e, s['ema'])
    with pytest.raises(RuntimeError, match='eval mode'):
        opt.step()
    opt.train()
    opt.train()  # idempotent
    assert all(torch.equal(p, x) for p, x in zip(params, live))  # bitwise
    assert all('train_weights' not in opt.state[p] for p in params)


def test_max_dim_one_sided():
    # max_dim=10: the 12-side has no statistics (identity) and the scale is the constant (12 > 10);
    # max_dim=12: still no 12-side (sides need d < max_dim) but the 2/(m+n) scale applies (d <= max_dim)
    for max_dim in (10, 12):
        params = make_params([(6, 12), (12, 5)])
        ref = [p.detach().clone() for p in params]
        grads = make_grads(params, 5)
        opt = ours(params, lr=0.3, wd=0.1, max_dim=max_dim)
        drive(opt, params, grads)
        transcription(ref, grads, lr=0.3, wd=0.1, max_dim=max_dim)
        for p, r in zip(params, ref):
            torch.testing.assert_close(p.detach(), r, rtol=1e-12, atol=1e-12)
        assert opt.state[params[0]]['sides'][1] is None and opt.state[params[0]]['bases'][1] is None
        assert opt.state[params[1]]['sides'][0] is None and opt.state[params[1]]['sides'][1].shape == (5, 5)
    # the scale: one step from zero momentum, Q = I
    for max_dim, scale in ((10, 1e-3), (12, 2 / 18)):
        p = torch.nn.Parameter(torch.zeros(6, 12, dtype=torch.float64))
        p.grad = torch.randn(6, 12, dtype=torch.float64)
        SPlus([p], lr=0.3, weight_decay=0.0, max_dim=max_dim).step()
        assert torch.equal(p.detach(), -0.3 * scale * torch.sign(p.grad))


def test_role_flag_makes_embedding_and_readout_sign_only():
    shapes = [(6, 4), (5, 5), (4, 6)]
    roles = ['embedding', 'hidden', 'readout']
    grads = make_grads(make_params(shapes), 6)
    results = {}
    for flag in ('shape', 'role'):
        params = make_params(shapes)
        groups = [dict(params=[p], role=r) for p, r in zip(params, roles)]
        opt = SPlus(groups, lr=0.3, weight_decay=0.1, inverse_every=2, nonstandard=flag)
        results[flag] = drive(opt, params, grads)
        if flag == 'role':
            assert 'sides' not in opt.state[params[0]] and 'sides' not in opt.state[params[2]]
            ref = [p.detach().clone() for p in make_params(shapes)]
            transcription(ref, grads, lr=0.3, wd=0.1, inverse_every=2, sign_only=(0, 2))
            for p, r in zip(params, ref):
                torch.testing.assert_close(p.detach(), r, rtol=1e-12, atol=1e-12)
    # role: embedding/readout step = -lr * 1e-3 * sign(momentum) (times the decay); hidden unchanged by the flag
    p0 = make_params(shapes)
    m = torch.zeros(6, 4, dtype=torch.float64)
    w = p0[0].detach().clone()
    for gs, after in zip(grads, results['role']):
        m = torch.lerp(m, gs[0], 0.1)
        w = (w - 0.3 * 1e-3 * torch.sign(m)) * (1 - 0.3 * 1e-3 * 0.1)
        torch.testing.assert_close(after[0], w, rtol=1e-13, atol=1e-13)
    assert all(torch.equal(a[1], b[1]) for a, b in zip(results['shape'], results['role']))
    assert not torch.allclose(results['shape'][-1][0], results['role'][-1][0])
    assert not torch.allclose(results['shape'][-1][2], results['role'][-1][2])


def test_optax_order():
    params = make_params()
    p0 = [p.detach().clone() for p in params]
    ref = [p.detach().clone() for p in params]
    grads = make_grads(params, 6)
    opt = ours(params, lr=0.3, wd=0.5, order='optax')
    drive(opt, params, grads)
    st = transcription(ref, grads, lr=0.3, wd=0.5, order='optax')
    for p, r, s in zip(params, ref, st):
        torch.testing.assert_close(p.detach(), r, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(opt.state[p]['ema'], s['ema'], rtol=1e-12, atol=1e-12)
    # the optax EMA averages pre-update weights: after one step the eval weights are the initial weights
    for order in ('optax', 'official'):
        params = [torch.nn.Parameter(p.clone()) for p in p0]
        opt = ours(params, lr=0.3, wd=0.5, order=order)
        drive(opt, params, grads[:1])
        opt.eval()
        close = all(torch.allclose(p, q, rtol=1e-13, atol=0) for p, q in zip(params, p0))
        assert close == (order == 'optax')


def test_bf16_params_keep_fp32_sides_through_state_dict():
    g = torch.Generator().manual_seed(0)
    params = [torch.nn.Parameter(torch.randn(4, 6, generator=g).bfloat16()),
              torch.nn.Parameter(torch.randn(4).bfloat16())]
    grads = [[torch.randn(p.shape, generator=g).bfloat16() for p in params] for _ in range(4)]
    opt = SPlus(params, lr=0.3, inverse_every=2)
    drive(opt, params, grads[:2])
    st = opt.state[params[0]]
    assert st['momentum'].dtype == torch.bfloat16 and st['ema'].dtype == torch.bfloat16
    assert all(t.dtype == torch.float32 for t in st['sides'] + st['bases'])
    params2 = [torch.nn.Parameter(p.detach().clone()) for p in params]
    opt2 = SPlus(params2, lr=0.3, inverse_every=2)
    opt2.load_state_dict(copy.deepcopy(opt.state_dict()))
    st2 = opt2.state[params2[0]]
    assert all(t2.dtype == torch.float32 and torch.equal(t, t2) for t, t2 in zip(st['sides'] + st['bases'],
                                                                                  st2['sides'] + st2['bases']))
    a, b = drive(opt, params, grads[2:]), drive(opt2, params2, grads[2:])
    assert all(torch.equal(x, y) for wa, wb in zip(a, b) for x, y in zip(wa, wb))


def test_setstate_with_a_param_without_state():
    # the official __setstate__ reads state['step'] of every param and crashes on one that never had a gradient
    params = make_params([(3, 4), (4,)])
    opt = SPlus(params, lr=0.1)
    params[0].grad = torch.ones(3, 4, dtype=torch.float64)
    opt.step()
    opt2 = copy.deepcopy(opt)
    assert opt2.state_dict()['state'].keys() == {0}
    opt2.load_state_dict(opt.state_dict())


def test_eigh_fallback(monkeypatch):
    S = torch.randn(5, 3)
    S = S @ S.T  # rank 3: PSD, singular
    real = torch.linalg.eigh

    def fails_in_float32(A):
        if A.dtype == torch.float32:
            raise torch.linalg.LinAlgError('no convergence')
        return real(A)
    monkeypatch.setattr(torch.linalg, 'eigh', fails_in_float32)
    Q = refreshed_basis(S, None, 1e-30)  # retried in float64 (optim/matrix.py), returned in float32
    assert Q.dtype == torch.float32
    D = Q.T @ S @ Q
    torch.testing.assert_close(D, torch.diag(D.diagonal()), rtol=0, atol=1e-4)

    def always_fails(A):
        raise torch.linalg.LinAlgError('no convergence')
    monkeypatch.setattr(torch.linalg, 'eigh', always_fails)
    old = torch.eye(5)
    assert refreshed_basis(S, old, 1e-30) is old  # keeps the previous basis
    p = torch.nn.Parameter(torch.randn(3, 4))
    p.grad = torch.randn(3, 4)
    opt = SPlus([p], lr=0.1)
    opt.step()  # the refresh at step 1 fails: the bases stay the identity
    assert all(torch.equal(Q, torch.eye(len(Q))) for Q in opt.state[p]['bases'])


def test_hparams_reach_the_optimizer():
    p = torch.nn.Parameter(torch.zeros(3, 4))
    cfg = optim_config(learning_rate=0.2, beta1=0.8, beta2=0.99, splus_ema_rate=0.9, splus_inverse_every=7,
                       splus_eigh_eps=1e-20, splus_max_dim=50, splus_nonstandard_constant=2e-3,
                       splus_nonstandard='role', splus_order='optax')
    groups = [dict(params=[p], lr=0.2, initial_lr=0.2, eps=1e-8, weight_decay=0.3)]
    g = optim.from_config(SPlus, groups, cfg).param_groups[0]
    assert (g['lr'], g['betas'], g['ema_rate'], g['inverse_every'], g['eigh_eps'], g['max_dim'],
            g['nonstandard_constant'], g['nonstandard'], g['order'], g['weight_decay']) == \
        (0.2, (0.8, 0.99), 0.9, 7, 1e-20, 50, 2e-3, 'role', 'optax', 0.3)
    with pytest.raises(ValueError):
        SPlus([p], nonstandard='name')
