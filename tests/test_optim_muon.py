"""Muon (optim/muon.py): the hidden path against torch.optim.Muon (which always runs Newton-Schulz in bfloat16, so
ours runs with muon_ns_dtype='bfloat16' there), Newton-Schulz against a transcription of the official
zeropower_via_newtonschulz5 in float64, and the auxiliary AdamW path against torch.optim.AdamW(foreach=False).
    pytest tests/test_optim_muon.py
"""

import pytest
import torch

import optim
from optim.muon import Muon, update_scale, zeropower_via_newtonschulz5

HIDDEN = [(6, 8), (7, 7), (9, 4)]  # wide (fan_out < fan_in), square, tall (transposed inside NS)
AUX = [('embedding', (11, 6)), ('readout', (5, 6)), ('vector', (6,)), ('hidden', (6,)), ('hidden', (2, 3, 4))]


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors: extra threads only spin (the test machine's 2 cores are shared)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def grads_for(shapes, steps, dtype, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [[torch.randn(s, generator=g, dtype=dtype) for s in shapes] for _ in range(steps)]


def run(opt, params, grads):
    for gs in grads:
        for p, gr in zip(params, gs):
            p.grad = gr.clone()
        opt.step()


def clones(shapes, dtype, seed=1):
    g = torch.Generator().manual_seed(seed)
    init = [torch.randn(s, generator=g, dtype=dtype) for s in shapes]
    return [torch.nn.Parameter(x.clone()) for x in init], [torch.nn.Parameter(x.clone()) for x in init]


@pytest.mark.parametrize('scale, torch_fn', [('original', 'original'), ('rms', 'match_rms_adamw')])
@pytest.mark.parametrize('nesterov', [True, False])
def test_hidden_path_matches_torch_muon(nesterov, scale, torch_fn):
    """6 steps, fp32 params, lr 0.02, wd 0.1, mu 0.95, 5 NS steps in bf16 as torch; muon_scale against torch's
    adjust_lr_fn ('rms' is torch's 'match_rms_adamw', Liu et al. 2025)."""
    ours, ref = clones(HIDDEN, torch.float32)
    a = Muon([dict(params=ours, role='hidden', lr=0.02, weight_decay=0.1)], nesterov=nesterov, ns_dtype='bfloat16',
             scale=scale)
    b = torch.optim.Muon(ref, lr=0.02, weight_decay=0.1, momentum=0.95, nesterov=nesterov, ns_steps=5,
                         adjust_lr_fn=torch_fn)
    grads = grads_for(HIDDEN, 6, torch.float32)
    run(a, ours, grads)
    run(b, ref, grads)
    for p, q, p0 in zip(ours, ref, clones(HIDDEN, torch.float32)[0]):
        # same bf16 matmuls in the same order; only the normalisation differs (||X|| + 1e-7 vs max(||X||, 1e-7)),
        # which rounds away in bf16: measured bitwise equal. Tolerance: 1e-6 of the distance travelled.
        assert (p - q).abs().max() <= 1e-6 * (q - p0).abs().max()
        torch.testing.assert_close(a.state[p]['momentum_buffer'], b.state[q]['momentum_buffer'], rtol=0, atol=0)


def official_newtonschulz5(G, steps=5):
    """KellerJordan/Muon zeropower_via_newtonschulz5, transcribed (dtype left as given)."""
    a, b, c = 3.4445, -4.7750, 2.0315
    X = G.clone()
    if G.size(-2) > G.size(-1):
        X = X.mT
    X = X / (X.norm(dim=(-2, -1), keepdim=True) + 1e-7)
    for _ in range(steps):
        A = X @ X.mT
        B = b * A + c * A @ A
        X = a * X + B @ X
    if G.size(-2) > G.size(-1):
        X = X.mT
    return X


@pytest.mark.parametrize('shape', [(16, 24), (24, 16), (20, 20)])
def test_newton_schulz_matches_official_in_float64(shape):
    G = torch.randn(shape, dtype=torch.float64)
    torch.testing.assert_close(zeropower_via_newtonschulz5(G, 5, torch.float64), official_newtonschulz5(G),
                               rtol=1e-12, atol=1e-12)  # same math, different op grouping: float64 rounding


@pytest.mark.parametrize('dtype', [torch.float32, torch.bfloat16])
def test_newton_schulz_singular_values_near_one(dtype):
    G = torch.randn(64, 32)
    s = torch.linalg.svdvals(zeropower_via_newtonschulz5(G, 5, dtype).float())
    # the quintic trades exactness for speed: singular values oscillate in roughly [0.7, 1.2] (measured 0.68-1.05
    # in bf16, 0.69-1.04 in fp32), not at 1 exactly (the blog; torch's docstring even says Uniform(0.5, 1.5))
    assert s.min() > 0.6 and s.max() < 1.25, (s.min(), s.max())
    assert torch.linalg.svdvals(G).max() / torch.linalg.svdvals(G).min() > 3  # G itself was far from orthogonal


def test_hidden_path_transcribed_in_float64():
    """Muon in float64 against the official update (buf.lerp_, Nesterov lerp, NS, shape scale, decoupled wd)."""
    ours, ref = clones(HIDDEN, torch.float64)
    a = Muon([dict(params=ours, role='hidden', lr=0.03, weight_decay=0.2)], momentum=0.9)
    grads = grads_for(HIDDEN, 4, torch.float64)
    run(a, ours, grads)
    bufs = [torch.zeros_like(p) for p in ref]
    with torch.no_grad():
        for gs in grads:
            for p, buf, g in zip(ref, bufs, gs):
                buf.lerp_(g, 1 - 0.9)
                O = official_newtonschulz5(g.lerp(buf, 0.9))
                p.mul_(1 - 0.03 * 0.2)
                p.add_(O * max(1, p.size(-2) / p.size(-1)) ** 0.5, alpha=-0.03)
    for p, q in zip(ours, ref):
        torch.testing.assert_close(p, q, rtol=1e-12, atol=1e-12)


def test_aux_path_matches_torch_adamw():
    """Embedding/readout/vector roles, a 1-D and a 3-D param in a hidden group: AdamW at lr x adam_lr_ratio,
    betas (0.9, 0.95), the group's eps and wd; float64, 5 steps."""
    shapes = [s for _, s in AUX]
    ours, ref = clones(shapes, torch.float64)
    groups = [dict(params=[p], role=role, lr=0.02, weight_decay=0.1, eps=1e-10) for (role, _), p in zip(AUX, ours)]
    a = Muon(groups, adam_lr_ratio=0.015, betas=(0.9, 0.95))
    b = torch.optim.AdamW(ref, lr=0.02 * 0.015, betas=(0.9, 0.95), eps=1e-10, weight_decay=0.1, foreach=False)
    grads = grads_for(shapes, 5, torch.float64)
    run(a, ours, grads)
    run(b, ref, grads)
    for p, q in zip(ours, ref):
        # official adam_update divides m and v by their bias corrections; torch folds them into step size and
        # denominator: equal up to float64 rounding
        torch.testing.assert_close(p, q, rtol=1e-12, atol=1e-14)
        assert 'momentum_buffer' not in a.state[p]


def test_roles_route_params():
    """A 2-D param of a hidden group (or a group without role) goes to Muon; any other role, or ndim != 2, to AdamW."""
    W, E, v = torch.zeros(4, 4), torch.zeros(4, 4), torch.zeros(4)
    assert Muon.uses_muon(dict(role='hidden'), W) and Muon.uses_muon({}, W)
    assert not Muon.uses_muon(dict(role='embedding'), E) and not Muon.uses_muon(dict(role='readout'), E)
    assert not Muon.uses_muon(dict(role='hidden'), v) and not Muon.uses_muon({}, torch.zeros(2, 2, 2))


def test_family_per_role():
    assert optim.family_of('muon', {}) == dict(embedding='adam', hidden='invariant', readout='adam', vector='adam')
    assert Muon.decoupled_wd is True


def test_family_follows_the_scale():
    """muon_scale='rms' puts the hidden matrices in the invariant_rms family by itself (no optimizer_family), and
    that gives a muP hidden LR ~ n^-1/2 whose product with the scale 0.2 sqrt(max(fan_out, fan_in)) is
    width-independent: the update's spectral size is what 'original' gives at every width, times a constant.
    optimizer_family still overrides every role."""
    import parameterization as P
    rms = dict(muon_scale='rms')
    assert optim.family_of('muon', rms) == dict(embedding='adam', hidden='invariant_rms', readout='adam',
                                                vector='adam')
    assert optim.family_of('muon', dict(muon_scale='original'))['hidden'] == 'invariant'
    assert set(optim.family_of('muon', dict(rms, optimizer_family='adam')).values()) == {'adam'}
    spectral = {}
    for width in (64, 256):
        cfg = dict(parameterization='mup', base_width=64, learning_rate=1.0, **rms)
        model, infos = P.build_model(cfg, dict(n_layer=1, n_head=2, n_embd=width, block_size=8, vocab_size=65))
        groups = P.param_groups(model, cfg, optim.family_of('muon', cfg), infos)
        lr = {n: g['lr'] for g in groups for n in g['names']}
        w = dict(model.named_parameters())
        spectral[width] = {n: lr[n] * update_scale(w[n].shape, 'rms') for n in
                           ('transformer.h.0.mlp.c_fc.weight', 'transformer.h.0.mlp.c_proj.weight')}
        assert lr['transformer.h.0.mlp.c_fc.weight'] == pytest.approx((width / 64) ** -0.5)
    for name, s in spectral[256].items():
        assert s == pytest.approx(spectral[64][name], rel=1e-12)


@pytest.mark.parametrize('shape', [(64, 32), (32, 64), (48, 48), (256, 64)])
def test_rms_update_is_0p2_lr(shape):
    """muon_scale='rms': with the exact polar factor U V^T of a full-rank gradient the update's RMS is 0.2 lr
    exactly (an (m, n) matrix of min(m, n) unit singular values has RMS 1/sqrt(max(m, n))); NS_5's singular values
    are not 1, so Muon's update has RMS 0.2 lr x RMS(singular values of NS_5) (measured 0.83-0.87 on these
    Gaussian matrices), the same at every shape within 0.05."""
    g = torch.randn(shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    U, _, Vh = torch.linalg.svd(g, full_matrices=False)
    rms = lambda t: t.pow(2).mean().sqrt().item()  # noqa: E731
    assert rms(update_scale(shape, 'rms') * (U @ Vh)) == pytest.approx(0.2, rel=1e-12)
    p = torch.nn.Parameter(torch.zeros(shape, dtype=torch.float64))
    opt = Muon([dict(params=[p], role='hidden', lr=0.02, weight_decay=0.0)], scale='rms', momentum=0.0,
               nesterov=False)
    p.grad = g.clone()
    opt.step()
    sv = torch.linalg.svdvals(zeropower_via_newtonschulz5(g, 5, torch.float64))
    ratio = rms(p.detach()) / (0.2 * 0.02)
    assert ratio == pytest.approx(sv.pow(2).mean().sqrt().item(), rel=1e-12)  # the update is 0.2 lr sqrt(max) NS_5
    assert 0.82 < ratio < 0.88, ratio


def test_old_scale_name_is_refused_in_one_line():
    with pytest.raises(ValueError, match=r"muon_scale='match_rms_adamw' \(torch.optim.Muon's name\) is spelled 'rms'"):
        Muon([torch.zeros(2, 2)], scale='match_rms_adamw')


def update(shape=(6, 8), steps=2, **kw):
    """The change of a param over two steps (the first step alone is proportional to g for every momentum)."""
    g = torch.Generator().manual_seed(0)
    p = torch.nn.Parameter(torch.randn(shape, generator=g, dtype=torch.float64))
    p0 = p.detach().clone()
    opt = Muon([dict(params=[p], role=kw.pop('role', 'hidden'), lr=0.02, weight_decay=0.0, eps=1e-10)], **kw)
    for _ in range(steps):
        p.grad = torch.randn(shape, generator=g, dtype=torch.float64)
        grad = p.grad.clone()
        opt.step()
        assert torch.equal(p.grad, grad)  # p.grad is never modified (the official Nesterov step writes into it)
    return p.detach() - p0


@pytest.mark.parametrize('shape', [(6, 8), (12, 4)])
def test_scale_flag(shape):
    ratio = (0.2 * max(shape) ** 0.5) / max(1, shape[0] / shape[1]) ** 0.5
    torch.testing.assert_close(update(shape, scale='rms'), ratio * update(shape), rtol=1e-12,
                               atol=1e-15)  # p - p0 cancels: absolute rounding of p
    assert update_scale(shape) == max(1, shape[0] / shape[1]) ** 0.5


def test_flags_change_the_result():
    base = update()
    assert not torch.allclose(update(nesterov=False), base)
    assert not torch.allclose(update(ns_steps=2), base)
    assert not torch.allclose(update(momentum=0.5), base)
    assert torch.equal(update(adam_lr_ratio=0.5), base)  # the ratio only touches the AdamW roles
    aux = update(role='vector', adam_lr_ratio=0.015)
    torch.testing.assert_close(update(role='vector', adam_lr_ratio=0.03), 2 * aux, rtol=1e-12, atol=0)
    with pytest.raises(ValueError):
        Muon([torch.zeros(2, 2)], scale='spectral')


def test_ns_dtype_auto_on_cpu_is_the_param_precision():
    """'auto' = float32/float64 on CPU: differs from an explicit bfloat16 run, equals an explicit float64 one."""
    assert torch.equal(update(ns_dtype='auto'), update(ns_dtype='float64'))
    assert not torch.equal(update(ns_dtype='auto'), update(ns_dtype='bfloat16'))


@pytest.mark.parametrize('split', [True, False])
def test_stacked_qkv_is_orthogonalised_per_block(split):
    """A parameter named ...attn.c_attn.weight (3d, d) is q, k, v stacked: with muon_split_qkv each (d, d) block is
    orthogonalised and scaled (sqrt(max(1, d/d)) = 1) on its own; without, the stack is one (3d, d) matrix (scale
    sqrt(3)). Other names are never split."""
    d = 8
    g = torch.randn(3 * d, d, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    names = ['transformer.h.0.attn.c_attn.weight', 'transformer.h.0.mlp.c_fc.weight']
    p = [torch.nn.Parameter(torch.zeros(3 * d, d, dtype=torch.float64)) for _ in names]
    opt = Muon([dict(params=p, names=names, role='hidden')], lr=1.0, momentum=0.0, nesterov=False,
               ns_dtype='float64', split_qkv=split)
    for q in p:
        q.grad = g.clone()
    opt.step()
    ns = lambda m: zeropower_via_newtonschulz5(m, 5, torch.float64)  # noqa: E731
    stacked = -ns(g) * 3 ** 0.5
    expected = -torch.cat([ns(b) for b in g.chunk(3)]) if split else stacked
    torch.testing.assert_close(p[0].detach(), expected)
    torch.testing.assert_close(p[1].detach(), stacked)  # another name: one matrix
