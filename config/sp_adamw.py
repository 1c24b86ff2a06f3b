# Standard parameterization + AdamW, one global LR: the baseline that muP is compared against (what "SP" means
# in practice, e.g. Gupta et al.'s SP rows). Same model and data as config/mup_adamw.py; init std 0.02 at the
# base width 128, shrinking as 1/sqrt(fan_in) (Everett's SP); the LR does not change with width.
# (lr_scaling='per_layer' instead gives Everett's SP with per-layer exponents from Table 1.)
# $ python train.py config/sp_adamw.py
# $ torchrun --standalone --nproc_per_node=4 train.py config/sp_adamw.py
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
optimizer = 'adamw'
learning_rate = 1e-3  # nanoGPT's shakespeare_char value
beta2 = 0.99
weight_decay = 0.1
max_iters = 5000
lr_schedule = 'cosine'
warmup_iters = 100
min_lr_ratio = 0.1
