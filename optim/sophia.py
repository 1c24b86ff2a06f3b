"""SophiaG (Liu et al. 2023, "Sophia: A Scalable Stochastic Second-order Optimizer for Language Model
Pre-training", arXiv:2305.14342): signed momentum, clipped by a diagonal Gauss-Newton-Bartlett Hessian estimate.
Official code: Liuhong99/Sophia `sophia.py` (optimizer) and `train_sophiag.py` (the Hessian step in the loop).

Every step (official `_single_tensor_sophiag`; paper Algorithm 3):

    p <- p * (1 - lr * wd)                                  decoupled, LR-coupled weight decay
    m <- b1 * m + (1 - b1) * g                              momentum, no bias correction
    ratio = min(|m| / (rho * bs * h + eps), 1)              eps = 1e-15
    p <- p - lr * sign(m) * ratio                           = lr * clip(m / (rho * bs * h), 1)

Every k steps (official loop: `iter_num % k == k - 1`, after that step's update), on labels y^ sampled from the
model's own softmax on the next batch, g^ = grad of mean CE(logits, y^) (paper Algorithm 2, GNB):

    h <- b2 * h + (1 - b2) * g^ * g^                        no bias correction, h = 0 before the first refresh

train.py runs that extra forward/backward when `hessian_due()` says so and then calls `update_hessian()`.
Consequences worth knowing: until the first refresh (steps 1..k) h = 0, so every coordinate is clipped and the
update is lr * sign(m), i.e. Lion-like; a coordinate's step never exceeds lr in magnitude; the fraction of
unclipped coordinates ("win rate" in the official logs) should stay around 0.1-0.5 (tune rho for that).

`bs`: the GNB estimator is B * g^ * g^ (B = tokens in the batch the mean loss runs over), and the official code
carries the B in the clip denominator instead: `step(bs=total_bs * block_size)`, the GLOBAL tokens per optimizer
step (sequences x block size, all ranks and accumulation micro-steps), even though its Hessian batch is one
micro-batch per rank. We follow the code: `sophia_bs` = 0 uses train.py's `tokens_per_iter` (the same quantity);
a positive value overrides it. Changing batch size or accumulation therefore rescales the effective rho, as in the
official code. The constructor's own default for tokens_per_iter (when built without a run config) is the official
`step()` default 5120.

Paper vs official code (we follow the official code):
- Paper (v2+): p <- p - eta * clip(m / max(gamma * h, eps), 1). Code: `rho * bs * h + 1e-15` in the denominator,
  i.e. gamma = rho * bs, and eps enters additively. The two differ only where rho*bs*h is ~1e-15, where the ratio
  is clipped to 1 either way, so no flag: `sophia_clip_eps` (default 1e-15) is the additive constant. The param group's
  Adam `eps` (set per layer by parameterization.py) is NOT used by Sophia.
- Paper v1 wrote eta * clip(m / max(h, eps), rho); the README notes that the code's lr is that eta * rho (the same
  update re-parameterised). The hyperparameters below are in the code's units (lr ~ AdamW's lr, rho ~ 0.03-0.1).
- Weight decay is p *= 1 - lr * wd (AdamW convention, decoupled_wd = True), as in the code and Gupta et al.

Defaults: class defaults of the official SophiaG (lr 1e-4, betas (0.965, 0.99), rho 0.04, wd 0.1, k = 10);
the official GPT-2 small config uses lr 6e-4..7e-4, rho 0.05, wd 0.2.

Family `adam`: the clipped update has entries of size <= lr whatever the gradient scale (signSGD where clipped),
so the width-scaling of the LR is Adam's: 1/fan_in for hidden and readout, constant for the input layer
(Gupta et al., "Extending muP: spectral conditions across optimizers", Table 2 and Appendix C.2).

The elementwise update lives in `sophia_update_` (one param group: lists of tensors), so a fused Triton kernel
(optim/kernels/sophia.py: the whole group in one launch, each tensor read once) replaces the per-tensor torch loop:
`sophia_kernel` = auto (Triton when the tensors are on CUDA and triton imports) | triton | torch.
"""

import torch
import torch.nn.functional as F

import optim

from optim import kernels

DEFAULT_BS = 5120  # the official SophiaG.step(bs=5120) default: SophiaG(params) without bs or tokens_per_iter


def sophia_update_(params, grads, exp_avgs, hessians, *, lr, beta1, rho, bs, weight_decay, eps, kernel):
    """One SophiaG step for one param group, in place (paper Algorithm 3 with the official clip).
    params, grads, exp_avgs, hessians: lists of same-shaped tensors (any shape: (out, in) matrices, (n,) vectors).
    kernel: auto | triton | torch (optim/kernels): the Triton kernel does the same in one launch."""
    fused = kernels.pick(kernel, 'sophia_kernel', 'sophia', [*params, *grads, *exp_avgs, *hessians]) \
        if kernel != 'torch' and params else None
    if fused is not None:
        return fused.clipped_update_(params, grads, exp_avgs, hessians, lr=lr, beta1=beta1, rho=rho, bs=bs,
                                     weight_decay=weight_decay, eps=eps)
    for p, g, m, h in zip(params, grads, exp_avgs, hessians):
        p.mul_(1 - lr * weight_decay)  # decoupled weight decay, scaled by the group LR
        m.mul_(beta1).add_(g, alpha=1 - beta1)  # m <- b1 m + (1 - b1) g
        # ratio = min(|m| / (gamma h + eps), 1) with gamma = rho * bs (tokens per step carry the GNB estimator's B);
        # the same operations as (m.abs() / (rho * bs * h + eps)).clamp(max=1) in two fresh buffers, not five
        denom = h.mul(rho * bs).add_(eps)
        ratio = m.abs().div_(denom).clamp_(max=1)
        p.addcmul_(torch.sign(m, out=denom), ratio, value=-lr)  # p <- p - lr * clip(m / (gamma h), 1), |step| <= lr


def sophia_hessian_update_(hessians, grads, *, beta2):
    """h <- b2 h + (1 - b2) g^ * g^ (paper Algorithm 2, GNB; no bias correction), g^ = grad of the sampled-label loss."""
    for h, g in zip(hessians, grads):
        h.mul_(beta2).addcmul_(g, g, value=1 - beta2)


def hessian_sample_seed(seed, iter_num, micro_step):
    """Generator seed for the labels of Sophia's Hessian refresh at (iteration, global micro-step): the sample
    does not depend on the number of ranks or on any other use of the global RNG."""
    return seed * 1_000_003 + iter_num * 1009 + micro_step


def sampled_label_loss(logits, generator_seed):
    """The Gauss-Newton-Bartlett loss (Liu et al. Alg. 2): cross-entropy against labels drawn from the model's own
    predictive distribution. logits (B, T, V) -> scalar; its gradient squared is the Hessian estimate."""
    flat = logits.float().view(-1, logits.size(-1))  # (B*T, V)
    gen = torch.Generator(device=logits.device).manual_seed(generator_seed)
    y_sample = torch.multinomial(F.softmax(flat, dim=-1), 1, generator=gen).view(-1)  # (B*T,)
    return F.cross_entropy(flat, y_sample)


class SophiaG(torch.optim.Optimizer):
    family = 'adam'
    decoupled_wd = True
    shared = ('lr', 'betas', 'tokens_per_iter')  # train.py's keys (optim.SHARED); tokens_per_iter: bs when 0
    hparams = {
        'sophia_rho': 0.04,  # gamma / bs: clip threshold scale (official class default; README uses 0.05 for 125M)
        'sophia_k': 10,  # Hessian refresh interval in steps (official `hess_interval`)
        'sophia_bs': 0,  # tokens per step in the clip denominator; 0 = tokens_per_iter (official total_bs*block_size)
        'sophia_clip_eps': 1e-15,  # additive constant in the denominator (official); the group's Adam eps is unused
        'sophia_kernel': 'auto',  # auto (Triton on CUDA) | triton | torch (optim/kernels/sophia.py)
    }
    allowed = {'rho': '>= 0', 'k': '>= 1', 'bs': '> 0', 'clip_eps': '>= 0'}

    def __init__(self, params, lr=1e-4, betas=(0.965, 0.99), rho=0.04, weight_decay=0.1, k=10, bs=0, clip_eps=1e-15,
                 kernel='auto', tokens_per_iter=DEFAULT_BS):
        kernels.check_mode(kernel, 'sophia_kernel')
        defaults = dict(lr=lr, betas=tuple(betas), rho=rho, weight_decay=weight_decay, k=k, bs=bs or tokens_per_iter,
                        clip_eps=clip_eps, kernel=kernel)
        optim.check(self, defaults)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        """As the official code keeps it: m and h like the param (h may be created by update_hessian first)."""
        return dict(step=0, exp_avg=torch.zeros_like(p, memory_format=torch.preserve_format),
                    hessian=torch.zeros_like(p, memory_format=torch.preserve_format))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params, grads, exp_avgs, hessians = [], [], [], []
            for p in group['params']:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state.update(self._init_state(p, group))
                state['step'] += 1
                params.append(p)
                grads.append(p.grad)
                exp_avgs.append(state['exp_avg'])
                hessians.append(state['hessian'])
            sophia_update_(params, grads, exp_avgs, hessians, lr=group['lr'], beta1=group['betas'][0],
                           rho=group['rho'], bs=group['bs'], weight_decay=group['weight_decay'],
                           eps=group['clip_eps'], kernel=group['kernel'])
        return loss

    def hessian_due(self):
        """True right after the step whose count s (1-based) is a multiple of k: the official loop's
        `iter_num % k == k - 1` test on the 0-based iteration that just stepped. False before any step."""
        for group in self.param_groups:
            s = max((self.state[p]['step'] for p in group['params'] if self.state[p]), default=0)
            if s > 0 and s % group['k'] == 0:
                return True
        return False

    @torch.no_grad()
    def update_hessian(self):
        """h <- b2 h + (1 - b2) p.grad^2 for every param with a grad (the caller left the sampled-label gradient
        in p.grad). Does not advance the step counter."""
        for group in self.param_groups:
            ps = [p for p in group['params'] if p.grad is not None]
            for p in ps:
                state = self.state[p]
                if not state:
                    state.update(self._init_state(p, group))
            sophia_hessian_update_([self.state[p]['hessian'] for p in ps], [p.grad for p in ps],
                                   beta2=group['betas'][1])
