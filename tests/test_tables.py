"""scripts/tables.py and scripts/steps_to_adam.py on run folders written by the test (config.json, summary.json,
metrics.jsonl): the power-law exponent of a synthetic optimum is recovered, the transfer score and steps-to-Adam
equal hand-computed values, diverged runs are counted and never chosen.

    pytest tests/test_tables.py
"""

import csv
import json
import math

import numpy as np
import pytest
from conftest import load_script


T = load_script('tables')
S = load_script('steps_to_adam')


def write_run(root, name, summary, metrics=None, **config):
    """A run folder as train.py leaves it (only the fields the scripts read)."""
    d = root / name
    d.mkdir(parents=True)
    cfg = dict(parameterization='mup', optimizer='adamw', n_embd=64, n_layer=2, learning_rate=1e-3, seed=1,
               run_name=name, out_dir=str(root), max_iters=20)
    cfg.update(config)
    (d / 'config.json').write_text(json.dumps(cfg))
    (d / 'summary.json').write_text(json.dumps(dict(dict(diverged=False), **summary)))
    if metrics is not None:
        (d / 'metrics.jsonl').write_text(''.join(json.dumps(r) + '\n' for r in metrics))
    return d


def synthetic_sweep(root, e_true, widths=(64, 128, 256, 512, 1024), seeds=(1, 2, 3), rng_seed=0):
    """loss = (log lr - log lr*(w))^2 + 2 + a per-seed offset + per-run noise, lr*(w) = 1e-2 (w / 64)^e_true;
    the two largest LRs diverge at every width."""
    rng = np.random.default_rng(rng_seed)
    lrs = np.geomspace(1e-4, 1e-1, 13)  # 4 per decade, 1e-4 .. 1e-1
    offset = {s: rng.normal(0, 0.02) for s in seeds}
    for w in widths:
        opt = 1e-2 * (w / 64) ** e_true
        for lr in lrs:
            for s in seeds:
                loss = (math.log(lr) - math.log(opt)) ** 2 + 2.0 + offset[s] + rng.normal(0, 0.02)
                diverged = bool(lr > 0.04)
                write_run(root, f'w{w}_lr{lr:g}_s{s}', dict(best_val_loss=None if diverged else loss,
                                                            diverged=diverged), n_embd=w, learning_rate=float(lr),
                          seed=s)


# -----------------------------------------------------------------------------
# pure functions

def test_optimal_lr_is_the_parabola_vertex_or_the_grid_argmin():
    lrs = [1e-3, 1e-2, 1e-1]
    vertex = math.log(2e-2)  # an exact parabola in log LR: the 3-point fit returns its vertex
    means = [(math.log(lr) - vertex) ** 2 for lr in lrs]
    assert T.optimal_lr(lrs, means) == pytest.approx(2e-2, rel=1e-9)
    assert T.optimal_lr(lrs, [1.0, 2.0, 3.0]) == 1e-3  # minimum at the edge: the grid point
    assert T.optimal_lr(lrs, [3.0, 1.0, math.inf]) == 1e-2  # a diverged neighbour: no parabola
    assert T.optimal_lr(lrs, [math.nan, 1.0, 2.0]) == 1e-2  # a missing LR is skipped (edge now)
    assert math.isnan(T.optimal_lr(lrs, [math.inf] * 3))


def test_seed_stats_count_divergence():
    assert T.seed_stats([1.0, 3.0]) == (2.0, 2.0, pytest.approx(math.sqrt(2)), 2, 0)
    mean, finite_mean, std, n, n_div = T.seed_stats([1.0, math.inf, 3.0])
    assert mean == math.inf and finite_mean == 2.0 and (n, n_div) == (3, 1)
    assert T.cell_text(T.seed_stats([1.0, math.inf, 3.0]), 3) == '2.000 ± 1.414 (1/3 div)'
    assert T.cell_text(T.seed_stats([math.inf]), 3) == 'div'


def test_power_law_fit_is_exact_on_a_power_law():
    k, e = T.fit_power_law([64, 128, 256], [0.1 * (w / 64) ** -0.75 for w in [64, 128, 256]])
    assert e == pytest.approx(-0.75) and math.exp(k) * 64 ** e == pytest.approx(0.1)


def test_transfer_score_by_hand():
    means = {64: {1e-3: 3.0, 1e-2: 2.5, 1e-1: 2.8},  # best LR at the smallest width: 1e-2
             128: {1e-3: 2.9, 1e-2: 2.6, 1e-1: 2.4},  # 2.6 - 2.4
             256: {1e-3: 2.7, 1e-2: math.inf, 1e-1: 2.3},  # that LR diverged here
             512: {1e-3: 2.2, 1e-1: 2.1}}  # not run here
    s = T.transfer_scores(means)
    assert s[64] == 0.0 and s[128] == pytest.approx(0.2) and s[256] == math.inf and math.isnan(s[512])


@pytest.mark.parametrize('e_true', [-1.0, 0.0])
def test_bootstrap_fit_recovers_the_exponent(tmp_path, e_true):
    synthetic_sweep(tmp_path, e_true)
    [(tag, _, axis, table)] = T.build_tables(T.load_runs(tmp_path), 'best_val_loss')
    assert (tag, axis) == ('mup_adamw_width', 'n_embd')
    a = T.analyse(table, n_boot=300)
    # measured: |e - e_true| < 0.01 (noise 0.02 on a unit-curvature parabola, 5 widths); 20 noise draws: all < 0.01
    assert a['e'] == pytest.approx(e_true, abs=0.03)
    lo, hi = a['e_ci']
    assert lo <= e_true <= hi and hi - lo < 0.1
    for w in a['xs']:  # per-width optimum within a quarter of a grid step (10^0.25) of the truth
        assert abs(math.log10(a['opt'][w] / (1e-2 * (w / 64) ** e_true))) < 0.0625
        assert a['best_lr'][w] < 0.04  # diverged LRs are never the best


# -----------------------------------------------------------------------------
# the script: files, bold best cell, divergence, groups

def test_tables_script_writes_tables_fits_and_plots(tmp_path):
    runs = tmp_path / 'runs'
    losses = {(64, 1e-3): [3.0, 3.2], (64, 1e-2): [2.4, 2.6], (64, 1e-1): [2.8, None],
              (128, 1e-3): [2.9, 2.9], (128, 1e-2): [2.6, 2.6], (128, 1e-1): [2.4, 2.4]}
    for (w, lr), pair in losses.items():
        for s, loss in zip((1, 2), pair):
            write_run(runs, f'w{w}_lr{lr:g}_s{s}', dict(best_val_loss=loss, diverged=loss is None), n_embd=w,
                      learning_rate=lr, seed=s)
    write_run(runs, 'sgd_run', dict(best_val_loss=3.5), optimizer='sgd')  # another group: its own table
    (runs / 'logs').mkdir()  # not a run: ignored
    out = tmp_path / 'tables'
    assert T.main([str(runs), '--out', str(out), '--bootstrap', '50']) == 0
    md = (out / 'mup_adamw_width.md').read_text()
    assert '| 0.01 | **2.500 ± 0.141** | 2.600 ± 0.000 |' in md  # best LR of width 64 in bold; mean ± std of seeds
    assert '| 0.1 | 2.800 (1/2 div) | **2.400 ± 0.000** |' in md  # a diverged seed: shown, counted, never best
    assert '| transfer | 0.000 | 0.200 |' in md  # 2.6 at LR 1e-2 (best at width 64) - 2.4
    rows = list(csv.DictReader(open(out / 'mup_adamw_width.csv')))
    div = [r for r in rows if r['n_embd'] == '64' and float(r['learning_rate']) == 0.1][0]
    assert div['mean'] == 'inf' and div['n_diverged'] == '1' and div['best'] == 'False'
    opt = {r['n_embd']: r for r in csv.DictReader(open(out / 'mup_adamw_width_optimal_lr.csv'))}
    assert float(opt['64']['optimal_lr']) == 0.01  # its neighbour 1e-1 diverged (mean inf): no parabola, grid argmin
    assert float(opt['128']['optimal_lr']) == 0.1  # best at the grid's edge: the grid point
    assert float(opt['128']['transfer_score']) == pytest.approx(0.2)
    assert '| optimal LR | 0.01 | 0.1 (edge) |' in md
    fits = list(csv.DictReader(open(out / 'fits.csv')))
    assert [f['tag'] for f in fits] == ['mup_adamw_width', 'mup_sgd_width']
    assert float(fits[0]['exponent']) == pytest.approx(math.log2(10))  # lr* x10 from width 64 to 128
    assert fits[1]['exponent'] == 'nan'  # one width: nothing to fit
    for png in ('mup_adamw_width_loss_vs_lr.png', 'mup_adamw_width_optimal_lr.png'):
        assert (out / png).stat().st_size > 10_000
    assert 'made by: python scripts/tables.py' in (out / 'tables.md').read_text()


def small_sweep(root, losses, seeds):
    """Runs with loss losses[(width, lr)] + 0.01 * seed index, so seeds differ but never move the optimum."""
    for (w, lr), loss in losses.items():
        for i, s in enumerate(seeds):
            write_run(root, f'w{w}_lr{lr:g}_s{s}', dict(best_val_loss=loss + 0.01 * i), n_embd=w, learning_rate=lr,
                      seed=s)
    [(_, _, axis, table)] = T.build_tables(T.load_runs(root), 'best_val_loss')
    a = T.analyse(table, n_boot=50)
    return T.markdown('t', axis, table, a), T.fit_legend(a, axis), a


def test_one_seed_has_no_interval_in_the_fit_line_legend_or_fits(tmp_path):
    # interior optima at both widths (1e-2 then 1e-1 region): a real fit, but one seed gives nothing to resample
    losses = {(64, 1e-3): 3.0, (64, 1e-2): 2.0, (64, 1e-1): 2.5, (128, 1e-3): 3.0, (128, 1e-2): 2.2,
              (128, 1e-1): 2.1, (128, 1.0): 2.9}
    md, legend, a = small_sweep(tmp_path, losses, seeds=[1])
    fit = [line for line in md.splitlines() if line.startswith('Power-law fit')][0]
    assert 'no interval (one seed)' in fit and '[' not in fit, fit
    assert 'no interval (one seed)' in legend and 'CI' not in legend, legend
    assert all(math.isnan(v) for v in a['e_ci'])  # fits.csv and reproduce.py's report then say n/a


def test_edge_optima_are_flagged_not_given_a_zero_interval(tmp_path):
    # the smallest LR is best at every width: e = 0 says nothing (the optimum is below the grid), and every
    # bootstrap replicate picks the same edge points, which used to print "e = 0.000 ([0.000, 0.000])"
    losses = {(w, lr): 2.0 + lr for w in (64, 128, 256) for lr in (1e-3, 1e-2, 1e-1)}
    md, legend, a = small_sweep(tmp_path, losses, seeds=[1, 2])
    fit = [line for line in md.splitlines() if line.startswith('Power-law fit')][0]
    assert 'every optimum at the grid edge' in fit and '[0.000, 0.000]' not in fit, fit
    assert 'grid edge' in legend and 'CI' not in legend, legend
    assert all(math.isnan(v) for v in a['e_ci'])
    # one edge among interior optima: the interval stays, the edge width is named
    losses = {(64, 1e-3): 3.0, (64, 1e-2): 2.0, (64, 1e-1): 2.5, (128, 1e-3): 3.0, (128, 1e-2): 2.6,
              (128, 1e-1): 2.1}
    md, legend, a = small_sweep(tmp_path / 'b', losses, seeds=[1, 2])
    fit = [line for line in md.splitlines() if line.startswith('Power-law fit')][0]
    assert 'optimum at the grid edge at width 128' in fit and '95% bootstrap over seeds [' in fit, fit
    assert '95% CI [' in legend and 'edge' in legend


# -----------------------------------------------------------------------------
# steps-to-Adam

def curve_rows(vals, ms, evals=(0, 10, 20), log_every=5):
    """Eval rows at `evals`, train rows every log_every steps each with the time of one step."""
    rows = [dict(iter=i, kind='eval', train_loss=v, val_loss=v, lr_mult=1.0) for i, v in zip(evals, vals)]
    rows += [dict(iter=i, kind='train', loss=0.0, lr_mult=1.0, ms=ms) for i in range(log_every, evals[-1] + 1,
                                                                                    log_every)]
    return sorted(rows, key=lambda r: (r['iter'], r['kind'] == 'eval'))


def test_steps_to_reach_and_time_by_hand():
    iters, vals = S.eval_curve(curve_rows([4.0, 1.5, 1.0], 200))
    assert S.steps_to_reach(iters, vals, 2.0) == pytest.approx(8.0)  # 0 + (4 - 2) / (4 - 1.5) * 10
    assert S.steps_to_reach(iters, vals, 0.5) is None
    t_iters, t_secs = S.cumulative_time(curve_rows([4.0, 1.5, 1.0], 200))
    assert list(t_secs) == pytest.approx([0, 1.0, 2.0, 3.0, 4.0])  # 5 steps x 0.2 s per logged row
    assert S.time_at(8.0, t_iters, t_secs) == pytest.approx(1.6)


def test_steps_to_adam_table_by_hand(tmp_path):
    # adamw: final val loss 2.0 after 20 steps of 0.1 s -> the target, 20 steps, 2.0 s
    write_run(tmp_path, 'adamw_lr1e-3', dict(final_val_loss=2.0), curve_rows([4.0, 3.0, 2.0], 100))
    write_run(tmp_path, 'adamw_lr1e-2', dict(final_val_loss=2.2), curve_rows([4.0, 3.0, 2.2], 100),
              learning_rate=1e-2)
    # sgd at its best LR (final 1.0 beats 1.2) crosses 2.0 at step 8 -> 0.4; 8 steps x 0.2 s = 1.6 s -> 0.8
    write_run(tmp_path, 'sgd_lr1e-2', dict(final_val_loss=1.0), curve_rows([4.0, 1.5, 1.0], 200),
              optimizer='sgd', learning_rate=1e-2)
    write_run(tmp_path, 'sgd_lr1e-1', dict(final_val_loss=1.2), curve_rows([4.0, 1.1, 1.2], 200),
              optimizer='sgd', learning_rate=1e-1)
    write_run(tmp_path, 'adam_lr1e-3', dict(final_val_loss=2.5), curve_rows([4.0, 3.0, 2.5], 100),
              optimizer='adam')  # never reaches 2.0 in its 20 steps
    write_run(tmp_path, 'lamb_lr1', dict(final_val_loss=None, diverged=True), curve_rows([4.0], 100, evals=(0,)),
              optimizer='lamb', learning_rate=1.0)
    out = tmp_path / 'sta.md'
    assert S.main([str(tmp_path), '--out', str(out)]) == 0
    lines = out.read_text().splitlines()
    table = [line for line in lines if line.startswith('| ') and not line.startswith('| optimizer')]
    assert table == ['| adamw | 0.001 | 2.0000 | 20 | 1.000 | 1.000 |',
                     '| sgd | 0.01 | 1.0000 | 20 | 0.400 | 0.800 |',
                     '| adam | 0.001 | 2.5000 | 20 | > 1.00 | > 1.00 |',
                     '| lamb | – | div | – | div | div |']


def test_overwrite_and_init_from_do_not_split_tables(tmp_path):
    # how a run was started (overwrite=True after a bad first attempt, resumed or not) is not a setting of the run
    for w, how in ((64, {}), (128, dict(overwrite=True, init_from='auto'))):
        for lr in (1e-3, 1e-2):
            write_run(tmp_path, f'w{w}_lr{lr:g}', dict(best_val_loss=2.0 + lr), n_embd=w, learning_rate=lr, **how)
    [(tag, _, _, table)] = T.build_tables(T.load_runs(tmp_path), 'best_val_loss')
    assert tag == 'mup_adamw_width' and sorted(table) == [64, 128]


# -----------------------------------------------------------------------------
# any axis, the optimal weight decay, LR x weight-decay tables: synthetic sweeps with power-law optima

def power_law_sweep(root, xs, config_of, optimum, hp='learning_rate', grid=np.geomspace(1e-5, 1.0, 21),
                    seeds=(1, 2), noise=0.0, rng_seed=0):
    """For every x, value h of hp on the grid and seed: loss = (log h - log optimum(x))^2 + 2 + a per-seed offset
    (+ per-run noise), in a run whose config is config_of(x) with hp = h. Noise-free, the 3-point parabola in log h
    is the loss itself: each column's optimum is optimum(x) exactly. h = 0 (no weight decay) counts as one nat below
    the grid's smallest positive value in log h."""
    rng = np.random.default_rng(rng_seed)
    offset = {s: 0.01 * i for i, s in enumerate(seeds)}
    for i, x in enumerate(xs):
        for j, h in enumerate(grid):
            log_h = math.log(h) if h > 0 else math.log(min(g for g in grid if g > 0)) - 1.0
            for s in seeds:
                loss = (log_h - math.log(optimum(x))) ** 2 + 2.0 + offset[s] + rng.normal(0, noise)
                write_run(root, f'x{i}_h{j}_s{s}', dict(best_val_loss=loss), seed=s, **{hp: float(h)}, **config_of(x))


BATCHES = (8, 16, 32, 64)


@pytest.mark.parametrize('budget', [False, True])
def test_batch_size_axis(tmp_path, budget):
    """Tokens per iteration (batch_size x block_size x gradient_accumulation_steps) is found as the axis;
    lr* = 1e-3 (B / 256)^0.5 (the square-root rule) comes back exactly. At a fixed token budget max_iters moves
    with the batch: it is part of the axis (named in the title), not a group of its own."""
    def config_of(b):
        return dict(batch_size=b, block_size=32, gradient_accumulation_steps=1,
                    max_iters=81920 // (b * 32) if budget else 100)
    power_law_sweep(tmp_path, BATCHES, config_of, lambda b: 1e-3 * (b * 32 / 256) ** 0.5)
    [(tag, title, axis, table)] = T.build_tables(T.load_runs(tmp_path), 'best_val_loss')
    assert (tag, axis, sorted(table)) == ('mup_adamw_tokens_per_iter', 'tokens_per_iter', [256, 512, 1024, 2048])
    assert ('max_iters with it' in title) == budget, title
    a = T.analyse(table, n_boot=20)
    assert a['e'] == pytest.approx(0.5, abs=1e-9) and math.exp(a['k']) * 256 ** 0.5 == pytest.approx(1e-3)


def test_training_tokens_axis(tmp_path):
    """train_tokens = max_iters x tokens per iteration when max_iters varies; lr* ~ T^-0.32 comes back exactly."""
    power_law_sweep(tmp_path, (250, 500, 1000, 2000), lambda n: dict(max_iters=n, batch_size=8, block_size=32),
                    lambda n: 1e-2 * (n * 256 / 64000) ** -0.32)
    [(tag, _, axis, table)] = T.build_tables(T.load_runs(tmp_path), 'best_val_loss')
    assert (tag, axis, sorted(table)) == ('mup_adamw_train_tokens', 'train_tokens', [64000, 128000, 256000, 512000])
    assert T.analyse(table, n_boot=20)['e'] == pytest.approx(-0.32, abs=1e-9)


def test_weight_decay_axis_and_any_config_key(tmp_path):
    """The optimal LR against the weight decay (lr* ~ wd^-1/2; the column wd = 0 has an optimum but no logarithm:
    left out of the fit), and against any config key named by --axis."""
    wds = (0.0, 1e-3, 1e-2, 1e-1, 1.0)
    power_law_sweep(tmp_path, wds, lambda wd: dict(weight_decay=wd), lambda wd: 1e-3 * max(wd, 1e-3) ** -0.5)
    [(tag, _, axis, table)] = T.build_tables(T.load_runs(tmp_path), 'best_val_loss')
    assert (tag, axis, sorted(table)) == ('mup_adamw_weight_decay', 'weight_decay', list(wds))
    a = T.analyse(table, n_boot=20)
    assert a['e'] == pytest.approx(-0.5, abs=1e-9) and a['opt'][0.0] == pytest.approx(1e-3 * 1e-3 ** -0.5)
    power_law_sweep(tmp_path / 'warmup', (10, 100, 1000), lambda n: dict(warmup_iters=n), lambda n: 1e-3 * n ** 0.25)
    runs = T.load_runs(tmp_path / 'warmup')
    assert [t[0] for t in T.build_tables(runs, 'best_val_loss')] == \
        [f'mup_adamw_warmup_iters-{n}_width' for n in (10, 100, 1000)]  # not an automatic axis: a group each
    [(tag, _, axis, table)] = T.build_tables(runs, 'best_val_loss', axis='warmup_iters')
    assert (tag, axis) == ('mup_adamw_warmup_iters', 'warmup_iters')
    assert T.analyse(table, n_boot=20)['e'] == pytest.approx(0.25, abs=1e-9)


def test_unknown_axis_is_one_error_line(tmp_path, capsys):
    power_law_sweep(tmp_path / 'runs', (64, 128), lambda w: dict(n_embd=w), lambda w: 1e-3)
    assert T.main([str(tmp_path / 'runs'), '--axis', 'n_embed', '--no-plots']) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: --axis=n_embed: no run has it; these vary between the runs: n_embd"], err


def test_optimal_weight_decay_against_width(tmp_path):
    """--optimize=weight_decay: rows are weight decays, wd* = 0.1 (w / 64)^1 per width (noise 0.02 on a
    unit-curvature parabola, 3 seeds): the exponent is recovered with a bootstrap interval around it, and the
    script writes the wd tables, optimum, fit and plots."""
    grid = np.concatenate([[0.0], np.geomspace(1e-3, 1e2, 21)])  # 4 per decade, and no decay at all
    power_law_sweep(tmp_path / 'runs', (64, 128, 256, 512), lambda w: dict(n_embd=w), lambda w: 0.1 * w / 64,
                    hp='weight_decay', grid=grid, seeds=(1, 2, 3), noise=0.02)
    runs = T.load_runs(tmp_path / 'runs')
    [(tag, title, axis, table)] = T.build_tables(runs, 'best_val_loss', optimize=('weight_decay',))
    assert (tag, axis) == ('mup_adamw_width_wd', 'n_embd') and 'WD / width' in title
    a = T.analyse(table, n_boot=200)
    assert a['e'] == pytest.approx(1.0, abs=0.03)  # measured 0.995 (5 noise draws: 0.995-1.011)
    lo, hi = a['e_ci']
    assert lo <= 1.0 <= hi and hi - lo < 0.1
    out = tmp_path / 'tables'
    assert T.main([str(tmp_path / 'runs'), '--optimize', 'weight_decay', '--out', str(out), '--bootstrap', '50']) == 0
    md = (out / 'mup_adamw_width_wd.md').read_text()
    assert '| WD \\ width | 64 | 128 | 256 | 512 |' in md and '| optimal WD |' in md and 'log(wd*)' in md
    opt = {r['n_embd']: float(r['optimal_wd']) for r in csv.DictReader(open(out / 'mup_adamw_width_wd_optimal_wd.csv'))}
    for w in (64, 128, 256, 512):  # within a quarter of a grid step of the truth
        assert abs(math.log10(opt[str(w)] / (0.1 * w / 64))) < 0.0625
    [fit] = list(csv.DictReader(open(out / 'fits.csv')))
    assert fit['tag'] == 'mup_adamw_width_wd' and fit['optimize'] == 'weight_decay'
    for png in ('mup_adamw_width_wd_loss_vs_wd.png', 'mup_adamw_width_wd_optimal_wd.png'):
        assert (out / png).stat().st_size > 10_000


def test_learning_rate_x_weight_decay_tables(tmp_path):
    """LR x wd grids per width with loss (log lr - log lr*)^2 + (log wd - log wd*)^2 + 2, lr* = 1e-2 (w/64)^-1,
    wd* = 1e-2 (w/64)^1: each width's optimum comes back exactly (a separable parabola in log LR and log wd), so do
    both exponents; the script also tables the optimal LR per weight decay and along width per weight decay."""
    lrs, wds = np.geomspace(1e-4, 1.0, 9), np.geomspace(1e-4, 1.0, 9)  # half decades
    for w in (64, 128, 256):
        lr_opt, wd_opt = 1e-2 * (w / 64) ** -1, 1e-2 * (w / 64)
        for i, lr in enumerate(lrs):
            for j, wd in enumerate(wds):
                for s in (1, 2):
                    loss = (math.log(lr / lr_opt)) ** 2 + (math.log(wd / wd_opt)) ** 2 + 2.0 + 0.01 * s
                    write_run(tmp_path / 'runs', f'w{w}_{i}_{j}_s{s}', dict(best_val_loss=loss), n_embd=w,
                              learning_rate=float(lr), weight_decay=float(wd), seed=s)
    runs = T.load_runs(tmp_path / 'runs')
    [(tag, title, axis, grid)] = T.build_grids(runs, 'best_val_loss')
    assert (tag, axis) == ('mup_adamw_width_lr_wd', 'n_embd') and 'LR x WD / width' in title
    a = T.analyse_2d(grid)
    for w in (64, 128, 256):
        assert a['opt'][w] == pytest.approx((1e-2 * 64 / w, 1e-2 * w / 64), rel=1e-9)
        assert not a['edge'][w]
    assert a['fit']['learning_rate'][1] == pytest.approx(-1.0, abs=1e-9)
    assert a['fit']['weight_decay'][1] == pytest.approx(1.0, abs=1e-9)
    out = tmp_path / 'tables'
    assert T.main([str(tmp_path / 'runs'), '--out', str(out), '--bootstrap', '20', '--no-plots']) == 0
    md = (out / 'mup_adamw_width_lr_wd.md').read_text()
    assert '| LR \\ WD | 0.0001 | 0.0003162 |' in md
    assert len([line for line in md.splitlines() if line.startswith('|') and '**' in line]) == 3  # one per width
    # best cell: ln(0.003162 / 0.005)^2 + ln(0.03162 / 0.02)^2 + 2.015
    assert '| 128 | 0.005 | 0.02 | (0.003162, 0.03162): 2.435 |' in md
    best = [r for r in csv.DictReader(open(out / 'mup_adamw_width_lr_wd.csv')) if r['best'] == 'True']
    assert [(r['n_embd'], float(r['learning_rate']), float(r['weight_decay'])) for r in best] == \
        [('64', 1e-2, 1e-2), ('128', lrs[3], wds[5]), ('256', lrs[3], wds[5])]
    fits = {(f['tag'], f['optimize']): f for f in csv.DictReader(open(out / 'fits.csv'))}
    assert float(fits['mup_adamw_width_lr_wd', 'weight_decay']['exponent']) == pytest.approx(1.0)
    # the 1-D tables: LR / width at each weight decay, and LR / weight decay at each width
    assert ('mup_adamw_weight_decay-0.01_width', 'learning_rate') in fits
    assert ('mup_adamw_weight_decay_w128', 'learning_rate') in fits
    assert len(fits) == 9 + 3 + 2  # 9 weight decays, 3 widths, the two 2-D fits
