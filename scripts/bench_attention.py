"""
Causal attention at one shape, forward + backward, eager: every SDPA backend (flash, efficient, cudnn, math) and
explicit_attention (two matmuls and a softmax), in ms; why a refused backend refuses (torch says so in a warning);
which backend SDPA's dispatcher picks by default. Wide heads (head_dim 1024, bench_train.py's w2048 preset) rule
out flash and cuDNN attention: explicit_attention is the candidate for model.py there, and
`bench_train.py --attn=explicit` times the whole training step with it patched in (patch_attention).

    $ python scripts/bench_attention.py                           # w2048: B 8, H 2, T 1024, head_dim 1024, bf16
    $ python scripts/bench_attention.py --shape 12,12,1024,64     # GPT-2 124M
"""

import argparse
import time
import types
import warnings

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

SDPA_BACKENDS = {'flash': SDPBackend.FLASH_ATTENTION, 'efficient': SDPBackend.EFFICIENT_ATTENTION,
                 'cudnn': SDPBackend.CUDNN_ATTENTION, 'math': SDPBackend.MATH}


def explicit_attention(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=True, scale=None):
    """Causal attention as (q k^T) -> masked softmax -> (att v), with SDPA's signature. For head dims above 256
    no fused kernel is fast; these are two large bf16 matmuls (the head dim is their inner dimension) and one
    softmax that torch.compile fuses with the scale and the mask. The softmax runs in fp32 like the fused kernels."""
    assert attn_mask is None and is_causal
    T = q.size(-2)
    att = (q @ k.transpose(-2, -1)) * (scale if scale is not None else q.size(-1) ** -0.5)  # (B, nh, T, T)
    causal = torch.ones(T, T, dtype=torch.bool, device=q.device).tril()
    att = F.softmax(att.float().masked_fill(~causal, float('-inf')), dim=-1).to(q.dtype)
    att = F.dropout(att, p=dropout_p) if dropout_p > 0 else att
    return att @ v  # (B, nh, T, hs)


def patch_attention(model_module):
    """model.py's attention becomes explicit_attention, in this process only: model.py calls
    F.scaled_dot_product_attention, so its F is swapped for a copy of torch.nn.functional with that one name."""
    functional = types.ModuleType('functional_explicit_attention')
    functional.__dict__.update({k: v for k, v in vars(F).items() if not k.startswith('__')})
    functional.scaled_dot_product_attention = explicit_attention
    model_module.F = functional


def time_ms(fn, cuda, warmup=2, reps=5):
    """Mean ms of fn() after warmup calls; CUDA events on the GPU, the wall clock on the CPU."""
    for _ in range(warmup):
        fn()
    if cuda:
        torch.cuda.synchronize()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(reps):
            fn()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / reps
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t0) * 1000 / reps


def probe_sdpa(B, H, T, hd, dtype, device, dropout=0.0, scale=None):
    """({name: dict(ms) or dict(ms=None, reason)} for explicit_attention and every SDPA backend, SDPA's default)."""
    q, k, v = (torch.randn(B, H, T, hd, device=device, dtype=dtype, requires_grad=True) for _ in range(3))
    gy = torch.randn(B, H, T, hd, device=device, dtype=dtype)
    cuda = torch.device(device).type == 'cuda'

    def fwd_bwd(attention=F.scaled_dot_product_attention):
        attention(q, k, v, is_causal=True, scale=scale, dropout_p=dropout).backward(gy)

    out = {}
    try:  # eager: a compiled step fuses the softmax, so this is an upper bound for --attn=explicit
        out['explicit'] = dict(ms=time_ms(lambda: fwd_bwd(explicit_attention), cuda))
    except RuntimeError as e:
        out['explicit'] = dict(ms=None, reason=' '.join(str(e).split())[:240])
    for name, backend in SDPA_BACKENDS.items():
        q.grad = k.grad = v.grad = None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            try:
                with sdpa_kernel(backend):
                    out[name] = dict(ms=time_ms(fwd_bwd, cuda))
            except RuntimeError as e:  # includes out of memory
                # torch explains a refused backend in warnings ("... requires head_dim <= 256"); the error itself
                # only says that no backend was left
                reasons = [str(w.message) for w in caught if 'not used because' not in str(w.message)] or [str(e)]
                out[name] = dict(ms=None, reason=' '.join('; '.join(reasons).split())[:240])
    try:
        choice = int(torch._fused_sdp_choice(q, k, v, is_causal=True, dropout_p=dropout, scale=scale))
        default = {int(b): n for n, b in SDPA_BACKENDS.items()}.get(choice, f'backend {choice}')
    except Exception:  # private API: its absence must not stop the benchmark
        default = '?'
    return out, default


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.strip().split('\n\n')[0])
    ap.add_argument('--shape', default='8,2,1024,1024', help='B,H,T,head_dim')
    ap.add_argument('--dtype', default='bfloat16', choices=['bfloat16', 'float16', 'float32'])
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    args = ap.parse_args(argv)
    try:
        shape = tuple(int(s) for s in args.shape.split(','))
        assert len(shape) == 4 and min(shape) > 0
    except (ValueError, AssertionError):
        ap.error(f"--shape {args.shape}: write four positive integers B,H,T,head_dim")
    out, default = probe_sdpa(*shape, getattr(torch, args.dtype), args.device)
    print(f"causal attention fwd+bwd at (B, H, T, hd) = {shape}, {args.dtype}, {args.device}; "
          f"SDPA's default pick: {default}")
    for name, r in out.items():
        print(f"  {name:9s} " + (f"{r['ms']:.3f} ms" if r['ms'] is not None else f"unusable: {r['reason']}"))


if __name__ == '__main__':
    main()
