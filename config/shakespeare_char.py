# The Tiny Shakespeare (char) setting that config/<parameterization>_<optimizer>.py share (all but
# config/mup_spectral_adamw.py, Gupta et al.'s setting): nanoGPT's shakespeare_char "baby GPT" (6 layers, width 384,
# 6 heads of 64, context 256, batch 64, dropout 0.2), 5000 steps.
# How the files stack: each of them starts with include('shakespeare_char.py') (configurator.py), which execs this
# file into the including file's scope, so the lines after the include override what is set here, and
# `python train.py config/mup_adamw.py` alone gives the whole config. What train.py's defaults already give is not
# repeated (here: n_layer, block_size, dataset, eval_interval, log_interval, the cosine schedule with its warmup and
# floor; in those files: e.g. beta1 0.9, or an optimizer's own keys at optim/<name>.py's defaults, whose sources are
# given there): tests/test_config_files.py fails if a config file restates a value that its stack already gives.
# Prepare the data first: python data/shakespeare_char/prepare.py
# $ python train.py config/shakespeare_char.py     (train.py's muP AdamW at its default LR in this setting)
out_dir = 'out/shakespeare_char'
n_embd = 384
head_dim = 64  # fixed head dimension: widening the model adds heads (the 1/d_head attention factor stays constant)
batch_size = 64
dropout = 0.2
base_width = 128  # muP's multipliers are 1 at width 128 (SP's init std is 0.02 there)
max_iters = 5000
eval_iters = 50
