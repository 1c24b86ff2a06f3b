# Gupta et al. (Extending muP across optimizers), depth transfer: Appendix D Tables 7/11/15/19 (setting: Table 4).
# Width 256, depths 2 -> 64, Tiny Shakespeare char, 8192 tokens per iteration, early stopping after 150 iterations,
# LR grid 2e-1 ... 2e-5, AdamW / ADOPT / LAMB / Sophia. Depth scaling "as suggested in [3, 16]" (depth-muP:
# residual branches x 1/sqrt(L), depth_alpha = 0.5) with base depth 1, on top of mup_spectral width scaling;
# the nanogpt rows are the unscaled baseline.
# What differs: one GPU with batch 8 x 1024 (same tokens per step); heads: the paper's Table 4 does not state
# them, 2 as in its width setting; depth_lr_exponent: CompleteP's alpha - 1 applies only with depth_alpha = 1,
# so under alpha = 0.5 the hidden LR is not depth-scaled (the paper's [3, 16] recipe).
# Cost (estimate, not measured): depths 2..64 at width 256 are cheap per step but deep: ~3 H100-hours in all.
# $ python scripts/sweep.py config/repro/gupta_depth.py
# $ python scripts/tables.py out/repro/gupta_depth
import os

_fine = os.environ.get('NANOMUP_FINE') == '1'
base_config = 'config/mup_spectral_adamw.py'
sweep_dir = 'out/repro/gupta_depth'
grid = dict(
    parameterization=['mup_spectral', 'nanogpt'],
    optimizer=['adamw', 'adopt', 'lamb', 'sophia'],
    n_layer=[2, 4, 8, 16, 32, 64],
    learning_rate=[2e-1, 6e-2, 2e-2, 6e-3, 2e-3, 6e-4, 2e-4, 6e-5, 2e-5] if _fine else [2e-1, 2e-2, 2e-3, 2e-4, 2e-5],
    seed=[1, 2, 3],
)
fixed = dict(depth_alpha=0.5)  # the rest (width 256, 2 heads, early stopping, base_depth None) is the base's
estimate = '~3 H100-hours for the full grid (estimate)'
