# Gupta et al. 2026, "Extending muP: Spectral Conditions for Feature Learning Across Optimizers" (arXiv:2602.20937),
# depth transfer (Tables 4/7/11/15/19) at laptop scale: depths 2-16 at width 64 (2 heads), mup_spectral width
# scaling in both columns; depth-muP (residual branches x (L/2)^-1/2, depth_alpha 0.5, base depth 2; the engine
# scales the LR inside the blocks by (L/2)^-1/2 for these optimizers' families) against no depth scaling
# (depth_alpha 0). AdamW, ADOPT, LAMB (the repository's default family) and Sophia.
# What differs from the paper: width 64 (paper 256), depths 2-16 (paper 2-64), base depth 2 (paper 1), context 64
# and batch 8 (512 tokens per step; paper 8192), 300 steps with cosine decay after 30 warmup steps, no early
# stopping, dropout 0; the no-depth-scaling column keeps mup_spectral for the width (config/repro/gupta_depth.py
# uses the nanoGPT init there).
# LR grids: 7 half-decade steps per optimizer, the same for both columns, around the width-64 optimum of the
# width trials (depth 2 = the base depth, where depth-muP changes nothing) and reaching a decade and more below it
# for the unscaled deep models.
# Size: 8 columns x 4 depths x 7 LRs x 2 seeds = 448 runs of 300 steps. Estimated 52 min with --jobs 2 on the
# 2-core machine these files were sized on (CPU time per step incl. evaluation, one thread, width 64: 12 / 20 / 38 /
# 74 ms at depths 2 / 4 / 8 / 16, Sophia x1.1; 3 s start-up per run).
# $ python scripts/reproduce.py gupta_depth --scale=laptop --jobs 2
base_config = 'config/mup_spectral_adamw.py'
sweep_dir = 'out/repro/laptop/gupta_depth'
_lrs = {'adamw': [3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0], 'adopt': [3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0],
        'lamb': [1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0], 'sophia': [1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0]}
points = [dict(optimizer=o, depth_alpha=a, n_layer=L, learning_rate=lr, seed=s)
          for o, lrs in _lrs.items() for a in (0.5, 0.0) for L in (2, 4, 8, 16) for lr in lrs for s in (1, 2)]
fixed = dict(n_embd=64, base_depth=2, block_size=64, dropout=0.0, max_iters=300, warmup_iters=30, eval_interval=50,
             eval_iters=8, early_stop_patience=0)
estimate = '~52 min with --jobs 2 on a 2-core CPU (448 runs of 300 steps)'
