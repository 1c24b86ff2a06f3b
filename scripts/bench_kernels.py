"""Benchmark the optimizer kernels (optim/kernels) on real layer shapes: the Triton kernel, the torch eager reference
(what the optimizer runs with <name>_kernel='torch') and torch.compile of that reference. Needs a CUDA GPU.

    python scripts/bench_kernels.py                      # fp32 parameters, TF32 matmuls (train.py's settings)
    python scripts/bench_kernels.py --dtype bfloat16 --no-compile --only sophia --out results/bench_kernels.md

SPlus (rotate_sign_update_): ms and TFLOP/s of the rotation's matmuls, 4 m n (m + n) flops with both bases and
4 m n^2 (or 4 m^2 n) one-sided (the 50304 x 768 embedding: its 50304 side is above max_dim = 10000); the check
column is max |U_kernel - U_eager| / max |U_eager| (same TF32 setting on both paths: a rotated entry within TF32
error of zero may take either sign, which shows here as ~2 |Q_L[:, i]| |Q_R[j, :]| / max |U|).
Sophia (clipped_update_): ms and GB/s for 4 reads + 2 writes per element, and that as a fraction of the device copy
bandwidth measured in the same run (a 1 GiB tensor copy, read + write); its check column is max |p_kernel -
p_eager| / lr after one step from the same state (fp32: an ulp of p ~ 1..4 is 2e-4..8e-4 in these units).
Rows print as they finish, so a run cut short still leaves the rows done; a torch.compile failure only blanks its
own cell. Without CUDA (or triton) it prints one line and exits with status 2.
"""

import argparse
import os
import sys

os.environ.pop('TRITON_INTERPRET', None)  # benchmark compiled kernels, whatever the shell had
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402

MAX_DIM = 10000  # SPlus default: no basis for a side >= max_dim
GPT2 = [('GPT-2 attn proj', (768, 768)), ('GPT-2 qkv', (768, 2304)), ('GPT-2 MLP in', (768, 3072)),
        ('GPT-2 MLP out', (3072, 768)), ('GPT-2 embedding', (50304, 768))]
WIDE = [('width-2048 attn proj', (2048, 2048)), ('width-2048 qkv', (2048, 6144)), ('width-2048 MLP in', (2048, 8192)),
        ('width-2048 MLP out', (8192, 2048))]
# every parameter of GPT-2 124M (no biases, tied head), as one Sophia param group
GPT2_ALL = [(50304, 768), (1024, 768)] + 12 * [(768,), (2304, 768), (768, 768), (768,), (3072, 768), (768, 3072)] \
    + [(768,)]


def bench(fn):
    """Mean ms of fn over ~100 ms of repetitions (triton.testing.do_bench), or the error as a short string."""
    import triton.testing
    try:
        ms = triton.testing.do_bench(fn, warmup=25, rep=100)
        return float(ms[0] if isinstance(ms, (list, tuple)) else ms)
    except Exception as e:  # noqa: BLE001 -- one failed cell must not end the run
        return f'{type(e).__name__}: {str(e).splitlines()[0][:60] if str(e) else ""}'.replace('|', '/')


def compiled(fn, enabled):
    """torch.compile(fn) with a fresh dynamo cache (each shape would otherwise count towards the recompile limit)."""
    if not enabled:
        return None
    try:
        torch._dynamo.reset()
        return torch.compile(fn, dynamic=False)
    except Exception as e:  # noqa: BLE001
        return f'{type(e).__name__}'


def cell(ms, work, unit):
    """'ms (rate unit)' or the error text. work: flops or bytes per call; unit: 'TFLOP/s' or 'GB/s'."""
    if not isinstance(ms, float):
        return str(ms) if ms is not None else 'skipped'
    rate = work / (ms * 1e-3) / (1e12 if unit == 'TFLOP/s' else 1e9)
    return f'{ms:.3f} ({rate:.1f} {unit})'


def copy_bandwidth():
    """Device copy bandwidth in GB/s: a 1 GiB fp32 copy reads and writes 2 GiB."""
    x = torch.empty(2 ** 28, device='cuda')
    y = torch.empty_like(x)
    ms = bench(lambda: y.copy_(x))
    del x, y
    return 2 * 2 ** 30 / (ms * 1e-3) / 1e9


def splus_row(name, shape, dtype, use_compile):
    from optim.kernels import splus as K
    m, n = shape
    QL = torch.linalg.qr(torch.randn(m, m, device='cuda'))[0] if m < MAX_DIM else None
    QR = torch.linalg.qr(torch.randn(n, n, device='cuda'))[0] if n < MAX_DIM else None
    M, p, ema = (torch.randn(m, n, device='cuda').to(dtype) for _ in range(3))
    s = 0.1 * 2 / (m + n)
    hp = dict(scaled_lr=s, weight_decay=0.01, ema_rate=0.999)
    flops = 2 * m * n * ((2 * m if QL is not None else 0) + (2 * n if QR is not None else 0))
    # the check: W = 0, s = 1, no decay leaves W = -U on both paths; max |U_kernel - U_eager| / max |U_eager|
    u1, u2 = torch.zeros(m, n, device='cuda'), torch.zeros(m, n, device='cuda')
    one = dict(scaled_lr=1.0, weight_decay=0.0, ema_rate=0.0)
    K.rotate_sign_update_(u1, M.float(), torch.zeros_like(u1), QL, QR, **one)
    K.rotate_sign_update_ref(u2, M.float(), torch.zeros_like(u2), QL, QR, **one)
    check = ((u1 - u2).abs().max() / u2.abs().max()).item()
    del u1, u2
    comp = compiled(K.rotate_sign_update_ref, use_compile)
    t_kernel = bench(lambda: K.rotate_sign_update_(p, M, ema, QL, QR, **hp))
    t_eager = bench(lambda: K.rotate_sign_update_ref(p, M, ema, QL, QR, **hp))
    t_comp = comp if not callable(comp) else bench(lambda: comp(p, M, ema, QL, QR, **hp))
    speedup = f'{t_eager / t_kernel:.2f}x' if isinstance(t_eager, float) and isinstance(t_kernel, float) else '-'
    sides = 'both' if QL is not None and QR is not None else 'Q_R only' if QR is not None else 'Q_L only'
    return [name, f'{m}x{n}', sides, cell(t_kernel, flops, 'TFLOP/s'), cell(t_eager, flops, 'TFLOP/s'),
            cell(t_comp, flops, 'TFLOP/s'), speedup, f'{check:.2g}']


def sophia_row(name, shapes, dtype, use_compile, copy_gbs):
    from optim.kernels import sophia as K
    ps, gs, ms = ([torch.randn(s, device='cuda').to(dtype) for s in shapes] for _ in range(3))
    hs = [1e-3 * torch.rand(s, device='cuda').to(dtype) for s in shapes]
    hp = dict(lr=6e-4, beta1=0.965, rho=0.05, bs=480 * 1024, weight_decay=0.2, eps=1e-15)
    numel = sum(p.numel() for p in ps)
    nbytes = 6 * numel * ps[0].element_size()
    # the check: one step from the same state on both paths, max |p_kernel - p_eager| / lr (steps are <= lr)
    a, b = ([t.clone() for t in ts] for ts in (ps, ms)), ([t.clone() for t in ts] for ts in (ps, ms))
    (pa, ma), (pb, mb) = a, b
    K.clipped_update_(pa, gs, ma, hs, **hp)
    K.clipped_update_ref(pb, gs, mb, hs, **hp)
    check = max((x.float() - y.float()).abs().max().item() for x, y in zip(pa, pb)) / hp['lr']
    del pa, ma, pb, mb
    comp = compiled(K.clipped_update_ref, use_compile)
    t_kernel = bench(lambda: K.clipped_update_(ps, gs, ms, hs, **hp))
    t_eager = bench(lambda: K.clipped_update_ref(ps, gs, ms, hs, **hp))
    t_comp = comp if not callable(comp) else bench(lambda: comp(ps, gs, ms, hs, **hp))
    frac = f'{nbytes / (t_kernel * 1e-3) / 1e9 / copy_gbs:.0%}' if isinstance(t_kernel, float) else '-'
    size = 'x'.join(map(str, shapes[0])) if len(shapes) == 1 else f'{len(shapes)} tensors'
    return [name, size, f'{numel / 1e6:.1f}M', cell(t_kernel, nbytes, 'GB/s'), cell(t_eager, nbytes, 'GB/s'),
            cell(t_comp, nbytes, 'GB/s'), frac, f'{check:.2g}']


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--dtype', default='float32', choices=['float32', 'bfloat16'], help='parameter dtype')
    parser.add_argument('--only', default='', choices=['', 'splus', 'sophia'], help='one kernel only')
    parser.add_argument('--no-compile', action='store_true', help='skip the torch.compile column (saves minutes)')
    parser.add_argument('--no-tf32', action='store_true', help='IEEE fp32 matmuls (train.py turns TF32 on)')
    parser.add_argument('--out', default='', help='also write the Markdown here (rewritten after every row)')
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print('bench_kernels.py needs a CUDA GPU (none found): nothing measured')
        sys.exit(2)
    try:
        import triton
    except ImportError:
        print('bench_kernels.py needs triton (pip install triton): nothing measured')
        sys.exit(2)
    torch.backends.cuda.matmul.allow_tf32 = not args.no_tf32
    dtype = getattr(torch, args.dtype)
    lines = []

    def emit(line=''):
        print(line, flush=True)
        lines.append(line)
        if args.out:
            with open(args.out, 'w') as f:
                f.write('\n'.join(lines) + '\n')

    copy_gbs = copy_bandwidth()
    emit(f'# Optimizer kernels: {torch.cuda.get_device_name()}')
    emit()
    emit(f'`python {" ".join(sys.argv)}` -- torch {torch.__version__}, triton {triton.__version__}, parameters '
         f'{args.dtype}, TF32 {"off" if args.no_tf32 else "on"}; mean ms of triton.testing.do_bench; '
         f'device copy bandwidth {copy_gbs:.0f} GB/s (1 GiB copy).')
    row = lambda cells: emit('| ' + ' | '.join(cells) + ' |')  # noqa: E731
    if args.only in ('', 'splus'):
        emit()
        emit('SPlus rotation-sign + update (`optim/kernels/splus.py`): ms (TFLOP/s of the rotation matmuls)')
        emit()
        row(['layer', 'm x n', 'bases', 'Triton kernel', 'torch eager', 'torch.compile', 'eager / kernel', 'check'])
        row(['---'] * 3 + ['---:'] * 5)
        for name, shape in GPT2 + WIDE:
            row(splus_row(name, shape, dtype, not args.no_compile))
            torch.cuda.empty_cache()
    if args.only in ('', 'sophia'):
        emit()
        emit('Sophia clipped update (`optim/kernels/sophia.py`): ms (GB/s, 6 tensor passes per element)')
        emit()
        row(['group', 'shape', 'elements', 'Triton kernel', 'torch eager', 'torch.compile', 'kernel / copy bw',
             'check'])
        row(['---'] * 2 + ['---:'] * 6)
        for name, shape in GPT2 + WIDE:
            row(sophia_row(name, [shape], dtype, not args.no_compile, copy_gbs))
        row(sophia_row('GPT-2 124M, every parameter', GPT2_ALL, dtype, not args.no_compile, copy_gbs))


if __name__ == '__main__':
    main()
