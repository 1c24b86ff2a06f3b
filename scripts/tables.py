"""
LR-transfer tables, power-law fits and plots from a folder of runs (a sweep_dir of scripts/sweep.py):

    $ python scripts/tables.py out/sweeps/debug_cpu_width
    $ python scripts/tables.py out/sweeps/mup_adamw_width --metric final_val_loss --out results/mup_adamw_width
    $ python scripts/tables.py out/sweeps/batch --axis tokens_per_iter
    $ python scripts/tables.py out/sweeps/wd_width --optimize weight_decay

Reads <dir>/*/config.json + summary.json (nothing else). Runs are grouped by parameterization, optimizer and any
other config key that differs between runs; within a group the axis (--axis=auto) is each of width (n_embd),
depth (n_layer), tokens per iteration (tokens_per_iter = batch_size x block_size x gradient_accumulation_steps),
training tokens (train_tokens = max_iters x tokens_per_iter, when max_iters varies) and weight_decay that varies, or
the one config key --axis names; learning_rate (--optimize=weight_decay: weight_decay) and seed are the swept
hyperparameter and the repeat. A key that takes one value per column (max_iters along tokens_per_iter at a fixed
token budget) moves with the axis and is named in the title instead of splitting the group; a table along another
axis than width or depth is made per (n_embd, n_layer). For each group and axis it writes to --out (default
<dir>/tables):

- <tag>.md / <tag>.csv: the "LR / Width" table of Gupta et al. (Tables 3-4): rows LR, columns width, the metric's
  mean +- std over seeds, the best LR per column in bold. A diverged run (diverged: true, or no finite metric)
  counts as inf: a cell with any diverged seed cannot be the best; it shows the finite seeds' mean and "k/n div",
  or "div" when every seed diverged.
- <tag>_optimal_lr.csv: per width, the optimal LR, its bootstrap interval and the transfer score.
  Optimal LR: the vertex of the parabola in log LR through the grid's best point and its two neighbours (Everett
  et al. §4.2 fit a parabola around the minimum); the grid argmin itself when the best point is at the edge of the
  grid, a neighbour diverged or is missing. Transfer score: the loss at the LR that was best at the smallest width
  minus the best loss at this width (0 = perfect transfer).
- the power-law fit log(lr*) = k + e log(width) by least squares, with a bootstrap interval for e: resample the
  seeds of every width with replacement, recompute the seed means, the optimal LRs and the fit, take the 2.5 and
  97.5 percentiles. No interval is reported (NaN in fits.csv) with one seed (nothing to resample) or when every
  optimum is at an edge of the LR grid (every replicate picks the same edge points); widths whose optimum is at an
  edge are named in the fit line (n_edge in fits.csv). e ~ 0 means the base LR transfers (Everett et al. Fig. 4).
- <tag>_loss_vs_lr.png (one curve per width, +-std over seeds, log x) and <tag>_optimal_lr.png (optimal LR vs
  width, log-log, with the fit line and the exponent in the legend).
- tables.md (every table and fit, with the command that made them) and fits.csv (one row per table, the optimized
  hyperparameter in its last column).
- --optimize=weight_decay: the same with weight decays for LRs (<tag>_wd.md, <tag>_wd_optimal_wd.csv, ...: the
  optimal weight decay per column and its power law). A weight decay of 0 is a row of the table but has no
  logarithm: it ends no parabola and is left out of fits and log axes. --optimize=wd_timescale: the same for the
  weights' EMA timescale tau of wd_mode='timescale' (<tag>_tau.md, ...).
- <tag>_lr_wd.md / .csv / _optimum.csv, whenever learning_rate and weight_decay both vary: per column (width, ...)
  an LR x WD table of the metric, its optimum (the grid minimum, the LR refined along its row and the WD along its
  column as above) and the power-law fits of lr* and wd* against the axis (no interval).

The math is in pure functions (seed_stats, optimal_lr, fit_power_law, bootstrap_exponent, transfer_scores,
optimum_2d) that tests/test_tables.py calls directly; main() only reads, groups and writes.
"""

import argparse
import csv
import json
import math
import os
import sys
from pathlib import Path

import numpy as np

METRICS = ('best_val_loss', 'final_val_loss', 'final_train_loss')
AXES = {'n_embd': 'width', 'n_layer': 'depth'}  # an axis's name in tags and titles (any other axis: its key)
# the axes --axis=auto looks for, in this order; tokens_per_iter and train_tokens are computed from the config
AUTO_AXES = ('n_embd', 'n_layer', 'tokens_per_iter', 'train_tokens', 'weight_decay')
DERIVED = {  # tokens per iteration and per run, as train.py counts them (the global batch, on any number of ranks)
    'tokens_per_iter': lambda c: c['batch_size'] * c['block_size'] * c.get('gradient_accumulation_steps', 1),
    'train_tokens': lambda c: c['max_iters'] * DERIVED['tokens_per_iter'](c),
}
SPLIT = {'n_embd': 'w', 'n_layer': 'd'}  # model-size keys: a table along another axis is made per value of each
# the hyperparameters a table can optimize: (column label, symbol) in tables, file names and plots
HPARAMS = {'learning_rate': ('LR', 'lr'), 'weight_decay': ('WD', 'wd'), 'wd_timescale': ('tau', 'tau')}
GRID_2D = ('learning_rate', 'weight_decay')  # the two axes of the 2-D tables (build_grids)
BOOKKEEPING = {'run_name', 'out_dir', 'init_from', 'overwrite'}  # how a run was started, not what it is


# -----------------------------------------------------------------------------
# reading run folders

def load_runs(run_dir):
    """[{'name', 'config', 'summary'}] for every subfolder of run_dir with config.json and summary.json."""
    runs = []
    for d in sorted(Path(run_dir).iterdir()):
        if (d / 'config.json').is_file() and (d / 'summary.json').is_file():
            runs.append(dict(name=d.name, config=json.loads((d / 'config.json').read_text()),
                             summary=json.loads((d / 'summary.json').read_text())))
    return runs


def hashable(v):
    return json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v


def varying_keys(configs, exclude=()):
    """Config keys whose values differ between runs (a key missing from some runs counts as differing)."""
    keys = set().union(*configs) if configs else set()
    return sorted(k for k in keys - set(exclude) if len({hashable(c.get(k)) for c in configs}) > 1)


def axis_value(config, axis):
    """The value of an axis for one run: a config key, or tokens_per_iter / train_tokens computed from it (None
    when the config lacks a key). weight_decay is train.py's default 0.0 when absent."""
    if axis in DERIVED:
        try:
            return DERIVED[axis](config)
        except (KeyError, TypeError):
            return None
    return config.get(axis, 0.0 if axis == 'weight_decay' else None)


def varies(configs, axis):
    return len({hashable(axis_value(c, axis)) for c in configs}) > 1


def auto_axes(configs, own):
    """The axes of --axis=auto among these runs: each of AUTO_AXES (not optimized) whose value varies; train_tokens
    only when max_iters varies too (with max_iters fixed it moves with tokens_per_iter: the same table). n_embd when
    none varies."""
    out = [a for a in AUTO_AXES if a not in own and varies(configs, a)]
    if 'train_tokens' in out and not varies(configs, 'max_iters'):
        out.remove('train_tokens')
    return out or ['n_embd']


def moves_with(configs, key, axis):
    """Whether key varies over these runs but takes one value per value of the axis (batch_size along
    tokens_per_iter, max_iters along tokens_per_iter at a fixed token budget): part of the axis, not a group."""
    by_x = {}
    for c in configs:
        by_x.setdefault(hashable(axis_value(c, axis)), set()).add(hashable(c.get(key)))
    return len({hashable(c.get(key)) for c in configs}) > 1 and all(len(v) == 1 for v in by_x.values())


def metric_value(summary, metric):
    """The metric of one run; inf when the run diverged or the metric is missing / not finite."""
    v = summary.get(metric)
    if summary.get('diverged') or v is None or not math.isfinite(v):
        return math.inf
    return float(v)


# -----------------------------------------------------------------------------
# the math (pure functions)

def seed_stats(losses):
    """(mean, finite_mean, std, n, n_div) over seeds. mean is inf if any seed diverged (inf): such an LR cannot be
    optimal; finite_mean and std (sample std, 0 with fewer than two) are over the seeds that did not diverge."""
    x = np.asarray(losses, dtype=float)
    finite = x[np.isfinite(x)]
    n_div = len(x) - len(finite)
    finite_mean = float(finite.mean()) if len(finite) else math.inf
    std = float(finite.std(ddof=1)) if len(finite) > 1 else 0.0
    return (math.inf if n_div else finite_mean), finite_mean, std, len(x), n_div


def grid_argmin(lrs, means):
    """Index of the lowest finite mean (NaN = not run, inf = diverged), or None."""
    m = np.where(np.isnan(means), np.inf, means)
    return int(np.argmin(m)) if np.isfinite(m).any() else None


def optimal_lr(lrs, means):
    """Optimal LR (or weight decay) from seed-mean losses at sorted values: the vertex of the parabola in log LR
    through the best grid point and its two neighbours, else (best point at the edge, a neighbour diverged or
    missing or not > 0, a flat parabola) the grid argmin. NaN if every point diverged."""
    lrs, means = np.asarray(lrs, float), np.asarray(means, float)
    ok = ~np.isnan(means)  # missing LRs are skipped; diverged (inf) ones stay and block the parabola
    lrs, means = lrs[ok], means[ok]
    i = grid_argmin(lrs, means)
    if i is None:
        return math.nan
    if 0 < i < len(lrs) - 1 and np.isfinite(means[i - 1:i + 2]).all() and lrs[i - 1] > 0:  # log: weight decay 0
        a, b, _ = np.polyfit(np.log(lrs[i - 1:i + 2]), means[i - 1:i + 2], 2)
        if a > 0:  # the middle point is the lowest, so the vertex lies between the outer two
            return float(np.exp(-b / (2 * a)))
    return float(lrs[i])


def fit_power_law(xs, lrs):
    """(k, e) of log(lr) = k + e log(x) by least squares over the finite points with x > 0 and lr > 0 (a weight
    decay of 0 has no logarithm); (nan, nan) with fewer than 2."""
    xs, lrs = np.asarray(xs, float), np.asarray(lrs, float)
    ok = np.isfinite(lrs) & (lrs > 0) & (xs > 0)
    if len(np.unique(xs[ok])) < 2:
        return math.nan, math.nan
    e, k = np.polyfit(np.log(xs[ok]), np.log(lrs[ok]), 1)
    return float(k), float(e)


def loss_matrix(cells):
    """{lr: {seed: loss}} -> (sorted lrs, seeds, (n_lr, n_seed) array with NaN where a (lr, seed) was not run)."""
    lrs = sorted(cells)
    seeds = sorted({s for row in cells.values() for s in row}, key=str)
    m = np.full((len(lrs), len(seeds)), np.nan)
    for i, lr in enumerate(lrs):
        for j, s in enumerate(seeds):
            m[i, j] = cells[lr].get(s, np.nan)
    return np.array(lrs, float), seeds, m


def seed_means(m):
    """Mean over seeds of each LR row: inf if any present seed diverged, NaN if no seed ran it."""
    out = np.full(m.shape[0], np.nan)
    for i, row in enumerate(m):
        row = row[~np.isnan(row)]
        if len(row):
            out[i] = math.inf if np.isinf(row).any() else row.mean()
    return out


def bootstrap_exponent(table, n_boot=1000, seed=0):
    """Bootstrap of the power-law exponent. table: {x (width): {lr: {seed: loss}}}. Every replicate resamples the
    seeds of each width with replacement (a seed's runs stay together across LRs: they share init and data order),
    takes the optimal LR per width and refits. Returns (lo, hi) of e (2.5-97.5 %) and {x: (lo, hi)} of lr*."""
    rng = np.random.default_rng(seed)
    mats = {x: loss_matrix(cells) for x, cells in table.items()}
    xs = sorted(mats)
    es, opts = [], {x: [] for x in xs}
    for _ in range(n_boot):
        lr_opt = []
        for x in xs:
            lrs, seeds, m = mats[x]
            cols = rng.integers(len(seeds), size=len(seeds))
            lr_opt.append(optimal_lr(lrs, seed_means(m[:, cols])))
            opts[x].append(lr_opt[-1])
        es.append(fit_power_law(xs, lr_opt)[1])
    es = np.array(es)
    es = es[np.isfinite(es)]
    e_ci = tuple(np.percentile(es, [2.5, 97.5])) if len(es) else (math.nan, math.nan)
    lr_ci = {}
    for x in xs:
        v = np.array(opts[x])
        v = v[np.isfinite(v)]
        lr_ci[x] = tuple(np.percentile(v, [2.5, 97.5])) if len(v) else (math.nan, math.nan)
    return (float(e_ci[0]), float(e_ci[1])), lr_ci


def transfer_scores(means_by_x):
    """{x: {lr: seed-mean loss}} -> {x: loss at the LR that was best at the smallest x - best loss at x}.
    NaN where that LR was not run at x, inf where it diverged there, NaN everywhere if the smallest x has no
    finite point."""
    xs = sorted(means_by_x)
    base = means_by_x[xs[0]]
    finite = {lr: v for lr, v in base.items() if math.isfinite(v)}
    if not finite:
        return {x: math.nan for x in xs}
    lr0 = min(finite, key=finite.get)
    out = {}
    for x in xs:
        best = min((v for v in means_by_x[x].values() if not math.isnan(v)), default=math.nan)
        out[x] = means_by_x[x].get(lr0, math.nan) - best if math.isfinite(best) else math.nan
    return out


# -----------------------------------------------------------------------------
# grouping runs into tables

def lr_table(runs, axis, metric, hp='learning_rate'):
    """{x: {h: {seed: loss}}} of runs that differ only in the axis (n_embd, n_layer, tokens_per_iter, ...: see
    axis_value), the hyperparameter hp (the LR, or a weight decay) and the seed."""
    table = {}
    for r in runs:
        c = r['config']
        table.setdefault(axis_value(c, axis), {}).setdefault(axis_value(c, hp), {})[c.get('seed')] = \
            metric_value(r['summary'], metric)
    return table


def build_tables(runs, metric, axis='auto', optimize=('learning_rate',)):
    """[(tag, title, axis, {x: {h: {seed: loss}}})]: one table per group and axis. h is the optimized
    hyperparameter's value (learning_rate, or weight_decay), or with two, a (learning_rate, weight_decay) pair
    (the 2-D tables of build_grids).

    axis='auto' makes a table along each of AUTO_AXES that varies among a (parameterization, optimizer)'s runs,
    else along the given config key (or tokens_per_iter / train_tokens). The runs of one table agree on every other
    key that differs between runs (the group, named in the tag), except keys that move with the axis (one value per
    column: moves_with) and n_embd / n_layer, by which a table along another axis is split (_w64, _d4)."""
    own = set(optimize) | {'seed'}
    configs = [r['config'] for r in runs]
    by_po = {}
    for r in runs:
        by_po.setdefault((r['config'].get('parameterization'), r['config'].get('optimizer')), []).append(r)
    tables = []
    for (p, o), members in by_po.items():
        mc = [m['config'] for m in members]
        axes = auto_axes(mc, own) if axis == 'auto' else [axis]
        for ai, a in enumerate(axes):
            keys = varying_keys(configs, exclude=own | BOOKKEEPING | {'parameterization', 'optimizer', a, *SPLIT})
            context = [k for k in keys if not moves_with(mc, k, a)]
            along = [k for k in keys if moves_with(mc, k, a)]  # named in the title
            groups = {}
            for m in members:
                groups.setdefault(tuple(hashable(m['config'].get(k)) for k in context), []).append(m)
            for key, sub in groups.items():
                sc = [m['config'] for m in sub]
                if axis == 'auto' and not varies(sc, a) and (any(varies(sc, b) for b in axes) or ai > 0):
                    continue  # this group's runs are tabled along another axis
                extra = ''.join(f"_{k}-{v}" for k, v in zip(context, key))
                where = ''.join(f", {k}={v}" for k, v in zip(context, key))
                dims = [d for d in SPLIT if d != a]
                for dv in sorted({tuple(c.get(d) for d in dims) for c in sc}, key=lambda t: [order(v) for v in t]):
                    part = [m for m in sub if tuple(m['config'].get(d) for d in dims) == dv]
                    table = {}
                    for m in part:
                        c = m['config']
                        h = tuple(axis_value(c, k) for k in optimize) if len(optimize) > 1 else \
                            axis_value(c, optimize[0])
                        table.setdefault(axis_value(c, a), {}).setdefault(h, {})[c.get('seed')] = \
                            metric_value(m['summary'], metric)
                    suffix = ''.join(f"_{SPLIT[d]}{v}" for d, v in zip(dims, dv) if varies(sc, d))
                    hp = '' if optimize == ('learning_rate',) else '_' + '_'.join(HPARAMS[k][1] for k in optimize)
                    tag = f"{p}_{o}{extra}_{AXES.get(a, a)}{suffix}{hp}"
                    fixed = ', '.join(f"{d} = {v}" for d, v in zip(dims, dv))
                    moving = f"; {', '.join(along)} with it" if along else ''
                    hps = ' x '.join(HPARAMS[k][0] for k in optimize)
                    title = f"{p} + {o}{where}: {metric}, {hps} / {AXES.get(a, a)} ({fixed}{moving})"
                    tables.append(((str((p, o) + key), ai, [order(v) for v in dv]), (tag, title, a, table)))
    return [t for _, t in sorted(tables, key=lambda kv: kv[0])]


def order(v):
    """Sort key of a config value: numbers by value, then anything else by its text."""
    return (0, float(v), '') if isinstance(v, (int, float)) else (1, 0.0, str(v))


def build_grids(runs, metric, axis='auto'):
    """The 2-D learning-rate x weight-decay tables: build_tables with both optimized, for the groups in which both
    vary. [(tag, title, axis, {x: {(lr, wd): {seed: loss}}})]."""
    grids = build_tables(runs, metric, axis, optimize=GRID_2D)
    return [g for g in grids if all(len({h[i] for cells in g[3].values() for h in cells}) > 1 for i in (0, 1))]


def analyse(table, n_boot=1000):
    """Everything a table's outputs need: per x the LR stats, optimal LR (refined and grid), transfer score,
    and the fit with its bootstrap interval."""
    xs = sorted(table)
    stats = {x: {lr: seed_stats(list(table[x][lr].values())) for lr in table[x]} for x in xs}
    means = {x: {lr: s[0] for lr, s in stats[x].items()} for x in xs}
    opt, best_lr, edge = {}, {}, {}
    for x in xs:
        lrs = sorted(means[x])
        vals = [means[x][lr] for lr in lrs]
        opt[x] = optimal_lr(lrs, vals)
        i = grid_argmin(lrs, np.array(vals))
        best_lr[x] = lrs[i] if i is not None else None
        edge[x] = i in (0, len(lrs) - 1)  # the grid does not bracket the optimum: widen it
    k, e = fit_power_law(xs, [opt[x] for x in xs])
    (e_lo, e_hi), lr_ci = bootstrap_exponent(table, n_boot) if math.isfinite(e) else \
        ((math.nan, math.nan), {x: (math.nan, math.nan) for x in xs})
    n_seeds = max(len(seeds) for x in xs for seeds in table[x].values())
    all_lrs = [lr for x in xs for lr in table[x] if lr > 0] or [math.nan]  # the plot's log axis
    fitted = [x for x in xs if math.isfinite(opt[x])]
    edges = [x for x in fitted if edge[x]]
    # when the bootstrap has nothing to vary, its interval is a point and says nothing: report no interval.
    # One seed: nothing to resample. Every optimum at a grid edge: every replicate picks the same edge LRs
    # (e = 0 "[0, 0]" when it is the same edge everywhere), while the true optima lie outside the grid.
    ci_note = ''
    if math.isfinite(e) and n_seeds < 2:
        ci_note = 'no interval (one seed)'
    elif math.isfinite(e) and len(edges) == len(fitted):
        ci_note = 'no interval (every optimum at the grid edge: widen the LR grid)'
    if ci_note:
        e_lo = e_hi = math.nan
    return dict(xs=xs, stats=stats, opt=opt, best_lr=best_lr, edge=edge, transfer=transfer_scores(means), k=k, e=e,
                e_ci=(e_lo, e_hi), lr_ci=lr_ci, n_seeds=n_seeds, ci_note=ci_note, edges=edges,
                lr_range=(min(all_lrs), max(all_lrs)))


def optimum_2d(lrs, wds, means):
    """The optimum of a learning-rate x weight-decay grid of seed-mean losses (n_lr, n_wd; inf = diverged, NaN = not
    run): the grid minimum, each coordinate refined by optimal_lr along its row or column through it (the parabola
    vertex in log LR at the minimum's weight decay, and in log wd at its LR). Returns (lr*, wd*, i, j) with (i, j)
    the grid minimum's indices, or (nan, nan, None, None) when every cell diverged."""
    m = np.where(np.isnan(means), np.inf, means)
    if not np.isfinite(m).any():
        return math.nan, math.nan, None, None
    i, j = np.unravel_index(int(np.argmin(m)), m.shape)
    return optimal_lr(lrs, means[:, j]), optimal_lr(wds, means[i, :]), int(i), int(j)


def analyse_2d(grid):
    """Per x: the cells' seed statistics, the (lr*, wd*) optimum and whether it sits on an edge of the grid; and the
    power-law fits of lr* and wd* against x (least squares, no interval)."""
    xs = sorted(grid)
    out = dict(xs=xs, lrs={}, wds={}, stats={}, opt={}, best={}, edge={})
    for x in xs:
        lrs = sorted({lr for lr, _ in grid[x]})
        wds = sorted({wd for _, wd in grid[x]})
        stats = {h: seed_stats(list(seeds.values())) for h, seeds in grid[x].items()}
        means = np.array([[stats[(lr, wd)][0] if (lr, wd) in stats else math.nan for wd in wds] for lr in lrs])
        lr_opt, wd_opt, i, j = optimum_2d(lrs, wds, means)
        out['lrs'][x], out['wds'][x], out['stats'][x] = lrs, wds, stats
        out['opt'][x] = (lr_opt, wd_opt)
        out['best'][x] = (lrs[i], wds[j], means[i, j]) if i is not None else None
        out['edge'][x] = i is not None and (i in (0, len(lrs) - 1) or j in (0, len(wds) - 1))
    out['fit'] = {k: fit_power_law(xs, [out['opt'][x][n] for x in xs]) for n, k in enumerate(GRID_2D)}
    return out


def markdown_2d(title, axis, grid, a, digits=3):
    """One LR x wd table per x (best cell in bold), the optimum per x, and the fits of lr* and wd* against x."""
    name = AXES.get(axis, axis)
    lines = [f"### {title}", '']
    for x in a['xs']:
        wds, best = a['wds'][x], a['best'][x]
        lines += [f"{name} {x}:", '', '| LR \\ WD | ' + ' | '.join(f"{wd:.4g}" for wd in wds) + ' |',
                  '|---|' + '---:|' * len(wds)]
        for lr in a['lrs'][x]:
            cells = []
            for wd in wds:
                if (lr, wd) not in a['stats'][x]:
                    cells.append('–')
                    continue
                t = cell_text(a['stats'][x][(lr, wd)], digits)
                cells.append(f"**{t}**" if best and best[:2] == (lr, wd) else t)
            lines.append(f"| {lr:.4g} | " + ' | '.join(cells) + ' |')
        lines.append('')
    lines += [f"| {name} | optimal LR | optimal WD | best cell (LR, WD): loss |", '|---|---:|---:|---|']
    for x in a['xs']:
        (lr, wd), best = a['opt'][x], a['best'][x]
        cell = f"({best[0]:.4g}, {best[1]:.4g}): {best[2]:.{digits}f}" if best else 'every cell diverged'
        lines.append(f"| {x} | {lr:.3g} | {wd:.3g} | {cell}" + (' (edge)' if a['edge'][x] else '') + ' |')
    lines += ['', f"Mean ± std over seeds; bold = best cell of the {name}'s grid. Optimum: the grid minimum, its LR "
                  f"refined by the parabola vertex in log LR along its row and its WD along its column (a WD of 0 or "
                  f"a minimum at an edge, marked, keeps the grid value)."]
    for hp in GRID_2D:
        k, e = a['fit'][hp]
        sym = HPARAMS[hp][1]
        lines.append(f"Power-law fit log({sym}*) = k + e·log({name}): **e = {e:.3f}**, k = {k:.3f} (no interval)."
                     if math.isfinite(e) else f"No power-law fit of {sym}*: fewer than two {name}s with one.")
    return '\n'.join(lines) + '\n'


def write_csvs_2d(stem, axis, grid, a):
    with open(f"{stem}.csv", 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['learning_rate', 'weight_decay', axis, 'mean', 'mean_finite', 'std', 'n_seeds', 'n_diverged',
                    'best'])
        for x in a['xs']:
            for lr, wd in sorted(a['stats'][x]):
                mean, finite_mean, std, n, n_div = a['stats'][x][(lr, wd)]
                best = a['best'][x] is not None and a['best'][x][:2] == (lr, wd)
                w.writerow([repr(lr), repr(wd), x, mean, finite_mean, std, n, n_div, best])
    with open(f"{stem}_optimum.csv", 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow([axis, 'optimal_lr', 'optimal_wd', 'grid_best_lr', 'grid_best_wd', 'grid_best_loss', 'edge'])
        for x in a['xs']:
            best = a['best'][x] or (math.nan, math.nan, math.nan)
            w.writerow([x, *a['opt'][x], *best, a['edge'][x]])


def edge_note(a, name):
    """'optimum at the grid edge at width 128, 256' when some (not all) fitted optima sit on an edge, else ''."""
    if not a['edges'] or a['ci_note'].startswith('no interval (every'):
        return ''
    return f"optimum at the grid edge at {name} {', '.join(str(x) for x in a['edges'])}"


def fit_legend(a, axis, hp='learning_rate'):
    """The fit line's label in the optimal-LR plot: the exponent, its interval or why there is none, edge optima."""
    lo, hi = a['e_ci']
    name = AXES.get(axis, axis)
    text = f"fit: {HPARAMS[hp][1]}* ∝ {name}^{a['e']:.2f}  (" + (a['ci_note'] or f"95% CI [{lo:.2f}, {hi:.2f}]") + ')'
    note = edge_note(a, name)
    return text + (f"\n{note}" if note else '')


# -----------------------------------------------------------------------------
# writing: Markdown, CSV, plots

def cell_text(stat, digits):
    _, finite_mean, std, n, n_div = stat
    if n_div == n:
        return 'div'
    text = f"{finite_mean:.{digits}f}" + (f" ± {std:.{digits}f}" if n - n_div > 1 else '')
    return text + (f" ({n_div}/{n} div)" if n_div else '')  # what the other seeds reached, and how many failed


def markdown(title, axis, table, a, digits=3, hp='learning_rate'):
    xs, lrs = a['xs'], sorted({lr for x in a['xs'] for lr in table[x]})
    name, (col, sym) = AXES.get(axis, axis), HPARAMS[hp]
    lines = [f"### {title}", '', f"| {col} \\ {name} | " + ' | '.join(str(x) for x in xs) + ' |',
             '|---|' + '---:|' * len(xs)]
    for lr in lrs:
        cells = []
        for x in xs:
            if lr not in a['stats'][x]:
                cells.append('–')
                continue
            t = cell_text(a['stats'][x][lr], digits)
            cells.append(f"**{t}**" if a['best_lr'][x] == lr else t)
        lines.append(f"| {lr:.4g} | " + ' | '.join(cells) + ' |')
    lines.append(f'| optimal {col} | ' + ' | '.join(f"{a['opt'][x]:.3g}" + (' (edge)' if a['edge'][x] else '')
                                                  for x in xs) + ' |')
    lines.append('| transfer | ' + ' | '.join(f"{a['transfer'][x]:.{digits}f}" for x in xs) + ' |')
    lines += ['', f"Mean ± std over up to {a['n_seeds']} seed(s); bold = best {col} of the column; 'k/n div' = k of "
                  f"n seeds diverged. Optimal {col}: parabola vertex in log {col} around the grid minimum (grid argmin "
                  f"at an edge, marked: the grid does not bracket the optimum). Transfer: loss at the smallest "
                  f"{name}'s best {col} minus this column's best loss."]
    if math.isfinite(a['e']):
        lo, hi = a['e_ci']
        ci = a['ci_note'] or f"95% bootstrap over seeds [{lo:.3f}, {hi:.3f}]"
        note = edge_note(a, name)
        lines.append(f"Power-law fit log({sym}*) = k + e·log({name}): **e = {a['e']:.3f}** ({ci}), k = {a['k']:.3f}"
                     + (f"; {note}: the grid does not bracket it there, e is biased" if note else '') + '.')
    else:
        lines.append(f"No power-law fit: fewer than two {name}s with a finite optimal {col}.")
    return '\n'.join(lines) + '\n'


def write_csvs(stem, axis, table, a, hp='learning_rate'):
    sym = HPARAMS[hp][1]
    with open(f"{stem}.csv", 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow([hp, axis, 'mean', 'mean_finite', 'std', 'n_seeds', 'n_diverged', 'best'])
        for x in a['xs']:
            for lr in sorted(table[x]):
                mean, finite_mean, std, n, n_div = a['stats'][x][lr]
                w.writerow([repr(lr), x, mean, finite_mean, std, n, n_div, a['best_lr'][x] == lr])
    with open(f"{stem}_optimal_{sym}.csv", 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow([axis, f'optimal_{sym}', f'grid_best_{sym}', f'optimal_{sym}_lo', f'optimal_{sym}_hi',
                    'transfer_score'])
        for x in a['xs']:
            w.writerow([x, a['opt'][x], a['best_lr'][x], *a['lr_ci'][x], a['transfer'][x]])


def plot_loss_vs_lr(path, title, axis, table, a, metric, hp='learning_rate'):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(a['xs'])))
    finite = [s[1] for x in a['xs'] for s in a['stats'][x].values() if math.isfinite(s[1])]
    lo = min(finite) if finite else 0.0
    top = min(max(finite), lo + 1.0) if finite else 1.0  # a 1-nat window: near-divergent LRs would squash the rest
    for x, color in zip(a['xs'], colors):
        lrs = [lr for lr in sorted(table[x]) if lr > 0]  # a log axis: weight decay 0 is in the table only
        st = [a['stats'][x][lr] for lr in lrs]
        good = [i for i, s in enumerate(st) if math.isfinite(s[1])]  # at least one seed did not diverge
        lx = np.array([lrs[i] for i in good])
        mean = np.array([st[i][1] for i in good])
        std = np.array([st[i][2] for i in good])
        ax.plot(lx, mean, 'o-', color=color, label=f"{AXES.get(axis, axis)} {x}")
        if a['n_seeds'] > 1:
            ax.fill_between(lx, mean - std, mean + std, color=color, alpha=0.2)
        div = [lrs[i] for i, s in enumerate(st) if not math.isfinite(s[1])]
        ax.plot(div, [top] * len(div), 'x', color=color, ms=8)
        if a['best_lr'][x] is not None and a['best_lr'][x] > 0:
            ax.plot([a['best_lr'][x]], [a['stats'][x][a['best_lr'][x]][0]], '*', color=color, ms=14, mec='k')
    pad = 0.05 * (top - lo) or 0.05
    ax.set_ylim(lo - pad, top + pad)  # curves leave through the top; diverged LRs sit on the top edge
    ax.set_xscale('log')
    ax.set_xlabel('base learning rate (log scale)' if hp == 'learning_rate' else f"{hp} (log scale; 0 not shown)")
    ax.set_ylabel(f"{metric} (nats/token)")
    ax.set_title(f"{title}\nmean ± std over {a['n_seeds']} seed(s); ★ best, × diverged (y axis: 1 nat above the "
                 f"best)", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which='both')
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_optimal_lr(path, title, axis, a, hp='learning_rate'):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    col = HPARAMS[hp][0]
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    xs = np.array([x for x in a['xs'] if x > 0 and a['opt'][x] > 0], float)  # log-log (weight decay 0 left out)
    ys = np.array([a['opt'][x] for x in xs])
    err = np.array([[max(0, y - a['lr_ci'][x][0]), max(0, a['lr_ci'][x][1] - y)] for x, y in zip(xs, ys)]).T
    err = np.nan_to_num(err) if len(xs) else None
    ax.errorbar(xs, ys, yerr=err if a['n_seeds'] > 1 else None, fmt='o', color='C0', capsize=3,
                label=f'optimal {col}' + (' (95% bootstrap over seeds)' if a['n_seeds'] > 1 else ' (one seed)'))
    if math.isfinite(a['e']):
        grid = np.geomspace(xs.min(), xs.max(), 50)
        ax.plot(grid, np.exp(a['k']) * grid ** a['e'], '-', color='C1', label=fit_legend(a, axis, hp))
        ax.axhline(ys[0], color='gray', ls=':', lw=1, label='exponent 0 (perfect transfer)')
    ax.set_xscale('log')
    ax.set_yscale('log')
    ax.set_xticks(xs, [f"{x:g}" for x in xs])
    ax.minorticks_off()
    lo, hi = a['lr_range']  # the swept range: a slope is judged against the grid, not against a zoomed axis
    ax.set_ylim(min(lo, ys.min(initial=lo)) / 1.5, max(hi, ys.max(initial=hi)) * 1.5)
    ax.set_xlabel(f"{AXES.get(axis, axis)} ({axis}, log scale)")
    ax.set_ylabel('optimal base learning rate (log scale)' if hp == 'learning_rate' else f"optimal {hp} (log scale)")
    ax.set_title(title.replace(f', {col} /', f', optimal {col} vs'), fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which='both')
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_table(out, tag, title, axis, table, metric, n_boot=1000, plots=True, cmd='', hp='learning_rate'):
    """One table's files in out: <tag>.md, <tag>.csv, <tag>_optimal_<lr|wd>.csv and (plots) the two PNGs. Returns
    (analysis, markdown)."""
    sym = HPARAMS[hp][1]
    a = analyse(table, n_boot)
    md = markdown(title, axis, table, a, hp=hp)
    (Path(out) / f"{tag}.md").write_text((f"<!-- made by: {cmd} -->\n" if cmd else '') + md)
    write_csvs(str(Path(out) / tag), axis, table, a, hp)
    if plots:
        plot_loss_vs_lr(Path(out) / f"{tag}_loss_vs_{sym}.png", title, axis, table, a, metric, hp)
        plot_optimal_lr(Path(out) / f"{tag}_optimal_{sym}.png", title, axis, a, hp)
    return a, md


def main(argv):
    ap = argparse.ArgumentParser(description="LR / width (and any axis) tables, power-law fits and plots from a "
                                             "sweep folder.")
    ap.add_argument('run_dir')
    ap.add_argument('--metric', default='best_val_loss', choices=METRICS)
    ap.add_argument('--axis', default='auto',
                    help="the tables' x axis: auto (each of n_embd, n_layer, tokens_per_iter, train_tokens, "
                         "weight_decay that varies), one of those, or any config key")
    ap.add_argument('--optimize', default='learning_rate', choices=list(HPARAMS),
                    help="the hyperparameter whose optimum each column of a table gives")
    ap.add_argument('--out', default=None, help="output folder (default <run_dir>/tables)")
    ap.add_argument('--bootstrap', type=int, default=1000, help="bootstrap replicates for the exponent interval")
    ap.add_argument('--no-plots', action='store_true')
    args = ap.parse_args(argv)
    if not os.path.isdir(args.run_dir):
        print(f"error: {args.run_dir} is not a folder", file=sys.stderr)
        return 2
    runs = load_runs(args.run_dir)
    if not runs:
        print(f"error: no runs (config.json + summary.json) in {args.run_dir}", file=sys.stderr)
        return 2
    if args.axis != 'auto':
        configs = [r['config'] for r in runs]
        if args.axis in (args.optimize, 'seed'):
            print(f"error: --axis={args.axis} is what the tables optimize or average over: choose another axis",
                  file=sys.stderr)
            return 2
        if not any(axis_value(c, args.axis) is not None for c in configs):
            present = ', '.join(k for k in [*DERIVED, *varying_keys(configs, exclude=BOOKKEEPING | {args.optimize,
                                                                                                'seed'})]
                                if varies(configs, k))
            print(f"error: --axis={args.axis}: no run has it; these vary between the runs: {present or 'none'}",
                  file=sys.stderr)
            return 2
    out = Path(args.out or os.path.join(args.run_dir, 'tables'))
    out.mkdir(parents=True, exist_ok=True)
    cmd = ' '.join(['python scripts/tables.py', *argv])
    hp = args.optimize
    what = 'LR transfer' if hp == 'learning_rate' else 'weight-decay transfer'
    doc, fits = [f"<!-- made by: {cmd} -->", f"# {what}: {args.run_dir} ({len(runs)} runs, {args.metric})", ''], []
    for tag, title, axis, table in build_tables(runs, args.metric, args.axis, (hp,)):
        a, md = write_table(out, tag, title, axis, table, args.metric, args.bootstrap, not args.no_plots, cmd, hp)
        doc.append(md)
        fits.append([tag, axis, len(a['xs']), a['e'], *a['e_ci'], a['k'], len(a['edges']), hp])
    for tag, title, axis, grid in build_grids(runs, args.metric, args.axis):
        a = analyse_2d(grid)
        md = markdown_2d(title, axis, grid, a)
        (out / f"{tag}.md").write_text(f"<!-- made by: {cmd} -->\n" + md)
        write_csvs_2d(str(out / tag), axis, grid, a)
        doc.append(md)
        for key, (k, e) in a['fit'].items():
            fits.append([tag, axis, len(a['xs']), e, math.nan, math.nan, k, sum(a['edge'].values()), key])
    with open(out / 'fits.csv', 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['tag', 'axis', 'n_points', 'exponent', 'exponent_lo', 'exponent_hi', 'intercept', 'n_edge',
                    'optimize'])
        w.writerows(fits)
    (out / 'tables.md').write_text('\n'.join(doc))
    print('\n'.join(doc))
    print(f"wrote {len(doc) - 3} table(s) to {out}")
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
