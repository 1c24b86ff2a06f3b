"""
Measurements on a live model that train.py and scripts share.

Everett et al. 2024, Definition 3.1 -- the log alignment ratio of a dense layer W (fan_out x fan_in) and its input z:

    A = log_fan_in( ||W z||_rms / (||W||_rms ||z||_rms) )

A is 1/2 when W and z are independent (a random sum over fan_in terms grows like sqrt(fan_in)) and 1 when the rows
of W are aligned with z (the sum grows like fan_in). It says which alignment assumption of the paper's Table 2
(full: alpha = 1, none: alpha = 1/2) the run is closer to, layer by layer and step by step (Fig. 2).
"""

import math

import torch


def log_alignment_ratio(weight, z):
    """A of Definition 3.1 for weight (fan_out, fan_in) and inputs z (..., fan_in), all tokens together.

    RMS norms over every entry (the Frobenius form of the paper's footnote 3 over a batch of tokens); computed in
    float32 so bf16 activations do not bias it."""
    if hasattr(weight, 'full_tensor'):  # an FSDP2 shard: the whole matrix (every rank calls this together)
        weight = weight.full_tensor()
    w, z = weight.detach().float(), z.detach().float().reshape(-1, weight.shape[1])  # (N, fan_in)
    wz = z @ w.T  # (N, fan_out)
    rms = lambda t: t.pow(2).mean().sqrt()
    ratio = rms(wz) / (rms(w) * rms(z))
    return (torch.log(ratio) / math.log(weight.shape[1])).item()


@torch.no_grad()
def alignment_by_layer(model, idx, targets=None):
    """{linear layer name: A} on one batch of tokens idx (B, T): every nn.Linear of the model (attention qkv and
    output projection, both MLP matrices, the readout). The input each layer sees is captured with a forward
    pre-hook, so whatever multiplier the model applies before the matmul is part of z (A ignores scale anyway)."""
    inputs, hooks = {}, []
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear):
            hooks.append(module.register_forward_pre_hook(
                lambda m, args, name=name: inputs.__setitem__(name, args[0])))
    try:
        model(idx, targets if targets is not None else idx)  # targets: logits at every position
    finally:
        for h in hooks:
            h.remove()
    modules = dict(model.named_modules())
    return {name: log_alignment_ratio(modules[name].weight, z) for name, z in inputs.items()}
