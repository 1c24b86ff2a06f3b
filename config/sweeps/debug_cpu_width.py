# Tiny CPU width x LR sweep: muP AdamW at widths 32 and 64, four LRs, one seed (8 runs of 20 steps, about a
# minute on a laptop CPU). A smoke test of the sweep -> tables pipeline, not a result:
# $ python scripts/sweep.py config/sweeps/debug_cpu_width.py --jobs 2
# $ python scripts/tables.py out/sweeps/debug_cpu_width
base_config = 'config/debug_cpu.py'
sweep_dir = 'out/sweeps/debug_cpu_width'
grid = dict(
    parameterization=['mup'],
    optimizer=['adamw'],
    n_embd=[32, 64],
    learning_rate=[1e-3, 3e-3, 1e-2, 3e-2],
    seed=[1],
)
fixed = dict(max_iters=20)
estimate = 'about a minute on a laptop CPU (--jobs 2); seconds on one H100'
