"""
Training step speed: ms/iter, tokens/s and MFU of train.py's step for a config, and an optimizer overhead table.

    $ python scripts/bench_train.py --preset=gpt2                       # GPT-2 124M, AdamW (issue 6 target <= 24 ms)
    $ python scripts/bench_train.py --preset=baby                       # 6L/384 Shakespeare-char (<= 7.5 ms)
    $ python scripts/bench_train.py --preset=w2048                      # 8L, 2 heads of 1024 (<= 80 ms)
    $ python scripts/bench_train.py --preset=gpt2 --optimizers=all      # each optimizer vs AdamW, same process
    $ python scripts/bench_train.py config/mup_adamw.py --optimizers=adamw,splus --data=real --out=results/bench.md

Configured like train.py (config files, then --key=value): the defaults are train.py's own, read from its source,
plus the bench keys below. A preset sets the model of one of the issue's targets before any config file.

What is timed is train.py's iteration, mirrored line by line in train_step(): the LR write, forward/backward
under bf16 autocast on the torch.compile'd model, gradient clipping, the optimizer step, zero_grad and, when the
optimizer asks for it, Sophia's Hessian refresh (an extra forward/backward on sampled labels). Not timed:
evaluation, checkpoints, logging. One device, no DDP. The first `warmup` iterations (compilation, autotuning, the
first eigendecompositions) are dropped; then `iters` iterations run between two synchronizations (mean = wall
time / iters) with CUDA events around each (median). Keep `iters` a multiple of every refresh period (Sophia's k,
SPlus's inverse_every, SOAP/Shampoo's precond_every: 100 covers them all) so that periodic work is counted at
its real rate; the median leaves it out by construction. PSGD is timed in its flat start (preconditioner fitted
every step for 500 steps); its cost late in a run: --psgd_precond_update_prob=0.03 --psgd_precond_update_prob_min=0.03.

All optimizers of one call share the model (and its compiled graph): it is re-initialised before each row, so the
rows differ only in the optimizer. A row that fails (an error, out of memory) is reported in the table and the
next one runs. On the CPU the script runs in fp32 without compile, which is what tests/test_bench.py checks.

Wide heads (w2048: head_dim 1024) rule out flash and cuDNN attention. The header times every SDPA backend at the
model's attention shape, and --attn=explicit times the whole step with the attention written as two matmuls and
a softmax (explicit_attention below, patched into model.py for this process only): the candidate for model.py.
"""

import gc
import json
import math
import os
import pickle
import platform
import shlex
import statistics
import subprocess
import sys
import time
import traceback
import types
import warnings
from contextlib import nullcontext

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: E402

import configurator  # noqa: E402
import model as model_lib  # noqa: E402
import optim  # noqa: E402
import parameterization as P  # noqa: E402
from configurator import ConfigError, configure  # noqa: E402
from optim.sophia import hessian_sample_seed, sampled_label_loss  # noqa: E402

# -----------------------------------------------------------------------------
# the bench's own keys (train.py's keys come from configurator.train_defaults())
BENCH_DEFAULTS = dict(
    preset='',          # gpt2 | baby | w2048: the three models (see PRESETS); '' = the config as given
    optimizers='',      # '' = the config's optimizer; 'adamw,splus,...' or 'all': rows timed against AdamW
    data='synthetic',   # synthetic (random tokens, made on the device) | real (data/<dataset>/train.bin, as train.py)
    vocab_size=0,       # 0: data/<dataset>/meta.pkl's vocab if present, else 50304 (train.py's rule)
    warmup=10,          # untimed iterations per row: compilation, autotuning, first refreshes
    iters=100,          # timed iterations per row: a multiple of every refresh period (see the docstring)
    sdpa='auto',        # auto | flash | efficient | cudnn | math: restrict SDPA to one backend for the whole run
    attn='sdpa',        # sdpa (model.py as it is) | explicit: patch model.py's attention to explicit_attention
    compile_mode='default',  # torch.compile mode: default | reduce-overhead | max-autotune | max-autotune-no-cudagraphs
    out='',             # append the Markdown table to this file and one JSON line per row to <stem>.jsonl
)

# The models. parameterization='nanogpt' with tied embeddings is upstream nanoGPT's model exactly (same
# init, one LR, wte shared with lm_head: 124M parameters for GPT-2), so the times compare with the upstream ones
# below. 'sp' computes the same thing but unties lm_head: +V*d parameters of optimizer work (38.6M at GPT-2).
# Override on the command line (--parameterization=sp --tie_embeddings=False) to time the research setting.
# base_width = n_embd: every width multiplier is 1 (the engine also needs n_head to divide it).
_NANOGPT = dict(parameterization='nanogpt', tie_embeddings=True, bias=False, head_dim=0, gradient_accumulation_steps=1,
                optimizer='adamw', weight_decay=0.1, grad_clip=1.0)
PRESETS = {
    'gpt2': dict(_NANOGPT, n_layer=12, n_head=12, n_embd=768, base_width=768, block_size=1024, batch_size=12,
                 vocab_size=50304, dropout=0.0, dataset='openwebtext', learning_rate=6e-4, beta2=0.95),  # train_gpt2.py
    'baby': dict(_NANOGPT, n_layer=6, n_head=6, n_embd=384, base_width=384, block_size=256, batch_size=64,
                 vocab_size=65, dropout=0.2, dataset='shakespeare_char', learning_rate=1e-3, beta2=0.99),
    'w2048': dict(_NANOGPT, n_layer=8, n_head=2, n_embd=2048, base_width=2048, block_size=1024, batch_size=8,
                  vocab_size=65, dropout=0.0, dataset='shakespeare_char', learning_rate=1e-3, beta2=0.99),  # hd 1024
}
MODEL_KEYS = ('n_layer', 'n_head', 'n_embd', 'block_size', 'batch_size', 'vocab_size', 'dropout', 'bias', 'head_dim',
              'tie_embeddings', 'gradient_accumulation_steps')  # what a step target assumes
# issue 6 targets on one H100: preset -> (target ms/iter with AdamW, upstream nanoGPT's ms/iter on the same GPU kind)
STEP_TARGETS = {'gpt2': (24.0, 28.2), 'baby': (7.5, 8.0), 'w2048': (80.0, 96.5)}
# optimizer overhead at GPT-2 124M, x AdamW measured in the same call; every other optimizer: OTHER_RATIO
RATIO_TARGETS = {'splus': 1.15, 'soap': 1.25, 'shampoo': 1.25, 'muon': 1.10, 'sophia': 1.15}
OTHER_RATIO = 1.05
TARGET_GPU = 'H100'
# the settings that decide an optimizer's cost, shown in its row
SHOWN = {'sophia': ['sophia_k', 'hessian_micro_steps', 'sophia_kernel'],
         'splus': ['splus_inverse_every', 'splus_kernel'],
         'soap': ['soap_precond_every'], 'shampoo': ['shampoo_precond_every'], 'muon': ['muon_ns_steps'],
         'psgd': ['psgd_precond_update_prob', 'psgd_precond_update_prob_flat_start']}
PERIODS = {'sophia': 'sophia_k', 'splus': 'splus_inverse_every', 'soap': 'soap_precond_every',
           'shampoo': 'shampoo_precond_every'}
SDPA_BACKENDS = {'flash': SDPBackend.FLASH_ATTENTION, 'efficient': SDPBackend.EFFICIENT_ATTENTION,
                 'cudnn': SDPBackend.CUDNN_ATTENTION, 'math': SDPBackend.MATH}


def die(msg):
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(2)


def load_config(args):
    """Defaults -> preset -> config files and --key=value overrides, in that order (the command line wins)."""
    cfg = {**configurator.train_defaults(), **BENCH_DEFAULTS}
    preset = [a.split('=', 1)[1] for a in args if a.startswith('--preset=')]
    if preset and preset[-1]:
        if preset[-1] not in PRESETS:
            raise ConfigError(f"unknown preset '{preset[-1]}': choose one of {', '.join(PRESETS)}")
        cfg.update(PRESETS[preset[-1]])
    configure(cfg, args)
    return cfg


def optimizer_list(cfg):
    """The rows: AdamW first whenever there is more than one (it is the reference), and once more at the end to
    show how much the same measurement drifts within the call."""
    spec = cfg['optimizers'] or cfg['optimizer']
    names = list(optim.REGISTRY) if spec == 'all' else [s.strip() for s in spec.split(',') if s.strip()]
    for name in names:
        optim.get_optimizer_class(name)  # a typo fails now, not after minutes of compiling
    if len(names) > 1:
        names = ['adamw'] + [n for n in names if n != 'adamw'] + ['adamw']
    return names


def model_args(cfg):
    """GPTConfig arguments as train.py makes them; the vocabulary from vocab_size, else from the dataset's
    meta.pkl, else GPT-2's padded 50304 (train.py's rule)."""
    vocab = cfg['vocab_size']
    meta = os.path.join(ROOT, 'data', cfg['dataset'], 'meta.pkl')
    if not vocab and os.path.exists(meta):
        with open(meta, 'rb') as f:
            vocab = pickle.load(f)['vocab_size']
    return dict(n_layer=cfg['n_layer'], n_head=cfg['n_head'], head_dim=cfg['head_dim'], n_embd=cfg['n_embd'],
                block_size=cfg['block_size'], bias=cfg['bias'], vocab_size=vocab or 50304, dropout=cfg['dropout'],
                tie_embeddings=cfg['tie_embeddings'])


def is_preset_model(cfg):
    """True when the preset's model and batch were not overridden: the issue's targets apply to it."""
    preset = PRESETS.get(cfg['preset'])
    return bool(preset) and all(cfg[k] == preset[k] for k in MODEL_KEYS)


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


# -----------------------------------------------------------------------------
# timing helpers

def sync(device_type):
    if device_type == 'cuda':
        torch.cuda.synchronize()


def time_fn(fn, device_type, warmup=2, reps=5):
    """Mean ms of fn() after warmup calls; CUDA events on the GPU, the wall clock on the CPU."""
    for _ in range(warmup):
        fn()
    sync(device_type)
    if device_type == 'cuda':
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


def probe_sdpa(B, H, T, hd, dtype, device, dropout, scale):
    """Which SDPA backends run forward + backward at the model's attention shape, how fast (eager, ms), why the
    others refuse (torch says so in a warning), and which one SDPA's dispatcher picks by default."""
    device_type = 'cuda' if 'cuda' in device else 'cpu'
    q, k, v = (torch.randn(B, H, T, hd, device=device, dtype=dtype, requires_grad=True) for _ in range(3))
    gy = torch.randn(B, H, T, hd, device=device, dtype=dtype)

    def fwd_bwd(attention=F.scaled_dot_product_attention):
        y = attention(q, k, v, is_causal=True, scale=scale, dropout_p=dropout)
        y.backward(gy)

    out = {}
    try:  # eager: the compiled step fuses the softmax, so this is an upper bound for --attn=explicit
        out['explicit'] = dict(ms=time_fn(lambda: fwd_bwd(explicit_attention), device_type))
    except RuntimeError as e:
        out['explicit'] = dict(ms=None, reason=' '.join(str(e).split())[:240])
    q.grad = k.grad = v.grad = None
    for name, backend in SDPA_BACKENDS.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            try:
                with sdpa_kernel(backend):
                    out[name] = dict(ms=time_fn(fwd_bwd, device_type))
            except RuntimeError as e:  # includes out of memory
                # torch explains a refused backend in warnings ("... requires head_dim <= 256"); the error itself
                # only says that no backend was left
                reasons = [str(w.message) for w in caught if 'not used because' not in str(w.message)] or [str(e)]
                out[name] = dict(ms=None, reason=' '.join('; '.join(reasons).split())[:240])
        q.grad = k.grad = v.grad = None
    try:
        choice = int(torch._fused_sdp_choice(q, k, v, is_causal=True, dropout_p=dropout, scale=scale))
        default = {int(b): n for n, b in SDPA_BACKENDS.items()}.get(choice, f'backend {choice}')
    except Exception:  # private API: its absence must not stop the benchmark
        default = '?'
    del q, k, v, gy
    return out, default


# -----------------------------------------------------------------------------
# the benchmark

class Bench:
    """The model, data and settings shared by every row; bench_optimizer() times one optimizer on them."""

    def __init__(self, cfg):
        self.cfg = cfg
        c = cfg
        self.device = c['device']
        self.device_type = 'cuda' if 'cuda' in c['device'] else 'cpu'
        torch.backends.cuda.matmul.allow_tf32 = True  # as train.py
        torch.backends.cudnn.allow_tf32 = True
        ptdtype = {'float32': torch.float32, 'bfloat16': torch.bfloat16, 'float16': torch.float16}[c['dtype']]
        self.ptdtype = ptdtype
        self.ctx = nullcontext() if self.device_type == 'cpu' or c['dtype'] == 'float32' \
            else torch.autocast(self.device_type, dtype=ptdtype)
        self.accum = c['gradient_accumulation_steps']
        self.tokens_per_iter = self.accum * c['batch_size'] * c['block_size']
        self.data_dir = os.path.join(ROOT, 'data', c['dataset'])
        self.raw_model, self.infos = P.build_model(c, model_args(c), self.device, seed=c['seed'])
        self.gptconf = self.raw_model.config
        self.model = self.raw_model
        if c['compile'] and self.device_type == 'cuda':  # as train.py: compile on CUDA only
            mode = None if c['compile_mode'] == 'default' else c['compile_mode']
            self.model = torch.compile(self.raw_model, mode=mode)
        self.rng = np.random.default_rng([c['seed'], 0])
        self.gen = torch.Generator(device=self.device).manual_seed(c['seed'])

    def get_batch(self):
        """One micro-batch: train.py's get_batch on real data, or random tokens drawn on the device."""
        B, T = self.cfg['batch_size'], self.cfg['block_size']
        if self.cfg['data'] == 'synthetic':
            V = self.gptconf.vocab_size
            return (torch.randint(V, (B, T), device=self.device, generator=self.gen),
                    torch.randint(V, (B, T), device=self.device, generator=self.gen))
        data = np.memmap(os.path.join(self.data_dir, 'train.bin'), dtype=np.uint16, mode='r')
        ix = self.rng.integers(len(data) - T, size=B)
        x = torch.stack([torch.from_numpy(data[i:i + T].astype(np.int64)) for i in ix])
        y = torch.stack([torch.from_numpy(data[i + 1:i + 1 + T].astype(np.int64)) for i in ix])
        if self.device_type == 'cuda':
            return x.pin_memory().to(self.device, non_blocking=True), y.pin_memory().to(self.device, non_blocking=True)
        return x.to(self.device), y.to(self.device)

    def build_optimizer(self, name):
        """Param groups and optimizer exactly as train.py makes them (one device: no OwnerOptimizer)."""
        c = dict(self.cfg, optimizer=name)
        P.check(c)
        role_family = optim.family_of(name, c)
        groups = P.param_groups(self.raw_model, c, role_family, self.infos)
        return optim.build_optimizer(name, groups, dict(c, tokens_per_iter=self.tokens_per_iter, fused=True))

    def bench_optimizer(self, name):
        """Time train.py's iteration with this optimizer; returns a result dict (see the JSON lines)."""
        c = self.cfg
        torch.manual_seed(c['seed'])
        P.init_params(self.raw_model, c, self.infos)  # in place: the compiled graph stays valid
        opt = self.build_optimizer(name)
        scaler = torch.amp.GradScaler(self.device_type, enabled=(c['dtype'] == 'float16'))
        model, raw_model, ctx, accum = self.model, self.raw_model, self.ctx, self.accum
        X, Y = self.get_batch()

        def train_step(iter_num):
            # mirrors one iteration of train.py's loop (single device): keep the two in step
            nonlocal X, Y
            for group in opt.param_groups:
                group['lr'] = group['initial_lr']  # train.py writes the scheduled LR every iteration
            loss_sum, batches = 0.0, []
            for micro_step in range(accum):
                with ctx:
                    _, loss = model(X, Y)
                    loss = loss / accum
                batches.append(X)  # kept for Sophia's Hessian refresh
                X, Y = self.get_batch()  # prefetch the next batch while the GPU works
                scaler.scale(loss).backward()
                loss_sum = loss_sum + loss.detach()
            if c['grad_clip'] != 0.0:
                scaler.unscale_(opt)
                torch.nn.utils.clip_grad_norm_(raw_model.parameters(), c['grad_clip'])
            scaler.step(opt)
            scaler.update()
            opt.zero_grad(set_to_none=True)
            refreshed = hasattr(opt, 'hessian_due') and opt.hessian_due()
            if refreshed:  # Sophia's Gauss-Newton-Bartlett estimate, as in train.py
                hb = batches if c['hessian_micro_steps'] == 0 else batches[:c['hessian_micro_steps']]
                for k, Xh in enumerate(hb):
                    with ctx:
                        logits, _ = model(Xh, Xh)  # targets only to get logits at every position
                    loss_sampled = sampled_label_loss(logits, hessian_sample_seed(c['seed'], iter_num, k)) / len(hb)
                    loss_sampled.backward()
                if c['grad_clip'] != 0.0:
                    torch.nn.utils.clip_grad_norm_(raw_model.parameters(), c['grad_clip'])
                opt.update_hessian()
                opt.zero_grad(set_to_none=True)
            return loss_sum, refreshed

        try:
            t0 = time.perf_counter()
            for it in range(c['warmup']):
                train_step(it)
            sync(self.device_type)
            warmup_s = time.perf_counter() - t0
            cuda = self.device_type == 'cuda'
            marks, refreshes = [], 0  # CUDA events (GPU) or wall-clock stamps (CPU) at every iteration boundary

            def mark():
                if cuda:
                    e = torch.cuda.Event(enable_timing=True)
                    e.record()
                    marks.append(e)
                else:
                    marks.append(time.perf_counter())

            t0 = time.perf_counter()
            mark()
            for it in range(c['warmup'], c['warmup'] + c['iters']):
                loss, refreshed = train_step(it)
                refreshes += int(refreshed)
                mark()
            sync(self.device_type)
            mean_s = (time.perf_counter() - t0) / c['iters']
            per_iter = [a.elapsed_time(b) / 1000 if cuda else b - a for a, b in zip(marks, marks[1:])]
            loss = float(loss)
            settings = [f"{k.split('_', 1)[1] if k.startswith(name + '_') else k}={c[k]}"
                        for k in SHOWN.get(name, [])]
            if getattr(opt, 'defaults', {}).get('fused'):
                settings.append('fused')
            period = c.get(PERIODS.get(name, ''), 0)
            if period and c['iters'] % period:
                settings.append(f"iters % {period} != 0: periodic work under/over-counted")
            if name == 'sophia':
                settings.append(f"{refreshes} Hessian refreshes timed")
            if not math.isfinite(loss):  # the time is still valid; the hyperparameters are not
                settings.append('loss non-finite')
            return dict(optimizer=name, ms_mean=mean_s * 1000, ms_median=statistics.median(per_iter) * 1000,
                        ms_min=min(per_iter) * 1000, tokens_per_s=self.tokens_per_iter / mean_s,
                        mfu=raw_model.estimate_mfu(self.tokens_per_iter, mean_s) or None,
                        hessian_refreshes=refreshes, warmup_s=warmup_s, final_loss=loss,
                        settings=', '.join(settings), error=None)
        finally:
            for p in self.raw_model.parameters():
                p.grad = None
            del opt
            gc.collect()
            if self.device_type == 'cuda':
                torch.cuda.empty_cache()


# -----------------------------------------------------------------------------
# report

def device_name(device_type):
    if device_type == 'cuda':
        return torch.cuda.get_device_name()
    return f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def git_commit():
    try:
        return subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip()
    except Exception:
        return ''


def add_targets(rows, cfg, gpu):
    """Attach the issue's target to each row, and met/missed where it applies: the preset's own model (no
    override of its model keys) on the GPU kind the targets are stated for."""
    preset = cfg['preset']
    judged = is_preset_model(cfg) and TARGET_GPU in gpu
    ref = rows[0]['ms_mean'] if len(rows) > 1 and rows[0]['optimizer'] == 'adamw' else None
    for i, r in enumerate(rows):
        r['ratio'] = r['ms_mean'] / ref if ref and r['ms_mean'] else None
        r['target'], r['met'] = '', None
        if r['optimizer'] == 'adamw' and i == 0 and preset in STEP_TARGETS:
            target, upstream = STEP_TARGETS[preset]
            r['target'] = f"<= {target:g} ms (nanoGPT {upstream:g})"
            r['met'] = r['ms_mean'] <= target if judged and r['ms_mean'] else None
        elif r['optimizer'] != 'adamw' and ref and preset == 'gpt2':
            target = RATIO_TARGETS.get(r['optimizer'], OTHER_RATIO)
            r['target'] = f"<= {target:.2f}x"
            r['met'] = r['ratio'] <= target if judged and r['ratio'] else None
        if i > 0 and r['optimizer'] == 'adamw':
            r['optimizer'] = 'adamw (repeat)'


def markdown(rows, cfg, info):
    """The report: a header naming what was measured and where, then one table row per optimizer."""
    g = info['gptconf']
    title = cfg['preset'] + ('' if is_preset_model(cfg) else ' (modified)') if cfg['preset'] else 'config'
    lines = [f"### Training step: {title} ({g.n_layer}L/{g.n_head}H/{g.n_embd}, head_dim "
             f"{g.n_embd // g.n_head}, vocab {g.vocab_size}, {info['params_m']:.2f}M params, "
             f"{cfg['gradient_accumulation_steps']} x {cfg['batch_size']} x {cfg['block_size']} tokens)",
             '',
             f"- device: {info['gpu']}; torch {torch.__version__}"
             + (f", CUDA {torch.version.cuda}" if torch.version.cuda else '')
             + (f"; commit {info['commit']}" if info['commit'] else '') + f"; {info['date']}",
             f"- command: `{info['command']}`",
             f"- {cfg['parameterization']} parameterization, tie_embeddings={cfg['tie_embeddings']}, "
             f"dropout {cfg['dropout']}; {cfg['dtype']}{' autocast' if cfg['dtype'] != 'float32' else ''}; "
             f"torch.compile {info['compiled']}; {cfg['data']} data; "
             + ("attention: explicit_attention (bench patch, not model.py's SDPA)" if cfg['attn'] == 'explicit'
                else f"SDPA backend forced: {cfg['sdpa']}"),
             f"- {cfg['warmup']} warm-up iterations dropped, {cfg['iters']} timed; mean = wall time / iters between "
             f"two synchronizations, median of per-iteration times (CUDA events on a GPU); "
             f"x AdamW = mean / mean of the first row",
             f"- attention at (B, H, T, hd) = {info['sdpa_shape']}, fwd+bwd eager: "
             + ', '.join(f"{n} {v['ms']:.3f} ms" if v['ms'] is not None else f"{n} unusable ({v['reason']})"
                         for n, v in info['sdpa'].items())
             + f"; SDPA's default pick: {info['sdpa_default']}",
             '',
             '| optimizer | settings | ms/iter (mean) | ms/iter (median) | tokens/s | MFU | x AdamW | target | met |',
             '|---|---|---:|---:|---:|---:|---:|---|---|']
    for r in rows:
        if r['error']:
            lines.append(f"| {r['optimizer']} | error: {r['error']} | - | - | - | - | - | {r['target']} | "
                         f"{'missed' if r['target'] else '-'} |")
            continue
        mfu = f"{100 * r['mfu']:.1f}%" if r['mfu'] else '-'
        ratio = f"{r['ratio']:.3f}" if r['ratio'] else '-'
        met = {True: 'met', False: 'missed', None: '-'}[r['met']]
        lines.append(f"| {r['optimizer']} | {r['settings']} | {r['ms_mean']:.2f} | {r['ms_median']:.2f} | "
                     f"{r['tokens_per_s']:,.0f} | {mfu} | {ratio} | {r['target']} | {met} |")
    return '\n'.join(lines)


def main(args):
    try:
        cfg = load_config(args)
        P.check(cfg)
        names = optimizer_list(cfg)
    except (ConfigError, ValueError) as e:
        die(e)
    if cfg['data'] not in ('synthetic', 'real'):
        die(f"unknown data '{cfg['data']}': choose synthetic or real")
    if cfg['sdpa'] != 'auto' and cfg['sdpa'] not in SDPA_BACKENDS:
        die(f"unknown sdpa '{cfg['sdpa']}': choose auto, {', '.join(SDPA_BACKENDS)}")
    if cfg['attn'] not in ('sdpa', 'explicit'):
        die(f"unknown attn '{cfg['attn']}': choose sdpa or explicit")
    if cfg['attn'] == 'explicit':
        patch_attention(model_lib)
    if cfg['device'] == 'cpu' and cfg['dtype'] != 'float32':
        die(f"dtype='{cfg['dtype']}' on the CPU: use --dtype=float32 (bf16/fp16 autocast is for CUDA)")
    if cfg['tie_embeddings'] and cfg['parameterization'] != 'nanogpt':
        die("tie_embeddings=True needs parameterization='nanogpt' (as in train.py)")
    if cfg['iters'] < 1 or cfg['warmup'] < 0:
        die(f"iters={cfg['iters']}, warmup={cfg['warmup']}: need iters >= 1 and warmup >= 0")
    if cfg['data'] == 'real' and not os.path.exists(os.path.join(ROOT, 'data', cfg['dataset'], 'train.bin')):
        die(f"missing data/{cfg['dataset']}/train.bin: run `python data/{cfg['dataset']}/prepare.py` or use "
            f"--data=synthetic")

    try:
        bench = Bench(cfg)
    except ValueError as e:  # the parameterization engine's one-line messages (e.g. base_width vs n_head)
        die(e)
    g = bench.gptconf
    gpu = device_name(bench.device_type)
    sdpa_dtype = bench.ptdtype if bench.device_type == 'cuda' else torch.float32
    sdpa_shape = (cfg['batch_size'], g.n_head, cfg['block_size'], g.n_embd // g.n_head)
    sdpa, sdpa_default = probe_sdpa(*sdpa_shape, sdpa_dtype, bench.device, cfg['dropout'], g.attn_scale)
    print(f"{gpu}: {len(names)} row(s), {cfg['warmup']} + {cfg['iters']} iterations each", flush=True)
    sdpa_ctx = nullcontext() if cfg['sdpa'] == 'auto' else sdpa_kernel(SDPA_BACKENDS[cfg['sdpa']])
    rows = []
    with sdpa_ctx:  # entered before the first call, so the compiled graph is traced with it
        for name in names:
            print(f"-- {name}", flush=True)
            try:
                rows.append(bench.bench_optimizer(name))
            except Exception as e:  # report and go on: one broken optimizer must not cost the whole table
                traceback.print_exc()
                gc.collect()  # the failed row's tensors (out of memory?) must not crowd the next one
                if bench.device_type == 'cuda':
                    torch.cuda.empty_cache()
                msg = ' '.join(f"{type(e).__name__}: {e}".split()).replace('|', '/')[:200]
                rows.append(dict(optimizer=name, ms_mean=None, ms_median=None, tokens_per_s=None, mfu=None,
                                 settings='', error=msg))
            print(json.dumps({k: v for k, v in rows[-1].items() if k != 'settings'}), flush=True)
    add_targets(rows, cfg, gpu)
    info = dict(gptconf=g, params_m=bench.raw_model.get_num_params() / 1e6, gpu=gpu, commit=git_commit(),
                date=time.strftime('%Y-%m-%d %H:%M'), sdpa=sdpa, sdpa_default=sdpa_default,
                sdpa_shape=sdpa_shape, compiled=('on' + ('' if cfg['compile_mode'] == 'default' else
                                                         f" ({cfg['compile_mode']})"))
                if bench.model is not bench.raw_model else 'off',
                command='python scripts/bench_train.py ' + ' '.join(shlex.quote(a) for a in args))
    table = markdown(rows, cfg, info)
    print('\n' + table)
    if cfg['out']:
        os.makedirs(os.path.dirname(os.path.abspath(cfg['out'])), exist_ok=True)
        with open(cfg['out'], 'a') as f:
            f.write(table + '\n\n')
        common = dict(preset=cfg['preset'], gpu=gpu, torch=torch.__version__, command=info['command'],
                      n_layer=g.n_layer, n_head=g.n_head, n_embd=g.n_embd, vocab_size=g.vocab_size,
                      tokens_per_iter=bench.tokens_per_iter, dtype=cfg['dtype'], compiled=info['compiled'],
                      data=cfg['data'], sdpa=cfg['sdpa'], sdpa_default=sdpa_default, date=info['date'])
        with open(os.path.splitext(cfg['out'])[0] + '.jsonl', 'a') as f:
            for r in rows:
                f.write(json.dumps({**common, **r}) + '\n')
        print(f"appended to {cfg['out']} and {os.path.splitext(cfg['out'])[0]}.jsonl")


if __name__ == '__main__':
    main(sys.argv[1:])
