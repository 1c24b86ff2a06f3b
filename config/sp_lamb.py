# Standard parameterization + LAMB (optim/lamb.py), one global LR: the SP baseline for LAMB on the same model and
# data as config/sp_adamw.py / config/mup_lamb.py (Tiny Shakespeare char, 6 layers, width 384).
# LAMB's LR is the relative change of every tensor per step (||dW||_F = lr ||W||_F), so it is not comparable to
# Adam LRs. Hyperparameters:
#   learning_rate 2e-3: Gupta et al. (Extending muP) Table 17, the best LAMB LR on Tiny Shakespeare char at widths
#     256-2048 (their grid is a decade apart: 2e-2 wins only at width 128); sweep around it;
#   betas (0.9, 0.999), eps 1e-6, weight_decay 0.01: You et al. 2019 (BERT setting);
#   lamb_bias_correction True: Algorithm 2; lamb_clamp 0 (off): a clamp of ||W|| breaks width transfer
#     (||W||_F grows like sqrt(width)); pytorch-optimizer's clamp is 10.
# Schedule: nanoGPT's shakespeare_char cosine + warmup, as config/sp_adamw.py (the paper: warmup + polynomial decay).
# $ python train.py config/sp_lamb.py
# $ torchrun --standalone --nproc_per_node=4 train.py config/sp_lamb.py
include('shakespeare_char.py')  # the shared model, data and schedule; below: what this run changes
parameterization = 'sp'
lr_scaling = 'global'
optimizer = 'lamb'
learning_rate = 2e-3  # Gupta et al. Table 17
beta2 = 0.999  # You et al. 2019
eps = 1e-6  # You et al. 2019
weight_decay = 0.01  # You et al. 2019 (BERT)
