"""model.py: shapes, causality, parameter names, knobs, FLOPs; run with `pytest tests/test_model.py`."""

import math

import pytest
import torch
from conftest import TINY

from model import GPT, GPTConfig


def test_output_shapes_and_loss_at_init():
    model = GPT(GPTConfig(**TINY))
    idx = torch.randint(0, 65, (3, 16))
    logits, loss = model(idx, idx)
    assert logits.shape == (3, 16, 65)
    assert abs(loss.item() - math.log(65)) < 0.1  # 0.02-std init: near-uniform predictions
    logits, loss = model(idx)
    assert logits.shape == (3, 1, 65) and loss is None


def test_causality_future_tokens_do_not_change_past_logits():
    model = GPT(GPTConfig(**TINY)).eval()
    idx = torch.randint(0, 65, (2, 16))
    idx2 = idx.clone()
    idx2[:, 10:] = (idx2[:, 10:] + 7) % 65
    l1, _ = model(idx, idx)
    l2, _ = model(idx2, idx2)
    assert torch.equal(l1[:, :10], l2[:, :10])
    assert not torch.allclose(l1[:, 10:], l2[:, 10:])


def test_parameter_names_are_the_contract():
    names = [n for n, _ in GPT(GPTConfig(**TINY)).named_parameters()]
    assert names[:2] == ['transformer.wte.weight', 'transformer.wpe.weight']
    for i in range(2):
        for sub in ('ln_1.weight', 'attn.c_attn.weight', 'attn.c_proj.weight', 'ln_2.weight', 'mlp.c_fc.weight',
                    'mlp.c_proj.weight'):
            assert f'transformer.h.{i}.{sub}' in names
    assert names[-2:] == ['transformer.ln_f.weight', 'lm_head.weight']
    assert len(names) == 2 + 2 * 6 + 2


def test_tied_embeddings_share_one_tensor():
    model = GPT(GPTConfig(**TINY, tie_embeddings=True))
    assert model.transformer.wte.weight is model.lm_head.weight
    assert 'lm_head.weight' not in dict(model.named_parameters())


def test_head_dim_sets_head_count_and_bad_widths_fail():
    assert GPTConfig(**{**TINY, 'n_embd': 128}, head_dim=32).n_head == 4
    with pytest.raises(ValueError, match='not divisible by n_head'):
        GPTConfig(**{**TINY, 'n_embd': 65})
    with pytest.raises(ValueError, match='not divisible by head_dim'):
        GPTConfig(**TINY, head_dim=48)


def test_neutral_knobs_act_as_documented():
    base = GPT(GPTConfig(**TINY)).eval()
    idx = torch.randint(0, 65, (2, 16))
    ref, _ = base(idx, idx)
    # logit_mult scales the logits exactly
    m = GPT(GPTConfig(**TINY, logit_mult=0.5)).eval()
    m.load_state_dict(base.state_dict())
    out, _ = m(idx, idx)
    torch.testing.assert_close(out, 0.5 * ref)
    # attn_scale=1/sqrt(d_head) explicitly equals SDPA's default
    m = GPT(GPTConfig(**TINY, attn_scale=1 / math.sqrt(32))).eval()
    m.load_state_dict(base.state_dict())
    torch.testing.assert_close(m(idx, idx)[0], ref)
    # hidden_mult = 2 equals doubling every hidden weight
    m = GPT(GPTConfig(**TINY, hidden_mult=2.0)).eval()
    sd = {k: (2 * v if k.startswith('transformer.h.') and v.ndim == 2 else v) for k, v in base.state_dict().items()}
    m.load_state_dict(base.state_dict())
    m2 = GPT(GPTConfig(**TINY)).eval()
    m2.load_state_dict(sd)
    torch.testing.assert_close(m(idx, idx)[0], m2(idx, idx)[0], rtol=1e-5, atol=1e-5)
    # branch_mult = 0 removes every residual branch: logits depend on the embeddings alone
    m = GPT(GPTConfig(**TINY, branch_mult=0.0)).eval()
    m.load_state_dict(base.state_dict())
    with torch.no_grad():
        x = m.transformer.wte(idx) + m.transformer.wpe(torch.arange(16))
        torch.testing.assert_close(m(idx, idx)[0], m.lm_head(m.transformer.ln_f(x)))


def test_flops_and_mfu():
    model = GPT(GPTConfig(**TINY))
    n = model.get_num_params()
    assert model.estimate_flops_per_token() == 6 * n + 12 * 2 * 64 * 16
    # 1e12 FLOP/s peak, one token per second -> mfu = flops_per_token / 1e12
    assert model.estimate_mfu(1, 1.0, peak_flops=1e12) == pytest.approx(model.estimate_flops_per_token() / 1e12)


def test_generate_appends_tokens():
    model = GPT(GPTConfig(**TINY)).eval()
    out = model.generate(torch.zeros((1, 1), dtype=torch.long), 20, top_k=5)
    assert out.shape == (1, 21) and out.max() < 65
