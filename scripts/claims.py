"""
The paper claims that scripts/reproduce.py reproduces. Each entry of CLAIMS names its sweep file per scale, the
runs its smoke test keeps (`smoke`: a list of {config key: value or tuple of values}; a point is kept if its
resolved config matches one of them), and the analysis that turns a folder of runs into tables, plots and checked
parts (scripts/verdicts.py turns those into a verdict).

Adding a claim: a sweep file config/repro/laptop/<name>.py (and a paper-scale one if there is one: `sweeps`
names it under 'paper') and an entry here (title, paper: the paper's statement in one line) whose
`analyse(runs, ctx)` returns dict(columns, tables, figures, parts, measured):

    columns   [column(...)]: LR (or weight-decay) tables along width, depth, batch size, horizon (scripts/tables.py
              writes their files and plots)
    tables    [(heading, markdown)]: any other table
    figures   [(caption, file name in ctx.out)]
    parts     [dict(name, paper, label, reason, counts)]: each checked statement (verdicts.py)
    measured  one line: what we measure (results/README.md's index)

The papers: Gupta, Ngom, Foreman & Vishwanath 2026, "Extending muP: Spectral Conditions for Feature Learning
Across Optimizers" (arXiv:2602.20937); Everett et al. 2024, "Scaling Exponents Across Parameterizations and
Optimizers" (arXiv:2407.05872); Frans, Levine & Abbeel 2025, "A Stable Whitening Optimizer for Efficient Neural
Network Training" (SPlus, arXiv:2506.07254); and for the scaling rules of parameterization.py: Malladi, Lyu,
Panigrahi & Arora 2022, "On the SDEs and Scaling Rules for Adaptive Gradient Algorithms" (arXiv:2205.10287); Bjorck,
Benhaim, Chaudhary, Wei & Song 2025, "Scaling Optimal LR Across Token Horizons" (ICLR 2025, arXiv:2409.19913); Wang
& Aitchison 2024, "How to set AdamW's weight decay as you scale model and dataset size" (arXiv:2405.13698).
"""

import contextlib
import io
import math
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plot_alignment  # noqa: E402
import steps_to_adam  # noqa: E402
import tables  # noqa: E402
import verdicts as V  # noqa: E402

# -----------------------------------------------------------------------------
# the paper's own tables (mean validation loss over their seeds), to fit their exponent with our code

_W = (128, 256, 512, 1024, 2048)
_D = (2, 4, 8, 16, 32, 64)
GUPTA = {  # (table number, axis values, {lr: losses along the axis})
    ('adamw', 'width'): (5, _W, {2e-1: (2.54111195, 2.54770319, 2.50132585, 2.53559383, 2.45719266),
                                 2e-2: (2.57009896, 2.56583707, 2.57900651, 2.53385917, 2.51431378),
                                 2e-3: (2.63474766, 2.6022807, 2.64679337, 2.63449661, 2.55710355),
                                 2e-4: (3.38827054, 3.5544157, 3.38896998, 3.44941664, 3.44561863),
                                 2e-5: (4.09221347, 4.08871428, 4.05257797, 4.08837303, 4.08405908)}),
    ('adopt', 'width'): (9, _W, {2e-1: (2.55120134, 2.54616404, 2.54178079, 2.5524296, 2.54457998),
                                 7e-2: (2.48560476, 2.44316975, 2.37087123, 2.50733534, 2.50883015),
                                 2e-2: (2.43175697, 2.58847451, 2.57006375, 2.54323697, 2.53191725),
                                 2e-3: (2.63016931, 2.6073552, 2.65681744, 2.66118956, 2.55337548),
                                 2e-4: (3.528404, 3.49065232, 3.49065232, 3.42789133, 3.43255997),
                                 2e-5: (4.09183598, 4.08832375, 4.0521698, 4.08806594, 4.08391444)}),
    ('sophia', 'width'): (13, _W, {2e-1: (3.0969398, 2.57144117, 2.56875261, 2.62573036, 2.57240287),
                                   2e-2: (2.27450609, 2.27830847, 2.31632638, 2.53347905, 1.98427689),
                                   2e-3: (2.5456597, 2.61430057, 2.5594302, 2.54869485, 2.65462987),
                                   2e-4: (3.35409013, 3.54614369, 3.36089802, 3.35862382, 3.36431138),
                                   2e-5: (4.08766381, 4.08859126, 4.06069756, 4.08811712, 4.08371623)}),
    ('lamb', 'width'): (17, _W, {2e-1: (3.3306915, 2.91992474, 2.75658234, 2.84724092, 2.84511503),
                                 2e-2: (2.27427769, 2.55330944, 2.53250345, 2.50694895, 2.51612274),
                                 2e-3: (2.46762419, 2.42723028, 2.47571055, 2.49152549, 2.46575729),
                                 2e-4: (3.69672974, 3.70961714, 3.66877778, 3.2370429, 3.37923479),
                                 2e-5: (4.16929531, 4.1694754, 4.1684103, 4.1674579, 4.16771809)}),
    ('adamw', 'depth'): (7, _D, {2e-1: (2.53525917, 2.55192765, 2.53510944, 2.50357556, 2.51294963, 2.53008548),
                                 5e-2: (2.52700798, 2.49422677, 2.50334986, 2.29428236, 2.45176029, 2.36860998),
                                 2e-2: (2.55682977, 2.52176666, 2.56583563, 2.30422862, 2.45500112, 2.5650301),
                                 2e-3: (2.59745781, 2.63078475, 2.60228316, 2.61588136, 2.64065663, 2.65051214),
                                 2e-4: (3.41396125, 3.41677833, 3.55441554, 3.45801504, 3.43285489, 3.47577778),
                                 2e-5: (4.09297959, 4.05970796, 4.08871428, 4.08113146, 4.06712834, 4.10902596)}),
    ('adopt', 'depth'): (11, _D, {2e-1: (2.56129368, 2.51452438, 2.54788987, 2.51456078, 2.52271922, 2.55469418),
                                  9e-2: (2.48695572, 2.47477563, 2.53124801, 2.48145302, 2.50687472, 2.54724765),
                                  2e-2: (2.56718413, 2.50419029, 2.58847276, 2.44447954, 2.54996069, 2.52524622),
                                  2e-3: (2.67992798, 2.62949713, 2.6073552, 2.60433618, 2.61753988, 2.6286815),
                                  2e-4: (3.41052596, 3.46538957, 3.56757394, 3.47856442, 3.43608022, 3.56190586),
                                  2e-5: (4.09267759, 4.05929391, 4.08832375, 4.08074443, 4.06675259, 4.10877307)}),
    ('sophia', 'depth'): (15, _D, {2e-1: (2.5213503, 3.01081316, 3.22649105, 3.34855215, 3.24310446, 3.12229093),
                                   2e-2: (2.4717048, 2.27232289, 2.24736114, 2.47475751, 2.46061246, 1.93401444),
                                   2e-3: (2.54103192, 2.58136233, 2.61035593, 2.610612, 2.45068415, 2.55488427),
                                   2e-4: (3.40887721, 3.52765425, 3.54587563, 3.40669481, 3.33997742, 3.47574107),
                                   2e-5: (4.09267314, 4.06576761, 4.08859126, 4.08140405, 4.066552, 4.10874732)}),
    ('lamb', 'depth'): (19, _D, {2e-1: (2.76534136, 2.85949779, 2.88115621, 3.26932732, 3.24093787, 3.097018),
                                 2e-2: (2.50858307, 2.51164389, 2.55355501, 2.33967662, 2.48308444, 2.11406271),
                                 7e-3: (2.45117172, 2.46691815, 2.50231234, 2.45691435, 2.48629936, 2.45780365),
                                 2e-3: (2.50483624, 2.54284684, 2.42723123, 2.43291903, 2.43262172, 2.42000318),
                                 2e-4: (3.6441706, 3.79367606, 3.70963343, 3.57373738, 3.61402575, 3.42223287),
                                 2e-5: (4.16981506, 4.1691486, 4.1694754, 4.16932933, 4.16817395, 4.16773876)}),
}
OPT_NAMES = dict(adamw='AdamW', adopt='ADOPT', lamb='LAMB', sophia='Sophia', splus='SPlus', shampoo='Shampoo',
                 soap='SOAP', muon='Muon', psgd='PSGD', adam_atan2='Adam-atan2')


def paper_fit(optimizer, axis):
    """(table number, exponent, grid-best LR per x) of the power law fitted to Gupta et al.'s published table with
    tables.optimal_lr and tables.fit_power_law (the same code as for our runs; their grid has one LR per decade)."""
    number, xs, rows = GUPTA[(optimizer, axis)]
    lrs = sorted(rows)
    opts, best = [], []
    for i in range(len(xs)):
        vals = [rows[lr][i] for lr in lrs]
        opts.append(tables.optimal_lr(lrs, vals))
        best.append(lrs[int(np.argmin(vals))])
    return number, tables.fit_power_law(xs, opts)[1], best


def paper_text(optimizer, axis):
    number, e, best = paper_fit(optimizer, axis)
    lrs = sorted(GUPTA[(optimizer, axis)][2])
    edge = sum(b in (lrs[0], lrs[-1]) for b in best)
    what = 'widths 128-2048' if axis == 'width' else 'depths 2-64'
    return (f"Table {number}: best LR {', '.join(f'{b:g}' for b in best)} at {what}"
            + (f" ({edge} of {len(best)} at the edge of their grid)" if edge else '')
            + f"; the power law fitted to that table with our code: e = {e:+.2f}")


# -----------------------------------------------------------------------------
# selecting runs and making one LR table

class Context:
    """Where the analysis writes (out), and how (metric, bootstrap replicates, plots)."""

    def __init__(self, run_dir, out, metric='best_val_loss', n_boot=1000, plots=True):
        self.run_dir, self.out, self.metric, self.n_boot, self.plots = Path(run_dir), Path(out), metric, n_boot, plots


def point_config(spec, point, defaults):
    """The full config train.py runs for one point of a sweep spec (scripts/sweep.py's load_sweep): its base
    configs, `fixed`, then the point, over train.py's defaults (configurator.train_defaults())."""
    import configurator
    import sweep
    cfg = dict(defaults)
    args = list(spec['base_config']) + [f"--{k}={sweep.cli_value(v)}" for k, v in dict(spec['fixed'], **point).items()]
    with contextlib.redirect_stdout(io.StringIO()):  # configurator prints every override
        configurator.configure(cfg, args)
    return cfg


def matches(config, match):
    """A config against {key: value or tuple of allowed values}."""
    return all(config.get(k) in v if isinstance(v, tuple) else config.get(k) == v for k, v in match.items())


def select(runs, **match):
    return [r for r in runs if matches(r['config'], match)]


def fit_summary(a):
    """The fit of one table analysis (tables.analyse) as verdicts.py reads it, with per-x optima, best losses and
    transfer scores, JSON-ready."""
    xs = a['xs']
    best_loss = {x: min((s[0] for s in a['stats'][x].values()), default=math.inf) for x in xs}
    return dict(e=a['e'], lo=a['e_ci'][0], hi=a['e_ci'][1], n=sum(1 for x in xs if V.finite(a['opt'][x])),
                n_edge=len(a['edges']), note=a['ci_note'], xs=xs, opt={x: a['opt'][x] for x in xs},
                best_loss=best_loss, transfer={x: a['transfer'][x] for x in xs})


def column(ctx, tag, title, runs, axis, hp='learning_rate', metric=None):
    """One table of these runs along the axis (n_embd: LR / width, n_layer: LR / depth, or tokens_per_iter,
    train_tokens: scripts/tables.py's axis_value), optimizing hp (the LR, or weight_decay, wd_timescale), by the
    metric (ctx.metric unless given); its files and plots in ctx.out. None if there are no runs."""
    if not runs:
        return None
    metric = metric or ctx.metric
    sym = tables.HPARAMS[hp][1]
    table = tables.lr_table(runs, axis, metric, hp)
    a, md = tables.write_table(ctx.out, tag, title, axis, table, metric, ctx.n_boot, ctx.plots, hp=hp)
    figures = [f"{tag}_loss_vs_{sym}.png", f"{tag}_optimal_{sym}.png"] if ctx.plots else []
    return dict(tag=tag, title=title, axis=axis, hp=hp, md=md, fit=fit_summary(a), figures=figures, a=a)


def fit_of(col):
    return col['fit'] if col else None


def part(name, paper, label_reason, counts=True):
    label, reason = label_reason
    return dict(name=name, paper=paper, label=label, reason=reason, counts=counts)


def exps(cols):
    """'AdamW -0.10 [-0.2, +0.0], ...' for the index line."""
    return ', '.join(f"{name} {V.fmt_fit(fit_of(c)).replace('e = ', '')}" for name, c in cols if c)


# -----------------------------------------------------------------------------
# Gupta et al.: width and depth

def analyse_gupta_width(runs, ctx):
    """Gupta et al. Tables 3/5/9/13/17: under mup_spectral (their Table 2) the optimal LR does not move with width,
    for AdamW, ADOPT, LAMB (c = 0: optimizer_family='invariant') and Sophia; the nanoGPT SP baseline's does."""
    cols, parts = [], []
    sp_cols, mup_cols = {}, {}
    for opt in ('adamw', 'adopt', 'lamb', 'sophia'):
        rule = dict(optimizer_family='invariant') if opt == 'lamb' else {}
        name = OPT_NAMES[opt]
        mup = column(ctx, f"mup_spectral_{opt}_width", f"{name}, mup_spectral (Gupta et al. Table 2)"
                     + (", optimizer_family='invariant' (c = 0)" if opt == 'lamb' else ''),
                     select(runs, parameterization='mup_spectral', optimizer=opt, **rule), 'n_embd')
        sp = column(ctx, f"nanogpt_{opt}_width", f"{name}, nanogpt (SP baseline, one global LR)",
                    select(runs, parameterization='nanogpt', optimizer=opt), 'n_embd')
        cols += [c for c in (mup, sp) if c]
        mup_cols[name], sp_cols[name] = mup, sp
        parts.append(part(f"{name}: muP optimal LR flat across width, SP's falls", paper_text(opt, 'width'),
                          V.transfer(fit_of(mup), fit_of(sp))))
    repo = column(ctx, 'mup_spectral_lamb_adafactor_width',
                  "LAMB, mup_spectral, the repository's rule (family 'adafactor': hidden LR x fan_in^-1/2)",
                  select(runs, parameterization='mup_spectral', optimizer='lamb', optimizer_family=('', 'adafactor')),
                  'n_embd')
    if repo:
        cols.append(repo)
        parts.append(part("LAMB with the repository's rule (family 'adafactor', not Gupta et al.'s)",
                          'not in the paper (its LAMB rule is c = 0, the row above)',
                          V.transfer(fit_of(repo), fit_of(sp_cols['LAMB'])), counts=False))
    return dict(columns=cols, tables=[], figures=[], parts=parts,
                measured=f"muP exponent {exps(mup_cols.items())}; SP {exps(sp_cols.items())}")


def analyse_gupta_depth(runs, ctx):
    """Gupta et al. Tables 4/7/11/15/19: with depth-muP (branches and block LRs x L^-1/2) the optimal LR of AdamW and
    Sophia stabilises across depth; ADOPT's and LAMB's oscillate (their §D.1)."""
    cols, parts, dm_cols = [], [], {}
    for opt in ('adamw', 'adopt', 'lamb', 'sophia'):
        name = OPT_NAMES[opt]
        dm = column(ctx, f"depth_mup_{opt}_depth", f"{name}, depth-muP (depth_alpha 0.5)",
                    select(runs, optimizer=opt, depth_alpha=0.5), 'n_layer')
        base = column(ctx, f"no_depth_scaling_{opt}_depth", f"{name}, no depth scaling (depth_alpha 0)",
                      select(runs, optimizer=opt, depth_alpha=0.0), 'n_layer')
        cols += [c for c in (dm, base) if c]
        dm_cols[name] = dm
        label, reason = V.expect(fit_of(dm), 'flat')
        reason += f"; without depth scaling: {V.fmt_fit(fit_of(base))}"
        claimed = opt in ('adamw', 'sophia')
        parts.append(part(f"{name}: depth-muP optimal LR flat across depth"
                          + ('' if claimed else " (the paper: it oscillates, no transfer claimed)"),
                          paper_text(opt, 'depth'), (label, reason), counts=claimed))
    return dict(columns=cols, tables=[], figures=[], parts=parts,
                measured=f"depth-muP exponent {exps(dm_cols.items())}")


# -----------------------------------------------------------------------------
# Everett et al.: exponents per setting, epsilon, alignment

ALIGN_KINDS = plot_alignment.KINDS


def alignment_summary(series):
    """{layer type: (start, peak, end)} from plot_alignment.read_alignment's {layer: (iters, values)}: the mean over
    the blocks of each layer type at the first and last logged step, and the peak of that mean."""
    out = {}
    for suffix, label in ALIGN_KINDS:
        curves = [np.asarray(v, float) for name, (_, v) in series.items() if name.endswith(suffix) and len(v)]
        if curves:
            n = min(len(c) for c in curves)
            mean = np.mean([c[:n] for c in curves], axis=0)
            out[label] = (float(mean[0]), float(mean.max()), float(mean[-1]))
    return out


def alignment_run(ctx, col, runs):
    """The run of a column at its largest width, at the grid LR that was best there, first seed (Everett et al.
    measure alignment 'using a global learning rate that is close to optimal'); None if none logged alignment."""
    if not col:
        return None
    x = max(col['a']['xs'])
    lr = col['a']['best_lr'][x]
    cands = sorted((r for r in runs if r['config']['n_embd'] == x and r['config']['learning_rate'] == lr),
                   key=lambda r: str(r['config'].get('seed')))
    for r in cands:
        series = plot_alignment.read_alignment(str(ctx.run_dir / r['name']))
        if series:
            return r, series
    return None


def analyse_everett(runs, ctx):
    """Everett et al. §4: optimal-LR exponents of Adam per parameterization and LR rule, epsilon (§4.3) and the
    alignment ratio during training (§4.1, Fig. 2)."""
    adam = dict(optimizer='adamw', lr_scaling='per_layer')
    full = select(runs, parameterization='mup', alignment='full', eps_scaling='constant', **adam)
    eps_values = sorted({r['config']['eps'] for r in full})
    eps_small = eps_values[0] if eps_values else None
    eps_large = eps_values[-1] if len(eps_values) > 1 else None
    sets = [
        ('sp_global', 'SP, one global LR', select(runs, parameterization='sp', optimizer='adamw', lr_scaling='global',
                                                  eps_scaling='constant')),
        ('sp_full', 'SP, per-layer LR (full alignment)',
         select(runs, parameterization='sp', alignment='full', eps_scaling='constant', **adam)),
        ('sp_none', 'SP, per-layer LR (no alignment)',
         select(runs, parameterization='sp', alignment='none', eps_scaling='constant', **adam)),
        ('mup_full', 'muP, per-layer LR (full alignment)', [r for r in full if r['config']['eps'] == eps_small]),
        ('eps_constant', f"muP, constant epsilon {eps_large:g}" if eps_large else 'muP, constant large epsilon',
         [r for r in full if eps_large is not None and r['config']['eps'] == eps_large]),
        ('eps_per_layer', f"muP, per-layer epsilon {eps_large:g} at the base width" if eps_large else
         'muP, per-layer epsilon', select(runs, parameterization='mup', alignment='full', eps_scaling='per_layer',
                                          eps=eps_large, **adam) if eps_large else []),
        ('adam_atan2', 'muP, Adam-atan2 (no epsilon)',
         select(runs, parameterization='mup', optimizer='adam_atan2', lr_scaling='per_layer', alignment='full')),
    ]
    cols = {}
    for tag, title, sub in sets:
        cols[tag] = column(ctx, f"{tag}_width", f"Adam, {title}", sub, 'n_embd')
    fit = {k: fit_of(c) for k, c in cols.items()}
    parts = [
        part('SP + global LR: optimal LR falls with width', 'Table I1 (Adam, SP, global LR, 50k steps): e = -0.95',
             V.expect(fit['sp_global'], 'negative')),
        part('SP + per-layer LR (full alignment): optimal LR flat', 'Fig. 4 (optimal constants): e = -0.05',
             V.expect(fit['sp_full'], 'flat')),
        part('muP + per-layer LR (full alignment): optimal LR flat', 'Fig. 4 (optimal constants): e = -0.06',
             V.expect(fit['mup_full'], 'flat')),
        part('SP + per-layer LR (no alignment): optimal LR falls with width',
             'Fig. E1: e = -0.58 to -0.69 (SP, NTK, muP), about -0.5 below full alignment',
             V.expect(fit['sp_none'], 'negative')),
    ]
    penalty = {}
    for k in ('eps_constant', 'eps_per_layer', 'adam_atan2'):
        if fit[k] and fit['mup_full']:
            penalty[k] = {x: fit[k]['best_loss'][x] - fit['mup_full']['best_loss'][x]
                          for x in fit[k]['xs'] if x in fit['mup_full']['best_loss']}
    parts.append(part(f"epsilon {eps_large:g}: a constant one costs more at larger width, a per-layer one does not"
                      if eps_large else 'a large epsilon: constant vs per-layer',
                      '§4.3 / Fig. 6: an epsilon too large gives suboptimal loss; per-layer epsilon scales with the '
                      'gradients (Yang & Littwin), so its constant transfers',
                      V.epsilon(penalty.get('eps_constant', {}), penalty.get('eps_per_layer', {}))))
    gap = math.nan
    if 'adam_atan2' in penalty and penalty['adam_atan2']:
        gap = penalty['adam_atan2'][max(penalty['adam_atan2'])]
    parts.append(part('Adam-atan2 (no epsilon): flat optimal LR, Adam\'s loss',
                      '§4.3 / Fig. 7: Adam-atan2 matches the best epsilon mitigation',
                      V.atan2(fit['adam_atan2'], gap)))

    # alignment (Fig. 2 style): one figure per setting, a table of start / peak / end per layer type
    figures, align_rows = [], []
    for tag, title in (('sp_global', 'SP, global LR'), ('mup_full', 'muP, per-layer LR')):
        picked = alignment_run(ctx, cols[tag], sets[[s[0] for s in sets].index(tag)][2])
        if picked is None:
            parts.append(part(f"alignment ratio, {title}", 'Fig. 2: starts at 0.5, rises to intermediate values',
                              V.alignment({}, {})))
            continue
        r, series = picked
        c = r['config']
        summ = alignment_summary(series)
        if ctx.plots:
            fname = f"alignment_{tag}.png"
            plot_alignment.plot(series, str(ctx.out / fname), f"log alignment ratio (Everett et al. Def. 3.1): "
                                f"{title}, width {c['n_embd']}, LR {c['learning_rate']:g}, seed {c.get('seed')}")
            figures.append((f"Alignment ratio over training, {title} (width {c['n_embd']}, LR "
                            f"{c['learning_rate']:g}, the best grid LR there)", fname))
        for kind, (s0, pk, s1) in summ.items():
            align_rows.append(f"| {title} | {kind} | {s0:.3f} | {pk:.3f} | {s1:.3f} |")
        parts.append(part(f"alignment ratio, {title}: starts at 0.5, rises during training",
                          'Fig. 2 (Adam, 1.9B): starts at 0.5; MLP peak <= 0.8; readout peak 0.7-0.8 (SP), > 0.9 '
                          '(muP)', V.alignment({k: v[0] for k, v in summ.items()}, {k: v[1] for k, v in summ.items()})))
    extra = []
    if align_rows:
        extra.append(('Alignment ratio: start, peak and end (mean over blocks)',
                      '| setting | layer type | start | peak | end |\n|---|---|---:|---:|---:|\n'
                      + '\n'.join(align_rows) + '\n'))
    if penalty:
        xs = sorted({x for p in penalty.values() for x in p})
        rows = [f"| {k} | " + ' | '.join(f"{p.get(x, math.nan):+.3f}" for x in xs) + ' |' for k, p in penalty.items()]
        extra.append(("Epsilon: best loss minus muP Adam's (epsilon 1e-8) at each width",
                      '| setting | ' + ' | '.join(str(x) for x in xs) + ' |\n|---|' + '---:|' * len(xs) + '\n'
                      + '\n'.join(rows) + '\n'))
    names = [('SP global', cols['sp_global']), ('SP full', cols['sp_full']), ('SP none', cols['sp_none']),
             ('muP full', cols['mup_full'])]
    return dict(columns=[c for c in cols.values() if c], tables=extra, figures=figures, parts=parts,
                measured=exps(names))


# -----------------------------------------------------------------------------
# SPlus (Frans et al.): width transfer, steps-to-Adam

def analyse_splus_width(runs, ctx):
    """SPlus Fig. 3: with one global LR and nanoGPT's init, SPlus's optimal LR transfers across width (its 2/(m+n)
    scaling); Adam's and Shampoo's do not."""
    cols = {o: column(ctx, f"{o}_width", f"{OPT_NAMES[o]}, nanoGPT init, one global LR", select(runs, optimizer=o),
                      'n_embd') for o in ('splus', 'adamw', 'shampoo')}
    fit = {o: fit_of(c) for o, c in cols.items()}
    parts = [part('SPlus: optimal LR flat across width', 'Fig. 3: the same optimal LR at every width (no exponent '
                  'given)', V.expect(fit['splus'], 'flat')),
             part('AdamW: optimal LR falls with width', 'Fig. 3: "does not hold by default for Adam"',
                  V.expect(fit['adamw'], 'negative')),
             part('Shampoo: optimal LR falls with width', 'Fig. 3: "does not hold by default for ... Shampoo"',
                  V.expect(fit['shampoo'], 'negative'))]
    return dict(columns=[c for c in cols.values() if c], tables=[], figures=[], parts=parts,
                measured=exps([(OPT_NAMES[o], c) for o, c in cols.items()]))


# Frans et al. Fig. 6 / Table 1 (steps) and Table 2 (wall-clock): the average over their nine settings, and "LLM-Init"
# (a language model from initialisation, the setting closest to ours); "> 1.0": never matched Adam in 10k steps
SPLUS_PAPER = {'adamw': ('1', '1', '1', '1'), 'splus': ('0.439', '0.487', '0.617', '0.651'),
               'soap': ('0.575', '0.712', '0.807', '0.951'), 'psgd': ('0.652', '0.895', '0.940', '1.08'),
               'muon': ('0.832', '> 1.0', '0.934', '> 1.0'),
               'shampoo': ('0.699 (non-diverged settings)', 'diverged', '2.426', 'diverged'),
               'sophia': ('> 1.0', '> 1.0', '> 1.0', '> 1.0')}


def per_seed_fractions(best, ctx_key, opt, baseline='adamw'):
    """[(seed, steps fraction, time fraction, reached)] of one optimizer at its best setting against the baseline
    run with the same seed (same data order and init), at the baseline's best setting."""
    b, o = best.get((ctx_key, baseline)), best.get((ctx_key, opt))
    if not b or not o or b['setting'] is None or o['setting'] is None:
        return []
    base = {r['config'].get('seed'): m for r, m in zip(b['runs'], b['loaded'])}
    out = []
    for r, (curve, times) in zip(o['runs'], o['loaded']):
        s = r['config'].get('seed')
        if s in base and len(curve[0]) and len(base[s][0][0]):
            out.append((s, *steps_to_adam.fractions(curve, times, base[s][0], base[s][1])))
    return sorted(out, key=lambda t: str(t[0]))


def spread(vals, reached=None):
    """'mean [min, max]' over the seeds that reached the target; '> x' where none did."""
    reached = [True] * len(vals) if reached is None else reached
    ok = [v for v, r in zip(vals, reached) if r]
    if not vals:
        return 'n/a'
    if not ok:
        return f"> {min(vals):.2f} (no seed reaches it)"
    text = f"{sum(ok) / len(ok):.3f}" + (f" [{min(ok):.3f}, {max(ok):.3f}]" if len(ok) > 1 else '')
    return text + (f"; {len(vals) - len(ok)} of {len(vals)} seeds never reach it" if len(ok) < len(vals) else '')


def analyse_splus_steps(runs, ctx):
    """SPlus §5 / Table 1: the fraction of AdamW's steps (and wall-clock) each optimizer needs, at its own best LR,
    to reach AdamW's final validation loss."""
    runs = [r for r in runs if (ctx.run_dir / r['name'] / 'metrics.jsonl').is_file()]
    best = steps_to_adam.best_settings(runs, ctx.run_dir) if runs else {}
    keys = sorted({k for k, _ in best}, key=str)
    ctx_key = keys[0] if keys else ()
    rows, fractions, figures = [], {}, []
    order = ['adamw', 'splus', 'soap', 'shampoo', 'muon', 'psgd', 'sophia']
    opts = [o for o in order if (ctx_key, o) in best] + sorted(o for k, o in best if k == ctx_key and o not in order)
    for o in opts:
        b = best[(ctx_key, o)]
        fr = per_seed_fractions(best, ctx_key, o)
        fractions[o] = fr
        paper = SPLUS_PAPER.get(o, ('–',) * 4)
        if b['setting'] is None:
            rows.append(f"| {OPT_NAMES.get(o, o)} | div | – | – | – | {paper[0]} / {paper[1]} | {paper[2]} / "
                        f"{paper[3]} |")
            continue
        ok = [f[3] for f in fr]
        rows.append(f"| {OPT_NAMES.get(o, o)} | {steps_to_adam.fmt_setting(b['setting'])} | {b['final']:.4f} | "
                    f"{spread([f[1] for f in fr], ok)} | {spread([f[2] for f in fr], ok)} | "
                    f"{paper[0]} / {paper[1]} | {paper[2]} / {paper[3]} |")
    head = ('| optimizer | best LR | final val loss (seed mean) | steps-to-AdamW: mean [min, max] over seeds | '
            'time-to-AdamW (CPU) | paper steps: average / LLM-Init | paper time: average / LLM-Init |\n'
            '|---|---|---:|---:|---:|---:|---:|\n')
    extra = [("Steps-to-AdamW and time-to-AdamW, each optimizer at its best LR (per seed against AdamW's run with the "
              "same seed)", head + '\n'.join(rows) + '\n')] if rows else []
    if best and ctx.plots:
        figures.append(('Validation loss vs step at each optimizer\'s best LR (mean over seeds); dotted: AdamW\'s '
                        'final loss', plot_curves(ctx, best, ctx_key, opts)))
    sp = fractions.get('splus', [])
    parts = [part('SPlus reaches AdamW\'s final loss in a fraction of its steps',
                  'Table 1: 0.439 on average (0.487 for an LLM from initialisation)',
                  V.steps_to_adam([f[1] for f in sp], [f[3] for f in sp]))]
    if sp:
        parts.append(part('SPlus time-to-AdamW (CPU, one thread per run)',
                          'Table 1: 0.617 on average (0.651 LLM from initialisation), on TPUs',
                          (None, f"{spread([f[2] for f in sp], [f[3] for f in sp])} of AdamW's training time: CPU "
                                 f"step times, not the paper's accelerator wall-clock, so not compared"), counts=False))
    means = {o: sum(f[1] for f in fr) / len(fr) for o, fr in fractions.items() if fr and o != 'adamw'
             and all(f[3] for f in fr)}
    if means:
        first = min(means, key=means.get)
        ranking = ', '.join(f"{OPT_NAMES.get(o, o)} {v:.3f}" for o, v in sorted(means.items(), key=lambda t: t[1]))
        parts.append(part('fewest steps of all optimizers', 'Fig. 6: SPlus first in steps and in wall-clock',
                          (None, f"fewest steps: {OPT_NAMES.get(first, first)} ({means[first]:.3f}); {ranking}"),
                          counts=False))
    return dict(columns=[], tables=extra, figures=figures, parts=parts,
                measured=(f"SPlus {spread([f[1] for f in sp])} of AdamW's steps, {spread([f[2] for f in sp])} of its "
                          f"CPU time" if sp and all(f[3] for f in sp) else
                          f"SPlus does not reach AdamW's final loss in {sum(not f[3] for f in sp)} of {len(sp)} seeds"
                          if sp else 'no SPlus or AdamW run finished'))


def plot_curves(ctx, best, ctx_key, opts):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    finals = []
    for i, o in enumerate(opts):
        b = best[(ctx_key, o)]
        if b['setting'] is None:
            continue
        its, vals = b['curve']
        ax.plot(its, vals, '-', color=f"C{i}", label=f"{OPT_NAMES.get(o, o)} (LR {b['setting'][0][1]:g})")
        finals.append(vals[-1])
    base = best.get((ctx_key, 'adamw'))
    if base and base['setting'] is not None:
        ax.axhline(base['curve'][1][-1], color='gray', ls=':', lw=1, label="AdamW's final loss")
    if finals:
        lo = min(finals)
        ax.set_ylim(lo - 0.05, lo + 1.0)
    ax.set_xlabel('step')
    ax.set_ylabel('validation loss (nats/token)')
    ax.set_title('each optimizer at its best LR (SPlus paper §5 protocol)', fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    name = 'val_loss_vs_step.png'
    fig.savefig(ctx.out / name, dpi=120)
    plt.close(fig)
    return name


# -----------------------------------------------------------------------------
# the scaling rules of parameterization.py: batch size (Malladi et al.), training horizon (Bjorck et al.), weight
# decay (Wang & Aitchison)

RULE_METRIC = 'final_val_loss'  # what the three papers compare; and the weight-decay sweep overfits its small
# training set, where the best evaluation would be early stopping, a regulariser of its own


def split_rule(runs, key):
    """(runs with the rule off (key None), runs with it on, the rule's base value or None if they differ)."""
    off = [r for r in runs if r['config'].get(key) is None]
    on = [r for r in runs if r['config'].get(key) is not None]
    bases = {r['config'][key] for r in on}
    return off, on, (bases.pop() if len(bases) == 1 else None)


def gap_part(off, on, k):
    """A rule-on run at base LR eta is the rule-off run at LR eta (x / x0)^k, so the two fitted exponents differ by
    the rule's k, up to where the grid points fall and the noise: reported, not judged."""
    f0, f1 = fit_of(off), fit_of(on)
    both = f0 and f1 and V.finite(f0['e']) and V.finite(f1['e'])
    return part('the two columns differ by the rule\'s exponent', f"by construction: e(off) - e(on) = {k:+.2f}",
                (None, f"e(off) - e(on) = {f0['e'] - f1['e']:+.2f}" if both else 'needs both fits'), counts=False)


def budget_steps(runs):
    """'409600 tokens: batch 256 tokens x 1600 steps, ...' of runs along tokens_per_iter at one token budget."""
    steps = sorted({(tables.axis_value(r['config'], 'tokens_per_iter'), r['config']['max_iters']) for r in runs})
    budget = sorted({tables.axis_value(r['config'], 'train_tokens') for r in runs})
    return (f"{', '.join(str(b) for b in budget)} tokens per run: "
            + ', '.join(f"{b} tokens per iteration x {n} steps" for b, n in steps))


def analyse_batch(runs, ctx):
    """Malladi et al. 2022, the square-root scaling rule: Adam with a batch kappa times larger and an LR sqrt(kappa)
    times larger follows the same stochastic differential equation per token, so at a fixed token budget the optimal
    LR grows like B^1/2 (B: tokens per iteration); with parameterization.py's batch rule (LR x (B / B0)^1/2) the
    optimal base LR is flat."""
    off_runs, on_runs, b0 = split_rule(runs, 'base_batch_tokens')
    off = column(ctx, 'batch_rule_off', 'muP AdamW, no batch rule (one base LR at every batch size)', off_runs,
                 'tokens_per_iter', metric=RULE_METRIC)
    on = column(ctx, 'batch_rule_on', f"muP AdamW, square-root batch rule (LR x (B / {b0})^1/2)", on_runs,
                'tokens_per_iter', metric=RULE_METRIC)
    parts = [part('without the rule: the optimal LR grows like B^1/2',
                  'square-root rule (SDE of adaptive methods; the betas and epsilon adjusted too): batch x kappa with '
                  'LR x sqrt(kappa) trains alike per token, so lr* ~ B^1/2 at a fixed token budget: e = +0.5',
                  V.expect_exponent(fit_of(off), V.BATCH_SQRT, 0.0)),
             part('with the square-root rule: the optimal base LR is flat', 'the rule removes the B^1/2: e = 0',
                  V.expect_exponent(fit_of(on), 0.0, -V.BATCH_SQRT)),
             part('steps at the fixed token budget', 'a batch kappa times smaller takes kappa times the steps; the SDE '
                  'argument holds for small LRs, where that is all the same',
                  (None, budget_steps(runs) + ": the optimum answers to the step count too (the horizon claim "
                                              "measures it at a fixed batch)"), counts=False),
             gap_part(off, on, V.BATCH_SQRT)]
    return dict(columns=[c for c in (off, on) if c], tables=[], figures=[], parts=parts,
                measured=exps([('no rule', off), ('rule', on)]))


def analyse_horizon(runs, ctx):
    """Bjorck et al. 2025: the optimal LR falls with the token horizon D as a power law, LR* ~ D^-beta with beta
    about 0.32; with parameterization.py's horizon rule (LR x (D / D0)^-0.32) the optimal base LR is flat."""
    off_runs, on_runs, t0 = split_rule(runs, 'base_train_tokens')
    rho = sorted({r['config'].get('horizon_lr_exponent') for r in on_runs})
    rho = rho[0] if len(rho) == 1 else -V.HORIZON_BETA
    off = column(ctx, 'horizon_rule_off', 'muP AdamW, no horizon rule (one base LR at every horizon)', off_runs,
                 'train_tokens', metric=RULE_METRIC)
    on = column(ctx, 'horizon_rule_on', f"muP AdamW, horizon rule (LR x (D / {t0})^-{rho:g})", on_runs,
                'train_tokens', metric=RULE_METRIC)
    parts = [part('without the rule: the optimal LR falls like D^-0.32',
                  'Fig. 1 and their fits: longer training needs a smaller LR, LR* ~ D^-beta over token horizons D, '
                  'beta about 0.32 (the exponent of the repository\'s horizon rule): e = -0.32',
                  V.expect_exponent(fit_of(off), V.HORIZON_BETA, 0.0)),
             part('with the horizon rule: the optimal base LR is flat', 'the rule removes the D^-0.32: e = 0',
                  V.expect_exponent(fit_of(on), 0.0, -V.HORIZON_BETA)),
             gap_part(off, on, -rho)]
    return dict(columns=[c for c in (off, on) if c], tables=[], figures=[], parts=parts,
                measured=exps([('no rule', off), ('rule', on)]))


def hidden_lr(ctx, run):
    """The hidden matrices' peak LR of one run, read from its groups.txt (NaN without one)."""
    try:
        for line in (ctx.run_dir / run['name'] / 'groups.txt').read_text().splitlines():
            cols = line.split()
            if cols[:1] == ['hidden']:
                return float(cols[4])  # role tensors params lr_mult lr eps wd names
    except (OSError, ValueError, IndexError):
        pass
    return math.nan


def timescale_table(ctx, coupled, timescale, runs):
    """Per width: the hidden LR, the coupled optimum wd* and the timescale it gives the hidden matrices,
    1 / (hidden LR x wd*), next to the optimal tau of wd_mode='timescale'; in iterations and epochs."""
    rows = []
    for x in sorted(set(coupled['fit']['xs'] if coupled else []) | set(timescale['fit']['xs'] if timescale else [])):
        at = [r for r in runs if r['config']['n_embd'] == x]
        lr = next((v for v in (hidden_lr(ctx, r) for r in at) if V.finite(v)), math.nan)
        c = at[0]['config']
        epoch = c.get('train_set_tokens', 0) / tables.axis_value(c, 'tokens_per_iter') or math.nan
        wd = coupled['fit']['opt'].get(x, math.nan) if coupled else math.nan
        tau_c = 1 / (lr * wd) if V.finite(lr) and V.finite(wd) and wd > 0 else math.nan
        tau_t = timescale['fit']['opt'].get(x, math.nan) if timescale else math.nan
        rows.append(f"| {x} | {lr:.3g} | {wd:.3g} | {tau_c:.0f} ({tau_c / epoch:.1f}) | {tau_t:.0f} "
                    f"({tau_t / epoch:.1f}) |")
    head = ('| width | hidden LR | coupled: optimal wd | its hidden timescale 1/(LR wd), iterations (epochs) | '
            'timescale: optimal tau, iterations (epochs) |\n|---:|---:|---:|---:|---:|\n')
    return [('The optimal weight decay as a timescale', head + '\n'.join(rows) + '\n')] if rows else []


def analyse_wd(runs, ctx):
    """Wang & Aitchison 2024: AdamW's weights are an exponential moving average of the updates with timescale
    tau = 1 / (lr wd) iterations, and the optimal tau does not change with the model's size. Under muP the hidden
    LR falls like 1/n, so one coupled weight_decay must grow like n to keep tau; wd_mode='timescale' sets
    wd = 1 / (lr tau) per group, and its optimal tau is flat."""
    coupled = column(ctx, 'wd_coupled', "muP AdamW, one weight_decay at every width (wd_mode='coupled')",
                     select(runs, wd_mode='coupled'), 'n_embd', hp='weight_decay', metric=RULE_METRIC)
    timescale = column(ctx, 'wd_timescale', "muP AdamW, the weights' timescale tau fixed in iterations "
                       "(wd_mode='timescale')", select(runs, wd_mode='timescale'), 'n_embd', hp='wd_timescale',
                       metric=RULE_METRIC)
    parts = [part('one weight_decay: the optimal wd grows like width^1',
                  'weights = EMA of updates, tau = 1/(lr wd) iterations; the optimal tau (in epochs) is about the '
                  'same at every model and dataset size, so under muP (hidden LR ~ 1/n) wd* ~ n: e = +1',
                  V.expect_exponent(fit_of(coupled), V.WD_WIDTH, 0.0)),
             part('tau fixed: the optimal tau is flat across width', 'the optimal timescale does not move: e = 0 '
                  '(were one wd best at every width, the hidden tau* would grow like n: e = +1)',
                  V.expect_exponent(fit_of(timescale), 0.0, V.WD_WIDTH))]
    return dict(columns=[c for c in (coupled, timescale) if c], tables=timescale_table(ctx, coupled, timescale, runs),
                figures=[], parts=parts, measured=exps([('coupled wd*', coupled), ('tau*', timescale)]))


# -----------------------------------------------------------------------------
# the registry

CLAIMS = {
    'gupta_width': dict(
        title='Gupta et al. 2026: muP LR transfer across width for AdamW, ADOPT, LAMB, Sophia',
        paper='muP (their Table 2) makes the optimal LR width-independent for AdamW, ADOPT, LAMB and Sophia '
              '(Tables 5/9/13/17, widths 128-2048)',
        sweeps={'laptop': 'config/repro/laptop/gupta_width.py', 'paper': 'config/repro/gupta_width.py'},
        smoke=[dict(optimizer='adamw')], analyse=analyse_gupta_width),
    'gupta_depth': dict(
        title='Gupta et al. 2026: depth-muP LR transfer across depth',
        paper='depth-muP keeps the optimal LR across depth for AdamW and Sophia (Tables 7, 15), not for ADOPT and '
              'LAMB (Tables 11, 19)',
        sweeps={'laptop': 'config/repro/laptop/gupta_depth.py', 'paper': 'config/repro/gupta_depth.py'},
        smoke=[dict(optimizer='adamw')], analyse=analyse_gupta_depth),
    'everett': dict(
        title='Everett et al. 2024: LR exponents per parameterization, epsilon, alignment (Adam)',
        paper='Adam: SP + global LR e = -0.95; per-layer LR, full alignment e ~ 0 (-0.05 SP, -0.06 muP); no '
              'alignment -0.58..-0.69; epsilon must scale per layer or vanish (atan2); alignment starts at 0.5, '
              'stays intermediate',
        sweeps={'laptop': 'config/repro/laptop/everett.py', 'paper': 'config/repro/everett_width.py'},
        smoke=[dict(parameterization='sp', optimizer='adamw', lr_scaling='global'),
               dict(parameterization='mup', optimizer='adamw', lr_scaling='per_layer', alignment='full',
                    eps_scaling='constant', eps=1e-8)],
        analyse=analyse_everett),
    'splus_width': dict(
        title='Frans et al. 2025: SPlus LR transfer across width vs AdamW and Shampoo',
        paper="SPlus's optimal LR is the same at every width; Adam's and Shampoo's are not (Fig. 3)",
        sweeps={'laptop': 'config/repro/laptop/splus_width.py', 'paper': 'config/repro/splus_width.py'},
        smoke=[dict(optimizer=('adamw', 'splus'))], analyse=analyse_splus_width),
    'splus_steps': dict(
        title="Frans et al. 2025: steps (and wall-clock) to reach AdamW's loss",
        paper="SPlus reaches Adam's final loss in 0.44 of the steps and 0.62 of the wall-clock (Table 1)",
        sweeps={'laptop': 'config/repro/laptop/splus_steps.py', 'paper': 'config/repro/splus_steps_to_adam.py'},
        smoke=[dict(optimizer=('adamw', 'splus'))], analyse=analyse_splus_steps),
    'batch': dict(
        title='Malladi et al. 2022: the square-root rule, optimal LR vs batch size (AdamW)',
        paper='at a fixed token budget the optimal Adam LR grows like B^1/2 (square-root rule); with the rule the '
              'optimal base LR is flat',
        sweeps={'laptop': 'config/repro/laptop/batch.py'},
        smoke=[dict(batch_size=(4, 8), learning_rate=3.2e-3)], analyse=analyse_batch),
    'horizon': dict(
        title='Bjorck et al. 2025: optimal LR vs training horizon (AdamW)',
        paper='longer training needs a smaller LR, LR* ~ D^-0.32 over token horizons D; with the rule the optimal '
              'base LR is flat',
        sweeps={'laptop': 'config/repro/laptop/horizon.py'},
        smoke=[dict(max_iters=(125, 250), learning_rate=3.2e-3)], analyse=analyse_horizon),
    'wd': dict(
        title="Wang & Aitchison 2024: AdamW's weight decay across width under muP",
        paper='the optimal EMA timescale tau = 1/(lr wd) does not move with width, so under muP (hidden LR ~ 1/n) the '
              'optimal coupled weight decay grows like n and the optimal tau is flat',
        sweeps={'laptop': 'config/repro/laptop/wd.py'},
        smoke=[dict(wd_mode='coupled', weight_decay=0.5), dict(wd_mode='timescale', wd_timescale=400.0)],
        analyse=analyse_wd),
}
