# Gupta et al. (Extending muP across optimizers), width transfer: Appendix D Tables 5/9/13/17 (setting: Table 3).
# Depth 8, 2 heads, widths 128 -> 2048, Tiny Shakespeare char, 8192 tokens per iteration, early stopping after 150
# iterations without improvement, LR grid 2e-1 ... 2e-5 (one point per decade), AdamW / ADOPT / LAMB / Sophia under
# mup_spectral with base width 1 (their Table 2), and the SP baseline = upstream nanoGPT (0.02 init, one LR). LAMB
# under mup_spectral twice: the repository's default rule (family 'adafactor') in the grid, and Gupta et al.'s c = 0
# (optimizer_family='invariant') in `points` (under nanogpt the two rules are the same single LR).
# What differs from the paper: one GPU, batch 8 x 1024 (paper: 4 GPUs x 2 x 1024, same 8192 tokens per step);
# 3 seeds; LR schedule, dropout and betas are not stated in the paper, so config/mup_spectral_adamw.py's
# (nanoGPT shakespeare_char) values are used for every optimizer: cosine schedule, dropout 0.2, betas (0.9, 0.99).
# NANOMUP_FINE=1 uses a finer grid (half decades, 2e-1 ... 2e-5: 9 points) to locate the optimum better.
# Cost: an estimate, not measured: ~4 min per (optimizer, parameterization, LR, seed) column over the five widths
# on one H100 with early stopping -> ~9 H100-hours for the whole grid (675 points; config/repro/laptop/gupta_width.py
# is the CPU-sized version).
# $ python scripts/reproduce.py gupta_width --scale=paper --gpus 0,1,2,3   (sweep, tables, fits, verdict)
# $ python scripts/sweep.py config/repro/gupta_width.py --gpus 0,1,2,3
# $ python scripts/tables.py out/repro/gupta_width
import os

_fine = os.environ.get('NANOMUP_FINE') == '1'
base_config = 'config/mup_spectral_adamw.py'  # the Table 3 setting: depth 8, 2 heads, early stopping after 150
sweep_dir = 'out/repro/gupta_width'
grid = dict(
    parameterization=['mup_spectral', 'nanogpt'],
    optimizer=['adamw', 'adopt', 'lamb', 'sophia'],
    n_embd=[128, 256, 512, 1024, 2048],
    learning_rate=[2e-1, 6e-2, 2e-2, 6e-3, 2e-3, 6e-4, 2e-4, 6e-5, 2e-5] if _fine else [2e-1, 2e-2, 2e-3, 2e-4, 2e-5],
    seed=[1, 2, 3],
)
points = [dict(parameterization='mup_spectral', optimizer='lamb', optimizer_family='invariant', n_embd=w,
               learning_rate=lr, seed=s) for w in grid['n_embd'] for lr in grid['learning_rate'] for s in grid['seed']]
estimate = '~9 H100-hours for the full grid (estimate); one optimizer x one parameterization ~1 H100-hour'
