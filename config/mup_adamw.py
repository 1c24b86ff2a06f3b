# muP + AdamW on Tiny Shakespeare (char): nanoGPT's "baby GPT" (6 layers, width 384, 6 heads of 64) with the
# Everett-form muP of parameterization.py, per-layer LRs under full alignment, base width 128.
# Because head_dim is fixed, widening the model adds heads (the 1/d_head attention factor stays constant).
# Prepare the data first: python data/shakespeare_char/prepare.py
# $ torchrun --standalone --nproc_per_node=1 train.py config/mup_adamw.py
# $ python train.py config/mup_adamw.py --n_embd=768        (same LR: that is the point of muP)
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
optimizer = 'adamw'
learning_rate = 1e-2  # the base-width LR; groups get learning_rate * (n/base)^-c
beta2 = 0.99  # small batch, few tokens per step (nanoGPT's shakespeare_char value)
weight_decay = 0.1
max_iters = 5000
lr_schedule = 'cosine'
warmup_iters = 100
min_lr_ratio = 0.1
