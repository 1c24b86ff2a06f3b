"""Adam-atan2 (Everett et al. 2024, "Scaling Exponents Across Parameterizations and Optimizers", §4.3 and App. C.5):
Adam with the division m / (sqrt(v) + eps) replaced by atan2, so there is no epsilon at all.

    m_t   = b1 m_{t-1} + (1 - b1) g_t                 v_t   = b2 v_{t-1} + (1 - b2) g_t^2
    m_hat = m_t / (1 - b1^t)                          v_hat = v_t / (1 - b2^t)
    p    <- p * (1 - lr * wd)                                             (decoupled weight decay, torch AdamW)
    p    <- p - lr * a * atan2(m_hat, b * sqrt(v_hat))                    (App. C.5, the one-line change)

atan2(x, y) = arctan(x / y) in the right quadrant, defined at (0, 0) (= 0). For |m_hat| << b sqrt(v_hat) the
update is (a / b) * m_hat / sqrt(v_hat), i.e. (a / b) times Adam's step; |update| never exceeds a * pi / 2 (a soft
update clip). The update is invariant to the gradient scale (atan2(c m, c sqrt(v)) = atan2(m, sqrt(v))), which is
the point: no epsilon underflow when hidden-layer gradients shrink with width (§4.3). group['eps'] is IGNORED:
the per-layer epsilon of parameterization.py has nothing to act on here.

Sources and where they disagree (the paper has no released code; lucidrains/adam-atan2-pytorch is the PyTorch
reference):
- a, b: the paper uses a = b = 1 for all experiments (App. C.5); adam-atan2-pytorch defaults to a = 1.27, b = 1.
  Default here: the paper's a = b = 1, as config keys adam_atan2_a / adam_atan2_b, so the lucidrains value is one
  flag away (--adam_atan2_a=1.27).
- weight decay: the paper trains without it. We use torch AdamW's p <- p * (1 - lr * wd), coupled to the group's
  current LR (so the schedule and muP's per-layer LR multipliers scale the decay; wd_mode='independent' in
  parameterization.py divides wd by the LR multiplier). adam-atan2-pytorch 0.4.1 does the same by default; with
  its decoupled_wd=True it instead uses p * (1 - (lr / initial_lr) * wd), i.e. wd independent of the LR's size
  and only following the schedule's shape (some descriptions quote that variant as the default; in adam-atan2-pytorch 0.4.1 it is not).
  That variant is ours with wd replaced by wd / initial_lr per group, so it needs no flag here: choose wd
  accordingly (wd_mode='independent' removes the per-layer LR multiplier from the decay, not the base LR).
- lr, betas: the class defaults are lucidrains' (1e-4, (0.9, 0.99)); the paper's Table C2 has betas (0.9, 0.98).
  Runs take learning_rate, beta1, beta2 from the config.
- state: exp_avg / exp_avg_sq in the parameter's dtype and an integer step per parameter (as lucidrains);
  bias corrections in Python double precision.

Family `adam` (Everett Table 2): the update scale is a * lr whatever the gradient scale, exactly like Adam, so
Adam's LR exponents apply unchanged.
"""

import torch

import optim


def adam_atan2_update_(p, grad, exp_avg, exp_avg_sq, step, *, lr, beta1, beta2, a, b, weight_decay):
    """One Adam-atan2 step on one tensor, in place. p, grad, exp_avg, exp_avg_sq: same shape; step: 1-based int."""
    if weight_decay != 0:
        p.mul_(1 - lr * weight_decay)                                   # decoupled decay (AdamW convention)
    exp_avg.lerp_(grad, 1 - beta1)                                      # m_t = b1 m + (1 - b1) g
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)        # v_t = b2 v + (1 - b2) g^2
    # atan2(m_hat, b sqrt(v_hat)) with m_hat = m / (1 - b1^t) is atan2(m, b sqrt(v_hat) (1 - b1^t)): both arguments
    # scaled by the same positive number, so one fresh buffer instead of two (equal up to rounding)
    denom = exp_avg_sq.div(1 - beta2 ** step).sqrt_().mul_(b * (1 - beta1 ** step))
    p.add_(torch.atan2(exp_avg, denom, out=denom), alpha=-lr * a)       # p -= lr * a * atan2(m_hat, b sqrt(v_hat))


class AdamAtan2(torch.optim.Optimizer):
    family = 'adam'
    decoupled_wd = True
    shared = ('lr', 'betas')  # train.py's keys (optim.SHARED)
    hparams = {'adam_atan2_a': 1.0, 'adam_atan2_b': 1.0}  # Everett App. C.5: a = b = 1 (lucidrains: a = 1.27)
    allowed = {'a': '> 0', 'b': '> 0'}

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), a=1.0, b=1.0, weight_decay=0.0, eps=None):
        # eps is accepted (param groups carry one) and ignored: atan2 needs no epsilon
        defaults = dict(lr=lr, betas=tuple(betas), a=a, b=b, weight_decay=weight_decay, eps=eps)
        optim.check(self, defaults)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        """Moments in the parameter's dtype (as lucidrains)."""
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
                adam_atan2_update_(p, p.grad, state['exp_avg'], state['exp_avg_sq'], state['step'], lr=group['lr'],
                                   beta1=beta1, beta2=beta2, a=group['a'], b=group['b'],
                                   weight_decay=group['weight_decay'])
        return loss
