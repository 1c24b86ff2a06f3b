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
official code. Without either (unit tests' small configs) the official `step()` default 5120 is used.

Paper vs official code (we follow the official code):
- Paper (v2+): p <- p - eta * clip(m / max(gamma * h, eps), 1). Code: `rho * bs * h + 1e-15` in the denominator,
  i.e. gamma = rho * bs, and eps enters additively. The two differ only where rho*bs*h is ~1e-15, where the ratio
  is clipped to 1 either way, so no flag: `sophia_eps` (default 1e-15) is the additive constant. The param group's
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

from optim import kernels

DEFAULT_BS = 5120  # the official SophiaG.step(bs=5120) default, used when neither sophia_bs nor tokens_per_iter


def sophia_update_(params, grads, exp_avgs, hessians, *, lr, beta1, rho, bs, weight_decay, eps, kernel='torch'):
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
        # ratio = min(|m| / (gamma h + eps), 1) with gamma = rho * bs (tokens per step carry the GNB estimator's B)
        ratio = (m.abs() / (rho * bs * h + eps)).clamp_(max=1)
        p.addcmul_(m.sign(), ratio, value=-lr)  # p <- p - lr * clip(m / (gamma h), 1), |step| <= lr


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
    hparams = {
        'sophia_rho': 0.04,  # gamma / bs: clip threshold scale (official class default; README uses 0.05 for 125M)
        'sophia_k': 10,  # Hessian refresh interval in steps (official `hess_interval`)
        'sophia_bs': 0,  # tokens per step in the clip denominator; 0 = tokens_per_iter (official total_bs*block_size)
        'sophia_eps': 1e-15,  # additive constant in the denominator (official); the group's Adam eps is not used
        'sophia_kernel': 'auto',  # auto (Triton on CUDA) | triton | torch (optim/kernels/sophia.py)
    }

    def __init__(self, params, lr=1e-4, betas=(0.965, 0.99), rho=0.04, weight_decay=0.1, hessian_interval=10,
                 bs=DEFAULT_BS, clip_eps=1e-15, kernel='auto'):
        kernels.check_mode(kernel, 'sophia_kernel')
        if lr < 0 or rho < 0 or weight_decay < 0 or bs <= 0 or clip_eps < 0:
            raise ValueError(f"SophiaG: invalid lr={lr}, rho={rho}, weight_decay={weight_decay}, bs={bs}, "
                             f"clip_eps={clip_eps}")
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1) or int(hessian_interval) < 1:
            raise ValueError(f"SophiaG: invalid betas={betas} or hessian_interval={hessian_interval}")
        defaults = dict(lr=lr, betas=tuple(betas), rho=rho, weight_decay=weight_decay,
                        hessian_interval=int(hessian_interval), bs=bs, clip_eps=clip_eps, kernel=kernel)
        super().__init__(params, defaults)

    @classmethod
    def from_config(cls, groups, cfg):
        bs = cfg.get('sophia_bs', 0) or cfg.get('tokens_per_iter') or DEFAULT_BS
        return cls(groups, lr=cfg['learning_rate'], betas=(cfg.get('beta1', 0.965), cfg.get('beta2', 0.99)),
                   rho=cfg.get('sophia_rho', 0.04), hessian_interval=cfg.get('sophia_k', 10), bs=bs,
                   clip_eps=cfg.get('sophia_eps', 1e-15), kernel=cfg.get('sophia_kernel', 'auto'))

    def _state(self, p):
        """Lazy state as the official code keeps it: a float step counter (CPU) and m, h like the param."""
        state = self.state[p]
        if len(state) == 0:
            state['step'] = torch.tensor(0.0)
            state['exp_avg'] = torch.zeros_like(p, memory_format=torch.preserve_format)
            state['hessian'] = torch.zeros_like(p, memory_format=torch.preserve_format)
        return state

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
                if p.grad.is_sparse:
                    raise RuntimeError('SophiaG does not support sparse gradients')
                state = self._state(p)
                state['step'] += 1
                params.append(p)
                grads.append(p.grad)
                exp_avgs.append(state['exp_avg'])
                hessians.append(state['hessian'])
            sophia_update_(params, grads, exp_avgs, hessians, lr=group['lr'], beta1=group['betas'][0],
                           rho=group['rho'], bs=group['bs'], weight_decay=group['weight_decay'],
                           eps=group['clip_eps'], kernel=group.get('kernel', 'auto'))  # get: older checkpoints
        return loss

    def hessian_due(self):
        """True right after the step whose count s (1-based) is a multiple of k: the official loop's
        `iter_num % k == k - 1` test on the 0-based iteration that just stepped. False before any step."""
        for group in self.param_groups:
            steps = [int(self.state[p]['step']) for p in group['params'] if 'step' in self.state[p]]
            s = max(steps, default=0)
            if s > 0 and s % group['hessian_interval'] == 0:
                return True
        return False

    @torch.no_grad()
    def update_hessian(self):
        """h <- b2 h + (1 - b2) p.grad^2 for every param with a grad (the caller left the sampled-label gradient
        in p.grad). Does not advance the step counter."""
        for group in self.param_groups:
            ps = [p for p in group['params'] if p.grad is not None]
            sophia_hessian_update_([self._state(p)['hessian'] for p in ps], [p.grad for p in ps],
                                   beta2=group['betas'][1])
