"""
Verdicts of scripts/reproduce.py: pure functions from measured numbers to one of three labels, with every
threshold stated here. tests/test_reproduce.py feeds them synthetic numbers.

A *fit* is the summary of one LR / width (or LR / depth) table that scripts/claims.py makes from scripts/tables.py's
analysis (a plain dict, also written to the claim's .json):

    e        fitted exponent of lr* ~ x^e (x = width or depth)
    lo, hi   its 95% bootstrap interval over seeds; NaN when there is none (one seed, or every optimum on an edge)
    n        widths (depths) with a fitted optimum
    n_edge   how many of those optima are the first or last LR of the grid (the grid does not bracket them there)
    note     why there is no interval, if there is none

A *part* is one checked statement of a claim: dict(name, label, reason, counts). The claim's verdict combines the
labels of the parts that count (combine); a part with counts=False is reported next to them (a repository variant
the paper does not claim anything about, or a number that is not comparable, such as CPU wall-clock).
"""

import math

REPRODUCED = 'reproduced'
NOT_REPRODUCED = 'not reproduced'
INCONCLUSIVE = 'inconclusive at this scale'
LABELS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE)

# --- thresholds ------------------------------------------------------------------------------------------------
FLAT = 0.15  # |e| <= FLAT: the optimal LR moves by at most 8^0.15 = 1.37x over an 8x range of width (or depth)
MAX_CI_WIDTH = 1.0  # an interval wider than 1 cannot tell muP's 0 from SP's -1 (Everett et al. Table I1: -0.95)
MAX_EDGE_FRACTION = 0.25  # more than a quarter of the optima on a grid edge: the fit extrapolates
EPS_GROWTH = 0.01  # nats: how much more the constant epsilon must cost at the largest width than at the smallest
EPS_TRACK = 0.5  # per-layer epsilon: its cost may grow by at most this fraction of the constant epsilon's growth
ATAN2_GAP = 0.02  # nats: Adam-atan2's best loss within this of Adam's (epsilon 1e-8) at the largest width
ALIGN_START = (0.4, 0.6)  # Everett et al. §4.1: "the measured alignment values start at 0.5"
ALIGN_RISE = 0.05  # some layer type's alignment must rise at least this much above its start during training
STEPS_PAPER = 0.44  # SPlus steps-to-Adam, average of Frans et al. Table 1 (Fig. 6)
STEPS_TOL = 0.15  # reproduced: seed-mean fraction <= STEPS_PAPER + STEPS_TOL
STEPS_FAIL = 0.8  # not reproduced: seed-mean fraction above this, or a seed that never reaches Adam's loss
STEPS_SPREAD = 0.3  # inconclusive: seeds further apart than this
# the batch, horizon and weight-decay claims (expect_exponent): the predicted exponent and the one it replaces
BATCH_SQRT = 0.5  # Malladi et al. 2022: Adam's square-root rule, lr* ~ B^(1/2) at a fixed token budget
HORIZON_BETA = -0.32  # Bjorck et al. 2025: lr* ~ D^-beta over token horizons D, beta ~ 0.32 (the horizon rule's)
WD_WIDTH = 1.0  # Wang & Aitchison 2024: coupled wd* ~ 1 / (hidden lr x tau) ~ n under muP (hidden lr ~ 1/n)


def finite(x):
    return x is not None and isinstance(x, (int, float)) and math.isfinite(x)


def fmt_fit(fit):
    """'e = -0.12 [-0.30, +0.05]' (or why there is no interval)."""
    if fit is None:
        return 'no runs'
    if not finite(fit.get('e')):
        return 'no fit'
    ci = f" [{fit['lo']:+.2f}, {fit['hi']:+.2f}]" if finite(fit.get('lo')) else f", {fit.get('note') or 'no interval'}"
    edge = f", {fit['n_edge']}/{fit['n']} optima on the grid edge" if fit.get('n_edge') else ''
    return f"e = {fit['e']:+.2f}{ci}{edge}"


def fit_problem(fit):
    """Why a fit cannot support a verdict ('' if it can): no fit, no interval, optima on the grid edges, or an
    interval too wide to tell a flat optimum from a drifting one."""
    if fit is None:
        return 'no runs of this setting'
    if not finite(fit.get('e')):
        return 'no fit (fewer than two widths or depths with a finite optimum)'
    if not finite(fit.get('lo')) or not finite(fit.get('hi')):
        return fit.get('note') or 'no bootstrap interval'
    if fit.get('n_edge', 0) > MAX_EDGE_FRACTION * fit.get('n', 0):
        return f"{fit['n_edge']}/{fit['n']} optima on the grid edge"
    if fit['hi'] - fit['lo'] > MAX_CI_WIDTH:
        return f"interval [{fit['lo']:+.2f}, {fit['hi']:+.2f}] wider than {MAX_CI_WIDTH:g}"
    return ''


def with_fit(fit, problem):
    """'e = +0.12 [...]: <problem>' when there is a fitted exponent, else the problem alone."""
    if not (fit and finite(fit.get('e'))):
        return problem
    text = fmt_fit(fit)
    return f"{text} (cannot judge)" if problem in text else f"{text} (cannot judge: {problem})"


def is_flat(fit):
    """The optimal LR does not move: the interval contains 0, or |e| <= FLAT."""
    return fit['lo'] <= 0 <= fit['hi'] or abs(fit['e']) <= FLAT


def is_negative(fit):
    """The optimal LR clearly falls along the axis: the whole interval is below 0."""
    return fit['hi'] < 0


def expect(fit, shape):
    """(label, reason) of one fit against the expected shape: 'flat' or 'negative'."""
    problem = fit_problem(fit)
    if problem:
        return INCONCLUSIVE, with_fit(fit, problem)
    ok = is_flat(fit) if shape == 'flat' else is_negative(fit)
    what = {'flat': f"flat (interval contains 0 or |e| <= {FLAT:g})",
            'negative': 'clearly negative (interval below 0)'}[shape]
    return (REPRODUCED, f"{fmt_fit(fit)}: {what}") if ok else (NOT_REPRODUCED, f"{fmt_fit(fit)}: not {what}")


def expect_exponent(fit, target, null):
    """(label, reason) of one fit against a predicted exponent `target`, told apart from the `null` exponent the
    prediction replaces (the batch, horizon and weight-decay claims: +0.5 against 0, 0 against -0.5, ...). With
    d = |target - null| (how far apart the two hypotheses are): reproduced if e is within d/2 of the target (closer
    to it than to the null, and than to target + (target - null), a rule twice as strong) and the interval lies
    strictly between target - d and target + d (it excludes both); not reproduced if e is d/2 or more away and the
    interval excludes the target; inconclusive otherwise (an interval that holds the target and an alternative, or
    the target but not e) and whenever fit_problem finds one."""
    problem = fit_problem(fit)
    if problem:
        return INCONCLUSIVE, with_fit(fit, problem)
    d = abs(target - null)
    near = abs(fit['e'] - target) < d / 2
    inside = target - d < fit['lo'] and fit['hi'] < target + d
    holds = fit['lo'] <= target <= fit['hi']
    what = f"predicted {target:+.2f}, alternative {null:+.2f}: reproduced within {d / 2:.2f} of the prediction"
    if near and inside:
        return REPRODUCED, f"{fmt_fit(fit)} ({what})"
    if not near and not holds:
        return NOT_REPRODUCED, f"{fmt_fit(fit)} ({what}; e is {abs(fit['e'] - target):.2f} away and the interval " \
                               f"excludes {target:+.2f})"
    return INCONCLUSIVE, f"{fmt_fit(fit)} ({what}; " + ('the interval reaches an alternative)' if near else
                                                        'the interval holds the prediction, e does not)')


def transfer(flat_fit, baseline_fit):
    """Width transfer (Gupta et al.; SPlus Fig. 3): reproduced if the transferring column is flat AND the baseline's
    optimal LR clearly falls; inconclusive if either fit cannot support a verdict; not reproduced otherwise."""
    problems = [(w, f, fit_problem(f)) for w, f in (('transferring column', flat_fit), ('baseline', baseline_fit))]
    if any(p for _, _, p in problems):
        return INCONCLUSIVE, '; '.join(f"{w} {with_fit(f, p) if p else fmt_fit(f)}" for w, f, p in problems)
    flat, neg = is_flat(flat_fit), is_negative(baseline_fit)
    reason = (f"transferring column {fmt_fit(flat_fit)} ({'flat' if flat else 'not flat'}), baseline "
              f"{fmt_fit(baseline_fit)} ({'clearly negative' if neg else 'interval not below 0'})")
    return (REPRODUCED if flat and neg else NOT_REPRODUCED), reason


def combine(labels):
    """One verdict from several: not reproduced if any is, else inconclusive if any is, else reproduced
    (inconclusive when there is nothing to combine)."""
    labels = [lab for lab in labels if lab is not None]
    if not labels:
        return INCONCLUSIVE
    if NOT_REPRODUCED in labels:
        return NOT_REPRODUCED
    if INCONCLUSIVE in labels:
        return INCONCLUSIVE
    return REPRODUCED


def epsilon(penalty_const, penalty_layer):
    """Everett et al. §4.3: a constant epsilon large enough to matter costs more and more loss as the width grows
    (gradients shrink under it), a per-layer epsilon (scaled with each layer's gradient) does not.
    penalty_*: {width: best loss of that setting - best loss of the same model with epsilon 1e-8}.
    Reproduced if the constant's cost grows by >= EPS_GROWTH from the smallest to the largest width and the
    per-layer cost grows by at most EPS_TRACK of that; inconclusive if the constant's cost does not grow (epsilon
    too small to matter at these widths) or a width is missing; not reproduced otherwise."""
    xs = sorted(set(penalty_const) & set(penalty_layer))
    vals = [penalty_const.get(x) for x in xs] + [penalty_layer.get(x) for x in xs]
    if len(xs) < 2 or not all(finite(v) for v in vals):
        return INCONCLUSIVE, 'the epsilon settings lack a finite best loss at two widths'
    g_const = penalty_const[xs[-1]] - penalty_const[xs[0]]
    g_layer = penalty_layer[xs[-1]] - penalty_layer[xs[0]]
    reason = (f"extra loss from width {xs[0]} to {xs[-1]}: constant epsilon {penalty_const[xs[0]]:+.3f} -> "
              f"{penalty_const[xs[-1]]:+.3f} (growth {g_const:+.3f}), per-layer epsilon {penalty_layer[xs[0]]:+.3f}"
              f" -> {penalty_layer[xs[-1]]:+.3f} (growth {g_layer:+.3f})")
    if g_const < EPS_GROWTH:
        return INCONCLUSIVE, reason + f": the constant epsilon's cost grows by less than {EPS_GROWTH:g}"
    if g_layer <= EPS_TRACK * g_const:
        return REPRODUCED, reason
    return NOT_REPRODUCED, reason + f": the per-layer epsilon's cost grows by more than {EPS_TRACK:g} of it"


def atan2(fit, gap):
    """Adam-atan2 (Everett et al. §4.3, App. C.5) needs no epsilon and keeps Adam's behaviour: reproduced if its
    optimal LR is flat across width and its best loss at the largest width is within ATAN2_GAP of Adam's (epsilon
    1e-8); gap = atan2 best loss - Adam best loss there."""
    problem = fit_problem(fit)
    if problem or not finite(gap):
        return INCONCLUSIVE, with_fit(fit, problem) if problem else 'no best loss to compare at the largest width'
    ok = is_flat(fit) and abs(gap) <= ATAN2_GAP
    reason = f"{fmt_fit(fit)}; best loss {gap:+.3f} nats from Adam's at the largest width (threshold {ATAN2_GAP:g})"
    return (REPRODUCED if ok else NOT_REPRODUCED), reason


def alignment(start, peak):
    """Everett et al. §4.1 / Fig. 2: the log alignment ratio starts at 0.5 (random init, independent of the data) and
    rises during training to intermediate values. start, peak: {layer type: value} (mean over blocks). Reproduced
    if every start lies in ALIGN_START and some layer type rises by >= ALIGN_RISE; inconclusive without data."""
    if not start:
        return INCONCLUSIVE, 'no alignment rows in the runs (alignment_interval = 0)'
    off = {k: v for k, v in start.items() if not ALIGN_START[0] <= v <= ALIGN_START[1]}
    rise = {k: peak[k] - start[k] for k in start if k in peak}
    top = max(rise, key=rise.get) if rise else None
    reason = ', '.join(f"{k} {start[k]:.2f} -> peak {peak.get(k, math.nan):.2f}" for k in start)
    if off:
        return NOT_REPRODUCED, reason + f": start outside {ALIGN_START} for {', '.join(off)}"
    if top is None or rise[top] < ALIGN_RISE:
        return NOT_REPRODUCED, reason + f": no layer type rises by {ALIGN_RISE:g}"
    return REPRODUCED, reason


def steps_to_adam(fractions, reached):
    """SPlus's steps-to-Adam (Frans et al. §5, Table 1: 0.44 on average): fractions, reached: per seed.
    Reproduced if every seed reaches Adam's final loss and the seed mean is <= STEPS_PAPER + STEPS_TOL; not
    reproduced if a seed never reaches it or the mean is above STEPS_FAIL; inconclusive in between or when the seeds
    are more than STEPS_SPREAD apart."""
    if not fractions:
        return INCONCLUSIVE, 'no SPlus or no AdamW run finished'
    mean = sum(fractions) / len(fractions)
    spread = max(fractions) - min(fractions)
    seeds = ', '.join(f"{f:.2f}" if ok else f"> {f:.2f}" for f, ok in zip(fractions, reached))
    reason = f"{mean:.2f} of AdamW's steps (seeds: {seeds}; paper {STEPS_PAPER:g})"
    if not all(reached):
        return NOT_REPRODUCED, reason + ': a seed never reaches AdamW\'s final loss'
    if mean > STEPS_FAIL:
        return NOT_REPRODUCED, reason + f': above {STEPS_FAIL:g}'
    if spread > STEPS_SPREAD:
        return INCONCLUSIVE, reason + f': seeds {spread:.2f} apart'
    if mean <= STEPS_PAPER + STEPS_TOL:
        return REPRODUCED, reason + f': within {STEPS_TOL:g} of the paper or below'
    return INCONCLUSIVE, reason + f': between {STEPS_PAPER + STEPS_TOL:.2f} and {STEPS_FAIL:g}'
