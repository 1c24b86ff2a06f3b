# Standard parameterization + ADOPT (Taniguchi et al. 2024; optim/adopt.py), one global LR: the SP baseline for
# ADOPT. Same model and data as config/sp_adamw.py and config/mup_adopt.py.
# Values from the official implementation (iShohei220/adopt, torch-adopt) unless stated: betas (0.9, 0.9999),
# eps 1e-6 (note: not the 1e-8 of train.py's default; eps is a floor on sqrt(v)), weight decay 0 and coupled
# (L2 in the gradient, decouple=False), clipping of the normalised gradient at step^(1/4) on.
# learning_rate 1e-3: the official default, and nanoGPT's shakespeare_char value for AdamW.
# $ python train.py config/sp_adopt.py
# $ torchrun --standalone --nproc_per_node=4 train.py config/sp_adopt.py
include('shakespeare_char.py')  # the shared model, data and schedule; below: what this run changes
parameterization = 'sp'
lr_scaling = 'global'
optimizer = 'adopt'
beta2 = 0.9999  # official (ADOPT converges with any beta2; the paper's recommended value)
eps = 1e-6  # official (a floor: g / max(sqrt(v), eps))
