# Standard parameterization + AdamW, one global LR: the baseline that muP is compared against (what "SP" means
# in practice, e.g. Gupta et al.'s SP rows). Same model and data as config/mup_adamw.py; init std 0.02 at the
# base width 128, shrinking as 1/sqrt(fan_in) (Everett's SP); the LR does not change with width.
# (lr_scaling='per_layer' instead gives Everett's SP with per-layer exponents from Table 1.)
# learning_rate 1e-3 (train.py's default), betas (0.9, 0.99), weight_decay 0.1: nanoGPT's shakespeare_char values.
# $ python train.py config/sp_adamw.py
# $ torchrun --standalone --nproc_per_node=4 train.py config/sp_adamw.py
include('shakespeare_char.py')  # the shared model, data and schedule; below: what this run changes
parameterization = 'sp'
lr_scaling = 'global'
beta2 = 0.99
weight_decay = 0.1
