"""
LR-transfer tables, power-law fits and plots from a folder of runs (a sweep_dir of scripts/sweep.py):

    $ python scripts/tables.py out/sweeps/debug_cpu_width
    $ python scripts/tables.py out/sweeps/mup_adamw_width --metric final_val_loss --out results/mup_adamw_width

Reads <dir>/*/config.json + summary.json (nothing else). Runs are grouped by parameterization, optimizer and any
other config key that differs between runs; within a group the axis is width (n_embd) or depth (n_layer), and
learning_rate and seed are the swept hyperparameter and the repeat. For each group and axis it writes to --out
(default <dir>/tables):

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
- tables.md (every table and fit, with the command that made them) and fits.csv (one row per table).

The math is in pure functions (seed_stats, optimal_lr, fit_power_law, bootstrap_exponent, transfer_scores) that
tests/test_tables.py calls directly; main() only reads, groups and writes.
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
AXES = {'n_embd': 'width', 'n_layer': 'depth'}
SWEPT = {'learning_rate', 'seed', 'n_embd', 'n_layer'}  # the table's own dimensions, never a grouping key
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
    """Optimal LR from seed-mean losses at sorted LRs: the vertex of the parabola in log LR through the best grid
    point and its two neighbours, else (best point at the edge, a neighbour diverged or missing, a flat
    parabola) the grid argmin. NaN if every point diverged."""
    lrs, means = np.asarray(lrs, float), np.asarray(means, float)
    ok = ~np.isnan(means)  # missing LRs are skipped; diverged (inf) ones stay and block the parabola
    lrs, means = lrs[ok], means[ok]
    i = grid_argmin(lrs, means)
    if i is None:
        return math.nan
    if 0 < i < len(lrs) - 1 and np.isfinite(means[i - 1:i + 2]).all():
        a, b, _ = np.polyfit(np.log(lrs[i - 1:i + 2]), means[i - 1:i + 2], 2)
        if a > 0:  # the middle point is the lowest, so the vertex lies between the outer two
            return float(np.exp(-b / (2 * a)))
    return float(lrs[i])


def fit_power_law(xs, lrs):
    """(k, e) of log(lr) = k + e log(x) by least squares over the finite points; (nan, nan) with fewer than 2."""
    xs, lrs = np.asarray(xs, float), np.asarray(lrs, float)
    ok = np.isfinite(lrs) & (lrs > 0)
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

def lr_table(runs, axis, metric):
    """{x: {lr: {seed: loss}}} of runs that differ only in the axis (n_embd or n_layer), the LR and the seed."""
    table = {}
    for r in runs:
        c = r['config']
        table.setdefault(c[axis], {}).setdefault(c['learning_rate'], {})[c.get('seed')] = metric_value(r['summary'],
                                                                                                      metric)
    return table


def build_tables(runs, metric):
    """[(tag, title, axis, {x: {lr: {seed: loss}}})]: one table per group and varying axis."""
    configs = [r['config'] for r in runs]
    context = varying_keys(configs, exclude=SWEPT | BOOKKEEPING | {'parameterization', 'optimizer'})
    groups = {}
    for r in runs:
        c = r['config']
        key = (c.get('parameterization'), c.get('optimizer')) + tuple(hashable(c.get(k)) for k in context)
        groups.setdefault(key, []).append(r)
    tables = []
    for key, members in sorted(groups.items(), key=lambda kv: str(kv[0])):
        extra = ''.join(f"_{k}-{v}" for k, v in zip(context, key[2:]))
        varies = {a: len({m['config'][a] for m in members}) > 1 for a in AXES}
        axes = [a for a in AXES if varies[a]] or ['n_embd']
        for axis in axes:
            other = 'n_layer' if axis == 'n_embd' else 'n_embd'
            for ov in sorted({m['config'][other] for m in members}):
                table = lr_table([m for m in members if m['config'][other] == ov], axis, metric)
                suffix = f"_{'d' if other == 'n_layer' else 'w'}{ov}" if varies[other] else ''
                tag = f"{key[0]}_{key[1]}{extra}_{AXES[axis]}{suffix}"
                where = ''.join(f", {k}={v}" for k, v in zip(context, key[2:]))
                title = f"{key[0]} + {key[1]}{where}: {metric}, LR / {AXES[axis]} ({other} = {ov})"
                tables.append((tag, title, axis, table))
    return tables


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
    all_lrs = [lr for x in xs for lr in table[x]]
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


def edge_note(a, name):
    """'optimum at the grid edge at width 128, 256' when some (not all) fitted optima sit on an edge, else ''."""
    if not a['edges'] or a['ci_note'].startswith('no interval (every'):
        return ''
    return f"optimum at the grid edge at {name} {', '.join(str(x) for x in a['edges'])}"


def fit_legend(a, axis):
    """The fit line's label in the optimal-LR plot: the exponent, its interval or why there is none, edge optima."""
    lo, hi = a['e_ci']
    text = f"fit: lr* ∝ {AXES[axis]}^{a['e']:.2f}  (" + (a['ci_note'] or f"95% CI [{lo:.2f}, {hi:.2f}]") + ')'
    note = edge_note(a, AXES[axis])
    return text + (f"\n{note}" if note else '')


# -----------------------------------------------------------------------------
# writing: Markdown, CSV, plots

def cell_text(stat, digits):
    _, finite_mean, std, n, n_div = stat
    if n_div == n:
        return 'div'
    text = f"{finite_mean:.{digits}f}" + (f" ± {std:.{digits}f}" if n - n_div > 1 else '')
    return text + (f" ({n_div}/{n} div)" if n_div else '')  # what the other seeds reached, and how many failed


def markdown(title, axis, table, a, digits=3):
    xs, lrs = a['xs'], sorted({lr for x in a['xs'] for lr in table[x]})
    name = AXES[axis]
    lines = [f"### {title}", '', f"| LR \\ {name} | " + ' | '.join(str(x) for x in xs) + ' |',
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
    lines.append('| optimal LR | ' + ' | '.join(f"{a['opt'][x]:.3g}" + (' (edge)' if a['edge'][x] else '')
                                                  for x in xs) + ' |')
    lines.append('| transfer | ' + ' | '.join(f"{a['transfer'][x]:.{digits}f}" for x in xs) + ' |')
    lines += ['', f"Mean ± std over up to {a['n_seeds']} seed(s); bold = best LR of the column; 'k/n div' = k of n "
                  f"seeds diverged. Optimal LR: parabola vertex in log LR around the grid minimum (grid argmin at "
                  f"an edge, marked: the grid does not bracket the optimum). Transfer: loss at the smallest "
                  f"{name}'s best LR minus this column's best loss."]
    if math.isfinite(a['e']):
        lo, hi = a['e_ci']
        ci = a['ci_note'] or f"95% bootstrap over seeds [{lo:.3f}, {hi:.3f}]"
        note = edge_note(a, name)
        lines.append(f"Power-law fit log(lr*) = k + e·log({name}): **e = {a['e']:.3f}** ({ci}), k = {a['k']:.3f}"
                     + (f"; {note}: the grid does not bracket it there, e is biased" if note else '') + '.')
    else:
        lines.append(f"No power-law fit: fewer than two {name}s with a finite optimal LR.")
    return '\n'.join(lines) + '\n'


def write_csvs(stem, axis, table, a):
    with open(f"{stem}.csv", 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['learning_rate', axis, 'mean', 'mean_finite', 'std', 'n_seeds', 'n_diverged', 'best'])
        for x in a['xs']:
            for lr in sorted(table[x]):
                mean, finite_mean, std, n, n_div = a['stats'][x][lr]
                w.writerow([repr(lr), x, mean, finite_mean, std, n, n_div, a['best_lr'][x] == lr])
    with open(f"{stem}_optimal_lr.csv", 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow([axis, 'optimal_lr', 'grid_best_lr', 'optimal_lr_lo', 'optimal_lr_hi', 'transfer_score'])
        for x in a['xs']:
            w.writerow([x, a['opt'][x], a['best_lr'][x], *a['lr_ci'][x], a['transfer'][x]])


def plot_loss_vs_lr(path, title, axis, table, a, metric):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(a['xs'])))
    finite = [s[1] for x in a['xs'] for s in a['stats'][x].values() if math.isfinite(s[1])]
    lo = min(finite) if finite else 0.0
    top = min(max(finite), lo + 1.0) if finite else 1.0  # a 1-nat window: near-divergent LRs would squash the rest
    for x, color in zip(a['xs'], colors):
        lrs = sorted(table[x])
        st = [a['stats'][x][lr] for lr in lrs]
        good = [i for i, s in enumerate(st) if math.isfinite(s[1])]  # at least one seed did not diverge
        lx = np.array([lrs[i] for i in good])
        mean = np.array([st[i][1] for i in good])
        std = np.array([st[i][2] for i in good])
        ax.plot(lx, mean, 'o-', color=color, label=f"{AXES[axis]} {x}")
        if a['n_seeds'] > 1:
            ax.fill_between(lx, mean - std, mean + std, color=color, alpha=0.2)
        div = [lrs[i] for i, s in enumerate(st) if not math.isfinite(s[1])]
        ax.plot(div, [top] * len(div), 'x', color=color, ms=8)
        if a['best_lr'][x] is not None:
            ax.plot([a['best_lr'][x]], [a['stats'][x][a['best_lr'][x]][0]], '*', color=color, ms=14, mec='k')
    pad = 0.05 * (top - lo) or 0.05
    ax.set_ylim(lo - pad, top + pad)  # curves leave through the top; diverged LRs sit on the top edge
    ax.set_xscale('log')
    ax.set_xlabel('base learning rate (log scale)')
    ax.set_ylabel(f"{metric} (nats/token)")
    ax.set_title(f"{title}\nmean ± std over {a['n_seeds']} seed(s); ★ best, × diverged (y axis: 1 nat above the "
                 f"best)", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which='both')
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_optimal_lr(path, title, axis, a):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    xs = np.array([x for x in a['xs'] if math.isfinite(a['opt'][x])], float)
    ys = np.array([a['opt'][x] for x in xs])
    err = np.array([[max(0, y - a['lr_ci'][x][0]), max(0, a['lr_ci'][x][1] - y)] for x, y in zip(xs, ys)]).T
    err = np.nan_to_num(err) if len(xs) else None
    ax.errorbar(xs, ys, yerr=err if a['n_seeds'] > 1 else None, fmt='o', color='C0', capsize=3,
                label='optimal LR' + (' (95% bootstrap over seeds)' if a['n_seeds'] > 1 else ' (one seed)'))
    if math.isfinite(a['e']):
        grid = np.geomspace(xs.min(), xs.max(), 50)
        ax.plot(grid, np.exp(a['k']) * grid ** a['e'], '-', color='C1', label=fit_legend(a, axis))
        ax.axhline(ys[0], color='gray', ls=':', lw=1, label='exponent 0 (perfect transfer)')
    ax.set_xscale('log')
    ax.set_yscale('log')
    ax.set_xticks(a['xs'], [str(x) for x in a['xs']])
    ax.minorticks_off()
    lo, hi = a['lr_range']  # the swept range: a slope is judged against the grid, not against a zoomed axis
    ax.set_ylim(min(lo, ys.min(initial=lo)) / 1.5, max(hi, ys.max(initial=hi)) * 1.5)
    ax.set_xlabel(f"{AXES[axis]} ({axis}, log scale)")
    ax.set_ylabel('optimal base learning rate (log scale)')
    ax.set_title(title.replace(', LR /', ', optimal LR vs'), fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which='both')
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_table(out, tag, title, axis, table, metric, n_boot=1000, plots=True, cmd=''):
    """One table's files in out: <tag>.md, <tag>.csv, <tag>_optimal_lr.csv and (plots) the two PNGs. Returns
    (analysis, markdown)."""
    a = analyse(table, n_boot)
    md = markdown(title, axis, table, a)
    (Path(out) / f"{tag}.md").write_text((f"<!-- made by: {cmd} -->\n" if cmd else '') + md)
    write_csvs(str(Path(out) / tag), axis, table, a)
    if plots:
        plot_loss_vs_lr(Path(out) / f"{tag}_loss_vs_lr.png", title, axis, table, a, metric)
        plot_optimal_lr(Path(out) / f"{tag}_optimal_lr.png", title, axis, a)
    return a, md


def main(argv):
    ap = argparse.ArgumentParser(description="LR / width tables, power-law fits and plots from a sweep folder.")
    ap.add_argument('run_dir')
    ap.add_argument('--metric', default='best_val_loss', choices=METRICS)
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
    out = Path(args.out or os.path.join(args.run_dir, 'tables'))
    out.mkdir(parents=True, exist_ok=True)
    cmd = ' '.join(['python scripts/tables.py', *argv])
    doc, fits = [f"<!-- made by: {cmd} -->", f"# LR transfer: {args.run_dir} ({len(runs)} runs, {args.metric})", ''], []
    for tag, title, axis, table in build_tables(runs, args.metric):
        a, md = write_table(out, tag, title, axis, table, args.metric, args.bootstrap, not args.no_plots, cmd)
        doc.append(md)
        fits.append([tag, axis, len(a['xs']), a['e'], *a['e_ci'], a['k'], len(a['edges'])])
    with open(out / 'fits.csv', 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['tag', 'axis', 'n_points', 'exponent', 'exponent_lo', 'exponent_hi', 'intercept', 'n_edge'])
        w.writerows(fits)
    (out / 'tables.md').write_text('\n'.join(doc))
    print('\n'.join(doc))
    print(f"wrote {len(fits)} table(s) to {out}")
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
