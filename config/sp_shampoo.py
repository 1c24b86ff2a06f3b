# Standard parameterization + Shampoo (DistributedShampoo semantics, Adam grafting; optim/shampoo.py), one global LR:
# the SP baseline for config/mup_shampoo.py. Same model and data as config/sp_adamw.py.
# Hyperparameters (sources):
#   learning_rate 1e-3, beta1 0.9, beta2 0.999 (the grafted Adam's beta2), eps 1e-8 (graft epsilon):
#     DSH README, "replacing AdamW" example with AdamGraftingConfig(beta2=0.999, epsilon=1e-8)
#   weight_decay 1e-5 (decoupled): the same DSH README example
#   shampoo_factor_beta 1.0 (factor sums), shampoo_root_eps 1e-12, shampoo_max_dim 1024: DistributedShampoo constructor defaults
#   shampoo_precond_every 10 (DSH default 1, README example 100), shampoo_start_precond -1 (= precond_every, DSH)
# $ python train.py config/sp_shampoo.py
# $ torchrun --standalone --nproc_per_node=4 train.py config/sp_shampoo.py
include('shakespeare_char.py')  # the shared model, data and schedule; below: what this run changes
parameterization = 'sp'
lr_scaling = 'global'
optimizer = 'shampoo'
beta2 = 0.999
weight_decay = 1e-5
