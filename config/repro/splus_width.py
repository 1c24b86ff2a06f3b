# SPlus paper, Figure 3 at small scale: the optimal LR of SPlus transfers across width (2/(m+n) shape scaling),
# that of Adam and of Shampoo does not. Everything in SP (nanoGPT init, one global LR for every layer), so the only
# width correction is the optimizer's own: SPlus's hidden updates are width-invariant by construction (2/(m+n)), its
# sign-updated embedding and readout (§5.1) are not, and neither are adamw's and shampoo's.
# What differs from the paper: Tiny Shakespeare char with a 4-layer GPT instead of their 160M Transformer on
# OpenWebText / ImageNet; 2000 steps; widths 128 -> 1024 with head dimension 64 (heads scale with width, as in
# their models); LR grids of half decades around each optimizer's default.
# Cost (estimate, not measured): ~1.5 H100-hours.
# $ python scripts/reproduce.py splus_width --scale=paper   (sweep, tables, fits, verdict)
# $ python scripts/sweep.py config/repro/splus_width.py
# $ python scripts/tables.py out/repro/splus_width
base_config = 'config/sp_adamw.py'
sweep_dir = 'out/repro/splus_width'
_lrs = dict(adamw=(1e-4, 3e-4, 1e-3, 3e-3, 1e-2), splus=(0.03, 0.1, 0.3, 1.0, 3.0), shampoo=(1e-4, 3e-4, 1e-3, 3e-3, 1e-2))
points = [dict(optimizer=o, learning_rate=lr, n_embd=w, seed=s, weight_decay=1e-2 if o == 'splus' else 0.1)
          for o, lrs in _lrs.items() for lr in lrs for w in (128, 256, 512, 1024) for s in (1, 2)]
fixed = dict(parameterization='nanogpt', n_layer=4, max_iters=2000, eval_interval=100, dropout=0.0)
estimate = '~1.5 H100-hours (estimate)'
