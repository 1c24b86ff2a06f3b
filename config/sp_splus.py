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
out_dir = 'out/shakespeare_char'
dataset = 'shakespeare_char'
eval_interval = 250
eval_iters = 50
log_interval = 10
block_size = 256
batch_size = 64
n_layer = 6
n_embd = 384
head_dim = 64
dropout = 0.2
parameterization = 'sp'
base_width = 128
lr_scaling = 'global'
optimizer = 'splus'
learning_rate = 0.2  # paper eq. 18 / README
beta1 = 0.9  # torch/splus.py b1
beta2 = 0.999  # torch/splus.py b2
weight_decay = 1e-2  # torch/splus.py (multiplied by the scaled LR lr * 2/(m+n))
splus_ema_rate = 0.999  # torch/splus.py
splus_inverse_every = 100  # torch/splus.py; paper §5: "default value of 100"
splus_eigh_eps = 1e-30  # torch/splus.py
splus_max_dim = 10000  # torch/splus.py
splus_nonstandard_constant = 1e-3  # torch/splus.py; paper §5.1 (0.001)
splus_nonstandard = 'shape'  # torch/splus.py: nonstandard by shape only; 'role' = paper §5.1 text
splus_order = 'official'  # torch/splus.py order of operations
max_iters = 5000
lr_schedule = 'cosine'
warmup_iters = 100
min_lr_ratio = 0.1
