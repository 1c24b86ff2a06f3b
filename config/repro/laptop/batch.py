# Malladi, Lyu, Panigrahi & Arora 2022, "On the SDEs and Scaling Rules for Adaptive Gradient Algorithms"
# (arXiv:2205.10287), the square-root scaling rule at laptop scale: Adam with a batch kappa times larger and an LR
# sqrt(kappa) times larger follows the same SDE per token, so at a fixed token budget the optimal LR grows like
# B^1/2 (B: tokens per iteration). muP AdamW (config/mup_adamw.py) at width 64 (4 heads of 16), 2 layers, batch
# 4 / 8 / 16 / 32 sequences of 64 tokens (256-2048 tokens per iteration), every run 409,600 tokens (1600 / 800 /
# 400 / 200 steps); the warmup (96 steps at batch 4: 24,576 tokens) and the evaluations (every quarter of the run,
# 128 sequences per split) are fixed in tokens too. Two columns: no batch rule, and parameterization.py's rule
# (base_batch_tokens = 256, the smallest batch: LR x (B / 256)^1/2). The tables fit the optimal base LR against
# tokens per iteration; the metric is the final validation loss.
# What differs from the paper: Malladi et al. also scale beta1, beta2 and epsilon with kappa; here the rule scales
# the LR only (batch_beta2 off; beta1 0.9, beta2 0.99 at every batch). A character-level 2-layer GPT on Tiny
# Shakespeare, 409,600 tokens (under half an epoch), no weight decay, dropout 0.
# LR grid: 7 quarter-decade steps around 3e-3, where 1600-step batch-4 and 200-step batch-32 trials at this width
# had their optimum (both near 3e-3 without the rule); the rule column's optimum at batch 32 then falls to about 1e-3,
# still inside the grid.
# Size: 2 columns x 4 batch sizes x 7 LRs x 3 seeds = 168 runs, 750 steps on average. Estimated 17 min with
# --jobs 2 on the 2-core machine these files were sized on (CPU time per step at width 64, one thread: 6.8 / 12 /
# 18 / 31 ms at batch 4 / 8 / 16 / 32; 3 s start-up per run).
# $ python scripts/reproduce.py batch --scale=laptop --jobs 2
base_config = 'config/mup_adamw.py'
sweep_dir = 'out/repro/laptop/batch'
_block, _budget = 64, 409_600  # tokens per sequence, tokens per run
_lrs = [5.6e-4, 1e-3, 1.8e-3, 3.2e-3, 5.6e-3, 1e-2, 1.8e-2]
points = [dict(rule, batch_size=b, max_iters=_budget // (b * _block), warmup_iters=384 // b,
               eval_interval=_budget // (4 * b * _block), eval_iters=128 // b, learning_rate=lr, seed=s)
          for rule in ({}, dict(base_batch_tokens=4 * _block)) for b in (4, 8, 16, 32) for lr in _lrs
          for s in (1, 2, 3)]
fixed = dict(n_layer=2, n_embd=64, head_dim=16, block_size=_block, dropout=0.0, weight_decay=0.0)
estimate = '~17 min with --jobs 2 on a 2-core CPU (168 runs, 200-1600 steps)'
