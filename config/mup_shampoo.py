# muP + Shampoo (DistributedShampoo semantics, Adam grafting; optim/shampoo.py) on Tiny Shakespeare (char): the
# model of config/mup_adamw.py (6 layers, width 384, heads of 64, base width 128). With Adam grafting every
# update has Adam's Frobenius norm, so Shampoo takes the `adam` family's per-layer LR exponents.
# Note: shampoo_max_dim 1024 leaves the 1536-wide MLP side unpreconditioned (one-sided Shampoo) at this width.
# Hyperparameters (sources):
#   learning_rate 1e-3 (the base-width LR; groups get learning_rate * (n/base)^-c), beta1 0.9, beta2 0.999 (the
#     grafted Adam's beta2), eps 1e-8 (graft epsilon), weight_decay 1e-5 (decoupled): DSH README, "replacing AdamW"
#     example with AdamGraftingConfig(beta2=0.999, epsilon=1e-8)
#   shampoo_factor_beta 1.0 (factor sums), shampoo_root_eps 1e-12, shampoo_max_dim 1024: DistributedShampoo constructor defaults
#   shampoo_precond_every 10 (DSH default 1, README example 100), shampoo_start_precond -1 (= precond_every, DSH)
# Prepare the data first: python data/shakespeare_char/prepare.py
# $ torchrun --standalone --nproc_per_node=1 train.py config/mup_shampoo.py
# $ python train.py config/mup_shampoo.py --n_embd=768        (same LR: that is the point of muP)
include('shakespeare_char.py')  # the shared model, data and schedule; below: what this run changes
optimizer = 'shampoo'
beta2 = 0.999
weight_decay = 1e-5
