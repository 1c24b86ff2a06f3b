# Standard parameterization + Adam with parameter scaling (Everett et al. 2024 §4.2.2: Adam's step times
# max(eps2, RMS(W)) per tensor, the Adafactor family), one global LR, on the model and data of config/sp_adamw.py.
# For Adam + parameter scaling a global LR IS the "no alignment" per-layer prescription (every exponent is 0), the
# setting the paper recommends for this optimizer.
# The LR is relative to each tensor's RMS (~0.02 at init here, 0.0115 for the width-384 hidden matrices), so it is
# ~50x an Adam LR. learning_rate 3e-2 was chosen by a CPU sweep of this config shrunk to 2 layers (width
# 384 kept, so the RMS values are this config's), batch 8 x 64 tokens, 300 steps, dropout 0: final val loss 2.438 /
# 2.420 / 2.425 / 2.429 / 2.468 at 1.5e-2 / 3e-2 / 5e-2 / 1e-1 / 2e-1 (AdamW 1e-3 there: 2.357). The basin is flat
# from 3e-2 to 1e-1; 3e-2 is its low end (longer runs tend to want lower LRs), i.e. ~3.5e-4 absolute on the
# hidden matrices, and 3e-2 per step on the LayerNorm gains (RMS 1).
# Sources: beta2 0.98 and eps 1e-9 (the paper's Table C2, "Adam + PS" column); adam_ps_eps2 1e-3 (Adafactor's
# eps_2, optax's min_scale); weight_decay 0 (the paper's App. C.3 trains without decay; with p *= 1 - lr * wd and a
# ~50x larger LR, nanoGPT's 0.1 would shrink every matrix by 1% per step against updates that are relative to it).
# $ python train.py config/sp_adam_ps.py
# $ torchrun --standalone --nproc_per_node=4 train.py config/sp_adam_ps.py
include('shakespeare_char.py')  # the shared model, data and schedule; below: what this run changes
parameterization = 'sp'
lr_scaling = 'global'
optimizer = 'adam_ps'
learning_rate = 3e-2  # relative to RMS(W): see the header
beta2 = 0.98
eps = 1e-9
