# Gupta et al. (Extending muP across optimizers), depth transfer: Appendix D Tables 7/11/15/19 (setting: Table 4).
# Width 256, depths 2 -> 64, Tiny Shakespeare char, 8192 tokens per iteration, early stopping after 150 iterations,
# LR grid 2e-1 ... 2e-5, AdamW / ADOPT / LAMB / Sophia. Depth scaling "as suggested in [3, 16]" (Dey et al. 2025,
# CompleteP; Yang et al. 2023, Tensor Programs VI): residual branches x (L/L0)^-1/2 (depth_alpha = 0.5) with base
# depth 1, on top of mup_spectral width scaling, and the LR inside the blocks x (L/L0)^-1/2: depth-muP's Adam rule,
# which the engine derives for the adam, adafactor and invariant families (parameterization.depth_exponent).
# The nanogpt rows are the unscaled baseline: depth_alpha = 0, so no branch multiplier and no depth LR factor.
# What differs: one GPU with batch 8 x 1024 (same tokens per step); heads: the paper's Table 4 does not state
# them, 2 as in its width setting.
# Cost (estimate, not measured): depths 2..64 at width 256 are cheap per step but deep: ~3 H100-hours in all.
# $ python scripts/reproduce.py gupta_depth --scale=paper   (sweep, tables, fits, verdict)
# $ python scripts/sweep.py config/repro/gupta_depth.py
# $ python scripts/tables.py out/repro/gupta_depth
import os

_fine = os.environ.get('NANOMUP_FINE') == '1'
_lrs = [2e-1, 6e-2, 2e-2, 6e-3, 2e-3, 6e-4, 2e-4, 6e-5, 2e-5] if _fine else [2e-1, 2e-2, 2e-3, 2e-4, 2e-5]
_alpha = {'mup_spectral': 0.5, 'nanogpt': 0.0}  # depth-muP vs the unscaled baseline
base_config = 'config/mup_spectral_adamw.py'
sweep_dir = 'out/repro/gupta_depth'
# width 256, 2 heads, early stopping and base_depth None (base depth 1) are the base config's
points = [dict(parameterization=p, depth_alpha=a, optimizer=o, n_layer=L, learning_rate=lr, seed=s)
          for p, a in _alpha.items() for o in ('adamw', 'adopt', 'lamb', 'sophia') for L in (2, 4, 8, 16, 32, 64)
          for lr in _lrs for s in (1, 2, 3)]
estimate = '~3 H100-hours for the full grid (estimate)'
