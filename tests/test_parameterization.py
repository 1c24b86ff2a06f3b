"""The parameterization engine against the papers: Everett et al. Table 1 (derived from Table 2), the §3.2
equivalence relation, Gupta et al. Table 2, SP equality at base width, coverage and the teaching error.

    pytest tests/test_parameterization.py
"""

import ast
import math
from fractions import Fraction as F

import pytest
import torch
from conftest import ROOT, TINY, optim_config

import optim
import parameterization as P
from model import GPT, GPTConfig

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
        assert c['vector'] == c['embedding']  # Everett App. C.2


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


@pytest.mark.parametrize('name, row', [('adamw', 'adam'), ('adopt', 'adam'), ('sophia', 'adam'),
                                       ('lamb', 'invariant'), ('muon', 'muon')])
def test_gupta_table2_rows_through_the_registry(name, row):
    """Each optimizer's declared family (optim.family_of, what train.py uses) lands on its Gupta Table 2 row under
    mup_spectral with absolute fan-in: AdamW, ADOPT, Sophia: input LR 1, hidden and readout 1/fan_in; LAMB: LR 1
    everywhere. Muon (not in Gupta's table): width-invariant hidden LR, AdamW's rule for the other roles."""
    cfg = dict(parameterization='mup_spectral', base_width=None)
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
    assert g['transformer.h.0.ln_1.weight']['lr'] == pytest.approx(n ** -0.5 * m_L ** -0.5)
    assert g['transformer.ln_f.weight']['lr'] == pytest.approx(n ** -0.5)


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
