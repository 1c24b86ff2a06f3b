# muP + Schedule-Free AdamW (optim/schedulefree_adamw.py) on Tiny Shakespeare (char): the model of
# config/mup_adamw.py (6 layers, width 384, heads of 64, base width 128) with Everett-form muP, per-layer LRs under
# full alignment. Schedule-Free AdamW is in the `adam` family (z moves by lr x an Adam-normalised direction; x and y
# are averages of z): hidden/readout LR ~ 1/fan_in, input LR constant, as AdamW.
# Schedule-Free replaces the LR schedule: lr_schedule='constant' and warmup_iters=0 here, and the optimizer's own
# warmup (schedulefree_adamw_warmup_steps) instead; train.py calls optimizer.eval()/train() around evaluation, so
# the val loss is that of the averaged weights x. Hyperparameters:
#   learning_rate 3e-2: the base-width LR, 3x config/mup_adamw.py's 1e-2 (official README: 1-10x a scheduled
#     AdamW's LR); not tuned here, sweep it. At the base width muP == SP;
#   beta1 0.9: official default (README: 0.95-0.98 for long runs); beta2 0.99: config/mup_adamw.py (small batch;
#     official default 0.999);
#   schedulefree_adamw_warmup_steps 100: config/mup_adamw.py's warmup; r 0, weight_lr_power 2: official defaults;
#   weight_decay 0.1: config/mup_adamw.py's (official default 0).
# Prepare the data first: python data/shakespeare_char/prepare.py
# $ torchrun --standalone --nproc_per_node=1 train.py config/mup_schedulefree_adamw.py
# $ python train.py config/mup_schedulefree_adamw.py --n_embd=768        (same LR: that is the point of muP)
include('shakespeare_char.py')  # the shared model, data and schedule; below: what this run changes
optimizer = 'schedulefree_adamw'
learning_rate = 3e-2  # the base-width LR: 3x config/mup_adamw.py; groups get learning_rate * (n/base)^-c
beta2 = 0.99  # as config/mup_adamw.py (official default 0.999)
weight_decay = 0.1  # as config/mup_adamw.py (official default 0)
schedulefree_adamw_warmup_steps = 100  # Schedule-Free's own warmup
lr_schedule = 'constant'  # no decay: Schedule-Free's averaging takes its place
warmup_iters = 0  # warmup by the optimizer instead
