# Standard parameterization + SPlus (Frans et al. 2025), one global LR: the SP baseline for SPlus, same model and
# data as config/sp_adamw.py. SPlus scales its own updates by 2/(m+n), so its LR is meant to hold across width
# without muP (README: "SPlus learning rates are consistent across network width").
# Sources: learning_rate 0.2 = paper eq. 18 / README "splus_lr = 0.2" for transformers (torch/splus.py default 0.1;
# README rule adam_lr * width * 2 gives ~0.77 from nanoGPT's 1e-3 at width 384); beta1 0.9, beta2 0.999,
# weight_decay 1e-2, ema_rate 0.999, inverse_every 100, eps 1e-30, max_dim 10000, nonstandard_constant 1e-3 =
# torch/splus.py defaults (kvfrans/splus). Evaluation uses the bias-corrected EMA weights (train.py calls
# optimizer.eval()/train() around it).
# $ python train.py config/sp_splus.py
# $ torchrun --standalone --nproc_per_node=4 train.py config/sp_splus.py
include('shakespeare_char.py')  # the shared model, data and schedule; below: what this run changes
parameterization = 'sp'
lr_scaling = 'global'
optimizer = 'splus'
learning_rate = 0.2  # paper eq. 18 / README
beta2 = 0.999  # torch/splus.py b2
weight_decay = 1e-2  # torch/splus.py (multiplied by the scaled LR lr * 2/(m+n))
