# muP + SPlus (Frans et al. 2025) on Tiny Shakespeare (char): the model of config/mup_adamw.py (6 layers, width 384,
# heads of 64, base width 128) with SPlus. SPlus is family 'invariant' (its 2/(m+n) shape scaling already makes the
# update width-independent), so muP's per-layer LR exponents are all 0 here: muP changes the init and the forward
# multipliers only, and learning_rate is the LR of every width.
# Sources: learning_rate 0.2 = paper eq. 18 / README "splus_lr = 0.2" (torch/splus.py default 0.1); beta1 0.9,
# beta2 0.999, weight_decay 1e-2, ema_rate 0.999, inverse_every 100, eps 1e-30, max_dim 10000,
# nonstandard_constant 1e-3 = torch/splus.py defaults (kvfrans/splus). Evaluation uses the bias-corrected EMA.
# Prepare the data first: python data/shakespeare_char/prepare.py
# $ torchrun --standalone --nproc_per_node=1 train.py config/mup_splus.py
# $ python train.py config/mup_splus.py --n_embd=768        (same LR: that is the point)
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
parameterization = 'mup'
base_width = 128
lr_scaling = 'per_layer'
alignment = 'full'
optimizer = 'splus'
learning_rate = 0.2  # the base-width LR (and, family 'invariant', the LR at every width)
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
