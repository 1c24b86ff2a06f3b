"""
Training step speed: ms/iter, tokens/s and MFU of train.py's iteration, one table row per optimizer.

    $ python scripts/bench_train.py --preset=gpt2                       # GPT-2 124M, AdamW (target <= 24 ms)
    $ python scripts/bench_train.py --preset=baby                       # 6L/384 Shakespeare-char (<= 7.5 ms)
    $ python scripts/bench_train.py --preset=w2048                      # 8L, 2 heads of 1024 (<= 80 ms)
    $ python scripts/bench_train.py --preset=gpt2 --optimizers=all      # each optimizer vs AdamW, same process
    $ python scripts/bench_train.py config/mup_adamw.py --optimizers=adamw,splus --out=results/bench.md
    $ python scripts/bench_train.py config/mup_adamw.py config/demo_cpu.py --device=cpu \
          --vary="n_embd=128,512;parameterization=nanogpt,mup;compile=False,True"     # a grid of rows on the CPU

Configured like train.py (configurator.train_defaults(), a preset stacked first, config files, --key=value) plus
BENCH_DEFAULTS. Model, param groups and optimizer come from parameterization.build_model / param_groups and
optim.build_optimizer, as in train.py; train_step() is one iteration of train.py's loop on one device (LR write,
forward/backward under autocast on the compiled model, clipping, optimizer step, zero_grad, Sophia's Hessian
refresh when due; autocast and torch.compile as train.py: bf16 autocast on the CPU too, inductor on the CPU
too), on random tokens. Not timed: evaluation, logging.
`warmup` iterations are dropped, then `iters` run between two synchronizations (mean = wall time / iters) with
CUDA events (the CPU: the wall clock) at every boundary (median). Keep iters a multiple of every refresh period
(Sophia's k, SPlus's inverse_every, SOAP/Shampoo's precond_every; 100 covers them) so periodic work counts at its
rate. PSGD is timed in its flat start (late in a run: --psgd_precond_update_prob=0.03
--psgd_precond_update_prob_min=0.03). MFU: model.py's estimate_mfu against its table of GPU peaks, or with
--peak=measure (the default on a CPU, which has no table) against the fp32 matmul rate measured first in the same
run (a peak_n^3 GEMM timed by time_steps, median). A row is a dict of config overrides (rows()): the optimizers,
times the product of --vary's axes ("key=v1,v2;key2=..."; the ratio of each axis's last value to its first, the
other keys equal, is printed under the table); rows that change only the optimizer share one model and its compiled
graph, re-initialised before each. A row that fails becomes an error row; the next runs.
Attention backends at a model's shape: scripts/bench_attention.py (--attn=explicit patches its kernel in here).
"""

import contextlib
import gc
import io
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
from contextlib import nullcontext

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, 'scripts')]  # the repo's modules; bench_attention.py next to this file

import torch  # noqa: E402
from torch.nn.attention import sdpa_kernel  # noqa: E402

import configurator  # noqa: E402
import model as model_lib  # noqa: E402
import optim  # noqa: E402
import parameterization as P  # noqa: E402
from bench_attention import SDPA_BACKENDS, patch_attention  # noqa: E402
from configurator import ConfigError, configure  # noqa: E402
from optim.sophia import hessian_sample_seed, sampled_label_loss  # noqa: E402

BENCH_DEFAULTS = dict(
    preset='',          # gpt2 | baby | w2048 (PRESETS); '' = the config as given
    optimizers='',      # '' = the config's optimizer; 'adamw,splus,...' or 'all': rows timed against AdamW
    vocab_size=0,       # 0: data/<dataset>/meta.pkl's vocab if present, else 50304 (train.py's rule)
    warmup=10,          # untimed iterations per row: compilation, autotuning, first refreshes
    iters=100,          # timed iterations per row: a multiple of every refresh period (see the docstring)
    sdpa='auto',        # auto | flash | efficient | cudnn | math: restrict SDPA to one backend for the whole run
    attn='sdpa',        # sdpa (model.py as it is) | explicit: bench_attention.explicit_attention patched in
    compile_mode='default',  # torch.compile mode: default | reduce-overhead | max-autotune | max-autotune-no-cudagraphs
    vary='',            # more rows: "key=v1,v2;key2=v1,v2" (config keys; values parsed like --key=value), a product
    repeat=1,           # run the whole row list this many times in turn (ABAB: drift hits every row alike)
    peak='auto',        # MFU's peak: auto (model.py's GPU table; measure on a CPU) | table | measure
    peak_n=2048,        # --peak=measure: the fp32 GEMM size n (n x n times n x n)
    out='',             # append the Markdown table to this file and one JSON line per row to <stem>.jsonl
)
# parameterization='nanogpt' with tied embeddings is upstream nanoGPT's model (same init, one LR, wte shared with
# lm_head: 124M parameters for GPT-2), so the times compare with upstream's below; base_width = n_embd makes every
# width multiplier 1. Research setting: --parameterization=sp --tie_embeddings=False (+V*d parameters to update).
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
# targets on one H100: preset -> (ms/iter with AdamW, upstream nanoGPT's ms/iter on the same GPU kind); optimizer
# overhead at GPT-2 124M as x AdamW measured in the same call (OTHER_RATIO for optimizers not listed)
STEP_TARGETS = {'gpt2': (24.0, 28.2), 'baby': (7.5, 8.0), 'w2048': (80.0, 96.5)}
RATIO_TARGETS = {'splus': 1.15, 'soap': 1.25, 'shampoo': 1.25, 'muon': 1.10, 'sophia': 1.15}
OTHER_RATIO, TARGET_GPU = 1.05, 'H100'
SHOWN = {'sophia': ['sophia_k', 'hessian_micro_steps', 'sophia_kernel'], 'muon': ['muon_ns_steps'],
         'splus': ['splus_inverse_every', 'splus_kernel'], 'soap': ['soap_precond_every'],
         'shampoo': ['shampoo_precond_every'],
         'psgd': ['psgd_precond_update_prob', 'psgd_precond_update_prob_flat_start']}  # what decides the cost
PERIODS = {'sophia': 'sophia_k', 'splus': 'splus_inverse_every', 'soap': 'soap_precond_every',
           'shampoo': 'shampoo_precond_every'}


def load_config(args):
    """train.py's defaults and BENCH_DEFAULTS -> preset -> config files and --key=value (the command line wins)."""
    cfg = {**configurator.train_defaults(), **BENCH_DEFAULTS}
    preset = [a.split('=', 1)[1] for a in args if a.startswith('--preset=')]
    if preset and preset[-1]:
        if preset[-1] not in PRESETS:
            raise ConfigError(f"unknown preset '{preset[-1]}': choose one of {', '.join(PRESETS)}")
        cfg.update(PRESETS[preset[-1]])
    configure(cfg, args)
    return cfg


def axes(cfg):
    """--vary as [(key, [values])], each value typed like the key's default (configurator's rules)."""
    out = []
    for part in filter(None, (p.strip() for p in cfg['vary'].split(';'))):
        key, _, values = part.partition('=')
        key = key.strip()
        if not values or key not in cfg or key in BENCH_DEFAULTS:
            raise ConfigError(f"vary: '{part}' must be key=v1,v2 with a config key of train.py")
        out.append((key, [configure_value(cfg, key, v.strip()) for v in values.split(',')]))
    return out


def configure_value(cfg, key, text):
    """text parsed as --key=text would be, against cfg's value for key."""
    scope = {key: cfg[key]}
    with contextlib.redirect_stdout(io.StringIO()):  # configure prints each override
        configure(scope, [f'--{key}={text}'])
    return scope[key]


def rows(cfg):
    """The rows, each a dict of overrides of cfg: AdamW first whenever there is more than one optimizer (the
    reference), and once more at the end to show how much the same measurement drifts within the call; each
    optimizer row once per point of --vary's product."""
    spec = cfg['optimizers'] or cfg['optimizer']
    names = list(optim.REGISTRY) if spec == 'all' else [s.strip() for s in spec.split(',') if s.strip()]
    for name in names:
        optim.get_optimizer_class(name)  # a typo fails now, not after minutes of compiling
    if len(names) > 1:
        names = ['adamw'] + [n for n in names if n != 'adamw'] + ['adamw']
    points = [{}]
    for key, values in axes(cfg):
        points = [dict(p, **{key: v}) for p in points for v in values]
    return [dict(point, optimizer=n) for point in points for n in names] * cfg['repeat']


def model_args(cfg):
    """GPTConfig arguments as train.py makes them; vocab_size, else the dataset's meta.pkl, else 50304."""
    meta, vocab = os.path.join(ROOT, 'data', cfg['dataset'], 'meta.pkl'), cfg['vocab_size']
    if not vocab and os.path.exists(meta):
        with open(meta, 'rb') as f:
            vocab = pickle.load(f)['vocab_size']
    keys = ('n_layer', 'n_head', 'head_dim', 'n_embd', 'block_size', 'bias', 'dropout', 'tie_embeddings')
    return dict({k: cfg[k] for k in keys}, vocab_size=vocab or 50304)


def is_preset_model(cfg):
    """True when the preset's model and batch were not overridden: its step target applies."""
    preset = PRESETS.get(cfg['preset'])
    return bool(preset) and all(cfg[k] == preset[k] for k in MODEL_KEYS)


def build_model(c):
    """(model to call, raw model, param infos): the engine's model, compiled as train.py compiles it."""
    raw_model, infos = P.build_model(c, model_args(c), c['device'], seed=c['seed'])
    if not c['compile']:
        return raw_model, raw_model, infos
    mode = None if c['compile_mode'] == 'default' else c['compile_mode']
    return torch.compile(raw_model, mode=mode), raw_model, infos


def train_step(c, model, raw_model, opt, batch):
    """step(iter_num) -> (loss, Hessian refreshed?): one iteration of train.py's loop on one device (keep the two
    in step); batch() draws the next micro-batch where train.py prefetches it."""
    cuda, accum = 'cuda' in c['device'], c['gradient_accumulation_steps']
    ctx = torch.autocast('cuda' if cuda else 'cpu', dtype=getattr(torch, c['dtype'])) if c['dtype'] != 'float32' \
        else nullcontext()  # train.py's rule: autocast on the CPU too (bf16)
    scaler = torch.amp.GradScaler('cuda' if cuda else 'cpu', enabled=c['dtype'] == 'float16')
    xy = [batch()]

    def step(iter_num):
        for group in opt.param_groups:
            group['lr'] = group['initial_lr']  # train.py writes the scheduled LR every iteration
        loss_sum, batches = 0.0, []
        for _ in range(accum):
            X, Y = xy[0]
            with ctx:
                loss = model(X, Y)[1] / accum
            batches.append(X)  # kept for Sophia's Hessian refresh
            xy[0] = batch()
            scaler.scale(loss).backward()
            loss_sum = loss_sum + loss.detach()
        if c['grad_clip'] != 0.0:
            scaler.unscale_(opt)
            torch.nn.utils.clip_grad_norm_(raw_model.parameters(), c['grad_clip'])
        scaler.step(opt)
        scaler.update()
        opt.zero_grad(set_to_none=True)
        refresh = hasattr(opt, 'hessian_due') and opt.hessian_due()
        if refresh:  # Sophia's Gauss-Newton-Bartlett estimate on sampled labels, as in train.py
            hb = batches if c['hessian_micro_steps'] == 0 else batches[:c['hessian_micro_steps']]
            for k, Xh in enumerate(hb):
                with ctx:
                    logits = model(Xh, Xh)[0]  # targets only to get logits at every position
                (sampled_label_loss(logits, hessian_sample_seed(c['seed'], iter_num, k)) / len(hb)).backward()
            if c['grad_clip'] != 0.0:
                torch.nn.utils.clip_grad_norm_(raw_model.parameters(), c['grad_clip'])
            opt.update_hessian()
            opt.zero_grad(set_to_none=True)
        return loss_sum, refresh
    return step


def time_steps(step, warmup, iters, cuda):
    """step(i) for i < warmup untimed, then iters timed: ms mean (wall time between two synchronizations / iters),
    median and min (CUDA events or the wall clock at every boundary), warm-up seconds; and step's outputs."""
    def mark():  # an iteration boundary: a CUDA event (read after the final synchronization) or the wall clock
        if not cuda:
            return time.perf_counter()
        event = torch.cuda.Event(enable_timing=True)
        event.record()
        return event

    def sync():
        if cuda:
            torch.cuda.synchronize()

    t0 = time.perf_counter()
    for i in range(warmup):
        step(i)
    sync()
    warmup_s = time.perf_counter() - t0
    t0, marks, outs = time.perf_counter(), [mark()], []
    for i in range(warmup, warmup + iters):
        outs.append(step(i))
        marks.append(mark())
    sync()
    mean_s = (time.perf_counter() - t0) / iters
    per = [a.elapsed_time(b) / 1000 if cuda else b - a for a, b in zip(marks, marks[1:])]
    return dict(ms_mean=mean_s * 1000, ms_median=statistics.median(per) * 1000, ms_min=min(per) * 1000,
                warmup_s=warmup_s), outs


def matmul_peak(device, n, warmup=1, iters=3):
    """FLOP/s of an fp32 n x n x n matmul (2 n^3 per product): the fastest of `iters` timed products (a peak; on a
    shared CPU the median moves with the load)."""
    a, b = (torch.randn(n, n, device=device) for _ in 'ab')
    out = torch.empty(n, n, device=device)
    t, _ = time_steps(lambda i: torch.mm(a, b, out=out), warmup, iters, 'cuda' in device)
    return 2 * n ** 3 / (t['ms_min'] / 1000)


def bench_row(cfg, row, models):
    """Time one row; models caches (model, raw model, infos) for the rows that change only the optimizer."""
    c, name = dict(cfg, **row), row['optimizer']
    key = repr(sorted((k, v) for k, v in row.items() if k != 'optimizer'))
    models[key] = models.get(key) or build_model(c)
    model, raw_model, infos = models[key]
    P.check(c)
    torch.manual_seed(c['seed'])
    P.init_params(raw_model, c, infos)  # in place: a compiled graph stays valid
    tokens = c['gradient_accumulation_steps'] * c['batch_size'] * c['block_size']
    groups = P.param_groups(raw_model, c, optim.family_of(name, c), infos)
    opt = optim.build_optimizer(name, groups, dict(c, tokens_per_iter=tokens, fused=True, **P.optimizer_overrides(c)))
    gen = torch.Generator(c['device']).manual_seed(c['seed'])
    V, shape = raw_model.config.vocab_size, (c['batch_size'], c['block_size'])
    batch = lambda: tuple(torch.randint(V, shape, device=c['device'], generator=gen) for _ in 'xy')  # noqa: E731
    try:
        step = train_step(c, model, raw_model, opt, batch)
        t, outs = time_steps(step, c['warmup'], c['iters'], 'cuda' in c['device'])
    finally:
        for p in raw_model.parameters():
            p.grad = None
    loss, refreshes, period = float(outs[-1][0]), sum(r for _, r in outs), c.get(PERIODS.get(name, ''), 0)
    settings = [f"{k.split('_', 1)[1] if k.startswith(name + '_') else k}={c[k]}" for k in SHOWN.get(name, [])]
    settings += ['fused'] if getattr(opt, 'defaults', {}).get('fused') else []
    settings += [f"iters % {period} != 0: periodic work under/over-counted"] if period and c['iters'] % period else []
    settings += [f"{refreshes} Hessian refreshes timed"] if name == 'sophia' else []
    settings += [] if math.isfinite(loss) else ['loss non-finite']  # the time is valid, the hyperparameters are not
    mfu = raw_model.estimate_mfu(tokens, t['ms_mean'] / 1000, peak_flops=cfg.get('peak_flops')) or None
    return dict(optimizer=name, row=row, flops_per_iter=raw_model.estimate_flops_per_token() * tokens, **t, tokens_per_s=tokens / t['ms_mean'] * 1000, mfu=mfu, hessian_refreshes=refreshes,
                final_loss=loss, settings=', '.join(settings), error=None)


def add_targets(rows, cfg, gpu):
    """Each row's target, and met/missed where it applies: the preset's own model on the GPU kind of the targets."""
    judged = is_preset_model(cfg) and TARGET_GPU in gpu
    ref = rows[0]['ms_mean'] if len(rows) > 1 and rows[0]['optimizer'] == 'adamw' and not cfg['vary'] else None
    for i, r in enumerate(rows):
        r['ratio'] = r['ms_mean'] / ref if ref and r['ms_mean'] else None
        r['target'], r['met'] = '', None
        if r['optimizer'] == 'adamw' and i == 0 and cfg['preset'] in STEP_TARGETS:
            target, upstream = STEP_TARGETS[cfg['preset']]
            r['target'] = f"<= {target:g} ms (nanoGPT {upstream:g})"
            r['met'] = r['ms_mean'] <= target if judged and r['ms_mean'] else None
        elif r['optimizer'] != 'adamw' and ref and cfg['preset'] == 'gpt2':
            target = RATIO_TARGETS.get(r['optimizer'], OTHER_RATIO)
            r['target'] = f"<= {target:.2f}x"
            r['met'] = r['ratio'] <= target if judged and r['ratio'] else None
        r['optimizer'] += ' (repeat)' if i > 0 and r['optimizer'] == 'adamw' and not cfg['vary'] else ''
        r['optimizer'] += ''.join(f" {k}={v}" for k, v in r.get('row', {}).items() if k != 'optimizer')


def markdown(rows, c, info):
    """The report: what was measured and where, then the table."""
    g = info['gptconf']
    title = c['preset'] + ('' if is_preset_model(c) else ' (modified)') if c['preset'] else 'config'
    lines = [f"### Training step: {title} ({g.n_layer}L/{g.n_head}H/{g.n_embd}, head_dim {g.n_embd // g.n_head}, "
             f"vocab {g.vocab_size}, {info['params_m']:.2f}M params, {info['tokens']} tokens)"
             + (f"; rows vary {c['vary']} (the heading shows the first row's model)" if c['vary'] else '')
             + (f"; the row list run {c['repeat']} times in turn" if c['repeat'] > 1 else ''), '',
             f"- device: {info['gpu']}; torch {torch.__version__}; commit {info['commit']}; {info['date']}",
             f"- command: `{info['command']}`",
             f"- {c['parameterization']} parameterization, tie_embeddings={c['tie_embeddings']}, dropout "
             f"{c['dropout']}; {c['dtype']}; torch.compile {info['compiled']}; random tokens; attention: "
             + ('explicit_attention (bench patch)' if c['attn'] == 'explicit' else f"SDPA, backend {c['sdpa']}"),
             f"- {c['warmup']} warm-up iterations dropped, {c['iters']} timed; mean = wall time / iters between two "
             f"synchronizations, median of per-iteration times; x AdamW = mean / mean of the first row", '',
             f"- MFU against {info['peak']}",
             '| optimizer | settings | ms/iter (mean) | ms/iter (median) | tokens/s | MFU | x AdamW | target | met |',
             '|---|---|---:|---:|---:|---:|---:|---|---|']
    for r in rows:
        if r['error']:
            cells = [f"error: {r['error']}", '-', '-', '-', '-', '-', r['target'], 'missed' if r['target'] else '-']
        else:
            cells = [r['settings'], f"{r['ms_mean']:.2f}", f"{r['ms_median']:.2f}", f"{r['tokens_per_s']:,.0f}",
                     f"{100 * r['mfu']:.1f}%" if r['mfu'] else '-', f"{r['ratio']:.3f}" if r['ratio'] else '-',
                     r['target'], {True: 'met', False: 'missed', None: '-'}[r['met']]]
        lines.append('| ' + ' | '.join([r['optimizer'], *cells]) + ' |')
    return '\n'.join(lines + axis_ratios(rows, c))


def axis_ratios(rows, cfg):
    """For each --vary axis: ms/iter (mean) of its last value over its first, every other key of the row equal
    (with --repeat: the median over the repeats of each)."""
    def ms(row):
        times = [o['ms_mean'] for o in rows if o.get('row') == row and o['ms_mean']]
        return statistics.median(times) if times else None

    lines, done = [], []
    for key, values in axes(cfg):
        for r in rows:
            row = r.get('row', {})
            if len(values) < 2 or row.get(key) != values[0] or (key, row) in done:
                continue
            done.append((key, row))
            a, b = ms(row), ms(dict(row, **{key: values[-1]}))
            if a and b:
                rest = ', '.join(f"{k}={v}" for k, v in row.items() if k != key)
                lines.append(f"- {key}={values[-1]} / {key}={values[0]} ({rest}): {b / a:.3f}")
    what = ' (median over the repeats)' if cfg['repeat'] > 1 else ''
    return ['', f'Ratios of ms/iter (mean){what} along each --vary axis:', ''] + lines if lines else []


def main(args):
    def die(msg):
        print(f"error: {msg}", file=sys.stderr)
        sys.exit(2)

    try:
        cfg = load_config(args)
        P.check(cfg)
        row_list = rows(cfg)
    except (ConfigError, ValueError) as e:
        die(e)
    cuda = 'cuda' in cfg['device']
    if cfg['sdpa'] not in ('auto', *SDPA_BACKENDS):
        die(f"unknown sdpa '{cfg['sdpa']}': choose auto, {', '.join(SDPA_BACKENDS)}")
    if cfg['attn'] not in ('sdpa', 'explicit'):
        die(f"unknown attn '{cfg['attn']}': choose sdpa or explicit")
    if not cuda and cfg['dtype'] == 'float16':
        die("dtype='float16' on the CPU: use --dtype=bfloat16 (CPU autocast) or --dtype=float32")
    if cfg['peak'] not in ('auto', 'table', 'measure'):
        die(f"unknown peak '{cfg['peak']}': choose auto, table or measure")
    if cfg['iters'] < 1 or cfg['warmup'] < 0 or cfg['repeat'] < 1:
        die(f"iters={cfg['iters']}, warmup={cfg['warmup']}, repeat={cfg['repeat']}: need iters >= 1, warmup >= 0, "
            f"repeat >= 1")
    if cfg['attn'] == 'explicit':
        patch_attention(model_lib)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True  # as train.py
    gpu = torch.cuda.get_device_name() if cuda else \
        f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"
    print(f"{gpu}: {len(row_list)} row(s), {cfg['warmup']} + {cfg['iters']} iterations each", flush=True)
    table_peak = model_lib.gpu_peak_flops()
    peak = (f"model.py's bf16 dense peak for this GPU: {table_peak / 1e12:,.0f} TFLOP/s" if table_peak else
            "model.py's table of GPU peaks, which has none for this device (MFU -)")
    measure = cfg['peak'] == 'measure' or (cfg['peak'] == 'auto' and not cuda)
    rates = [matmul_peak(cfg['device'], cfg['peak_n'])] if measure else []  # and again after every row
    if measure:
        cfg['peak_flops'] = rates[0]
        print(f"fp32 matmul peak: {rates[0] / 1e9:,.1f} GFLOP/s", flush=True)
    results, models = [], {}
    with nullcontext() if cfg['sdpa'] == 'auto' else sdpa_kernel(SDPA_BACKENDS[cfg['sdpa']]):  # before compiling
        for row in row_list:
            print(f"-- {row}", flush=True)
            try:
                results.append(bench_row(cfg, row, models))
            except Exception as e:  # report and go on: one broken optimizer must not cost the whole table
                if isinstance(e, ValueError) and not models:
                    die(e)  # the model itself cannot be built (e.g. base_width vs n_head): a config error
                traceback.print_exc()
                msg = ' '.join(f"{type(e).__name__}: {e}".split()).replace('|', '/')[:200]
                results.append(dict(optimizer=row['optimizer'], row=row, flops_per_iter=None, ms_mean=None, ms_median=None, tokens_per_s=None,
                                    mfu=None, settings='', error=msg))
            gc.collect()  # a row's optimizer state (or a failed row's tensors) must not crowd the next one
            if cuda:
                torch.cuda.empty_cache()
            if measure:
                rates.append(matmul_peak(cfg['device'], cfg['peak_n']))
            print(json.dumps({k: v for k, v in results[-1].items() if k != 'settings'}), flush=True)
    if measure:  # MFU against the fastest matmul seen in the run (measured before and after every row)
        cfg['peak_flops'] = max(rates)
        for r in results:
            r['mfu'] = r['flops_per_iter'] / (r['ms_mean'] / 1000) / cfg['peak_flops'] if r['ms_mean'] else None
        peak = (f"the measured fp32 matmul rate: {cfg['peak_flops'] / 1e9:,.1f} GFLOP/s (the fastest {cfg['peak_n']}^3 "
                f"GEMM of {len(rates)} measurements, before and after every row: {min(rates) / 1e9:,.1f} to "
                f"{max(rates) / 1e9:,.1f} GFLOP/s; {torch.get_num_threads()} thread(s))")
    add_targets(results, cfg, gpu)
    model, raw_model, _ = next(iter(models.values()))
    commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=ROOT, capture_output=True, text=True).stdout
    info = dict(gptconf=raw_model.config, params_m=raw_model.get_num_params() / 1e6, gpu=gpu, commit=commit.strip(),
                date=time.strftime('%Y-%m-%d %H:%M'), command='python scripts/bench_train.py ' + shlex.join(args),
                tokens=f"{cfg['gradient_accumulation_steps']} x {cfg['batch_size']} x {cfg['block_size']}",
                compiled='per row' if 'compile' in cfg['vary'] else 'off' if model is raw_model else 'on' +
                ('' if cfg['compile_mode'] == 'default' else f" ({cfg['compile_mode']})"), peak=peak)
    table = markdown(results, cfg, info)
    print('\n' + table)
    if cfg['out']:
        os.makedirs(os.path.dirname(os.path.abspath(cfg['out'])), exist_ok=True)
        with open(cfg['out'], 'a') as f:
            f.write(table + '\n\n')
        common = dict(preset=cfg['preset'], **{k: info[k] for k in ('gpu', 'command', 'compiled', 'date', 'tokens')},
                      torch=torch.__version__, **model_args(cfg), **{k: cfg[k] for k in ('dtype', 'sdpa', 'attn')})
        with open(os.path.splitext(cfg['out'])[0] + '.jsonl', 'a') as f:
            f.writelines(json.dumps({**common, **r}) + '\n' for r in results)
        print(f"appended to {cfg['out']} and {os.path.splitext(cfg['out'])[0]}.jsonl")


if __name__ == '__main__':
    main(sys.argv[1:])
