# Frans, Levine & Abbeel 2025, "A Stable Whitening Optimizer for Efficient Neural Network Training" (SPlus,
# arXiv:2506.07254), Figure 3 at laptop scale: the optimal LR of SPlus transfers across width, Adam's and
# Shampoo's do not. Every optimizer with nanoGPT's init (N(0, 0.02^2) at every width, c_proj / sqrt(2L)) and one
# global LR: parameterization 'nanogpt' rather than 'sp' because the paper's models adapt GPT-2, whose init does not
# shrink with width, and Fig. 3 tests the optimizers "by default"; 'sp' (Everett et al.'s SP) would shrink the init
# as 1/sqrt(fan_in), a width correction the paper's baseline does not make. SPlus's own 2/(m+n) scaling is then the
# only width rule.
# What differs from the paper: a 2-layer GPT on Tiny Shakespeare char (paper: 160M Transformers on OpenWebText /
# ImageNet), widths 32-256 with heads of 16, context 64 and batch 8, 500 steps; betas (0.9, 0.99) and weight decay
# 0.1 for all three (the paper: momentum 0.9, weight decay 0.1); SPlus's EMA of the weights (evaluation) has a
# timescale of 1/10 of the run as in the paper (0.999 over 10k steps): splus_ema_rate 0.98 over 500 steps.
# LR grids: 7 half-decade steps each, around the width-64 optimum of 150-step trials (AdamW 5e-3, Shampoo 1e-2,
# SPlus 1).
# Size: 3 optimizers x 4 widths x 7 LRs x 2 seeds = 168 runs of 500 steps. Estimated 45 min with --jobs 2 on the
# 2-core machine these files were sized on (CPU time per step incl. evaluation, one thread: AdamW 5 / 12 / 31 / 81
# ms at widths 32 / 64 / 128 / 256; SPlus and Shampoo 1.6x AdamW up to width 128 and 2.5x at 256; 2.9 s start-up).
# $ python scripts/reproduce.py splus_width --scale=laptop --jobs 2
base_config = 'config/sp_adamw.py'
sweep_dir = 'out/repro/laptop/splus_width'
_lrs = {'adamw': [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1], 'splus': [0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0],
        'shampoo': [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1]}
points = [dict(optimizer=o, n_embd=w, learning_rate=lr, seed=s)
          for o, lrs in _lrs.items() for w in (32, 64, 128, 256) for lr in lrs for s in (1, 2)]
fixed = dict(parameterization='nanogpt', n_layer=2, head_dim=16, block_size=64, batch_size=8, dropout=0.0,
             max_iters=500, warmup_iters=50, eval_interval=50, eval_iters=8, splus_ema_rate=0.98)
estimate = '~45 min with --jobs 2 on a 2-core CPU (168 runs of 500 steps)'
