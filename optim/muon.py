"""Muon: momentum orthogonalized by Newton-Schulz, for hidden matrices; AdamW for every other parameter.

Source: Keller Jordan, "Muon: An optimizer for hidden layers in neural networks" (blog, 2024) and the official
KellerJordan/Muon muon.py (`SingleDeviceMuonWithAuxAdam`); torch 2.13 ships the matrix part as torch.optim.Muon,
the numerical reference of tests/test_optim_muon.py.

Hidden 2-D parameters W (fan_out, fan_in), with momentum mu and learning rate lr:

    B <- lerp(B, g, 1 - mu)                       (= mu B + (1 - mu) g)
    U = lerp(g, B, mu) if nesterov else B         (Nesterov: (1 - mu) g + mu B)
    O = NS_5(U)                                   (~ the orthogonal polar factor U V^T of U = U S V^T)
    W <- W (1 - lr wd) ;   W <- W - lr * s * O,   s = sqrt(max(1, fan_out / fan_in))     ('original')
                                                  s = 0.2 sqrt(max(fan_out, fan_in))      ('rms')

NS_5: X = U / (||U||_F + 1e-7), transposed if tall so X X^T is the small Gram matrix, then 5 times
A = X X^T, X <- a X + (b A + c A^2) X with (a, b, c) = (3.4445, -4.7750, 2.0315): a quintic whose slope at 0 is
as large as possible, so the singular values land in roughly [0.7, 1.2] rather than exactly at 1 (the blog).

Every other parameter (role embedding, readout or vector, and any parameter that is not 2-D, whatever its role)
is updated by AdamW inside the same optimizer, as the official MuonWithAuxAdam does:

    m <- lerp(m, g, 1 - b1) ; v <- lerp(v, g^2, 1 - b2) ; W <- W (1 - lr_a wd)
    W <- W - lr_a * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps),    lr_a = group lr * adam_lr_ratio

Choices, and where the references differ:
- One LR knob: the official code gives the AdamW groups their own LR (3e-4 against Muon's 0.02). Here every group's
  LR comes from the parameterization (learning_rate x the group's multiplier) and the AdamW roles use
  lr x muon_adam_lr_ratio (default 0.015 = 3e-4 / 0.02), so an LR sweep moves both together at the official ratio.
  Betas are the run's beta1/beta2 (official aux: 0.9, 0.95), eps is the group's eps (official aux: 1e-10).
- NS precision (muon_ns_dtype): the official code and torch.optim.Muon always run NS in bfloat16. 'auto' does
  that on CUDA and uses the param's precision (at least float32) elsewhere: CPU bf16 matmuls are slow and the
  CPU runs are tests and debugging.
- Normalisation: official X / (||X|| + 1e-7); torch.optim.Muon X / max(||X||, 1e-7). We follow the official one
  (identical unless the momentum is ~1e-7).
- Nesterov: the official step writes lerp(g, B, mu) into p.grad; we leave p.grad alone.
- Weight decay uses the unscaled LR (official and torch alike): W <- W (1 - lr wd), decoupled.
- Groups without a 'role' (a plain list of tensors) count as hidden, so Muon(model matrices) behaves like
  torch.optim.Muon; 1-D tensors still go to AdamW.

Width scaling: class family `invariant` for the hidden role: with s = sqrt(max(1, fan_out/fan_in)) the update's
spectral norm is lr * s whatever the width, which is the spectral muP condition ||dW|| ~ sqrt(fan_out/fan_in) (for
fan_out >= fan_in), so the hidden LR needs no width exponent. `role_family` puts the AdamW roles in the `adam`
family (Adam's muP exponents for embedding, readout, vectors).

muon_scale='rms' (Liu et al. 2025, "Muon is Scalable for LLM Training"; torch.optim.Muon's
adjust_lr_fn='match_rms_adamw'): a full-rank orthogonal (m, n) matrix has RMS 1/sqrt(max(m, n)), so
s = 0.2 sqrt(max(m, n)) gives the update the RMS 0.2 lr of a typical AdamW update, and AdamW's LR and weight decay
can be reused (NS_5's singular values are not exactly 1: measured RMS 0.83-0.87 x 0.2 lr on Gaussian matrices).
Its factor over 'original' is 0.2 sqrt(fan_in), n^1/2 for hidden matrices, and the spectral size lr * s does not
depend on the gradient's rank; so its hidden family is `invariant_rms` (c = 1/2 - a, which is Adam's hidden
exponent under alignment 'none'; parameterization.lr_exponents), set by role_family from the flag. Adam's
full-alignment exponent c = 1 - a makes the hidden update shrink like n^-1/2 when the gradient has low rank: measured
slopes -0.44 to -0.56 vs log width under mup with the protocol of tests/test_width_stability.py, against
|slope| <= 0.07 with invariant_rms.
"""

import math

import torch

import optim

NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)  # the blog's quintic


def zeropower_via_newtonschulz5(G, steps=5, dtype=torch.bfloat16, coefficients=NS_COEFFICIENTS, eps=1e-7):
    """Approximate orthogonal polar factor of the matrix G (rows, cols), in dtype (returned in dtype)."""
    a, b, c = coefficients
    X = G.to(dtype)
    tall = G.size(0) > G.size(1)
    if tall:
        X = X.T  # (small, large): the Gram matrix X X^T is the small one
    X = X / (X.norm() + eps)  # ||X||_2 <= ||X||_F <= 1: inside NS's domain
    for _ in range(steps):
        A = X @ X.T  # (small, small)
        B = torch.addmm(A, A, A, beta=b, alpha=c)  # b A + c A^2
        X = torch.addmm(X, B, X, beta=a)  # a X + B X
    return X.T if tall else X


def update_scale(shape, scale='original'):
    """The factor s of the orthogonalized update for a (fan_out, fan_in) matrix."""
    fan_out, fan_in = shape
    if scale == 'original':  # Keller Jordan: spectral norm sqrt(fan_out / fan_in) for wide-output matrices
        return math.sqrt(max(1.0, fan_out / fan_in))
    if scale == 'rms':  # Liu et al. 2025: a full-rank orthogonal O has RMS 1/sqrt(max): update RMS 0.2 lr
        return 0.2 * math.sqrt(max(fan_out, fan_in))
    raise ValueError(f"muon_scale '{scale}': use 'original' or 'rms'")


def muon_update_(p, grad, momentum_buffer, *, lr, weight_decay, momentum, nesterov, ns_steps, ns_dtype, scale,
                 blocks=1):
    """One Muon step of the 2-D param p (fan_out, fan_in) in place; momentum_buffer: its B, same shape.
    blocks > 1: p stacks that many (fan_out / blocks, fan_in) matrices along its rows (q, k, v), each orthogonalised
    and scaled on its own."""
    momentum_buffer.lerp_(grad, 1 - momentum)
    U = grad.lerp(momentum_buffer, momentum) if nesterov else momentum_buffer  # a new tensor: p.grad is not touched
    parts = U.chunk(blocks) if blocks > 1 else [U]
    O = torch.cat([zeropower_via_newtonschulz5(u, ns_steps, ns_dtype) for u in parts]) if blocks > 1 else \
        zeropower_via_newtonschulz5(U, ns_steps, ns_dtype)
    p.mul_(1 - lr * weight_decay)
    p.add_(O.to(p.dtype), alpha=-lr * update_scale(parts[0].shape, scale))


def adamw_update_(p, grad, exp_avg, exp_avg_sq, step, *, lr, betas, eps, weight_decay):
    """One AdamW step of p in place (official adam_update), for the roles Muon does not update; step: 1-based int."""
    b1, b2 = betas
    exp_avg.lerp_(grad, 1 - b1)
    exp_avg_sq.lerp_(grad.square(), 1 - b2)
    m_hat = exp_avg / (1 - b1 ** step)
    v_hat = exp_avg_sq / (1 - b2 ** step)
    p.mul_(1 - lr * weight_decay)
    p.add_(m_hat / (v_hat.sqrt() + eps), alpha=-lr)


def ns_dtype_for(name, p):
    """The Newton-Schulz dtype: 'auto' = bfloat16 on CUDA (official), the param's (at least float32) elsewhere."""
    if name == 'auto':
        return torch.bfloat16 if p.is_cuda else torch.promote_types(p.dtype, torch.float32)
    return getattr(torch, name)


class Muon(torch.optim.Optimizer):
    """Muon for 2-D hidden params, AdamW (LR x adam_lr_ratio) for the rest, chosen per group role and p.ndim."""
    family = 'invariant'
    needs_full_tensors = True  # distributed: one owner rank steps the whole tensor (optim/distributed.py)
    decoupled_wd = True
    shared = ('lr', 'betas')  # train.py's keys (optim.SHARED): betas of the AdamW roles
    hparams = {
        'muon_momentum': 0.95,  # mu (official)
        'muon_nesterov': True,  # official
        'muon_ns_steps': 5,  # official
        'muon_ns_dtype': 'auto',  # auto (bfloat16 on CUDA, fp32+ on CPU) | bfloat16 | float32 | float64
        'muon_scale': 'original',  # original: sqrt(max(1, fan_out/fan_in)) | rms: 0.2 sqrt(max), adam family
        'muon_adam_lr_ratio': 0.015,  # AdamW roles: lr x this (official 3e-4 / 0.02)
        'muon_split_qkv': True,  # orthogonalise the stacked q, k, v projection (c_attn) as three matrices
    }
    allowed = {'momentum': '[0, 1)', 'nesterov': (True, False), 'ns_steps': '>= 0',
               'ns_dtype': ('auto', 'bfloat16', 'float16', 'float32', 'float64'),
               'scale': ('original', 'rms'), 'adam_lr_ratio': '>= 0', 'split_qkv': (True, False)}

    def __init__(self, params, lr=0.02, weight_decay=0.0, momentum=0.95, nesterov=True, ns_steps=5,
                 ns_dtype='auto', scale='original', adam_lr_ratio=0.015, split_qkv=True, betas=(0.9, 0.95), eps=1e-10):
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov, ns_steps=ns_steps,
                        ns_dtype=ns_dtype, scale=scale, adam_lr_ratio=adam_lr_ratio, split_qkv=split_qkv,
                        betas=tuple(betas), eps=eps)
        if scale == 'match_rms_adamw':
            raise ValueError("Muon: muon_scale='match_rms_adamw' (torch.optim.Muon's name) is spelled 'rms' here")
        optim.check(self, defaults)
        super().__init__(params, defaults)

    @staticmethod
    def role_family(cfg):
        """{role: family} (optim.family_of): AdamW's roles are adam; the hidden matrices are the class family
        (invariant) under muon_scale='original' and invariant_rms under 'rms' (the module docstring says why)."""
        rms = cfg.get('muon_scale', Muon.hparams['muon_scale']) == 'rms'
        return dict(embedding='adam', readout='adam', vector='adam', **({'hidden': 'invariant_rms'} if rms else {}))

    @staticmethod
    def uses_muon(group, p):
        """Muon for 2-D params of hidden groups (or groups without a role); AdamW for all others."""
        return group.get('role', 'hidden') == 'hidden' and p.ndim == 2

    @staticmethod
    def row_blocks(group, i, p):
        """3 for model.py's stacked q, k, v projection (a parameter named ...attn.c_attn.weight in the group's
        'names', which parameterization.param_groups provides) under split_qkv, else 1. Orthogonalising the stack
        as one matrix spreads one spectral budget over q, k and v of every head: with head_dim fixed and more heads
        at larger width, the attention-logit update then grew with width (slope +0.3 vs log width in
        tests/test_width_stability.py; +0.1 split, as modded-nanogpt orthogonalises q, k, v apart)."""
        names = group.get('names')
        split = group['split_qkv'] and names and names[i].endswith('attn.c_attn.weight') and p.shape[0] % 3 == 0
        return 3 if split else 1

    def _init_state(self, p, group):
        """Muon's momentum buffer, or AdamW's moments, in the parameter's dtype."""
        if self.uses_muon(group, p):
            return dict(step=0, momentum_buffer=torch.zeros_like(p))
        return dict(step=0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for i, p in enumerate(group['params']):
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state.update(self._init_state(p, group))
                state['step'] += 1
                if self.uses_muon(group, p):
                    muon_update_(p, p.grad, state['momentum_buffer'], lr=group['lr'],
                                 weight_decay=group['weight_decay'], momentum=group['momentum'],
                                 nesterov=group['nesterov'], ns_steps=group['ns_steps'],
                                 ns_dtype=ns_dtype_for(group['ns_dtype'], p), scale=group['scale'],
                                 blocks=self.row_blocks(group, i, p))
                else:
                    adamw_update_(p, p.grad, state['exp_avg'], state['exp_avg_sq'], state['step'],
                                  lr=group['lr'] * group['adam_lr_ratio'], betas=group['betas'], eps=group['eps'],
                                  weight_decay=group['weight_decay'])
        return loss
