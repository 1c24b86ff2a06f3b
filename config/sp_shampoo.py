# Standard parameterization + Shampoo (DistributedShampoo semantics, Adam grafting; optim/shampoo.py), one global LR:
# the SP baseline for config/mup_shampoo.py. Same model and data as config/sp_adamw.py.
# Hyperparameters (sources):
#   learning_rate 1e-3, beta1 0.9, beta2 0.999 (the grafted Adam's beta2), eps 1e-8 (graft epsilon):
#     DSH README, "replacing AdamW" example with AdamGraftingConfig(beta2=0.999, epsilon=1e-8)
#   weight_decay 1e-5 (decoupled): the same DSH README example
#   shampoo_factor_beta 1.0 (factor sums), shampoo_root_eps 1e-12, shampoo_max_dim 1024: DistributedShampoo
#     constructor defaults
#   shampoo_precond_every 10 (DSH default 1, README example 100), shampoo_start_precond -1 (= precond_every, DSH)
# $ python train.py config/sp_shampoo.py
# $ torchrun --standalone --nproc_per_node=4 train.py config/sp_shampoo.py
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
optimizer = 'shampoo'
learning_rate = 1e-3
beta1 = 0.9
beta2 = 0.999
eps = 1e-8
weight_decay = 1e-5
shampoo_factor_beta = 1.0
shampoo_root_eps = 1e-12
shampoo_precond_every = 10
shampoo_start_precond = -1
shampoo_max_dim = 1024
shampoo_graft = 'adam'
max_iters = 5000
lr_schedule = 'cosine'
warmup_iters = 100
min_lr_ratio = 0.1
