"""
One command from nothing to a verdict on one paper claim: the sweep, the tables, the fits, the plots, and a report
that puts the paper's number next to ours.

    $ python data/shakespeare_char/prepare.py
    $ python scripts/reproduce.py gupta_width --scale=laptop --jobs 2       # CPU, about an hour
    $ python scripts/reproduce.py gupta_width --scale=smoke                 # seconds: the whole chain, tiny
    $ python scripts/reproduce.py gupta_width --scale=paper --gpus 0,1,2,3  # the papers' settings, GPUs
    $ make reproduce-laptop                                                 # every claim, laptop scale

Claims (scripts/claims.py): gupta_width, gupta_depth, everett, splus_width, splus_steps, batch, horizon, wd (the last
three have no paper-scale file).
Scales:
    laptop  config/repro/laptop/<claim>.py: a small GPT on Tiny Shakespeare char, sized for <= 60 min on a 2-core
            CPU with --jobs 2 (each file's header: its runs, iterations and estimated time)
    paper   config/repro/<file>.py: the papers' settings (GPU-hours; each file's header says what differs)
    smoke   the laptop sweep cut to its claim's smoke subset, the two smallest widths (depths), the two middle LRs of
            each column, the first seed, 6 iterations of a 16-token context (a point that sets its own iterations,
            along batch size or horizon, keeps their ratios: smoke_point): it checks the chain, not the claim

What it does:
1. writes <runs>/reproduce_sweep.py: the scale's sweep file, expanded to its points, with sweep_dir = <runs> (the
   sweep file's own sweep_dir unless --work-dir; out/repro/smoke/<claim> for smoke) and --set in `fixed`;
2. runs it with scripts/sweep.py (--jobs / --gpus): finished runs are skipped, so a killed reproduction resumes with
   the same command, and a finished one re-runs only the analysis;
3. runs the claim's analysis (scripts/claims.py; verdicts from scripts/verdicts.py) into <results>/<scale>/<claim>/
   (tables as .md and .csv, fits, PNGs), and writes <results>/<scale>/<claim>.md (command, date, machine, wall
   time over all invocations, settings, verdict, every table, the plots) and <results>/<scale>/<claim>.json;
4. rewrites <results>/README.md: one row per claim and scale (paper says, we measure, verdict).
<results> is results/ (out/repro/results/ for smoke) unless --results-dir.
"""

import argparse
import json
import math
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import claims  # noqa: E402
import sweep  # noqa: E402  (puts the repository root on sys.path)
import configurator  # noqa: E402
import tables  # noqa: E402
import verdicts as V  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SCALES = ('smoke', 'laptop', 'paper')
# smoke: a few iterations of a tiny model, evaluated twice and logged every step (steps-to-Adam reads step times)
SMOKE_FIXED = dict(max_iters=6, eval_interval=3, eval_iters=2, warmup_iters=0, log_interval=1, block_size=16,
                   batch_size=4, early_stop_patience=0)
SWEPT = ('n_embd', 'n_layer', 'learning_rate', 'seed')
SMOKE_ITERS = ('max_iters', 'warmup_iters', 'eval_interval')  # iteration counts: scaled together (smoke_point)


class ReproError(Exception):
    pass


def rel(path):
    """A path relative to the repository root when it lies inside it (reports never name the machine's folders)."""
    p = Path(path).resolve()
    try:
        return str(p.relative_to(ROOT))
    except ValueError:
        return str(path)


def literal(text):
    """'2' -> 2, '1e-3' -> 0.001, 'True' -> True; anything else stays a string (like configurator.py)."""
    import ast
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


# -----------------------------------------------------------------------------
# the sweep: load, resolve, shrink for smoke, write

def column_key(cfg):
    """What makes a column of a table: every config key but the swept ones (width, depth, LR, seed)."""
    return tuple(sorted((k, tables.hashable(v)) for k, v in cfg.items() if k not in SWEPT))


def shrink(points, configs, keep):
    """The smoke subset of [(name, point)] with resolved configs: the points whose config matches one of `keep`
    (claims.matches), at the two smallest widths (or depths, when the depth varies), the first seed, and the median
    LR of each column with the next one up (the grids are placed around the optimum, so these train)."""
    kept = [(n, p, c) for (n, p), c in zip(points, configs) if any(claims.matches(c, k) for k in keep)]
    if not kept:
        return []
    for axis in ('n_layer', 'n_embd'):
        xs = sorted({c[axis] for _, _, c in kept})
        if len(xs) > 1:
            kept = [t for t in kept if t[2][axis] in xs[:2]]
            break
    first = min((c['seed'] for _, _, c in kept), key=str)
    kept = [t for t in kept if t[2]['seed'] == first]
    lrs = {}
    for _, _, c in kept:
        lrs.setdefault(column_key(c), set()).add(c['learning_rate'])
    middle = {k: sorted(v)[max(0, (len(v) - 1) // 2):max(0, (len(v) - 1) // 2) + 2] for k, v in lrs.items()}
    return [(n, p) for n, p, c in kept if c['learning_rate'] in middle[column_key(c)]]


def smoke_point(point, m0):
    """A point of the smoke sweep. SMOKE_FIXED goes in `fixed`, which a point's own keys override: a sweep along the
    batch size (a fixed token budget) or the training horizon sets max_iters per point, with its warmup and
    evaluation interval. Those iteration counts shrink by one factor, SMOKE_FIXED's max_iters / m0 (m0: the smallest
    max_iters among the kept points), so their ratios survive (batch 4 takes twice the steps of batch 8); its own
    eval_iters becomes SMOKE_FIXED's. batch_size and block_size stay: they make the tokens-per-iteration axis."""
    p = dict(point)
    f = SMOKE_FIXED['max_iters'] / m0 if 'max_iters' in p else None
    for k in SMOKE_ITERS:
        if k in p:
            p[k] = max(0 if k == 'warmup_iters' else 1, round(p[k] * f)) if f else SMOKE_FIXED[k]
    if 'eval_iters' in p:
        p['eval_iters'] = SMOKE_FIXED['eval_iters']
    return p


def derive(spec, scale, keep, runs_dir, overrides, defaults):
    """The sweep reproduce.py runs: the scale's spec expanded to points, sweep_dir = runs_dir, overrides in fixed;
    for smoke, shrunk (shrink) with SMOKE_FIXED (and alignment measured every 2 steps if the sweep measures it)."""
    points = sweep.expand(spec)
    fixed = dict(spec['fixed'], **overrides)
    if scale == 'smoke':
        configs = [claims.point_config(spec, p, defaults) for _, p in points]
        points = shrink(points, configs, keep)
        if not points:
            raise ReproError("the smoke filter keeps no point of the sweep: fix the claim's `smoke` in "
                             "scripts/claims.py")
        m0 = min((p['max_iters'] for _, p in points if 'max_iters' in p), default=None)
        points = [(n, smoke_point(p, m0)) for n, p in points]
        fixed.update(SMOKE_FIXED)
        if fixed.get('alignment_interval'):
            fixed['alignment_interval'] = 2
        fixed.update(overrides)
    return dict(base_config=spec['base_config'], sweep_dir=str(runs_dir), grid={}, fixed=fixed,
                points=[p for _, p in points],
                launcher=spec['launcher'], nproc_per_node=spec['nproc_per_node'], estimate=spec['estimate'])


def write_sweep_file(path, spec, source, scale):
    lines = [f"# written by scripts/reproduce.py ({scale} scale) from {source}; rewritten at every invocation",
             f"base_config = {spec['base_config']!r}", f"sweep_dir = {spec['sweep_dir']!r}",
             f"fixed = {spec['fixed']!r}", 'points = [']
    lines += [f"    {p!r}," for p in spec['points']] + [']']
    if spec['launcher'] != 'python':
        lines += [f"launcher = {spec['launcher']!r}", f"nproc_per_node = {spec['nproc_per_node']!r}"]
    if spec['estimate'] and scale != 'smoke':
        lines.append(f"estimate = {spec['estimate']!r}")
    Path(path).write_text('\n'.join(lines) + '\n')


# -----------------------------------------------------------------------------
# wall time over invocations, the machine

class WallClock:
    """Wall time of a reproduction over all its invocations: <runs>/reproduce_time.json holds [start, end] per
    invocation, the last one's end updated every few seconds, so a killed invocation is counted up to its kill."""

    def __init__(self, path):
        self.path = Path(path)
        self.segments = json.loads(self.path.read_text())['segments'] if self.path.exists() else []
        now = time.time()
        self.segments.append([now, now])
        self.tick()

    def tick(self):
        self.segments[-1][1] = time.time()
        tmp = self.path.with_suffix('.tmp')
        tmp.write_text(json.dumps(dict(segments=self.segments)))
        os.replace(tmp, self.path)

    def minutes(self):
        return sum(e - s for s, e in self.segments) / 60


def cpu_model():
    try:
        for line in open('/proc/cpuinfo'):
            if line.lower().startswith('model name'):
                return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_commit():
    """The repository's commit (with '+changes' when the tree differs from it): the code the runs ran. results/ is
    not looked at: the reports this script writes there are no change to the code."""
    def git(*a):
        return subprocess.run(['git', *a], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    try:
        head = git('rev-parse', '--short', 'HEAD')
        return (head + ('+changes' if git('status', '--porcelain', '--untracked-files=no', '--', '.', ':(exclude)results') else '')) or 'unknown'
    except OSError:
        return 'unknown'


def machine(jobs, gpus):
    """What the runs ran on: CPU model, hardware threads, parallel runs, threads per run, GPUs, torch."""
    import torch
    threads = os.cpu_count() or 1
    info = {'CPU': cpu_model(), 'hardware threads': threads, 'OS': f"{platform.system()} {platform.release()}",
            'torch': torch.__version__, 'commit': git_commit()}
    if torch.cuda.is_available():
        n = torch.cuda.device_count()
        info['GPUs'] = f"{n} x {torch.cuda.get_device_name(0)}" + (f" (--gpus {gpus})" if gpus else '')
    else:
        omp = os.environ.get('OMP_NUM_THREADS') or (str(max(1, threads // jobs)) if jobs > 1 else 'torch default')
        info['--jobs (runs at a time)'] = jobs
        info['threads per run (OMP_NUM_THREADS)'] = omp
    return info


def run_sweep(sweep_file, jobs, gpus, clock):
    """scripts/sweep.py on the derived file, as a child that dies with this process (a killed reproduction takes its
    sweep and runs with it). Ctrl-C / SIGTERM stop the sweep cleanly. Returns (returncode, signal name or None)."""
    cmd = [sys.executable, 'scripts/sweep.py', str(sweep_file), '--jobs', str(jobs)] + (['--gpus', gpus] if gpus
                                                                                         else [])
    print('$ ' + ' '.join(rel(c) if os.path.isabs(str(c)) else str(c) for c in cmd), flush=True)
    proc = subprocess.Popen(cmd, cwd=ROOT, preexec_fn=sweep.die_with(os.getpid()))
    stopped = []

    def stop(signum, frame):
        stopped.append(signal.Signals(signum).name)
        proc.send_signal(signal.SIGTERM)  # the sweep stops its runs' process groups and exits

    old = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while True:
            try:
                proc.wait(timeout=5)
                break
            except subprocess.TimeoutExpired:
                clock.tick()
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        clock.tick()
    return proc.returncode, (stopped[0] if stopped else None)


# -----------------------------------------------------------------------------
# report, summary, index

def verdict_paragraph(claim, res, scale, label):
    """One paragraph: the verdict, then each checked statement with the paper's number next to ours and its label,
    then what is reported but not judged, and what the scale means."""
    counted = [p for p in res['parts'] if p['counts']]
    other = [p for p in res['parts'] if not p['counts']]
    text = [f"**Verdict: {label}.** {claim['title']}."]
    for p in counted:
        text.append(f"{p['name']}: the paper reports {p['paper']}; we measure {p['reason']} -> {p['label']}.")
    if other:
        text.append('Reported, not part of the verdict: ' + ' '.join(
            f"{p['name']} (paper: {p['paper']}): {p['reason']}" + (f" -> {p['label']}." if p['label'] else '.')
            for p in other))
    text.append({
        'laptop': "Laptop scale: a small GPT on Tiny Shakespeare char trained for a few hundred steps on a CPU "
                  "(Settings), orders of magnitude smaller and shorter than the papers' models: the verdict says "
                  "whether the paper's effect shows at this scale, with the thresholds of scripts/verdicts.py "
                  f"(flat across width or depth: interval contains 0 or |e| <= {V.FLAT:g}; a predicted exponent: "
                  f"within d/2 of it, d its distance to the alternative, its interval inside it ± d; inconclusive "
                  f"when more than {V.MAX_EDGE_FRACTION:.0%} of the optima sit on a grid edge or an interval is "
                  f"wider than {V.MAX_CI_WIDTH:g}).",
        'paper': "Paper scale: the paper-scale sweep file (its header lists what differs from the paper); "
                 "thresholds of scripts/verdicts.py.",
        'smoke': "Smoke scale: a few iterations of a tiny model, to check the chain end to end; this verdict means "
                 "nothing about the claim."}[scale])
    return ' '.join(text)


def clean(obj):
    """JSON-ready: NaN/inf -> None, tuple -> list, int keys -> str."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    return obj


def count_runs(spec, runs_dir):
    done = diverged = 0
    names = [n for n, _ in sweep.expand(spec)]
    for n in names:
        f = Path(runs_dir) / n / 'summary.json'
        if f.exists():
            done += 1
            diverged += bool(json.loads(f.read_text()).get('diverged'))
    return dict(points=len(names), finished=done, diverged=diverged, missing=len(names) - done)


def settings(spec, source, runs_dir, counts, configs):
    axis = {a: sorted({c[a] for c in configs}) for a in ('n_embd', 'n_layer')}
    lrs = sorted({c['learning_rate'] for c in configs})
    out = {'sweep file': f"{source} (expanded to {rel(Path(runs_dir) / 'reproduce_sweep.py')})",
           'base config': ', '.join(spec['base_config']),
           'fixed': ', '.join(f"{k}={v}" for k, v in spec['fixed'].items()),
           'widths (n_embd)': ', '.join(map(str, axis['n_embd'])),
           'depths (n_layer)': ', '.join(map(str, axis['n_layer'])),
           **varying(configs),
           'seeds': ', '.join(str(s) for s in sorted({c['seed'] for c in configs}, key=str)),
           'learning rates (all columns; each table lists its own)': f"{len(lrs)} values, {lrs[0]:g} ... {lrs[-1]:g}"
           if lrs else '',
           'runs': f"{counts['points']} points: {counts['finished']} finished ({counts['diverged']} diverged), "
                   f"{counts['missing']} missing",
           'runs folder': rel(runs_dir)}
    return out


def varying(configs):
    """Settings rows for the other axes of a claim, where they vary: tokens per iteration, training tokens per run,
    weight decays, weight timescales."""
    out = {}
    for label, key in (('tokens per iteration (batch_size x block_size)', 'tokens_per_iter'),
                       ('training tokens per run (max_iters x tokens per iteration)', 'train_tokens'),
                       ('weight decays', 'weight_decay'), ('weight timescales (wd_timescale, iterations)',
                                                           'wd_timescale')):
        vals = sorted({tables.axis_value(c, key) for c in configs} - {None})
        if len(vals) > 1:
            out[label] = ', '.join(f"{v:g}" for v in vals)
    return out


def fits_table(columns):
    """One row per column: the fitted exponent of the optimal hyperparameter (the LR, or a weight decay), its 95%
    bootstrap interval, the optima on a grid edge, the optimum per x (width, depth, ...) and the transfer score at the
    largest x."""
    rows = ['### Fitted exponents of the optimum and transfer scores', '',
            '| column | optimum of | e (optimum ~ x^e) | 95% bootstrap interval | optima on a grid edge | '
            'optimum per x | transfer score at the largest x |', '|---|---|---:|---|---:|---|---:|']
    for c in columns:
        f = c['fit']
        e = f"{f['e']:+.3f}" if V.finite(f['e']) else '–'
        ci = f"[{f['lo']:+.3f}, {f['hi']:+.3f}]" if V.finite(f['lo']) else (f['note'] or '–')
        opt = ', '.join(f"{x}: {f['opt'][x]:.3g}" for x in f['xs'])
        tr = f['transfer'][f['xs'][-1]] if f['xs'] else math.nan
        tr = f"{tr:.3f}" if V.finite(tr) else '–'
        hp = tables.HPARAMS[c.get('hp', 'learning_rate')][0]
        rows.append(f"| {c['title']} | {hp} | {e} | {ci} | {f['n_edge']} of {f['n']} | {opt} | {tr} |")
    rows += ['', "Transfer score: the loss at the value (LR, WD) that was best at the smallest x (width, depth, ...) "
                 "minus the best loss, at the largest one (0: the small model's value is still the best)."]
    return rows


def write_report(path, claim_name, claim, res, label, paragraph, meta, sets, out_dir):
    """<results>/<scale>/<claim>.md."""
    reldir = os.path.relpath(out_dir, path.parent)
    lines = [f"# {claim_name}: {claim['title']}", '', f"Made by: `{meta['command']}`", '',
             '| | |', '|---|---|'] + [f"| {k} | {v} |" for k, v in meta['info'].items()] + ['']
    lines += ['## Verdict', '', paragraph, '', '| statement | paper | ours | verdict |', '|---|---|---|---|']
    lines += [f"| {p['name']} | {p['paper']} | {p['reason']} | {p['label'] or '–'}"
              f"{'' if p['counts'] else ' (not counted)'} |" for p in res['parts']]
    lines += ['', '## Settings', '', '| | |', '|---|---|'] + [f"| {k} | {v} |" for k, v in sets.items()] + ['']
    lines += ['## Tables', '']
    if res['columns']:
        lines += fits_table(res['columns']) + ['']
    for c in res['columns']:
        lines += [c['md'], '']
    for heading, md in res['tables']:
        lines += [f"### {heading}", '', md, '']
    lines += ['## Plots', '']
    for c in res['columns']:
        lines += [f"![{f}]({reldir}/{f})" for f in c['figures']]
    lines += [f"{caption}:\n\n![{f}]({reldir}/{f})\n" for caption, f in res['figures']]
    path.write_text('\n'.join(lines) + '\n')


def write_index(results_root):
    """<results>/README.md: every registered claim, one row per scale with a .json summary ('not run yet' if none),
    then links to the other measurements in the folder."""
    root = Path(results_root)
    rows = []
    for name, claim in claims.CLAIMS.items():
        found = False
        for scale in SCALES:
            f = root / scale / f"{name}.json"
            if not f.exists():
                continue
            s = json.loads(f.read_text())
            found = True
            rows.append(f"| [{name}]({scale}/{name}.md) | {scale} | {s['paper']} | {s['measured']} | "
                        f"**{s['verdict']}** ({s['date']}) |")
        if not found:
            rows.append(f"| {name} | – | {claim['paper']} | not run yet: `python scripts/reproduce.py {name} "
                        f"--scale=laptop --jobs 2` | – |")
    other = sorted(p for p in root.glob('*.md') if p.name != 'README.md') + sorted(root.glob('*/README.md'))
    lines = ['# Results', '',
             'Every paper claim that `scripts/reproduce.py` reproduces, with its latest verdict per scale. This file '
             'is rewritten by `scripts/reproduce.py` from the `<scale>/<claim>.json` summaries; each report '
             '(`<scale>/<claim>.md`) has the command, machine, wall time, settings, tables, plots and the verdict '
             'with its reasons. Verdict rules: `scripts/verdicts.py`; how to run: '
             '[docs/reproduction.md](../docs/reproduction.md).' if root.resolve() == (ROOT / 'results').resolve()
             else 'Every paper claim that `scripts/reproduce.py` reproduces, with its latest verdict per scale '
                  '(rewritten by `scripts/reproduce.py`).', '',
             '| claim | scale | paper says | we measure | verdict |', '|---|---|---|---|---|'] + rows + ['']
    if other:
        lines += ['Other measurements in this folder: ' + ', '.join(f"[{p.relative_to(root)}]({p.relative_to(root)})"
                                                                     for p in other) + '.', '']
    (root / 'README.md').write_text('\n'.join(lines))


# -----------------------------------------------------------------------------

def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0].strip(),
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument('claim', help=f"one of {', '.join(claims.CLAIMS)}")
    ap.add_argument('--scale', default='laptop', help=f"one of {', '.join(SCALES)} (default laptop)")
    ap.add_argument('--jobs', type=int, default=1, help='runs at a time on the CPU (passed to sweep.py)')
    ap.add_argument('--gpus', default='', help='GPU ids, e.g. 0,1,2,3 (passed to sweep.py)')
    ap.add_argument('--set', default='', help='overrides for every run: key=value,key=value (train.py keys)')
    ap.add_argument('--work-dir', default='', help="where the runs go (default: the sweep file's sweep_dir; "
                                                   "out/repro/smoke/<claim> for smoke)")
    ap.add_argument('--results-dir', default='', help='default results (out/repro/results for smoke)')
    ap.add_argument('--dry-run', action='store_true', help='write the sweep file, say what would run, stop')
    args = ap.parse_args(argv)
    try:
        return reproduce(args, argv)
    except ReproError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def reproduce(args, argv):
    # everything a bad input can break is checked before any run starts
    if args.claim not in claims.CLAIMS:
        raise ReproError(f"unknown claim '{args.claim}': choose one of {', '.join(claims.CLAIMS)}")
    if args.scale not in SCALES:
        raise ReproError(f"unknown scale '{args.scale}': choose one of {', '.join(SCALES)}")
    if args.jobs < 1:
        raise ReproError('--jobs must be at least 1')
    claim = claims.CLAIMS[args.claim]
    if (args.scale if args.scale != 'smoke' else 'laptop') not in claim['sweeps']:
        raise ReproError(f"claim '{args.claim}' has no {args.scale}-scale sweep file: use "
                         f"{' or '.join(f'--scale={s}' for s in SCALES if s == 'smoke' or s in claim['sweeps'])}")
    source = claim['sweeps']['laptop' if args.scale == 'smoke' else args.scale]
    try:
        defaults = configurator.train_defaults()
    except Exception as e:  # torch or an optimizer file that does not import: one line, not a traceback
        raise ReproError(f"cannot read train.py's config keys ({type(e).__name__}: {e})")
    try:
        spec = sweep.load_sweep(ROOT / source)
        overrides = {}
        for kv in (x for x in args.set.split(',') if x):
            if '=' not in kv:
                raise ReproError(f"--set {kv}: write key=value")
            k, v = kv.split('=', 1)
            if k not in defaults:
                raise ReproError(f"--set {k}: not a train.py config key")
            overrides[k] = literal(v)
        runs_dir = Path(args.work_dir or (ROOT / 'out' / 'repro' / 'smoke' / args.claim if args.scale == 'smoke'
                                          else ROOT / spec['sweep_dir'])).resolve()
        derived = derive(spec, args.scale, claim['smoke'], runs_dir, overrides, defaults)
        sweep.check_keys(derived, set(defaults))
        configs = [claims.point_config(derived, p, defaults) for p in derived['points']]
    except sweep.SweepError as e:
        raise ReproError(str(e))
    for ds in sorted({c['dataset'] for c in configs}):
        if not (ROOT / 'data' / ds / 'train.bin').exists():
            raise ReproError(f"data/{ds}/train.bin not found: run python data/{ds}/prepare.py first")
    results_root = Path(args.results_dir or (ROOT / 'out' / 'repro' / 'results' if args.scale == 'smoke'
                                             else ROOT / 'results')).resolve()
    runs_dir.mkdir(parents=True, exist_ok=True)
    sweep_file = runs_dir / 'reproduce_sweep.py'
    write_sweep_file(sweep_file, derived, source, args.scale)
    counts = count_runs(derived, runs_dir)
    print(f"{args.claim} ({args.scale}): {counts['points']} runs, {counts['finished']} already finished; runs in "
          f"{rel(runs_dir)}, report in {rel(results_root / args.scale)}" +
          (f"; estimate: {derived['estimate']}" if derived['estimate'] and args.scale != 'smoke' else ''), flush=True)
    if args.dry_run:
        print(f"dry run: wrote {rel(sweep_file)}; nothing run")
        return 0

    clock = WallClock(runs_dir / 'reproduce_time.json')
    rc, stopped = run_sweep(sweep_file, args.jobs, args.gpus, clock)
    if stopped or rc in (130, 143):
        print(f"stopped ({stopped or rc}): re-run the same command to resume", flush=True)
        return 130 if (stopped or '') == 'SIGINT' or rc == 130 else 143
    if rc not in (0, 1):  # 1: some point failed or is still running elsewhere (logged); the analysis uses the rest
        raise ReproError(f"scripts/sweep.py stopped (exit {rc}); re-run the same command to resume")

    # analysis: always from the runs on disk, so a resumed or re-run reproduction re-analyses everything
    runs = tables.load_runs(runs_dir)
    if not runs:
        raise ReproError(f"no finished run in {rel(runs_dir)} (see {rel(runs_dir / 'sweep_status.jsonl')})")
    names = {n for n, _ in sweep.expand(derived)}
    runs = [r for r in runs if r['name'] in names]  # only this scale's points, if the folder holds others
    out_dir = results_root / args.scale / args.claim
    if out_dir.exists():
        shutil.rmtree(out_dir)  # derived files only: the analysis rewrites all of them from the runs
    out_dir.mkdir(parents=True)
    ctx = claims.Context(runs_dir, out_dir, n_boot=200 if args.scale == 'smoke' else 1000)
    res = claim['analyse'](runs, ctx)
    label = V.combine([p['label'] for p in res['parts'] if p['counts']])
    counts = count_runs(derived, runs_dir)
    clock.tick()
    command = 'python scripts/reproduce.py ' + ' '.join(rel(a) if os.path.isabs(a) else a for a in argv)
    info = {'date': time.strftime('%Y-%m-%d %H:%M %Z'), **machine(args.jobs, args.gpus),
            'wall time': f"{clock.minutes():.1f} min over {len(clock.segments)} invocation(s) (sweep and analysis)",
            'scale': args.scale}
    if rc == 1:
        info['note'] = (f"{counts['missing']} point(s) failed or did not finish (see "
                        f"{rel(runs_dir / 'sweep_status.jsonl')}); the tables use the others")
    sets = settings(derived, source, runs_dir, counts, configs)
    paragraph = verdict_paragraph(claim, res, args.scale, label)
    report = results_root / args.scale / f"{args.claim}.md"
    write_report(report, args.claim, claim, res, label, paragraph, dict(command=command, info=info), sets, out_dir)
    summary = dict(claim=args.claim, scale=args.scale, title=claim['title'], paper=claim['paper'],
                   measured=res['measured'], verdict=label, paragraph=paragraph, command=command,
                   date=time.strftime('%Y-%m-%d'), machine=info, wall_minutes=round(clock.minutes(), 2),
                   runs=counts, settings=sets,
                   parts=res['parts'], fits={c['tag']: c['fit'] for c in res['columns']})
    (results_root / args.scale / f"{args.claim}.json").write_text(json.dumps(clean(summary), indent=1) + '\n')
    write_index(results_root)
    print(f"verdict: {label}\nwrote {rel(report)}, {rel(results_root / args.scale / (args.claim + '.json'))}, "
          f"{rel(out_dir)}/, {rel(results_root / 'README.md')}", flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
