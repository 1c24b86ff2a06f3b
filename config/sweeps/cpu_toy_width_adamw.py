# The runs of results/cpu_toy_width_adamw.md (made with an earlier version of scripts/reproduce.py): muP
# (mup_spectral) vs the nanoGPT SP baseline with AdamW, widths 32-256, 2 layers, context 64, 200 steps, 8 LRs,
# 2 seeds: 128 runs, 6.1 min with --jobs 2 on a 2-core CPU (recorded in that file). Same run names, same folder.
# $ python scripts/sweep.py config/sweeps/cpu_toy_width_adamw.py --jobs 2
# $ python scripts/tables.py out/reproduce/cpu_toy_width_adamw/runs --out results/cpu_toy_width_adamw
base_config = 'config/mup_spectral_adamw.py'
sweep_dir = 'out/reproduce/cpu_toy_width_adamw/runs'
grid = dict(parameterization=['mup_spectral', 'nanogpt'], optimizer=['adamw'], n_embd=[32, 64, 128, 256],
            learning_rate=[1, 3e-1, 1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 3e-4], seed=[1, 2])
fixed = dict(n_layer=2, block_size=64, dropout=0.0, eval_interval=25, eval_iters=8, early_stop_patience=0,
             warmup_iters=20, max_iters=200)
estimate = '6.1 min with --jobs 2 on a 2-core CPU (recorded)'
