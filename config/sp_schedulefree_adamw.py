# Standard parameterization + Schedule-Free AdamW (optim/schedulefree_adamw.py), one global LR: the SP baseline for
# Schedule-Free on the same model and data as config/sp_adamw.py (Tiny Shakespeare char, 6 layers, width 384).
# Schedule-Free replaces the LR schedule: lr_schedule='constant' and warmup_iters=0 here, and the optimizer's own
# warmup (schedulefree_adamw_warmup_steps) instead; train.py calls optimizer.eval()/train() around evaluation, so
# the val loss is that of the averaged weights x. Hyperparameters:
#   learning_rate 3e-3: 3x config/sp_adamw.py's 1e-3 (official README: 1-10x a scheduled AdamW's LR; the class
#     default is 2.5e-3); not tuned here, sweep it;
#   beta1 0.9: official default (README: 0.95-0.98 for long runs); beta2 0.99: config/sp_adamw.py (small batch;
#     official default 0.999);
#   schedulefree_adamw_warmup_steps 100: config/sp_adamw.py's warmup; r 0, weight_lr_power 2: official defaults;
#   weight_decay 0.1: config/sp_adamw.py's (official default 0), so the two runs differ only in the optimizer.
# $ python train.py config/sp_schedulefree_adamw.py
# $ torchrun --standalone --nproc_per_node=4 train.py config/sp_schedulefree_adamw.py
include('shakespeare_char.py')  # the shared model, data and schedule; below: what this run changes
parameterization = 'sp'
lr_scaling = 'global'
optimizer = 'schedulefree_adamw'
learning_rate = 3e-3  # 3x config/sp_adamw.py (official: 1-10x AdamW's)
beta2 = 0.99  # as config/sp_adamw.py (official default 0.999)
weight_decay = 0.1  # as config/sp_adamw.py (official default 0)
schedulefree_adamw_warmup_steps = 100  # Schedule-Free's own warmup
lr_schedule = 'constant'  # no decay: Schedule-Free's averaging takes its place
warmup_iters = 0  # warmup by the optimizer instead
