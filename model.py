"""
A single-file GPT in the nanoGPT mould: learned positions, pre-LayerNorm blocks, GELU MLP (4x), optional bias,
dropout, SDPA attention, untied readout by default.

This file knows nothing about parameterizations or optimizers. Everything a width/depth parameterization needs
is a *neutral float knob* in GPTConfig, filled from outside (parameterization.forward_mults):

    emb_mult     x0 = emb_mult * (wte[idx] + wpe[pos])               (muP: n^{+1/2} on the input layer)
    hidden_mult  every hidden matrix acts as hidden_mult * W          (NTK / MFP: n^{-1/2})
    attn_scale   softmax(attn_scale * q k^T)                          (muP family: 1/d_head; None = 1/sqrt(d_head))
    branch_mult  x = x + branch_mult * f(LN(x)) for every branch      (depth-muP / CompleteP: (L/L0)^{-alpha})
    logit_mult   logits = logit_mult * lm_head(LN(x))                 (muP: n^{-1/2}; mup-style 1/n)

At their defaults (1, 1, None, 1, 1) this is plain nanoGPT. The model's own init (`_init_weights`) is
nanoGPT's; train.py replaces it with parameterization.init_params, which sets every tensor explicitly.
"""

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
from torch.nn import functional as F


class LayerNorm(nn.Module):
    """LayerNorm with an optional bias (PyTorch's cannot switch the bias off before 2.1)."""

    def __init__(self, ndim, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


def scaled(x, mult):
    """mult * x, skipped when mult == 1 so the default model is bit-identical to nanoGPT (and no extra kernel)."""
    return x if mult == 1.0 else x * mult


class CausalSelfAttention(nn.Module):

    def __init__(self, config):
        super().__init__()
        d = config.n_embd
        self.c_attn = nn.Linear(d, 3 * d, bias=config.bias)  # q, k, v stacked along the output dim
        self.c_proj = nn.Linear(d, d, bias=config.bias)
        self.attn_dropout = config.dropout
        self.resid_dropout = nn.Dropout(config.dropout)
        self.n_head = config.n_head
        self.n_embd = d
        self.hidden_mult = config.hidden_mult
        self.attn_scale = config.attn_scale  # None -> SDPA's default 1/sqrt(head_dim)

    def forward(self, x):
        B, T, C = x.size()  # batch, sequence length, n_embd
        # hidden_mult on the input equals hidden_mult * W (biases, if any, stay unscaled)
        q, k, v = self.c_attn(scaled(x, self.hidden_mult)).split(self.n_embd, dim=2)
        hs = C // self.n_head
        q = q.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        # flash / memory-efficient attention when the backend allows it (head_dim <= 256 for flash)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=None, is_causal=True, scale=self.attn_scale,
                                           dropout_p=self.attn_dropout if self.training else 0.0)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # re-assemble heads side by side
        return self.resid_dropout(self.c_proj(scaled(y, self.hidden_mult)))


class MLP(nn.Module):

    def __init__(self, config):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)
        self.hidden_mult = config.hidden_mult

    def forward(self, x):
        # the multiplier must act before the nonlinearity: it is part of the layer, not of the activation
        x = self.gelu(self.c_fc(scaled(x, self.hidden_mult)))
        return self.dropout(self.c_proj(scaled(x, self.hidden_mult)))


class Block(nn.Module):

    def __init__(self, config):
        super().__init__()
        self.ln_1 = LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)
        self.branch_mult = config.branch_mult

    def forward(self, x):
        x = x + scaled(self.attn(self.ln_1(x)), self.branch_mult)
        x = x + scaled(self.mlp(self.ln_2(x)), self.branch_mult)
        return x


@dataclass
class GPTConfig:
    block_size: int = 1024
    vocab_size: int = 50304  # GPT-2's 50257 padded up to a multiple of 64 for efficiency
    n_layer: int = 12
    n_head: int = 12
    n_embd: int = 768
    head_dim: int = 0  # if > 0, n_head = n_embd // head_dim (fixed head dimension, heads scale with width)
    dropout: float = 0.0
    bias: bool = False  # bias in Linears and LayerNorms; GPT-2 had it, no bias is slightly better and faster
    tie_embeddings: bool = False  # muP variants need an untied readout (different init and LR from wte)
    # neutral knobs, set by parameterization.forward_mults (see the module docstring)
    emb_mult: float = 1.0
    hidden_mult: float = 1.0
    attn_scale: float | None = None
    branch_mult: float = 1.0
    logit_mult: float = 1.0

    def __post_init__(self):
        if self.head_dim > 0:
            if self.n_embd % self.head_dim:
                raise ValueError(f"n_embd={self.n_embd} is not divisible by head_dim={self.head_dim}: "
                                 f"choose n_embd as a multiple of head_dim")
            self.n_head = self.n_embd // self.head_dim
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd={self.n_embd} is not divisible by n_head={self.n_head}: "
                             f"choose n_head dividing n_embd, or set head_dim instead of n_head")


class GPT(nn.Module):

    def __init__(self, config):
        super().__init__()
        assert config.vocab_size is not None and config.block_size is not None
        self.config = config
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd),
            wpe=nn.Embedding(config.block_size, config.n_embd),
            drop=nn.Dropout(config.dropout),
            h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
            ln_f=LayerNorm(config.n_embd, bias=config.bias),
        ))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.tie_weights()
        # nanoGPT's own init, so the model is usable on its own; train.py overrides it via init_params
        if not any(p.is_meta for p in self.parameters()):
            self.apply(self._init_weights)
            for pn, p in self.named_parameters():
                if pn.endswith('c_proj.weight'):  # GPT-2's scaled init of residual projections
                    torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    def tie_weights(self):
        """Share wte and lm_head when configured (named_parameters() then lists it once, as wte). Call again
        after to_empty(): materialising a meta model allocates each module's tensor separately."""
        if self.config.tie_embeddings:
            self.transformer.wte.weight = self.lm_head.weight

    def _init_weights(self, module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if getattr(module, 'bias', None) is not None:
                torch.nn.init.zeros_(module.bias)

    def get_num_params(self, non_embedding=True):
        """Parameter count; by default without the position embeddings (they do no matmul FLOPs)."""
        n_params = sum(p.numel() for p in self.parameters())
        if non_embedding:
            n_params -= self.transformer.wpe.weight.numel()
        return n_params

    def forward(self, idx, targets=None):
        device = idx.device
        b, t = idx.size()
        assert t <= self.config.block_size, f"sequence of length {t} > block_size {self.config.block_size}"
        pos = torch.arange(0, t, dtype=torch.long, device=device)  # (t,)
        tok_emb = self.transformer.wte(idx)  # (b, t, n_embd)
        pos_emb = self.transformer.wpe(pos)  # (t, n_embd)
        x = self.transformer.drop(scaled(tok_emb + pos_emb, self.config.emb_mult))
        for block in self.transformer.h:
            x = block(x)
        x = self.transformer.ln_f(x)
        if targets is not None:
            logits = scaled(self.lm_head(x), self.config.logit_mult)  # (b, t, vocab)
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)).float(), targets.view(-1), ignore_index=-1)
        else:
            # inference: only the last position is needed
            logits = scaled(self.lm_head(x[:, [-1], :]), self.config.logit_mult)  # (b, 1, vocab)
            loss = None
        return logits, loss

    def estimate_flops_per_token(self):
        """Training FLOPs per token, PaLM appendix B: 6N for the matmuls + 12 L T d for attention (fwd + bwd)."""
        cfg = self.config
        N = self.get_num_params()
        return 6 * N + 12 * cfg.n_layer * cfg.n_embd * cfg.block_size

    def estimate_mfu(self, tokens_per_iter, dt, peak_flops=None):
        """Model FLOPs utilisation: achieved FLOP/s over the bf16 dense peak of the GPU we run on."""
        peak_flops = peak_flops or gpu_peak_flops()
        if not peak_flops:
            return 0.0
        return self.estimate_flops_per_token() * tokens_per_iter / dt / peak_flops

    @torch.no_grad()
    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None):
        """Sample max_new_tokens tokens after the conditioning sequence idx (b, t); call in eval() mode."""
        for _ in range(max_new_tokens):
            idx_cond = idx if idx.size(1) <= self.config.block_size else idx[:, -self.config.block_size:]
            logits, _ = self(idx_cond)
            logits = logits[:, -1, :] / temperature  # (b, vocab)
            if top_k is not None:
                v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
                logits[logits < v[:, [-1]]] = -float('Inf')
            probs = F.softmax(logits, dim=-1)
            idx_next = torch.multinomial(probs, num_samples=1)  # (b, 1)
            idx = torch.cat((idx, idx_next), dim=1)
        return idx


# bf16 dense peak FLOP/s by GPU name (no sparsity)
PEAK_FLOPS = {'H100': 989e12, 'H200': 989e12, 'GH200': 989e12, 'A100': 312e12, 'A10G': 125e12, 'L4': 121e12}


def gpu_peak_flops():
    """bf16 dense peak of the current CUDA device, 0 on CPU or an unknown GPU (MFU is then reported as 0)."""
    if not torch.cuda.is_available():
        return 0.0
    name = torch.cuda.get_device_name()
    for key in sorted(PEAK_FLOPS, key=len, reverse=True):
        if key in name:
            return PEAK_FLOPS[key]
    return 0.0

