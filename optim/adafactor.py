"""
Adafactor (Shazeer & Stern 2018, "Adafactor: Adaptive Learning Rates with Sublinear Memory Cost", its final
algorithms for matrices and for vectors), in the conventions of torch.optim.Adafactor (torch 2.13, `_adafactor.py`), which
is our numerical reference. Per tensor, at step t (1-based), with G the gradient:

    beta2_t = 1 - t^beta2_decay                                   (paper "Increasing decay parameter": -0.8)
    rho_t   = lr, or min(lr, 1/sqrt(t)) with relative_step        (paper "Relative step size")
    alpha_t = max(eps2, RMS(theta_{t-1})) * rho_t, or rho_t without scale_parameter   (same section)
    theta   <- theta * (1 - lr * wd)                              (torch: decoupled, times lr, not alpha_t)
    >= 2-D (factored over the last two dims, G: (..., n, m)):
        R <- lerp(R, mean_cols(G^2), 1 - beta2_t)                 (..., n, 1)   row EMA  (the paper sums where
                                                                  we take means: V^ is the same)
        C <- lerp(C, mean_rows(G^2), 1 - beta2_t)                 (..., 1, m)   column EMA
        V^ = R C / max(mean(R), eps1)                             (..., n, m)
    1-D:
        V^ <- lerp(V^, G^2, 1 - beta2_t)
    U = G / max(sqrt(V^), eps1)
    U^ = U / max(1, RMS(U) / d)                                   (paper "Update clipping", d = 1)
    theta <- theta - alpha_t * U^                                 (or, with momentum, see below)

Where the paper and torch disagree, we follow torch (the reference), except where a flag says otherwise:
- eps1: the paper adds eps1 = 1e-30 to G^2 inside R and C; torch leaves R, C alone and floors mean(R) at eps1
  and sqrt(V^) at eps1 (default: the dtype's machine epsilon). We follow torch, with eps1 = group['eps'], so the
  per-layer epsilon of Everett et al. §4.3 (eps_scaling='per_layer') applies to it. (torch clamps V^ at eps1^2;
  we clamp sqrt(V^) at eps1: the same number, and no underflow of eps1^2 in float32 for tiny eps1.)
- rho_t: the paper caps the relative step at min(1e-2, 1/sqrt(t)), torch at min(lr, 1/sqrt(t)). Our default
  (`adafactor_relative_step=False`) is rho_t = lr: the cap would silently clip every LR sweep point above
  1/sqrt(t) (0.01 at t = 10^4). relative_step=True reproduces torch exactly.
- momentum: torch has none and the paper's final algorithm uses beta1 = 0. `adafactor_momentum=True` keeps an
  EMA of the scaled step, m <- beta1 m + (1 - beta1) alpha_t U^, theta <- theta - m, as the authors' own code
  (tensor2tensor `adafactor.py`) and HF transformers / pytorch_optimizer do (alpha_t inside the average).
- weight decay: the paper has none; torch multiplies by (1 - lr * wd) before the step (decoupled_wd = True).

Width scaling: with parameter scaling the update is LR x RMS(theta) x a normalised direction, so its scale is the
LR times the parameter scale: family `adafactor` (Everett et al. Table 2). Without parameter scaling
(`adafactor_scale_parameter=False`) the update is Adam-like: run with --optimizer_family=adam.
"""

import torch

import optim


def adafactor_update_(p, grad, state, step, *, lr, beta2_decay, eps1, eps2, clip_threshold, weight_decay,
                      relative_step, scale_parameter, momentum, beta1):
    """One Adafactor step on one tensor, in place. state: 'row_var' (..., n, 1) and 'col_var' (..., 1, m) for
    >= 2-D, else 'variance' (like p); 'exp_avg' (like p) when momentum. step: 1-based int. Everything stays on
    p's device (no host sync)."""
    rho = min(lr, 1 / step ** 0.5) if relative_step else lr
    alpha = rho  # alpha_t = max(eps2, RMS(theta_{t-1})) * rho_t, from theta before the weight decay
    if scale_parameter:
        alpha = p.norm(2).div(p.numel() ** 0.5).clamp_(min=eps2).mul_(rho)  # 0-d, on p's device
    if weight_decay != 0:
        p.mul_(1 - lr * weight_decay)

    one_minus_beta2 = step ** beta2_decay  # 1 - beta2_t; 1 at t = 1, so the first EMA is the first G^2
    sq = grad.square()  # G^2: the step's one fresh buffer of p's size, reused for V^ and U below
    if grad.dim() > 1:
        row_var, col_var = state['row_var'], state['col_var']
        row_var.lerp_(sq.mean(dim=-1, keepdim=True), one_minus_beta2)  # (..., n, 1)
        col_var.lerp_(sq.mean(dim=-2, keepdim=True), one_minus_beta2)  # (..., 1, m)
        # the rank-1 estimate V^ = R C / mean(R); a broadcast product, not a matmul (no TF32 on the GPU)
        var = torch.mul(row_var, col_var, out=sq).div_(row_var.mean(dim=-2, keepdim=True).clamp(min=eps1))
        std = var.sqrt_()
    else:
        variance = state['variance']
        variance.lerp_(sq, one_minus_beta2)
        std = torch.sqrt(variance, out=sq)
    update = torch.div(grad, std.clamp_(min=eps1), out=sq)  # U = G / max(sqrt(V^), eps1)

    # update clipping: U^ = U / max(1, RMS(U) / d), d = clip_threshold
    clip = update.norm(2).div_(update.numel() ** 0.5 * clip_threshold).clamp_(min=1.0)
    scaled = update.mul_(alpha / clip)  # alpha_t U^
    if momentum:
        exp_avg = state['exp_avg']
        exp_avg.lerp_(scaled, 1 - beta1)
        scaled = exp_avg
    p.sub_(scaled)


class Adafactor(torch.optim.Optimizer):
    family = 'adafactor'
    needs_full_tensors = True  # distributed: one owner rank steps the whole tensor (optim/distributed.py)
    decoupled_wd = True
    shared = ('lr', 'beta1')  # train.py's keys (optim.SHARED); beta1 only with momentum
    hparams = {
        'adafactor_beta2_decay': -0.8,      # beta2_t = 1 - t^decay (paper, torch default)
        'adafactor_clip_threshold': 1.0,    # d of the update clipping (paper, torch default)
        'adafactor_eps2': 1e-3,             # floor of RMS(theta) in the parameter scaling (paper, torch)
        'adafactor_scale_parameter': True,  # alpha_t = max(eps2, RMS(theta)) rho_t (paper, torch); False -> family adam
        'adafactor_relative_step': False,   # rho_t = min(lr, 1/sqrt(t)) as torch (caps LR sweeps); False: rho_t = lr
        'adafactor_momentum': False,        # EMA (beta1) of the scaled step, tensor2tensor-style; torch has none
    }
    allowed = {'beta2_decay': '<= 0', 'clip_threshold': '>= 1', 'eps2': '>= 0', 'scale_parameter': (True, False),
               'relative_step': (True, False), 'momentum': (True, False)}

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=None, eps2=1e-3, clip_threshold=1.0, weight_decay=0.0,
                 relative_step=False, scale_parameter=True, momentum=False, beta1=0.9):
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, eps2=eps2, clip_threshold=clip_threshold,
                        weight_decay=weight_decay, relative_step=relative_step, scale_parameter=scale_parameter,
                        momentum=momentum, beta1=beta1)
        optim.check(self, defaults)
        super().__init__(params, defaults)
        if any(torch.is_complex(p) for g in self.param_groups for p in g['params']):
            raise ValueError("Adafactor here supports real tensors only: got a complex parameter")

    def _init_state(self, p, group):
        """torch's layout: factors (or the full variance of a vector) in the parameter's dtype."""
        if p.dim() > 1:
            state = dict(step=0, row_var=p.new_zeros(p.shape[:-1] + (1,)),
                         col_var=p.new_zeros(p.shape[:-2] + (1, p.shape[-1])))
        else:
            state = dict(step=0, variance=torch.zeros_like(p))
        if group['momentum']:
            state['exp_avg'] = torch.zeros_like(p)
        return state

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group['params']:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state.update(self._init_state(p, group))
                state['step'] += 1
                eps1 = group['eps'] if group['eps'] is not None else torch.finfo(p.dtype).eps  # torch's default
                adafactor_update_(p, p.grad, state, state['step'], lr=group['lr'], beta2_decay=group['beta2_decay'],
                                  eps1=eps1, eps2=group['eps2'], clip_threshold=group['clip_threshold'],
                                  weight_decay=group['weight_decay'], relative_step=group['relative_step'],
                                  scale_parameter=group['scale_parameter'], momentum=group['momentum'],
                                  beta1=group['beta1'])
        return loss
