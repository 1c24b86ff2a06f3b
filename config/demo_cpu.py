# Stacked on config/mup_adamw.py by `make demo`: a muP AdamW model small enough to train on a laptop CPU in a
# few minutes (4 layers, width 128 = the base width, so muP coincides with SP here).
# $ python train.py config/mup_adamw.py config/demo_cpu.py
out_dir = 'out/demo'
device = 'cpu'
dtype = 'float32'
compile = False
n_layer = 4
n_embd = 128
head_dim = 32
block_size = 64
batch_size = 32
dropout = 0.0
max_iters = 1000
eval_iters = 20
log_interval = 50
warmup_iters = 50
weight_decay = 0.0
sample_tokens = 300
