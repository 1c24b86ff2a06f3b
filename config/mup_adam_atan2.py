# muP + Adam-atan2 (Everett et al. 2024 §4.3, App. C.5) on Tiny Shakespeare (char): the model, data and per-layer
# LRs (full alignment, base width 128) of config/mup_adamw.py with the epsilon-free atan2 update. Adam-atan2 is in
# the `adam` family, so the LR exponents are Adam's; with no epsilon there is no epsilon underflow at large width
# (the paper's motivation), and eps / eps_scaling have no effect.
# Sources: adam_atan2_a = adam_atan2_b = 1 (the paper; lucidrains' adam-atan2-pytorch uses a = 1.27); beta2 0.99
# (lucidrains' default and nanoGPT's shakespeare_char value; the paper used 0.98); learning_rate 1e-2, the
# base-width LR of config/mup_adamw.py (a = b = 1 makes small steps equal Adam's); weight_decay 0.1 (nanoGPT; the
# paper trains without decay), decoupled as in torch AdamW.
# Prepare the data first: python data/shakespeare_char/prepare.py
# $ python train.py config/mup_adam_atan2.py
# $ python train.py config/mup_adam_atan2.py --n_embd=768        (same LR: that is the point of muP)
include('shakespeare_char.py')  # the shared model, data and schedule; below: what this run changes
optimizer = 'adam_atan2'
learning_rate = 1e-2  # the base-width LR; groups get learning_rate * (n/base)^-c
beta2 = 0.99
weight_decay = 0.1
