"""
SOAP: Adam in the eigenbasis of Shampoo's preconditioner (Vyas et al. 2024, "SOAP: Improving and Stabilizing
Shampoo using Adam", arXiv 2409.11321; official code nikhilvyas/SOAP `soap.py`). Written from the paper and the
official update rule; numerically checked against pytorch_optimizer.SOAP in tests/test_optim_soap.py.

For a matrix parameter W (m, n) with gradient G (paper Alg. 3; t counts Adam steps):

    first call:  L = (1 - b_s) G G^T,  R = (1 - b_s) G^T G,  Q_L, Q_R = eigenvectors (descending eigenvalues)
                 and NO update (official: "never use the current gradient in the projection")
    G~ = Q_L^T G Q_R                                  rotate the gradient
    M~ <- b1 M~ + (1 - b1) G~                         Adam moments in the rotated basis
    V  <- b2 V  + (1 - b2) G~^2
    N  = Q_L (M~ / (sqrt(V) + eps)) Q_R^T             rotate back
    W  <- W - lr * sqrt(1 - b2^t) / (1 - b1^t) * N    official bias correction (eps not corrected)
    W  <- W - lr * wd * W                             decoupled decay, after the update (official order)
    L  <- b_s L + (1 - b_s) G G^T,  R likewise        statistics updated after the step (lerp)
    every f Adam steps: Q_L, Q_R <- one power iteration + QR from the previous basis, re-sorted by the estimated
    eigenvalues diag(Q^T L Q); V is only permuted to the new order (not rotated), M~ is re-expressed in the new
    basis (M = Q_L M~ Q_R^T with the old basis, then M~ = Q_L'^T M Q_R' with the new one).

b_s = soap_shampoo_beta, -1 meaning b2 (official). A side whose dimension exceeds soap_max_dim is left unrotated
(identity). 1-D parameters (biases, norms): plain Adam with the same bias correction and decay order (official
`precondition_1d=False`). Tensors of order > 2 are viewed as (shape[0], -1) (official would rotate every dimension;
the GPT here has none).

Paper vs official, and what we follow:
- The paper's Alg. 3 computes the initial eigenbasis from the first gradient and updates with it; the official code
  skips the parameter update on the first step. We follow the official code (`soap_skip_first=True`); False updates
  on step 1 too, with the basis from the first gradient (whose statistics then absorb that gradient once).
- The paper rotates M freshly each step; the official code keeps M~ in the rotated basis and re-expresses it when
  the basis changes. Identical math; we keep M~ rotated and re-express only at refreshes (2 instead of 4 matmul
  pairs per step). pytorch_optimizer.SOAP keeps M unrotated and projects it every step (same math again).
- Refresh in float32 (official casts even float64 to float32 for QR); we compute in float64 for float64 params.
- Official options not exposed (defaults kept): merge_dims=False, precondition_1d=False, normalize_grads=False,
  correct_bias=True.

Defaults (official): lr 3e-3, betas (0.95, 0.95), shampoo_beta -1 (-> b2), eps 1e-8, weight_decay 0.01,
precondition_frequency 10, max_precond_dim 10000. State (exp_avg, exp_avg_sq, factors, bases) in the param dtype as
the official code; eigh/QR run in at least float32 (optim/matrix.py).

Family `adam`: as in Adam, each coordinate (in the rotated basis) is divided by its RMS, so the update scale is set
by the LR, not by the gradient scale (Everett et al. Table 2 exponents for Adam apply).
"""

import math

import torch

import optim
from optim import matrix

def _accumulate(state, g, shampoo_beta):
    """L <- lerp(L, G G^T, 1 - b_s), R <- lerp(R, G^T G, 1 - b_s) for the sides that are rotated."""
    if 'GG_L' in state:
        state['GG_L'].lerp_(g @ g.T, 1 - shampoo_beta)  # (m, m)
    if 'GG_R' in state:
        state['GG_R'].lerp_(g.T @ g, 1 - shampoo_beta)  # (n, n)


def _refresh(state):
    """New eigenbases by one power iteration + QR; V permuted to the new order, M~ re-expressed in the new basis."""
    QL, QR = state.get('Q_L'), state.get('Q_R')
    m = matrix.project_back(state['exp_avg'], QL, QR)  # M in the original coordinates
    v = state['exp_avg_sq']
    for dim, side in ((0, 'L'), (1, 'R')):
        if 'Q_' + side in state:
            state['Q_' + side], order = matrix.refresh_eigenbasis(state['GG_' + side], state['Q_' + side])
            v = v.index_select(dim, order)
    state['exp_avg_sq'] = v
    state['exp_avg'] = matrix.project(m, state.get('Q_L'), state.get('Q_R'))


def soap_update_(p, grad, state, step, *, lr, beta1, beta2, eps, weight_decay, shampoo_beta, precond_every,
                 skip_first):
    """One SOAP step for parameter p (in place) with gradient grad. state: p's state (SOAP._init_state): M~, V in
    the rotated basis, and per rotated side its factor 'GG_L' / 'GG_R' and basis 'Q_L' / 'Q_R'. step: 1-based
    count of Adam steps (a skipped first call does not count)."""
    shape2 = (p.shape[0], -1) if p.dim() >= 2 else (-1,)  # matrices (and views of higher-order tensors), or vectors
    w, g = p.view(shape2), grad.reshape(shape2)
    shampoo_beta = beta2 if shampoo_beta < 0 else shampoo_beta
    QL, QR = state.get('Q_L'), state.get('Q_R')

    # Adam in the rotated basis (Alg. 3)
    g_rot = matrix.project(g, QL, QR)  # Q_L^T G Q_R, (m, n)
    m, v = state['exp_avg'], state['exp_avg_sq']
    m.mul_(beta1).add_(g_rot, alpha=1 - beta1)
    v.mul_(beta2).addcmul_(g_rot, g_rot, value=1 - beta2)
    step_size = lr * math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
    n = matrix.project_back(m / (v.sqrt() + eps), QL, QR)  # Q_L (M~ / (sqrt V + eps)) Q_R^T
    w.add_(n, alpha=-step_size)
    w.add_(w, alpha=-lr * weight_decay)  # decoupled decay of the updated weight (official order)

    # statistics and eigenbasis, after the step; without skip_first, step 1's gradient is already in the factors
    if step > 1 or skip_first:
        _accumulate(state, g, shampoo_beta)
    if (QL is not None or QR is not None) and step % precond_every == 0:
        _refresh(state)


class SOAP(torch.optim.Optimizer):
    """SOAP (Vyas et al. 2024) with the official defaults; see the module docstring for the update."""
    family = 'adam'
    needs_full_tensors = True  # distributed: one owner rank steps the whole tensor (optim/distributed.py)
    decoupled_wd = True
    shared = ('lr', 'betas')  # train.py's keys (optim.SHARED)
    hparams = {
        'soap_shampoo_beta': -1.0,  # EMA of the Kronecker factors; < 0 -> beta2 (official)
        'soap_precond_every': 10,  # Adam steps between eigenbasis refreshes (official precondition_frequency)
        'soap_max_dim': 10000,  # sides larger than this stay unrotated (official max_precond_dim)
        'soap_skip_first': True,  # official: the first step only initialises the statistics and basis
    }
    allowed = {'shampoo_beta': '< 1', 'precond_every': '>= 1', 'max_dim': '>= 0', 'skip_first': (True, False)}

    def __init__(self, params, lr=3e-3, betas=(0.95, 0.95), eps=1e-8, weight_decay=0.01, shampoo_beta=-1.0,
                 precond_every=10, max_dim=10000, skip_first=True):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, shampoo_beta=shampoo_beta,
                        precond_every=precond_every, max_dim=max_dim, skip_first=skip_first)
        optim.check(self, defaults)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        """Zero moments like the (m, n) or (n,) view of p; for a matrix, factors from this first gradient (p.grad)
        and their eigenbases (descending), for the sides no longer than max_dim."""
        g = p.grad.reshape((p.shape[0], -1) if p.dim() >= 2 else (-1,))
        state = dict(step=0, exp_avg=torch.zeros_like(g), exp_avg_sq=torch.zeros_like(g))  # M~, V (rotated basis)
        if g.dim() == 2:
            for side, dim in (('L', g.shape[0]), ('R', g.shape[1])):
                if dim <= group['max_dim']:
                    state['GG_' + side] = torch.zeros(dim, dim, dtype=g.dtype, device=g.device)
            beta2 = group['betas'][1]
            _accumulate(state, g, beta2 if group['shampoo_beta'] < 0 else group['shampoo_beta'])
            for side in ('L', 'R'):
                if 'GG_' + side in state:
                    state['Q_' + side] = matrix.eigenbasis(state['GG_' + side])
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
                    if group['skip_first']:
                        continue  # official: the first gradient only initialises the statistics and the bases
                state['step'] += 1
                soap_update_(p, p.grad, state, state['step'], lr=group['lr'], beta1=beta1, beta2=beta2,
                             eps=group['eps'], weight_decay=group['weight_decay'], shampoo_beta=group['shampoo_beta'],
                             precond_every=group['precond_every'], skip_first=group['skip_first'])
        return loss
