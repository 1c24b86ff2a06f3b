# Standard parameterization + SOAP (Adam in Shampoo's eigenbasis; optim/soap.py), one global LR: the SP baseline
# for config/mup_soap.py. Same model and data as config/sp_adamw.py.
# Hyperparameters: the official nikhilvyas/SOAP defaults -- learning_rate 3e-3, betas (0.95, 0.95), eps 1e-8,
# weight_decay 0.01 (decoupled, applied after the update), shampoo_beta -1 (-> beta2), precondition_frequency 10,
# max_precond_dim 10000; the first step only initialises the preconditioner (official).
# $ python train.py config/sp_soap.py
# $ torchrun --standalone --nproc_per_node=4 train.py config/sp_soap.py
include('shakespeare_char.py')  # the shared model, data and schedule; below: what this run changes
parameterization = 'sp'
lr_scaling = 'global'
optimizer = 'soap'
learning_rate = 3e-3
beta1 = 0.95
weight_decay = 0.01
