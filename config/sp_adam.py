# Standard parameterization + Adam (L2 weight decay in the gradient, torch.optim.Adam) on Tiny Shakespeare (char),
# same model as config/sp_adamw.py; the `adam` family of Everett et al. Table 1. Hyperparameters as in
# config/sp_adamw.py (nanoGPT's shakespeare_char: betas (0.9, 0.99)) but no weight decay: Adam's L2 decay
# interacts with the adaptive denominator (Loshchilov & Hutter), use adamw for decay.
# $ python train.py config/sp_adam.py
include('shakespeare_char.py')  # the shared model, data and schedule; below: what this run changes
parameterization = 'sp'
lr_scaling = 'global'
optimizer = 'adam'
beta2 = 0.99
