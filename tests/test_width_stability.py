"""Width stability of the update, measured: for every parameterization x optimizer x head rule, how far 3 optimizer
steps move every module's output, as a function of width (measure.update_coords; the coordinate check of Yang et
al. 2021, "Tensor Programs V", §7 and App. D, applied to the change Delta = f(after) - f(init)).

A width-stable parameterization (Everett et al. 2024, "Scaling Exponents Across Parameterizations and Optimizers",
§3 and Table 2) moves every activation by Theta(1) per coordinate at every width: the least-squares slope of
log RMS(Delta) vs log width is 0. We hold every role (embedding, each LayerNorm's output, attention logits, attention
output, MLP hidden and output per block, logits) of every combination that measure.WIDTH_STABLE_CLAIMS lists to

    |slope| <= BOUND = 0.15   over widths 32, 64, 128, 256 (a factor 8: 8^0.15 = 1.37 end to end),

and every combination it does not list to exceeding that bound somewhere (so the list cannot go stale). A defect
in an exponent shows up as a slope of +-0.5 or +-1 (an exponent off by 1/2 or 1).

The protocol, and why (muP + AdamW, n_head fixed, measured at these widths unless said otherwise):
- 8 tokens per step (batch 2 x block 4), a quarter of the smallest width and half the smallest head dimension.
  A step's sum over fan_in has an aligned part ~ n and a random part ~ sqrt(n * tokens) (Everett's alignment
  exponents assume tokens << n), and an attention logit sums d_head terms the same way, so with tokens comparable
  to the width (or to d_head) the smallest models move more and the slopes drift down. Measured over 4 batches x 2
  seeds, attention-logit / second-MLP slopes: 1 x 16 tokens -0.28 / -0.10, 2 x 8 -0.19 / -0.07, 2 x 4 -0.11 / -0.03.
- init_std_embedding = 1.0 (a width-independent constant, Everett's sigma): with the default 0.02 an Adam step of
  a few 1e-3 moves the embedding by its own size within 3 steps, every LayerNorm output changes by O(1), and in the
  muP family the terms W * Delta(input) of the outputs that start vanishingly small (logits with a + b = 1, attention
  logits with 1/d_head), which shrink as n^-1/2, outweigh the aligned Theta(1) term at these widths: logits slope
  -0.20 with 0.02, -0.09 with 1.0 (2 x 8 tokens).
- base LRs (BASE_LR) give visible updates (at the base width the branch outputs move by 10-300% of their init
  scale) that stay out of the strongly nonlinear regime: Adam family 3e-3, not 1e-2 (second-MLP slope -0.17 at 1e-2,
  -0.05 at 3e-3, with the default embedding init).
- no gradient clipping (a global-norm clip couples every layer through one width-dependent norm), no weight decay,
  fp32 on the CPU, each optimizer's own hyperparameter defaults, the engine's defaults otherwise: eps 1e-8 with
  eps_scaling 'constant' (it takes -0.04 off the muP attention-logit slopes here, where the 1/d_head scale shrinks
  the query and key gradients toward eps; eps 1e-30 measured -0.05 / -0.01 instead of -0.09 / -0.05).

What finite width leaves in a correct parameterization under this protocol: muP + AdamW measures max |slope| 0.09
over all roles (attention logits -0.09 and -0.05, LayerNorm outputs -0.08 to -0.02, MLP outputs -0.03 and -0.01);
over 4 batches its worst role ranged 0.09-0.17. The bound leaves room for that; the defects this file is meant to
catch are +-0.5 or more.

SP with one global LR (lr_scaling='global') must be clearly unstable: max over roles of the slope >= +0.5.

The slope table of every combination measured in a run is printed at the end of the module (pytest -s) and written
to out/width_stability/slopes.md.    pytest tests/test_width_stability.py -s
"""

import os
import time

import pytest
from conftest import ROOT

import measure
import optim

BOUND = 0.15  # |slope| of every role of a claimed combination
UNSTABLE_MIN = 0.5  # SP with one global LR: max slope over roles at least this
WIDTHS = (32, 64, 128, 256)
STEPS = 3
SEEDS = (0, 1)
PARAMETERIZATIONS = ('sp', 'ntk', 'mup', 'mfp', 'mup_spectral')
HEAD_RULES = {'n_head': dict(n_head=2, head_dim=0),     # head_dim = width / 2 grows with width
              'head_dim': dict(n_head=2, head_dim=16)}  # n_head = width / 16 grows with width
PROTOCOL = dict(n_layer=2, block_size=4, batch_size=2, base_width=WIDTHS[0], alignment='full',
                init_std_embedding=1.0)

# Base LR per optimizer at the base width (32), the same for every parameterization (every base-relative
# parameterization is SP there). Chosen so that 3 steps move the branch outputs by 10-300% of their init scale:
# - Adam family (adam, adamw, adam_atan2, sophia, shampoo, schedulefree_adamw): 3e-3. Sophia before its first
#   Hessian refresh (step 10) is lr * sign(m), Shampoo before its first preconditioner is grafted Adam.
# - ADOPT: 1e-2 (its first step only initialises v, so it makes 2 updates in 3 steps).
# - SOAP: 1e-2 (its first step only builds the eigenbases: 2 updates in 3 steps).
# - SGD: 0.3 (with momentum 0.9; the readout's logits move by 0.5 at the base width).
# - Adafactor and Adam + parameter scaling (adam_ps): 3e-2 (update ~ LR x RMS(W), and hidden RMS(W) is 0.02).
# - LAMB: 1e-2 (||dW|| = LR ||W|| per step: 1% of every weight's norm).
# - SPlus: 0.1 (its own default; sign updates in the eigenbasis).
# - Muon: 0.03 (official 0.02; the AdamW roles get LR x 0.015).
# - PSGD (Kron): 1e-2 (official 3e-4 is tuned for large batches; its preconditioner starts at the identity, so the
#   first steps are momentum SGD and small at 3e-4).
BASE_LR = dict(sgd=0.3, adam=3e-3, adamw=3e-3, adam_atan2=3e-3, adam_ps=3e-2, adafactor=3e-2, adopt=1e-2, lamb=1e-2,
               sophia=3e-3, splus=0.1, shampoo=3e-3, soap=1e-2, psgd=1e-2, muon=0.03, schedulefree_adamw=3e-3)

# Variants of a registry optimizer, measured like one (name -> (optimizer, keys over PROTOCOL)), at that optimizer's
# base LR.
# - muon_rms: Muon with muon_scale='rms' (update scaled to RMS 0.2 lr, Liu et al. 2025); its hidden family,
#   invariant_rms, follows from the flag (measured max |slope| 0.066; with Adam's exponents, c = 1 - a, every
#   hidden-driven role measured -0.44 to -0.56). With head_dim fixed it measures +0.147 at the attention logits
#   (muon 'original' +0.140), 0.003 inside the bound: the case held here is n_head fixed.
# - adamw_tied: tie_embeddings=True, the shared matrix under the muP family's rule (parameterization.check_tied).
#   That matrix is also the readout, so its init std is the default 0.02 (the untied readout's), not PROTOCOL's
#   embedding 1.0: with 1.0 the base-width logits start at O(5) (a saturated softmax) and the logits' update
#   measured slope -0.29 (max |slope| 0.29); with 0.02, max |slope| 0.11 (attention logits of block 1 +0.11,
#   logits -0.10).
VARIANTS = {'muon_rms': ('muon', dict(muon_scale='rms')),
            'adamw_tied': ('adamw', dict(tie_embeddings=True, init_std_embedding=0.02))}
VARIANT_CASES = [('mup', 'muon_rms', 'n_head'), ('mup', 'adamw_tied', 'n_head')]

_measured = {}  # (parameterization, lr_scaling, optimizer, head rule) -> {role: slope}: one measurement per key


def slopes(parameterization, optimizer, head_rule, lr_scaling='per_layer'):
    key = (parameterization, lr_scaling, optimizer, head_rule)
    if key not in _measured:
        name, own = VARIANTS.get(optimizer, (optimizer, {}))
        cfg = dict(PROTOCOL, **HEAD_RULES[head_rule], parameterization=parameterization, lr_scaling=lr_scaling,
                   optimizer=name, learning_rate=BASE_LR[name], **own)
        rows = measure.update_coords(cfg, WIDTHS, steps=STEPS, seeds=SEEDS)
        _measured[key] = measure.loglog_slopes(rows)
    return _measured[key]


def test_every_optimizer_has_a_base_lr():
    assert set(BASE_LR) == set(optim.REGISTRY)


def _fmt(s):
    return ', '.join(f'{role} {v:+.2f}' for role, v in s.items())


@pytest.mark.parametrize('head_rule', list(HEAD_RULES))
@pytest.mark.parametrize('optimizer', list(optim.REGISTRY))
@pytest.mark.parametrize('parameterization', PARAMETERIZATIONS)
def test_update_is_width_stable(parameterization, optimizer, head_rule):
    s = slopes(parameterization, optimizer, head_rule)
    outside = {role: v for role, v in s.items() if not abs(v) <= BOUND}  # nan is outside
    if measure.claimed_width_stable(parameterization, optimizer, head_rule):
        assert not outside, (f"{parameterization} + {optimizer} ({head_rule} fixed) is claimed width-stable but "
                             f"the slope of log RMS(Delta output) vs log width leaves +-{BOUND} at: {_fmt(outside)}")
    else:
        assert outside, (f"{parameterization} + {optimizer} ({head_rule} fixed) measures width-stable (all slopes "
                         f"within +-{BOUND}: {_fmt(s)}) but measure.WIDTH_STABLE_CLAIMS does not list it")


@pytest.mark.parametrize('parameterization, variant, head_rule', VARIANT_CASES)
def test_variant_update_is_width_stable(parameterization, variant, head_rule):
    s = slopes(parameterization, variant, head_rule)
    outside = {role: v for role, v in s.items() if not abs(v) <= BOUND}  # nan is outside
    assert measure.claimed_width_stable(parameterization, variant, head_rule)
    assert not outside, (f"{parameterization} + {variant} ({head_rule} fixed) is claimed width-stable but the slope "
                         f"of log RMS(Delta output) vs log width leaves +-{BOUND} at: {_fmt(outside)}")


@pytest.mark.parametrize('optimizer', list(optim.REGISTRY))
def test_sp_with_one_global_lr_is_unstable(optimizer):
    s = slopes('sp', optimizer, 'n_head', lr_scaling='global')
    worst = max(s, key=s.get)
    assert s[worst] >= UNSTABLE_MIN, (f"sp + {optimizer} with one global LR: the largest slope is {worst} "
                                      f"{s[worst]:+.2f} < +{UNSTABLE_MIN}: {_fmt(s)}")


@pytest.fixture(scope='module', autouse=True)
def slope_table():
    """After the module: every measured combination, every role, printed and written to out/width_stability/."""
    t0 = time.time()
    yield
    if not _measured:
        return
    roles = list(next(iter(_measured.values())))
    lines = [f"Slope of log RMS(Delta output) vs log width, widths {list(WIDTHS)}, {STEPS} steps, seeds "
             f"{list(SEEDS)}, bound +-{BOUND} ({time.time() - t0:.0f} s)", '',
             '| parameterization | lr_scaling | optimizer | head rule | claimed | max abs | '
             + ' | '.join(roles) + ' |', '|' + '---|' * (6 + len(roles))]
    for (p, scaling, o, h), s in _measured.items():
        claimed = 'yes' if scaling == 'per_layer' and measure.claimed_width_stable(p, o, h) else 'no'
        worst = max(abs(v) for v in s.values())
        lines.append(f'| {p} | {scaling} | {o} | {h} | {claimed} | {worst:.2f} | '
                     + ' | '.join(f'{s[r]:+.2f}' for r in roles) + ' |')
    text = '\n'.join(lines) + '\n'
    print('\n' + text)
    out = ROOT / 'out' / 'width_stability'
    os.makedirs(out, exist_ok=True)
    (out / 'slopes.md').write_text(text)
