# Bjorck, Benhaim, Chaudhary, Wei & Song 2025, "Scaling Optimal LR Across Token Horizons" (ICLR 2025,
# arXiv:2409.19913) at laptop scale: the optimal LR falls with the token horizon D as LR* ~ D^-beta, beta about
# 0.32. muP AdamW (config/mup_adamw.py) at width 64 (4 heads of 16), 2 layers, batch 8 x 64 tokens, horizons of
# 125 / 250 / 500 / 1000 / 2000 steps (64,000 to 1,024,000 tokens: 16x), cosine decay over each run after a warmup
# of 25 steps (fixed in tokens, as the batch is), evaluations every quarter of the run. Two columns: no horizon
# rule, and parameterization.py's rule (base_train_tokens = 64,000, the shortest horizon: LR x (D / 64,000)^-0.32).
# The tables fit the optimal base LR against the training tokens; the metric is the final validation loss.
# What differs from the paper: a character-level 2-layer GPT on Tiny Shakespeare (the longest horizon is about one
# epoch) instead of their LLMs and token horizons of billions; no weight decay, dropout 0.
# LR grid: 7 quarter-decade steps around 3e-3, where 125- and 2000-step trials at this width had their optimum
# (about 3.5e-3 and 2.5e-3 without the rule); with the rule the base LR at 2000 steps is the LR / 0.41.
# Size: 2 columns x 5 horizons x 7 LRs x 3 seeds = 210 runs, 775 steps on average. Estimated 23 min with --jobs 2
# on the 2-core machine these files were sized on (CPU time per step at width 64, batch 8, one thread: 12 ms; 3 s
# start-up per run).
# $ python scripts/reproduce.py horizon --scale=laptop --jobs 2
base_config = 'config/mup_adamw.py'
sweep_dir = 'out/repro/laptop/horizon'
_lrs = [5.6e-4, 1e-3, 1.8e-3, 3.2e-3, 5.6e-3, 1e-2, 1.8e-2]
points = [dict(rule, max_iters=n, eval_interval=n // 4, learning_rate=lr, seed=s)
          for rule in ({}, dict(base_train_tokens=125 * 8 * 64)) for n in (125, 250, 500, 1000, 2000) for lr in _lrs
          for s in (1, 2, 3)]
fixed = dict(n_layer=2, n_embd=64, head_dim=16, block_size=64, batch_size=8, dropout=0.0, weight_decay=0.0,
             warmup_iters=25, eval_iters=16)
estimate = '~23 min with --jobs 2 on a 2-core CPU (210 runs, 125-2000 steps)'
