"""
Shampoo (Gupta, Koren & Singer 2018, "Shampoo: Preconditioned Stochastic Tensor Optimization", Alg. 1) with the
semantics of Meta's DistributedShampoo (facebookresearch/optimizers, Shi et al. 2023, arXiv 2309.06497): filtered
gradient with bias correction, Adam grafting, amortised root computation, decoupled weight decay. Written from the
paper and DSH's documented update; checked against a plain transcription and pytorch_optimizer.Shampoo in
tests/test_optim_shampoo.py.

For a matrix parameter W (m, n) with gradient G at step t (1-based):

    L <- b_s L + (1 - b_s) G G^T,   R <- b_s R + (1 - b_s) G^T G     b_s = shampoo_factor_beta; 1: L <- L + G G^T
    v <- b2 v + (1 - b2) G^2                                       grafting (Adam) second moment, raw gradient
    every `shampoo_precond_every` steps (and at t = start):        (Gupta Alg. 1 with the root amortised, DSH)
        L^-1/4 = Q diag((max(lam, 0) + eps_s)^-1/4) Q^T  from eigh(L / (1 - b_s^t))   (bias correction if b_s < 1)
        R^-1/4 likewise
    M <- b1 M + (1 - b1) G,   M^ = M / (1 - b1^t)                   DSH "filtered gradient" (betas[0])
    A = M^ / (sqrt(v / (1 - b2^t)) + eps)                           the Adam direction (DSH AdamGraftingConfig)
    D = L^-1/4 M^ R^-1/4                                            Shampoo direction (paper eq. in Alg. 1)
    D <- D * ||A||_F / (||D||_F + 1e-16)                            layer-wise grafting (shampoo_graft='adam')
    D = A   while t < start (shampoo_start_precond; -1 -> precond_every)   DSH start_preconditioning_step
    W <- W (1 - lr wd) - lr D                                       decoupled weight decay (DSH default)

A side longer than `shampoo_max_dim` gets no factor (identity on that side: one-sided Shampoo, the other side keeps
its -1/4 root as DSH's 1/(2*order) does). 1-D parameters and matrices with both sides too long use the grafting
direction A alone. With shampoo_graft='none': D is not rescaled, and where there is no Shampoo direction (1-D,
too-large, t < start) the identity preconditioner is used (D = M^, SGD with momentum) -- an ablation setting.

Paper / DSH / this file:
- Paper Alg. 1: L_0 = eps I, plain sums, root every step, no momentum, no grafting. DSH adds the filtered gradient
  (momentum with bias correction), EMA factors (betas[1]), grafting, amortisation, start step. We follow DSH; the
  paper's rule is shampoo_graft='none', beta1=0, shampoo_precond_every=1, shampoo_start_precond=1 (the test checks
  exactly this against a transcription and pytorch_optimizer.Shampoo).
- DSH blocks tensors into max_preconditioner_dim blocks; we do not block, we leave long sides unpreconditioned
  (the block grid would change with width, which confounds LR transfer).
- DSH makes eigenvalues non-negative by shifting all of them by -min(lam_min, 0); we clamp at 0 (rounding-level
  difference). A failed eigh is retried in float64 / with jitter (optim/matrix.py); DSH reuses the old root.
- Not exposed (DSH defaults kept): beta3 = beta1, no extra heavy-ball momentum (momentum=0), no Nesterov, no
  merge_dims, eigendecomposition root (no coupled Newton).

Defaults: lr 1e-3, betas (0.9, 0.999), graft eps 1e-8 (DSH README's AdamW-replacement example with
AdamGraftingConfig(beta2=0.999, epsilon=1e-8)); shampoo_factor_beta 1.0, shampoo_root_eps 1e-12, max_dim 1024 (DSH
constructor defaults); precond_every 10 (DSH default is 1; the README uses 100 -- 10 amortises eigh at this scale);
weight_decay 0 (DSH default). State in the param dtype; eigh in at least float32.

Family `adam`: with Adam grafting, the update's Frobenius norm is Adam's, so the update scale is set by the LR and
not by the gradient scale (Everett et al. Table 2 Adam exponents apply). Without grafting, L^-1/4 G R^-1/4 is also
invariant to the gradient scale (up to eps), but the identity fallback for vectors is not.
"""

import torch

import optim
from optim import matrix

GRAFTS = ('adam', 'none')


def _root_due(t, every, start):
    """DSH: recompute roots every `every` steps once preconditioning has started, and at the start step itself."""
    return (t % every == 0 and t > start) or t == start


def shampoo_update_(p, grad, state, step, *, lr, beta1, beta2, eps, weight_decay, factor_beta, root_eps,
                    precond_every, start_precond, graft):
    """One Shampoo step for parameter p (in place) with gradient grad. state: p's state (Shampoo._init_state):
    'exp_avg' (M), 'exp_avg_sq' (v, with graft='adam') shaped like the (m, n) or (n,) view of p, and per
    preconditioned side 'L' / 'R' (factor) and 'L_root' / 'R_root' (its -1/4 root). step: 1-based int."""
    start = precond_every if start_precond < 0 else start_precond
    shape2 = (p.shape[0], -1) if p.dim() >= 2 else (-1,)  # matrices (and views of higher-order tensors), or vectors
    w, g = p.view(shape2), grad.reshape(shape2)
    sides = [s for s in ('L', 'R') if s in state]

    # statistics from the raw gradient (DSH updates them before the filtered gradient)
    for side in sides:
        outer = g @ g.T if side == 'L' else g.T @ g  # (m, m) or (n, n)
        if factor_beta == 1.0:
            state[side].add_(outer)
        else:
            state[side].mul_(factor_beta).add_(outer, alpha=1 - factor_beta)
    if graft == 'adam':
        state['exp_avg_sq'].mul_(beta2).addcmul_(g, g, value=1 - beta2)
    if sides and _root_due(step, precond_every, start):
        bc_s = 1 - factor_beta ** step if factor_beta < 1 else 1.0
        for side in sides:
            state[side + '_root'] = matrix.inverse_root(state[side] / bc_s, 4, root_eps)

    # filtered gradient with bias correction (DSH betas[0]); beta1 = 0 -> the raw gradient
    m = state['exp_avg'].lerp_(g, 1 - beta1)
    m_hat = m / (1 - beta1 ** step)

    # the grafting direction, then the Shampoo direction rescaled to its norm
    if graft == 'adam':
        denom = (state['exp_avg_sq'] / (1 - beta2 ** step)).sqrt_().add_(eps)
        direction = m_hat / denom
    else:
        direction = m_hat
    if sides and step >= start:
        d = matrix.project_back(m_hat, state.get('L_root'), state.get('R_root'))  # L^-1/4 M^ R^-1/4 (symmetric)
        if graft == 'adam':
            d.mul_(direction.norm() / (d.norm() + 1e-16))
        direction = d

    w.mul_(1 - lr * weight_decay)
    w.add_(direction, alpha=-lr)


class Shampoo(torch.optim.Optimizer):
    """Shampoo with DistributedShampoo semantics and Adam grafting; see the module docstring for the update."""
    family = 'adam'
    needs_full_tensors = True  # distributed: one owner rank steps the whole tensor (optim/distributed.py)
    decoupled_wd = True
    shared = ('lr', 'betas')  # train.py's keys (optim.SHARED): beta1 filters the gradient, beta2 is the graft's
    hparams = {
        'shampoo_factor_beta': 1.0,  # factor EMA; 1.0 = plain sums (AdaGrad style, DSH default betas[1])
        'shampoo_root_eps': 1e-12,  # added to the (clamped) eigenvalues before the -1/4 power (DSH epsilon)
        'shampoo_precond_every': 10,  # steps between inverse-root recomputations (DSH precondition_frequency)
        'shampoo_start_precond': -1,  # first Shampoo step; before it the graft direction alone; -1 -> precond_every
        'shampoo_max_dim': 1024,  # sides longer than this are not preconditioned (DSH max_preconditioner_dim)
        'shampoo_graft': 'adam',  # 'adam' (DSH AdamGraftingConfig, beta2 and eps of the group) | 'none'
    }
    allowed = {'factor_beta': '(0, 1]', 'root_eps': '>= 0', 'precond_every': '>= 1', 'max_dim': '>= 0',
               'graft': GRAFTS}

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, factor_beta=1.0,
                 root_eps=1e-12, precond_every=10, start_precond=-1, max_dim=1024, graft='adam'):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, factor_beta=factor_beta,
                        root_eps=root_eps, precond_every=precond_every, start_precond=start_precond, max_dim=max_dim,
                        graft=graft)
        optim.check(self, defaults)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        """M (and the graft's v) like the (m, n) or (n,) view of p; factors (zero) and roots (identity) for the
        sides no longer than max_dim, in p's dtype."""
        g = p.view((p.shape[0], -1) if p.dim() >= 2 else (-1,))
        state = dict(step=0, exp_avg=torch.zeros_like(g))  # M, the filtered gradient
        if group['graft'] == 'adam':
            state['exp_avg_sq'] = torch.zeros_like(g)  # v, the grafting second moment
        if g.dim() == 2:
            for side, dim in (('L', g.shape[0]), ('R', g.shape[1])):
                if dim <= group['max_dim']:
                    state[side] = torch.zeros(dim, dim, dtype=g.dtype, device=g.device)  # factor
                    state[side + '_root'] = torch.eye(dim, dtype=g.dtype, device=g.device)  # factor^-1/4
        return state

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
                shampoo_update_(p, p.grad, state, state['step'], lr=group['lr'], beta1=beta1, beta2=beta2,
                                eps=group['eps'], weight_decay=group['weight_decay'],
                                factor_beta=group['factor_beta'], root_eps=group['root_eps'],
                                precond_every=group['precond_every'], start_precond=group['start_precond'],
                                graft=group['graft'])
        return loss
