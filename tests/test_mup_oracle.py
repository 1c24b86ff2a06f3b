"""parameterization='mup' against microsoft/mup (mup==1.0.0, the reference implementation of Yang et al. 2022,
"Tensor Programs V: Tuning Large Neural Networks via Zero-Shot Hyperparameter Transfer"), used as an external
oracle; run with `pytest tests/test_mup_oracle.py`.

The same GPT shapes are built twice at widths 64 and 256 (base 64, n = width / 64 = 4):
  ours    parameterization.build_model + param_groups (Everett et al. 2024, "Scaling Exponents Across
          Parameterizations and Optimizers": multiplier n^-a, init std n^-b, LR n^-c per role)
  theirs  model.GPT in SP with lm_head swapped for mup.MuReadout, mup.set_base_shapes(model, base, delta) and
          MuAdam / MuSGD, following mup's README (the initialisation is either PyTorch's default, which
          set_base_shapes rescales, or mup.init.normal_ after set_base_shapes: both are mup's prescription).

The two are written in different but equivalent forms. mup reads its rules off each tensor's infshape (which
dims grow with width): ninf = 2 is matrix-like (hidden), ninf = 1 vector-like (embeddings, the readout, gains and
biases). Per role, with n = width / base_width:

    quantity              microsoft/mup                                   ours (parameterization.py, 'mup')
    embedding mult        1                                               emb_mult = input_mult n^{1/2}      a = -1/2
    embedding init std    const (ninf=1: mup.init keeps std)              init_std_embedding n^{-1/2}        b = 1/2
    embedding Adam LR     lr (MuAdam: vector-like)                        lr n^{-1/2}                        c = 1/2
    embedding SGD LR      lr n (MuSGD: vector-like, x width_mult)         lr                                 c = 0
    hidden mult           1                                               hidden_mult = 1                    a = 0
    hidden init std       n^{-1/2} (ninf=2: mup.init x width_mult^-1/2;   init_std_hidden n^{-1/2}           b = 1/2
                          PyTorch's default init ~ fan_in^-1/2)
    hidden Adam LR        lr / n (matrix-like: / fan-in width_mult)       lr n^{-1}                          c = 1
    hidden SGD LR         lr (matrix-like: / (fan-in mult / fan-out mult)) lr                                c = 0
    readout mult          output_mult / n (MuReadout.forward)             logit_mult = output_mult n^{-1/2}  a = 1/2
    readout init std      const (MuReadout: SP fan-in init x n^{1/2} at   init_std_readout n^{-1/2}          b = 1/2
                          set_base_shapes; mup.init keeps std)
    readout Adam LR       lr (ninf=1: vector-like)                        lr n^{-1/2}                        c = 1/2
    readout SGD LR        lr n                                            lr                                 c = 0
    vector mult           1                                               1                                  a = 0
    vector init           gains 1, biases const                           gains 1, biases 0
    vector Adam LR        lr (vector-like)                                lr n^{-c}, c: lr_exponents' vector c
    vector SGD LR         lr n (vector-like, x width_mult)                lr n^{-c}   (equal iff Adam c = 0, SGD c = -1)
    attention scale       user-written 8 / d_head (mup's README)          attn_mult d0^{-1/2} d0 / d_head
                                                                          (d0 = the base model's head dim)

The symmetry (Everett et al. 2024 §3.2; Yang & Hu 2021 for SGD, Yang & Littwin 2023 for Adam):
(a, b, c) -> (a + theta, b - theta, c - theta) for Adam and c - 2 theta for SGD leaves the training dynamics
unchanged (eps aside), because only the *effective* weight m W (m = n^-a the multiplier) is seen by the network:
    effective init scale    m sigma                  n^{-a-b}      (unchanged: (a + theta) + (b - theta))
    effective Adam LR       m lr                     n^{-a-c}      (Adam's update ignores the gradient scale)
    effective SGD LR        m^2 lr                   n^{-2a-c}     (dL/dW = m dL/d(mW), and the step is m x that)
Ours -> theirs is theta = +1/2 on the embedding and the readout and theta = 0 on hidden and vector tensors.
So the tests compare those three effective quantities per role (their ratios 256 vs 64 must be equal) and check
that the raw multipliers differ by exactly that theta:

    role        effective init   effective Adam LR   effective SGD LR
    embedding   1                1                   n
    hidden      n^{-1/2}         n^{-1}              1
    readout     n^{-1}           n^{-1}              n^{-1}
    vector      1                1                   n

mup does not implement attention scaling; its README asks for 1/d_head logits. Ours uses 1/d_head normalised to
equal 1/sqrt(d_head) at the base head dim, so with n_head fixed the ratio is d_head(64) / d_head(256), and with
head_dim fixed it is 1.
"""

import math
from functools import lru_cache

import mup
import pytest
import torch
from conftest import TINY
from torch import nn

import parameterization as P
from model import GPT, GPTConfig

BASE, WIDTHS = 64, (64, 256)
N = WIDTHS[1] / WIDTHS[0]
CFG = dict(parameterization='mup', base_width=BASE, learning_rate=1.0)
ROLES = P.ROLES
SEEDS = range(4)  # init scales are pooled over these draws
THETA = {'embedding': 0.5, 'hidden': 0.0, 'readout': 0.5, 'vector': 0.0}  # ours -> theirs, docstring table


# -----------------------------------------------------------------------------
# the two models, and what each side says per tensor

@lru_cache(maxsize=None)
def ours(width, bias, seed=0):
    model, infos = P.build_model(CFG, dict(TINY, n_embd=width, bias=bias), seed=seed)
    lr = {fam: {n: g['lr_mult'] for g in P.param_groups(model, CFG, fam, infos) for n in g['names']}
          for fam in ('adam', 'sgd')}
    return model, {n: i.role for n, i in infos.items()}, lr


def _sp_gpt_with_mu_readout(width, bias, device):
    with torch.device(device):
        model = GPT(GPTConfig(**dict(TINY, n_embd=width, bias=bias)))
        model.lm_head = mup.MuReadout(width, TINY['vocab_size'], bias=False)
    return model


@lru_cache(maxsize=None)
def theirs(width, bias, init='torch_default', seed=0):
    """mup's README: base and delta models fix which dims are widths, then set_base_shapes, then the init."""
    base, delta = (_sp_gpt_with_mu_readout(w, bias, 'meta') for w in (BASE, 2 * BASE))
    torch.manual_seed(seed)
    model = _sp_gpt_with_mu_readout(width, bias, 'cpu')
    if init == 'torch_default':  # the SP init mup assumes: nn.Linear ~ fan_in^-1/2, nn.Embedding N(0, 1)
        for m in model.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                m.reset_parameters()
    mup.set_base_shapes(model, base, delta=delta)  # rescales MuReadout's weight by width_mult^{1/2}
    if init == 'mup.init':  # README: a fixed-std init is replaced by mup.init's
        for p in model.parameters():
            if p.ndim == 2:
                mup.init.normal_(p, std=0.02)
    lr = {}
    for fam, opt in (('adam', mup.MuAdam), ('sgd', mup.MuSGD)):
        by_id = {id(p): g['lr'] for g in opt(model.parameters(), lr=1.0).param_groups for p in g['params']}
        lr[fam] = {n: by_id[id(p)] for n, p in model.named_parameters()}
    return model, lr


def forward_mult(model, name):
    """The scalar the forward pass puts in front of this tensor: model.py's knobs, times MuReadout's 1/width."""
    c = model.config
    if name == 'lm_head.weight':
        mult = c.logit_mult
        if isinstance(model.lm_head, mup.MuReadout):
            mult *= model.lm_head.output_mult / model.lm_head.width_mult()
        return mult
    if name in ('transformer.wte.weight', 'transformer.wpe.weight'):
        return c.emb_mult
    if model.get_parameter(name).ndim == 2:
        return c.hidden_mult
    return 1.0  # gains and biases enter the forward pass as they are (hidden_mult acts on the input, not the bias)


def per_role(values_by_name, roles):
    """{role: value} when every tensor of the role agrees (to 1e-12); the list of disagreeing values otherwise."""
    out = {}
    for r in ROLES:
        vals = [v for n, v in values_by_name.items() if roles[n] == r]
        out[r] = vals[0] if vals and all(math.isclose(v, vals[0], rel_tol=1e-12) for v in vals) else vals
    return out


def table(rows):
    lines = [f"{'row':<28}" + ''.join(f'{r:>12}' for r in ROLES)]
    for label, vals in rows.items():
        lines.append(f'{label:<28}' + ''.join(f'{v:>12.4g}' if isinstance(v, float) else f'{str(v):>12}'
                                               for v in (vals[r] for r in ROLES)))
    return '\n'.join(lines)


# -----------------------------------------------------------------------------
# learning rates: exact (no sampling), per tensor

def lr_ratios(bias):
    """(ours, theirs, roles): per tensor, the width ratio (256 / 64) of the effective Adam and SGD LRs."""
    out = {'ours': {}, 'theirs': {}}
    roles = ours(WIDTHS[0], bias)[1]
    for side in out:
        for fam, power in (('adam', 1), ('sgd', 2)):  # effective LR: mult^1 x lr (Adam), mult^2 x lr (SGD)
            eff = []
            for w in WIDTHS:
                if side == 'ours':
                    model, _, lr = ours(w, bias)
                else:
                    model, lr = theirs(w, bias)
                eff.append({n: forward_mult(model, n) ** power * lr[fam][n] for n in roles})
            out[side][fam] = {n: eff[1][n] / eff[0][n] for n in roles}
    return out['ours'], out['theirs'], roles


@pytest.mark.parametrize('bias', [False, True])
@pytest.mark.parametrize('family', ['adam', 'sgd'])
@pytest.mark.parametrize('role', ROLES)
def test_effective_lr_ratio_matches_microsoft_mup(role, family, bias):
    mine, ref, roles = lr_ratios(bias)
    names = [n for n in roles if roles[n] == role]
    rows = {f'ours {fam}': per_role(mine[fam], roles) for fam in ('adam', 'sgd')}
    rows.update({f'mup {fam}': per_role(ref[fam], roles) for fam in ('adam', 'sgd')})
    bad = {n: (mine[family][n], ref[family][n]) for n in names
           if not math.isclose(mine[family][n], ref[family][n], rel_tol=1e-9)}
    assert names and not bad, (f'effective {family} LR ratio (width {WIDTHS[1]} / {WIDTHS[0]}), ours vs mup, '
                               f'differs for {bad}\n{table(rows)}')


# -----------------------------------------------------------------------------
# init: measured from the tensors, with a tolerance from the sampling noise

def init_scale(models, roles):
    """{role: (mult x RMS of the role's tensors pooled over models, relative sampling sd of that RMS)}.

    Entries of one tensor are i.i.d., so Var(sum x^2) = sum over tensors of numel x (sample variance of x^2), and
    sd(RMS) / RMS = sd(sum x^2) / (2 sum x^2). Constant tensors (gains) have no noise."""
    out = {}
    for r in ROLES:
        xs = [(p.detach().double().flatten(), forward_mult(m, n))
              for m in models for n, p in m.named_parameters() if roles[n] == r]
        s2 = sum((x ** 2).sum().item() for x, _ in xs)
        var = sum(x.numel() * (x ** 2).var(correction=0).item() for x, _ in xs)
        mult = {m for _, m in xs}
        assert len(mult) == 1, f'role {r}: tensors with different multipliers {mult}'
        out[r] = (mult.pop() * math.sqrt(s2 / sum(x.numel() for x, _ in xs)), math.sqrt(var) / (2 * s2))
    return out


@pytest.mark.parametrize('init', ['torch_default', 'mup.init'])
@pytest.mark.parametrize('role', ROLES)
def test_effective_init_scale_ratio_matches_microsoft_mup(role, init):
    """Pooled over SEEDS; the tolerance is 6 sampling sd of the ratio of ratios (both sides, both widths)."""
    roles = ours(WIDTHS[0], False)[1]
    mine = [init_scale([ours(w, False, s)[0] for s in SEEDS], roles) for w in WIDTHS]
    ref = [init_scale([theirs(w, False, init, s)[0] for s in SEEDS], roles) for w in WIDTHS]
    ratio = {side: {r: s[1][r][0] / s[0][r][0] for r in ROLES} for side, s in (('ours', mine), ('mup', ref))}
    tol = 6 * math.sqrt(sum(s[role][1] ** 2 for s in mine + ref)) + 1e-12
    assert ratio['ours'][role] == pytest.approx(ratio['mup'][role], rel=tol), \
        f'effective init scale ratio (width {WIDTHS[1]} / {WIDTHS[0]}), tolerance {tol:.3g}\n{table(ratio)}'
    # the oracle itself: mup's ratio is the symmetry's invariant n^{-a-b} (docstring table)
    expected = {'embedding': 1.0, 'hidden': N ** -0.5, 'readout': N ** -1.0, 'vector': 1.0}[role]
    assert ratio['mup'][role] == pytest.approx(expected, rel=tol)


# -----------------------------------------------------------------------------
# the raw multipliers differ by the symmetry's theta; attention

@pytest.mark.parametrize('role', ROLES)
def test_forward_multipliers_differ_by_the_abc_symmetry(role):
    """ours / theirs multiplier ratio = n^theta per role, with the docstring's theta (ours -> theirs)."""
    roles = ours(WIDTHS[0], False)[1]
    ratio = {}
    for side, build in (('ours', lambda w: ours(w, False)[0]), ('mup', lambda w: theirs(w, False)[0])):
        m = [{n: forward_mult(build(w), n) for n in roles} for w in WIDTHS]
        ratio[side] = per_role({n: m[1][n] / m[0][n] for n in roles}, roles)
    assert all(isinstance(ratio[side][role], float) for side in ratio), f'tensors of a role disagree: {ratio}'
    theta = math.log(ratio['ours'][role] / ratio['mup'][role], N)
    assert theta == pytest.approx(THETA[role], abs=1e-12), f'forward multiplier ratios\n{table(ratio)}'


def readme_attn_scale(d_head):
    return 8 / d_head  # mup's README: `query @ key.T * 8 / d`, equal to 1/sqrt(d) at d = 64


@pytest.mark.parametrize('fixed', ['n_head', 'head_dim'])
def test_attention_scale_ratio_matches_microsoft_mup(fixed):
    extra = dict(head_dim=32) if fixed == 'head_dim' else {}
    scale, d_head = [], []
    for w in WIDTHS:
        model, _ = P.build_model(CFG, dict(TINY, n_embd=w, **extra), seed=0)
        scale.append(model.transformer.h[0].attn.attn_scale)
        d_head.append(w // model.config.n_head)
    assert scale[0] == pytest.approx(1 / math.sqrt(d_head[0]))  # base width: SP's 1/sqrt(d_head)
    ref = readme_attn_scale(d_head[1]) / readme_attn_scale(d_head[0])
    assert scale[1] / scale[0] == pytest.approx(ref, rel=1e-12), (
        f'{fixed} fixed: d_head {d_head}, ours attn_scale {scale} (ratio {scale[1] / scale[0]:.4g}), '
        f'mup ratio {ref:.4g}')
