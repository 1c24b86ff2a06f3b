# muP + ADOPT on Tiny Shakespeare (char): the model of config/mup_adamw.py (6 layers, width 384, heads of 64, base
# width 128) with the Everett-form muP of parameterization.py, per-layer LRs under full alignment for the `adam`
# family (Gupta et al., App. C.1: ADOPT's update has Adam's scale, so AdamW's muP holds for it).
# Optimizer values from the official implementation (iShohei220/adopt, torch-adopt): betas (0.9, 0.9999), eps 1e-6
# (not train.py's 1e-8; a floor on sqrt(v)), wd 0 coupled, clipping at step^(1/4) on.
# learning_rate: the base-width LR of config/mup_adamw.py (1e-2). Gupta et al. state only their grid and setting
# (Table 3: 8 layers, 2 heads, 8192 tokens/step, early stopping after 150 iters; base width 1); their best ADOPT
# LR (Table 9) is 2e-2 at width 128 and 7e-2 at widths 256-512. Their setting with ADOPT:
# $ python train.py config/mup_spectral_adamw.py --optimizer=adopt --beta2=0.9999 --eps=1e-6 --learning_rate=2e-2
# This file:
# $ python train.py config/mup_adopt.py
# $ python train.py config/mup_adopt.py --n_embd=768        (same LR: that is the point of muP)
include('shakespeare_char.py')  # the shared model, data and schedule; below: what this run changes
optimizer = 'adopt'
learning_rate = 1e-2  # the base-width LR; groups get learning_rate * (n/base)^-c
beta2 = 0.9999  # official
eps = 1e-6  # official (a floor: g / max(sqrt(v), eps))
