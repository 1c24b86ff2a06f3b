# Gupta et al. 2026, "Extending muP: Spectral Conditions for Feature Learning Across Optimizers" (arXiv:2602.20937),
# width transfer (Tables 3/5/9/13/17) at laptop scale: AdamW, ADOPT, LAMB and Sophia under mup_spectral (their
# Table 2, base width 1 = absolute fan-in, as config/mup_spectral_adamw.py) against the nanoGPT SP baseline (0.02
# init, one global LR). LAMB twice under muP: Gupta et al.'s rule c = 0 (optimizer_family='invariant') and the
# repository's default (LAMB's own family 'adafactor': hidden LR x fan_in^-1/2); under nanogpt both rules are the
# same single LR, so it runs once.
# What differs from the paper: 2 layers (paper 8), context 64 and batch 8 (512 tokens per step; paper 8192), widths
# 32-256 (paper 128-2048), 300 steps with cosine decay after 30 warmup steps and no early stopping (paper: early
# stopping after 150 steps without improvement), dropout 0 (the base config's 0.2 is nanoGPT's value; the paper does
# not state one); betas (0.9, 0.99) and no weight decay for every optimizer, each optimizer's own keys at their
# defaults (as config/repro/gupta_width.py).
# LR grids: 7 per column, placed around the optimum found by 150-step trials at width 64: quarter-decade steps for
# the muP columns whose optimum should not move, half-decade steps where it should (SP, and LAMB's c = 0, whose
# hidden update grows like sqrt(width)).
# Size: 9 columns x 4 widths x 7 LRs x 2 seeds = 504 runs of 300 steps. Estimated 54 min with --jobs 2 on the
# 2-core machine these files were sized on (CPU time per step incl. evaluation, one thread: 5 / 12 / 31 / 81 ms at
# widths 32 / 64 / 128 / 256, Sophia x1.1; 2.9 s start-up per run); runs that diverge end early.
# $ python scripts/reproduce.py gupta_width --scale=laptop --jobs 2
base_config = 'config/mup_spectral_adamw.py'
sweep_dir = 'out/repro/laptop/gupta_width'
_lrs = {  # (parameterization, optimizer, optimizer_family) -> LR grid
    ('mup_spectral', 'adamw', ''): [0.032, 0.056, 0.1, 0.18, 0.32, 0.56, 1.0],
    ('mup_spectral', 'adopt', ''): [0.056, 0.1, 0.18, 0.32, 0.56, 1.0, 1.8],
    ('mup_spectral', 'lamb', 'invariant'): [3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3],
    ('mup_spectral', 'lamb', ''): [0.018, 0.032, 0.056, 0.1, 0.18, 0.32, 0.56],
    ('mup_spectral', 'sophia', ''): [0.018, 0.032, 0.056, 0.1, 0.18, 0.32, 0.56],
    ('nanogpt', 'adamw', ''): [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1],
    ('nanogpt', 'adopt', ''): [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1],
    ('nanogpt', 'lamb', ''): [1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0],
    ('nanogpt', 'sophia', ''): [3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2],
}
points = [dict(parameterization=p, optimizer=o, n_embd=w, learning_rate=lr, seed=s,
               **(dict(optimizer_family=f) if f else {}))
          for (p, o, f), lrs in _lrs.items() for w in (32, 64, 128, 256) for lr in lrs for s in (1, 2)]
fixed = dict(n_layer=2, block_size=64, dropout=0.0, max_iters=300, warmup_iters=30, eval_interval=50, eval_iters=8,
             early_stop_patience=0)
estimate = '~54 min with --jobs 2 on a 2-core CPU (504 runs of 300 steps)'
