# Wang & Aitchison 2024, "How to set AdamW's weight decay as you scale model and dataset size" (arXiv:2405.13698)
# at laptop scale: AdamW's weights are an exponential moving average of the updates with timescale
# tau = 1 / (lr wd) iterations, and the optimal tau (in epochs) does not move with the model's size; under muP the
# hidden LR falls like 1/n, so one coupled weight_decay must grow like n. muP AdamW (config/mup_adamw.py, base width
# 128: hidden LR x 128/n, embedding and readout LR x (128/n)^1/2) at widths 32-256 (heads of 16), 2 layers, base LR
# 3e-3, batch 8 x 64 tokens, 600 steps. Two columns: wd_mode='coupled' (one weight_decay for every width, 0 and
# 0.0625-4 in factors of 2) and wd_mode='timescale' (tau fixed in iterations, 100-3200 in factors of 2; every
# matrix gets wd = 1 / (its LR x tau)). The tables fit the optimal wd and the optimal tau against width; the metric
# is the final validation loss.
# Their regime is several epochs, with the optimal tau between one epoch and the whole run: the runs train on the
# first 38,400 tokens of the training split (train_set_tokens; 75 steps per epoch, 8 epochs), where 600-step trials
# at widths 32 and 128 (LR 3e-3) had an interior optimum near wd 0.3 (0.02 nats below no decay). On the full split
# (under one epoch) 900-step trials at widths 32 and 256 were best without decay, and at 2000 steps width 32 gained
# 0.007 nats from it: too little to place an optimum.
# What differs from the paper: a character-level 2-layer GPT on a 38,400-token piece of Tiny Shakespeare (they train
# ResNets and ViTs on CIFAR-10 / ImageNet and NanoGPT on OpenWebText); one LR (under muP its optimum does not move
# with width, and tau = 1/(lr wd) shifts every width's wd* by the same factor when the LR changes); dropout 0.
# Size: 4 widths x (8 + 6) settings x 2 seeds = 112 runs of 600 steps. Estimated 22 min with --jobs 2 on the 2-core
# machine these files were sized on (CPU time per step incl. evaluation, one thread: 5 / 12 / 31 / 81 ms at widths
# 32 / 64 / 128 / 256; 3 s start-up per run).
# $ python scripts/reproduce.py wd --scale=laptop --jobs 2
base_config = 'config/mup_adamw.py'
sweep_dir = 'out/repro/laptop/wd'
_wds = [0.0, 0.0625, 0.125, 0.25, 0.5, 1.0, 2.0, 4.0]
_taus = [100.0, 200.0, 400.0, 800.0, 1600.0, 3200.0]
points = [dict(n_embd=w, wd_mode='coupled', weight_decay=wd, seed=s) for w in (32, 64, 128, 256) for wd in _wds
          for s in (1, 2)] + \
         [dict(n_embd=w, wd_mode='timescale', wd_timescale=t, seed=s) for w in (32, 64, 128, 256) for t in _taus
          for s in (1, 2)]
fixed = dict(n_layer=2, head_dim=16, block_size=64, batch_size=8, dropout=0.0, learning_rate=3e-3, weight_decay=0.0,
             max_iters=600, warmup_iters=30, eval_interval=150, eval_iters=16, train_set_tokens=38_400)
estimate = '~22 min with --jobs 2 on a 2-core CPU (112 runs of 600 steps)'
