# Everett et al. (Scaling exponents across parameterizations and optimizers), small-scale analogue of §4.2-4.3:
# head dimension fixed (64), heads scaled with width; Adam under SP / muP with per-layer LR exponents for full vs
# no alignment, the global-LR baseline, per-layer epsilon, and Adam-atan2 (no epsilon at all).
# What differs from the paper: Tiny Shakespeare char, 4 layers, widths 128 -> 1024 instead of C4 up to 26.8B
# parameters; a half-decade LR grid; 2000 steps. Fit the optimal-LR exponents with scripts/tables.py. Every run logs
# the alignment ratio (Definition 3.1) every 100 steps (scripts/plot_alignment.py; Fig. 2).
# Cost (estimate, not measured): 672 runs of ~30 s -> ~5-6 H100-hours; drop variants from _variants to cut it.
# $ python scripts/reproduce.py everett --scale=paper   (sweep, tables, fits, verdict)
# $ python scripts/sweep.py config/repro/everett_width.py
# $ python scripts/tables.py out/repro/everett_width
base_config = 'config/mup_adamw.py'
sweep_dir = 'out/repro/everett_width'
_variants = [dict(parameterization=p, optimizer='adamw', lr_scaling=s, alignment=a, eps_scaling=e)
             for p in ('sp', 'mup') for (s, a) in (('per_layer', 'full'), ('per_layer', 'none'), ('global', 'full'))
             for e in ('constant', 'per_layer')] + \
            [dict(parameterization=p, optimizer='adam_atan2', lr_scaling='per_layer', alignment='full',
                  eps_scaling='constant') for p in ('sp', 'mup')]
points = [dict(v, n_embd=w, learning_rate=lr, seed=s) for v in _variants for w in (128, 256, 512, 1024)
          for lr in (3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1) for s in (1, 2)]
# head_dim 64, base width 128: the base's
fixed = dict(n_layer=4, max_iters=2000, eval_interval=100, weight_decay=0.0, alignment_interval=100)
estimate = '~5-6 H100-hours (estimate)'
