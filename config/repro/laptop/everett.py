# Everett et al. 2024, "Scaling Exponents Across Parameterizations and Optimizers" (arXiv:2407.05872), §4 at laptop
# scale, Adam (AdamW without weight decay), head dimension fixed at 16 (heads grow with width, the paper's setting),
# widths 32-256 around the base width 128 of config/mup_adamw.py:
#   optimal-LR exponents (Figs. 3-4, E1, Table I1): SP with one global LR; SP with per-layer LRs for full and for no
#     alignment (Table 1); muP with per-layer LRs (full alignment), all at the default constants (Fig. 3b);
#   epsilon (§4.3): muP at epsilon 1e-4, constant vs per-layer (eps x n^-g, base width 128), and Adam-atan2 (no
#     epsilon). Why 1e-4: after 60 steps at width 128 the median sqrt(v) of the hidden matrices is 2e-4 and falls as
#     1/width under muP (7e-4 at width 32, 8e-5 at width 256, measured): a constant 1e-4 is 0.15x of it at width 32
#     and above it at width 256, so it starts to dominate the hidden updates inside this width range; the per-layer
#     epsilon keeps the same ratio (about 0.5) at every width. The default 1e-8 is 1e-4 of it: no effect here.
#   alignment (§4.1, Fig. 2): every run logs the log alignment ratio (Definition 3.1) every 10 steps; the report
#     plots it for SP (global LR) and muP at width 256, at the best grid LR there.
# What differs from the paper: 2 layers (paper 8), widths 32-256 (paper 128-16384), context 64 and batch 8 (paper
# 512 x 256), 350 steps (paper 50k), Tiny Shakespeare char (paper C4), default LR constants (the paper's Fig. 4
# exponents use tuned per-layer constants).
# LR grids: 7 per setting around the width-128 optimum (3e-3 for every setting there: at the base width they are
# the same model), half-decade steps where the optimum should move with width (SP global, no alignment, the
# epsilon settings), quarter-decade steps where it should not.
# Size: 7 settings x 4 widths x 7 LRs x 2 seeds = 392 runs of 350 steps. Estimated 53 min with --jobs 2 on the
# 2-core machine these files were sized on (CPU time per step incl. evaluation and alignment, one thread: about 6 /
# 14 / 36 / 95 ms at widths 32 / 64 / 128 / 256; 2.9 s start-up per run).
# $ python scripts/reproduce.py everett --scale=laptop --jobs 2
base_config = 'config/mup_adamw.py'
sweep_dir = 'out/repro/laptop/everett'
_half = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1]
_quarter = [5.6e-4, 1e-3, 1.8e-3, 3.2e-3, 5.6e-3, 1e-2, 1.8e-2]
_settings = [  # (what differs from config/mup_adamw.py, LR grid)
    (dict(parameterization='sp', lr_scaling='global'), _half),
    (dict(parameterization='sp'), _quarter),  # per-layer LRs, full alignment: the engine's defaults
    (dict(parameterization='sp', alignment='none'), _half),
    (dict(parameterization='mup'), _quarter),
    (dict(parameterization='mup', eps=1e-4), _half),
    (dict(parameterization='mup', eps=1e-4, eps_scaling='per_layer'), _half),
    (dict(parameterization='mup', optimizer='adam_atan2'), _quarter),
]
points = [dict(dict(optimizer='adamw'), **setting, n_embd=w, learning_rate=lr, seed=s)
          for setting, lrs in _settings for w in (32, 64, 128, 256) for lr in lrs for s in (1, 2)]
fixed = dict(n_layer=2, head_dim=16, block_size=64, batch_size=8, dropout=0.0, weight_decay=0.0, max_iters=350,
             warmup_iters=30, eval_interval=50, eval_iters=8, alignment_interval=10)
estimate = '~53 min with --jobs 2 on a 2-core CPU (392 runs of 350 steps)'
