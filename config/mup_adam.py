# muP + Adam (L2 weight decay in the gradient, torch.optim.Adam) on Tiny Shakespeare (char),
# same model as config/mup_adamw.py; the `adam` family of Everett et al. Table 1. Hyperparameters as in
# config/mup_adamw.py (nanoGPT's shakespeare_char: betas (0.9, 0.99)) but no weight decay: Adam's L2 decay
# interacts with the adaptive denominator (Loshchilov & Hutter), use adamw for decay.
# $ python train.py config/mup_adam.py
include('shakespeare_char.py')  # the shared model, data and schedule; below: what this run changes
optimizer = 'adam'
learning_rate = 1e-2  # the base-width LR
beta2 = 0.99
