"""Shampoo (optim/shampoo.py) against pytorch_optimizer.Shampoo (the paper's rule), a plain transcription of the
DistributedShampoo semantics, and torch.optim.Adam for the grafted norm; plus the eigh/inverse-root helpers of
optim/matrix.py. CPU, float64, fixed gradient sequences (so trajectories differ only by the update rule).
"""

import pytest
import torch

from optim import matrix
from optim.shampoo import Shampoo

SHAPES = [(5, 7), (4, 4), (6,)]  # non-square matrix, square matrix, vector


def gradients(shapes, steps, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [[torch.randn(s, generator=g, dtype=torch.float64) for s in shapes] for _ in range(steps)]


def initial(shapes, seed=1):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(s, generator=g, dtype=torch.float64) for s in shapes]


def trajectory(make_opt, init, grads):
    """Parameters after every step of make_opt(params) fed the fixed gradient sequence (fresh clones each step)."""
    params = [torch.nn.Parameter(x.clone()) for x in init]
    opt = make_opt(params)
    out = []
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = g.clone()
        opt.step()
        out.append([p.detach().clone() for p in params])
    return out


def ours(lr=1e-2, wd=0.0, **kw):
    return lambda ps: Shampoo([dict(params=ps, lr=lr, eps=kw.pop('eps', 1e-8), weight_decay=wd)], **kw)


def transcription(init, grads, lr, beta1, beta2, eps, wd, shampoo_beta2, shampoo_eps, every, start, max_dim, graft):
    """DistributedShampoo's step written out plainly (factors, roots on DSH's schedule, filtered gradient with bias
    correction, Adam grafting by the Frobenius norm, decoupled decay), one parameter at a time."""
    b_s = shampoo_beta2

    def inv_root4(A):
        lam, Q = torch.linalg.eigh(A)
        return Q @ torch.diag((lam.clamp(min=0) + shampoo_eps) ** -0.25) @ Q.T

    out, params = [], [x.clone() for x in init]
    mom = [torch.zeros_like(x) for x in init]
    sq = [torch.zeros_like(x) for x in init]
    facs = [[torch.zeros(d, d, dtype=x.dtype) if x.dim() == 2 and d <= max_dim else None for d in x.shape]
            for x in init]
    roots = [[None] * x.dim() for x in init]
    for t, gs in enumerate(grads, start=1):
        for i, g in enumerate(gs):
            F = facs[i]
            if g.dim() == 2:
                outs = [g @ g.T, g.T @ g]
                for k in range(2):
                    if F[k] is not None:
                        F[k] = F[k] + outs[k] if b_s == 1 else b_s * F[k] + (1 - b_s) * outs[k]
                        if (t % every == 0 and t > start) or t == start:
                            bc = 1 - b_s ** t if b_s < 1 else 1.0
                            roots[i][k] = inv_root4(F[k] / bc)
            sq[i] = beta2 * sq[i] + (1 - beta2) * g * g
            mom[i] = beta1 * mom[i] + (1 - beta1) * g
            m_hat = mom[i] / (1 - beta1 ** t)
            adam = m_hat / ((sq[i] / (1 - beta2 ** t)).sqrt() + eps) if graft == 'adam' else m_hat
            d = adam
            if g.dim() == 2 and any(f is not None for f in F) and t >= start:
                d = m_hat
                if F[0] is not None:
                    d = roots[i][0] @ d
                if F[1] is not None:
                    d = d @ roots[i][1]
                if graft == 'adam':
                    d = d * adam.norm() / d.norm()
            params[i] = params[i] * (1 - lr * wd) - lr * d
        out.append([p.clone() for p in params])
    return out


def max_diff(a, b):
    return max((x - y).abs().max().item() for ra, rb in zip(a, b) for x, y in zip(ra, rb))


def test_paper_rule_matches_pytorch_optimizer():
    """Gupta et al. Alg. 1 (L_0 = eps I, plain sums, root every step, no momentum, no grafting) ==
    pytorch_optimizer.Shampoo(momentum=0, preconditioning_compute_steps=1, matrix_eps=eps). PTO takes the root by
    SVD and we by eigh of the same PSD matrix; measured max difference ~2e-16 over 8 steps, bound 1e-12."""
    import pytorch_optimizer as pto
    shapes = SHAPES[:2]  # PTO preconditions vectors with a full matrix: only matrices are comparable
    init, grads = initial(shapes), gradients(shapes, 8)
    a = trajectory(ours(lr=1e-2, betas=(0.0, 0.999), root_eps=1e-6, precond_every=1, start_precond=1,
                        graft='none'), init, grads)
    b = trajectory(lambda ps: pto.Shampoo(ps, lr=1e-2, momentum=0.0, matrix_eps=1e-6,
                                          preconditioning_compute_steps=1), init, grads)
    assert max_diff(a, b) < 1e-12
    assert max_diff(a, [init] * len(a)) > 1e-2  # the parameters did move


CASES = {
    # DSH defaults with Adam grafting, momentum, decay; roots every 3 steps from step 3
    'graft_adam': dict(beta1=0.9, beta2=0.999, shampoo_beta2=1.0, every=3, start=3, max_dim=1024, graft='adam',
                       wd=0.1),
    # EMA factors with bias correction, no grafting, start later than the first root step, roots every 2 steps
    'ema_no_graft': dict(beta1=0.5, beta2=0.99, shampoo_beta2=0.9, every=2, start=5, max_dim=1024, graft='none',
                         wd=0.0),
    # max_dim 5: (5, 7) one-sided (left only), (4, 4) two-sided; a (9, 9) with no factor at all -> Adam alone
    'one_sided': dict(beta1=0.9, beta2=0.95, shampoo_beta2=1.0, every=1, start=1, max_dim=5, graft='adam', wd=0.0),
    # start before the first multiple of every: DSH computes the root at t == start too
    'early_start': dict(beta1=0.0, beta2=0.95, shampoo_beta2=1.0, every=4, start=2, max_dim=1024, graft='adam',
                        wd=0.0),
}


@pytest.mark.parametrize('case', CASES)
def test_matches_dsh_transcription(case):
    """Every option against the plain transcription above: measured max difference ~1e-15, bound 1e-10
    (eigh on identical matrices; only the order of float operations differs)."""
    c = CASES[case]
    shapes = SHAPES + [(9, 9)]
    init, grads = initial(shapes), gradients(shapes, 12)
    a = trajectory(ours(lr=1e-2, wd=c['wd'], betas=(c['beta1'], c['beta2']), factor_beta=c['shampoo_beta2'],
                        root_eps=1e-6, precond_every=c['every'], start_precond=c['start'], max_dim=c['max_dim'],
                        graft=c['graft']), init, grads)
    b = transcription(init, grads, lr=1e-2, beta1=c['beta1'], beta2=c['beta2'], eps=1e-8, wd=c['wd'],
                      shampoo_beta2=c['shampoo_beta2'], shampoo_eps=1e-6, every=c['every'], start=c['start'],
                      max_dim=c['max_dim'], graft=c['graft'])
    assert max_diff(a, b) < 1e-10


def test_grafted_update_has_adams_norm():
    """With Adam grafting, ||delta W||_F equals torch.optim.Adam's on the same gradients at every step (wd 0), the
    update IS Adam's before shampoo_start_precond and for vectors, and the matrix direction differs from Adam's
    once Shampoo starts."""
    init, grads = initial(SHAPES), gradients(SHAPES, 10)
    kw = dict(lr=1e-2, betas=(0.9, 0.95), eps=1e-8)
    a = trajectory(ours(**kw, precond_every=2, start_precond=4), init, grads)
    b = trajectory(lambda ps: torch.optim.Adam(ps, **kw, foreach=False), init, grads)
    prev_a = prev_b = init
    for t, (ra, rb) in enumerate(zip(a, b), start=1):
        for i, (x, y) in enumerate(zip(ra, rb)):
            da, db = x - prev_a[i], y - prev_b[i]
            torch.testing.assert_close(da.norm(), db.norm(), rtol=1e-10, atol=0)
            if t < 4 or x.dim() == 1:
                torch.testing.assert_close(da, db, rtol=1e-9, atol=1e-15)
            else:
                assert (da - db).norm() > 1e-2 * db.norm()
        prev_a, prev_b = ra, rb


def test_graft_none_is_the_raw_shampoo_direction():
    """shampoo_graft='none' leaves L^-1/4 M R^-1/4 unscaled: its norm differs from the grafted one."""
    init, grads = initial(SHAPES[:1]), gradients(SHAPES[:1], 2)
    kw = dict(lr=1e-2, betas=(0.0, 0.95), precond_every=1, start_precond=1)
    a = trajectory(ours(**kw, graft='adam'), init, grads)
    b = trajectory(ours(**kw, graft='none'), init, grads)
    da, db = a[0][0] - init[0], b[0][0] - init[0]
    torch.testing.assert_close(da / da.norm(), db / db.norm(), rtol=1e-10, atol=1e-12)  # same direction
    assert abs(da.norm() / db.norm() - 1) > 1e-2  # different length


def test_inverse_root_and_clamping():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(6, 3, generator=g, dtype=torch.float64)
    A = X @ X.T  # rank 3: three (rounding-level, possibly negative) zero eigenvalues
    R = matrix.inverse_root(A, 4, 1e-6)
    lam, Q = torch.linalg.eigh(A)
    expected = Q @ torch.diag((lam.clamp(min=0) + 1e-6) ** -0.25) @ Q.T
    torch.testing.assert_close(R, expected, rtol=1e-9, atol=1e-9)
    B = A + torch.eye(6, dtype=torch.float64)  # SPD: (B^-1/4)^4 B = I
    torch.testing.assert_close(torch.linalg.matrix_power(matrix.inverse_root(B, 4, 0.0), 4) @ B,
                               torch.eye(6, dtype=torch.float64), rtol=0, atol=1e-10)
    assert matrix.inverse_root(A.float(), 4, 1e-6).dtype == torch.float32


def test_eigh_falls_back_to_float64_then_jitter(monkeypatch):
    """A failing eigh is retried in float64, then with a diagonal jitter whose shift is removed again; a
    non-finite matrix gives NaN eigenvalues (the run diverges visibly) instead of an exception."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(5, 5, generator=g)
    A = X @ X.T + torch.eye(5)
    true = torch.linalg.eigvalsh(A.double())
    real_eigh = torch.linalg.eigh

    def fails_in_float32(M):
        if M.dtype != torch.float64:
            raise torch.linalg.LinAlgError('simulated float32 failure')
        return real_eigh(M)
    monkeypatch.setattr(torch.linalg, 'eigh', fails_in_float32)
    lam, Q = matrix.eigh(A)
    assert lam.dtype == torch.float32
    torch.testing.assert_close(lam.double(), true, rtol=1e-6, atol=1e-6)

    def fails_without_jitter(M):
        if torch.equal(M.diagonal(), A.double().diagonal()):
            raise torch.linalg.LinAlgError('simulated failure')
        return real_eigh(M)
    monkeypatch.setattr(torch.linalg, 'eigh', fails_without_jitter)
    lam, Q = matrix.eigh(A)
    torch.testing.assert_close(lam.double(), true, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close((Q * lam) @ Q.T, A, rtol=1e-5, atol=1e-5)

    lam, _ = matrix.eigh(torch.full((3, 3), float('nan')))
    assert torch.isnan(lam).all()
