"""scripts/reproduce.py, scripts/claims.py, scripts/verdicts.py: the verdict rules on synthetic numbers, a claim's
analysis on synthetic run folders (tables -> fits -> verdict), the smoke subset, the laptop sweep files against
what each claim needs, and every claim end to end at smoke scale (one of them killed and resumed).

    pytest tests/test_reproduce.py
"""

import json
import math
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import ROOT, load_script, run_script


V = load_script('verdicts')
C = load_script('claims')
R = load_script('reproduce')
S = load_script('sweep')
NAN = math.nan


def fit(e, lo, hi, n=4, n_edge=0, note=''):
    return dict(e=e, lo=lo, hi=hi, n=n, n_edge=n_edge, note=note)


# -----------------------------------------------------------------------------
# verdict rules on synthetic numbers

def test_a_fit_that_cannot_support_a_verdict_is_inconclusive():
    assert V.fit_problem(fit(-0.1, -0.2, 0.0)) == ''
    assert V.fit_problem(None) == 'no runs of this setting'
    assert 'no fit' in V.fit_problem(fit(NAN, NAN, NAN))
    assert V.fit_problem(fit(-0.1, NAN, NAN, note='no interval (one seed)')) == 'no interval (one seed)'
    assert V.fit_problem(fit(-0.1, -0.2, 0.0, n=4, n_edge=1)) == ''  # one of four: noted, not disqualifying
    assert V.fit_problem(fit(-0.1, -0.2, 0.0, n=4, n_edge=2)) == '2/4 optima on the grid edge'
    assert 'wider than 1' in V.fit_problem(fit(-0.4, -1.2, 0.1))
    for bad in (fit(-0.1, NAN, NAN), fit(-0.1, -0.2, 0.0, n_edge=3), fit(-0.4, -1.2, 0.1)):
        assert V.expect(bad, 'flat')[0] == V.INCONCLUSIVE
        assert V.transfer(bad, fit(-1.0, -1.2, -0.8))[0] == V.INCONCLUSIVE


@pytest.mark.parametrize('mup, sp, label', [
    (fit(-0.05, -0.20, 0.10), fit(-0.97, -1.2, -0.8), V.REPRODUCED),     # interval contains 0
    (fit(-0.12, -0.14, -0.06), fit(-0.97, -1.2, -0.8), V.REPRODUCED),    # excludes 0 but |e| <= 0.15
    (fit(-0.40, -0.60, -0.25), fit(-0.97, -1.2, -0.8), V.NOT_REPRODUCED),  # muP drifts
    (fit(-0.05, -0.20, 0.10), fit(-0.30, -0.60, 0.05), V.NOT_REPRODUCED),  # SP does not clearly drift
    (fit(-0.05, -0.20, 0.10), fit(-0.97, -1.2, -0.8, n_edge=2), V.INCONCLUSIVE),  # SP optima on the edge
])
def test_width_transfer_rule(mup, sp, label):
    assert V.transfer(mup, sp)[0] == label


def test_expect_and_combine():
    assert V.expect(fit(0.1, -0.1, 0.3), 'flat')[0] == V.REPRODUCED
    assert V.expect(fit(0.3, 0.2, 0.4), 'flat')[0] == V.NOT_REPRODUCED
    assert V.expect(fit(-0.6, -0.8, -0.4), 'negative')[0] == V.REPRODUCED
    assert V.expect(fit(-0.6, -0.8, 0.01), 'negative')[0] == V.NOT_REPRODUCED
    R_, N_, I_ = V.REPRODUCED, V.NOT_REPRODUCED, V.INCONCLUSIVE
    assert [V.combine(x) for x in ([R_, R_], [R_, I_], [I_, N_, R_], [], [None, R_])] == [R_, I_, N_, I_, R_]


def test_epsilon_rule():
    const = {32: 0.002, 256: 0.05}  # the constant epsilon costs more at the larger width
    assert V.epsilon(const, {32: 0.01, 256: 0.012})[0] == V.REPRODUCED
    assert V.epsilon(const, {32: 0.0, 256: 0.04})[0] == V.NOT_REPRODUCED  # per-layer cost grows as much
    assert V.epsilon({32: 0.0, 256: 0.005}, {32: 0.0, 256: 0.0})[0] == V.INCONCLUSIVE  # epsilon too small to matter
    assert V.epsilon({32: 0.0}, {32: 0.0})[0] == V.INCONCLUSIVE
    assert V.atan2(fit(0.05, -0.1, 0.2), 0.01)[0] == V.REPRODUCED
    assert V.atan2(fit(0.05, -0.1, 0.2), 0.05)[0] == V.NOT_REPRODUCED
    assert V.atan2(fit(0.05, -0.1, 0.2), NAN)[0] == V.INCONCLUSIVE


def test_alignment_rule():
    assert V.alignment({'MLP in': 0.5, 'readout': 0.51}, {'MLP in': 0.7, 'readout': 0.52})[0] == V.REPRODUCED
    assert V.alignment({'MLP in': 0.8}, {'MLP in': 0.9})[0] == V.NOT_REPRODUCED  # does not start at 1/2
    assert V.alignment({'MLP in': 0.5}, {'MLP in': 0.52})[0] == V.NOT_REPRODUCED  # never rises
    assert V.alignment({}, {})[0] == V.INCONCLUSIVE


def test_steps_to_adam_rule():
    assert V.steps_to_adam([0.45, 0.52], [True, True])[0] == V.REPRODUCED
    assert V.steps_to_adam([0.2, 0.3], [True, True])[0] == V.REPRODUCED  # faster than the paper is no failure
    assert V.steps_to_adam([0.70, 0.75], [True, True])[0] == V.INCONCLUSIVE
    assert V.steps_to_adam([0.2, 0.55], [True, True])[0] == V.INCONCLUSIVE  # seeds 0.35 apart
    assert V.steps_to_adam([0.85, 0.9], [True, True])[0] == V.NOT_REPRODUCED
    label, reason = V.steps_to_adam([0.5, 1.0], [True, False])
    assert label == V.NOT_REPRODUCED and '> 1.00' in reason
    assert V.steps_to_adam([], [])[0] == V.INCONCLUSIVE


def test_expect_exponent_rule():
    """A predicted exponent against the one it replaces (d = |target - null|): reproduced within d/2 with the
    interval inside (target - d, target + d); not reproduced d/2 or more away with the target outside the interval."""
    R_, N_, I_ = V.REPRODUCED, V.NOT_REPRODUCED, V.INCONCLUSIVE
    cases = [((0.45, 0.30, 0.60), 0.5, 0.0, R_),    # batch, no rule: the square-root rule's +0.5
             ((0.05, -0.10, 0.20), 0.5, 0.0, N_),   # the optimum does not move
             ((0.35, -0.05, 0.70), 0.5, 0.0, I_),   # near +0.5, but the interval reaches 0
             ((0.15, 0.05, 0.60), 0.5, 0.0, I_),    # the interval holds +0.5, e does not
             ((0.95, 0.80, 1.10), 0.5, 0.0, N_),    # twice the rule
             ((-0.30, -0.45, -0.20), -0.32, 0.0, R_),  # horizon, no rule: Bjorck et al.'s -0.32
             ((-0.05, -0.15, 0.05), -0.32, 0.0, N_),
             ((0.02, -0.10, 0.12), 0.0, 0.32, R_),  # horizon rule on: flat
             ((0.30, 0.20, 0.40), 0.0, 0.32, N_),   # the rule did nothing: the on column drifts by +0.32
             ((0.80, 0.50, 1.20), 1.0, 0.0, R_),    # coupled weight decay ~ width
             ((0.10, -0.30, 0.40), 0.0, 1.0, R_)]   # tau fixed: flat
    for (e, lo, hi), target, null, label in cases:
        assert V.expect_exponent(fit(e, lo, hi), target, null)[0] == label, (e, lo, hi, target, null)
    assert V.expect_exponent(fit(0.5, NAN, NAN, note='no interval (one seed)'), 0.5, 0.0)[0] == I_
    assert V.expect_exponent(fit(0.5, 0.3, 0.7, n=4, n_edge=2), 0.5, 0.0)[0] == I_
    assert '+0.50' in V.expect_exponent(fit(0.45, 0.30, 0.60), 0.5, 0.0)[1]


# -----------------------------------------------------------------------------
# a claim's analysis on synthetic run folders

def write_run(root, name, config, summary, metrics=None):
    d = root / name
    d.mkdir(parents=True)
    (d / 'config.json').write_text(json.dumps(config))
    (d / 'summary.json').write_text(json.dumps(dict(dict(diverged=False), **summary)))
    if metrics is not None:
        (d / 'metrics.jsonl').write_text(''.join(json.dumps(r) + '\n' for r in metrics))


def synthetic_width_column(root, parameterization, optimizer, e_true, lr0, rng):
    """loss = (log lr - log lr*(w))^2 / 4 + 2 + noise, lr*(w) = lr0 (w / 32)^e_true: half-decade grid around it."""
    lrs = lr0 * 10 ** (np.arange(-3, 4) / 2)
    for w in (32, 64, 128, 256):
        opt = lr0 * (w / 32) ** e_true
        for lr in lrs:
            for s in (1, 2):
                loss = (math.log(lr) - math.log(opt)) ** 2 / 4 + 2.0 + rng.normal(0, 0.003)
                cfg = dict(parameterization=parameterization, optimizer=optimizer, optimizer_family='', n_embd=w,
                           n_layer=2, learning_rate=float(lr), seed=s)
                write_run(root, f"{parameterization}_{optimizer}_w{w}_lr{lr:g}_s{s}", cfg, dict(best_val_loss=loss))


def test_gupta_width_analysis_recovers_the_exponents_and_the_verdict(tmp_path):
    rng = np.random.default_rng(0)
    synthetic_width_column(tmp_path / 'runs', 'mup_spectral', 'adamw', 0.0, 0.2, rng)  # flat: transfers
    synthetic_width_column(tmp_path / 'runs', 'nanogpt', 'adamw', -1.0, 1e-2, rng)     # SP: 1/width
    synthetic_width_column(tmp_path / 'runs', 'mup_spectral', 'adopt', -0.5, 0.3, rng)  # drifts: not reproduced
    synthetic_width_column(tmp_path / 'runs', 'nanogpt', 'adopt', -1.0, 1e-2, rng)
    (tmp_path / 'out').mkdir()
    ctx = C.Context(tmp_path / 'runs', tmp_path / 'out', n_boot=100, plots=False)
    res = C.analyse_gupta_width(C.tables.load_runs(tmp_path / 'runs'), ctx)
    fits = {c['tag']: c['fit'] for c in res['columns']}
    assert abs(fits['mup_spectral_adamw_width']['e']) < 0.05 and abs(fits['nanogpt_adamw_width']['e'] + 1) < 0.05
    assert abs(fits['mup_spectral_adopt_width']['e'] + 0.5) < 0.05
    labels = {p['name'].split(':')[0]: p['label'] for p in res['parts']}
    assert labels == {'AdamW': V.REPRODUCED, 'ADOPT': V.NOT_REPRODUCED, 'LAMB': V.INCONCLUSIVE,
                      'Sophia': V.INCONCLUSIVE}  # no LAMB or Sophia runs: nothing to judge
    assert V.combine([p['label'] for p in res['parts'] if p['counts']]) == V.NOT_REPRODUCED
    adamw = next(p for p in res['parts'] if p['name'].startswith('AdamW'))
    assert 'Table 5' in adamw['paper'] and 'e = -0.17' in adamw['paper']  # the paper's table, fitted by our code
    assert (tmp_path / 'out' / 'mup_spectral_adamw_width.md').is_file()


def bowl(h, opt):
    """A loss with its minimum at h = opt: (log h - log opt)^2 / 4 + 2."""
    return (math.log(h) - math.log(opt)) ** 2 / 4 + 2.0


LRS = [float(x) for x in 3e-3 * 10 ** (np.arange(-3, 4) / 4)]  # quarter-decade steps around 3e-3


def synthetic_rule_sweep(root, axis, xs, e_off, k, rng):
    """Runs along tokens per iteration (axis 'batch': batch_size, a fixed token budget) or training tokens ('horizon':
    max_iters), with the rule off and on. Without the rule lr*(x) = 3e-3 (x / x0)^e_off; the rule multiplies the LR by
    (x / x0)^k, so the on column's optimal base LR is 3e-3 (x / x0)^(e_off - k)."""
    key = 'base_batch_tokens' if axis == 'batch' else 'base_train_tokens'
    for rule in (None, 'on'):
        for x in xs:
            if axis == 'batch':
                cfg = dict(batch_size=x // 64, block_size=64, max_iters=409600 // x)
            else:
                cfg = dict(batch_size=8, block_size=64, max_iters=x // 512)
            cfg.update({key: xs[0] if rule else None}, parameterization='mup', optimizer='adamw', n_embd=64,
                       n_layer=2, gradient_accumulation_steps=1, horizon_lr_exponent=0.32)
            opt = 3e-3 * (x / xs[0]) ** (e_off - (k if rule else 0))
            for lr in LRS:
                for s in (1, 2, 3):
                    write_run(root, f"{rule}_{x}_lr{lr:g}_s{s}", dict(cfg, learning_rate=lr, seed=s),
                              dict(final_val_loss=bowl(lr, opt) + rng.normal(0, 0.002), best_val_loss=9.0))


@pytest.mark.parametrize('e_off, label', [(0.5, V.REPRODUCED), (0.0, V.NOT_REPRODUCED)])
def test_batch_analysis(tmp_path, e_off, label):
    """The square-root rule holds (e_off = +0.5: the rule's column is flat) or the optimum does not move at all."""
    synthetic_rule_sweep(tmp_path / 'runs', 'batch', (256, 512, 1024, 2048), e_off, 0.5, np.random.default_rng(0))
    (tmp_path / 'out').mkdir()
    res = C.analyse_batch(C.tables.load_runs(tmp_path / 'runs'), C.Context(tmp_path / 'runs', tmp_path / 'out',
                                                                           n_boot=100, plots=False))
    fits = {c['tag']: c['fit'] for c in res['columns']}
    assert abs(fits['batch_rule_off']['e'] - e_off) < 0.05 and abs(fits['batch_rule_on']['e'] - (e_off - 0.5)) < 0.05
    assert fits['batch_rule_off']['xs'] == [256, 512, 1024, 2048]  # tokens per iteration; the metric: final loss
    assert [p['label'] for p in res['parts'] if p['counts']] == [label, label]
    assert '409600 tokens per run: 256 tokens per iteration x 1600 steps' in res['parts'][2]['reason']
    assert 'e(off) - e(on) = +0.50' in res['parts'][3]['reason']
    assert (tmp_path / 'out' / 'batch_rule_on.md').is_file()


@pytest.mark.parametrize('e_off, label', [(-0.32, V.REPRODUCED), (0.0, V.NOT_REPRODUCED)])
def test_horizon_analysis(tmp_path, e_off, label):
    xs = tuple(512 * n for n in (125, 250, 500, 1000, 2000))
    synthetic_rule_sweep(tmp_path / 'runs', 'horizon', xs, e_off, -0.32, np.random.default_rng(1))
    (tmp_path / 'out').mkdir()
    res = C.analyse_horizon(C.tables.load_runs(tmp_path / 'runs'), C.Context(tmp_path / 'runs', tmp_path / 'out',
                                                                             n_boot=100, plots=False))
    fits = {c['tag']: c['fit'] for c in res['columns']}
    assert abs(fits['horizon_rule_off']['e'] - e_off) < 0.05 and abs(fits['horizon_rule_on']['e'] - e_off - 0.32) < 0.05
    assert fits['horizon_rule_on']['xs'] == list(xs)
    assert [p['label'] for p in res['parts'] if p['counts']] == [label, label]
    assert "horizon rule (LR x (D / 64000)^-0.32)" in res['columns'][1]['title']


def test_weight_decay_analysis(tmp_path):
    """Coupled wd* = 0.3 (n / 32): the hidden timescale 1/(lr_h wd*) is the same at every width (lr_h ~ 1/n, read
    from groups.txt); the timescale column's tau* = 300 at every width. Reproduced; the timescale table shows the
    coupled optimum as that one timescale."""
    rng = np.random.default_rng(2)
    for w in (32, 64, 128, 256):
        lr_h = 3e-3 * 128 / w
        base = dict(parameterization='mup', optimizer='adamw', n_embd=w, n_layer=2, learning_rate=3e-3,
                    batch_size=8, block_size=64, gradient_accumulation_steps=1, train_set_tokens=38400)
        for s in (1, 2):
            for wd in (0.0, 0.0625, 0.125, 0.25, 0.5, 1.0, 2.0, 4.0):
                loss = bowl(wd, 0.3 * w / 32) if wd else 2.6
                write_run(tmp_path / 'runs', f"w{w}_c{wd:g}_s{s}", dict(base, wd_mode='coupled', weight_decay=wd,
                                                                         wd_timescale=0.0, seed=s),
                          dict(final_val_loss=loss + rng.normal(0, 0.002)))
                (tmp_path / 'runs' / f"w{w}_c{wd:g}_s{s}" / 'groups.txt').write_text(  # what train.py writes
                    f"role tensors params lr_mult lr eps wd names\nhidden 8 9 {lr_h / 3e-3:g} {lr_h:g} 1e-08 {wd} x\n")
            for tau in (100.0, 200.0, 400.0, 800.0, 1600.0, 3200.0):
                write_run(tmp_path / 'runs', f"w{w}_t{tau:g}_s{s}", dict(base, wd_mode='timescale', weight_decay=0.0,
                                                                          wd_timescale=tau, seed=s),
                          dict(final_val_loss=bowl(tau, 300.0) + rng.normal(0, 0.002)))
    (tmp_path / 'out').mkdir()
    res = C.analyse_wd(C.tables.load_runs(tmp_path / 'runs'), C.Context(tmp_path / 'runs', tmp_path / 'out',
                                                                        n_boot=100, plots=False))
    fits = {c['tag']: c['fit'] for c in res['columns']}
    assert abs(fits['wd_coupled']['e'] - 1) < 0.05 and abs(fits['wd_timescale']['e']) < 0.05
    assert [p['label'] for p in res['parts']] == [V.REPRODUCED, V.REPRODUCED]
    heading, md = res['tables'][0]
    taus = [float(line.split('|')[4].split()[0]) for line in md.splitlines()[2:]]
    assert len(taus) == 4 and max(taus) / min(taus) < 1.1 and abs(taus[0] - 1 / (0.012 * 0.3)) < 20  # ~278
    assert '(3.7)' in md.splitlines()[2]  # 278 iterations = 3.7 epochs of 75 iterations


def test_paper_tables_fitted_with_our_code():
    """Gupta et al.'s published tables give these exponents with tables.optimal_lr + fit_power_law."""
    got = {k: round(C.paper_fit(*k)[1], 2) for k in C.GUPTA}
    assert got == {('adamw', 'width'): -0.17, ('adopt', 'width'): 0.26, ('sophia', 'width'): 0.06,
                   ('lamb', 'width'): -0.11, ('adamw', 'depth'): -0.13, ('adopt', 'depth'): -0.19,
                   ('sophia', 'depth'): -0.21, ('lamb', 'depth'): 0.25}
    assert C.paper_fit('adamw', 'depth')[2] == [0.05] * 6  # Table 7: 5e-2 is best at every depth


def test_steps_to_adam_per_seed_pairs_seeds(tmp_path):
    """Each SPlus seed against AdamW's run with the same seed: AdamW ends at 2.0 after 100 steps; SPlus seed 1 gets
    there at step 40, seed 2 at step 60 (linear curves, evaluated every 10 steps, 10 ms per step each)."""
    def curve(final_step, start=3.0, end=2.0, n=100):
        ev = [dict(iter=i, kind='eval', val_loss=start - (start - end) * min(i, final_step) / final_step)
              for i in range(0, n + 1, 10)]
        return ev + [dict(iter=i, kind='train', ms=10.0) for i in range(10, n + 1, 10)]
    for opt, s, reach in (('adamw', 1, 100), ('adamw', 2, 100), ('splus', 1, 40), ('splus', 2, 60)):
        final = 2.0 if opt == 'adamw' else 1.5
        write_run(tmp_path, f"{opt}_s{s}", dict(optimizer=opt, learning_rate=1e-3, seed=s),
                  dict(final_val_loss=final, iters=100), curve(reach, end=2.0 if opt == 'adamw' else 2.0))
    runs = C.tables.load_runs(tmp_path)
    best = C.steps_to_adam.best_settings(runs, tmp_path)
    fr = C.per_seed_fractions(best, (), 'splus')
    assert [(s, round(a, 3), round(b, 3), ok) for s, a, b, ok in fr] == [(1, 0.4, 0.4, True), (2, 0.6, 0.6, True)]
    assert V.steps_to_adam([f[1] for f in fr], [f[3] for f in fr])[0] == V.REPRODUCED  # mean 0.5 <= 0.59


# -----------------------------------------------------------------------------
# the smoke subset and the laptop sweep files

def test_shrink_keeps_two_widths_two_middle_lrs_one_seed_per_kept_column():
    points, configs = [], []
    for p in ('mup', 'sp'):
        for w in (32, 64, 128, 256):
            for lr in (1e-3, 3e-3, 1e-2, 3e-2, 0.1):
                for s in (1, 2):
                    pt = dict(parameterization=p, n_embd=w, learning_rate=lr, seed=s)
                    points.append((S.run_name(pt), pt))
                    configs.append(dict(pt, n_layer=2, optimizer='adamw'))
    kept = R.shrink(points, configs, [dict(parameterization='mup')])
    assert sorted((p['n_embd'], p['learning_rate']) for _, p in kept) == \
        [(32, 1e-2), (32, 3e-2), (64, 1e-2), (64, 3e-2)]  # the median LR and the next one up
    assert {p['seed'] for _, p in kept} == {1} and {p['parameterization'] for _, p in kept} == {'mup'}
    assert R.shrink(points, configs, [dict(parameterization='ntk')]) == []


def test_smoke_points_keep_the_ratios_of_their_own_iterations():
    """A point that sets its own max_iters (a batch size at a fixed token budget, a horizon) shrinks with its warmup
    and evaluation interval by one factor: SMOKE_FIXED's max_iters over the smallest kept max_iters."""
    b4 = dict(batch_size=4, max_iters=1600, warmup_iters=96, eval_interval=400, eval_iters=32, learning_rate=1e-3)
    b8 = dict(batch_size=8, max_iters=800, warmup_iters=48, eval_interval=200, eval_iters=16, learning_rate=1e-3)
    assert R.smoke_point(b4, 800) == dict(b4, max_iters=12, warmup_iters=1, eval_interval=3, eval_iters=2)
    assert R.smoke_point(b8, 800) == dict(b8, max_iters=6, warmup_iters=0, eval_interval=2, eval_iters=2)
    assert R.smoke_point(dict(n_embd=64, eval_interval=50), None) == dict(n_embd=64, eval_interval=3)
    assert R.smoke_point(dict(n_embd=64), None) == dict(n_embd=64)


LAPTOP = {name: c['sweeps']['laptop'] for name, c in C.CLAIMS.items()}


def laptop_configs(name):
    import configurator
    spec = S.load_sweep(ROOT / LAPTOP[name])
    S.check_keys(spec, set(configurator.train_defaults()))
    d = configurator.train_defaults()
    return spec, [C.point_config(spec, p, d) for _, p in S.expand(spec)]


def columns(configs):
    """{column: {x: sorted LRs}} and seeds per column."""
    cols = {}
    for c in configs:
        cols.setdefault(R.column_key(c), []).append(c)
    return cols


@pytest.mark.parametrize('name', ['gupta_width', 'gupta_depth', 'everett', 'splus_width'])
def test_laptop_lr_transfer_sweeps_meet_the_claims_needs(name):
    """>= 4 widths spanning >= 8x (or depths 2..16), >= 7 LRs per column at half-decade steps or finer (the
    1-3-10 grid's steps are 3 and 10/3), >= 2 seeds, and the columns each claim compares."""
    spec, configs = laptop_configs(name)
    axis = 'n_layer' if name == 'gupta_depth' else 'n_embd'
    cols = columns(configs)
    for key, cs in cols.items():
        xs = sorted({c[axis] for c in cs})
        assert (xs == [2, 4, 8, 16]) if axis == 'n_layer' else (len(xs) >= 4 and xs[-1] / xs[0] >= 8), key
        for x in xs:
            at = [c for c in cs if c[axis] == x]
            lrs = sorted({c['learning_rate'] for c in at})
            assert len(lrs) >= 7 and max(b / a for a, b in zip(lrs, lrs[1:])) <= 10 / 3 + 1e-9, (key, x, lrs)
            assert len({c['seed'] for c in at}) >= 2
    desc = {tuple(sorted((k, c[k]) for k in ('parameterization', 'optimizer', 'optimizer_family', 'depth_alpha',
                                              'lr_scaling', 'alignment', 'eps_scaling', 'eps'))) for c in configs}
    pairs = {(dict(d)['parameterization'], dict(d)['optimizer'], dict(d)['optimizer_family']) for d in desc}
    if name == 'gupta_width':
        assert pairs == {('mup_spectral', o, '') for o in ('adamw', 'adopt', 'lamb', 'sophia')} | \
            {('mup_spectral', 'lamb', 'invariant')} | {('nanogpt', o, '') for o in ('adamw', 'adopt', 'lamb', 'sophia')}
        assert {c['base_width'] for c in configs} == {None}
    if name == 'gupta_depth':
        assert {(c['optimizer'], c['depth_alpha']) for c in configs} == \
            {(o, a) for o in ('adamw', 'adopt', 'lamb', 'sophia') for a in (0.0, 0.5)}
        assert {(c['parameterization'], c['base_depth'], c['n_embd']) for c in configs} == {('mup_spectral', 2, 64)}
    if name == 'everett':
        assert len(cols) == 7 and {c['head_dim'] for c in configs} == {16} and min(c['alignment_interval']
                                                                               for c in configs) > 0
    if name == 'splus_width':
        assert {(c['optimizer'], c['parameterization']) for c in configs} == \
            {(o, 'nanogpt') for o in ('adamw', 'splus', 'shampoo')}
    assert 'min' in spec['estimate']


def test_laptop_steps_sweep_meets_the_claims_needs():
    spec, configs = laptop_configs('splus_steps')
    opts = {c['optimizer'] for c in configs}
    assert opts == {'adamw', 'splus', 'soap', 'shampoo', 'muon', 'psgd', 'sophia'}
    for o in opts:
        at = [c for c in configs if c['optimizer'] == o]
        assert len({c['learning_rate'] for c in at}) >= 3 and len({c['seed'] for c in at}) >= 2
    assert len({R.column_key(dict(c, optimizer='', learning_rate=0)) for c in configs}) == 1  # one shared setting


def tokens(c):
    return c['batch_size'] * c['block_size'] * c['gradient_accumulation_steps']


def check_lr_grid(configs, group):
    """>= 7 LRs at half-decade steps or finer and >= 3 seeds at every (group) value."""
    for g in {group(c) for c in configs}:
        at = [c for c in configs if group(c) == g]
        lrs = sorted({c['learning_rate'] for c in at})
        assert len(lrs) >= 7 and max(b / a for a, b in zip(lrs, lrs[1:])) <= 10 / 3 + 1e-9, (g, lrs)
        assert len({c['seed'] for c in at}) >= 3, g


def test_laptop_batch_and_horizon_sweeps_meet_the_claims_needs():
    """batch: >= 4 batch sizes over >= 8x, one token budget (warmup, evaluation interval and evaluation batches fixed
    in tokens too), the rule off and on with the smallest batch as its base. horizon: >= 4 horizons over >= 8x at
    one batch and warmup, the rule off and on with the shortest horizon as its base. The rest as the other claims."""
    spec, configs = laptop_configs('batch')
    xs = sorted({tokens(c) for c in configs})
    assert len(xs) >= 4 and xs[-1] / xs[0] >= 8 and {c['n_embd'] for c in configs} == {64}
    for per_tokens in (lambda c: c['max_iters'] * tokens(c), lambda c: c['warmup_iters'] * tokens(c),
                       lambda c: c['eval_interval'] * tokens(c), lambda c: c['eval_iters'] * c['batch_size']):
        assert len({per_tokens(c) for c in configs}) == 1
    assert {c['base_batch_tokens'] for c in configs} == {None, xs[0]} and not any(c['batch_beta2'] for c in configs)
    check_lr_grid(configs, lambda c: (c['base_batch_tokens'], tokens(c)))
    spec, configs = laptop_configs('horizon')
    ts = sorted({c['max_iters'] * tokens(c) for c in configs})
    assert len(ts) >= 4 and ts[-1] / ts[0] >= 8 and len({(tokens(c), c['warmup_iters']) for c in configs}) == 1
    assert {c['base_train_tokens'] for c in configs} == {None, ts[0]} and {c['horizon_lr_exponent']
                                                                          for c in configs} == {0.32}
    check_lr_grid(configs, lambda c: (c['base_train_tokens'], c['max_iters']))
    for name in ('batch', 'horizon'):
        spec, configs = laptop_configs(name)
        assert {(c['parameterization'], c['optimizer'], c['weight_decay']) for c in configs} == {('mup', 'adamw', 0.0)}
        assert 'min' in spec['estimate']


def test_laptop_weight_decay_sweep_meets_the_claims_needs():
    """>= 4 widths over >= 8x, one LR; >= 6 coupled weight decays (and 0) at factor-2 steps, >= 6 timescales;
    a training set small enough for several epochs (Wang & Aitchison's regime: tau between one epoch and the run)."""
    spec, configs = laptop_configs('wd')
    ws = sorted({c['n_embd'] for c in configs})
    assert len(ws) >= 4 and ws[-1] / ws[0] >= 8 and len({c['learning_rate'] for c in configs}) == 1
    for w in ws:
        for mode, key in (('coupled', 'weight_decay'), ('timescale', 'wd_timescale')):
            at = [c for c in configs if c['n_embd'] == w and c['wd_mode'] == mode]
            vals = sorted({c[key] for c in at} - {0.0})
            assert len(vals) >= 6 and max(b / a for a, b in zip(vals, vals[1:])) <= 2 + 1e-9, (w, mode, vals)
            assert len({c['seed'] for c in at}) >= 2
        assert 0.0 in {c['weight_decay'] for c in configs if c['n_embd'] == w and c['wd_mode'] == 'coupled'}
    epochs = {c['max_iters'] * tokens(c) / c['train_set_tokens'] for c in configs}
    assert len(epochs) == 1 and epochs.pop() >= 4 and 'min' in spec['estimate']


def test_every_registered_claim_has_its_files_and_make_target():
    import re
    make = (ROOT / 'Makefile').read_text()
    assert re.search(r'^CLAIMS := (.*)$', make, re.M).group(1).split() == list(C.CLAIMS)
    for name, claim in C.CLAIMS.items():
        assert 'laptop' in claim['sweeps'] and set(claim['sweeps']) <= {'laptop', 'paper'}, name
        assert claim['paper'] and claim['smoke'], name
        assert all((ROOT / f).is_file() for f in claim['sweeps'].values()), name
        assert claim['sweeps']['laptop'] == f'config/repro/laptop/{name}.py'


@pytest.mark.parametrize('scale', ['laptop', 'paper'])
def test_dry_run_writes_the_sweep_with_the_files_run_names(scale, tmp_path):
    """The sweep reproduce.py runs names its runs as the scale's own sweep file does (grid and points expanded), so
    runs made with `scripts/sweep.py <file>` count as finished; --set goes to `fixed`, outside the names."""
    r = run_script(['scripts/reproduce.py', 'gupta_width', f'--scale={scale}', '--dry-run', '--set', 'eval_iters=9',
                    '--work-dir', tmp_path / 'runs', '--results-dir', tmp_path / 'results'])
    assert r.returncode == 0, r.stderr
    spec = S.load_sweep(ROOT / C.CLAIMS['gupta_width']['sweeps'][scale])
    derived = S.load_sweep(tmp_path / 'runs' / 'reproduce_sweep.py')
    assert [n for n, _ in S.expand(derived)] == [n for n, _ in S.expand(spec)]
    assert derived['fixed'] == dict(spec['fixed'], eval_iters=9) and derived['sweep_dir'] == str(tmp_path / 'runs')
    n = len(S.expand(spec))
    assert f"gupta_width ({scale}): {n} runs, 0 already finished" in r.stdout and n == {'laptop': 504, 'paper': 675}[scale]
    assert not (tmp_path / 'results').exists()


def test_bad_input_is_one_line_before_any_run(tmp_path):
    for args, msg in ((['nope'], "unknown claim 'nope'"), (['everett', '--scale=huge'], "unknown scale 'huge'"),
                      (['everett', '--set', 'n_layers=2'], '--set n_layers: not a train.py config key'),
                      (['everett', '--jobs', '0'], '--jobs must be at least 1'),
                      (['wd', '--scale=paper'], "claim 'wd' has no paper-scale sweep file: use --scale=smoke or "
                                                "--scale=laptop")):
        r = run_script(['scripts/reproduce.py', *args, '--work-dir', tmp_path / 'w', '--results-dir', tmp_path / 'r'])
        assert r.returncode == 2 and r.stderr.startswith('error: ') and msg in r.stderr, (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / 'r').exists()
    assert R.rel(ROOT / 'results' / 'x.md') == 'results/x.md' and R.rel('/elsewhere/x') == '/elsewhere/x'


# -----------------------------------------------------------------------------
# every claim end to end at smoke scale

def check_outputs(res_dir, name, r):
    report = (res_dir / 'smoke' / f'{name}.md').read_text()
    summary = json.loads((res_dir / 'smoke' / f'{name}.json').read_text())
    assert report.startswith(f"# {name}: ") and f"Made by: `python scripts/reproduce.py {name} --scale=smoke" in report
    for section in ('| date |', '| CPU |', '| --jobs (runs at a time) |', '| wall time |', '## Verdict', '## Settings',
                    '## Tables', '## Plots'):
        assert section in report, section
    assert f"**Verdict: {summary['verdict']}.**" in report and summary['verdict'] in V.LABELS
    assert summary['paragraph'] in report and 'the paper reports' in summary['paragraph']
    assert summary['parts'] and all(p['paper'] for p in summary['parts'])
    pngs = sorted((res_dir / 'smoke' / name).glob('*.png'))
    assert pngs and all(f"({name}/{p.name})" in report for p in pngs)
    assert any(t in report for t in ('| LR \\ width |', '| LR \\ depth |', '| optimizer | best LR |',
                                     '| LR \\ tokens_per_iter |', '| LR \\ train_tokens |', '| WD \\ width |'))
    index = (res_dir / 'README.md').read_text()
    assert f"| [{name}](smoke/{name}.md) | smoke |" in index and f"**{summary['verdict']}**" in index
    assert f"verdict: {summary['verdict']}" in r.stdout
    return report, summary


@pytest.mark.parametrize('name', ['gupta_width', 'gupta_depth', 'everett', 'splus_width', 'batch', 'horizon', 'wd'])
def test_smoke_reproduction_writes_report_json_and_index(name, tmp_path, char_data):
    r = run_script(['scripts/reproduce.py', name, '--scale=smoke', '--jobs', '2', '--work-dir', tmp_path / 'runs',
                    '--results-dir', tmp_path / 'results'], timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    report, summary = check_outputs(tmp_path / 'results', name, r)
    assert summary['runs']['finished'] == summary['runs']['points'] == (4 if name in ('batch', 'horizon', 'wd') else 8)
    assert 'over 1 invocation(s)' in report
    if name == 'everett':
        assert '![alignment_sp_global.png](everett/alignment_sp_global.png)' in report
        assert '| SP, global LR | readout |' in report
    if name == 'batch':  # the smoke runs keep the fixed token budget: batch 4 twice the steps of batch 8
        assert '768 tokens per run: 64 tokens per iteration x 12 steps, 128 tokens per iteration x 6 steps' in report
    if name == 'horizon':
        assert '| training tokens per run (max_iters x tokens per iteration) | 384, 768 |' in report
    if name == 'wd':
        assert '| WD \\ width |' in report and '| tau \\ width |' in report and '| 32 | 0.012 | 0.5 |' in report
    # every registered claim has a row; those not run say how to run them
    index = (tmp_path / 'results' / 'README.md').read_text()
    assert all(f"| {c} |" in index or f"[{c}]" in index for c in C.CLAIMS)


def test_killed_smoke_reproduction_resumes_and_skips_finished_runs(tmp_path, char_data):
    """splus_steps at smoke scale, one run at a time: SIGKILL the reproduction after its first run has finished
    (its sweep and run die with it), then the same command: the finished run is skipped, not rerun."""
    args = [sys.executable, 'scripts/reproduce.py', 'splus_steps', '--scale=smoke', '--jobs', '1',
            '--work-dir', str(tmp_path / 'runs'), '--results-dir', str(tmp_path / 'results')]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=dict(os.environ, PYTHONUNBUFFERED='1'))
    deadline = time.time() + 300
    while not list((tmp_path / 'runs').glob('*/summary.json')) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = {p.parent.name: p.stat().st_mtime_ns for p in (tmp_path / 'runs').glob('*/summary.json')}
    assert 1 <= len(done) < 4, done
    lock = tmp_path / 'runs' / '.sweep.lock'
    while lock.exists() and time.time() < deadline:  # the orphaned sweep stops its run and removes its lock
        time.sleep(0.2)
    assert not lock.exists()
    assert not (tmp_path / 'results' / 'smoke' / 'splus_steps.md').exists()

    r = run_script(args[1:], timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert f"4 runs, {len(done)} already finished" in r.stdout and f"{len(done)} already done" in r.stdout
    assert {n: (tmp_path / 'runs' / n / 'summary.json').stat().st_mtime_ns for n in done} == done  # not rerun
    report, summary = check_outputs(tmp_path / 'results', 'splus_steps', r)
    assert summary['runs']['finished'] == 4 and 'over 2 invocation(s)' in report
    assert '| AdamW |' in report and '| SPlus |' in report and 'val_loss_vs_step.png' in report


def test_commit_line_counts_code_changes_not_the_reports(tmp_path, monkeypatch):
    def git(*a):
        subprocess.run(['git', *a], cwd=tmp_path, check=True, capture_output=True)
    (tmp_path / 'results').mkdir()
    (tmp_path / 'train.py').write_text('x = 1\n')
    (tmp_path / 'results' / 'README.md').write_text('index\n')
    git('init', '-q')
    git('add', '.')
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'c')
    monkeypatch.setattr(R, 'ROOT', tmp_path)
    head = R.git_commit()
    assert head and '+' not in head
    (tmp_path / 'results' / 'README.md').write_text('index with a new verdict\n')  # a report: not the code
    assert R.git_commit() == head
    (tmp_path / 'train.py').write_text('x = 2\n')
    assert R.git_commit() == head + '+changes'
