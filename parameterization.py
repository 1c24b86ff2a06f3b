"""
The parameterization engine: which init, forward multiplier, learning rate, epsilon and weight decay each
parameter gets, as a function of width n (relative to base_width) and depth L (relative to base_depth).

Everett et al. 2024 (§2.1, §3.1) write a width-scaling parameterization as three exponents per layer:
multiplier n^-a, init std n^-b, learning rate n^-c. Every parameter of the model gets a *role*:

    role        what                                    n is
    embedding   wte, wpe                                fan_out / base fan_out
    hidden      q k v o, MLP in/out (both dims grow)    fan_in / base fan_in
    readout     lm_head                                 fan_in / base fan_in
    vector      LayerNorm gains and biases              dim / base dim   (no multiplier, init 1 / 0: (a, b) = (0, 0))

Roles come from shapes: the model is rebuilt on the meta device at twice the width and a dim that changes is a
width dim (mup's infshape idea). base_width=None means absolute fan-in scaling (n = fan_in, Gupta et al.).

(a, b) per role of the named parameterizations (Everett Table 1; Gupta Table 2 = TP5 Table 3):

    name          embedding   hidden    readout   attention
    sp            (0, 0)      (0, 1/2)  (0, 1/2)  1/sqrt(d_head)
    ntk           (0, 0)      (1/2, 0)  (1/2, 0)  1/sqrt(d_head)
    mup           (-1/2, 1/2) (0, 1/2)  (1/2, 1/2) 1/d_head
    mfp           (0, 0)      (1/2, 0)  (1, 0)    1/d_head
    mup_spectral  (0, 0)      (0, 1/2)  (0, 1)    1/d_head
    nanogpt       upstream nanoGPT: every weight N(0, 0.02^2), c_proj 0.02/sqrt(2L), one global LR (not width-stable)

The LR exponents c are *derived* (lr_exponents) from the stability constraints of Everett Table 2 for an optimizer
family (sgd, adam, adafactor, invariant) and an alignment assumption (full: alpha=u=1, omega=1/2; none: all 1/2).
The resulting table reproduces Everett Table 1 and is tested cell by cell. Vectors (LayerNorm gains) are derived
from their own (a, b) = (0, 0) and their own gradient scale; Everett App. C.2 groups them with the embedding,
which is the same thing wherever the embedding has no multiplier (a_1 = 0: sp, ntk, mfp, mup_spectral) and is
not under mup, where the embedding's n^(1/2) multiplier does not act on the gains.

Per parameter p with role r (sigma_r, gamma_r: width-independent constants from the config):

    init std   sigma_r * n_p^-b_r                (vectors: gains 1, biases 0)
    lr         learning_rate * gamma_r * n_p^-c_r * (L / L0)^e_r        (inside blocks; e_r from depth_exponent)
    eps        eps * n_p^-g_r (eps_scaling='per_layer', Everett §4.3) * (L / L0)^-alpha (inside blocks), else eps
    wd         weight_decay (coupled: torch's lr*wd) or weight_decay / lr_mult (independent of the LR multiplier)

At n = 1 (width == base_width) every factor above is exactly 1.0, so every base-relative parameterization is
bitwise SP there (tested).
"""

import fnmatch
import math
from collections import OrderedDict
from dataclasses import dataclass, replace

import torch

from model import GPT, GPTConfig

ROLES = ('embedding', 'hidden', 'readout', 'vector')

# (a, b) per role: multiplier n^-a, init std n^-b
ABC = {
    'sp':           {'embedding': (0.0, 0.0),  'hidden': (0.0, 0.5), 'readout': (0.0, 0.5)},
    'ntk':          {'embedding': (0.0, 0.0),  'hidden': (0.5, 0.0), 'readout': (0.5, 0.0)},
    'mup':          {'embedding': (-0.5, 0.5), 'hidden': (0.0, 0.5), 'readout': (0.5, 0.5)},
    'mfp':          {'embedding': (0.0, 0.0),  'hidden': (0.5, 0.0), 'readout': (1.0, 0.0)},
    'mup_spectral': {'embedding': (0.0, 0.0),  'hidden': (0.0, 0.5), 'readout': (0.0, 1.0)},
    'nanogpt':      {'embedding': (0.0, 0.0),  'hidden': (0.0, 0.0), 'readout': (0.0, 0.0)},
}
WD_MODES = ('coupled', 'independent', 'timescale')
# LayerNorm gains and biases: no multiplier, O(1) init (gains 1, biases 0) in every parameterization
VECTOR_AB = (0.0, 0.0)
MUP_FAMILY = {'mup', 'mfp', 'mup_spectral'}  # attention logits scaled 1/d_head (Yang & Hu 2021)
FAMILIES = ('sgd', 'adam', 'adafactor', 'invariant', 'invariant_rms')
# alignment exponents (alpha, omega, u) of Everett §3.3.4
ALIGNMENT = {'full': (1.0, 0.5, 1.0), 'none': (0.5, 0.5, 0.5)}

# name pattern -> role, for parameters whose role cannot be read from shapes (e.g. a learned scalar gate)
ROLE_OVERRIDES = {}

# every config key the engine reads, with its default (train.py's globals carry the same values; a test checks it)
DEFAULTS = dict(
    parameterization='mup',     # sp | ntk | mup | mfp | mup_spectral | nanogpt
    base_width=256,             # width where all multipliers are 1 (= SP); None: absolute fan-in scaling
    base_depth=None,            # depth where the depth multipliers are 1; None: absolute (base depth 1)
    alignment='full',           # full | none: which of Everett's LR exponent tables
    lr_scaling='per_layer',     # per_layer: derived exponents; global: c = 0 everywhere (Everett's baseline)
    learning_rate=1e-3,         # the base LR: every group's LR is learning_rate * lr_mult
    lr_exponent_overrides={},   # e.g. {'readout': 0.5}: replaces the derived c of a role
    lr_mult_embedding=1.0, lr_mult_hidden=1.0, lr_mult_readout=1.0, lr_mult_vector=1.0,  # gamma_r
    init_std_embedding=0.02, init_std_hidden=0.02, init_std_readout=0.02,  # sigma_r: the std at n = 1
    input_mult=1.0,             # alpha_in: constant in front of the embedding multiplier
    output_mult=1.0,            # alpha_out: constant in front of the readout multiplier
    attn_mult=1.0,              # constant in front of the attention scale
    eps=1e-8,                   # optimizer epsilon at n = 1
    eps_scaling='constant',     # constant | per_layer: eps * n^-g (Everett §4.3)
    weight_decay=0.0,
    wd_mode='coupled',          # coupled: group wd = weight_decay | independent: weight_decay / lr_mult |
                                # timescale: wd = 1 / (lr * tau), weight_decay unused (Wang & Aitchison 2024)
    wd_timescale=0.0,           # timescale: tau, the EMA timescale of the weights, in wd_timescale_unit
    wd_timescale_unit='iters',  # iters | tokens: tau held fixed in iterations, or in tokens (epochs)
    base_batch_tokens=None,     # batch rule: LR x (B / B0)^k at B tokens per iteration; None: off
    batch_lr_exponent=None,     # k; None: 1/2 (square-root rule) for adam, adafactor, invariant; 1 for sgd
    batch_beta2=False,          # with the batch rule: beta2 -> beta2^(B / B0), the token half-life of v fixed
    base_train_tokens=None,     # horizon rule: LR x (T / T0)^-horizon_lr_exponent at T training tokens; None: off
    horizon_lr_exponent=0.32,   # Bjorck et al. 2024 fit optimal LR ~ T^-0.32-ish across token horizons
    depth_alpha=0.0,            # residual branches x (L/L0)^-alpha: 0 off, 0.5 depth-muP, 1 CompleteP
    depth_lr_exponent=None,     # LR x (L/L0)^e inside blocks; None: derived per family (depth_exponent)
    zero_init_readout=False,
    zero_init_query=False,
)


def settings(cfg):
    """The engine's keys of a run config, defaults filled in: the one place defaults are merged. Every public
    function below accepts a full run config (train.py's) or a partial dict and calls this once."""
    return {**DEFAULTS, **{k: cfg[k] for k in DEFAULTS if k in cfg}}


def check(cfg):
    """Validate the engine's config keys; raises ValueError with a one-line, actionable message."""
    s = settings(cfg)
    if s['parameterization'] not in ABC:
        raise ValueError(f"unknown parameterization '{s['parameterization']}': choose one of {', '.join(ABC)}")
    for key, allowed in [('alignment', ALIGNMENT), ('lr_scaling', ('per_layer', 'global')),
                         ('eps_scaling', ('constant', 'per_layer')), ('wd_mode', WD_MODES),
                         ('wd_timescale_unit', ('iters', 'tokens'))]:
        if s[key] not in allowed:
            raise ValueError(f"unknown {key} '{s[key]}': choose one of {', '.join(allowed)}")
    if s['wd_mode'] == 'timescale' and not s['wd_timescale'] > 0:
        raise ValueError(f"wd_mode='timescale' needs wd_timescale > 0 (the weights' EMA timescale 1/(lr wd) in "
                         f"{s['wd_timescale_unit']}), got {s['wd_timescale']}")
    for key in ('base_batch_tokens', 'base_train_tokens'):
        if s[key] is not None and not s[key] > 0:
            raise ValueError(f"{key}={s[key]}: give the reference's token count (> 0), or None to switch the rule off")
    if s['batch_beta2'] and s['base_batch_tokens'] is None:
        raise ValueError("batch_beta2=True scales beta2 with the batch size: set base_batch_tokens too")
    bad = set(s['lr_exponent_overrides']) - set(ROLES)
    if bad:
        raise ValueError(f"lr_exponent_overrides has unknown roles {sorted(bad)}: use {', '.join(ROLES)}")
    if s['depth_alpha'] not in (0, 0.5, 1):
        raise ValueError(f"depth_alpha={s['depth_alpha']}: use 0 (off), 0.5 (depth-muP) or 1 (CompleteP)")
    return s


# -----------------------------------------------------------------------------
# exponents: Everett et al. Table 2 solved for the maximal stable learning rate (Table 1)

def grad_exponents(abc):
    """Negative width exponent g of dLoss/dW at init per role (Everett Table 1, 'Gradient').

    The readout's gradient is its (constant-scale) input times its multiplier: g_{L+1} = a_{L+1}. Every earlier
    layer receives the signal back through the readout init, n^-(a_{L+1} + b_{L+1}), times its own multiplier
    (a vector: its own a = 0, not the embedding's). (Table 2 prints g with max(a+b, 2a+c) of the readout; with
    the SGD readout LR below the max is a+b.)"""
    a_out, b_out = abc['readout']
    g = {r: a_out + b_out + ab[0] for r, ab in (('embedding', abc['embedding']), ('hidden', abc['hidden']),
                                               ('vector', abc.get('vector', VECTOR_AB)))}
    g['readout'] = a_out
    return g


def _input_like_c(family, a, g):
    """c of a layer whose fan-in does not grow (the embedding; a gain acts on one coordinate, fan-in 1): its
    update moves each output coordinate by n^-a times its own update, with no sum over a growing dim, so
    Table 2's residual is r = g + a + c (SGD), a + c (Adam), a + b + c = c (Adafactor, a + b = 0 at init)."""
    return {'sgd': -(g + a), 'adam': -a, 'adafactor': 0.0}[family]


def lr_exponents(abc, family, alignment='full'):
    """Smallest c (largest stable LR n^-c) per role satisfying Everett Table 2 for one optimizer family.

    Layer by layer from the input: each c makes its residual r_l exactly 0 (feature learning), given r_{l-1} = 0.
    Vectors are derived like the embedding from their own (a, b) = VECTOR_AB and gradient exponent.
    'invariant' optimizers (Muon, SPlus on hidden matrices) fix the spectral size of the update of the *stored*
    tensor with its shape (sqrt(fan_out / fan_in), 2 / (m + n), ...), which is what the spectral condition asks of
    the *effective* weight n^-a W: so n^-a * n^-c must be n^0, c = -a (Gupta et al. Table 2's LR 1 under
    mup_spectral, where every a = 0).
    'invariant_rms' (Muon with muon_scale='rms', Liu et al. 2025) multiplies that update by 0.2 sqrt(max(fan_out,
    fan_in)), so that a full-rank update has RMS 0.2 lr. For a hidden matrix the factor grows like n^1/2 whatever
    the gradient's rank, so c = 1/2 - a (Adam's hidden c under alignment 'none'; Adam's c = 1 - a under full
    alignment would shrink the update like n^-1/2). For the embedding and readout the max is the vocabulary
    whenever it exceeds the width (any BPE model), and a vector is not orthogonalised: c = -a, as invariant."""
    if family not in FAMILIES:
        raise ValueError(f"unknown optimizer family '{family}': choose one of {', '.join(FAMILIES)}")
    alpha, omega, u = ALIGNMENT[alignment]
    (a1, b1), (ah, bh), (ao, bo) = abc['embedding'], abc['hidden'], abc['readout']
    av = abc.get('vector', VECTOR_AB)[0]
    # stability at init (Table 2, first row) and the omega terms, which no learning rate can fix
    assert a1 + b1 == 0 and ah + bh == 0.5 and ao + bo >= 0.5, f"unstable at init: {abc}"
    assert 0.5 - omega >= 0 and ao + bo - omega >= 0, "omega terms violate stability"
    align = max(alpha, u)  # alpha and u enter in tandem: max(alpha_l, u_l - r_{l-1}) with r_{l-1} = 0
    if family in ('invariant', 'invariant_rms'):
        return {'embedding': -a1, 'hidden': (0.5 if family == 'invariant_rms' else 0.0) - ah, 'readout': -ao,
                'vector': -av}
    g = grad_exponents(abc)
    c = {'embedding': _input_like_c(family, a1, g['embedding']), 'vector': _input_like_c(family, av, g['vector'])}
    if family == 'sgd':
        # readout: 2a + c >= alpha, and the readout update never outgrows the readout init (2a + c >= a + b),
        # which is the solution Table 1 lists; hidden: g_l + a_l + c_l - alpha_l = 0
        c.update(hidden=align - g['hidden'] - ah, readout=max(align - 2 * ao, bo - ao))
    elif family == 'adam':
        # the update is normalised: its scale is the LR whatever the gradient scale (g drops out)
        c.update(hidden=align - ah, readout=align - ao)
    else:  # adafactor: update ~ LR x parameter scale (RMS(W) ~ n^-b), and c >= 0 against exponential growth
        c.update(hidden=max(0.0, align - 0.5),            # a_l + b_l = 1/2 at stable init
                 readout=max(0.0, align - ao - bo))
    return c


def depth_exponent(family, alpha):
    """e in LR x (L / L0)^e for parameters inside blocks, with residual branches scaled (L / L0)^-alpha.

    Each block's update should move the residual stream by Theta(1/L), so that the L blocks together move it by
    Theta(1) (Yang et al. 2023, depth-muP; Dey et al. 2025, CompleteP). The branch multiplier scales a block's
    contribution by L^-alpha. An update whose size is the LR (adam; adafactor and invariant too: their size is the
    LR times the parameter scale or a shape factor, neither depends on depth) contributes L^-alpha * L^e:
    e = alpha - 1. SGD's update is the LR times the gradient, which the branch multiplier also scales by L^-alpha:
    L^-2alpha * L^e = L^-1 gives e = 2 alpha - 1 (alpha = 1/2: a depth-independent SGD LR, depth-muP).
    alpha = 0 is the unscaled baseline: e = 0."""
    if alpha == 0:
        return 0.0
    return 2 * alpha - 1 if family == 'sgd' else alpha - 1


# -----------------------------------------------------------------------------
# transfer along batch size, training horizon and weight decay (each rule off by default)

def run_tokens(cfg):
    """(tokens per iteration, tokens of the whole run) from train.py's batch_size, block_size,
    gradient_accumulation_steps and max_iters (the global batch: the same on any number of ranks)."""
    need = ('batch_size', 'block_size', 'gradient_accumulation_steps', 'max_iters')
    missing = [k for k in need if k not in cfg]
    if missing:
        raise ValueError(f"the batch / horizon / wd-timescale rules need {', '.join(missing)} in the config")
    per_iter = cfg['batch_size'] * cfg['block_size'] * cfg['gradient_accumulation_steps']
    return per_iter, per_iter * cfg['max_iters']


def batch_exponent(family):
    """k in LR ~ B^k: SGD's noise scale is LR / B, so LR ~ B keeps its SDE (linear rule); Adam's normalised update
    makes it LR / sqrt(B) (square-root rule, Malladi et al. 2022, "On the SDEs and Scaling Rules for Adaptive
    Gradient Algorithms"). Updates normalised like Adam's (adafactor, invariant) take the Adam rule."""
    return 1.0 if family == 'sgd' else 0.5


def scale_rules(cfg, families):
    """{role: LR factor} of the batch and horizon rules (1.0 where a rule is off; groups.txt shows it as rule_mult)."""
    s = settings(cfg)
    mults = {r: 1.0 for r in ROLES}
    if s['base_batch_tokens'] is not None or s['base_train_tokens'] is not None:
        per_iter, total = run_tokens(cfg)
    if s['base_batch_tokens'] is not None:
        ratio = per_iter / s['base_batch_tokens']
        for r in ROLES:
            k = s['batch_lr_exponent'] if s['batch_lr_exponent'] is not None else batch_exponent(families[r])
            mults[r] *= ratio ** k
    if s['base_train_tokens'] is not None:
        ratio = total / s['base_train_tokens']
        for r in ROLES:  # Bjorck et al. 2024, "Scaling Optimal LR Across Token Horizons": LR* ~ T^-exponent
            mults[r] *= ratio ** -s['horizon_lr_exponent']
    return mults


def optimizer_overrides(cfg):
    """Config keys the rules change for the optimizer itself: beta2 -> beta2^(B/B0) under batch_beta2, so that
    the second moment averages over the same number of tokens at every batch size (half-life in tokens fixed)."""
    s = settings(cfg)
    if not s['batch_beta2']:
        return {}
    per_iter, _ = run_tokens(cfg)
    return {'beta2': cfg['beta2'] ** (per_iter / s['base_batch_tokens'])}


def timescale_wd(lr, cfg):
    """Weight decay whose EMA timescale 1 / (lr * wd) (Wang & Aitchison 2024, "How to set AdamW's weight decay as
    you scale model and dataset size") is wd_timescale iterations, or wd_timescale tokens. lr is the group's peak
    LR, so the decay follows the group's width factor: wd ~ n^c (under muP Adam, hidden wd ~ n)."""
    s = settings(cfg)
    tau = s['wd_timescale'] if s['wd_timescale_unit'] == 'iters' else s['wd_timescale'] / run_tokens(cfg)[0]
    return 1.0 / (lr * tau)


# -----------------------------------------------------------------------------
# roles and per-parameter width multipliers

@dataclass
class ParamInfo:
    role: str
    n: float          # width multiplier n_p (fan relative to the base model's, or the absolute fan)
    in_block: bool    # inside a transformer block (gets the depth factors)
    fan_in: int
    fan_out: int


def _meta_model(model, width):
    """The same model class at another width, on the meta device (no memory, no init)."""
    width_cfg = replace(model.config, n_embd=width)  # keeps n_head fixed, or head_dim fixed if it is set
    with torch.device('meta'):
        return type(model)(width_cfg)


def _fans(model, name, p):
    """(fan_in, fan_out): Linear stores (out, in), Embedding (num, dim), a vector is its length; None otherwise."""
    if p.ndim == 1:
        return p.shape[0], p.shape[0]
    owner = model.get_submodule(name.rsplit('.', 1)[0]) if '.' in name else model
    if p.ndim == 2 and isinstance(owner, torch.nn.Embedding):
        return p.shape[0], p.shape[1]
    if p.ndim == 2 and isinstance(owner, torch.nn.Linear):
        return p.shape[1], p.shape[0]
    return None


def _role_from_shapes(ndim, fans, delta_fans):
    """Which dims grow with width, comparing the model with its twin at twice the width."""
    if fans is None or delta_fans is None:
        return None
    grows = (delta_fans[0] != fans[0], delta_fans[1] != fans[1])
    if ndim == 1:
        return 'vector' if grows[0] else None  # LayerNorm gain / bias of width n
    return {(True, True): 'hidden', (False, True): 'embedding', (True, False): 'readout'}.get(grows)


def param_info(model, cfg):
    """name -> ParamInfo for every parameter of the (unwrapped) model, roles from shapes; raises on a stranger."""
    s = settings(cfg)
    delta = _meta_model(model, 2 * model.config.n_embd)
    delta_params = dict(delta.named_parameters())
    base_width = s['base_width']
    if base_width is not None:
        _check_base_width(base_width, model.config)
        base = _meta_model(model, base_width)
        base_params = dict(base.named_parameters())
    infos = OrderedDict()
    for name, p in model.named_parameters():
        fans = _fans(model, name, p)
        delta_fans = _fans(delta, name, delta_params[name]) if name in delta_params else None
        role = next((r for pat, r in ROLE_OVERRIDES.items() if fnmatch.fnmatch(name, pat)), None)
        role = role or _role_from_shapes(p.ndim, fans, delta_fans)
        if role is None:
            raise ValueError(
                f"parameterization: no role for parameter '{name}' {tuple(p.shape)}: roles come from the shapes "
                f"of nn.Linear / nn.Embedding weights and 1-D tensors that grow with n_embd. Add it to "
                f"ROLE_OVERRIDES in parameterization.py (e.g. '{name}': 'hidden') or make it an nn.Linear")
        fan_in, fan_out = fans or (p.shape[-1], p.shape[0])  # an override on another tensor: Linear convention
        # the width dim of the role: fan-out for embeddings, fan-in otherwise (a vector's length)
        pick = (lambda f: f[1]) if role == 'embedding' else (lambda f: f[0])
        n = float(pick((fan_in, fan_out)))
        if base_width is not None and name in base_params:
            n = n / pick(_fans(base, name, base_params[name]) or (1, 1))
        infos[name] = ParamInfo(role, n, name.startswith('transformer.h.'), fan_in, fan_out)
    return infos


def _check_base_width(base_width, config):
    """The base model must exist under the run's head rule (n_head fixed, or head_dim fixed)."""
    if config.head_dim and base_width % config.head_dim:
        raise ValueError(f"base_width={base_width} is not divisible by head_dim={config.head_dim}: "
                         f"choose a base_width that is a multiple of head_dim")
    if not config.head_dim and base_width % config.n_head:
        raise ValueError(f"base_width={base_width} is not divisible by n_head={config.n_head}: "
                         f"choose a base_width that n_head divides")


def base_head_dim(cfg, config):
    """d_head of the base model under the run's head rule: head_dim fixed -> head_dim at every width; n_head fixed
    -> base_width / n_head. Without a base width (absolute fan-in scaling) the reference head dim is 64."""
    base_width = settings(cfg)['base_width']
    if base_width is None:
        return 64
    _check_base_width(base_width, config)
    return config.head_dim or base_width // config.n_head


def width_mult(cfg, n_embd):
    """The model-wide n that the forward multipliers use (the per-parameter n_p agree with it when base_width is set)."""
    base_width = settings(cfg)['base_width']
    return n_embd / base_width if base_width is not None else float(n_embd)


def depth_mult(cfg, n_layer):
    base_depth = settings(cfg)['base_depth']
    return n_layer / base_depth if base_depth is not None else float(n_layer)


# -----------------------------------------------------------------------------
# the three outputs: forward multipliers, init, param groups

def forward_mults(cfg, config):
    """The neutral GPTConfig knobs for this model's width and depth (config: its GPTConfig before the knobs)."""
    s = check(cfg)
    abc, n = ABC[s['parameterization']], width_mult(s, config.n_embd)
    head_dim = config.n_embd // config.n_head
    attn_scale = s['attn_mult'] / math.sqrt(head_dim)
    if s['parameterization'] in MUP_FAMILY:
        # 1/d_head (Yang & Hu 2021: q and k become correlated during training, so q.k grows like d_head), normalised
        # to equal 1/sqrt(d_head) at the base model's head dim. With head_dim fixed this is a constant.
        base_hd = base_head_dim(s, config)
        attn_scale = s['attn_mult'] / math.sqrt(base_hd) * (base_hd / head_dim)
    a_out = abc['readout'][0]
    if config.tie_embeddings:  # the shared matrix has the embedding's init n^-b_emb: the readout makes up the rest
        a_out = a_out + abc['readout'][1] - abc['embedding'][1]
    return dict(emb_mult=s['input_mult'] * n ** -abc['embedding'][0],
                hidden_mult=n ** -abc['hidden'][0],
                logit_mult=s['output_mult'] * n ** -a_out,
                attn_scale=attn_scale,
                branch_mult=depth_mult(s, config.n_layer) ** -s['depth_alpha'])


@torch.no_grad()
def init_params(model, cfg, infos=None):
    """Initialise every parameter explicitly, in named_parameters() order (equal seeds give equal draws)."""
    s = settings(cfg)
    abc = ABC[s['parameterization']]
    infos = infos or param_info(model, s)
    d = model.config.n_embd
    for name, p in model.named_parameters():
        info = infos[name]
        if info.role == 'vector':  # LayerNorm gains 1, biases 0
            p.fill_(1.0) if name.endswith('.weight') else p.zero_()
            continue
        if s['parameterization'] == 'nanogpt':  # upstream: 0.02 everywhere, GPT-2's 1/sqrt(2L) on c_proj
            std = 0.02 / math.sqrt(2 * model.config.n_layer) if name.endswith('c_proj.weight') else 0.02
        else:
            std = s[f'init_std_{info.role}'] * info.n ** -abc[info.role][1]
        p.normal_(0.0, std)
        # zero-init options (Yang et al. 2021 App. D.2), after the draw: every other tensor gets the same values
        # with or without them
        if s['zero_init_readout'] and name == 'lm_head.weight':
            p.zero_()
        if s['zero_init_query'] and name.endswith('attn.c_attn.weight'):
            p[:d].zero_()  # rows 0..d-1 of the stacked q, k, v projection produce q (model.CausalSelfAttention)


def build_model(cfg, model_args, device='cpu', seed=None):
    """GPT with this config's forward multipliers, built on meta, materialised on device and initialised by
    init_params. Returns (model, infos). The path train.py and scripts/coord_check.py share."""
    s = settings(cfg)
    base = GPTConfig(**model_args)  # validates width / heads before anything else
    gptconf = replace(base, **forward_mults(s, base))
    with torch.device('meta'):
        model = GPT(gptconf)
    model.to_empty(device=device)
    model.tie_weights()
    infos = param_info(model, s)
    if seed is not None:
        torch.manual_seed(seed)
    init_params(model, s, infos)
    return model, infos


def role_exponents(cfg, family):
    """c per role after lr_scaling and overrides, and g per role (for eps), for the configured parameterization.

    family: one family for every role, or {role: family} for optimizers that update roles by different rules
    (Muon: hidden matrices by orthogonalised momentum, the rest by AdamW)."""
    s = settings(cfg)
    p = s['parameterization']
    families = family if isinstance(family, dict) else {r: family for r in ROLES}
    if p == 'nanogpt' or s['lr_scaling'] == 'global':
        c = {r: 0.0 for r in ROLES}
    else:  # each role's constraints in Table 2 involve only that role's own update (and the fixed a, b)
        c = {r: lr_exponents(ABC[p], families[r], s['alignment'])[r] for r in ROLES}
    c.update(s['lr_exponent_overrides'])
    return c, grad_exponents(ABC[p])


def param_groups(model, cfg, family, infos=None):
    """Plain torch param groups, one per (role, lr, eps, wd) bucket, in first-appearance order.

    Each group: params, names, role, lr_mult, lr, initial_lr, eps, weight_decay, rule_mult (the batch and horizon
    rules' share of lr_mult). Schedules multiply initial_lr; optimizers read lr / eps / weight_decay from the group
    on every step and never import this file."""
    s = check(cfg)
    infos = infos or param_info(model, s)
    c, g = role_exponents(s, family)
    families = family if isinstance(family, dict) else {r: family for r in ROLES}
    check_tied(s, model.config, c)
    m_L, alpha_L = depth_mult(s, model.config.n_layer), s['depth_alpha']
    e_L = {r: depth_exponent(families[r], alpha_L) if s['depth_lr_exponent'] is None else s['depth_lr_exponent']
           for r in ROLES}
    rule_mult = scale_rules(cfg, families)
    groups = OrderedDict()
    for name, p in model.named_parameters():
        info = infos[name]
        lr_mult = s[f'lr_mult_{info.role}'] * info.n ** -c[info.role] * rule_mult[info.role]
        eps = s['eps']
        if s['eps_scaling'] == 'per_layer':
            eps = eps * info.n ** -g[info.role]  # eps tracks the gradient scale of its layer (Everett §4.3)
        if info.in_block:
            lr_mult = lr_mult * m_L ** e_L[info.role]
            eps = eps * m_L ** -alpha_L  # CompleteP: the block gradients shrink with the branch multiplier
        wd = s['weight_decay'] if p.ndim >= 2 else 0.0  # no decay on gains and biases (nanoGPT)
        if s['wd_mode'] == 'independent' and wd:
            wd = wd / lr_mult  # lr * wd stays the base lr * wd: the decay rate does not shrink with width
        elif s['wd_mode'] == 'timescale':
            wd = timescale_wd(s['learning_rate'] * lr_mult, cfg) if p.ndim >= 2 else 0.0
        key = (info.role, lr_mult, eps, wd)
        if key not in groups:
            groups[key] = dict(params=[], names=[], role=info.role, lr_mult=lr_mult,
                               lr=s['learning_rate'] * lr_mult, initial_lr=s['learning_rate'] * lr_mult, eps=eps,
                               weight_decay=wd, rule_mult=rule_mult[info.role])
        groups[key]['params'].append(p)
        groups[key]['names'].append(name)
    return list(groups.values())


def check_tied(cfg, config, c):
    """A tied wte / lm_head matrix follows the embedding's init and LR; forward_mults gives the readout
    n^-(a_out + b_out - b_emb), so its effective init is the untied readout's. Its effective Adam update,
    n^-(a_out + b_out - b_emb) * n^-c_emb, equals the untied readout's n^-(a_out + c_out) exactly when
    c_out = b_out - b_emb + c_emb: true for the muP family (microsoft/mup's MuSharedReadout), false for sp / ntk,
    whose readout init is larger than its update rule assumes for a shared matrix."""
    s = settings(cfg)
    p = s['parameterization']
    if not config.tie_embeddings or p == 'nanogpt':
        return
    (_, b_emb), (_, b_out) = ABC[p]['embedding'], ABC[p]['readout']
    if s['lr_scaling'] == 'per_layer' and not math.isclose(c['readout'], b_out - b_emb + c['embedding']):
        raise ValueError(f"tie_embeddings=True under '{p}': one shared matrix cannot follow both the embedding's and "
                         f"the readout's rules here; tie under mup, mfp, mup_spectral or nanogpt, or untie")
    if s['zero_init_readout']:
        raise ValueError("zero_init_readout=True with tie_embeddings=True would zero the embedding: untie or "
                         "drop zero_init_readout")


def describe(groups):
    """A per-group table (role, #tensors, #params, lr_mult, rule_mult when a batch / horizon rule is on, lr, eps,
    wd), printed at start and saved as groups.txt."""
    rules = any(gr.get('rule_mult', 1.0) != 1.0 for gr in groups)  # the batch / horizon rules' column, when on
    lines = [f"{'role':<10} {'tensors':>7} {'params':>10} {'lr_mult':>10} " + (f"{'rule_mult':>10} " if rules else '')
             + f"{'lr':>10} {'eps':>10} {'wd':>8}  names"]
    for gr in groups:
        names = ', '.join(gr['names'][:3]) + (f', ... (+{len(gr["names"]) - 3})' if len(gr['names']) > 3 else '')
        lines.append(f"{gr['role']:<10} {len(gr['params']):>7} {sum(p.numel() for p in gr['params']):>10} "
                     f"{gr['lr_mult']:>10.4g} " + (f"{gr['rule_mult']:>10.4g} " if rules else '')
                     + f"{gr['lr']:>10.4g} {gr['eps']:>10.3g} {gr['weight_decay']:>8.3g}  {names}")
    return '\n'.join(lines)
