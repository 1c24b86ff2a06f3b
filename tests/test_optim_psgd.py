"""PSGD-Kron (optim/psgd.py) against kron_torch.Kron (the numerical reference) and against a plain
transcription of the preconditioner update (Li 2018, as written in kron_torch) with a known noise V.
kron_torch draws V from the global RNG; where the two must see the same V the test feeds ours to it through
torch.randn_like. kron_torch's helpers are torch.compile'd; they run eagerly here (dynamo disabled) to stay fast.
    pytest tests/test_optim_psgd.py
"""

import copy
import math

import pytest
import torch
import kron_torch

from optim.psgd import PSGDKron, merged_shape, noise_seed, precondition, update_preconditioner_

SHAPES = [(6, 8), (5, 5), (9, 4), (7,)]  # non-square wide, square, tall, and a vector (diagonal Q)


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors: extra threads only spin (the test machine's 2 cores are shared)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def eager():
    with torch._dynamo.config.patch(disable=True):
        yield


def problem(dtype=torch.float32, seed=0):
    """Least squares y = sum_i f_i(params_i) on a fixed batch; returns params and loss_fn."""
    g = torch.Generator().manual_seed(seed)
    params, targets = [], []
    for shape in SHAPES:
        params.append(torch.nn.Parameter(0.1 * torch.randn(shape, generator=g, dtype=dtype)))
        targets.append(torch.randn(shape, generator=g, dtype=dtype))
    X = [torch.randn(32, s[-1], generator=g, dtype=dtype) for s in SHAPES]

    def loss_fn(ps):
        # a matrix sees inputs X (32, fan_in); a vector is matched elementwise, scaled per coordinate
        out = 0
        for p, t, x in zip(ps, targets, X):
            out = out + (((x @ (p - t).T) ** 2).mean() if p.dim() == 2 else ((x[0] * (p - t)) ** 2).mean())
        return out
    return params, loss_fn


def train(opt, params, loss_fn, steps):
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(params)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def ours(params, lr=3e-3, wd=0.0, **kw):
    return PSGDKron([dict(params=params, lr=lr, weight_decay=wd, eps=1e-8)], lr=lr, **kw)


def test_matches_kron_torch_with_the_same_noise(eager, monkeypatch):
    """10 steps (preconditioner updated every step, no balancing in kron_torch's first 19), fp32, with wd."""
    params, loss_fn = problem()
    params2 = [torch.nn.Parameter(p.detach().clone()) for p in params]
    opt = ours(params, lr=1e-2, wd=0.1)
    ref = kron_torch.Kron(params2, lr=1e-2, weight_decay=0.1)
    drawn = []
    step = {'t': 0}

    def our_noise(G):  # kron_torch calls randn_like(G) once per param, in param order
        i = len(drawn) % len(params)
        V = opt.noise(G, i, step['t'], seed=0)
        drawn.append(V)
        return V
    monkeypatch.setattr(torch, 'randn_like', our_noise)
    for t in range(10):
        step['t'] = t
        for o, ps in ((opt, params), (ref, params2)):
            o.zero_grad()
            loss_fn(ps).backward()
            o.step()
    assert len(drawn) == 10 * len(params)
    for p, p2, p0 in zip(params, params2, problem()[0]):
        # kron_torch applies P (m_hat + 3.5e-4 mean|m_hat| V) (its damping leaks into the update, module
        # docstring) and sums in another order: agree to 1e-3 of the distance travelled (measured ~1e-4)
        moved = (p2 - p0).abs().max()
        assert (p - p2).abs().max() < 1e-3 * moved, ((p - p2).abs().max(), moved)
    for p, p2 in zip(params, params2):
        for q, q2 in zip(opt.state[p]['Q'], ref.state[p2]['Q']):
            torch.testing.assert_close(q, q2, rtol=1e-4, atol=1e-5)  # fp32, 10 updates


def test_reaches_the_loss_of_kron_torch_with_independent_noise(eager, monkeypatch):
    """Statistical agreement: each with its own randomness, through the schedule's anneal (flat start 30, then
    p = exp(-0.03 (t - 30)): 0.07 at step 120); also counts the preconditioner updates of both schedules."""
    calls = []
    real = kron_torch.kron._update_precond
    monkeypatch.setattr(kron_torch.kron, '_update_precond', lambda *a: (calls.append(1), real(*a)))
    params, loss_fn = problem()
    opt = ours(params, lr=1e-2, precond_update_prob_flat_start=30, precond_update_prob_decay=0.03)
    ours_losses = train(opt, params, loss_fn, 120)
    torch.manual_seed(1)
    params2, loss_fn = problem()
    schedule = kron_torch.kron.precond_update_prob_schedule(flat_start=30, decay=0.03)
    ref_losses = train(kron_torch.Kron(params2, lr=1e-2, preconditioner_update_probability=schedule),
                       params2, loss_fn, 120)
    assert ours_losses[-1] < 0.15 * ours_losses[0]  # it really trains (20.5 -> 2.8; frozen P: 8.0)
    for a, b in zip(ours_losses[39::40], ref_losses[39::40]):
        assert abs(math.log(a / b)) < 0.15, (a, b)  # within 15% at steps 40, 80, 120 (measured 0.1%, 0.1%, 8%)
    counts = {opt.state[p]['precond_updates'] for p in params}
    assert counts == {len(calls) // len(params2)} and 50 < len(calls) // len(params2) < 120, (counts, len(calls))


def lower_bound(S):
    """||S||_2 lower bound as kron_torch's _lb: one power step from the largest column (transcribed)."""
    c = S.abs().max()
    S = S / c
    x = S[:, torch.argmax((S ** 2).sum(0))]
    x = x @ S
    x = x / torch.linalg.norm(x)
    return torch.linalg.norm(S @ x) * c


def transcribed_update(Q1, Q2, G, V, lr=0.1):
    """Li's Kron preconditioner update for a matrix, with dense inverses (float64)."""
    G = G + math.sqrt(torch.finfo(torch.float32).eps) * G.abs().mean() * V
    A = Q1 @ G @ Q2.T
    conjB = torch.linalg.inv(Q1).T @ V @ torch.linalg.inv(Q2)
    new = []
    for Q, SA, SB in ((Q1, A @ A.T, conjB @ conjB.T), (Q2, A.T @ A, conjB.T @ conjB)):
        new.append(Q - lr * torch.triu(SA - SB) / lower_bound(SA + SB) @ Q)
    return new


def test_one_preconditioner_update_matches_the_equation_with_the_generators_noise():
    """Two steps of a 5x3 matrix in float64: the V of each update comes from the generator seeded by
    noise_seed(psgd_seed, key, index); the second starts from a non-identity Q (exercises the solves)."""
    g = torch.Generator().manual_seed(3)
    p = torch.nn.Parameter(torch.randn(5, 3, generator=g, dtype=torch.float64))
    opt = PSGDKron([dict(params=[p], lr=0.05, weight_decay=0.1, eps=1e-8, names=['w'])], lr=0.05, seed=7)
    m = torch.zeros_like(p)
    for t in range(1, 3):
        grad = torch.randn(5, 3, generator=g, dtype=torch.float64)
        Q1, Q2 = [q.clone() for q in opt.state[p]['Q']] if t > 1 else (torch.eye(5, dtype=torch.float64),
                                                                        torch.eye(3, dtype=torch.float64))
        V = torch.randn(5, 3, dtype=torch.float64,
                        generator=torch.Generator().manual_seed(noise_seed(7, 'w', t - 1)))
        before = p.detach().clone()
        m = 0.9 * m + 0.1 * grad
        m_hat = m / (1 - 0.9 ** t)
        Q1, Q2 = transcribed_update(Q1, Q2, m_hat, V)
        u = Q1.T @ Q1 @ m_hat @ Q2.T @ Q2
        u = u * min(1.0, 1.1 / u.pow(2).mean().sqrt().item())
        expected = before - 0.05 * (u + 0.1 * before)
        p.grad = grad
        opt.step()
        torch.testing.assert_close(opt.state[p]['Q'][0], Q1, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(opt.state[p]['Q'][1], Q2, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(p.detach(), expected, rtol=1e-12, atol=1e-12)
    assert not torch.allclose(Q1, torch.eye(5, dtype=torch.float64), atol=1e-3)  # the update did something


def test_diagonal_factor_update_matches_the_equation():
    """A vector's Q is diagonal: q <- q - lr (a^2 - b^2) / max(a^2 + b^2) q, a = q G, b = V / q."""
    g = torch.Generator().manual_seed(0)
    q = 1 + 0.1 * torch.rand(7, generator=g, dtype=torch.float64)
    G, V = torch.randn(7, generator=g, dtype=torch.float64), torch.randn(7, generator=g, dtype=torch.float64)
    Gd = G + math.sqrt(torch.finfo(torch.float32).eps) * G.abs().mean() * V
    a2, b2 = (q * Gd) ** 2, (V / q) ** 2
    expected = q - 0.1 * (a2 - b2) / (a2 + b2).max() * q
    Q = [q.clone()]
    update_preconditioner_(Q, G, V, 0.1)
    torch.testing.assert_close(Q[0], expected, rtol=1e-14, atol=1e-14)
    torch.testing.assert_close(precondition(Q, G), Q[0] ** 2 * G, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize('freeze', [dict(precond_lr=0.0), dict(precond_update_prob=0.0, precond_update_prob_min=0.0)])
def test_identity_preconditioner_gives_clipped_momentum_exactly(freeze):
    params, loss_fn = problem(torch.float64)
    start = [p.detach().clone() for p in params]
    opt = ours(params, lr=0.1, wd=0.05, **freeze)
    m = [torch.zeros_like(p) for p in params]
    for t in range(1, 6):
        opt.zero_grad()
        loss_fn(params).backward()
        grads = [p.grad.clone() for p in params]
        opt.step()
        for i, (p, g) in enumerate(zip(params, grads)):
            m[i] = torch.lerp(m[i], g, 1 - 0.9)
            u = m[i] / (1 - 0.9 ** t)
            u = u * torch.clamp(1.1 / (u.square().mean().sqrt() + 1e-12), max=1.0)
            if p.dim() >= 2:
                u = torch.add(u, start[i], alpha=0.05)  # torch.add(.., alpha) as p.add_: same rounding
            start[i] = torch.add(start[i], u, alpha=-0.1)
            assert torch.equal(p.detach(), start[i]), (t, i, (p - start[i]).abs().max())
    assert all(torch.equal(q, torch.eye(len(q), dtype=q.dtype)) or torch.equal(q, torch.ones_like(q))
               for p in params for q in opt.state[p]['Q'])


def run_seeded(global_seed, psgd_seed=0, steps=8):
    torch.manual_seed(global_seed)
    params, loss_fn = problem()
    train(ours(params, seed=psgd_seed), params, loss_fn, steps)
    return [p.detach().clone() for p in params]


def test_own_generator_same_seed_identical_and_global_rng_irrelevant():
    a, b, c = run_seeded(0), run_seeded(0), run_seeded(1234)
    assert all(torch.equal(x, y) and torch.equal(x, z) for x, y, z in zip(a, b, c))
    d = run_seeded(0, psgd_seed=1)
    assert not all(torch.equal(x, y) for x, y in zip(a, d))  # the seed does reach V
    torch.manual_seed(5)
    before = torch.random.get_rng_state()
    run_seeded(5)
    torch.manual_seed(5)
    assert torch.equal(before, torch.random.get_rng_state())  # and PSGD leaves the global RNG alone


def test_names_key_the_noise_so_splitting_groups_changes_nothing():
    params, loss_fn = problem()
    params2 = [torch.nn.Parameter(p.detach().clone()) for p in params]
    names = [f'w{i}' for i in range(len(params))]
    one = PSGDKron([dict(params=params, names=names, lr=3e-3)], lr=3e-3)
    two = PSGDKron([dict(params=[p], names=[n], lr=3e-3) for p, n in zip(params2, names)], lr=3e-3)
    train(one, params, loss_fn, 4)
    train(two, params2, loss_fn, 4)
    assert all(torch.equal(a, b) for a, b in zip(params, params2))


def test_resume_mid_anneal_is_exact():
    """The update counters live in state_dict: resuming between sparse preconditioner updates is bit-exact."""
    kw = dict(precond_update_prob_flat_start=0, precond_update_prob_decay=0.1)  # p: 1, 0.90, 0.82, ... 0.03
    params, loss_fn = problem()
    opt = ours(params, **kw)
    train(opt, params, loss_fn, 13)
    params2 = [torch.nn.Parameter(p.detach().clone()) for p in params]
    opt2 = ours(params2, **kw)
    opt2.load_state_dict(copy.deepcopy(opt.state_dict()))
    assert train(opt, params, loss_fn, 30) == train(opt2, params2, loss_fn, 30)
    assert all(torch.equal(a, b) for a, b in zip(params, params2))
    assert 5 < opt.state[params[0]]['precond_updates'] < 43  # it did skip updates


def factor_shapes(shape, **kw):
    p = torch.nn.Parameter(torch.randn(shape))
    opt = PSGDKron([dict(params=[p], lr=1e-3)], **kw)
    p.grad = torch.randn(shape)
    opt.step()
    return [tuple(q.shape) for q in opt.state[p]['Q']]


def test_factor_structure_flags():
    assert factor_shapes((6, 8)) == [(6, 6), (8, 8)]
    assert factor_shapes((7,)) == [(7,)]  # 1-D: below min_ndim_triangular
    assert factor_shapes((6, 8), max_size_triangular=7) == [(6, 6), (8,)]
    assert factor_shapes((6, 8), min_ndim_triangular=3) == [(6,), (8,)]
    assert factor_shapes((6, 8), memory_save_mode='one_diag') == [(6, 6), (8,)]
    assert factor_shapes((8, 8), memory_save_mode='smart_one_diag') == [(8, 8), (8, 8)]
    assert factor_shapes((6, 8), memory_save_mode='all_diag') == [(6,), (8,)]
    assert factor_shapes((2, 3, 4)) == [(6, 6), (4, 4)]  # merged like kron_torch
    assert factor_shapes((2, 3, 4), merge_dims=False) == [(2, 2), (3, 3), (4, 4)]
    assert merged_shape(()) == [1] and merged_shape((4, 3, 2)) == [12, 2]  # kron_torch's signed rule


def test_flags_change_the_result():
    base = run_with()
    for kw in (dict(momentum_into_precond_update=False), dict(precond_lr=0.3), dict(precond_init_scale=2.0),
               dict(memory_save_mode='all_diag'), dict(precond_update_prob=0.5, precond_update_prob_min=0.5)):
        assert not all(torch.equal(a, b) for a, b in zip(base, run_with(**kw))), kw


def run_with(**kw):
    params, loss_fn = problem()
    train(ours(params, **kw), params, loss_fn, 3)
    return [p.detach().clone() for p in params]


def test_balancing_keeps_the_preconditioner():
    """Balancing rescales the factors, not P = Q^T Q: with balancing every update, P m matches the default."""
    g = torch.Generator().manual_seed(0)
    p = torch.nn.Parameter(torch.randn(6, 8, dtype=torch.float64, generator=g))
    q = torch.nn.Parameter(p.detach().clone())
    a = PSGDKron([dict(params=[p], lr=1e-2)], precond_init_scale=5.0)
    b = PSGDKron([dict(params=[q], lr=1e-2)], precond_init_scale=5.0, balance_every=1)
    for _ in range(3):
        grad = torch.randn(6, 8, dtype=torch.float64, generator=g)
        p.grad, q.grad = grad, grad.clone()
        a.step()
        b.step()
    Qa, Qb = a.state[p]['Q'], b.state[q]['Q']
    assert not torch.allclose(Qa[0], Qb[0])
    m = torch.randn(6, 8, dtype=torch.float64, generator=g)
    torch.testing.assert_close(precondition(Qa, m), precondition(Qb, m), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(p, q, rtol=1e-12, atol=1e-12)


def test_grad_is_not_modified():
    params, loss_fn = problem()
    opt = ours(params, momentum_into_precond_update=False)
    loss_fn(params).backward()
    grads = [p.grad.clone() for p in params]
    opt.step()
    assert all(torch.equal(p.grad, g) for p, g in zip(params, grads))
