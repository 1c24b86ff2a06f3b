"""SPlus (Frans, Levine & Abbeel 2025, "A Stable Whitening Optimizer for Efficient Neural Network Training",
Algorithm 2, §4, §5.1, App. A.1), following the official PyTorch file kvfrans/splus torch/splus.py.

Per 2-D parameter W (m, n) with gradient G, momentum M, sides L (m, m), R (n, n), eigenbases Q_L, Q_R (init I):

    M   <- lerp(M, G, 1 - b1)                                  momentum (Algorithm 2's G-bar)
    L   <- lerp(L, G G^T, 1 - b2)      R <- lerp(R, G^T G, 1 - b2)
    U    = Q_L sign(Q_L^T M Q_R) Q_R^T                          instant-sign normalisation (eq. 11), OLD bases
    if t == 1 or t % inverse_every == 0:
        Q_L, Q_R <- eigenvectors of eigh(L + eps I), eigh(R + eps I)      (after U: the first step uses Q = I)
    s    = lr * 2 / (m + n)                                     symmetric shape scaling (eq. 15)
    W   <- W - s U                      EMA <- lerp(EMA, W, 1 - ema_rate)      W <- W (1 - s wd)

Other ("nonstandard") parameters: U = sign(M) and s = lr * nonstandard_constant (§5.1; 1e-3). A side whose
dimension is >= max_dim is None (identity, no statistics): a 50304 x d embedding is rotated on its d side only.
Evaluation uses the bias-corrected iterate average EMA / (1 - ema_rate^t) (§4.3, eq. 16): `eval()` swaps it in,
`train()` swaps the live weights back bitwise; train.py calls them around every evaluation.

Where the sources disagree (default: the official torch file, except where noted):
- shape scale: the paper's eq. 15 and the experiments' 'avg' scaling are 2/(m+n) (as is pytorch_optimizer.SPlus);
  torch/splus.py and App. A.1 literally compute `1 / (m + n) / 2` = 1/(2(m+n)), 4x smaller, by operator
  precedence. We use 2/(m+n) (the stated rule; the README's LR advice is made for it). The literal file is
  exactly ours with lr/4 and nonstandard_constant*4 (a test checks this), so no flag.
- which parameters are nonstandard (`nonstandard`): 'shape' (torch file): only by shape -- 2-D
  parameters with both dims <= max_dim get rotation and 2/(m+n), everything else sign * constant; so the
  char-level 65 x d embedding and readout are fully rotated, and their 2/(65 + d) ~ 1/d scale makes their updates
  shrink with width (measured embedding-output change vs log width: -0.37 under muP, -0.87 under SP). 'role'
  (default): §5.1's text -- also the token embedding and the output head (group['role'] in {'embedding', 'readout'}; position embeddings are 'embedding' here too) get
  U = sign(M) and the constant scale, with no sides. The experiments' code (experiments/train.py) only swaps
  their shape scale for the constant and still rotates them; the optax file also treats names with 'embed' /
  'layernorm' as nonstandard and scales 2-D updates by 1/m. We implement neither of those two variants.
- order of operations (`order`): 'official' (torch file) as above: update, EMA of the NEW weights, then decay.
  'optax' (optax/splus.py): EMA of the PRE-update weights, and the decay enters the update before the lr and
  shape scaling: W <- W - s (U + wd W). Differs by s^2 wd U per step and a one-step lag of the average.
  (The optax file's bias correction of M before the sign does not change the sign.)
- max_dim edge: sides exist for d < max_dim, the 2/(m+n) scale applies for both dims <= max_dim (torch file).
- dtypes: momentum and EMA in the parameter dtype; sides and eigenbases in float32 or better (promote(p, fp32);
  the torch file makes fp32 sides, which breaks on bf16 parameters). Gradients and momentum are upcast for the
  rotation. load_state_dict keeps them so (torch would cast every state tensor to the parameter dtype).
- eigh failure (it happens on CUDA for ill-conditioned float32 input): optim/matrix.py's eigh, as Shampoo and SOAP
  (retry in float64, then in float64 with a relative diagonal jitter 1e-10 / 1e-7 / 1e-4 * mean|diag|); if that
  fails too, keep the previous basis. The torch file would raise.
- eps: the eigh jitter (1e-30), config splus_eigh_eps -- group['eps'] is Adam's epsilon from parameterization.py
  and is ignored.
- step counter: one integer per parameter in its state (as the torch file's per-parameter tensor).

Families per role. Hidden matrices: `invariant`: |U| does not depend on the gradient scale and 2/(m+n) sets the
update's spectral size (§4.2, Fig. 3; README "consistent across width"), so c = -a (c = 0 where the
parameterization has no hidden multiplier). Embedding, readout and gains: `adam`, as every sign update (their
update is lr * constant * sign(M), Adam's normalised-update rule): under a muP parameterization their LRs follow
Adam's exponents; under SP with one global LR they do not shrink with width, so the readout's effect grows with
it (the SP width-transfer claim of §4.2 rests on the hidden matrices).
Weight decay is decoupled and multiplied by the scaled LR s (tiny on wide layers).

Kernel (`splus_kernel`: auto | triton | torch, optim/kernels/splus.py): for rotated tensors with a basis on at
least one side and the 'official' order, the sign and the W / EMA update run in the epilogues of Triton matmuls
('triton'). 'auto' (the default) uses the code below, as do the 'optax' order, sign-only tensors and 'torch': on
an H200 the kernel was slower than this code at every shape measured (optim/kernels/splus.py, AUTO).
"""

import torch

import optim
from optim import kernels, matrix


def refreshed_basis(side, old, eigh_eps):
    """Algorithm 2's eigh: eigenvectors (columns, ascending eigenvalues) of side + eps I for a symmetric side (d, d),
    retried in float64 and then with jitter on failure (optim/matrix.py); the previous basis if even that fails."""
    try:
        return matrix.eigenbasis(side, eigh_eps, descending=False)
    except torch.linalg.LinAlgError:
        return old


def splus_update_(p, grad, momentum, ema, sides, bases, step, *, scaled_lr, beta1, beta2, ema_rate, weight_decay,
                  inverse_every, eigh_eps, order, kernel):
    """One SPlus step on one tensor, in place on p, momentum, ema, sides and bases (the lists are refreshed in
    place). p, grad, momentum, ema: same shape; sides = [L (m, m) | None, R (n, n) | None] for a rotated 2-D tensor,
    None for a sign-only one; bases likewise (Q_L, Q_R). step: 1-based int. kernel: auto | triton | torch
    (optim/kernels), used for rotated tensors with a basis and the 'official' order."""
    momentum.lerp_(grad, 1 - beta1)                                     # M = b1 M + (1 - b1) G
    fused = None
    if kernel != 'torch' and sides is not None and order == 'official' and any(q is not None for q in bases):
        fused = kernels.pick(kernel, 'splus_kernel', 'splus', [p, momentum, ema, *(q for q in bases if q is not None)])
    if sides is None:
        u = torch.sign(momentum)                                        # nonstandard: sign of momentum (§5.1)
    else:
        QL, QR = bases
        dtype = (sides[0] if sides[0] is not None else sides[1] if sides[1] is not None else momentum).dtype
        if fused is not None:  # U, W and EMA at once in Triton epilogues: the sides below never read W or EMA
            fused.rotate_sign_update_(p, momentum, ema, QL, QR, scaled_lr=scaled_lr, weight_decay=weight_decay,
                                      ema_rate=ema_rate)
        else:  # eq. 11 on the momentum with the OLD bases: U = Q_L sign(Q_L^T M Q_R) Q_R^T, sign(0) = 0
            u = matrix.project_back(torch.sign(matrix.project(momentum.to(dtype), QL, QR)), QL, QR)
        g = grad.to(dtype)
        if sides[0] is not None:
            sides[0].lerp_(g @ g.T, 1 - beta2)                          # L = b2 L + (1 - b2) G G^T  (m, m)
        if sides[1] is not None:
            sides[1].lerp_(g.T @ g, 1 - beta2)                          # R = b2 R + (1 - b2) G^T G  (n, n)
        if step == 1 or step % inverse_every == 0:                      # refresh after U: step 1 uses Q = I
            bases[:] = [q if s is None else refreshed_basis(s, q, eigh_eps) for s, q in zip(sides, bases)]
    if fused is not None:
        return
    if order == 'official':
        p.add_(u, alpha=-scaled_lr)                                     # W = W - s U
        ema.lerp_(p, 1 - ema_rate)                                      # iterate average of the new W (eq. 16)
        p.mul_(1 - scaled_lr * weight_decay)                            # W = W (1 - s wd)
    else:  # optax: average the old W; W = W - s (U + wd W)
        ema.lerp_(p, 1 - ema_rate)
        p.mul_(1 - scaled_lr * weight_decay).add_(u, alpha=-scaled_lr)


class SPlus(torch.optim.Optimizer):
    family = 'invariant'  # hidden matrices: rotated sign update with the 2/(m+n) shape scale
    # sign-only tensors (embedding, readout, gains: §5.1) take Adam's rule, like any sign update
    role_family = {'embedding': 'adam', 'readout': 'adam', 'vector': 'adam'}
    needs_full_tensors = True  # distributed: one owner rank steps the whole tensor (optim/distributed.py)
    decoupled_wd = True
    shared = ('lr', 'betas')  # train.py's keys (optim.SHARED)
    hparams = {
        'splus_ema_rate': 0.999,             # torch/splus.py default (README, App. A.1)
        'splus_inverse_every': 100,          # eigh every 100 steps (and at step 1)
        'splus_eigh_eps': 1e-30,             # eigh jitter
        'splus_max_dim': 10000,              # sides only for dims < max_dim
        'splus_nonstandard_constant': 1e-3,  # scale of sign-only updates (§5.1)
        'splus_nonstandard': 'role',         # role (§5.1: embedding and readout sign-only) | shape (torch file)
        'splus_order': 'official',           # official (torch file) | optax (EMA of old W, decay inside the update)
        'splus_kernel': 'auto',              # auto (= torch: faster on an H200) | triton | torch (optim/kernels/splus.py)
    }
    allowed = {'ema_rate': '[0, 1)', 'inverse_every': '>= 1', 'eigh_eps': '>= 0', 'max_dim': '>= 1',
               'nonstandard_constant': '>= 0', 'nonstandard': ('shape', 'role'), 'order': ('official', 'optax')}

    def __init__(self, params, lr=0.1, betas=(0.9, 0.999), ema_rate=0.999, inverse_every=100, eigh_eps=1e-30,
                 weight_decay=1e-2, max_dim=10000, nonstandard_constant=1e-3, nonstandard='shape',
                 order='official', kernel='auto'):
        kernels.check_mode(kernel, 'splus_kernel')
        defaults = dict(lr=lr, betas=tuple(betas), ema_rate=ema_rate, inverse_every=inverse_every, eigh_eps=eigh_eps,
                        weight_decay=weight_decay, max_dim=max_dim, nonstandard_constant=nonstandard_constant,
                        nonstandard=nonstandard, order=order, kernel=kernel)
        optim.check(self, defaults)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        # the torch file reads state['step'] of every parameter here and crashes on one that never stepped
        super().__setstate__(state)
        for group in self.param_groups:
            for k, v in self.defaults.items():
                group.setdefault(k, v)

    @staticmethod
    def _rotated(p, group):
        """Whether p gets the rotated update (sides and eigenbases) rather than sign(momentum)."""
        return p.ndim == 2 and not (group['nonstandard'] == 'role' and group.get('role') in ('embedding', 'readout'))

    @staticmethod
    def _scaled_lr(p, group):
        if SPlus._rotated(p, group) and max(p.shape) <= group['max_dim']:
            return group['lr'] * (2 / (p.shape[0] + p.shape[1]))        # eq. 15
        return group['lr'] * group['nonstandard_constant']

    def _init_state(self, p, group):
        """Momentum and EMA like p; for a rotated tensor, sides (zero) and bases (identity) in float32 or better
        whatever the parameter dtype, None for a side >= max_dim."""
        state = dict(step=0, momentum=torch.zeros_like(p, memory_format=torch.preserve_format),
                     ema=torch.zeros_like(p, memory_format=torch.preserve_format))
        if self._rotated(p, group):
            dtype = torch.promote_types(p.dtype, torch.float32)
            state['sides'] = [torch.zeros(d, d, device=p.device, dtype=dtype) if d < group['max_dim'] else None
                              for d in p.shape]
            state['bases'] = [torch.eye(d, device=p.device, dtype=dtype) if d < group['max_dim'] else None
                              for d in p.shape]
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
                if 'train_weights' in state:
                    raise RuntimeError('SPlus.step() in eval mode: call optimizer.train() first')
                if not state:
                    state.update(self._init_state(p, group))
                state['step'] += 1
                splus_update_(p, p.grad, state['momentum'], state['ema'], state.get('sides'), state.get('bases'),
                              state['step'], scaled_lr=self._scaled_lr(p, group), beta1=beta1, beta2=beta2,
                              ema_rate=group['ema_rate'], weight_decay=group['weight_decay'],
                              inverse_every=group['inverse_every'], eigh_eps=group['eigh_eps'], order=group['order'],
                              kernel=group['kernel'])
        return loss

    @torch.no_grad()
    def eval(self):
        """Swap in the evaluation weights EMA / (1 - ema_rate^t) (the torch file's eval()). Idempotent."""
        for group in self.param_groups:
            for p in group['params']:
                state = self.state[p]
                if 'ema' in state and 'train_weights' not in state:
                    state['train_weights'] = p.clone()
                    p.copy_(state['ema']).mul_(1 / (1 - group['ema_rate'] ** state['step']))

    @torch.no_grad()
    def train(self):
        """Swap the live training weights back, bitwise. Idempotent."""
        for group in self.param_groups:
            for p in group['params']:
                state = self.state[p]
                if 'train_weights' in state:
                    p.copy_(state.pop('train_weights'))

    def load_state_dict(self, state_dict):
        # torch casts every floating state tensor to its parameter's dtype; sides and bases stay fp32 or better
        super().load_state_dict(state_dict)
        ids = [i for g in state_dict['param_groups'] for i in g['params']]
        params = [p for g in self.param_groups for p in g['params']]
        for i, p in zip(ids, params):
            saved = state_dict['state'].get(i, {})
            for key in ('sides', 'bases'):
                if saved.get(key) is not None:
                    self.state[p][key] = [None if t is None else t.to(p.device, torch.promote_types(
                        p.dtype, torch.float32), copy=True) for t in saved[key]]
