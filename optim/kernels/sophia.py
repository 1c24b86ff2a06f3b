"""SophiaG's clipped update for a whole param group in one Triton launch (optim/sophia.py, `sophia_update_`).

Per element of every tensor of the group (the official SophiaG order, as optim/sophia.py computes it):

    p <- p (1 - lr wd)                                   decoupled weight decay
    m <- b1 m + (1 - b1) g                               momentum (m.mul_(b1).add_(g, alpha=1 - b1))
    ratio = min(|m| / (rho bs h + eps), 1)               clip at 1
    p <- p - lr sign(m) ratio

The torch path is a Python loop of 7 elementwise ops per tensor (~150 tensors in GPT-2 124M: ~1000 launches, and
p and m read and written several times). The kernel reads p, g, m, h once and writes p, m once: 24 bytes per fp32
element, the minimum, so it is bound by memory bandwidth (scripts/bench_kernels.py compares with a device copy).

Multi-tensor layout: the tensors stay where they are (no flat buffer, so the optimizer state and its state_dict
are untouched). The launcher builds small int64 tables -- the data pointers of p, g, m, h for every tensor, the
tensor sizes, and for every BLOCK-sized chunk of every tensor which tensor it belongs to and its index there -- and
launches one program per chunk. The tables are cached on the pointers: between steps the parameters and states keep
their addresses and the caching allocator usually hands the gradients the same ones, so the host work per step is
collecting pointers. Full chunks take an unmasked path and 16-byte aligned pointers are declared as such, so loads
and stores are 128-bit vectors; the last chunk of each tensor is masked. Tensors must be contiguous. A group whose
tensors differ in dtype (rare: e.g. bf16 and fp32 parameters in one group) gets one launch per dtype combination.

Precision: every value is computed in fp32, and p and m are rounded to their storage dtype where the torch path
stores them (after the decay, after m * b1, after the add), so fp32 matches the torch path to an ulp (FMA
contraction may differ) and bf16 / fp16 differ only in the ratio, which the kernel keeps in fp32 where torch rounds
every intermediate (rho bs h, + eps, |m|, the quotient) to the tensor dtype. The division is IEEE (div_rn), as
torch's. sign(0) = 0 and a NaN ratio stays NaN (torch.clamp), so eps = 0 with m = h = 0 gives NaN as in torch.
"""

import torch
import triton
import triton.language as tl

DTYPES = {torch.float32: tl.float32, torch.bfloat16: tl.bfloat16, torch.float16: tl.float16}
BLOCK = 4096  # elements per program: 16 per thread at 8 warps, 4 x 128-bit loads per tensor


# -----------------------------------------------------------------------------
# torch reference (optim/sophia.py's loop)

def clipped_update_ref(params, grads, exp_avgs, hessians, *, lr, beta1, rho, bs, weight_decay, eps):
    """One SophiaG step for one param group, in place on params and exp_avgs (lists of same-shaped tensors)."""
    for p, g, m, h in zip(params, grads, exp_avgs, hessians):
        p.mul_(1 - lr * weight_decay)
        m.mul_(beta1).add_(g, alpha=1 - beta1)
        ratio = (m.abs() / (rho * bs * h + eps)).clamp_(max=1)
        p.addcmul_(m.sign(), ratio, value=-lr)


# -----------------------------------------------------------------------------
# Triton kernel

@triton.jit
def _base(table, row, n_tensors, t, DTYPE: tl.constexpr, ALIGNED: tl.constexpr):
    """Pointer to tensor t's data from the int64 pointer table (row r holds p, g, m, h for r = 0..3)."""
    ptr = tl.load(table + row * n_tensors + t).to(tl.pointer_type(DTYPE))
    if ALIGNED:  # the launcher checked every address is a multiple of 16 bytes: lets the compiler vectorize
        ptr = tl.multiple_of(ptr, 16)  # (on the pointer: a hint on the int64 before the cast is lost)
    return ptr


@triton.jit
def _clip_chunk(p_ptr, g_ptr, m_ptr, h_ptr, offs, n, decay, beta1, one_minus_beta1, rho_bs, eps, neg_lr,
                MASKED: tl.constexpr):
    """The update on elements offs (BLOCK,) of one tensor; the mask only on its last (partial) chunk."""
    if MASKED:
        mask = offs < n
    else:
        mask = None
    p = tl.load(p_ptr + offs, mask=mask).to(tl.float32)
    g = tl.load(g_ptr + offs, mask=mask).to(tl.float32)
    m = tl.load(m_ptr + offs, mask=mask).to(tl.float32)
    h = tl.load(h_ptr + offs, mask=mask).to(tl.float32)
    p_dtype = p_ptr.dtype.element_ty
    m_dtype = m_ptr.dtype.element_ty
    # each .to(dtype) below is a value the torch path stores (no-ops in fp32)
    p = (p * decay).to(p_dtype).to(tl.float32)                        # p <- p (1 - lr wd)
    m = (m * beta1).to(m_dtype).to(tl.float32)                        # m <- b1 m
    m = (m + one_minus_beta1 * g).to(m_dtype).to(tl.float32)          # m <- m + (1 - b1) g
    ratio = tl.math.div_rn(tl.abs(m), rho_bs * h + eps)               # IEEE division, as torch
    ratio = tl.where(ratio > 1.0, 1.0, ratio)                         # clamp(max=1), NaN stays NaN
    sign = tl.where(m > 0, 1.0, tl.where(m < 0, -1.0, 0.0))
    p = p + neg_lr * (sign * ratio)                                   # p <- p - lr sign(m) ratio
    tl.store(p_ptr + offs, p.to(p_dtype), mask=mask)
    tl.store(m_ptr + offs, m.to(m_dtype), mask=mask)


@triton.jit
def _clip_kernel(ptrs, numels, chunk_tensor, chunk_index, n_tensors, decay, beta1, one_minus_beta1, rho_bs, eps,
                 neg_lr, P_DTYPE: tl.constexpr, G_DTYPE: tl.constexpr, M_DTYPE: tl.constexpr,
                 H_DTYPE: tl.constexpr, ALIGNED: tl.constexpr, BLOCK: tl.constexpr):
    """One program per chunk: chunk_tensor[pid] says which tensor, chunk_index[pid] which BLOCK of it."""
    pid = tl.program_id(0)
    t = tl.load(chunk_tensor + pid)
    n = tl.load(numels + t)
    p_ptr = _base(ptrs, 0, n_tensors, t, P_DTYPE, ALIGNED)
    g_ptr = _base(ptrs, 1, n_tensors, t, G_DTYPE, ALIGNED)
    m_ptr = _base(ptrs, 2, n_tensors, t, M_DTYPE, ALIGNED)
    h_ptr = _base(ptrs, 3, n_tensors, t, H_DTYPE, ALIGNED)
    start = tl.load(chunk_index + pid).to(tl.int64) * BLOCK  # a multiple of BLOCK the compiler can see
    offs = start + tl.arange(0, BLOCK)
    if start + BLOCK <= n:
        _clip_chunk(p_ptr, g_ptr, m_ptr, h_ptr, offs, n, decay, beta1, one_minus_beta1, rho_bs, eps, neg_lr, False)
    else:
        _clip_chunk(p_ptr, g_ptr, m_ptr, h_ptr, offs, n, decay, beta1, one_minus_beta1, rho_bs, eps, neg_lr, True)


# the interpreter (TRITON_INTERPRET=1 when this module was imported) runs the kernel on CPU tensors
INTERPRETED = type(_clip_kernel).__name__ == 'InterpretedFunction'
# sophia_kernel='auto' uses it on CUDA: on one H200 (2026-11-29, scripts/bench_kernels.py) it ran at 3.3-3.6 TB/s
# against torch eager's 0.5-1.0 TB/s (3.5-6.6x faster)
AUTO = True


# -----------------------------------------------------------------------------
# launcher

_TABLES = {}  # (device, block, contiguous, addresses, sizes) -> device tables of tensors already checked


def _check(lists, device):
    """The launcher's asserts: one device, same shapes within each (param, grad, exp_avg, hessian), contiguous."""
    assert not (INTERPRETED and device.type == 'cuda'), \
        "the Triton interpreter cannot follow CUDA pointers: unset TRITON_INTERPRET to run on the GPU"
    for i, quad in enumerate(zip(*lists)):
        for name, t in zip(('param', 'grad', 'exp_avg', 'hessian'), quad):
            assert t.shape == quad[0].shape, f"tensor {i}: {name} {tuple(t.shape)} != param {tuple(quad[0].shape)}"
            assert t.device == device, f"tensor {i}: {name} on {t.device}, the first param on {device}"
            assert t.is_contiguous(), f"tensor {i}: {name} is not contiguous (strides {t.stride()}): the kernel " \
                                      f"walks flat memory; use sophia_kernel='torch' or make it contiguous"


def _tables(lists, block, device):
    """(ptrs (4, T) int64, numels (T,) int64, chunk_tensor (C,) int32, chunk_index (C,) int32, aligned) for the
    tensors of lists = [params, grads, exp_avgs, hessians]; aligned: every address is a multiple of 16 bytes.
    Cached on the addresses, sizes and contiguity, so the asserts and the host-to-device copy happen only when
    those change (normally on the first step)."""
    contiguous = all(t.is_contiguous() for ts in lists for t in ts)
    key = (str(device), block, contiguous, *(t.data_ptr() for ts in lists for t in ts),
           *(t.numel() for ts in lists for t in ts))
    if key not in _TABLES:
        _check(lists, device)
        if len(_TABLES) >= 64:  # addresses changed many times (e.g. tests): start over rather than grow
            _TABLES.clear()
        numels = [p.numel() for p in lists[0]]
        chunks = torch.tensor([triton.cdiv(n, block) for n in numels], dtype=torch.int64)  # (T,)
        first = torch.cumsum(chunks, 0) - chunks                                          # first chunk of each
        chunk_tensor = torch.repeat_interleave(torch.arange(len(numels)), chunks)         # (C,)
        chunk_index = torch.arange(int(chunks.sum())) - first[chunk_tensor]               # (C,)
        ptrs = torch.tensor([[t.data_ptr() for t in ts] for ts in lists], dtype=torch.int64)
        host = (ptrs, torch.tensor(numels, dtype=torch.int64), chunk_tensor.to(torch.int32),
                chunk_index.to(torch.int32))
        if device.type == 'cuda':  # pinned + non_blocking: no host sync behind the queued backward
            host = tuple(x.pin_memory().to(device, non_blocking=True) for x in host)
        _TABLES[key] = (*host, all(t.data_ptr() % 16 == 0 for ts in lists for t in ts))
    return _TABLES[key]


def clipped_update_(params, grads, exp_avgs, hessians, *, lr, beta1, rho, bs, weight_decay, eps, block=BLOCK):
    """clipped_update_ref in one launch per dtype combination (normally one per param group). Contiguous tensors
    of float32 / bfloat16 / float16 on one device. block: elements per program (tests use small ones)."""
    assert len(params) == len(grads) == len(exp_avgs) == len(hessians), \
        f"lists differ in length: {len(params)} params, {len(grads)} grads, {len(exp_avgs)} exp_avgs, " \
        f"{len(hessians)} hessians"
    if len(params) == 0:
        return
    # the scalars formed as the torch path forms them (Python floats, fp32 in the kernel)
    scalars = (1 - lr * weight_decay, beta1, 1 - beta1, rho * bs, eps, -lr)
    combos = {}
    for quad in zip(params, grads, exp_avgs, hessians):
        combos.setdefault(tuple(t.dtype for t in quad), []).append(quad)
    for dtypes, quads in combos.items():
        assert all(d in DTYPES for d in dtypes), \
            f"dtypes (param, grad, exp_avg, hessian) = {dtypes}: kernel dtypes are float32/bfloat16/float16 " \
            f"(use sophia_kernel='torch')"
        lists = [list(ts) for ts in zip(*quads)]
        ptrs, numels, chunk_tensor, chunk_index, aligned = _tables(lists, block, params[0].device)
        if chunk_tensor.numel() == 0:  # only empty tensors
            continue
        _clip_kernel[(chunk_tensor.numel(),)](
            ptrs, numels, chunk_tensor, chunk_index, len(quads), *scalars, *(DTYPES[d] for d in dtypes),
            ALIGNED=aligned, BLOCK=block, num_warps=8 if block >= 2048 else 4)


def supported(tensors):
    """Whether 'auto' may use this kernel for these tensors (every tensor of the group)."""
    return all(t.dtype in DTYPES and t.is_contiguous() for t in tensors)
