# muP + SPlus (Frans et al. 2025) on Tiny Shakespeare (char): the model of config/mup_adamw.py (6 layers, width 384,
# heads of 64, base width 128) with SPlus. Hidden matrices: family 'invariant' (the 2/(m+n) shape scaling sets the
# update's spectral size), LR exponent 0 under muP; the embedding, readout and gains get sign updates (§5.1,
# splus_nonstandard='role'), Adam's rule: muP's Adam exponents for those roles.
# Sources: learning_rate 0.2 = paper eq. 18 / README "splus_lr = 0.2" (torch/splus.py default 0.1); beta1 0.9,
# beta2 0.999, weight_decay 1e-2, ema_rate 0.999, inverse_every 100, eps 1e-30, max_dim 10000,
# nonstandard_constant 1e-3 = torch/splus.py defaults (kvfrans/splus). Evaluation uses the bias-corrected EMA.
# Prepare the data first: python data/shakespeare_char/prepare.py
# $ torchrun --standalone --nproc_per_node=1 train.py config/mup_splus.py
# $ python train.py config/mup_splus.py --n_embd=768        (same LR: that is the point)
include('shakespeare_char.py')  # the shared model, data and schedule; below: what this run changes
optimizer = 'splus'
learning_rate = 0.2  # the base-width LR (the hidden matrices' LR at every width)
beta2 = 0.999  # torch/splus.py b2
weight_decay = 1e-2  # torch/splus.py (multiplied by the scaled LR lr * 2/(m+n))
