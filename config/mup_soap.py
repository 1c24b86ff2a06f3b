# muP + SOAP (Adam in Shampoo's eigenbasis; optim/soap.py) on Tiny Shakespeare (char): the model of
# config/mup_adamw.py (6 layers, width 384, heads of 64, base width 128). SOAP normalises every rotated coordinate
# by its RMS like Adam, so it takes the `adam` family's per-layer LR exponents.
# Hyperparameters: the official nikhilvyas/SOAP defaults -- learning_rate 3e-3 (here the base-width LR; groups
# get learning_rate * (n/base)^-c), betas (0.95, 0.95), eps 1e-8, weight_decay 0.01 (decoupled, applied after the
# update), shampoo_beta -1 (-> beta2), precondition_frequency 10, max_precond_dim 10000; the first step only
# initialises the preconditioner (official).
# Prepare the data first: python data/shakespeare_char/prepare.py
# $ torchrun --standalone --nproc_per_node=1 train.py config/mup_soap.py
# $ python train.py config/mup_soap.py --n_embd=768        (same LR: that is the point of muP)
include('shakespeare_char.py')  # the shared model, data and schedule; below: what this run changes
optimizer = 'soap'
learning_rate = 3e-3
beta1 = 0.95
weight_decay = 0.01
