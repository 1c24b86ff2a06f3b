"""
Steps-to-Adam and time-to-Adam (SPlus paper, §5 and Table 1): for every optimizer at its best learning rate, the
fraction of Adam's gradient steps, and of Adam's training wall-clock, it needs to reach Adam's final validation
loss. Below 1 is faster than Adam; "> r" means it never got there in its r x Adam's steps; "div" means every LR
diverged.

    $ python scripts/steps_to_adam.py out/sweeps/optimizers               # baseline: adamw
    $ python scripts/steps_to_adam.py out/sweeps/optimizers --baseline adam --out results/sta.md

Reads <dir>/*/{config.json, summary.json, metrics.jsonl}. Definitions:

- best LR of an optimizer: the lowest seed-mean final_val_loss over its runs (a diverged run counts as inf). An
  optimizer's own hyperparameters (keys starting with its name, e.g. splus_inverse_every) are tuned with the LR
  when they vary. Any other config key that differs between runs (width, parameterization, ...) makes a
  separate table; each needs its own baseline runs.
- seeds: the eval curves (and step times) of an optimizer's seeds are averaged at the eval iterations they share;
  with one seed (the paper's setting) this is that run.
- target: the baseline's final validation loss (the last point of its curve); its steps: the iteration of that
  point; its time: the cumulated step time up to it.
- steps needed: the first eval point at or below the target, linearly interpolated between it and the eval point
  before it (the loss is only measured every eval_interval steps; interpolation avoids rounding every answer up
  to a multiple of it).
- time: train rows of metrics.jsonl hold `ms` of the step that was logged; each stands for the log_interval steps
  since the previous row, so time(step) is the sum of ms x steps-since-previous-row, interpolated in the step
  (evaluation time excluded, like train.py's timing). Runs without ms rows use summary wall_time_s x step / iters.
"""

import argparse
import json
import math
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tables import BOOKKEEPING, hashable, load_runs, metric_value, varying_keys  # noqa: E402


# -----------------------------------------------------------------------------
# the math (pure functions)

def eval_curve(rows):
    """(iters, val_losses) of the eval rows, sorted by iter; a repeated iter keeps its last row."""
    pts = {r['iter']: r['val_loss'] for r in rows if r.get('kind') == 'eval' and r.get('val_loss') is not None}
    iters = sorted(pts)
    return np.array(iters, float), np.array([pts[i] for i in iters], float)


def cumulative_time(rows):
    """(iters, seconds) of training time at each logged train row: every row's `ms` times the steps since the
    previous row (rows are logged every log_interval steps, each with the time of one step). Starts at (0, 0)."""
    pts = {r['iter']: r['ms'] for r in rows if r.get('kind') == 'train' and r.get('ms') is not None}
    iters, secs, prev, total = [0.0], [0.0], 0, 0.0
    for it in sorted(pts):
        total += pts[it] / 1000 * (it - prev)
        prev = it
        iters.append(float(it))
        secs.append(total)
    return np.array(iters), np.array(secs)


def steps_to_reach(iters, vals, target):
    """First step at which the eval curve is at or below target, interpolated linearly between the crossing eval
    point and the one before it; None if it never gets there."""
    hit = np.nonzero(np.asarray(vals) <= target)[0]
    if not len(hit):
        return None
    j = int(hit[0])
    if j == 0:
        return float(iters[0])
    (i0, i1), (v0, v1) = iters[j - 1:j + 1], vals[j - 1:j + 1]
    return float(i0 + (v0 - target) / (v0 - v1) * (i1 - i0))


def time_at(step, time_iters, time_secs):
    """Training seconds at a (fractional) step, interpolated on the cumulative-time curve."""
    return float(np.interp(step, time_iters, time_secs))


def mean_curve(curves):
    """Mean of several (iters, values) curves at the iterations all of them have."""
    common = sorted(set.intersection(*(set(c[0].tolist()) for c in curves)))
    vals = [np.mean([c[1][np.nonzero(c[0] == it)[0][0]] for c in curves]) for it in common]
    return np.array(common, float), np.array(vals, float)


def fractions(curve, times, base_curve, base_times):
    """(steps fraction, time fraction, reached) of one optimizer against the baseline. curve / base_curve:
    (iters, val_loss); times / base_times: (iters, seconds). Not reached: the fractions of its whole run."""
    target = base_curve[1][-1]
    base_steps, base_time = base_curve[0][-1], time_at(base_curve[0][-1], *base_times)
    step = steps_to_reach(*curve, target)
    reached = step is not None
    step = step if reached else curve[0][-1]
    return step / base_steps, time_at(step, *times) / base_time, reached


# -----------------------------------------------------------------------------
# reading runs

def load_metrics(run_dir, run):
    rows = [json.loads(line) for line in open(Path(run_dir) / run['name'] / 'metrics.jsonl') if line.strip()]
    times = cumulative_time(rows)
    if len(times[0]) == 1 and run['summary'].get('iters'):  # no ms rows: spread the wall time evenly
        times = (np.array([0.0, run['summary']['iters']]), np.array([0.0, run['summary']['wall_time_s'] or 0.0]))
    return eval_curve(rows), times


def best_settings(runs, run_dir):
    """{(context, optimizer): dict(setting, final, curve, times, n_seeds, runs, loaded)} at each optimizer's best
    setting: curve and times are the seed means, runs and loaded ([(curve, times)]) the seeds one by one."""
    configs = [r['config'] for r in runs]
    opts = {c['optimizer'] for c in configs}
    own = [k for k in varying_keys(configs) if any(k.startswith(o + '_') for o in opts)]
    context = varying_keys(configs, exclude=BOOKKEEPING | {'optimizer', 'learning_rate', 'seed', *own})
    by = {}
    for r in runs:
        c = r['config']
        setting = (('learning_rate', c['learning_rate']),) + tuple(
            (k, hashable(c.get(k))) for k in own if k.startswith(c['optimizer'] + '_'))
        ctx = tuple((k, hashable(c.get(k))) for k in context)
        by.setdefault((ctx, c['optimizer']), {}).setdefault(setting, []).append(r)
    best = {}
    for key, settings in by.items():
        score = {s: np.mean([metric_value(r['summary'], 'final_val_loss') for r in rs]) for s, rs in settings.items()}
        s = min(score, key=score.get)
        if not math.isfinite(score[s]):
            best[key] = dict(setting=None, final=math.inf)
            continue
        loaded = [load_metrics(run_dir, r) for r in settings[s]]
        best[key] = dict(setting=s, final=score[s], n_seeds=len(loaded), curve=mean_curve([m[0] for m in loaded]),
                         times=mean_curve([m[1] for m in loaded]), runs=settings[s], loaded=loaded)
    return best


def fmt_setting(setting):
    return ', '.join(f"{v:g}" if k == 'learning_rate' else f"{k}={v}" for k, v in setting)


def table(best, ctx, baseline):
    """Markdown rows for one context, the baseline first, the others by steps-to-baseline."""
    base = best.get((ctx, baseline))
    if base is None or base['setting'] is None:
        return None
    rows = []
    for (c, opt), b in best.items():
        if c != ctx:
            continue
        if b['setting'] is None:
            rows.append((math.inf, f"| {opt} | – | div | – | div | div |"))
            continue
        fs, ft, reached = fractions(b['curve'], b['times'], base['curve'], base['times'])
        sta, tta = (f"{fs:.3f}", f"{ft:.3f}") if reached else (f"> {fs:.2f}", f"> {ft:.2f}")
        order = -1 if opt == baseline else fs if reached else 1e9 + fs
        rows.append((order, f"| {opt} | {fmt_setting(b['setting'])} | {b['final']:.4f} | {int(b['curve'][0][-1])} "
                            f"| {sta} | {tta} |"))
    head = [f"| optimizer | best LR (setting) | final val loss | steps | steps-to-{baseline} | "
            f"time-to-{baseline} |", '|---|---|---:|---:|---:|---:|']
    return head + [r for _, r in sorted(rows, key=lambda t: t[0])]


def main(argv):
    ap = argparse.ArgumentParser(description="Steps-to-Adam / time-to-Adam (SPlus paper Table 1) from run folders.")
    ap.add_argument('run_dir')
    ap.add_argument('--baseline', default='adamw', help="optimizer whose final val loss is the target")
    ap.add_argument('--out', default=None, help="Markdown file (default <run_dir>/steps_to_<baseline>.md)")
    args = ap.parse_args(argv)
    runs = load_runs(args.run_dir) if os.path.isdir(args.run_dir) else []
    runs = [r for r in runs if (Path(args.run_dir) / r['name'] / 'metrics.jsonl').is_file()]
    if not runs:
        print(f"error: no runs (config.json + summary.json + metrics.jsonl) in {args.run_dir}", file=sys.stderr)
        return 2
    if args.baseline not in {r['config']['optimizer'] for r in runs}:
        print(f"error: no '{args.baseline}' runs in {args.run_dir}: the baseline sets the target (--baseline)",
              file=sys.stderr)
        return 2
    best = best_settings(runs, args.run_dir)
    doc = [f"<!-- made by: python scripts/steps_to_adam.py {' '.join(argv)} -->",
           f"# Steps-to-{args.baseline} ({args.run_dir}, {len(runs)} runs)", '']
    for ctx in sorted({c for c, _ in best}, key=str):
        name = ', '.join(f"{k}={v}" for k, v in ctx) or 'all runs'
        rows = table(best, ctx, args.baseline)
        doc += [f"## {name}", ''] + (rows or [f"no finite {args.baseline} run here: no target"]) + ['']
    doc.append(f"Fraction of {args.baseline}'s steps (and training wall-clock, evaluation excluded) needed to reach "
               f"{args.baseline}'s final val loss, each optimizer at its best LR by final val loss (SPlus paper §5); "
               f"first crossing interpolated linearly between eval points; '> r': not reached within r x "
               f"{args.baseline}'s steps.")
    text = '\n'.join(doc) + '\n'
    out = args.out or os.path.join(args.run_dir, f'steps_to_{args.baseline}.md')
    Path(out).write_text(text)
    print(text + f"wrote {out}")
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
