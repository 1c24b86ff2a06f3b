# SPlus paper §5 / Appendix Table 1 at small scale: steps (and wall-clock) each optimizer needs to reach Adam's
# final validation loss, every optimizer at its own best LR from a short grid. Read with
# `python scripts/steps_to_adam.py out/repro/splus_steps_to_adam`.
# What differs from the paper: from scratch on Tiny Shakespeare char (6 layers, width 384: config/sp_adamw.py)
# instead of continuing 160M-parameter checkpoints on three objectives; 3000 steps instead of 10k; one seed.
# Cost (estimate, not measured): ~1 H100-hour.
# $ python scripts/reproduce.py splus_steps --scale=paper   (sweep, tables, fits, verdict)
# $ python scripts/sweep.py config/repro/splus_steps_to_adam.py
base_config = 'config/sp_adamw.py'
sweep_dir = 'out/repro/splus_steps_to_adam'
points = ([dict(optimizer='adamw', learning_rate=lr) for lr in (3e-4, 1e-3, 3e-3)]
          + [dict(optimizer='splus', learning_rate=lr, weight_decay=1e-2) for lr in (0.1, 0.3, 1.0)]
          + [dict(optimizer='soap', learning_rate=lr) for lr in (1e-3, 3e-3, 1e-2)]
          + [dict(optimizer='shampoo', learning_rate=lr) for lr in (3e-4, 1e-3, 3e-3)]
          + [dict(optimizer='muon', learning_rate=lr) for lr in (0.01, 0.02, 0.05)]
          + [dict(optimizer='psgd', learning_rate=lr) for lr in (1e-4, 3e-4, 1e-3)])
fixed = dict(seed=1, parameterization='nanogpt', max_iters=3000, eval_interval=100)
estimate = '~1 H100-hour (estimate)'
