# muP + SophiaG (optim/sophia.py) on Tiny Shakespeare (char): the model of config/mup_adamw.py (6 layers, width
# 384, heads of 64, base width 128) with Everett-form muP, per-layer LRs under full alignment. Sophia is in the
# `adam` family: hidden/readout LR ~ 1/fan_in, input LR constant (Gupta et al. Table 2, Appendix C.2).
# Hyperparameters (Gupta et al. state only their LR grid for Sophia, so the official ones where they exist):
#   learning_rate 3e-3 (base-width LR, not tuned here): the official README puts Sophia's LR near AdamW's
#     (1e-2 in config/mup_adamw.py), Gupta et al.'s best Sophia LR is one grid decade below their AdamW one
#     (Tables 13 and 5); sweep it. At the base width muP == SP, so this is also the width-128 SP LR;
#   sophia_rho 0.05, weight_decay 0.2: official README / config for GPT-2 small (125M);
#   betas (0.965, 0.99), Hessian refresh every 10 steps: official SophiaG defaults and train_sophiag.py;
#   sophia_bs = 0: the clip uses this run's tokens per step (official total_bs * block_size), 64 x 256 here.
# Prepare the data first: python data/shakespeare_char/prepare.py
# $ torchrun --standalone --nproc_per_node=1 train.py config/mup_sophia.py
# $ python train.py config/mup_sophia.py --n_embd=768        (same LR: that is the point of muP)
include('shakespeare_char.py')  # the shared model, data and schedule; below: what this run changes
optimizer = 'sophia'
learning_rate = 3e-3  # the base-width LR; groups get learning_rate * (n/base)^-c
beta1 = 0.965  # official SophiaG default
beta2 = 0.99  # official SophiaG default (the Hessian EMA)
weight_decay = 0.2  # official GPT-2 small Sophia config
sophia_rho = 0.05  # official README / config for 125M (class default 0.04)
