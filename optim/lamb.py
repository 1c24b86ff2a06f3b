"""
LAMB: Layer-wise Adaptive Moments for Batch training (You et al. 2019, "Large Batch Optimization for Deep
Learning: Training BERT in 76 minutes", Algorithm 2). There is no official PyTorch implementation; the numerical
reference in tests/test_optim_lamb.py is pytorch-optimizer's `Lamb` with its options matched (see below).

Per tensor w (Algorithm 2, bias correction on as printed there):

    m = b1 m + (1 - b1) g              v = b2 v + (1 - b2) g^2
    m_hat = m / (1 - b1^t)             v_hat = v / (1 - b2^t)
    r = m_hat / (sqrt(v_hat) + eps)                 the Adam direction
    u = r + wd * w                                  weight decay inside the update, before the trust ratio
    trust = phi(||w||) / ||u||         phi = identity; trust = 1 when ||w|| = 0 or ||u|| = 0 (zero-init biases)
    w <- w - lr * trust * u

so ||lr * trust * u||_F = lr * ||w||_F: the LR is the relative change of every tensor per step.

Where the paper and the implementations differ (we follow the paper; flags where it changes results):
- bias correction: Algorithm 2 has it; pytorch-optimizer's `Lamb` ("paper v3") has none and instead divides the
  final step by (1 - b1^t) unless adam_debias=True. `lamb_bias_correction` (default True = paper). With wd = 0 and a
  small eps the trust ratio makes the two identical (a per-tensor scale of r cancels); with wd > 0 the bias
  correction changes the weighting of r against wd * w.
- weight decay: paper and timm put wd * w inside u (then scaled by the trust ratio); pytorch-optimizer's default
  (weight_decouple=True) first decays w <- w (1 - lr wd) and leaves it out of u. We follow the paper. Weight decay
  never enters the gradient or the moments, so the class says decoupled_wd = True (wd_mode='independent' is
  allowed); the effective decay per step is lr * trust * wd * w, not AdamW's lr * wd * w.
- trust-ratio denominator: the paper divides by ||u||; pytorch-optimizer and timm divide by ||u|| + eps. We follow
  the paper (a relative difference of eps / ||u||, ~1e-7).
- clamp: pytorch-optimizer clamps ||w|| at 10 (phi(z) = min(z, 10)); the paper only asks phi to be bounded. We do
  NOT clamp by default (`lamb_clamp` = 0 = off; > 0 clamps ||w|| at that value). ||W||_F of an n x n hidden matrix
  with entries of std ~ 1/sqrt(n) (or 0.02) grows like sqrt(n) (0.02 n), so a fixed clamp switches on beyond a
  width of a few hundred and makes the hidden step size shrink with width: it breaks "one LR at every width".
- timm's Lamb applies the trust ratio only to groups with wd != 0 (unless always_adapt=True); we apply it to every
  tensor, as the paper does. No global gradient pre-normalisation (train.py's grad_clip does the clipping).

Family `adafactor` (the default here) vs Gupta et al.'s rule. The trust ratio sets ||dW||_F = lr ||W||_F: the update
is the LR times the parameter scale, which is the adafactor family's rule (Everett et al. 2024, Table 2), measured
in Frobenius instead of RMS norm. Gupta et al. (2026, "Extending muP: Spectral Conditions for Feature Learning
Across Optimizers", arXiv 2602.20937, Table 2 and App. C.3) derive a constant LR for every layer (c = 0, the
`invariant` family under mup_spectral) by taking ||W||_F for the spectral norm of W. For a Gaussian n x n init with
std sigma / sqrt(n), ||W||_F = sigma sqrt(n) while ||W||_2 ~ 2 sigma, so the hidden update's spectral size grows like
sqrt(n)/2 with width under that rule: measured, the hidden-layer update slope vs log width is +0.46 with c = 0 and
+0.00 with the adafactor family (tests/test_width_stability.py). Gupta's rule stays selectable with
`optimizer_family='invariant'` (config/repro's Gupta sweeps run both).
"""

import torch

import optim


def lamb_update_(p, grad, exp_avg, exp_avg_sq, step, *, lr, beta1, beta2, eps, weight_decay, bias_correction,
                 clamp):
    """One LAMB step on one tensor, in place. p, grad, exp_avg, exp_avg_sq: same shape (any); step: 1-based int."""
    # moments (Alg. 2, lines 6-7)
    exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    # bias correction (Alg. 2, line 8), then the Adam direction r (line 9): the same operations as
    # m_hat / (sqrt(v_hat) + eps), in two fresh buffers instead of five (large allocations are page faults on a CPU)
    if bias_correction:
        denom = exp_avg_sq.div(1 - beta2 ** step).sqrt_().add_(eps)   # sqrt(v_hat) + eps
        update = exp_avg.div(1 - beta1 ** step).div_(denom)          # m_hat / (sqrt(v_hat) + eps)
    else:
        update = exp_avg.div(exp_avg_sq.sqrt().add_(eps))
    # weight decay inside the update (line 10: r + lambda x)
    if weight_decay != 0:
        update.add_(p, alpha=weight_decay)
    # per-tensor trust ratio phi(||w||) / ||u|| (line 10); tensors, so no host sync on the GPU
    w_norm = torch.linalg.vector_norm(p)
    if clamp > 0:
        w_norm = w_norm.clamp(max=clamp)
    u_norm = torch.linalg.vector_norm(update)
    trust = torch.where((w_norm > 0) & (u_norm > 0), w_norm / u_norm, torch.ones_like(w_norm))
    p.add_(update.mul_(trust), alpha=-lr)


class LAMB(torch.optim.Optimizer):
    """LAMB (You et al. 2019, Alg. 2): Adam direction plus wd * w, rescaled per tensor to ||dW|| = lr * ||W||."""
    family = 'adafactor'  # see the docstring: Gupta's 'invariant' rule is optimizer_family='invariant'
    needs_full_tensors = True  # distributed: one owner rank steps the whole tensor (optim/distributed.py)
    decoupled_wd = True  # wd is never in the gradient or the moments (it sits in u, see the module docstring)
    shared = ('lr', 'betas')  # train.py's keys (optim.SHARED)
    hparams = {
        'lamb_bias_correction': True,  # Alg. 2's bias correction of m and v (pytorch-optimizer: off)
        'lamb_clamp': 0.0,  # clamp ||w|| at this value in the trust ratio (pytorch-optimizer: 10); 0 = off
    }
    allowed = {'bias_correction': (True, False), 'clamp': '>= 0'}

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.0, bias_correction=True,
                 clamp=0.0):
        # defaults: paper's BERT setting for betas and eps; wd 0 as pytorch-optimizer (the paper used 0.01)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        bias_correction=bias_correction, clamp=clamp)
        optim.check(self, defaults)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        """Moments in the parameter's dtype (as torch.optim.AdamW)."""
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
                lamb_update_(p, p.grad, state['exp_avg'], state['exp_avg_sq'], state['step'], lr=group['lr'],
                             beta1=beta1, beta2=beta2, eps=group['eps'], weight_decay=group['weight_decay'],
                             bias_correction=group['bias_correction'], clamp=group['clamp'])
        return loss
