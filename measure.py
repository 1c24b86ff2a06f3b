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


# -----------------------------------------------------------------------------
# coordinate checks of the update (Yang et al. 2021 §7 "coordinate check"; Everett et al. 2024 §3): how far a few
# optimizer steps move every module's output, as a function of width (or depth)

def _rms(t):
    return t.detach().float().pow(2).mean().sqrt().item()


def attention_logits(qkv, n_embd, n_head, attn_scale):
    """attn_scale * q k^T before the softmax, causal entries only: qkv (B, T, 3C) from c_attn -> (B, nh, T(T+1)/2).
    The model calls SDPA, which never materialises these, so they are recomputed from c_attn's output (whatever
    hidden_mult the layer applies is already in it)."""
    B, T, C3 = qkv.shape
    q, k, _ = qkv.float().split(n_embd, dim=2)
    hs = n_embd // n_head
    q = q.view(B, T, n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
    k = k.view(B, T, n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
    scale = attn_scale if attn_scale is not None else 1.0 / math.sqrt(hs)  # None: SDPA's default
    causal = torch.ones(T, T, dtype=torch.bool, device=qkv.device).tril()
    return (scale * q @ k.transpose(-2, -1))[..., causal]  # (B, nh, T(T+1)/2)


@torch.no_grad()
def module_outputs(model, idx):
    """{label: output (float32 copy)} of one forward on tokens idx (B, T), logits at every position.

    labels: embedding (block 0's input, after emb_mult), per block i: ln_1.i, attn_logits.i, attn.i, ln_2.i,
    mlp_hidden.i (GELU output), mlp.i (branch outputs before branch_mult), and ln_f, residual (ln_f's input: the
    residual stream after the last block), logits (after logit_mult)."""
    out, hooks = {}, []

    def keep(label, transform=lambda t: t):
        return lambda m, args, res: out.__setitem__(label, transform(res).detach().float().clone())

    def watch(module, label, transform=lambda t: t):
        hooks.append(module.register_forward_hook(keep(label, transform)))

    tr = model.transformer
    watch(tr.drop, 'embedding')
    for i, block in enumerate(tr.h):
        a = block.attn
        watch(block.ln_1, f'ln_1.{i}')
        watch(a.c_attn, f'attn_logits.{i}', lambda t, a=a: attention_logits(t, a.n_embd, a.n_head, a.attn_scale))
        watch(a, f'attn.{i}')
        watch(block.ln_2, f'ln_2.{i}')
        watch(block.mlp.gelu, f'mlp_hidden.{i}')
        watch(block.mlp, f'mlp.{i}')
    watch(tr.ln_f, 'ln_f')
    hooks.append(tr.ln_f.register_forward_pre_hook(
        lambda m, args: out.__setitem__('residual', args[0].detach().float().clone())))
    try:
        logits, _ = model(idx, idx)  # targets: logits at every position (the loss itself is not used)
    finally:
        for h in hooks:
            h.remove()
    out['logits'] = logits.detach().float().clone()
    return out


def fixed_batch(vocab_size, batch_size, block_size, seed=0, data=None):
    """One (x, y) batch (batch_size, block_size) of int64 tokens: a random window of the 1-D token array data, or
    uniformly random tokens when data is None. Reused at every width and depth, so every model sees the same input."""
    g = torch.Generator().manual_seed(seed)
    if data is None:
        seq = torch.randint(0, vocab_size, (batch_size, block_size + 1), generator=g)
    else:
        starts = torch.randint(0, len(data) - block_size - 1, (batch_size,), generator=g).tolist()
        seq = torch.stack([torch.as_tensor(data[s:s + block_size + 1].astype('int64')) for s in starts])
    return seq[:, :-1].contiguous(), seq[:, 1:].contiguous()


def _run_config(cfg, batch):
    """cfg completed with train.py's defaults (the engine's and every optimizer's keys included); CPU-safe (no
    fused kernels), no clipping."""
    import configurator
    full = {**configurator.train_defaults(), **cfg}
    full['tokens_per_iter'] = batch[0].numel()  # Sophia's bs: tokens per step
    full['fused'] = False
    return full


def train_steps(cfg, model_args, batch, steps, seed=0, device='cpu'):
    """Build the model exactly as train.py does (build_model, param_groups with the optimizer's own families,
    build_optimizer), record module_outputs on batch's inputs, take `steps` optimizer steps on that one batch and
    record them again. Returns (model, before, after).

    No gradient clipping: a global-norm clip couples every layer through one width-dependent norm, and the check is
    about the parameterization alone. Outputs are measured with the parameters the optimizer leaves in training mode
    (Schedule-Free's y, SPlus's training weights); their eval-time averages are means of the same iterates."""
    import optim
    import parameterization as P
    from optim.sophia import hessian_sample_seed, sampled_label_loss
    x, y = (t.to(device) for t in batch)
    model, infos = P.build_model(cfg, model_args, device, seed=seed)
    groups = P.param_groups(model, cfg, optim.family_of(cfg['optimizer'], cfg), infos)
    opt = optim.build_optimizer(cfg['optimizer'], groups, cfg)
    before = module_outputs(model, x)
    for step in range(steps):
        opt.zero_grad(set_to_none=True)
        _, loss = model(x, y)
        loss.backward()
        opt.step()
        if hasattr(opt, 'hessian_due') and opt.hessian_due():  # Sophia's refresh, as train.py does it
            opt.zero_grad(set_to_none=True)
            logits, _ = model(x, y)
            sampled_label_loss(logits, hessian_sample_seed(seed, step, 0)).backward()
            opt.update_hessian()
    after = module_outputs(model, x)
    return model, before, after


def _model_args(cfg, n_embd, n_layer, vocab_size):
    return dict(n_layer=n_layer, n_head=cfg.get('n_head', 2), head_dim=cfg.get('head_dim', 0), n_embd=n_embd,
                block_size=cfg['block_size'], vocab_size=vocab_size, bias=False, dropout=0.0,
                tie_embeddings=cfg.get('tie_embeddings', False))


def update_coords(cfg, widths, steps=3, seeds=(0,), batch=None, vocab_size=65, device='cpu'):
    """Coordinate check of the update across widths: rows dict(seed, width, role, init, delta) with init = RMS of
    the role's output at initialisation and delta = RMS of its change after `steps` steps on one fixed batch, both
    per coordinate (roles: the labels of module_outputs, except the residual stream).

    cfg: the engine's keys (parameterization, base_width, lr_scaling, ...), optimizer, learning_rate, n_layer,
    n_head, head_dim, tie_embeddings, block_size, batch_size and any optimizer hyperparameters; missing ones take
    their defaults.
    Each seed builds every width with that seed; batch (x, y) defaults to random tokens, the same for every seed and
    width. Keep batch_size * block_size well below min(widths): a low-rank update is then fully aligned with its
    input (Everett et al. 2024 §3.3, alignment 'full'), the regime the exponents are derived for. A step's sum over
    fan_in has an aligned part ~ n and a random part ~ sqrt(n * tokens), so with as many tokens as width the
    smallest widths move more and the slopes drift down (measured: -0.15 per layer at 32 tokens, widths 32..256)."""
    batch = batch or fixed_batch(vocab_size, cfg.get('batch_size', 2), cfg['block_size'])
    cfg = _run_config(cfg, batch)
    rows = []
    for seed in seeds:
        for width in widths:
            _, before, after = train_steps(cfg, _model_args(cfg, width, cfg.get('n_layer', 2), vocab_size), batch,
                                           steps, seed, device)
            rows += [dict(seed=seed, width=width, role=r, init=_rms(before[r]), delta=_rms(after[r] - before[r]))
                     for r in before if r != 'residual']
    return rows


def depth_coords(cfg, depths, width, steps=3, seeds=(0,), batch=None, vocab_size=65, device='cpu'):
    """Coordinate check of the update across depths n_layer in depths at one width: rows dict(seed, depth, role,
    init, delta) for roles residual (the stream after the last block, ln_f's input), branch (the mean over blocks
    and both branches of the RMS change of branch_mult * branch output: what one branch adds to the stream) and
    logits.

    base_depth is cfg's, or min(depths) when cfg leaves it None; depth_alpha and depth_lr_exponent are cfg's. Under
    depth-muP / CompleteP (Yang et al. 2023; Dey et al. 2025) each branch moves the stream by Theta(1/L) (branch
    slope -1), so the change of the stream and of the logits is flat in depth."""
    batch = batch or fixed_batch(vocab_size, cfg.get('batch_size', 2), cfg['block_size'])
    cfg = _run_config(cfg, batch)
    if cfg['base_depth'] is None:
        cfg['base_depth'] = min(depths)
    rows = []
    for seed in seeds:
        for depth in depths:
            model, before, after = train_steps(cfg, _model_args(cfg, width, depth, vocab_size), batch, steps, seed,
                                               device)
            bm = model.config.branch_mult
            branch = [f'{kind}.{i}' for i in range(depth) for kind in ('attn', 'mlp')]
            rows += [dict(seed=seed, depth=depth, role=r, init=_rms(before[r]), delta=_rms(after[r] - before[r]))
                     for r in ('residual', 'logits')]
            rows.append(dict(seed=seed, depth=depth, role='branch',
                             init=sum(bm * _rms(before[b]) for b in branch) / len(branch),
                             delta=sum(bm * _rms(after[b] - before[b]) for b in branch) / len(branch)))
    return rows


def loglog_slopes(rows, x='width', y='delta'):
    """{role: least-squares slope of log rows[y] vs log rows[x]} (0 = flat), roles in first-appearance order.
    Rows of several seeds are averaged in log space (a geometric mean per x) before the fit. A role with a zero or
    non-finite value gets nan: its log is undefined, and nan fails every bound."""
    logs = {}
    for r in rows:
        v = r[y]
        logs.setdefault(r['role'], {}).setdefault(r[x], []).append(math.log(v) if v > 0 and math.isfinite(v)
                                                                    else float('nan'))
    out = {}
    for role, by_x in logs.items():
        lx = [math.log(v) for v in sorted(by_x)]
        ly = [sum(by_x[v]) / len(by_x[v]) for v in sorted(by_x)]
        mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
        out[role] = sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / sum((a - mx) ** 2 for a in lx)
    return out


# -----------------------------------------------------------------------------
# The combinations the repository claims width-stable: every role's output moves by a width-independent amount per
# step (update_coords slope ~ 0) with alignment 'full', lr_scaling 'per_layer' and each optimizer's own families.
# Head rules: 'n_head' = n_head fixed (head_dim grows with width), 'head_dim' = head_dim fixed (heads grow).
# 'muon_rms' (Muon with muon_scale='rms') and 'adamw_tied' (AdamW, tie_embeddings=True) are variants of a registry
# optimizer (tests/test_width_stability.py VARIANTS), each measured in its one listed case.
# tests/test_width_stability.py holds every claimed combination to its bound and every other one to exceeding it;
# NOT_CLAIMED says why each other one is not claimed, with what it measured (widths 32-256, 3 steps, 8 tokens).
EVERY_OPTIMIZER = ('sgd', 'adam', 'adamw', 'adam_atan2', 'adam_ps', 'adafactor', 'adopt', 'lamb', 'sophia', 'splus',
                   'shampoo', 'soap', 'psgd', 'muon', 'schedulefree_adamw')
_EIGENBASIS = ('splus', 'soap')  # sign / Adam step in an eigenbasis of the gradients' second moments
_EARLY_SGD_LIKE = ('psgd',)  # preconditioner starts at the identity
_SP_LOGITS = ('sgd', 'adam_ps', 'adafactor', 'lamb', 'muon')  # SP's readout init meets aligned feature changes
NOT_CLAIMED = {
    'n_head fixed under sp / ntk': "1/sqrt(d_head) attention with d_head growing: the attention-logit update grows "
                                   "like d_head^1/2 (slope +0.46..+0.51); muP's 1/d_head, or head_dim fixed, is flat",
    'sgd, n_head fixed, muP family': "1/d_head attention under SGD: the attention-logit update shrinks like "
                                     "d_head^-1/2 (-0.49..-0.60); with head_dim fixed it is flat",
    'splus, soap': "an eigenbasis update of low-rank gradients (8 tokens per step here) puts sign / normalised noise "
                   "on the directions with no gradient: the part along the gradient shrinks with width after the "
                   "first eigenbasis refresh (SPlus: max slope 0.11 at 1 step, -0.21 at 3, -0.5 at 10; SOAP -0.5 "
                   "to -0.9). Their width transfer is measured in training instead (results/laptop/)",
    'psgd': "Q starts at the identity, so the first steps are momentum SGD under Adam's exponents (-1 everywhere, "
            "unchanged at 10 steps) until the preconditioner adapts",
    'sp / ntk logits': "SP's readout init n^-1/2 (muP: n^-1) times feature changes that these optimizers align with "
                       "it (Everett's omega = 1/2 assumption fails): logits +0.18..+0.21; ln_f under SGD -0.34",
    'mfp + adam_ps, n_head fixed': "constant eps (1e-9 x the mfp gradient scale) breaks the mup == mfp symmetry "
                                   "at the attention logits: -0.16 (mup + adam_ps measures 0.11)",
}


def _except(*names):
    return tuple(o for o in EVERY_OPTIMIZER if o not in names)


WIDTH_STABLE_CLAIMS = {  # parameterization -> head rule -> optimizers
    'sp':           {'n_head': (), 'head_dim': _except(*_EIGENBASIS, *_EARLY_SGD_LIKE, *_SP_LOGITS)},
    'ntk':          {'n_head': (), 'head_dim': _except(*_EIGENBASIS, *_EARLY_SGD_LIKE, *_SP_LOGITS)},
    'mup':          {'n_head': _except('sgd', *_EIGENBASIS, *_EARLY_SGD_LIKE) + ('muon_rms', 'adamw_tied'),
                     'head_dim': _except(*_EIGENBASIS, *_EARLY_SGD_LIKE)},
    'mfp':          {'n_head': _except('sgd', 'adam_ps', *_EIGENBASIS, *_EARLY_SGD_LIKE),
                     'head_dim': _except(*_EIGENBASIS, *_EARLY_SGD_LIKE)},
    'mup_spectral': {'n_head': _except('sgd', *_EIGENBASIS, *_EARLY_SGD_LIKE),
                     'head_dim': _except(*_EIGENBASIS, *_EARLY_SGD_LIKE)},
}


def claimed_width_stable(parameterization, optimizer, head_rule):
    """Whether the repository claims this (parameterization, optimizer, head rule) width-stable."""
    return optimizer in WIDTH_STABLE_CLAIMS.get(parameterization, {}).get(head_rule, ())
