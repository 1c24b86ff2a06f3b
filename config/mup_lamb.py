# muP + LAMB (optim/lamb.py) on Tiny Shakespeare (char): the model of config/mup_adamw.py (6 layers, width 384,
# heads of 64, base width 128) with Everett-form muP init and multipliers. Its trust ratio sets
# ||dW||_F = lr ||W||_F, the `adafactor` family's rule (update ~ LR x parameter scale): hidden LRs x n^-1/2 under
# muP. Gupta et al. (Extending muP, Table 2) give LAMB c = 0 everywhere (--optimizer_family=invariant), which lets
# the hidden update's spectral size grow like sqrt(width) (optim/lamb.py's docstring has the measurement).
# Hyperparameters:
#   learning_rate 2e-3: Gupta et al. Table 17, the best LAMB LR on Tiny Shakespeare char at widths 256-2048
#     (a decade-spaced grid; not re-tuned here); the LR at the base width;
#   betas (0.9, 0.999), eps 1e-6, weight_decay 0.01: You et al. 2019 (BERT setting);
#   lamb_bias_correction True: Algorithm 2; lamb_clamp 0 (off): pytorch-optimizer's clamp of ||W|| at 10 would
#     switch on beyond width ~100-500 (||W||_F grows like sqrt(width)) and shrink hidden steps with width.
# Prepare the data first: python data/shakespeare_char/prepare.py
# $ torchrun --standalone --nproc_per_node=1 train.py config/mup_lamb.py
# $ python train.py config/mup_lamb.py --n_embd=768        (same LR: that is the point of muP)
# $ python train.py config/mup_lamb.py --optimizer_family=invariant   (Gupta et al.'s rule: LR 1 for every layer)
include('shakespeare_char.py')  # the shared model, data and schedule; below: what this run changes
optimizer = 'lamb'
learning_rate = 2e-3  # Gupta et al. Table 17 (the base-width LR)
beta2 = 0.999  # You et al. 2019
eps = 1e-6  # You et al. 2019
weight_decay = 0.01  # You et al. 2019 (BERT)
