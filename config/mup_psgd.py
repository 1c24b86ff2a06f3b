# muP + PSGD-Kron on Tiny Shakespeare (char): the model of config/mup_adamw.py (6 layers, width 384, heads of 64,
# base width 128), per-layer LRs under full alignment with the `adam` family exponents (PSGD's whitened, RMS-
# clipped update scales like Adam's, optim/psgd.py). Optimizer values are kron_torch.Kron's defaults (b1 0.9, wd 0,
# precond_lr 0.1, init scale 1, update probability 1 for 500 steps then exp(-0.001 (t - 500)) down to 0.03);
# the base-width LR follows kron_torch's guidance "about Adam's LR / 3" applied to mup_adamw's 1e-2.
# Prepare the data first: python data/shakespeare_char/prepare.py
# $ torchrun --standalone --nproc_per_node=1 train.py config/mup_psgd.py
# $ python train.py config/mup_psgd.py --n_embd=768        (same LR: that is the point of muP)
include('shakespeare_char.py')  # the shared model, data and schedule; below: what this run changes
optimizer = 'psgd'
learning_rate = 3e-3  # the base-width LR: mup_adamw's 1e-2 / 3 (kron_torch's guidance); groups get lr * (n/base)^-c
