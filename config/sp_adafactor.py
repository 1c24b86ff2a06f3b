# Standard parameterization + Adafactor (Shazeer & Stern 2018; optim/adafactor.py), one global LR: the SP baseline
# for the Adafactor family. Same model and data as config/sp_adamw.py and config/mup_adafactor.py.
# Adafactor's step is LR x max(eps2, RMS(W)) x a clipped, normalised direction, so learning_rate is a *relative*
# step size (the paper's rho = 1e-2, torch.optim.Adafactor's default lr), not comparable to AdamW's LR.
# Sources of the values below: beta2_t = 1 - t^-0.8, update clipping d = 1, eps2 = 1e-3 and parameter scaling are
# the paper's and torch's defaults; no momentum (paper's final algorithm, torch); weight decay 0 (torch default;
# Everett et al. use none with Adafactor). The 1/sqrt(t) cap on the relative step is off (it would clip LR sweeps).
# eps is Adafactor's eps1, a floor on sqrt(V^) (torch's convention): torch's default is the dtype's machine
# epsilon, finfo(float32).eps = 1.19e-7 for fp32 master weights (the paper instead adds 1e-30 to g^2).
# $ python train.py config/sp_adafactor.py
# $ torchrun --standalone --nproc_per_node=4 train.py config/sp_adafactor.py
include('shakespeare_char.py')  # the shared model, data and schedule; below: what this run changes
parameterization = 'sp'
lr_scaling = 'global'
optimizer = 'adafactor'
learning_rate = 1e-2  # relative step size rho (paper's 1e-2 cap; torch.optim.Adafactor default lr)
eps = 1.1920929e-07  # eps1: torch.optim.Adafactor eps=(None, 1e-3) -> finfo(float32).eps
