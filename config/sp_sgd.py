# Standard parameterization + SGD with momentum 0.9 on Tiny Shakespeare (char), same model as config/sp_adamw.py.
# SGD is the `sgd` family of Everett et al. Table 1: under muP its embedding LR grows with width (c = -1) and
# the readout LR is constant (full alignment); under SP one global LR (the practical baseline).
# LR 0.3 is a starting point, not tuned here (SGD usually needs 30-300x an Adam LR): sweep it. Momentum 0.9 as
# torch.optim.SGD users usually set it. No weight decay (SGD's is L2 in the gradient, decoupled_wd=False).
# $ python train.py config/sp_sgd.py
include('shakespeare_char.py')  # the shared model, data and schedule; below: what this run changes
parameterization = 'sp'
lr_scaling = 'global'
optimizer = 'sgd'
learning_rate = 0.3
