"""Adam + parameter scaling (Everett et al. 2024, "Scaling Exponents Across Parameterizations and Optimizers",
§4.2.2, App. B.8 and Table C2): Adam whose step is multiplied by the RMS of the tensor it updates, Adafactor's
"relative step" without Adafactor's factored second moment, beta1 = 0 or update clipping.

    m_t   = b1 m_{t-1} + (1 - b1) g_t                 v_t   = b2 v_{t-1} + (1 - b2) g_t^2
    m_hat = m_t / (1 - b1^t)                          v_hat = v_t / (1 - b2^t)
    s     = max(eps2, RMS(W_{t-1}))                   RMS(W) = ||W||_F / sqrt(numel(W)), one scalar per tensor
    W    <- W * (1 - lr * wd)                                             (decoupled weight decay, torch AdamW)
    W    <- W - lr * s * m_hat / (sqrt(v_hat) + eps)                      (App. B.8: dW = lr ||W|| g / ||g||)

There is no official implementation: the paper's runs use optax, where this is
scale_by_adam -> scale_by_param_block_rms(min_scale=eps2) -> scale_by_learning_rate, and the RMS is taken of
the parameters handed to the update, i.e. W_{t-1} before this step's weight decay. We do the same.
- eps2 = adam_ps_eps2, default 1e-3: Adafactor's eps_2 (Shazeer & Stern 2018, and optax's min_scale). It keeps
  zero-initialised tensors (biases) moving: their step is lr * eps2 * Adam direction.
- eps is the group's Adam epsilon, added to sqrt(v_hat) as torch AdamW does (Table C2 uses 1e-9).
- weight decay: the paper trains without it (App. C.3). We use torch AdamW's p <- p * (1 - lr * wd). Beware that
  the update is relative to the weights (a step shrinks or grows W by a fraction ~lr) while the decay is an
  absolute fraction lr * wd: with lr ~ 50x an Adam LR, nanoGPT's wd = 0.1 shrinks every matrix exponentially.
  The configs therefore use wd = 0, as the paper does.
- state: exp_avg / exp_avg_sq in the parameter's dtype and an integer step per parameter; the RMS is computed in
  at least float32 and stays a tensor (no host sync).

LR: because the step is relative to RMS(W) (~0.02 for an 0.02-std init), the LR is ~1 / RMS(W) ~ 50x an Adam LR
for the same first step on a hidden matrix, while LayerNorm gains (RMS 1) move lr per step and zero-initialised
tensors lr * eps2.

Family `adafactor` (Everett Table 2, "Adam + parameter scaling falls into the Adafactor family"): the update scale
is LR x parameter scale, ~ n^-c_l * n^-b_l, so the LR exponents differ from Adam's (under no alignment they are 0
everywhere, §4.2.2).
"""

import torch

import optim


def adam_ps_update_(p, grad, exp_avg, exp_avg_sq, step, *, lr, beta1, beta2, eps, eps2, weight_decay):
    """One Adam + parameter scaling step on one tensor, in place. p, grad, exp_avg, exp_avg_sq: same shape;
    step: 1-based int."""
    rms = torch.linalg.vector_norm(p, dtype=torch.promote_types(p.dtype, torch.float32)) / p.numel() ** 0.5
    scale = rms.clamp(min=eps2)                                         # s = max(eps2, RMS(W_{t-1})), () tensor
    if weight_decay != 0:
        p.mul_(1 - lr * weight_decay)                                   # decoupled decay (AdamW convention)
    exp_avg.lerp_(grad, 1 - beta1)                                      # m_t = b1 m + (1 - b1) g
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)        # v_t = b2 v + (1 - b2) g^2
    denom = (exp_avg_sq / (1 - beta2 ** step)).sqrt_().add_(eps)        # sqrt(v_hat) + eps
    direction = (exp_avg / (1 - beta1 ** step)).div_(denom)             # Adam's m_hat / (sqrt(v_hat) + eps)
    p.sub_(direction.mul_(scale * lr))                                  # W -= lr * s * direction


class AdamPS(torch.optim.Optimizer):
    family = 'adafactor'
    needs_full_tensors = True  # distributed: one owner rank steps the whole tensor (optim/distributed.py)
    decoupled_wd = True
    shared = ('lr', 'betas')  # train.py's keys (optim.SHARED)
    hparams = {'adam_ps_eps2': 1e-3}  # Adafactor's eps_2 (Shazeer & Stern 2018; optax min_scale)
    allowed = {'eps2': '>= 0'}

    def __init__(self, params, lr=1e-2, betas=(0.9, 0.98), eps=1e-9, eps2=1e-3, weight_decay=0.0):
        # lr 1e-2: Adafactor's relative step; betas and eps: Everett Table C2 (Adam + PS column)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, eps2=eps2, weight_decay=weight_decay)
        optim.check(self, defaults)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        """Moments in the parameter's dtype."""
        return dict(step=0, exp_avg=torch.zeros_like(p, memory_format=torch.preserve_format),
                    exp_avg_sq=torch.zeros_like(p, memory_format=torch.preserve_format))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group['betas']
            for p in group['params']:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state.update(self._init_state(p, group))
                state['step'] += 1
                adam_ps_update_(p, p.grad, state['exp_avg'], state['exp_avg_sq'], state['step'], lr=group['lr'],
                                beta1=beta1, beta2=beta2, eps=group['eps'], eps2=group['eps2'],
                                weight_decay=group['weight_decay'])
        return loss
