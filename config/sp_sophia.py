# Standard parameterization + SophiaG (optim/sophia.py), one global LR: the SP baseline for Sophia on the same
# model and data as config/sp_adamw.py / config/mup_sophia.py (Tiny Shakespeare char, 6 layers, width 384).
# Sophia hyperparameters (Gupta et al. state only their LR grid for Sophia, so the official ones):
#   learning_rate 6e-4, sophia_rho 0.05, weight_decay 0.2: official README table / config for GPT-2 small (125M);
#   betas (0.965, 0.99), Hessian refresh every 10 steps: official SophiaG defaults and train_sophiag.py;
#   sophia_bs = 0: the clip uses this run's tokens per step (official total_bs * block_size), 64 x 256 here.
# The official README puts Sophia's LR near AdamW's (nanoGPT's shakespeare_char AdamW LR is 1e-3): sweep around it.
# $ python train.py config/sp_sophia.py
# $ torchrun --standalone --nproc_per_node=4 train.py config/sp_sophia.py
include('shakespeare_char.py')  # the shared model, data and schedule; below: what this run changes
parameterization = 'sp'
lr_scaling = 'global'
optimizer = 'sophia'
learning_rate = 6e-4  # official README, GPT-2 small
beta1 = 0.965  # official SophiaG default
beta2 = 0.99  # official SophiaG default (the Hessian EMA)
weight_decay = 0.2  # official GPT-2 small Sophia config
sophia_rho = 0.05  # official README / config for 125M (class default 0.04)
