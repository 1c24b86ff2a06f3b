"""Triton kernels (optim/kernels) against their torch references, and the optimizers with the kernel forced against
their torch path. Without CUDA the kernels run in Triton's interpreter (tests/conftest.py sets TRITON_INTERPRET=1
before optim/kernels/*.py define them); with CUDA the same tests run compiled, fp32 and bf16, plus larger shapes.
pytest tests/test_kernels.py

Tolerances (all measured values are far inside them):
- fp32, rotation involved: relative 1e-5 of max |U|. The kernel sums the K products in BLOCK_K chunks where BLAS
  uses its own order: fp32 rounding, about sqrt(K) * 6e-8. The rotated momentum is built with |entries| >= 0.1, so
  no sign can flip on rounding; U is then the same up to that rounding. On CUDA fp32 tests turn TF32 off (the
  kernel follows torch.backends.cuda.matmul.allow_tf32) and one test runs with TF32 on at 1e-2.
- fp32 Sophia: 1e-6 relative and absolute: the same operations; FMA contraction can move m by an ulp.
- bf16: 2 bf16 ulps (rtol 1.6e-2, atol 2e-2 on O(1) values). The interpreter casts fp32 -> bf16 by truncation
  (GPUs round to nearest), and Sophia's kernel keeps its ratio in fp32 where torch rounds each intermediate.
"""

import os
import subprocess
import sys

import pytest
import torch
from conftest import ROOT, optim_config

import optim
from optim import kernels
from optim.sophia import SophiaG
from optim.splus import SPlus

CUDA = torch.cuda.is_available()
DEVICE = 'cuda' if CUDA else 'cpu'
if not kernels.HAS_TRITON:
    pytest.skip('triton is not installed (it is on Linux: requirements.txt)', allow_module_level=True)
from optim.kernels import sophia as sophia_k  # noqa: E402  (after the conftest has set TRITON_INTERPRET)
from optim.kernels import splus as splus_k  # noqa: E402

SHAPES = [(65, 64), (100, 37), (37, 100)] + ([(768, 3072), (3072, 768)] if CUDA else [])
SIDES = ['both', 'right', 'left']  # bases on both sides; only Q_R (rows >= max_dim); only Q_L (cols >= max_dim)
DTYPES = [torch.float32, torch.bfloat16]
TOL = {torch.float32: dict(rtol=1e-5, atol=1e-6), torch.bfloat16: dict(rtol=1.6e-2, atol=2e-2)}


@pytest.fixture(autouse=True)
def no_tf32():
    """IEEE fp32 in cuBLAS and in the kernel (it follows the flag), so fp32 comparisons can be tight."""
    old = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32 = old


def orthogonal(n, g):
    """A random (n, n) orthogonal fp32 matrix on DEVICE (QR in fp64 there: 3072 x 3072 is quick on a GPU)."""
    return torch.linalg.qr(torch.randn(n, n, generator=g).to(DEVICE, torch.float64))[0].float()


def rotation_case(shape, sides, dtype, seed=0):
    """(p, momentum, ema, QL, QR) on DEVICE: random orthogonal bases and a momentum whose rotation
    Q_L^T M Q_R has entries of size 0.1..1.1 (random signs), so rounding cannot flip a sign."""
    g = torch.Generator().manual_seed(seed)
    m, n = shape
    QL = orthogonal(m, g) if sides in ('both', 'left') else None
    QR = orthogonal(n, g) if sides in ('both', 'right') else None
    B = (0.1 + torch.rand(m, n, generator=g)) * torch.randn(m, n, generator=g).sign()  # (m, n) rotated momentum
    M = B.to(DEVICE)
    if QL is not None:
        M = QL @ M
    if QR is not None:
        M = M @ QR.T
    p, ema = (torch.randn(m, n, generator=g).to(DEVICE, dtype) for _ in range(2))
    return p, M.to(dtype), ema, QL, QR


def test_interpreter_is_used_without_cuda():
    # the kernels were defined by triton.jit in interpreter mode: that is what lets CPU tensors through
    assert splus_k.INTERPRETED == sophia_k.INTERPRETED == (not CUDA)


# -----------------------------------------------------------------------------
# SPlus: rotation-sign and the fused update

@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('sides', SIDES)
@pytest.mark.parametrize('shape', SHAPES)
def test_rotate_sign_update_matches_ref(shape, sides, dtype):
    p, M, ema, QL, QR = rotation_case(shape, sides, dtype)
    p_ref, ema_ref = p.clone(), ema.clone()
    hp = dict(scaled_lr=0.05, weight_decay=0.1, ema_rate=0.9)
    splus_k.rotate_sign_update_(p, M, ema, QL, QR, **hp)
    splus_k.rotate_sign_update_ref(p_ref, M, ema_ref, QL, QR, **hp)
    torch.testing.assert_close(p, p_ref, **TOL[dtype])
    torch.testing.assert_close(ema, ema_ref, **TOL[dtype])


@pytest.mark.parametrize('sides', SIDES)
@pytest.mark.parametrize('shape', SHAPES[:3])
def test_rotation_itself_to_1e_5(shape, sides):
    # W = 0, s = 1, no decay, EMA weight 1: the kernel leaves W = -U and EMA = -U, U compared relative to its max
    _, M, _, QL, QR = rotation_case(shape, sides, torch.float32, seed=1)
    p, ema = torch.zeros_like(M), torch.zeros_like(M)
    splus_k.rotate_sign_update_(p, M, ema, QL, QR, scaled_lr=1.0, weight_decay=0.0, ema_rate=0.0)
    u_ref = torch.zeros_like(M)
    splus_k.rotate_sign_update_ref(u_ref, M, torch.zeros_like(M), QL, QR, scaled_lr=1.0, weight_decay=0.0,
                                   ema_rate=0.0)
    scale = u_ref.abs().max().item()
    assert scale > 0.1
    torch.testing.assert_close(p, u_ref, rtol=0, atol=1e-5 * scale)
    assert torch.equal(ema, p)  # lerp with weight 1 is exactly the new W


def test_matmul_sign_exact_and_sign_of_zero_is_zero():
    # identity basis (SPlus's first step) and exact zeros in M: the products are exact, so the kernel's sign equals
    # torch.sign bitwise, zeros included (a momentum coordinate that is exactly 0 gets no update)
    M = torch.randn(40, 24, device=DEVICE)
    M[::3] = 0
    M[:, 5] = 0
    eye = torch.eye(24, device=DEVICE)
    S = splus_k.matmul_sign(M, eye)
    assert torch.equal(S, torch.sign(M)) and (S == 0).sum() == (M == 0).sum() > 0
    assert torch.equal(splus_k.matmul_sign(eye.T, M.T), torch.sign(M.T))  # strided operands (the Q_L^T M side)


def test_update_with_identity_basis_leaves_zero_momentum_coordinates_alone():
    M = torch.randn(30, 20, device=DEVICE)
    M[4] = 0
    p, ema = torch.randn(30, 20, device=DEVICE), torch.randn(30, 20, device=DEVICE)
    p0, p_ref, ema_ref = p.clone(), p.clone(), ema.clone()
    eyes = torch.eye(30, device=DEVICE), torch.eye(20, device=DEVICE)
    hp = dict(scaled_lr=0.1, weight_decay=0.5, ema_rate=0.9)
    splus_k.rotate_sign_update_(p, M, ema, *eyes, **hp)
    splus_k.rotate_sign_update_ref(p_ref, M, ema_ref, *eyes, **hp)
    torch.testing.assert_close(p, p_ref, rtol=1e-6, atol=1e-7)  # U = sign(M) exactly: only lerp/FMA rounding
    torch.testing.assert_close(ema, ema_ref, rtol=1e-6, atol=1e-7)
    assert torch.equal(p[4], p0[4] * (1 - 0.1 * 0.5))  # U = 0 on row 4: W only decayed


@pytest.mark.skipif(not CUDA, reason='TF32 exists only on CUDA; the interpreter is exact fp32')
def test_rotate_sign_update_tf32_as_in_training():
    torch.backends.cuda.matmul.allow_tf32 = True  # train.py's setting; the fixture restores it
    p, M, ema, QL, QR = rotation_case((768, 768), 'both', torch.float32)
    p_ref, ema_ref = p.clone(), ema.clone()
    hp = dict(scaled_lr=1.0, weight_decay=0.0, ema_rate=0.0)
    splus_k.rotate_sign_update_(p, M, ema, QL, QR, **hp)
    splus_k.rotate_sign_update_ref(p_ref, M, ema_ref, QL, QR, **hp)
    torch.testing.assert_close(p, p_ref, rtol=1e-2, atol=1e-2)  # TF32: 10-bit mantissa on both paths


def test_splus_launcher_asserts():
    a = torch.randn(6, 5, device=DEVICE)
    with pytest.raises(AssertionError, match='inner dimensions differ'):
        splus_k.matmul_sign(a, torch.randn(4, 3, device=DEVICE))
    with pytest.raises(AssertionError, match='float32/bfloat16/float16'):
        splus_k.matmul_sign(a.double(), torch.randn(5, 3, device=DEVICE, dtype=torch.float64))
    with pytest.raises(AssertionError, match=r'p has shape \(6, 4\), expected \(6, 3\)'):
        splus_k.matmul_update_(a, torch.randn(5, 3, device=DEVICE), torch.zeros(6, 4, device=DEVICE),
                               torch.zeros(6, 4, device=DEVICE), scaled_lr=1, weight_decay=0, ema_rate=0)
    with pytest.raises(AssertionError, match='zero stride'):
        splus_k.matmul_update_(a, torch.randn(5, 3, device=DEVICE), torch.zeros(1, 3, device=DEVICE).expand(6, 3),
                               torch.zeros(6, 3, device=DEVICE), scaled_lr=1, weight_decay=0, ema_rate=0)
    p = torch.zeros(6, 5, device=DEVICE)
    with pytest.raises(AssertionError, match='no basis on either side'):
        splus_k.rotate_sign_update_(p, a, p.clone(), None, None, scaled_lr=1, weight_decay=0, ema_rate=0)
    with pytest.raises(AssertionError, match=r'QR must be \(5, 5\) float32'):
        splus_k.rotate_sign_update_(p, a, p.clone(), None, torch.eye(5, device=DEVICE, dtype=torch.float64),
                                    scaled_lr=1, weight_decay=0, ema_rate=0)


# -----------------------------------------------------------------------------
# Sophia: multi-tensor clipped update

SOPHIA_SHAPES = [(13, 7), (37,), (300,), (128,), (1,), (0,), (64, 5)]  # partial, exact-multiple and empty chunks


def sophia_case(dtype, seed=0, shapes=SOPHIA_SHAPES):
    g = torch.Generator().manual_seed(seed)
    ps, gs, ms = ([torch.randn(s, generator=g).to(DEVICE, dtype) for s in shapes] for _ in range(3))
    hs = [(1e-3 * torch.rand(s, generator=g)).to(DEVICE, dtype) for s in shapes]
    hs[0].zero_()  # h = 0 before the first refresh: every coordinate clipped
    return ps, gs, ms, hs


@pytest.mark.parametrize('dtype', DTYPES)
def test_clipped_update_matches_ref(dtype):
    ours, ref = sophia_case(dtype), sophia_case(dtype)
    hp = dict(lr=0.1, beta1=0.9, rho=0.04, bs=512, weight_decay=0.1, eps=1e-15)
    sophia_k.clipped_update_(*ours, **hp, block=64)  # small chunks: several per tensor on CPU too
    sophia_k.clipped_update_ref(*ref, **hp)
    tol = dict(rtol=1e-6, atol=1e-6) if dtype == torch.float32 else TOL[dtype]
    for a, b in zip(ours[0] + ours[2], ref[0] + ref[2]):  # params, then exp_avgs
        torch.testing.assert_close(a, b, **tol)
    p0 = sophia_case(dtype)[0][0]  # tensor 0 has h = 0: every coordinate clipped, the step is lr sign(m)
    expected = (p0.float() * (1 - 0.1 * 0.1) - 0.1 * ours[2][0].float().sign()).to(dtype)
    torch.testing.assert_close(ours[0][0], expected, **tol)


def test_clipped_update_unaligned_views_and_mixed_dtypes():
    # fp32 views at a 4-byte offset (no 128-bit vectors: ALIGNED=False) and bf16 tensors in the same group (a second
    # launch for that dtype combination)
    def case():
        g = torch.Generator().manual_seed(0)
        f32 = [torch.randn(301, generator=g).to(DEVICE)[1:] for _ in range(4)]
        b16 = [torch.randn(50, generator=g).to(DEVICE, torch.bfloat16) for _ in range(4)]
        f32[3].abs_().mul_(1e-3)  # hessians >= 0, in place: keeps the offset view
        b16[3].abs_().mul_(1e-2)
        return [[a, b] for a, b in zip(f32, b16)]
    ours, ref = case(), case()
    assert ours[0][0].data_ptr() % 16 != 0
    hp = dict(lr=0.1, beta1=0.9, rho=0.04, bs=512, weight_decay=0.1, eps=1e-15)
    sophia_k.clipped_update_(*ours, **hp, block=64)
    sophia_k.clipped_update_ref(*ref, **hp)
    for k in (0, 2):  # params, exp_avgs
        torch.testing.assert_close(ours[k][0], ref[k][0], rtol=1e-6, atol=1e-6)
        torch.testing.assert_close(ours[k][1], ref[k][1], **TOL[torch.bfloat16])


def test_sophia_launcher_asserts():
    t = [torch.randn(4, 6, device=DEVICE)]
    hp = dict(lr=0.1, beta1=0.9, rho=0.04, bs=512, weight_decay=0.1, eps=1e-15)
    with pytest.raises(AssertionError, match='lists differ in length'):
        sophia_k.clipped_update_(t, t, t, [], **hp)
    with pytest.raises(AssertionError, match='not contiguous'):
        sophia_k.clipped_update_([torch.randn(6, 4, device=DEVICE).T], t, t, t, **hp)
    with pytest.raises(AssertionError, match=r'grad \(3,\) != param \(4, 6\)'):
        sophia_k.clipped_update_(t, [torch.randn(3, device=DEVICE)], t, t, **hp)
    with pytest.raises(AssertionError, match='float32/bfloat16/float16'):
        sophia_k.clipped_update_([t[0].double()], t, t, t, **hp)


# -----------------------------------------------------------------------------
# the switch and the optimizers

def counting(monkeypatch, module, name):
    """Wrap module.name so the test can see the kernel really ran (a silent fallback would also 'match')."""
    calls = []
    fn = getattr(module, name)
    monkeypatch.setattr(module, name, lambda *a, **k: calls.append(1) or fn(*a, **k))
    return calls


def test_switch_values_and_errors(monkeypatch):
    t = [torch.zeros(2, device=DEVICE)]
    assert kernels.pick('torch', 'sophia_kernel', 'sophia', t) is None
    assert (kernels.pick('auto', 'sophia_kernel', 'sophia', t) is not None) == CUDA  # auto: CUDA only
    assert kernels.pick('auto', 'sophia_kernel', 'sophia', [t[0].double()]) is None  # unsupported: torch path
    assert kernels.pick('triton', 'sophia_kernel', 'sophia', t) is sophia_k
    with pytest.raises(ValueError, match="splus_kernel='fast': choose one of auto, triton, torch"):
        SPlus([torch.nn.Parameter(torch.zeros(2, 2))], kernel='fast')
    with pytest.raises(ValueError, match='sophia_kernel'):
        SophiaG([torch.nn.Parameter(torch.zeros(2))], kernel='cuda')
    assert SPlus.hparams['splus_kernel'] == SophiaG.hparams['sophia_kernel'] == 'auto'
    groups = [dict(params=[torch.nn.Parameter(torch.zeros(2, 2))])]
    assert optim.from_config(SPlus, groups, optim_config(splus_kernel='torch')).param_groups[0]['kernel'] == 'torch'
    groups = [dict(params=[torch.nn.Parameter(torch.zeros(2))])]
    assert optim.from_config(SophiaG, groups, optim_config(sophia_kernel='triton')).param_groups[0]['kernel'] \
        == 'triton'
    cpu = [torch.zeros(2)]
    monkeypatch.setattr(sophia_k, 'INTERPRETED', False)  # CPU tensors without the interpreter
    with pytest.raises(RuntimeError, match="sophia_kernel='triton' needs CUDA tensors.*TRITON_INTERPRET=1"):
        kernels.pick('triton', 'sophia_kernel', 'sophia', cpu)
    monkeypatch.setattr(kernels, 'HAS_TRITON', False)  # e.g. macOS
    with pytest.raises(RuntimeError, match="needs the triton package"):
        kernels.pick('triton', 'sophia_kernel', 'sophia', t)
    assert kernels.pick('auto', 'sophia_kernel', 'sophia', t) is None


def splus_run(kernel, steps=5, dtype=torch.float32):
    """SPlus over fixed gradients (independent of the weights, so nothing amplifies): a two-sided (20, 12), a
    (24, 10) with no left basis and a (10, 24) with no right one (max_dim 16), and a sign-only vector."""
    g = torch.Generator().manual_seed(0)
    shapes = [(20, 12), (24, 10), (10, 24), (7,)]
    params = [torch.nn.Parameter(torch.randn(s, generator=g).to(DEVICE, dtype)) for s in shapes]
    grads = [[torch.randn(s, generator=g).to(DEVICE, dtype) for s in shapes] for _ in range(steps + 1)]
    opt = SPlus(params, lr=0.3, weight_decay=0.1, ema_rate=0.9, inverse_every=2, max_dim=16, kernel=kernel)
    history = []
    for i in range(steps + 1):
        if i == steps:  # evaluation weights in and out, then one more step
            opt.eval()
            history.append([p.detach().clone() for p in params])
            opt.train()
        for p, gr in zip(params, grads[i]):
            p.grad = gr.clone()
        opt.step()
        history.append([p.detach().clone() for p in params] + [opt.state[p]['ema'].clone() for p in params])
    return opt, history


@pytest.mark.parametrize('dtype', [torch.float32] + ([torch.bfloat16] if CUDA else []))
def test_splus_optimizer_kernel_equals_torch_path(monkeypatch, dtype):
    calls = counting(monkeypatch, splus_k, 'rotate_sign_update_')
    _, ours = splus_run('triton', dtype=dtype)
    assert len(calls) == 6 * 3  # three rotated tensors per step, the vector on the torch path
    opt, ref = splus_run('torch', dtype=dtype)
    assert len(calls) == 6 * 3
    assert opt.state[opt.param_groups[0]['params'][1]]['bases'][0] is None  # the one-sided cases are exercised
    assert opt.state[opt.param_groups[0]['params'][2]]['bases'][1] is None
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == torch.float32 else TOL[dtype]
    for a, b in zip(ours, ref):  # weights and EMA after every step, and the eval weights
        for x, y in zip(a, b):
            torch.testing.assert_close(x, y, **tol)


def test_splus_optax_order_and_auto_on_cpu_use_torch(monkeypatch):
    calls = counting(monkeypatch, splus_k, 'rotate_sign_update_')
    p = torch.nn.Parameter(torch.randn(6, 4, device=DEVICE))
    for kernel, order in (('triton', 'optax'), ('auto', 'official')):
        opt = SPlus([p], kernel=kernel, order=order)
        p.grad = torch.randn(6, 4, device=DEVICE)
        opt.step()
        opt.step()  # step 2: non-identity bases
    assert len(calls) == 0  # optax never takes the kernel; 'auto' does not either (slower than torch on an H200)


def test_auto_takes_only_a_kernel_that_measured_faster(monkeypatch):
    class OnCuda:  # pick() only asks where a tensor lives before the module's supported()
        is_cuda = True
    monkeypatch.setattr(kernels, 'HAS_TRITON', True)
    for module in (splus_k, sophia_k):
        monkeypatch.setattr(module, 'INTERPRETED', False)
        monkeypatch.setattr(module, 'supported', lambda tensors: True)
    assert kernels.pick('auto', 'splus_kernel', 'splus', [OnCuda()]) is None
    assert kernels.pick('auto', 'sophia_kernel', 'sophia', [OnCuda()]) is sophia_k
    assert kernels.pick('triton', 'splus_kernel', 'splus', [OnCuda()]) is splus_k  # asked for: it runs
    monkeypatch.setattr(splus_k, 'AUTO', True)
    assert kernels.pick('auto', 'splus_kernel', 'splus', [OnCuda()]) is splus_k


def sophia_run(kernel, steps=7):
    """Two groups with different lr and wd, a Hessian refresh every 3 steps, fixed gradients."""
    g = torch.Generator().manual_seed(0)
    shapes = [[(13, 7), (37,)], [(5, 9), (300,)]]
    params = [[torch.nn.Parameter(torch.randn(s, generator=g).to(DEVICE)) for s in grp] for grp in shapes]
    flat = [p for grp in params for p in grp]
    opt = SophiaG([dict(params=params[0], lr=0.1, weight_decay=0.2), dict(params=params[1], lr=0.03, weight_decay=0)],
                  rho=0.05, bs=64, k=3, kernel=kernel)
    history, refreshes = [], 0
    for _ in range(steps):
        for p in flat:
            p.grad = torch.randn(p.shape, generator=g).to(DEVICE)
        opt.step()
        if opt.hessian_due():
            for p in flat:
                p.grad = 0.3 * torch.randn(p.shape, generator=g).to(DEVICE)
            opt.update_hessian()
            refreshes += 1
        history.append([t.detach().clone() for p in flat for t in (p, opt.state[p]['exp_avg'])])
    assert refreshes == 2
    return history


def test_sophia_optimizer_kernel_equals_torch_path(monkeypatch):
    calls = counting(monkeypatch, sophia_k, 'clipped_update_')
    ours = sophia_run('triton')
    assert len(calls) == 7 * 2  # one call per group per step
    ref = sophia_run('torch')
    for a, b in zip(ours, ref):
        for x, y in zip(a, b):
            torch.testing.assert_close(x, y, rtol=1e-6, atol=1e-6)


# -----------------------------------------------------------------------------
# the compiled path, without a GPU: Triton compiles the kernels ahead of time for an H100 (sm_90)

AOT = '''
import re, sys
import triton, triton.language as tl
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource
from optim.kernels import sophia as P, splus as S
mm = {k: 'i32' for k in ['M', 'N', 'K', 's_am', 's_ak', 's_bk', 's_bn']}
blocks = dict(BLOCK_M=128, BLOCK_N=128, BLOCK_K=32, GROUP_M=8, PRECISION='tf32')
cb = {k: 'constexpr' for k in blocks}
sign = ASTSource(S._matmul_sign_kernel, {'a_ptr': '*bf16', 'b_ptr': '*fp32', 'out_ptr': '*fp32', **mm,
                                         's_om': 'i32', 's_on': 'i32', **cb}, constexprs=blocks)
update = ASTSource(S._matmul_update_kernel, {'a_ptr': '*fp32', 'b_ptr': '*fp32', 'p_ptr': '*bf16', 'ema_ptr': '*bf16',
                   **mm, **{k: 'i32' for k in ['s_pm', 's_pn', 's_em', 's_en']}, 'neg_lr': 'fp32',
                   'ema_weight': 'fp32', 'decay': 'fp32', **cb}, constexprs=blocks)
ce = dict(P_DTYPE=tl.float32, G_DTYPE=tl.float32, M_DTYPE=tl.float32, H_DTYPE=tl.float32, ALIGNED=True, BLOCK=4096)
clip = ASTSource(P._clip_kernel, {'ptrs': '*i64', 'numels': '*i64', 'chunk_tensor': '*i32', 'chunk_index': '*i32',
                 'n_tensors': 'i32', **{k: 'fp32' for k in ['decay', 'beta1', 'one_minus_beta1', 'rho_bs', 'eps',
                 'neg_lr']}, **{k: 'constexpr' for k in ce}}, constexprs=ce)
for name, src in [('sign', sign), ('update', update), ('clip', clip)]:
    ptx = triton.compile(src, target=GPUTarget('cuda', 90, 32), options=dict(num_warps=8, num_stages=3)).asm['ptx']
    print(name, 'wgmma' in ptx, bool(re.search(r'ld[.]global[.a-z0-9]*[.]v4', ptx)))
'''


def test_kernels_compile_for_h100_without_a_gpu():
    # catches what the interpreter cannot: types, layouts, shared memory, and whether the hints give what they
    # promise -- TF32 tensor-core MMAs (wgmma) in both matmuls, 128-bit loads in the Sophia kernel
    env = dict(os.environ, TRITON_INTERPRET='0', TRITON_DEFAULT_FP_FUSION='1')
    r = subprocess.run([sys.executable, '-c', AOT], cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    if r.returncode != 0 and ('ImportError' in r.stderr or 'unexpected keyword' in r.stderr):
        pytest.skip(f"this triton's ahead-of-time API differs: {r.stderr.strip().splitlines()[-1]}")
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split('\n')[:3] == ['sign True False', 'update True False', 'clip False True'], r.stdout
