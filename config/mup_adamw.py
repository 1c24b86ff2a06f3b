# muP + AdamW on Tiny Shakespeare (char): nanoGPT's "baby GPT" (6 layers, width 384, 6 heads of 64) with the
# Everett-form muP of parameterization.py, per-layer LRs under full alignment, base width 128.
# Because head_dim is fixed, widening the model adds heads (the 1/d_head attention factor stays constant).
# Prepare the data first: python data/shakespeare_char/prepare.py
# $ torchrun --standalone --nproc_per_node=1 train.py config/mup_adamw.py
# $ python train.py config/mup_adamw.py --n_embd=768        (same LR: that is the point of muP)
include('shakespeare_char.py')  # the shared model, data and schedule; below: what this run changes
learning_rate = 1e-2  # the base-width LR; groups get learning_rate * (n/base)^-c
beta2 = 0.99  # small batch, few tokens per step (nanoGPT's shakespeare_char value)
weight_decay = 0.1
