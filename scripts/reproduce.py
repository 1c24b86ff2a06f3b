"""
One command from nothing to an LR-transfer result: a reduced Gupta et al. width sweep (Table 3 setting: depth 8,
2 heads, Tiny Shakespeare char, 8192 tokens per step, early stopping) for muP (mup_spectral, base width 1) and the
SP baseline (upstream nanoGPT init, one LR), AdamW, sized to a time budget on this machine, then the tables, the
power-law fits of the optimal LR vs width and the plots, written to results/<name>.md.

    $ python data/shakespeare_char/prepare.py
    $ python scripts/reproduce.py shakespeare --budget-minutes 60            # one GPU
    $ python scripts/reproduce.py shakespeare --budget-minutes 60 --gpus 0,1,2,3

How the budget is spent: one calibration run per width (--calib-iters steps, compile included) measures the fixed
cost of a run (start-up, compilation, evaluations) and ms/iter; max_iters is then the largest number that fits
all points into ~90% of the budget across the parallel slots (capped at the paper's 5000; early stopping after
150 iterations without improvement may end runs sooner). Fewer widths, LRs or seeds buy longer runs. Runs go to
out/reproduce/<name>/ (a killed reproduction resumes: re-run the same command; finished runs are skipped).
--max-iters skips the calibration.
"""

import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sweep  # noqa: E402  (scripts/sweep.py: the same GPU slots the sweep will use)

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {
    # name: (base config, fixed overrides, parameterizations) -- Gupta et al. Table 3 on Tiny Shakespeare
    'shakespeare': ('config/mup_spectral_adamw.py',
                    dict(n_layer=8, n_head=2, early_stop_patience=150, eval_interval=10, eval_iters=10),
                    ['mup_spectral', 'nanogpt']),
}


def plan_iters(budget_s, calib, n_points_per_width, n_slots, max_iters=5000, min_iters=50):
    """Largest max_iters with sum over points of (overhead_w + iters * s_per_iter_w) <= budget_s * n_slots.

    calib: {width: (overhead_s, s_per_iter)}; n_points_per_width: runs at each width."""
    fixed = sum(n_points_per_width * oh for oh, _ in calib.values())
    per_iter = sum(n_points_per_width * spi for _, spi in calib.values())
    iters = int((budget_s * n_slots - fixed) / per_iter) if per_iter > 0 else max_iters
    return max(min_iters, min(max_iters, iters))


def literal(text):
    """'2' -> 2, '1e-3' -> 0.001, 'True' -> True; anything else stays a string (like configurator.py)."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def run(cmd, log=None):
    print('$ ' + ' '.join(map(str, cmd)), flush=True)
    return subprocess.run([str(c) for c in cmd], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT if log else None)


def calibrate(base, fixed, widths, iters, work):
    """{width: (overhead_s, s_per_iter)} per width from two short SP runs (iters and 2*iters steps, evaluation as
    configured): wall = overhead + steps * s_per_iter, so evaluations count in s_per_iter, start-up and compilation
    in the overhead."""
    out = {}
    work.mkdir(parents=True, exist_ok=True)
    for w in widths:
        walls = []
        for n in (iters, 2 * iters):
            name = f'calib_w{w}_{n}'
            overrides = {**fixed, 'parameterization': 'nanogpt', 'n_embd': w, 'max_iters': n, 'learning_rate': 1e-3,
                         'early_stop_patience': 0}
            t0 = time.time()  # the whole process: start-up and imports are part of every run's fixed cost
            with open(work / f'{name}.log', 'w') as log:
                r = run([sys.executable, 'train.py', base, *[f'--{k}={v}' for k, v in overrides.items()],
                         f'--out_dir={work}', f'--run_name={name}', '--overwrite=True'], log)  # a timing: rerun
            if r.returncode != 0 or not (work / name / 'summary.json').exists():
                sys.exit(f"error: calibration run at width {w} failed: see {work / (name + '.log')}")
            walls.append(time.time() - t0)
        spi = max(1e-6, (walls[1] - walls[0]) / iters)
        out[w] = (max(0.0, walls[0] - iters * spi), spi)
        print(f"  width {w}: {spi * 1000:.1f} ms/iter with evaluation, {out[w][0]:.1f} s fixed cost per run",
              flush=True)
    return out


def device_name():
    import torch
    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'CPU'


def write_report(path, name, cmd, tables_dir, info):
    """results/<name>.md: what ran, where, how long, then tables.py's tables and fits, and the plots."""
    rel = os.path.relpath(tables_dir, path.parent)
    lines = [f"# {name}: reduced Gupta et al. width sweep (muP vs SP, AdamW)", '',
             f"Made by: `{cmd}`", '',
             '| | |', '|---|---|'] + [f"| {k} | {v} |" for k, v in info.items()] + ['']
    fits = tables_dir / 'fits.csv'
    if fits.exists():
        rows = [r.split(',') for r in fits.read_text().splitlines()[1:] if r.strip()]
        lines += ['## Fitted optimal-LR exponents (lr* ~ width^e)', '', '| table | e | 95% bootstrap |', '|---|---|---|']
        ci = lambda lo, hi: f"[{float(lo):+.3f}, {float(hi):+.3f}]" if lo not in ('', 'nan') else 'n/a'
        lines += [f"| {r[0]} | {float(r[3]):+.3f} | {ci(r[4], r[5])} |" for r in rows if r[3] not in ('', 'nan')]
        lines.append('')
    lines += [(tables_dir / 'tables.md').read_text(), '', '## Plots', '']
    lines += [f"![{p.stem}]({rel}/{p.name})" for p in sorted(tables_dir.glob('*.png'))]
    path.write_text('\n'.join(lines) + '\n')


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument('target', help=f"one of {', '.join(TARGETS)}")
    ap.add_argument('--budget-minutes', type=float, default=60.0)
    ap.add_argument('--widths', default='128,256,512,1024')
    ap.add_argument('--lrs', default='6e-1,2e-1,6e-2,2e-2,6e-3,2e-3,6e-4', help='LR grid (both parameterizations)')
    ap.add_argument('--seeds', default='1,2')
    ap.add_argument('--optimizer', default='adamw')
    ap.add_argument('--max-iters', type=int, default=0, help='> 0: fixed, no calibration')
    ap.add_argument('--calib-iters', type=int, default=60)
    ap.add_argument('--base-config', default='', help='override the target base config (tests: config/debug_cpu.py)')
    ap.add_argument('--set', default='', help='extra overrides for every run: key=value,key=value')
    ap.add_argument('--gpus', default='', help='passed to sweep.py')
    ap.add_argument('--jobs', type=int, default=1, help='passed to sweep.py (CPU)')
    ap.add_argument('--name', default='', help="results/<name>.md; default <target>_width_<optimizer>")
    ap.add_argument('--results-dir', default=str(ROOT / 'results'))
    ap.add_argument('--work-dir', default='', help='where the runs go; default out/reproduce/<name>')
    args = ap.parse_args(argv)
    if args.target not in TARGETS:
        sys.exit(f"error: unknown target '{args.target}': choose one of {', '.join(TARGETS)}")
    base, fixed, params = TARGETS[args.target]
    base = args.base_config or base
    extra = {k: literal(v) for k, v in (kv.split('=', 1) for kv in args.set.split(',') if kv)}
    fixed = {**fixed, **extra}
    widths = [int(w) for w in args.widths.split(',')]
    lrs = [float(x) for x in args.lrs.split(',')]
    seeds = [int(s) for s in args.seeds.split(',')]
    name = args.name or f"{args.target}_width_{args.optimizer}"
    work = Path(args.work_dir) if args.work_dir else ROOT / 'out' / 'reproduce' / name
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.time()

    # parallel slots exactly as sweep.py will hand them out (all visible GPUs unless --gpus, else --jobs on the CPU)
    n_slots = len(sweep.slots(sweep.visible_gpus(args.gpus or None), 1, max(1, args.jobs)))
    plan_file = work / 'plan.json'
    if args.max_iters:
        iters = args.max_iters
    elif plan_file.exists():  # a resumed reproduction keeps its plan (the finished runs used it)
        iters = json.loads(plan_file.read_text())['max_iters']
        print(f"resuming with the saved plan: max_iters={iters}")
    else:
        print(f"calibrating ({args.calib_iters} iterations per width)...", flush=True)
        calib = calibrate(base, fixed, widths, args.calib_iters, work / 'calib')
        left = args.budget_minutes * 60 * 0.9 - (time.time() - t0)
        per_width = len(params) * len(lrs) * len(seeds)
        iters = plan_iters(left, calib, per_width, n_slots)
        fixed_s = sum(per_width * oh for oh, _ in calib.values()) / n_slots
        if fixed_s > left:
            print(f"warning: the runs' fixed costs alone ({fixed_s / 60:.1f} min) exceed the budget: this will take "
                  f"longer; use fewer widths/LRs/seeds or a larger --budget-minutes", flush=True)
    plan_file.write_text(json.dumps(dict(max_iters=iters, widths=widths, lrs=lrs, seeds=seeds)))
    print(f"plan: {len(params) * len(widths) * len(lrs) * len(seeds)} runs of at most {iters} iterations", flush=True)

    sweep_file = work / 'sweep.py'
    sweep_file.write_text(
        f"# written by scripts/reproduce.py: {name}\nbase_config = {base!r}\nsweep_dir = {str(work / 'runs')!r}\n"
        f"grid = dict(parameterization={params!r}, optimizer={[args.optimizer]!r}, n_embd={widths!r}, "
        f"learning_rate={lrs!r}, seed={seeds!r})\nfixed = {dict(fixed, max_iters=iters)!r}\n")
    sweep_cmd = [sys.executable, 'scripts/sweep.py', sweep_file, '--jobs', args.jobs]
    if args.gpus:
        sweep_cmd += ['--gpus', args.gpus]
    r = run(sweep_cmd)
    if r.returncode not in (0, 1):  # 1: some point failed (recorded); the tables still use the others
        sys.exit(f"error: the sweep stopped (exit {r.returncode}); re-run the same command to resume")

    results = Path(args.results_dir)
    tables_dir = results / name
    if tables_dir.exists():
        shutil.rmtree(tables_dir)
    r = run([sys.executable, 'scripts/tables.py', work / 'runs', '--out', tables_dir])
    if r.returncode != 0:
        sys.exit("error: scripts/tables.py failed on the sweep")
    cmd = 'python scripts/reproduce.py ' + ' '.join(argv)
    info = {'device': device_name(), 'date': time.strftime('%Y-%m-%d'), 'budget': f"{args.budget_minutes:g} min",
            'wall time': f"{(time.time() - t0) / 60:.1f} min", 'base config': base,
            'fixed': ', '.join(f"{k}={v}" for k, v in dict(fixed, max_iters=iters).items()),
            'widths': args.widths, 'LRs': args.lrs, 'seeds': args.seeds, 'runs folder': os.path.relpath(work.resolve(), ROOT)}
    report = results / f"{name}.md"
    write_report(report, name, cmd, tables_dir, info)
    print(f"wrote {report}")


if __name__ == '__main__':
    main(sys.argv[1:])
