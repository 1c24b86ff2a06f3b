"""PSGD-Kron: preconditioned SGD with a Kronecker-factored preconditioner fitted online (Xi-Lin Li).

Papers: Li, "Preconditioned Stochastic Gradient Descent" (2015, arXiv:1512.04202) and "Preconditioner on Matrix
Lie Group for SGD" (2018, arXiv:1809.10232); official code lixilinx/psgd_torch. The defaults and the schedule follow
Evan Walters' `kron_torch.Kron` (evanatyourservice/kron_torch kron.py), the version people train LLMs with, which is
also the numerical reference of tests/test_optim_psgd.py.

For a parameter with dims (d_1, ..., d_k) (more than 2 dims are merged into a matrix first) the preconditioner is
P = Q^T Q with Q = Q_1 (x) ... (x) Q_k; each Q_i is upper triangular (d_i x d_i) or diagonal (a d_i vector, for a
dim > max_size_triangular, a parameter with fewer than min_ndim_triangular dims (1-D) or memory_save_mode).
Writing X x_i M for "multiply X along dim i by the matrix M" (for a matrix X: Q_1 X Q_2^T), one step is

    m     <- b1 m + (1 - b1) g ;   m_hat = m / (1 - b1^t)                                   (momentum, kron_torch)
    with probability p(t) (1.0 for 500 steps, then exp(-0.001 (t - 500)), floored at 0.03):
        V ~ N(0, I) ;  G = m_hat + sqrt(eps_f32) * mean|m_hat| * V                 (damped "gradient" sample)
        A = G x_1 Q_1 ... x_k Q_k ;  conjB = V x_1 Q_1^-T ... x_k Q_k^-T          (Li 2018 eq. 27, Q^-T by solves)
        for each i:  S_A = A_(i) A_(i)^T , S_B = conjB_(i) conjB_(i)^T          (mode-i Gram matrices)
            triangular: Q_i <- Q_i - precond_lr * triu(S_A - S_B) / lb(||S_A + S_B||_2) * Q_i
            diagonal:   Q_i <- Q_i - precond_lr * (s_A - s_B) / max|s_A + s_B| * Q_i   (s = diagonal of S)
        every 100th preconditioner update first: Q_i *= geomean_j(max|Q_j|) / max|Q_i|  (balance the factors)
    u = m_hat x_1 Q_1^T Q_1 ... x_k Q_k^T Q_k ;  u <- u * min(1, 1.1 / rms(u))      (precondition, clip RMS)
    p <- p - lr * (u + wd * p)   (wd only on >= 2-D params)

lb(S) is a cheap lower bound of the spectral norm (one power-iteration step from S's largest column); the divisor
makes the Lie-group step size scale-free (Li 2018 §5). Weight decay is added to the update before the LR, as in
kron_torch, so it is decoupled: p <- p - lr * wd * p.

Where the references differ, and what we do:
- Update probability: kron_torch turns p(t) into a deterministic counter (update once the steps since the last
  update reach 1/p(t)); so do we, with the counters in the per-parameter state (kron_torch keeps them on the
  optimizer object, so its resume is not exact). The schedule's constants are the psgd_precond_update_prob* keys.
- Balancing: kron_torch balances with probability 0.01 per update (Python `random.Random(42)`); we balance
  deterministically on every `balance_every`-th (100) preconditioner update. Balancing leaves P unchanged.
- Randomness (a known pitfall): kron_torch draws V from the global torch RNG, so DDP ranks seeded 1337 + rank
  fit different preconditioners. Here V comes from the optimizer's own torch.Generator, re-seeded before every
  draw with a hash of (psgd_seed, parameter key, index of this preconditioner update); the key is the parameter's
  name (param groups from parameterization.py carry 'names') or else its position in its group. V is thus the
  same on every rank, independent of the global RNG, and a resumed run draws exactly what the original would
  have (the update counters live in state_dict). Splitting a group in two does not change any V.
- kron_torch adds the damping noise to m_hat in place, so its applied update is P (m_hat + sqrt(eps) mean|m_hat| V),
  a ~3e-4 relative perturbation; with momentum_into_precond_update=False its in-place add also changes p.grad.
  We precondition the clean m_hat (Li's update rule) and never touch p.grad.
- Precision: Q and the preconditioner math are float32 (kron_torch's precond_dtype); float64 params keep float64
  (for the tests). The noise scale uses float32's eps as kron_torch does. The group's 'eps' is not used (PSGD has
  no epsilon). torch's load_state_dict casts floating state to the param dtype: fine for fp32 master weights.

Family `adam`: like Adam, the preconditioned update is invariant to the scale of the gradient (P
whitens it) and its RMS is O(1) (clipped at 1.1), so muP's LR exponents are Adam's (1/fan_in for hidden/readout).
"""

import functools
import hashlib
import math

import torch

import optim


# ----------------------------------------------------------------------------------------------------------------
# pure functions: Q is a list with one tensor per dim, (d, d) upper triangular or (d,) diagonal

def _along(X, i, fn):
    """Apply fn to X with dim i moved last, i.e. to the rows (..., d_i) of X, and move the dim back."""
    return fn(X.movedim(i, -1)).movedim(-1, i)


def mul_q(X, q, i, transpose=False):
    """X x_i q (X_..j.. -> sum_j q[k, j] X_..j..), or X x_i q^T when transpose."""
    if q.dim() == 1:
        return _along(X, i, lambda Y: Y * q)
    return _along(X, i, lambda Y: Y @ (q if transpose else q.T))


def solve_q(X, q, i):
    """X x_i q^-T, by a triangular solve: the rows (..., d_i) become rows @ q^-1."""
    if q.dim() == 1:
        return _along(X, i, lambda Y: Y / q)
    return _along(X, i, lambda Y: torch.linalg.solve_triangular(q, Y.reshape(-1, Y.shape[-1]), upper=True,
                                                                 left=False).reshape(Y.shape))


def gram(X, i, diagonal):
    """The mode-i Gram matrix X_(i) X_(i)^T (d_i, d_i), or only its diagonal (d_i,)."""
    rows = X.movedim(i, -1).reshape(-1, X.shape[i])  # (rest, d_i)
    return rows.square().sum(0) if diagonal else rows.T @ rows


def spectral_norm_lower_bound(S):
    """A cheap lower bound of ||S||_2 for a symmetric PSD S: one power-iteration step from its largest column."""
    scale = S.abs().max()
    S = S / scale
    x = S[:, (S * S).sum(0).argmax()]  # (d,) the column of largest norm
    x = x @ S
    return (S @ (x / x.norm())).norm() * scale


def precondition(Q, G):
    """P G = G x_1 Q_1^T Q_1 ... x_k Q_k^T Q_k."""
    for i, q in enumerate(Q):
        G = mul_q(G, q, i)
    for i, q in enumerate(Q):
        G = mul_q(G, q, i, transpose=True)
    return G


def balance_(Q):
    """Rescale the factors to equal max-abs entries (their geometric mean); the product Q, hence P, is unchanged."""
    norms = torch.stack([q.abs().max() for q in Q])
    target = norms.log().mean().exp()
    for q, n in zip(Q, norms):
        q.mul_(target / n)


def update_preconditioner_(Q, G, V, precond_lr):
    """One Lie-group step of every Q_i towards E[A A^T] = E[conjB conjB^T] (Li 2018), in place.

    G (shape of the param): the sample (m_hat, or the gradient) before damping; V: standard normal, same shape."""
    tiny = torch.finfo(G.dtype).tiny
    G = G + math.sqrt(torch.finfo(torch.float32).eps) * G.abs().mean() * V  # damping, as kron_torch
    A, conjB = G, V
    for i, q in enumerate(Q):  # all with the old Q
        A = mul_q(A, q, i)
        conjB = solve_q(conjB, q, i)
    for i, q in enumerate(Q):
        diagonal = q.dim() == 1
        SA, SB = gram(A, i, diagonal), gram(conjB, i, diagonal)
        diff, total = SA - SB, SA + SB
        if diagonal:
            q.sub_(precond_lr * diff / total.abs().max().clamp(min=tiny) * q)
        else:
            norm = total.abs().max()  # lb(0) would be 0/0: guard it without a host sync
            lb = torch.where(norm > 0, spectral_norm_lower_bound(total), norm).clamp(min=tiny)
            q.sub_(precond_lr * torch.triu(diff) / lb @ q)


def clip_rms_(u, max_rms=1.1):
    """u * min(1, max_rms / rms(u)), in place."""
    return u.mul_(torch.clamp(max_rms / (u.square().mean().sqrt() + 1e-12), max=1.0))


# ----------------------------------------------------------------------------------------------------------------
# shapes, schedule and noise

def merged_shape(shape, merge_dims=True):
    """The shape PSGD works on: scalars become (1,), >2 dims merge into the better balanced of
    (prod(all but last), last) and (first, prod(all but first)) (kron_torch's rule)."""
    shape = list(shape)
    if len(shape) == 0:
        return [1]
    if len(shape) <= 2 or not merge_dims:
        return shape
    a = [math.prod(shape[:-1]), shape[-1]]
    b = [shape[0], math.prod(shape[1:])]
    return a if a[1] - a[0] <= b[1] - b[0] else b


def diagonal_dims(shape, max_size_triangular, min_ndim_triangular, memory_save_mode):
    """[bool] per dim: whether its factor Q_i is diagonal."""
    diag = [d == 1 or d > max_size_triangular or len(shape) < min_ndim_triangular for d in shape]
    largest = max(range(len(shape)), key=lambda i: (shape[i], i))  # the last of the largest dims
    if memory_save_mode == 'all_diag':
        diag = [True] * len(shape)
    elif memory_save_mode == 'one_diag':
        diag[largest] = True
    elif memory_save_mode == 'smart_one_diag':  # only when the largest dim is strictly the largest
        if len(shape) > 1 and sorted(shape)[-1] > sorted(shape)[-2]:
            diag[largest] = True
    elif memory_save_mode:
        raise ValueError(f"psgd: memory_save_mode '{memory_save_mode}': use '', one_diag, smart_one_diag, all_diag")
    return diag


def update_probability(step, max_prob=1.0, min_prob=0.03, decay=0.001, flat_start=500):
    """p(step) for the 0-based step: max_prob for flat_start steps, then an exponential anneal down to min_prob."""
    return min(max_prob, max(min_prob, max_prob * math.exp(-decay * (step - flat_start))))


def noise_seed(seed, key, index):
    """A 63-bit generator seed for the index-th preconditioner update of the parameter called key."""
    digest = hashlib.blake2b(f'psgd/{seed}/{key}/{index}'.encode(), digest_size=8).digest()
    return int.from_bytes(digest, 'little') >> 1


def psgd_update_(p, grad, momentum, Q, step, *, lr, beta1, weight_decay, precond_lr, noise, balance,
                 momentum_into_precond_update):
    """One PSGD-Kron step on one tensor, in place on p, momentum and the factors Q. momentum: the merged shape of
    p; Q: one factor per merged dim; step: 1-based int. noise: None when the preconditioner is not updated at this
    step, else a function sample -> V ~ N(0, I) like sample; balance: rebalance the factors before that update."""
    g = grad.reshape(momentum.shape)
    momentum.lerp_(g, 1 - beta1)  # m <- b1 m + (1 - b1) g
    m_hat = momentum.to(Q[0].dtype) / (1 - beta1 ** step)
    if noise is not None:
        if balance:
            balance_(Q)
        sample = m_hat if momentum_into_precond_update else g.to(Q[0].dtype)
        update_preconditioner_(Q, sample, noise(sample), precond_lr)
    u = clip_rms_(precondition(Q, m_hat)).reshape(p.shape)
    if weight_decay != 0 and p.dim() >= 2:
        u.add_(p, alpha=weight_decay)  # decoupled: p <- p - lr * wd * p
    p.add_(u.to(p.dtype), alpha=-lr)


# ----------------------------------------------------------------------------------------------------------------

class PSGDKron(torch.optim.Optimizer):
    """PSGD with Kronecker-factored preconditioners (Li; defaults of kron_torch.Kron). See the module docstring."""
    family = 'adam'
    needs_full_tensors = True  # distributed: one owner rank steps the whole tensor (optim/distributed.py)
    decoupled_wd = True
    shared = ('lr', 'beta1')  # train.py's keys (optim.SHARED)
    hparams = {
        'psgd_precond_lr': 0.1,  # step size of the preconditioner fit
        'psgd_precond_init_scale': 1.0,  # Q = scale * I at the start
        'psgd_precond_update_prob': 1.0,  # p(t) during the flat start (set == _min for a constant probability)
        'psgd_precond_update_prob_min': 0.03,  # floor of the anneal
        'psgd_precond_update_prob_decay': 0.001,  # p(t) = exp(-decay * (t - flat_start))
        'psgd_precond_update_prob_flat_start': 500,  # steps at the full probability
        'psgd_max_size_triangular': 8192,  # larger dims get a diagonal factor
        'psgd_min_ndim_triangular': 2,  # params with fewer dims (1-D) get diagonal factors
        'psgd_memory_save_mode': '',  # '' | one_diag | smart_one_diag | all_diag
        'psgd_momentum_into_precond_update': True,  # fit P to m_hat (True) or to the raw gradient
        'psgd_merge_dims': True,  # view >2-D params as matrices
        'psgd_balance_every': 100,  # rebalance the factors' norms every this many preconditioner updates
        'psgd_seed': 0,  # seed of the optimizer's own generator for V (identical on every rank)
    }
    allowed = {'precond_lr': '>= 0', 'precond_init_scale': '> 0', 'precond_update_prob': '[0, 1]',
               'precond_update_prob_min': '[0, 1]', 'precond_update_prob_decay': '>= 0',
               'precond_update_prob_flat_start': '>= 0', 'max_size_triangular': '>= 0', 'min_ndim_triangular': '>= 0',
               'memory_save_mode': ('', 'one_diag', 'smart_one_diag', 'all_diag'),
               'momentum_into_precond_update': (True, False), 'merge_dims': (True, False), 'balance_every': '>= 1'}

    def __init__(self, params, lr=3e-4, beta1=0.9, weight_decay=0.0, precond_lr=0.1, precond_init_scale=1.0,
                 precond_update_prob=1.0, precond_update_prob_min=0.03, precond_update_prob_decay=0.001,
                 precond_update_prob_flat_start=500, max_size_triangular=8192, min_ndim_triangular=2,
                 memory_save_mode='', momentum_into_precond_update=True, merge_dims=True, balance_every=100, seed=0):
        defaults = dict(lr=lr, beta1=beta1, weight_decay=weight_decay, precond_lr=precond_lr,
                        precond_init_scale=precond_init_scale, precond_update_prob=precond_update_prob,
                        precond_update_prob_min=precond_update_prob_min,
                        precond_update_prob_decay=precond_update_prob_decay,
                        precond_update_prob_flat_start=precond_update_prob_flat_start,
                        max_size_triangular=max_size_triangular, min_ndim_triangular=min_ndim_triangular,
                        memory_save_mode=memory_save_mode or '',
                        momentum_into_precond_update=momentum_into_precond_update, merge_dims=merge_dims,
                        balance_every=balance_every, seed=seed)
        optim.check(self, defaults)
        super().__init__(params, defaults)
        self._generators = {}  # device -> torch.Generator; its seed is set before each draw, so it holds no state

    def noise(self, like, key, index, seed):
        """V ~ N(0, I) shaped like `like`, from the optimizer's generator seeded by (seed, key, index)."""
        if like.device not in self._generators:
            self._generators[like.device] = torch.Generator(device=like.device)
        gen = self._generators[like.device].manual_seed(noise_seed(seed, key, index))
        return torch.randn(like.shape, generator=gen, dtype=like.dtype, device=like.device)

    def _init_state(self, p, group):
        """Q = scale * I per merged dim (float32 or better, kron_torch), momentum in the parameter's dtype, and the
        preconditioner-update counters."""
        shape = merged_shape(p.shape, group['merge_dims'])
        dtype = torch.promote_types(p.dtype, torch.float32)  # kron_torch: float32 preconditioners
        diag = diagonal_dims(shape, group['max_size_triangular'], group['min_ndim_triangular'],
                             group['memory_save_mode'])
        scale = group['precond_init_scale'] ** (1 / len(shape))
        Q = [scale * (torch.ones(d, dtype=dtype, device=p.device) if dg else
                      torch.eye(d, dtype=dtype, device=p.device)) for d, dg in zip(shape, diag)]
        return dict(step=0, update_counter=0, precond_updates=0, Q=Q,
                    momentum=torch.zeros(shape, dtype=p.dtype, device=p.device))

    def _due(self, state, group):
        """kron_torch's deterministic schedule: update once the steps since the last update reach 1 / p(t), with
        t the 0-based step (kron_torch's _prob_step)."""
        prob = update_probability(state['step'] - 1, group['precond_update_prob'], group['precond_update_prob_min'],
                                  group['precond_update_prob_decay'], group['precond_update_prob_flat_start'])
        state['update_counter'] += 1
        if prob <= 0 or state['update_counter'] < 1 / prob:
            return False
        state['update_counter'] = 0
        return True

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            names = group.get('names')  # parameterization.py's groups name their params; else the index is the key
            for idx, p in enumerate(group['params']):
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state.update(self._init_state(p, group))
                state['step'] += 1
                noise, balance = None, False
                if self._due(state, group):
                    key, index = names[idx] if names is not None else idx, state['precond_updates']
                    noise = functools.partial(self.noise, key=key, index=index, seed=group['seed'])
                    balance = len(state['Q']) > 1 and index % group['balance_every'] == group['balance_every'] - 1
                    state['precond_updates'] += 1
                psgd_update_(p, p.grad, state['momentum'], state['Q'], state['step'], lr=group['lr'],
                             beta1=group['beta1'], weight_decay=group['weight_decay'], precond_lr=group['precond_lr'],
                             noise=noise, balance=balance,
                             momentum_into_precond_update=group['momentum_into_precond_update'])
        return loss
