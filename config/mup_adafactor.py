# muP + Adafactor on Tiny Shakespeare (char): the model of config/mup_adamw.py (6 layers, width 384, heads of 64,
# base width 128) with the Everett-form muP of parameterization.py and per-layer LRs derived for the `adafactor`
# family under full alignment (Everett et al. Table 1: the update scales as LR x RMS(W), so hidden LR ~ n^-1/2,
# embedding and readout constant). optim/adafactor.py; values and sources as in config/sp_adafactor.py:
# beta2_t = 1 - t^-0.8, d = 1, eps2 = 1e-3, parameter scaling on (paper, torch); no momentum; wd 0 (torch default;
# Everett et al. use none); no 1/sqrt(t) cap on the relative step (it would clip LR sweeps); eps = eps1, a floor on
# sqrt(V^), torch's default finfo(float32).eps (per-layer with --eps_scaling=per_layer, Everett §4.3).
# learning_rate is the base-width relative step size (paper's 1e-2, torch's default lr).
# $ python train.py config/mup_adafactor.py
# $ python train.py config/mup_adafactor.py --n_embd=768        (same LR: that is the point of muP)
include('shakespeare_char.py')  # the shared model, data and schedule; below: what this run changes
optimizer = 'adafactor'
learning_rate = 1e-2  # the base-width relative step size; groups get learning_rate * (n/base)^-c
eps = 1.1920929e-07  # eps1: torch.optim.Adafactor eps=(None, 1e-3) -> finfo(float32).eps
