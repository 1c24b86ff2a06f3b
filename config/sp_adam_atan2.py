# Standard parameterization + Adam-atan2 (Everett et al. 2024 §4.3, App. C.5), one global LR: the epsilon-free
# Adam on the same model and data as config/sp_adamw.py (init std 0.02 at the base width 128, shrinking as
# 1/sqrt(fan_in)), so the two differ only in atan2(m_hat, b sqrt(v_hat)) versus m_hat / (sqrt(v_hat) + eps).
# Sources: adam_atan2_a = adam_atan2_b = 1 (the paper's App. C.5; lucidrains' adam-atan2-pytorch uses a = 1.27:
# --adam_atan2_a=1.27); beta2 0.99 (lucidrains' default, also nanoGPT's shakespeare_char value; the paper used
# 0.98 at batch 256 x 512); learning_rate 1e-3 (nanoGPT's shakespeare_char AdamW value: with a = b = 1 the step is
# Adam's where |m_hat| << sqrt(v_hat)); weight_decay 0.1 (nanoGPT; the paper trains without decay), decoupled as
# in torch AdamW (p *= 1 - lr * wd). The optimizer epsilon (eps) is ignored.
# $ python train.py config/sp_adam_atan2.py
# $ torchrun --standalone --nproc_per_node=4 train.py config/sp_adam_atan2.py
include('shakespeare_char.py')  # the shared model, data and schedule; below: what this run changes
parameterization = 'sp'
lr_scaling = 'global'
optimizer = 'adam_atan2'
beta2 = 0.99
weight_decay = 0.1
