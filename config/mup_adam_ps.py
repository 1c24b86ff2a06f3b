# muP + Adam with parameter scaling (Everett et al. 2024 §4.2.2, the Adafactor family) on Tiny Shakespeare (char):
# the model and data of config/mup_adamw.py, per-layer LRs for the `adafactor` family under full alignment (base
# width 128): embedding and readout exponent 0, hidden matrices (n/base)^-1/2. The paper finds "no alignment"
# better for this optimizer (every exponent 0, the same as a global LR): --alignment=none.
# The LR is relative to each tensor's RMS (~0.02 at the base width), so it is ~50x an Adam LR. learning_rate 5e-2:
# at width 384 the hidden groups get 5e-2 / sqrt(3) = 2.9e-2, the best LR of config/sp_adam_ps.py's sweep (same
# RMS there), and embedding, readout and gains get 5e-2, inside that sweep's flat basin (3e-2 to 1e-1). The same
# shrunk sweep on this config (2 layers, width 384, batch 8 x 64, 300 steps, dropout 0): final val loss
# 2.438 / 2.432 / 2.435 at 3e-2 / 5e-2 / 1e-1.
# Sources: beta2 0.98 and eps 1e-9 (the paper's Table C2, "Adam + PS" column); adam_ps_eps2 1e-3 (Adafactor's
# eps_2, optax's min_scale); weight_decay 0 (the paper trains without decay; with p *= 1 - lr * wd and a ~50x
# larger LR, nanoGPT's 0.1 would shrink every matrix by 1% per step against updates that are relative to it).
# Prepare the data first: python data/shakespeare_char/prepare.py
# $ python train.py config/mup_adam_ps.py
# $ python train.py config/mup_adam_ps.py --n_embd=768        (same LR: that is the point of muP)
include('shakespeare_char.py')  # the shared model, data and schedule; below: what this run changes
optimizer = 'adam_ps'
learning_rate = 5e-2  # the base-width LR; groups get learning_rate * (n/base)^-c
beta2 = 0.98
eps = 1e-9
