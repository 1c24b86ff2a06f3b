# Frans, Levine & Abbeel 2025, "A Stable Whitening Optimizer for Efficient Neural Network Training" (SPlus,
# arXiv:2506.07254), §5 / Table 1 at laptop scale: the fraction of AdamW's gradient steps (and of its wall-clock)
# each optimizer needs to reach AdamW's final validation loss, each at its own best LR (by final validation loss,
# mean over seeds); read per seed against AdamW's run with the same seed (scripts/steps_to_adam.py's definitions).
# AdamW, SPlus, SOAP, Shampoo, Muon, PSGD (Kron) and Sophia, the paper's set without Schedule-Free and SGD.
# What differs from the paper: from scratch (the paper's "LLM-Init" column is the closest; it also continues from
# 10k- and 50k-step checkpoints) on Tiny Shakespeare char with a 2-layer width-128 GPT, nanoGPT init and one global
# LR (as config/repro/laptop/splus_width.py), context 64 and batch 8, 2000 steps (paper 10k) with 100 warmup steps
# and cosine decay; betas (0.9, 0.99) and weight decay 0.1 for every optimizer (the paper: momentum 0.9, weight decay
# 0.1), the optimizers' own keys at their defaults; SPlus's weight EMA with 1/10 of the run as timescale
# (splus_ema_rate 0.995; paper 0.999 over 10k steps); 4 LRs per optimizer, half-decade steps (paper: steps of
# 10^(1/3)); 2 seeds (paper: one). Wall-clock is the CPU step time of one thread, not the paper's TPU wall-clock.
# Size: 7 optimizers x 4 LRs x 2 seeds = 56 runs of 2000 steps. Estimated 46 min with --jobs 2 on the 2-core machine
# these files were sized on (CPU time per step at width 128 incl. evaluation, one thread: AdamW and Sophia 31 ms,
# SPlus and Muon 47, Shampoo 51, SOAP 56, PSGD 99 while its preconditioner is updated every step (first 500 steps)).
# $ python scripts/reproduce.py splus_steps --scale=laptop --jobs 2
base_config = 'config/sp_adamw.py'
sweep_dir = 'out/repro/laptop/splus_steps'
_lrs = {'adamw': [3e-4, 1e-3, 3e-3, 1e-2], 'splus': [0.1, 0.3, 1.0, 3.0], 'soap': [1e-3, 3e-3, 1e-2, 3e-2],
        'shampoo': [3e-4, 1e-3, 3e-3, 1e-2], 'muon': [1e-2, 3e-2, 0.1, 0.3], 'psgd': [1e-3, 3e-3, 1e-2, 3e-2],
        'sophia': [1e-4, 3e-4, 1e-3, 3e-3]}
points = [dict(optimizer=o, learning_rate=lr, seed=s) for o, lrs in _lrs.items() for lr in lrs for s in (1, 2)]
fixed = dict(parameterization='nanogpt', n_layer=2, n_embd=128, head_dim=16, block_size=64, batch_size=8,
             dropout=0.0, max_iters=2000, eval_interval=50, eval_iters=8, splus_ema_rate=0.995)
estimate = '~46 min with --jobs 2 on a 2-core CPU (56 runs of 2000 steps)'
