# Tiny CPU config for tests and first-time users: a 2-layer, width-64 muP model, a few seconds per run.
# $ python train.py config/debug_cpu.py
out_dir = 'out/debug'
n_layer = 2
n_head = 2
n_embd = 64
base_width = 64  # the test width is the base width: muP == SP here
block_size = 32
batch_size = 8
max_iters = 30
eval_interval = 10
eval_iters = 4
log_interval = 1
warmup_iters = 0
lr_schedule = 'constant'
learning_rate = 1e-2
device = 'cpu'
dtype = 'float32'
compile = False
