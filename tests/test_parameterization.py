"""The parameterization engine against the papers: Everett et al. Table 1 (derived from Table 2), the §3.2
equivalence relation, Gupta et al. Table 2, SP equality at base width, coverage and the teaching error.

    pytest tests/test_parameterization.py
"""

import ast
import math
from fractions import Fraction as F

import numpy as np
import pytest
import torch
from conftest import ROOT, TINY, optim_config

import optim
import parameterization as P
from model import GPT, GPTConfig

# what the optimizers' from_config reads besides the engine's keys
DEFAULT_TRAIN_CFG = dict(optim.hparam_defaults(), beta1=0.9, beta2=0.95, momentum=0.9, nesterov=False, fused=False,
                         tokens_per_iter=32)

# Everett et al. Table 1, transcribed: the exponent x of n^x for the max stable LR, and of the gradient.
# (E, H, R) = embedding, hidden, readout. 'g' is the Gradient column.
h = F(1, 2)
TABLE1 = {
    'sp':  {'g': (-h, -h, 0),      ('sgd', 'full'): (h, -h, -1),  ('adam', 'full'): (0, -1, -1),
            ('adafactor', 'full'): (0, -h, -h), ('sgd', 'none'): (h, 0, -h), ('adam', 'none'): (0, -h, -h),
            ('adafactor', 'none'): (0, 0, 0)},
    'ntk': {'g': (-h, -1, -h),     ('sgd', 'full'): (h, h, 0),    ('adam', 'full'): (0, -h, -h),
            ('adafactor', 'full'): (0, -h, -h), ('sgd', 'none'): (h, 1, h), ('adam', 'none'): (0, 0, 0),
            ('adafactor', 'none'): (0, 0, 0)},
    'mup': {'g': (-h, -1, -h),     ('sgd', 'full'): (0, 0, 0),    ('adam', 'full'): (-h, -1, -h),
            ('adafactor', 'full'): (0, -h, 0), ('sgd', 'none'): (0, h, 0), ('adam', 'none'): (-h, -h, 0),
            ('adafactor', 'none'): (0, 0, 0)},
    'mfp': {'g': (-1, -3 * h, -1), ('sgd', 'full'): (1, 1, 1),    ('adam', 'full'): (0, -h, 0),
            ('adafactor', 'full'): (0, -h, 0), ('sgd', 'none'): (1, 3 * h, 1), ('adam', 'none'): (0, 0, h),
            ('adafactor', 'none'): (0, 0, 0)},
}
# Table 1, left: init variance n^v and multiplier n^m
TABLE1_INIT = {'sp': ((0, 0), (-1, 0), (-1, 0)), 'ntk': ((0, 0), (0, -h), (0, -h)),
               'mup': ((-1, h), (-1, 0), (-1, -h)), 'mfp': ((0, 0), (0, -h), (0, -1))}
ROLES3 = ('embedding', 'hidden', 'readout')


@pytest.mark.parametrize('name', list(TABLE1))
def test_abc_match_everett_table1_init_and_multiplier_columns(name):
    for role, (var, mult) in zip(ROLES3, TABLE1_INIT[name]):
        a, b = P.ABC[name][role]
        assert (-2 * b, -a) == (var, mult), (name, role)


@pytest.mark.parametrize('name', list(TABLE1))
def test_derived_lr_and_gradient_exponents_reproduce_everett_table1(name):
    g = P.grad_exponents(P.ABC[name])
    assert tuple(-g[r] for r in ROLES3) == TABLE1[name]['g']
    for (family, alignment), expected in ((k, v) for k, v in TABLE1[name].items() if k != 'g'):
        c = P.lr_exponents(P.ABC[name], family, alignment)
        assert tuple(-c[r] for r in ROLES3) == expected, (name, family, alignment)
        # gains: no multiplier, O(1) init; their gradient comes back through the readout only (a_out + b_out)
        a_out, b_out = P.ABC[name]['readout']
        assert g['vector'] == a_out + b_out
        assert c['vector'] == {'sgd': -(a_out + b_out), 'adam': 0.0, 'adafactor': 0.0}[family]
        if P.ABC[name]['embedding'][0] == 0:  # Everett App. C.2 groups gains with the embedding: same exponents
            assert c['vector'] == c['embedding'] and g['vector'] == g['embedding']


@pytest.mark.parametrize('family,shift', [('sgd', -2), ('adam', -1), ('adafactor', 0)])
@pytest.mark.parametrize('alignment', ['full', 'none'])
def test_equivalence_relation_of_section_3_2(family, shift, alignment):
    """(a + theta, b - theta) in one layer  =>  c shifts by -2 theta (SGD), -theta (Adam), 0 (Adafactor) in that
    layer and nowhere else; and NTK / MFP are SP / muP shifted by theta = 1/2 in hidden and readout."""
    for name in TABLE1:
        base = P.lr_exponents(P.ABC[name], family, alignment)
        for role in ROLES3:
            for theta in (-0.5, 0.25, 0.5):
                abc = dict(P.ABC[name])
                abc[role] = (abc[role][0] + theta, abc[role][1] - theta)
                c = P.lr_exponents(abc, family, alignment)
                for r in ROLES3:
                    assert c[r] == base[r] + (shift * theta if r == role else 0), (name, role, theta, r)
    for lo, hi in (('sp', 'ntk'), ('mup', 'mfp')):
        c_lo, c_hi = (P.lr_exponents(P.ABC[p], family, alignment) for p in (lo, hi))
        theta_by_role = {r: P.ABC[hi][r][0] - P.ABC[lo][r][0] for r in ROLES3}
        for r in ROLES3:
            assert c_hi[r] == c_lo[r] + shift * theta_by_role[r]


def groups_at(width, cfg, family, n_layer=2):
    cfg = {'learning_rate': 1.0, **cfg}
    model, infos = P.build_model(cfg, dict(TINY, n_embd=width, n_layer=n_layer), seed=0)
    groups = P.param_groups(model, cfg, family, infos)
    by_name = {n: g for g in groups for n in g['names']}
    return model, groups, by_name


def test_mup_spectral_adam_gives_gupta_table2():
    """Gupta et al. Table 2 (absolute fan-in, base width 1): AdamW / ADOPT / Sophia LR 1 for input weights and
    1/fan_in for hidden and output weights; init std 1/sqrt(fan_in) hidden, 1/fan_in output; LAMB LR 1."""
    cfg = dict(parameterization='mup_spectral', base_width=None, init_std_embedding=1.0, init_std_hidden=1.0,
               init_std_readout=1.0)
    for width in (64, 128, 256):
        model, _, g = groups_at(width, cfg, 'adam')
        assert g['transformer.wte.weight']['lr'] == 1.0
        assert g['transformer.h.0.attn.c_attn.weight']['lr'] == pytest.approx(1 / width)
        assert g['transformer.h.0.mlp.c_proj.weight']['lr'] == pytest.approx(1 / (4 * width))  # fan_in 4d
        assert g['lm_head.weight']['lr'] == pytest.approx(1 / width)
        w_h, w_out = model.transformer.h[0].mlp.c_fc.weight, model.lm_head.weight
        assert w_h.std().item() == pytest.approx(1 / math.sqrt(width), rel=0.05)
        assert w_out.std().item() == pytest.approx(1 / width, rel=0.05)
        assert model.config.logit_mult == 1.0 and model.config.emb_mult == 1.0
        _, groups, _ = groups_at(width, cfg, 'invariant')  # LAMB row
        assert all(gr['lr'] == 1.0 for gr in groups)
    for name in ('adam', 'adamw'):  # the adam-family optimizers of the registry land on that row
        assert optim.get_optimizer_class(name).family == 'adam'


@pytest.mark.parametrize('name, row, forced', [('adamw', 'adam', ''), ('adopt', 'adam', ''), ('sophia', 'adam', ''),
                                               ('lamb', 'invariant', 'invariant'), ('muon', 'muon', '')])
def test_gupta_table2_rows_through_the_registry(name, row, forced):
    """Each optimizer's declared family (optim.family_of, what train.py uses) lands on its Gupta Table 2 row under
    mup_spectral with absolute fan-in: AdamW, ADOPT, Sophia: input LR 1, hidden and readout 1/fan_in; LAMB: LR 1
    everywhere, which is optimizer_family='invariant' (LAMB's own default is the width-stable adafactor rule,
    test_lamb_default_is_the_adafactor_rule). Muon (not in Gupta's table): width-invariant hidden LR, AdamW's rule
    for the other roles."""
    cfg = dict(parameterization='mup_spectral', base_width=None, optimizer_family=forced)
    family = optim.family_of(name, cfg)
    for width in (64, 256):
        _, groups, g = groups_at(width, cfg, family)
        lr = {k: g[k]['lr'] for k in ('transformer.wte.weight', 'transformer.h.0.attn.c_attn.weight',
                                      'transformer.h.0.mlp.c_proj.weight', 'lm_head.weight', 'transformer.ln_f.weight')}
        hidden = 1.0 if row in ('invariant', 'muon') else 1 / width
        assert lr['transformer.wte.weight'] == 1.0 and lr['transformer.ln_f.weight'] == 1.0
        assert lr['transformer.h.0.attn.c_attn.weight'] == pytest.approx(hidden)
        assert lr['transformer.h.0.mlp.c_proj.weight'] == pytest.approx(hidden / (1 if hidden == 1.0 else 4))
        assert lr['lm_head.weight'] == pytest.approx(1.0 if row == 'invariant' else 1 / width)
    # optimizer_family overrides every role (compare theories, e.g. LAMB as adafactor)
    assert set(optim.family_of(name, dict(cfg, optimizer_family='adafactor')).values()) == {'adafactor'}


def test_lamb_default_is_the_adafactor_rule():
    """LAMB's update is lr x ||W||_F in size: the adafactor family, hidden LR ~ fan_in^-1/2 under mup_spectral
    with absolute fan-in (Gupta's c = 0 lets the hidden update's spectral size grow like sqrt(n))."""
    cfg = dict(parameterization='mup_spectral', base_width=None)
    assert set(optim.family_of('lamb', cfg).values()) == {'adafactor'}
    for width in (64, 256):
        _, _, g = groups_at(width, cfg, optim.family_of('lamb', cfg))
        assert g['transformer.h.0.attn.c_attn.weight']['lr'] == pytest.approx(width ** -0.5)
        assert g['lm_head.weight']['lr'] == 1.0 and g['transformer.wte.weight']['lr'] == 1.0


BASE_RELATIVE = [p for p in P.ABC if p != 'nanogpt']


SP_EQUAL_CASES = [(p, o) for p in BASE_RELATIVE for o in ('adamw', 'sgd')] + \
    [('mup', o) for o in optim.REGISTRY if o not in ('adamw', 'sgd')]


@pytest.mark.parametrize('name, opt', SP_EQUAL_CASES)
def test_bitwise_sp_at_base_width(name, opt):
    """At width == base_width every multiplier is exactly 1: same init, loss and first update as sp."""
    cfg = dict(base_width=64, learning_rate=1e-2, eps_scaling='per_layer', weight_decay=0.1)
    family = optim.family_of(opt, cfg)
    results = []
    for p in ('sp', name):
        c = dict(cfg, parameterization=p)
        model, infos = P.build_model(c, dict(TINY), seed=0)
        init = {k: v.clone() for k, v in model.state_dict().items()}
        opt_obj = optim.build_optimizer(opt, P.param_groups(model, c, family, infos),
                                        optim_config(**c, tokens_per_iter=64))
        idx = torch.randint(0, 65, (4, 16), generator=torch.Generator().manual_seed(1))
        _, loss = model(idx, idx)
        loss.backward()
        opt_obj.step()
        results.append((init, loss.detach(), model.state_dict()))
    (i0, l0, s0), (i1, l1, s1) = results
    assert all(torch.equal(i0[k], i1[k]) for k in i0)
    assert torch.equal(l0, l1)
    assert all(torch.equal(s0[k], s1[k]) for k in s0)


def test_every_parameter_in_exactly_one_group_and_describe():
    for name in P.ABC:
        model, groups, _ = groups_at(128, dict(parameterization=name), 'adam')
        ids = [id(p) for g in groups for p in g['params']]
        assert len(ids) == len(set(ids)) == len(list(model.parameters()))
        assert sorted(n for g in groups for n in g['names']) == sorted(n for n, _ in model.named_parameters())
        for g in groups:
            assert g['lr'] == g['initial_lr'] and {'role', 'lr_mult', 'eps', 'weight_decay'} <= set(g)
    table = P.describe(groups)
    assert table.count('\n') == len(groups) and 'readout' in table


def test_unknown_parameter_fails_with_the_teaching_message():
    class GatedGPT(GPT):
        def __init__(self, config):
            super().__init__(config)
            self.gate = torch.nn.Parameter(torch.zeros(3, 5))  # neither Linear nor Embedding, fixed shape

    model = GatedGPT(GPTConfig(**TINY))
    with pytest.raises(ValueError, match="no role for parameter 'gate'.*ROLE_OVERRIDES"):
        P.param_info(model, {})
    P.ROLE_OVERRIDES['gate'] = 'vector'
    try:
        assert P.param_info(model, {})['gate'].role == 'vector'
    finally:
        del P.ROLE_OVERRIDES['gate']


def test_roles_from_shapes():
    infos = P.param_info(GPT(GPTConfig(**{**TINY, "bias": True})), {})
    roles = {n: i.role for n, i in infos.items()}
    assert roles['transformer.wte.weight'] == roles['transformer.wpe.weight'] == 'embedding'
    assert roles['lm_head.weight'] == 'readout'
    assert roles['transformer.h.1.mlp.c_proj.weight'] == roles['transformer.h.0.attn.c_proj.weight'] == 'hidden'
    assert roles['transformer.h.0.attn.c_attn.bias'] == roles['transformer.ln_f.weight'] == 'vector'
    assert infos['transformer.h.0.mlp.c_proj.weight'].n == 64 / 256  # fan_in 4d relative to base 4*256


def test_multipliers_attention_depth_eps_and_wd():
    cfg = dict(parameterization='mup', base_width=64, eps_scaling='per_layer', weight_decay=0.1,
               wd_mode='independent', depth_alpha=1, base_depth=2)
    model, groups, g = groups_at(256, cfg, 'adam', n_layer=8)
    n, m_L = 4.0, 4.0
    assert model.config.emb_mult == pytest.approx(n ** 0.5) and model.config.logit_mult == pytest.approx(n ** -0.5)
    # 1/d_head: head dim 128 vs base 32 -> 1/sqrt(32) * 32/128
    assert model.config.attn_scale == pytest.approx(1 / math.sqrt(32) / 4)
    assert model.config.branch_mult == pytest.approx(1 / m_L)
    hid, emb, out = g['transformer.h.0.attn.c_attn.weight'], g['transformer.wte.weight'], g['lm_head.weight']
    assert hid['lr'] == pytest.approx(1 / n)  # CompleteP alpha = 1: depth LR factor m_L^0
    assert emb['lr'] == pytest.approx(n ** -0.5) and out['lr'] == pytest.approx(n ** -0.5)
    assert hid['eps'] == pytest.approx(1e-8 / n / m_L) and emb['eps'] == pytest.approx(1e-8 * n ** -0.5)
    for gr in groups:  # independent wd: lr * wd is the base lr * wd for every decayed group
        assert gr['lr'] * gr['weight_decay'] == pytest.approx(0.1 if gr['role'] != 'vector' else 0.0)
    _, _, g = groups_at(256, dict(cfg, depth_alpha=0.5), 'adam', n_layer=8)
    assert g['transformer.h.0.attn.c_attn.weight']['lr'] == pytest.approx(1 / n * m_L ** -0.5)
    assert g['transformer.h.0.ln_1.weight']['lr'] == pytest.approx(m_L ** -0.5)  # Adam gains: Theta(1) in width
    assert g['transformer.ln_f.weight']['lr'] == 1.0


def test_global_lr_scaling_and_overrides():
    cfg = dict(parameterization='mup', base_width=64, lr_scaling='global', lr_mult_readout=2.0)
    _, groups, g = groups_at(256, cfg, 'adam')
    assert {gr['role']: gr['lr'] for gr in groups} == {'embedding': 1.0, 'vector': 1.0, 'hidden': 1.0,
                                                         'readout': 2.0}
    _, _, g = groups_at(256, dict(cfg, lr_scaling='per_layer', lr_exponent_overrides={'hidden': 0.5}), 'adam')
    assert g['transformer.h.0.mlp.c_fc.weight']['lr'] == pytest.approx(0.5)


def test_nanogpt_init_and_one_lr():
    model, groups, _ = groups_at(512, dict(parameterization='nanogpt'), 'adam', n_layer=8)
    assert model.transformer.h[0].mlp.c_fc.weight.std().item() == pytest.approx(0.02, rel=0.02)
    assert model.transformer.h[0].mlp.c_proj.weight.std().item() == pytest.approx(0.02 / 4, rel=0.02)
    assert all(gr['lr'] == 1.0 for gr in groups)


def test_bad_options_raise_one_line_errors():
    for cfg, msg in [({'parameterization': 'mupp'}, "unknown parameterization 'mupp'"),
                     ({'alignment': 'half'}, 'unknown alignment'),
                     ({'lr_exponent_overrides': {'hiden': 1}}, 'unknown roles'),
                     ({'depth_alpha': 0.3}, 'depth_alpha')]:
        with pytest.raises(ValueError, match=msg):
            P.check(cfg)
    with pytest.raises(ValueError, match='not divisible by n_head'):
        P.param_info(GPT(GPTConfig(**TINY)), {'base_width': 33})


def test_train_py_defaults_agree_with_engine_defaults():
    tree = ast.parse((ROOT / 'train.py').read_text())
    values = {t.id: node.value for node in tree.body if isinstance(node, ast.Assign) for t in node.targets
              if isinstance(t, ast.Name)}
    for key, default in P.DEFAULTS.items():
        assert key in values, f"train.py has no default for engine key {key}"
        assert ast.literal_eval(values[key]) == default, key


# -----------------------------------------------------------------------------
# behaviour across widths: what the built models and optimizers do, not only the formulas

def test_zero_init_options_live_in_init_params():
    cfg = dict(parameterization='mup', base_width=64, zero_init_readout=True, zero_init_query=True)
    model, _ = P.build_model(cfg, dict(TINY), seed=0)
    assert model.lm_head.weight.abs().sum() == 0
    w = model.transformer.h[0].attn.c_attn.weight
    assert w[:64].abs().sum() == 0 and w[64:].abs().sum() > 0  # only the query rows
    plain, _ = P.build_model(dict(cfg, zero_init_readout=False, zero_init_query=False), dict(TINY), seed=0)
    w0 = plain.transformer.h[0].attn.c_attn.weight
    assert torch.equal(w[64:], w0[64:])  # the other tensors' draws do not move
    assert torch.equal(model.transformer.h[1].mlp.c_fc.weight, plain.transformer.h[1].mlp.c_fc.weight)
    assert not hasattr(GPTConfig(), 'zero_init_readout')  # model.py knows nothing of init policies


@pytest.mark.parametrize('head_dim, n_head', [(64, 4), (0, 4)])
def test_mup_attention_scale_follows_the_base_model_head_rule(head_dim, n_head):
    """1/d_head normalised at the *base* model's head dim: with head_dim fixed the scale is a constant
    (config/mup_adamw.py: head_dim 64, base_width 128); with n_head fixed scale * d_head is constant."""
    cfg = dict(parameterization='mup', base_width=128)
    products = []
    for width in (128, 256, 512, 1024, 2048):
        c = GPTConfig(n_embd=width, n_head=n_head, head_dim=head_dim, vocab_size=65, block_size=16)
        scale, d_head = P.forward_mults(cfg, c)['attn_scale'], width // c.n_head
        products.append(scale * d_head)
        if head_dim:
            assert scale == 1 / math.sqrt(64)  # constant, and SP's value
    base_hd = head_dim or 128 // n_head
    assert products == pytest.approx([math.sqrt(base_hd)] * 5)


def attention_logits(model, idx):
    """attention_scale * q.k^T of every block on idx: (n_layer, B, nh, T, T), the logits the softmax sees,
    recomputed from the q, k that c_attn produces (SDPA does not expose them)."""
    out = []
    hooks = [b.attn.c_attn.register_forward_hook(lambda m, i, o: out.append(o)) for b in model.transformer.h]
    with torch.no_grad():
        model(idx, idx)
    for h in hooks:
        h.remove()
    c, logits = model.config, []
    for qkv in out:
        q, k, _ = qkv.split(c.n_embd, dim=2)
        q = q.view(*q.shape[:2], c.n_head, -1).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(*k.shape[:2], c.n_head, -1).transpose(1, 2)
        logits.append((q @ k.transpose(-2, -1)) * c.attn_scale)  # (B, nh, T, T)
    return torch.stack(logits)


def attention_logit_change(cfg, width, head_dim, idx, steps=3):
    """RMS change of the attention logits on idx after `steps` AdamW steps on idx."""
    model, infos = P.build_model(cfg, dict(TINY, n_embd=width, head_dim=head_dim), seed=0)
    before = attention_logits(model, idx)
    opt = torch.optim.AdamW(P.param_groups(model, cfg, 'adam', infos), betas=(0.9, 0.95))
    for _ in range(steps):
        _, loss = model(idx, idx)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return (attention_logits(model, idx) - before).pow(2).mean().sqrt().item()


CFG_MUP_ADAMW = dict(parameterization='mup', base_width=128, learning_rate=3e-3)  # config/mup_adamw.py's rules


@pytest.mark.parametrize('head_dim', [64, 32])
def test_mup_adamw_config_attention_logits_flat_in_width(head_dim):
    """config/mup_adamw.py's rules (base width 128, head_dim fixed: 64 as in the config, or 32) at widths
    128..1024: the change of the attention logits after 3 Adam steps does not drift with width (slope of log RMS
    change vs log width; it was about -0.5 when the base head dim was computed from the current head count)."""
    widths, idx = (128, 256, 512, 1024), torch.randint(0, 65, (1, 16), generator=torch.Generator().manual_seed(0))
    change = [attention_logit_change(CFG_MUP_ADAMW, w, head_dim, idx) for w in widths]
    slope = float(np.polyfit(np.log(widths), np.log(change), 1)[0])
    assert abs(slope) < 0.15, (slope, change)


def train_losses(cfg, opt_name, width, steps=8):
    """Losses of `steps` steps on one fixed batch at this width (base width 64), same seed."""
    cfg = dict(base_width=64, weight_decay=0.0, **cfg)
    model, infos = P.build_model(cfg, dict(TINY, n_embd=width), seed=0)
    groups = P.param_groups(model, cfg, optim.family_of(opt_name, cfg), infos)
    full = dict(DEFAULT_TRAIN_CFG, **cfg, optimizer=opt_name)
    opt = optim.build_optimizer(opt_name, groups, full)
    idx = torch.randint(0, 65, (2, 16), generator=torch.Generator().manual_seed(1))
    losses = []
    for _ in range(steps):
        _, loss = model(idx, idx)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize('opt_name, lr, eps_scaling', [('adamw', 1e-2, 'per_layer'), ('adamw', 1e-2, 'constant'),
                                                       ('sgd', 0.1, 'constant'), ('muon', 0.02, 'per_layer')])
@pytest.mark.parametrize('width', [64, 128, 256])
def test_equivalent_parameterizations_train_identically(opt_name, lr, eps_scaling, width):
    """Everett §3.2: (a + theta, b - theta, c shifted by the family's rule) is the same model. NTK is SP and MFP is
    muP under that symmetry (theta = 1/2 on hidden and readout; mup's embedding shift too), so their losses agree
    to float tolerance at every width. Before gains had their own (a, b), mup and mfp differed by 0.049 in loss
    after 8 AdamW steps at 4x the base width; Muon's hidden updates were sqrt(n) too small under ntk / mfp."""
    cfg = dict(learning_rate=lr, eps_scaling=eps_scaling)
    for lo, hi in (('sp', 'ntk'), ('mup', 'mfp')):
        a = train_losses(dict(cfg, parameterization=lo), opt_name, width)
        b = train_losses(dict(cfg, parameterization=hi), opt_name, width)
        assert a[-1] < a[0] - 0.05  # it trains
        # constant eps breaks the symmetry by eps / |g| ~ 1e-6 relative; per-layer eps keeps it exact
        assert b == pytest.approx(a, rel=1e-4 if eps_scaling == 'constant' else 2e-5, abs=0), (lo, hi)


def test_vector_role_exponents_under_mup():
    """LayerNorm gains under mup: Adam LR Theta(1), SGD LR ~ n, eps ~ n^-1 (gain-gradient exponent 1)."""
    cfg = dict(parameterization='mup', base_width=64, eps_scaling='per_layer')
    for width in (64, 256):
        n = width / 64
        _, _, g = groups_at(width, cfg, 'adam')
        assert g['transformer.h.0.ln_1.weight']['lr'] == 1.0
        assert g['transformer.h.0.ln_1.weight']['eps'] == pytest.approx(1e-8 / n)
        _, _, g = groups_at(width, cfg, 'sgd')
        assert g['transformer.ln_f.weight']['lr'] == pytest.approx(n)


@pytest.mark.parametrize('name', ['sp', 'ntk', 'mup', 'mfp', 'mup_spectral'])
def test_invariant_family_compensates_the_multiplier(name):
    """An invariant optimizer fixes the size of the stored tensor's update, so the effective update
    n^-a * lr * n^-c is width-independent exactly when c = -a."""
    c = P.lr_exponents(P.ABC[name], 'invariant')
    for role in ROLES3:
        assert c[role] == -P.ABC[name][role][0]
    cfg = dict(parameterization=name, base_width=64)
    for width in (64, 256):
        model, _, g = groups_at(width, cfg, 'invariant')
        eff = g['transformer.h.0.mlp.c_fc.weight']['lr'] * model.config.hidden_mult
        assert eff == pytest.approx(1.0)


@pytest.mark.parametrize('family, alpha, e', [('adam', 0.5, -0.5), ('adam', 1, 0.0), ('sgd', 0.5, 0.0),
                                              ('sgd', 1, 1.0), ('adafactor', 0.5, -0.5), ('invariant', 1, 0.0),
                                              ('sgd', 0, 0.0), ('adam', 0, 0.0)])
def test_depth_exponent_per_family(family, alpha, e):
    """Each block moves the residual stream by Theta(1/L): L^-alpha (branch) x update size x L^e = L^-1, where
    SGD's update carries the branch multiplier once more through its gradient."""
    assert P.depth_exponent(family, alpha) == e
    cfg = dict(parameterization='mup', base_width=64, base_depth=2, depth_alpha=alpha)
    _, _, g = groups_at(64, cfg, family, n_layer=8)
    assert g['transformer.h.3.mlp.c_fc.weight']['lr'] == pytest.approx(4.0 ** e)
    assert g['transformer.h.3.ln_2.weight']['lr'] == pytest.approx(4.0 ** e)
    assert g['lm_head.weight']['lr'] == pytest.approx(1.0)  # outside the blocks: no depth factor


def test_depth_exponent_per_role_family():
    """Muon: hidden matrices invariant, the rest AdamW; SGD-style depth factors never leak into Adam roles."""
    cfg = dict(parameterization='mup', base_width=64, base_depth=2, depth_alpha=0.5)
    fam = {'embedding': 'adam', 'hidden': 'sgd', 'readout': 'adam', 'vector': 'adam'}
    _, _, g = groups_at(64, cfg, fam, n_layer=8)
    assert g['transformer.h.0.attn.c_proj.weight']['lr'] == pytest.approx(1.0)  # sgd: 2 * 0.5 - 1 = 0
    assert g['transformer.h.0.ln_1.weight']['lr'] == pytest.approx(0.5)       # adam: 4^-0.5
