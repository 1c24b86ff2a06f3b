# muP from spectral conditions + AdamW, as in Gupta et al. (Extending muP, Table 2 and Table 3 setting):
# absolute fan-in scaling (base width 1): init std 1/sqrt(fan_in) hidden, 1/fan_in readout, 1 for embeddings;
# AdamW LR eta for embeddings, eta/fan_in for hidden and readout weights; depth 8, width 256, 2 heads, Tiny
# Shakespeare char, 8192 tokens per iteration, early stopping after 150 iterations without improvement.
# Differences from the paper: one GPU with batch 8 x 1024 instead of 4 GPUs x 2 x 1024 (same tokens per step);
# hidden init is 1/sqrt(fan_in) (the spectral sigma has an extra sqrt(fan_out/fan_in) = 1/2 for the MLP output
# projection); LR schedule and dropout are not stated in the paper: nanoGPT's shakespeare_char values are used.
# $ python train.py config/mup_spectral_adamw.py --n_embd=512 --learning_rate=2e-2
out_dir = 'out/shakespeare_char'
eval_interval = 10
eval_iters = 10
block_size = 1024
batch_size = 8
n_layer = 8
n_head = 2
dropout = 0.2
parameterization = 'mup_spectral'
base_width = None  # absolute fan-in: n = fan_in (Gupta et al. fix the base width to 1)
init_std_embedding = 1.0
init_std_hidden = 1.0
init_std_readout = 1.0
learning_rate = 2e-2  # Gupta's grid: 2e-1 ... 2e-5
beta2 = 0.99
max_iters = 5000
early_stop_patience = 150
