"""Depth stability of the update, measured (measure.depth_coords): at width 64, depths n_layer = 2, 4, 8, 16
(base_depth 2), how far 3 optimizer steps move the residual stream after the last block, each residual branch and
the logits.

Theory (Yang et al. 2023, "Tensor Programs VI: Feature Learning in Infinite-Depth Neural Networks"; Dey et al.
2025, "Don't be lazy: CompleteP enables compute-efficient deep transformers"): with every branch scaled by
(L/L0)^-alpha and the hidden learning rate scaled for the optimizer's family, each branch moves the residual stream
by Theta(1/L), so the L branches together move it by Theta(1) at every depth. Per family (update of a hidden weight:
SGD ~ lr x gradient, and the gradient of a branch carries its multiplier; Adam, sign and orthogonalised updates ~ lr
whatever the gradient scale; Adafactor ~ lr x RMS(W), depth-independent), the hidden LR must scale as L^e with

    e = alpha - 1 (adam, adafactor, invariant)     e = 2 alpha - 1 (sgd)

and parameterization.param_groups applies depth_lr_exponent = alpha - 1 to the adam family only, 0 otherwise.

Asserted, for each (optimizer, alpha), slopes vs log depth (least squares, 2 seeds averaged in log space):
- alpha in {0.5, 1}: |slope| <= FLAT (0.2) for the residual stream and for the logits, and the mean branch change
  has slope -1 +- FLAT (the Theta(1/L) per branch that makes the sum flat);
- alpha = 0 (no depth scaling): the residual stream's change grows, slope >= GROWS (+0.5). Not asserted at
  alpha = 0: the logits, whose change is the readout's own depth-independent update plus a growing term, so their
  slope lies anywhere between 0 and the stream's (measured +0.01 for SGD, +0.66 for Muon); and the branches, which
  leave the linear regime: by L = 16 the stream has moved by more than its own RMS (AdamW: 2.0 vs 1.4), the
  LayerNorms rescale, and the per-branch change drifts down (AdamW -0.23) although each branch's own update is
  Theta(1).

Protocol as tests/test_width_stability.py (batch 2 x block 4, init_std_embedding 1.0, the same base LRs, no
clipping, fp32). The slope table is printed at the end (pytest -s) and written to out/depth_stability/slopes.md.
    pytest tests/test_depth_stability.py -s
"""

import os

import pytest
from conftest import ROOT

import measure

FLAT = 0.2
GROWS = 0.5
WIDTH = 64
DEPTHS = (2, 4, 8, 16)
STEPS = 3
SEEDS = (0, 1)
ALPHAS = (0, 0.5, 1)
PROTOCOL = dict(parameterization='mup', base_width=WIDTH, base_depth=DEPTHS[0], n_head=2, head_dim=0, block_size=4,
                batch_size=2, init_std_embedding=1.0)
BASE_LR = dict(adamw=3e-3, sgd=0.3, adafactor=3e-2, muon=0.03, splus=0.1)  # as tests/test_width_stability.py

_measured = {}  # (optimizer, alpha) -> {role: slope}


def slopes(optimizer, alpha):
    if (optimizer, alpha) not in _measured:
        cfg = dict(PROTOCOL, optimizer=optimizer, learning_rate=BASE_LR[optimizer], depth_alpha=alpha)
        rows = measure.depth_coords(cfg, DEPTHS, WIDTH, steps=STEPS, seeds=SEEDS)
        _measured[(optimizer, alpha)] = measure.loglog_slopes(rows, x='depth')
    return _measured[(optimizer, alpha)]


@pytest.mark.parametrize('alpha', ALPHAS)
@pytest.mark.parametrize('optimizer', list(BASE_LR))
def test_update_depth_scaling(optimizer, alpha):
    s = slopes(optimizer, alpha)
    what = f"{optimizer}, depth_alpha={alpha}: slopes vs log depth {', '.join(f'{k} {v:+.2f}' for k, v in s.items())}"
    if alpha == 0:
        assert s['residual'] >= GROWS, f"{what}: without depth scaling the residual stream's change should grow"
    else:
        assert abs(s['residual']) <= FLAT and abs(s['logits']) <= FLAT, \
            f"{what}: the residual stream's and the logits' change should be flat in depth (|slope| <= {FLAT})"
        assert abs(s['branch'] + 1) <= FLAT, f"{what}: each branch should move the stream by Theta(1/L) (slope -1)"


@pytest.fixture(scope='module', autouse=True)
def slope_table():
    """After the module: every measured (optimizer, alpha), printed and written to out/depth_stability/."""
    yield
    if not _measured:
        return
    lines = [f"Slope of log RMS(Delta) vs log depth, depths {list(DEPTHS)} at width {WIDTH}, {STEPS} steps, seeds "
             f"{list(SEEDS)}", '', '| optimizer | depth_alpha | residual | branch | logits |', '|---|---|---|---|---|']
    for (o, a), s in _measured.items():
        lines.append(f"| {o} | {a} | {s['residual']:+.2f} | {s['branch']:+.2f} | {s['logits']:+.2f} |")
    text = '\n'.join(lines) + '\n'
    print('\n' + text)
    out = ROOT / 'out' / 'depth_stability'
    os.makedirs(out, exist_ok=True)
    (out / 'slopes.md').write_text(text)
