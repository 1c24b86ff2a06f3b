"""
ADOPT (Taniguchi et al. 2024, "ADOPT: Modified Adam Can Converge with Any beta_2 with the Optimal Rate"),
following the official implementation (iShohei220/adopt `src/adopt/adopt.py`, PyPI torch-adopt, single-tensor
path), which is our numerical reference. Per tensor, k = number of previous calls (0 on the first; k = step - 1):

    g <- g + wd * p                                   (decouple=False, the official default: L2 in the gradient)
    k = 0:  v <- g^2 ; nothing else                   (no parameter update, no decoupled decay)
    k >= 1:
        p <- p * (1 - lr * wd)                        (decouple=True instead, AdamW's convention)
        u = g / max(sqrt(v), eps)                     (normalise by the *previous* second moment: the paper's fix)
        u = clamp(u, -k^(1/4), k^(1/4))               (clip=True; official since 2024-11, PR #13)
        m <- m + (1 - beta1) (u - m)                  (momentum of the normalised gradient)
        p <- p - lr * m
        v <- beta2 v + (1 - beta2) g^2                (updated after its use)

No bias correction (m and v need none: v starts at g_0^2 and m at 0 with normalised inputs).
Paper vs official code: the NeurIPS paper's algorithm has no clipping; the official code clips the normalised
gradient at k^(1/4) since 2024-11-22 "for stability" (clip_lambda; None = the original algorithm). We follow the
code; `adopt_clip=False` is the paper's algorithm. eps is a floor on sqrt(v) (max), not added to it. Weight decay is
coupled by default as in the code (`adopt_decouple=True`: decoupled, p <- p (1 - lr wd), not applied at k = 0).
Defaults (official): lr 1e-3, betas (0.9, 0.9999), eps 1e-6, wd 0. eps comes from the param group, so the
per-layer epsilon of Everett et al. §4.3 applies.

Width scaling: the update is a normalised gradient times the LR, as Adam's: family `adam` (Gupta et al., App. C.1:
the muP derived for AdamW holds for ADOPT).
"""

import torch

import optim


def adopt_update_(p, grad, exp_avg, exp_avg_sq, step, *, lr, beta1, beta2, eps, weight_decay, decouple, clip):
    """One ADOPT step on one tensor, in place. p, grad, exp_avg, exp_avg_sq: same shape; step: 1-based int, so
    k = step - 1 previous steps (step 1 only initialises v)."""
    if weight_decay != 0 and not decouple:
        grad = grad.add(p, alpha=weight_decay)  # L2 enters v as well (also at k = 0)
    if step == 1:
        exp_avg_sq.addcmul_(grad, grad)  # v_0 = g_0^2 (v starts at zero)
        return
    if weight_decay != 0 and decouple:
        p.mul_(1 - lr * weight_decay)
    denom = exp_avg_sq.sqrt().clamp_(min=eps)
    normed = torch.div(grad, denom, out=denom)  # g_t / max(sqrt(v_{t-1}), eps), in the one fresh buffer
    if clip:
        c = (step - 1) ** 0.25  # the official clip_lambda(step) = step^(1/4), with its 0-based step = k
        normed.clamp_(-c, c)
    exp_avg.lerp_(normed, 1 - beta1)
    p.add_(exp_avg, alpha=-lr)
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)


class ADOPT(torch.optim.Optimizer):
    family = 'adam'
    decoupled_wd = staticmethod(lambda cfg: cfg.get('adopt_decouple', False))
    shared = ('lr', 'betas')  # train.py's keys (optim.SHARED)
    hparams = {
        'adopt_clip': True,       # clip the normalised gradient at step^(1/4) (official code); False = the paper
        'adopt_decouple': False,  # decoupled wd p (1 - lr wd) instead of L2 in the gradient (official default)
    }
    allowed = {'clip': (True, False), 'decouple': (True, False)}

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.9999), eps=1e-6, weight_decay=0.0, decouple=False, clip=True):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, decouple=decouple, clip=clip)
        optim.check(self, defaults)
        super().__init__(params, defaults)
        if any(torch.is_complex(p) for g in self.param_groups for p in g['params']):
            raise ValueError("ADOPT here supports real tensors only: got a complex parameter")

    def _init_state(self, p, group):
        """Moments in the parameter's dtype (the official layout)."""
        return dict(step=0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))

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
                adopt_update_(p, p.grad, state['exp_avg'], state['exp_avg_sq'], state['step'], lr=group['lr'],
                              beta1=beta1, beta2=beta2, eps=group['eps'], weight_decay=group['weight_decay'],
                              decouple=group['decouple'], clip=group['clip'])
        return loss
