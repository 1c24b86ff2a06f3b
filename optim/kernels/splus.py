"""SPlus rotation-sign and update in two Triton matmuls (optim/splus.py, 'official' order).

On one 2-D tensor W (m, n) with momentum M, iterate average EMA and eigenbases Q_L (m, m), Q_R (n, n), s the scaled
LR (2/(m+n) * lr), the step is

    U   = Q_L sign(Q_L^T M Q_R) Q_R^T                (eq. 11; products in the torch file's order)
    W  <- W - s U        EMA <- lerp(EMA, W, 1 - ema_rate)        W <- W (1 - s wd)

The eager torch sequence is four GEMMs and four elementwise passes over (m, n) (sign, add, lerp, mul; plus a cast of
M to fp32 for bf16 parameters), each a launch that reads and writes the whole matrix. Here:

    A = Q_L^T M         cuBLAS (torch.mm)   a plain GEMM: nothing to fuse, cuBLAS is as fast as anything we write
    S = sign(A Q_R)     Triton              the sign in the epilogue: saves the sign pass
    C = Q_L S           cuBLAS              a plain GEMM again
    U = C Q_R^T         Triton              epilogue: W - s U, the EMA lerp and the decay; U never reaches memory,
                                            and W and EMA are read and written once instead of four passes
One-sided (a side >= max_dim has no basis, e.g. the 50304 x d embedding): two GEMMs, both Triton (sign, then
update), so no cuBLAS call at all, and with only Q_R the sign GEMM reads the bf16 momentum directly (no cast pass).
Why not more: chaining two GEMMs in one kernel needs the whole intermediate row panel per output tile (recompute
or a grid-wide sync), which costs more than the one (m, n) round trip it saves. Left in torch: the momentum lerp
(one elementwise pass; a GEMM prologue cannot write M back, its tiles are read by many programs), the side
statistics G G^T, G^T G and the eigh refresh (every inverse_every steps), sign-only tensors (vectors, elementwise
and tiny), W with no basis on either side, and the 'optax' order (EMA before the update): optim/splus.py picks.

Precision: inputs are loaded in their dtype (fp32 bases and S, fp32/bf16/fp16 momentum) and converted to fp32;
accumulation is fp32. tl.dot uses TF32 when torch.backends.cuda.matmul.allow_tf32 is set (train.py sets it, so
cuBLAS and the eager path use TF32 too), else IEEE fp32; the interpreter always computes in IEEE fp32 (numpy),
which lets the CPU tests be tight. (Triton truncates fp32 to TF32 where cuBLAS rounds: both are within TF32's own error,
and a rotated entry that close to zero has no meaningful sign under TF32 in the eager path either.)
bf16 / fp16 W: W - s U is computed in fp32 and rounded to W's dtype before the EMA reads it and before the decay,
the roundings the torch path makes by storing each in-place result (on GPU; the interpreter truncates fp32 -> bf16
where GPUs round to nearest, so CPU bf16 tests allow 2 ulps). sign(0) = 0; sign(NaN) = 0, as torch.sign on CPU.

Speed on H100: the output tile is the largest of 128x128 / 128x64 / 64x64 that still gives every SM a program,
BLOCK_K = 32 (fp32 tiles: 3-4 pipeline stages fit in shared memory), and programs are grouped by GROUP_M row blocks
so the operand panels they share stay in L2. scripts/bench_kernels.py measures it against the eager sequence and
torch.compile of it.
"""

import functools

import torch
import triton
import triton.language as tl

from optim import matrix

DTYPES = (torch.float32, torch.bfloat16, torch.float16)  # W, momentum and EMA; bases are fp32 (optim/splus.py)


# -----------------------------------------------------------------------------
# torch reference (the eager path of optim/splus.py, 'official' order)

def rotate_sign_update_ref(p, momentum, ema, QL, QR, *, scaled_lr, weight_decay, ema_rate):
    """One SPlus update of a rotated tensor, in place on p and ema: U = Q_L sign(Q_L^T M Q_R) Q_R^T, then W and
    EMA as optim/splus.py. p, momentum, ema (m, n); QL (m, m) fp32 or None; QR (n, n) fp32 or None (= identity)."""
    U = matrix.project_back(torch.sign(matrix.project(momentum.to(torch.float32), QL, QR)), QL, QR)
    p.add_(U, alpha=-scaled_lr)
    ema.lerp_(p, 1 - ema_rate)
    p.mul_(1 - scaled_lr * weight_decay)


# -----------------------------------------------------------------------------
# Triton kernels

@triton.jit
def _tile_matmul(a_ptr, b_ptr, M, N, K, s_am, s_ak, s_bk, s_bn, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                 BLOCK_K: tl.constexpr, GROUP_M: tl.constexpr, PRECISION: tl.constexpr):
    """This program's output tile of A (M, K) @ B (K, N) in fp32: returns (acc (BLOCK_M, BLOCK_N), rows, cols)."""
    # grouped order: consecutive programs walk down GROUP_M row blocks of one column block before moving right,
    # so the B column panel they share and their A row panels are still in L2
    pid = tl.program_id(0)
    n_pid_m = tl.cdiv(M, BLOCK_M)
    n_pid_n = tl.cdiv(N, BLOCK_N)
    in_group = GROUP_M * n_pid_n
    first_m = (pid // in_group) * GROUP_M
    rows_here = tl.minimum(n_pid_m - first_m, GROUP_M)  # the last group can be shorter
    pid_m = first_m + (pid % in_group) % rows_here
    pid_n = (pid % in_group) // rows_here

    rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    rk = tl.arange(0, BLOCK_K)
    a_ptrs = a_ptr + rm[:, None].to(tl.int64) * s_am + rk[None, :] * s_ak  # (BLOCK_M, BLOCK_K)
    b_ptrs = b_ptr + rk[:, None] * s_bk + rn[None, :].to(tl.int64) * s_bn  # (BLOCK_K, BLOCK_N)
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k in range(0, tl.cdiv(K, BLOCK_K)):
        k_left = K - k * BLOCK_K  # masks cover irregular M, N and K (65 x 64, 100 x 37, ...)
        a = tl.load(a_ptrs, mask=(rm[:, None] < M) & (rk[None, :] < k_left), other=0.0).to(tl.float32)
        b = tl.load(b_ptrs, mask=(rk[:, None] < k_left) & (rn[None, :] < N), other=0.0).to(tl.float32)
        acc = tl.dot(a, b, acc, input_precision=PRECISION)
        a_ptrs += BLOCK_K * s_ak
        b_ptrs += BLOCK_K * s_bk
    return acc, rm, rn


@triton.jit
def _matmul_sign_kernel(a_ptr, b_ptr, out_ptr, M, N, K, s_am, s_ak, s_bk, s_bn, s_om, s_on,
                        BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr, GROUP_M: tl.constexpr,
                        PRECISION: tl.constexpr):
    """out = sign(A @ B): the rotated momentum never reaches memory, only its sign (fp32 {-1, 0, 1})."""
    acc, rm, rn = _tile_matmul(a_ptr, b_ptr, M, N, K, s_am, s_ak, s_bk, s_bn, BLOCK_M, BLOCK_N, BLOCK_K, GROUP_M,
                               PRECISION)
    sign = tl.where(acc > 0, 1.0, tl.where(acc < 0, -1.0, 0.0))  # sign(0) = 0 (NaN -> 0, as torch.sign on CPU)
    mask = (rm[:, None] < M) & (rn[None, :] < N)
    tl.store(out_ptr + rm[:, None].to(tl.int64) * s_om + rn[None, :] * s_on, sign, mask=mask)


@triton.jit
def _matmul_update_kernel(a_ptr, b_ptr, p_ptr, ema_ptr, M, N, K, s_am, s_ak, s_bk, s_bn, s_pm, s_pn, s_em, s_en,
                          neg_lr, ema_weight, decay, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                          BLOCK_K: tl.constexpr, GROUP_M: tl.constexpr, PRECISION: tl.constexpr):
    """U = A @ B, then in the epilogue W <- W - s U, EMA <- lerp(EMA, W, ema_weight), W <- W * decay."""
    u, rm, rn = _tile_matmul(a_ptr, b_ptr, M, N, K, s_am, s_ak, s_bk, s_bn, BLOCK_M, BLOCK_N, BLOCK_K, GROUP_M,
                             PRECISION)
    mask = (rm[:, None] < M) & (rn[None, :] < N)
    p_ptrs = p_ptr + rm[:, None].to(tl.int64) * s_pm + rn[None, :] * s_pn
    e_ptrs = ema_ptr + rm[:, None].to(tl.int64) * s_em + rn[None, :] * s_en
    w = tl.load(p_ptrs, mask=mask, other=0.0).to(tl.float32)
    w = (w + neg_lr * u).to(p_ptr.dtype.element_ty).to(tl.float32)  # W - s U, stored-dtype rounding as torch's add_
    e = tl.load(e_ptrs, mask=mask, other=0.0).to(tl.float32)
    # torch.lerp's formula: from whichever end is nearer to the weight (exact at weight 0 and 1)
    e = tl.where(ema_weight < 0.5, e + ema_weight * (w - e), w - (w - e) * (1.0 - ema_weight))
    tl.store(e_ptrs, e.to(ema_ptr.dtype.element_ty), mask=mask)
    tl.store(p_ptrs, (w * decay).to(p_ptr.dtype.element_ty), mask=mask)


# the interpreter (TRITON_INTERPRET=1 when this module was imported) runs the kernels on CPU tensors
INTERPRETED = type(_matmul_sign_kernel).__name__ == 'InterpretedFunction'
# splus_kernel='auto' leaves this kernel off: on one H200 (torch 2.11, triton 3.6, fp32 TF32, 2026-11-29,
# scripts/bench_kernels.py) it took 1.2-2.3x the time of the torch path at every GPT-2 and width-2048 shape (its
# matmuls ran at 35-238 TFLOP/s against cuBLAS's 55-322); splus_kernel='triton' still runs it
AUTO = False


# -----------------------------------------------------------------------------
# launchers

@functools.lru_cache(maxsize=None)
def _sm_count(device_index):
    return torch.cuda.get_device_properties(device_index).multi_processor_count


def _blocks(M, N, device):
    """(BLOCK_M, BLOCK_N, BLOCK_K, num_warps, num_stages): the biggest output tile that still gives every SM a
    program (768 x 768 -> 64 x 64 tiles, 144 programs; 768 x 3072 -> 128 x 128)."""
    if INTERPRETED or device.type != 'cuda':
        return 64, 64, 32, 4, 1  # the interpreter runs programs one by one: few big tiles are fastest
    sms = _sm_count(device.index if device.index is not None else torch.cuda.current_device())
    for bm, bn, warps, stages in ((128, 128, 8, 3), (128, 64, 4, 4)):
        if triton.cdiv(M, bm) * triton.cdiv(N, bn) >= sms:
            return bm, bn, 32, warps, stages
    return 64, 64, 32, 4, 4


def _precision():
    """tl.dot input precision: TF32 exactly when torch's fp32 matmuls use it (the eager path it replaces)."""
    return 'tf32' if not INTERPRETED and torch.backends.cuda.matmul.allow_tf32 else 'ieee'


def _check_operands(a, b):
    assert a.ndim == 2 and b.ndim == 2, f"matmul operands must be 2-D, got {tuple(a.shape)} and {tuple(b.shape)}"
    assert a.shape[1] == b.shape[0], f"inner dimensions differ: {tuple(a.shape)} @ {tuple(b.shape)}"
    assert a.numel() > 0 and b.numel() > 0, f"empty operand: {tuple(a.shape)} @ {tuple(b.shape)}"
    assert a.device == b.device, f"operands on {a.device} and {b.device}"
    assert a.dtype in DTYPES and b.dtype in DTYPES, \
        f"kernel dtypes are float32/bfloat16/float16, got {a.dtype} and {b.dtype} (use splus_kernel='torch')"


def _check_out(t, shape, device, what):
    assert tuple(t.shape) == tuple(shape), f"{what} has shape {tuple(t.shape)}, expected {tuple(shape)}"
    assert t.device == device, f"{what} is on {t.device}, the operands on {device}"
    assert t.dtype in DTYPES, f"{what} dtype {t.dtype}: kernel dtypes are float32/bfloat16/float16"
    assert all(st != 0 or sz == 1 for st, sz in zip(t.stride(), t.shape)), \
        f"{what} has a zero stride (an expanded view): it must own its memory to be written in place"


def _launch(kernel, a, b, outs, scalars):
    """Launch a matmul kernel for a (M, K) @ b (K, N): outs are the (M, N) tensors its epilogue writes."""
    M, K = a.shape
    N = b.shape[1]
    bm, bn, bk, warps, stages = _blocks(M, N, a.device)
    grid = (triton.cdiv(M, bm) * triton.cdiv(N, bn),)
    strides = [s for t in (a, b, *outs) for s in t.stride()]
    kernel[grid](a, b, *outs, M, N, K, *strides, *scalars, BLOCK_M=bm, BLOCK_N=bn, BLOCK_K=bk, GROUP_M=8,
                 PRECISION=_precision(), num_warps=warps, num_stages=stages)


def matmul_sign(a, b):
    """sign(a @ b) as fp32 (M, N), with fp32 accumulation. a (M, K), b (K, N): any strides (pass .T views)."""
    _check_operands(a, b)
    out = torch.empty(a.shape[0], b.shape[1], device=a.device, dtype=torch.float32)
    _launch(_matmul_sign_kernel, a, b, [out], [])
    return out


def matmul_update_(a, b, p, ema, *, scaled_lr, weight_decay, ema_rate):
    """U = a @ b (never stored); W <- W - s U; EMA <- lerp(EMA, W, 1 - ema_rate); W <- W (1 - s wd), in place on
    p and ema (M, N). The scalars are formed here in Python, as the torch path forms them."""
    _check_operands(a, b)
    shape = (a.shape[0], b.shape[1])
    _check_out(p, shape, a.device, 'p')
    _check_out(ema, shape, a.device, 'ema')
    assert ema.dtype == p.dtype, f"ema dtype {ema.dtype} differs from the parameter's {p.dtype}"
    _launch(_matmul_update_kernel, a, b, [p, ema], [-scaled_lr, 1 - ema_rate, 1 - scaled_lr * weight_decay])


def rotate_sign_update_(p, momentum, ema, QL, QR, *, scaled_lr, weight_decay, ema_rate):
    """rotate_sign_update_ref with the sign and the W / EMA update in Triton epilogues. p, momentum, ema (m, n) of
    one dtype; QL (m, m), QR (n, n) fp32, at most one of them None (a side >= max_dim)."""
    assert QL is not None or QR is not None, "no basis on either side: U = sign(M) is elementwise, use the torch path"
    assert momentum.shape == p.shape, f"momentum {tuple(momentum.shape)} and p {tuple(p.shape)} differ"
    assert momentum.dtype == p.dtype, f"momentum dtype {momentum.dtype} differs from the parameter's {p.dtype}"
    for Q, d, side in ((QL, p.shape[0], 'QL'), (QR, p.shape[-1], 'QR')):
        assert Q is None or (Q.shape == (d, d) and Q.dtype == torch.float32), \
            f"{side} must be ({d}, {d}) float32, got {None if Q is None else (tuple(Q.shape), Q.dtype)}"
    hp = dict(scaled_lr=scaled_lr, weight_decay=weight_decay, ema_rate=ema_rate)
    if QL is not None and QR is not None:
        A = QL.T @ momentum.to(torch.float32)  # (m, n) cuBLAS
        S = matmul_sign(A, QR)                 # (m, n) sign(Q_L^T M Q_R)
        C = QL @ S                             # (m, n) cuBLAS
        matmul_update_(C, QR.T, p, ema, **hp)  # U = C Q_R^T into W and EMA
    elif QR is not None:
        matmul_update_(matmul_sign(momentum, QR), QR.T, p, ema, **hp)
    else:
        matmul_update_(QL, matmul_sign(QL.T, momentum), p, ema, **hp)


def supported(tensors):
    """Whether 'auto' may use this kernel: tensors = [p, momentum, ema, *bases], all 2-D of kernel dtypes."""
    return all(t.ndim == 2 and t.dtype in DTYPES for t in tensors) and \
        all(t.dtype == torch.float32 for t in tensors[3:])
