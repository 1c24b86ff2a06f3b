# Standard parameterization + PSGD-Kron, one global LR: the SP baseline for PSGD (compare config/mup_psgd.py).
# Same model and data as config/sp_adamw.py. Optimizer values are kron_torch.Kron's defaults (evanatyourservice/
# kron_torch kron.py): lr 3e-4 (also its guidance "about Adam's LR / 3": nanoGPT's 1e-3 / 3), b1 0.9, wd 0 (its
# guidance when decaying: 3-10x Adam's wd), precond_lr 0.1, init scale 1, update probability 1 for 500 steps then
# exp(-0.001 (t - 500)) down to 0.03, triangular factors up to 8192, momentum into the preconditioner fit. beta2 and
# eps are not used by PSGD.
# $ python train.py config/sp_psgd.py
# $ torchrun --standalone --nproc_per_node=4 train.py config/sp_psgd.py      (psgd_seed: the same V on every rank)
include('shakespeare_char.py')  # the shared model, data and schedule; below: what this run changes
parameterization = 'sp'
lr_scaling = 'global'
optimizer = 'psgd'
learning_rate = 3e-4  # kron_torch default
