"""
Optimizer step speed side by side: ms per `step()` of every optimizer in optim.REGISTRY and of the same algorithm
in peer libraries, on the parameter shapes of a real model, in one interleaved run.

    $ python scripts/bench_optim.py                                   # 6L/512 GPT, CPU (CUDA when present)
    $ python scripts/bench_optim.py --model=gpt2 --device=cuda --out=results/gpu/bench_optim.md
    $ python scripts/bench_optim.py --optimizers=soap,psgd --peers=heavyball,kron_torch --threads=1
    $ pip install -r requirements-bench.txt --constraint constraints-torch.txt   # the peers (make bench-install)

Shapes: the param groups of a GPT built by parameterization.build_model + param_groups (MODELS: gpt6x512 = 6
layers, width 512, 8 heads of 64, vocab 65; gpt6x256 the same at width 256 (the matrix optimizers on one CPU
thread); gpt2 = GPT-2 small, 12 x 768, vocab 50304, untied; tiny for tests),
configured like train.py (configurator.train_defaults(), config files, --key=value). Ours: optim.build_optimizer
over those groups, as train.py builds it. Peers get the same tensors (copies), the same per-group lr and
weight_decay, and their own hyperparameters set to ours where the library has them (PEERS). fp32 parameters.

Equal settings (SETTINGS, applied to ours; each peer is configured to match): every preconditioner refresh
interval = `period` steps (SOAP/Shampoo precond_every, SPlus inverse_every), PSGD updates its preconditioner every
step (the first 500 steps of its schedule: probability 1), Shampoo without grafting and with every side
preconditioned (the paper's algorithm, which pytorch-optimizer implements), SPlus rotating every 2-D tensor
(pytorch-optimizer's rule), Muon with Newton-Schulz in bfloat16 and q, k, v orthogonalised as one matrix
(torch.optim.Muon and pytorch-optimizer always do both). Sophia: step() only (its Hessian refresh is an extra
forward/backward in the training loop, not part of step()).

Timing: every implementation keeps its own copy of the parameters and state. A round is `period` steps; at each
step every implementation steps once, in turn (round-robin, the order rotating, so machine noise and load drift
hit all alike, and the refresh steps of all of them fall close together); before each step the gradient is set to
a fresh copy of one of `grad_sets` fixed random gradients (untimed), then step() is timed alone (CUDA:
synchronized before and after). `warmup_rounds` rounds are dropped (compilation, SOAP's
initialisation step, first eigendecompositions); ms/step = median over `rounds` rounds of (round time / period),
so a refresh every `period` steps counts at its rate. State bytes per parameter: every tensor the optimizer holds
in its state (each storage once) / the number of parameters.

Output: one table row per implementation, grouped by algorithm: ms/step, ours/peer (for a peer row: our time /
its time; for our row: / the fastest peer), x our AdamW, state bytes per parameter, warm-up seconds. A peer library
that is not installed becomes a note row; a peer that fails becomes an error row; the run goes on.
"""

import gc
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import torch  # noqa: E402

import configurator  # noqa: E402
import optim  # noqa: E402
import parameterization as P  # noqa: E402
from configurator import ConfigError, configure  # noqa: E402

BENCH_DEFAULTS = dict(
    model='gpt6x512',     # gpt6x512 | gpt6x256 | gpt2 | tiny (MODELS)
    optimizers='all',     # all | comma list of optim.REGISTRY names
    peers='all',          # all | none | comma list of libraries (LIBRARIES)
    rounds=20,            # timed rounds (the median is over these)
    warmup_rounds=1,      # untimed rounds first
    period=10,            # steps per implementation per round = every preconditioner refresh interval
    grad_sets=4,          # distinct random gradients, cycled (full-rank factor statistics after a few steps)
    threads=0,            # torch.set_num_threads (CPU); 0 = leave torch's default
    budget_s=0.0,         # > 0: start no round after this many seconds (the rounds done are reported); 0 = none
    compile_peers=True,   # heavyball's own torch.compile of its steps (its default); False: heavyball eager
    skip='',              # comma list of peer labels to leave out (e.g. a slower variant of a library: time)
    out='',               # append the Markdown report to this file
)
MODELS = {
    'tiny': dict(n_layer=2, n_embd=64, n_head=2, head_dim=0, vocab_size=65, block_size=32, batch_size=4),
    'gpt6x256': dict(n_layer=6, n_embd=256, n_head=4, head_dim=0, vocab_size=65, block_size=256, batch_size=32),
    'gpt6x512': dict(n_layer=6, n_embd=512, n_head=8, head_dim=0, vocab_size=65, block_size=256, batch_size=32),
    # base_width = the width itself: train.py's default base 256 is no multiple of 12 heads (the base model's head
    # count is n_head, its head dim base_width / n_head); the step's cost does not depend on the base
    'gpt2': dict(n_layer=12, n_embd=768, n_head=12, head_dim=0, vocab_size=50304, block_size=1024, batch_size=12,
                 base_width=768),
}
LIBRARIES = {'torch': 'torch.optim', 'pytorch_optimizer': 'pytorch-optimizer', 'heavyball': 'heavyball',
             'kron_torch': 'kron-torch', 'schedulefree': 'schedulefree', 'sophia_opt': 'sophia-opt',
             'adopt': 'torch-adopt', 'adam_atan2_pytorch': 'adam-atan2-pytorch'}  # import name -> PyPI name


MAX_DIM = 10000  # sides above this are not preconditioned (SOAP's and SPlus's default; Shampoo set to it)


def settings(period):
    """Config overrides that put ours at the peers' settings (see the docstring), per optimizer."""
    return {
        'soap': dict(soap_precond_every=period),
        'shampoo': dict(shampoo_precond_every=period, shampoo_graft='none', shampoo_max_dim=MAX_DIM),
        'splus': dict(splus_inverse_every=period, splus_nonstandard='shape'),
        'psgd': dict(psgd_precond_update_prob=1.0, psgd_precond_update_prob_min=1.0),
        'muon': dict(muon_ns_dtype='bfloat16', muon_split_qkv=False),
    }


# ------------------------------------------------------------------------------------------------------------------
# peers: (label, library, build(groups, c) -> optimizer or (optimizer, step function))
# groups: [{'params', 'lr', 'weight_decay', 'role'}] with ours' per-group values; c: the run config

def _plain(groups, **extra):
    return [dict(params=g['params'], lr=g['lr'], weight_decay=g['weight_decay'], **extra) for g in groups]


def _split(groups, matrix_only):
    """(hidden 2-D tensors, everything else), as our Muon splits them (optim/muon.py uses_muon)."""
    hidden = [dict(params=[p for p in g['params'] if g['role'] == 'hidden' and p.ndim == 2], lr=g['lr'],
                   weight_decay=g['weight_decay']) for g in groups]
    rest = [dict(params=[p for p in g['params'] if not (g['role'] == 'hidden' and p.ndim == 2)], lr=g['lr'],
                 weight_decay=g['weight_decay']) for g in groups]
    return [g for g in hidden if g['params']], [g for g in rest if g['params']]


class Pair:
    """Two optimizers stepped as one (a peer's Muon for hidden matrices + its AdamW for the rest, as ours does)."""

    def __init__(self, a, b):
        self.parts = [a, b]
        self.state = {**a.state, **b.state}

    def step(self):
        for o in self.parts:
            o.step()
        self.state = {**self.parts[0].state, **self.parts[1].state}


def _muon_torch(groups, c):
    import torch.optim as to
    hidden, rest = _split(groups, True)
    b = (c['beta1'], c['beta2'])
    aux = [dict(g, lr=g['lr'] * c['muon_adam_lr_ratio']) for g in rest]
    return Pair(to.Muon(hidden, momentum=c['muon_momentum'], nesterov=c['muon_nesterov'], ns_steps=c['muon_ns_steps']),
                to.AdamW(aux, betas=b, eps=c['eps']))


def _muon_po(groups, c):
    import pytorch_optimizer as po
    hidden, rest = _split(groups, True)
    return po.Muon([dict(g, use_muon=True) for g in hidden] +
                   [dict(g, lr=g['lr'] * c['muon_adam_lr_ratio'], use_muon=False) for g in rest],
                   momentum=c['muon_momentum'], nesterov=c['muon_nesterov'], ns_steps=c['muon_ns_steps'],
                   adamw_betas=(c['beta1'], c['beta2']), adamw_eps=c['eps'])


def _muon_heavyball(groups, c):
    import heavyball
    hidden, rest = _split(groups, True)
    return Pair(heavyball.Muon(hidden, betas=(c['muon_momentum'], c['beta2']), nesterov=c['muon_nesterov']),
                heavyball.AdamW([dict(g, lr=g['lr'] * c['muon_adam_lr_ratio']) for g in rest],
                                betas=(c['beta1'], c['beta2']), eps=c['eps']))


def _sophia_official(groups, c):
    import sophia_opt
    opt = sophia_opt.SophiaG(_plain(groups), betas=(c['beta1'], c['beta2']), rho=c['sophia_rho'])
    bs = c['sophia_bs'] or c['batch_size'] * c['block_size'] * c['gradient_accumulation_steps']
    return opt, lambda: opt.step(bs=bs)


def _schedulefree(groups, c):
    import schedulefree
    opt = schedulefree.AdamWScheduleFree(_plain(groups), betas=(c['beta1'], c['beta2']), eps=c['eps'],
                                         warmup_steps=c['schedulefree_adamw_warmup_steps'])
    opt.train()
    return opt


def _heavyball(name, kw):
    def build(groups, c):
        import heavyball
        return getattr(heavyball, name)(_plain(groups), **kw(c))
    return build


def _betas(c):
    return (c['beta1'], c['beta2'])


PEERS = {
    'sgd': [('torch SGD (for-loop)', 'torch', lambda g, c: torch.optim.SGD(
                _plain(g), momentum=c['momentum'], nesterov=c['nesterov'], foreach=False)),
            ('torch SGD (foreach)', 'torch', lambda g, c: torch.optim.SGD(
                _plain(g), momentum=c['momentum'], nesterov=c['nesterov'], foreach=True)),
            ('torch SGD (fused)', 'torch', lambda g, c: torch.optim.SGD(
                _plain(g), momentum=c['momentum'], nesterov=c['nesterov'], fused=True))],
    'adam': [('torch Adam (for-loop)', 'torch', lambda g, c: torch.optim.Adam(
                _plain(g), betas=_betas(c), eps=c['eps'], foreach=False)),
             ('torch Adam (foreach)', 'torch', lambda g, c: torch.optim.Adam(
                _plain(g), betas=_betas(c), eps=c['eps'], foreach=True)),
             ('torch Adam (fused)', 'torch', lambda g, c: torch.optim.Adam(
                 _plain(g), betas=_betas(c), eps=c['eps'], fused=True))],
    'adamw': [('torch AdamW (for-loop)', 'torch', lambda g, c: torch.optim.AdamW(
                  _plain(g), betas=_betas(c), eps=c['eps'], foreach=False)),
              ('torch AdamW (foreach)', 'torch', lambda g, c: torch.optim.AdamW(
                  _plain(g), betas=_betas(c), eps=c['eps'], foreach=True)),
              ('torch AdamW (fused)', 'torch', lambda g, c: torch.optim.AdamW(
                  _plain(g), betas=_betas(c), eps=c['eps'], fused=True)),
              ('heavyball AdamW', 'heavyball', _heavyball('AdamW', lambda c: dict(betas=_betas(c), eps=c['eps'])))],
    'adam_atan2': [('adam-atan2-pytorch AdamAtan2', 'adam_atan2_pytorch', lambda g, c: __import__(
        'adam_atan2_pytorch').AdamAtan2(_plain(g), betas=_betas(c), a=c['adam_atan2_a'], b=c['adam_atan2_b']))],
    'adam_ps': [],  # no implementation elsewhere (Everett et al. 2024 ran it in optax)
    'adafactor': [('torch Adafactor', 'torch', lambda g, c: torch.optim.Adafactor(
                      _plain(g), beta2_decay=c['adafactor_beta2_decay'], foreach=False)),
                  ('torch Adafactor (foreach)', 'torch', lambda g, c: torch.optim.Adafactor(
                      _plain(g), beta2_decay=c['adafactor_beta2_decay'], foreach=True)),
                  ('pytorch-optimizer AdaFactor', 'pytorch_optimizer', lambda g, c: __import__(
                      'pytorch_optimizer').AdaFactor(_plain(g), betas=(None, c['beta2']), relative_step=False,
                                                     decay_rate=c['adafactor_beta2_decay']))],
    'adopt': [('torch-adopt ADOPT', 'adopt', lambda g, c: __import__('adopt').ADOPT(
                  _plain(g), betas=_betas(c), eps=c['eps'], foreach=False)),
              ('torch-adopt ADOPT (foreach)', 'adopt', lambda g, c: __import__('adopt').ADOPT(
                  _plain(g), betas=_betas(c), eps=c['eps'], foreach=True)),
              ('pytorch-optimizer ADOPT', 'pytorch_optimizer', lambda g, c: __import__('pytorch_optimizer').ADOPT(
                  _plain(g), betas=_betas(c), eps=c['eps'], weight_decouple=False)),
              ('heavyball ADOPT', 'heavyball', _heavyball('ADOPT', lambda c: dict(betas=_betas(c), eps=c['eps'])))],
    'lamb': [('pytorch-optimizer Lamb', 'pytorch_optimizer', lambda g, c: __import__('pytorch_optimizer').Lamb(
                 _plain(g), betas=_betas(c), eps=c['eps'], weight_decouple=False, max_grad_norm=0.0)),
             ('pytorch-optimizer Lamb (foreach)', 'pytorch_optimizer', lambda g, c: __import__(
                 'pytorch_optimizer').Lamb(_plain(g), betas=_betas(c), eps=c['eps'], weight_decouple=False,
                                           max_grad_norm=0.0, foreach=True))],
    'sophia': [('sophia-opt SophiaG', 'sophia_opt', _sophia_official)],
    'splus': [('pytorch-optimizer SPlus', 'pytorch_optimizer', lambda g, c: __import__('pytorch_optimizer').SPlus(
                  _plain(g), betas=_betas(c), inverse_steps=c['splus_inverse_every'], ema_rate=c['splus_ema_rate'],
                  foreach=False)),
              ('pytorch-optimizer SPlus (foreach)', 'pytorch_optimizer', lambda g, c: __import__(
                  'pytorch_optimizer').SPlus(_plain(g), betas=_betas(c), inverse_steps=c['splus_inverse_every'],
                                             ema_rate=c['splus_ema_rate'], foreach=True))],
    'shampoo': [('pytorch-optimizer Shampoo', 'pytorch_optimizer', lambda g, c: __import__(
        'pytorch_optimizer').Shampoo(_plain(g), momentum=c['beta1'], weight_decouple=True,
                                     preconditioning_compute_steps=c['shampoo_precond_every']))],
    'soap': [('pytorch-optimizer SOAP', 'pytorch_optimizer', lambda g, c: __import__('pytorch_optimizer').SOAP(
                 _plain(g), betas=_betas(c), eps=c['eps'], precondition_frequency=c['soap_precond_every'],
                 max_precondition_dim=c['soap_max_dim'])),
             ('heavyball SOAP', 'heavyball', _heavyball('SOAP', lambda c: dict(
                 betas=_betas(c), eps=c['eps'], shampoo_beta=c['beta2'], precondition_frequency=c['soap_precond_every'],
                 max_precond_dim=c['soap_max_dim'], merge_dims=False, use_precond_schedule=False)))],
    'psgd': [('kron-torch Kron', 'kron_torch', lambda g, c: __import__('kron_torch').Kron(
                 _plain(g), b1=c['beta1'], preconditioner_update_probability=1.0,
                 precond_lr=c['psgd_precond_lr'])),
             ('pytorch-optimizer Kron', 'pytorch_optimizer', lambda g, c: __import__('pytorch_optimizer').Kron(
                 _plain(g), momentum=c['beta1'], pre_conditioner_update_probability=1.0)),
             ('heavyball PSGDKron', 'heavyball', _heavyball('PSGDKron', lambda c: dict(
                 betas=_betas(c), preconditioner_update_probability=1.0, max_size_triangular=8192,
                 merge_dims=True)))],
    'muon': [('torch Muon + AdamW', 'torch', _muon_torch),
             ('pytorch-optimizer Muon', 'pytorch_optimizer', _muon_po),
             ('heavyball Muon + AdamW', 'heavyball', _muon_heavyball)],
    'schedulefree_adamw': [('schedulefree AdamWScheduleFree', 'schedulefree', _schedulefree),
                           ('pytorch-optimizer ScheduleFreeAdamW', 'pytorch_optimizer', lambda g, c: __import__(
                               'pytorch_optimizer').ScheduleFreeAdamW(_plain(g), betas=_betas(c), eps=c['eps'])),
                           ('heavyball SFAdamW', 'heavyball', _heavyball('SFAdamW', lambda c: dict(
                               betas=_betas(c), eps=c['eps'])))],
}


def import_peer(library):
    """Import a peer library (raises ImportError when it is not installed); tests replace this."""
    __import__(library)


# ------------------------------------------------------------------------------------------------------------------

def load_config(args):
    cfg = {**configurator.train_defaults(), **BENCH_DEFAULTS}
    model = [a.split('=', 1)[1] for a in args if a.startswith('--model=')]
    name = model[-1] if model else cfg['model']
    if name not in MODELS:
        raise ConfigError(f"unknown model '{name}': choose one of {', '.join(MODELS)}")
    # weight decay on (its code paths are timed too); no LR schedule (step() is timed alone)
    cfg.update(MODELS[name], weight_decay=0.1, lr_schedule='constant', warmup_iters=0)
    configure(cfg, args)
    return cfg


def state_bytes(opt):
    """Bytes of every tensor in the optimizer's state (nested dicts and lists), each storage counted once."""
    seen, total, stack = set(), 0, list(opt.state.values())
    while stack:
        x = stack.pop()
        if isinstance(x, torch.Tensor):
            key = (x.untyped_storage().data_ptr(), x.device)
            if key not in seen and x.numel() > 1:  # a 0-d step counter is bookkeeping, not state per parameter
                seen.add(key)
                total += x.untyped_storage().nbytes()
        elif isinstance(x, dict):
            stack.extend(x.values())
        elif isinstance(x, (list, tuple)):
            stack.extend(x)
    return total


class Impl:
    """One implementation under test: its own parameter copies, optimizer and step function."""

    def __init__(self, algo, label, ours, build, groups, base):
        self.algo, self.label, self.ours = algo, label, ours
        copies = {id(p): p.detach().clone().requires_grad_(True) for p in base}
        self.params = [copies[id(p)] for p in base]
        built = build([dict(g, params=[copies[id(p)] for p in g['params']]) for g in groups])
        self.opt, self.step = built if isinstance(built, tuple) else (built, built.step)
        self.times, self.warmup_s, self.error = [], 0.0, None  # times: seconds of every timed step


def make_impls(cfg, model, infos, names, peer_libs, notes):
    base = list(model.parameters())
    c0 = dict(cfg, tokens_per_iter=cfg['batch_size'] * cfg['block_size'] * cfg['gradient_accumulation_steps'],
              fused=True, **P.optimizer_overrides(cfg))
    impls = []
    for name in names:
        c = dict(c0, **settings(cfg['period']).get(name, {}))
        groups = P.param_groups(model, c, optim.family_of(name, c), infos)
        try:
            impls.append(Impl(name, f'ours ({name})', True, lambda gs, c=c, n=name: optim.build_optimizer(n, gs, c),
                              groups, base))
        except Exception as e:  # noqa: BLE001 -- one broken optimizer must not cost the table
            notes.append((name, f'ours ({name})', f'error: {type(e).__name__}: {e}'))
            continue
        for label, library, build in PEERS.get(name, []):
            if library not in peer_libs or label in [s.strip() for s in cfg['skip'].split(',')]:
                continue
            if label == 'pytorch-optimizer Shampoo' and max(max(p.shape) for p in base) > MAX_DIM:
                notes.append((name, label, f'skipped: it preconditions every side (a {max(max(p.shape) for p in base)}'
                                           f'-square factor here); ours leaves sides > {MAX_DIM} alone'))
                continue
            try:
                import_peer(library)
            except ImportError:
                notes.append((name, label, f'not installed: pip install {LIBRARIES[library]} '
                                           f'(requirements-bench.txt)'))
                continue
            try:
                eager = ' (eager)' if library == 'heavyball' and not cfg['compile_peers'] else ''
                impls.append(Impl(name, label + eager, False, lambda gs, b=build, c=c: b(gs, c), groups, base))
            except Exception as e:  # noqa: BLE001
                notes.append((name, label, f'error: {type(e).__name__}: {str(e).splitlines()[0][:120]}'))
    return impls


def timed_step(impl, grads, sync):
    """One step of impl on a fresh copy of its next gradient set (untimed); returns the seconds of step() alone."""
    for p, g in zip(impl.params, grads[impl.steps % len(grads)]):
        p.grad = g.clone()  # a fresh copy: some peers modify the gradient in place
    impl.steps += 1
    sync()
    t0 = time.perf_counter()
    impl.step()
    sync()
    return time.perf_counter() - t0


def run(impls, cfg, grads):
    """The interleaved rounds: step k of every implementation, in turn, then step k + 1 (so a refresh at step k
    of each runs at nearly the same moment, whatever the machine's load does over minutes). Fills impl.times
    (seconds of every timed step) and impl.warmup_s."""
    cuda = cfg['device'].startswith('cuda')
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    period, total, t_start = cfg['period'], cfg['warmup_rounds'] + cfg['rounds'], time.perf_counter()
    for impl in impls:
        impl.steps = 0
    for r in range(total):
        if cfg['budget_s'] > 0 and time.perf_counter() - t_start > cfg['budget_s'] and r > cfg['warmup_rounds']:
            print(f"budget_s={cfg['budget_s']:g} spent: {r - cfg['warmup_rounds']} timed round(s) done", flush=True)
            break
        for s in range(period):
            live = [i for i in impls if i.error is None]
            k = (r * period + s) % max(len(live), 1)
            for impl in live[k:] + live[:k]:  # the order rotates: no implementation always runs first
                try:
                    dt = timed_step(impl, grads, sync)
                except Exception as e:  # noqa: BLE001 -- one failing implementation must not cost the table
                    traceback.print_exc()
                    impl.error = f'{type(e).__name__}: {str(e).splitlines()[0][:120] if str(e) else ""}'
                    continue
                if r < cfg['warmup_rounds']:
                    impl.warmup_s += dt
                else:
                    impl.times.append(dt)
                if s == period - 1 and not torch.isfinite(impl.params[0]).all():
                    impl.error = 'non-finite parameters'
        if r < cfg['warmup_rounds']:
            print('  warm-up s: ' + ', '.join(f"{i.label} {i.warmup_s:.1f}" for i in impls), flush=True)
        print(f"round {r + 1}/{total}" + (' (warm-up)' if r < cfg['warmup_rounds'] else ''), flush=True)


def results(impls, notes):
    """Rows {algo, label, ours, ms, ratio, x_adamw, bytes_per_param, warmup_s, note} in REGISTRY order."""
    rows = []
    for i in impls:
        ok = i.times and i.error is None
        ms = statistics.median(i.times) * 1000 if ok else None
        mean = statistics.fmean(i.times) * 1000 if ok else None  # whole periods: every refresh at its rate
        n = sum(p.numel() for p in i.params)
        rows.append(dict(algo=i.algo, label=i.label, ours=i.ours, ms=ms, ms_mean=mean, warmup_s=i.warmup_s,
                         bytes_per_param=state_bytes(i.opt) / n, note=i.error and f'error: {i.error}'))
    rows += [dict(algo=a, label=lbl, ours=False, ms=None, ms_mean=None, warmup_s=None, bytes_per_param=None,
                  note=note)
             for a, lbl, note in notes]
    adamw = next((r['ms'] for r in rows if r['ours'] and r['algo'] == 'adamw' and r['ms']), None)
    for r in rows:
        for key, out in (('ms', 'ratio'), ('ms_mean', 'ratio_mean')):
            ours = next((o[key] for o in rows if o['ours'] and o['algo'] == r['algo'] and o[key]), None)
            peers = [p[key] for p in rows if not p['ours'] and p['algo'] == r['algo'] and p[key]]
            ref = min(peers, default=None) if r['ours'] else r[key]
            r[out] = ours / ref if ours and ref else None
        r['x_adamw'] = r['ms'] / adamw if r['ms'] and adamw else None
    order = list(optim.REGISTRY)
    return sorted(rows, key=lambda r: (order.index(r['algo']), not r['ours']))


def machine(cfg):
    if cfg['device'].startswith('cuda'):
        return f"{torch.cuda.get_device_name()}, torch {torch.__version__}"
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next((line.split(':', 1)[1].strip() for line in f if line.startswith('model name')), cpu)
    except OSError:
        pass
    load = ', '.join(f'{x:.2f}' for x in os.getloadavg()) if hasattr(os, 'getloadavg') else '?'
    return f"CPU {cpu}, {torch.get_num_threads()} thread(s) of {os.cpu_count()} cores, load average {load} " \
           f"at the start; torch {torch.__version__}"


def markdown(rows, cfg, info):
    f = lambda x, fmt: '-' if x is None else format(x, fmt)  # noqa: E731
    lines = [f"### Optimizer step: {cfg['model']} ({info['params_m']:.2f}M parameters in {info['n_tensors']} "
             f"tensors, {info['n_groups']} param groups, {cfg['parameterization']})", '',
             f"- machine: {info['machine']}; commit {info['commit']}; {info['date']}",
             f"- command: `{info['command']}`",
             f"- fp32 parameters on {cfg['device']}; refresh interval {cfg['period']} steps (SOAP, Shampoo, SPlus); "
             f"PSGD preconditioner updated every step; {cfg['warmup_rounds']} warm-up round(s) dropped, then "
             f"{info['rounds']} rounds x {cfg['period']} steps per implementation, interleaved; wall time "
             f"{info['wall_s']:.0f} s",
             "- ms/step: the median of the timed steps (a refresh step is an outlier it leaves out); mean: over "
             "whole refresh periods (every refresh at its rate); ours/peer: for a peer row our time / its time, for "
             "our row our time / the fastest peer's; x AdamW: median / our AdamW's median; state: "
             "optimizer-state bytes per parameter", '',
             '| algorithm | implementation | ms/step | ours/peer | ms/step (mean) | ours/peer (mean) | x AdamW '
             '| state B/param | warm-up s | note |',
             '|---|---|---:|---:|---:|---:|---:|---:|---:|---|']
    for r in rows:
        lines.append(f"| {r['algo']} | {'**' + r['label'] + '**' if r['ours'] else r['label']} | {f(r['ms'], '.3f')} "
                     f"| {f(r['ratio'], '.2f')} | {f(r['ms_mean'], '.3f')} | {f(r['ratio_mean'], '.2f')} "
                     f"| {f(r['x_adamw'], '.2f')} | {f(r['bytes_per_param'], '.1f')} "
                     f"| {f(r['warmup_s'], '.1f')} | {(r['note'] or '').replace('|', '/')} |")
    return '\n'.join(lines)


def selection(cfg):
    """(optimizer names, peer libraries) of the config, checked; ValueError names the first bad one."""
    names = list(optim.REGISTRY) if cfg['optimizers'] == 'all' else \
        [s.strip() for s in cfg['optimizers'].split(',') if s.strip()]
    libs = list(LIBRARIES) if cfg['peers'] == 'all' else [] if cfg['peers'] == 'none' else \
        [s.strip() for s in cfg['peers'].split(',') if s.strip()]
    for name in names:
        if name not in optim.REGISTRY:
            raise ValueError(f"unknown optimizer '{name}': choose from {', '.join(optim.REGISTRY)}")
    for lib in libs:
        if lib not in LIBRARIES:
            raise ValueError(f"unknown peer library '{lib}': choose from all, none, {', '.join(LIBRARIES)}")
    if cfg['rounds'] < 1 or cfg['period'] < 1 or cfg['warmup_rounds'] < 0 or cfg['grad_sets'] < 1:
        raise ValueError('rounds, period and grad_sets must be >= 1, warmup_rounds >= 0')
    if cfg['device'].startswith('cuda') and not torch.cuda.is_available():
        raise ValueError(f"device='{cfg['device']}' but torch sees no CUDA GPU: use --device=cpu")
    return names, libs


def main(args):
    """Run the benchmark for these command-line arguments; returns the rows (bad input: one error line, exit 2)."""
    try:
        cfg = load_config(args)
        P.check(cfg)
        names, libs = selection(cfg)
        model_args = {k: cfg[k] for k in ('n_layer', 'n_head', 'head_dim', 'n_embd', 'block_size', 'bias', 'dropout',
                                          'tie_embeddings', 'vocab_size')}
        model, infos = P.build_model(cfg, model_args, cfg['device'], seed=cfg['seed'])
    except (ConfigError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    if 'heavyball' in libs and not cfg['compile_peers']:
        try:
            import heavyball.utils
            heavyball.utils.compile_mode = None  # its fused steps run eagerly
        except ImportError:
            pass
    if cfg['threads'] > 0:
        torch.set_num_threads(cfg['threads'])
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True  # as train.py
    gen = torch.Generator(cfg['device']).manual_seed(cfg['seed'])
    grads = [[torch.randn(p.shape, generator=gen, device=p.device) * 1e-2 for p in model.parameters()]
             for _ in range(cfg['grad_sets'])]
    notes = []
    impls = make_impls(cfg, model, infos, names, libs, notes)
    print(f"{machine(cfg)}: {len(impls)} implementations, {cfg['warmup_rounds']} + {cfg['rounds']} rounds of "
          f"{cfg['period']} steps", flush=True)
    t0 = time.time()
    run(impls, cfg, grads)
    rows = results(impls, notes)
    commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=ROOT, capture_output=True, text=True).stdout
    info = dict(machine=machine(cfg), commit=commit.strip(), date=time.strftime('%Y-%m-%d %H:%M'),
                command='python scripts/bench_optim.py ' + shlex.join(args), wall_s=time.time() - t0,
                rounds=max((len(i.times) for i in impls), default=0) // cfg['period'],
                params_m=sum(p.numel() for p in model.parameters()) / 1e6, n_tensors=len(list(model.parameters())),
                n_groups=len(P.param_groups(model, cfg, optim.family_of('adamw', cfg), infos)))
    table = markdown(rows, cfg, info)
    print('\n' + table)
    if cfg['out']:  # appended: several runs (models, devices) collect in one report
        path = os.path.abspath(cfg['out'])
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'a') as f:
            print(table, end='\n\n', file=f)
        print(f"appended to {cfg['out']}")
    del impls
    gc.collect()
    return rows


if __name__ == '__main__':
    main(sys.argv[1:])
