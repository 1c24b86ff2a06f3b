"""Transfer beyond width and depth: the weight-decay timescale, the batch-size and horizon LR rules and tied
embeddings under muP, as parameterization.param_groups / forward_mults apply them.

    pytest tests/test_transfer_rules.py
"""

import math

import mup
import pytest
import torch
from conftest import TINY, run_script

import parameterization as P
from model import GPT, GPTConfig

RUN = dict(batch_size=8, block_size=16, gradient_accumulation_steps=2, max_iters=100, beta2=0.95)  # 256 tok/iter


def groups_by_name(cfg, width=64, family='adam', **model):
    cfg = {'learning_rate': 1e-2, 'base_width': 64, **RUN, **cfg}
    net, infos = P.build_model(cfg, dict(TINY, n_embd=width, **model), seed=0)
    groups = P.param_groups(net, cfg, family, infos)
    return net, groups, {n: g for g in groups for n in g['names']}


def test_rules_are_off_by_default():
    _, groups, _ = groups_by_name({})
    assert all(g['rule_mult'] == 1.0 and g['lr'] == 1e-2 * g['lr_mult'] for g in groups)
    assert 'rule_mult' not in P.describe(groups)
    assert P.optimizer_overrides(RUN) == {}


@pytest.mark.parametrize('unit, tau', [('iters', 500.0), ('tokens', 500.0 * 256)])
def test_wd_timescale_per_group(unit, tau):
    """wd = 1 / (lr tau): every decayed group's EMA timescale is tau iterations (tau / 256 tokens per iteration in
    token units); gains keep wd 0; under muP Adam the hidden wd grows like n (its LR falls like 1 / n)."""
    cfg = dict(parameterization='mup', wd_mode='timescale', wd_timescale=tau, wd_timescale_unit=unit)
    for width in (64, 256):
        _, groups, g = groups_by_name(cfg, width)
        for gr in groups:
            if gr['role'] == 'vector':
                assert gr['weight_decay'] == 0.0
            else:
                assert 1.0 / (gr['lr'] * gr['weight_decay']) == pytest.approx(500.0)
        if width == 256:
            assert g['transformer.h.0.mlp.c_fc.weight']['weight_decay'] == pytest.approx(4 / (1e-2 * 500))


def test_batch_rule_per_family_and_beta2():
    """B = 256 tokens per iteration against B0 = 64: Adam-like LR x 4^(1/2), SGD x 4 (Malladi et al. 2022), an
    explicit exponent for every role, and beta2^(B/B0) keeps the second moment's token half-life."""
    cfg = dict(parameterization='mup', base_batch_tokens=64)
    _, _, plain = groups_by_name({'parameterization': 'mup'})
    for family, factor in (('adam', 2.0), ('sgd', 4.0), ('invariant', 2.0)):
        _, _, ref = groups_by_name({'parameterization': 'mup'}, family=family)
        _, groups, g = groups_by_name(cfg, family=family)
        for name in ('transformer.wte.weight', 'transformer.h.1.attn.c_attn.weight', 'lm_head.weight'):
            assert g[name]['lr'] == pytest.approx(ref[name]['lr'] * factor)
            assert g[name]['rule_mult'] == pytest.approx(factor)
    _, _, g = groups_by_name(dict(cfg, batch_lr_exponent=0.25))
    assert g['lm_head.weight']['lr'] == pytest.approx(plain['lm_head.weight']['lr'] * 4 ** 0.25)
    assert 'rule_mult' in P.describe(list({id(v): v for v in g.values()}.values()))
    over = P.optimizer_overrides(dict(RUN, base_batch_tokens=64, batch_beta2=True))
    assert over == {'beta2': pytest.approx(0.95 ** 4)}
    half_life_tokens = lambda b2, tokens: math.log(0.5) / math.log(b2) * tokens
    assert half_life_tokens(over['beta2'], 256) == pytest.approx(half_life_tokens(0.95, 64))


def test_horizon_rule():
    """T = 100 iterations x 256 tokens against T0 = 6400 tokens: LR x 4^-0.32 (and a chosen exponent)."""
    _, _, plain = groups_by_name({'parameterization': 'mup'})
    _, _, g = groups_by_name(dict(parameterization='mup', base_train_tokens=6400))
    assert g['transformer.h.0.mlp.c_proj.weight']['lr'] == pytest.approx(
        plain['transformer.h.0.mlp.c_proj.weight']['lr'] * 4 ** -0.32)
    _, _, g = groups_by_name(dict(parameterization='mup', base_train_tokens=6400, horizon_lr_exponent=0.5))
    assert g['lm_head.weight']['rule_mult'] == pytest.approx(0.5)


def test_rule_errors_are_one_line():
    for cfg, msg in [(dict(wd_mode='timescale'), 'wd_timescale > 0'),
                     (dict(wd_mode='decay'), 'unknown wd_mode'),
                     (dict(batch_beta2=True), 'set base_batch_tokens'),
                     (dict(base_batch_tokens=0), 'base_batch_tokens=0'),
                     (dict(wd_timescale_unit='epochs'), 'unknown wd_timescale_unit')]:
        with pytest.raises(ValueError, match=msg):
            P.check(cfg)
    with pytest.raises(ValueError, match='need batch_size'):
        P.scale_rules(dict(base_batch_tokens=64), {r: 'adam' for r in P.ROLES})


def test_train_py_records_rules(tmp_path, char_data):
    r = run_script(['train.py', 'config/debug_cpu.py', '--max_iters=2', '--eval_interval=2', '--eval_iters=1',
                    '--base_batch_tokens=64', '--batch_beta2=True', '--wd_mode=timescale', '--wd_timescale=1000.0',
                    '--optimizer=adamw', f'--out_dir={tmp_path}', '--run_name=rules'])
    assert r.returncode == 0, r.stderr
    table = (tmp_path / 'rules' / 'groups.txt').read_text()
    assert 'rule_mult' in table and ' 2 ' in table.splitlines()[1]  # 8 x 32 = 256 tokens vs 64: sqrt(4) = 2
    cfg = __import__('json').loads((tmp_path / 'rules' / 'config.json').read_text())
    assert cfg['base_batch_tokens'] == 64 and cfg['wd_mode'] == 'timescale'


# -----------------------------------------------------------------------------
# tied embeddings under muP, against microsoft/mup's MuSharedReadout

def tied_ours(width):
    cfg = dict(parameterization='mup', base_width=64, learning_rate=1.0, **RUN)
    stds = []
    for seed in range(4):
        net, infos = P.build_model(cfg, dict(TINY, n_embd=width, tie_embeddings=True), seed=seed)
        stds.append(net.transformer.wte.weight.std().item())
    assert net.transformer.wte.weight is net.lm_head.weight
    g = {n: gr for gr in P.param_groups(net, cfg, 'adam', infos) for n in gr['names']}
    gs = {n: gr for gr in P.param_groups(net, cfg, 'sgd', infos) for n in gr['names']}
    w = 'transformer.wte.weight'
    c = net.config
    return dict(emb_init=c.emb_mult * sum(stds) / 4, out_init=c.logit_mult * sum(stds) / 4,
                emb_adam=c.emb_mult * g[w]['lr'], out_adam=c.logit_mult * g[w]['lr'],
                emb_sgd=c.emb_mult ** 2 * gs[w]['lr'], out_sgd=c.logit_mult ** 2 * gs[w]['lr'])


class MupTied(torch.nn.Module):
    """Embedding -> LayerNorm -> hidden Linear -> MuSharedReadout on the embedding's matrix (bias off: mup 1.0.0's
    MuSharedReadout sizes a bias by the width, not the vocabulary)."""

    def __init__(self, width):
        super().__init__()
        self.wte = torch.nn.Embedding(65, width)
        self.fc = torch.nn.Linear(width, width, bias=False)
        self.readout = mup.MuSharedReadout(self.wte.weight, bias=False)


def tied_theirs(width):
    stds, model = [], None
    for seed in range(4):
        torch.manual_seed(seed)
        model = MupTied(width)
        mup.set_base_shapes(model, MupTied(64), delta=MupTied(128))
        mup.init.normal_(model.wte.weight, std=0.02)  # mup's init: vector-like, std kept
        stds.append(model.wte.weight.std().item())
    mult = 1.0 / model.readout.width_mult()  # output_mult = 1
    lr = {id(p): gr['lr'] for gr in mup.MuAdam(model.parameters(), lr=1.0).param_groups for p in gr['params']}
    lrs = {id(p): gr['lr'] for gr in mup.MuSGD(model.parameters(), lr=1.0).param_groups for p in gr['params']}
    w = model.wte.weight
    return dict(emb_init=sum(stds) / 4, out_init=mult * sum(stds) / 4, emb_adam=lr[id(w)], out_adam=mult * lr[id(w)],
                emb_sgd=lrs[id(w)], out_sgd=mult ** 2 * lrs[id(w)])


def test_tied_mup_matches_mushared_readout():
    """Width ratios 256 / 64 of the effective init, Adam and SGD LRs of the shared matrix seen as the embedding
    (multiplier x matrix) and as the readout, ours (Everett form) vs microsoft/mup's MuSharedReadout: equal."""
    ours = {k: tied_ours(256)[k] / v for k, v in tied_ours(64).items()}
    theirs = {k: tied_theirs(256)[k] / v for k, v in tied_theirs(64).items()}
    for k in ours:
        assert ours[k] == pytest.approx(theirs[k], rel=0.06 if 'init' in k else 1e-9), k
    assert ours['out_adam'] == pytest.approx(0.25) and ours['emb_adam'] == pytest.approx(1.0)


def test_tied_rules_and_refusals():
    cfg = dict(parameterization='mup', base_width=64, **RUN)
    net, _ = P.build_model(cfg, dict(TINY, n_embd=256, tie_embeddings=True), seed=0)
    assert net.config.logit_mult == pytest.approx(0.5) and net.config.emb_mult == pytest.approx(2.0)
    net, _ = P.build_model(dict(cfg, parameterization='mup_spectral'), dict(TINY, n_embd=256, tie_embeddings=True))
    assert net.config.logit_mult == pytest.approx(0.25)  # readout (0, 1) on the embedding's (0, 0) matrix
    for bad, msg in ((dict(parameterization='sp'), "under 'sp'"), (dict(zero_init_readout=True), 'zero the embedding')):
        with pytest.raises(ValueError, match=msg):
            groups_by_name({**cfg, **bad}, tie_embeddings=True)
