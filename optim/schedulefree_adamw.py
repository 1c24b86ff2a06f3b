"""
Schedule-Free AdamW (Defazio et al. 2024, "The Road Less Scheduled"); official implementation
facebookresearch/schedule_free `schedulefree/adamw_schedulefree.py` (AdamWScheduleFree, v1.4) and its
simplified `adamw_schedulefree_reference.py` (AdamWScheduleFreeReference), which the tests compare against.

Three sequences per parameter: z (the base "SGD" iterate), x (the weighted average of z: the weights to evaluate)
and y (the interpolation where the gradient is taken: the weights to train). The parameters hold y; the state
holds z and v. With k = 0, 1, ... the step index of the group:

    sched   = (k + 1) / warmup_steps if k < warmup_steps else 1     (the optimizer's own linear warmup)
    lr_k    = lr * sched ;  lr_max = max(lr_max, lr_k)
    w_k     = (k + 1)^r * lr_max^weight_lr_power ;  c = w_k / sum_{i<=k} w_i          (c = 0 if the sum is 0)
    v       = b2 v + (1 - b2) g^2 ;  g_hat = g / (sqrt(v / (1 - b2^(k+1))) + eps) + wd * y
    z_new   = z - lr_k g_hat
    x_new   = (1 - c) x + c z_new                                   (Defazio et al. eq. 1 with Adam's g_hat)
    y_new   = b1 x_new + (1 - b1) z_new
            = lerp(y, z, c) + lr_k (b1 (1 - c) - 1) g_hat           (the official in-place form, x never stored)

eval() sets the parameters to x = (y - (1 - b1) z) / b1 = lerp(y, z, 1 - 1/b1); train() sets them back to y.

Choices, relative to the official code:
- train()/eval(): the official class recomputes y from x and z by a second lerp, which is not bitwise exact. We
  keep a copy of y in the state while in eval mode (one extra parameter copy, only during evaluation) and restore
  it exactly, so evaluation never perturbs training and a resumed run continues bit-identically.
- we start in train mode (the official class starts in eval mode and needs .train() before the first step; at
  that point x = y = z, so this changes nothing numerically). step() in eval mode raises, as officially.
- weight decay at y (added to g_hat), as both official classes (reference: decay_at_z=False). It is decoupled from
  the second moment and scaled by the LR (z -= lr wd y), so decoupled_wd = True.
- the step counter k, lr_max and weight_sum live in the param group (as officially), so state_dict() round trips.
  Each group averages with its own lr_max; per-group LR multipliers cancel in c = w_k / sum w.
- the official repo HEAD has an optional inner momentum on g; v1.4 (installed) does not; we do not either.

The LR schedule: Schedule-Free replaces the decay schedule. Use lr_schedule='constant' and warmup_iters=0 in
train.py and this optimizer's own warmup (schedulefree_adamw_warmup_steps): train.py multiplies group['lr'] by its
schedule before every step, so a cosine or linear decay would still act on lr_k (and on lr_max's weighting).
Official guidance: LR 1-10x a scheduled AdamW's, b1 0.9 (0.95-0.98 for long runs), same warmup length.

Family `adam`: per step, z moves by lr * g_hat (an Adam-normalised direction), and x, y are convex combinations
of z, so updates scale like Adam's (Everett et al. Table 2: hidden/readout LR ~ 1/fan_in under muP).
"""

import warnings

import torch

import optim


def schedulefree_adamw_update_(y, grad, z, exp_avg_sq, *, lr, ckp1, beta1, beta2, bias_correction2, eps,
                                weight_decay):
    """One Schedule-Free AdamW step on one tensor, in place. y (the parameter), grad, z, exp_avg_sq: same shape.
    lr: this step's (warmed-up) LR; ckp1: the averaging weight c of the new z in x; bias_correction2: 1 - b2^(k+1)
    (the step index k lives in the param group: one per group, as officially)."""
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    denom = exp_avg_sq.div(bias_correction2).sqrt_().add_(eps)
    g_hat = torch.div(grad, denom, out=denom)  # the one fresh buffer of the step
    if weight_decay != 0:
        g_hat.add_(y, alpha=weight_decay)  # decay computed at y
    # y_new = b1 x_new + (1 - b1) z_new, written in y and z only (x_new = (1 - c) x + c z_new)
    y.lerp_(z, ckp1)
    y.add_(g_hat, alpha=lr * (beta1 * (1 - ckp1) - 1))
    z.sub_(g_hat, alpha=lr)


class ScheduleFreeAdamW(torch.optim.Optimizer):
    """Schedule-Free AdamW: parameters hold y while training; eval() swaps in the average x, train() restores y."""
    family = 'adam'
    decoupled_wd = True
    shared = ('lr', 'betas')  # train.py's keys (optim.SHARED)
    hparams = {
        'schedulefree_adamw_warmup_steps': 0,  # the optimizer's own linear warmup (use it instead of warmup_iters)
        'schedulefree_adamw_r': 0.0,  # polynomial weighting (k+1)^r of the average
        'schedulefree_adamw_weight_lr_power': 2.0,  # average weights ~ lr_max^power (warmup steps weigh less)
    }
    allowed = {'beta1': '(0, 1)', 'warmup_steps': '>= 0'}  # beta1 > 0: x is recovered through 1/beta1

    def __init__(self, params, lr=2.5e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, warmup_steps=0, r=0.0,
                 weight_lr_power=2.0):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, warmup_steps=warmup_steps,
                        r=r, weight_lr_power=weight_lr_power)
        optim.check(self, defaults)
        defaults.update(k=0, lr_max=-1.0, weight_sum=0.0, scheduled_lr=0.0, train_mode=True)  # per-group state
        super().__init__(params, defaults)

    @staticmethod
    def check_config(cfg):
        """train.py multiplies group['lr'] by its schedule before every step: a decay would still act on lr_k.
        Callers that train at one constant LR (coord_check.py) have no schedule keys."""
        if cfg.get('lr_schedule', 'constant') != 'constant' or cfg.get('warmup_iters', 0) > 0:
            warnings.warn("schedulefree_adamw is meant with lr_schedule='constant', warmup_iters=0 and its own "
                          "schedulefree_adamw_warmup_steps: train.py's schedule still multiplies its LR")

    def _init_state(self, p, group):
        """z starts at y (= x); the second moment in the parameter's dtype. No per-tensor step: the step index k
        lives in the param group, as officially."""
        return dict(z=p.detach().clone(memory_format=torch.preserve_format),
                    exp_avg_sq=torch.zeros_like(p, memory_format=torch.preserve_format))

    @torch.no_grad()
    def eval(self):
        """Parameters <- x (the averaged weights), keeping y to restore bitwise. Idempotent."""
        for group in self.param_groups:
            if not group['train_mode']:
                continue
            beta1 = group['betas'][0]
            for p in group['params']:
                state = self.state[p]
                if 'z' in state:
                    state['y'] = p.detach().clone(memory_format=torch.preserve_format)
                    p.lerp_(state['z'], 1 - 1 / beta1)  # x = (y - (1 - b1) z) / b1
            group['train_mode'] = False

    @torch.no_grad()
    def train(self):
        """Parameters <- y (the training weights), exactly as before eval(). Idempotent."""
        for group in self.param_groups:
            if group['train_mode']:
                continue
            beta1 = group['betas'][0]
            for p in group['params']:
                state = self.state[p]
                if 'y' in state:
                    p.copy_(state.pop('y'))
                elif 'z' in state:  # eval-mode state without a stored y: recompute it (not bitwise)
                    p.lerp_(state['z'], 1 - beta1)
            group['train_mode'] = True

    @torch.no_grad()
    def step(self, closure=None):
        if not all(group['train_mode'] for group in self.param_groups):
            raise RuntimeError("ScheduleFreeAdamW.step() called in eval mode: the parameters hold the averaged "
                               "weights x; call optimizer.train() before training (and optimizer.eval() before "
                               "evaluating)")
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group['betas']
            k = group['k']
            warmup = group['warmup_steps']
            lr = group['lr'] * ((k + 1) / warmup if k < warmup else 1.0)
            group['scheduled_lr'] = lr  # for logging
            group['lr_max'] = lr_max = max(lr, group['lr_max'])
            weight = (k + 1) ** group['r'] * lr_max ** group['weight_lr_power']
            group['weight_sum'] = weight_sum = group['weight_sum'] + weight
            ckp1 = weight / weight_sum if weight_sum != 0 else 0.0
            bias_correction2 = 1 - beta2 ** (k + 1)
            for p in group['params']:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state.update(self._init_state(p, group))
                schedulefree_adamw_update_(p, p.grad, state['z'], state['exp_avg_sq'], lr=lr, ckp1=ckp1, beta1=beta1,
                                           beta2=beta2, bias_correction2=bias_correction2, eps=group['eps'],
                                           weight_decay=group['weight_decay'])
            group['k'] = k + 1
        return loss
