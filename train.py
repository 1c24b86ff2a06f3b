"""
The one training script. Runs on one device or under torchrun (DDP, or FSDP2 with --parallel=fsdp):

    $ python train.py config/mup_adamw.py --n_embd=512
    $ torchrun --standalone --nproc_per_node=4 train.py config/mup_adamw.py
    $ torchrun --standalone --nproc_per_node=4 train.py config/mup_splus.py --parallel=fsdp

Order, as in nanoGPT: defaults -> configurator -> distributed -> data -> model (parameterization: forward
multipliers, init) -> param groups -> optimizer -> loop. Every run writes out/<run_name>/: config.json,
groups.txt, metrics.jsonl, summary.json, ckpt.pt (written atomically; init_from='resume' continues exactly).
"""

import json
import math
import os
import pickle
import sys
import time
from contextlib import nullcontext
from dataclasses import asdict

import numpy as np
import torch

import dist
import measure
import optim
import parameterization as P
from optim.sophia import hessian_sample_seed, sampled_label_loss
import configurator
from configurator import ConfigError, configure


# -----------------------------------------------------------------------------
# default config values: a width-256 muP AdamW run on Tiny Shakespeare (char)
# I/O
out_dir = 'out'
run_name = ''  # '' -> <parameterization>_<optimizer>_w<n_embd>_d<n_layer>_lr<learning_rate>_s<seed>
eval_interval = 250
log_interval = 10
eval_iters = 20  # batches per split per evaluation (the same batches every time: fixed eval RNG)
eval_only = False
always_save_checkpoint = True  # write ckpt.pt at every evaluation (needed to resume a killed run)
init_from = 'scratch'  # 'scratch' | 'resume' (from <run dir>/ckpt.pt) | 'auto' (resume if ckpt.pt exists)
seed = 1337
sample_tokens = 0  # generate and print this many tokens at the end (0: no sample)
alignment_interval = 0  # > 0: log Everett's log alignment ratio (Def. 3.1) of every dense layer this often
# data
dataset = 'shakespeare_char'
gradient_accumulation_steps = 1  # micro-steps per optimizer step (total over all ranks)
batch_size = 32  # sequences per micro-step per rank
block_size = 256
# model
n_layer = 6
n_head = 4
head_dim = 0  # > 0: fixed head dimension, n_head = n_embd // head_dim (Everett et al. scale heads)
n_embd = 256
dropout = 0.0
bias = False
tie_embeddings = False  # share wte and lm_head: nanogpt, or the muP family (the shared matrix follows the embedding)
# parameterization (see parameterization.py; a test checks these equal parameterization.DEFAULTS)
parameterization = 'mup'  # sp | ntk | mup | mfp | mup_spectral | nanogpt
base_width = 256  # width at which every multiplier is 1 (= SP); None: absolute fan-in scaling (Gupta et al.)
base_depth = None  # depth at which depth multipliers are 1; None: absolute
alignment = 'full'  # full | none: Everett's LR exponents under full or no alignment
lr_scaling = 'per_layer'  # per_layer (derived exponents) | global (one LR, Everett's baseline)
lr_exponent_overrides = {}  # role -> c, e.g. {'readout': 0.5}
lr_mult_embedding = 1.0  # per-role constant LR multipliers gamma (Everett §4.2)
lr_mult_hidden = 1.0
lr_mult_readout = 1.0
lr_mult_vector = 1.0
init_std_embedding = 0.02  # per-role init std at n = 1 (i.e. at base_width, or at fan-in 1 if base_width=None)
init_std_hidden = 0.02
init_std_readout = 0.02
input_mult = 1.0  # alpha_in, constant factor on the embedding output
output_mult = 1.0  # alpha_out, constant factor on the logits
attn_mult = 1.0  # constant factor on the attention scale
eps = 1e-8  # optimizer epsilon at n = 1
eps_scaling = 'constant'  # constant | per_layer (eps * n^-g_l, Everett §4.3)
wd_mode = 'coupled'  # coupled (torch AdamW: lr * wd) | independent (wd / lr_mult: decay rate width-independent)
# | timescale (wd = 1 / (lr * wd_timescale) per group: the weights' EMA timescale fixed; Wang & Aitchison 2024)
wd_timescale = 0.0  # timescale: tau in wd_timescale_unit
wd_timescale_unit = 'iters'  # iters | tokens
base_batch_tokens = None  # batch rule: LR x (tokens per iter / base_batch_tokens)^k (k: 1/2 Adam-like, 1 SGD); None off
batch_lr_exponent = None  # k; None: by the optimizer family (Malladi et al. 2022)
batch_beta2 = False  # with the batch rule: beta2^(B/B0), the second moment's half-life in tokens fixed
base_train_tokens = None  # horizon rule: LR x (max_iters * tokens per iter / base_train_tokens)^-horizon_lr_exponent
horizon_lr_exponent = 0.32  # Bjorck et al. 2024
depth_alpha = 0.0  # residual branches x (L/base_depth)^-alpha: 0 off, 0.5 depth-muP, 1 CompleteP
depth_lr_exponent = None  # hidden LR x (L/base_depth)^e; None: CompleteP's alpha - 1 for the adam family
zero_init_readout = False
zero_init_query = False
# optimizer
optimizer = 'adamw'  # see optim/__init__.py REGISTRY
optimizer_family = ''  # '' = the optimizer's own family; or sgd | adam | adafactor | invariant to compare theories
learning_rate = 1e-3  # base LR: each group's LR is learning_rate * its multiplier * the schedule
max_iters = 2000
weight_decay = 0.0
beta1 = 0.9
beta2 = 0.95
momentum = 0.9  # SGD
nesterov = False  # SGD
grad_clip = 1.0  # clip the global gradient norm at this value, 0 to disable
hessian_micro_steps = 1  # Sophia's Hessian refresh: micro-batches per rank it uses (official: 1); 0 = all of them
# learning-rate schedule: a multiplier of every group's initial_lr
lr_schedule = 'cosine'  # constant | cosine | linear | wsd
warmup_iters = 100
lr_decay_iters = 0  # end of the decay; 0 -> max_iters
min_lr_ratio = 0.1  # final LR as a fraction of the peak
wsd_decay_frac = 0.2  # wsd: the last fraction of lr_decay_iters decays linearly to min_lr_ratio
# stopping
early_stop_patience = 0  # stop when val loss has not improved for this many iterations (Gupta et al.: 150); 0 off
diverge_factor = 3.0  # a train loss above diverge_factor x the first one (or non-finite) stops the run as diverged
# system
parallel = 'auto'  # under torchrun: auto (= ddp) | ddp | fsdp (FSDP2 fully_shard per Block, then the root)
device = 'cuda' if torch.cuda.is_available() else 'cpu'
dtype = 'bfloat16' if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else 'float32'
compile = True  # torch.compile the model (CUDA only)
# -----------------------------------------------------------------------------
# optimizer-specific hyperparameters (sophia_rho, splus_inverse_every, ...): each optim/<name>.py declares its own
# keys and defaults in `hparams`; they become config globals here, so --sophia_rho=0.05 works like any other key
globals().update(optim.hparam_defaults())
config_keys = [k for k, v in globals().items() if not k.startswith('_') and isinstance(v, configurator.CONFIG_TYPES)]


def die(msg):
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(2)


try:
    configure(globals(), sys.argv[1:])
except ConfigError as e:
    die(e)
config = {k: globals()[k] for k in config_keys}  # everything that defines the run

# -----------------------------------------------------------------------------
# validate what can be validated before any work
try:
    P.check(config)
    opt_cls = optim.get_optimizer_class(optimizer)
except ValueError as e:
    die(e)
if optimizer_family and optimizer_family not in P.FAMILIES:
    die(f"unknown optimizer_family '{optimizer_family}': choose one of {', '.join(P.FAMILIES)}")
role_family = optim.family_of(optimizer, config)  # {role: family}: Muon's non-matrix roles follow AdamW
family = role_family['hidden'] if len(set(role_family.values())) == 1 else \
    '+'.join(f"{r}:{f}" for r, f in role_family.items())
if wd_mode in ('independent', 'timescale') and not optim.decouples_wd(optimizer, config):
    die(f"wd_mode='{wd_mode}' needs decoupled weight decay, which '{optimizer}' does not have: "
        f"use adamw or wd_mode='coupled'")
if lr_schedule not in ('constant', 'cosine', 'linear', 'wsd'):
    die(f"unknown lr_schedule '{lr_schedule}': choose one of constant, cosine, linear, wsd")
if hessian_micro_steps < 0:
    die(f"hessian_micro_steps={hessian_micro_steps}: use 1 (official Sophia: one micro-batch per rank), n, or 0 (all)")
if init_from not in ('scratch', 'resume', 'auto'):
    die(f"unknown init_from '{init_from}': choose one of scratch, resume, auto")
if device == 'cpu' and dtype != 'float32':
    die(f"dtype='{dtype}' on the CPU: use --dtype=float32 (bf16/fp16 autocast is for CUDA)")
run_name = run_name or f"{parameterization}_{optimizer}_w{n_embd}_d{n_layer}_lr{learning_rate:g}_s{seed}"
run_dir = os.path.join(out_dir, run_name)
config['run_name'] = run_name
lr_decay_iters = lr_decay_iters or max_iters

# -----------------------------------------------------------------------------
# distributed setup, seeds, precision
if parallel not in ('auto', 'ddp', 'fsdp'):
    die(f"unknown parallel '{parallel}': choose one of auto, ddp, fsdp")
if parallel != 'auto' and int(os.environ.get('RANK', -1)) == -1:
    die(f"parallel='{parallel}' needs torchrun: torchrun --standalone --nproc_per_node=N train.py ... "
        f"(one process: leave parallel='auto')")
if parallel == 'fsdp' and dtype == 'float16':
    die("parallel='fsdp' with dtype='float16' is not supported (no sharded grad scaler here): use bfloat16")
ddp, rank, local_rank, world_size, device = dist.setup(device)
fsdp = ddp and parallel == 'fsdp'
master_process = rank == 0
print0 = dist.print0
if gradient_accumulation_steps % world_size:
    die(f"gradient_accumulation_steps={gradient_accumulation_steps} is not divisible by the {world_size} ranks")
accum_steps = gradient_accumulation_steps // world_size  # micro-steps on this rank
tokens_per_iter = gradient_accumulation_steps * batch_size * block_size
print0(f"tokens per iteration: {tokens_per_iter:,} ({world_size} ranks x {accum_steps} micro-steps x "
       f"{batch_size} x {block_size}){' with FSDP2' if fsdp else ' with DDP' if ddp else ''}")
device_type = 'cuda' if 'cuda' in device else 'cpu'
torch.backends.cuda.matmul.allow_tf32 = True
torch.backends.cudnn.allow_tf32 = True
ptdtype = {'float32': torch.float32, 'bfloat16': torch.bfloat16, 'float16': torch.float16}[dtype]
ctx = nullcontext() if device_type == 'cpu' or dtype == 'float32' else torch.autocast(device_type, dtype=ptdtype)

# -----------------------------------------------------------------------------
# data: uint16 token files written by data/<dataset>/prepare.py, read through np.memmap
data_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data', dataset)
for split in ('train', 'val'):
    if not os.path.exists(os.path.join(data_dir, f'{split}.bin')):
        die(f"missing {data_dir}/{split}.bin: run `python data/{dataset}/prepare.py` first")
meta_vocab_size = None
if os.path.exists(os.path.join(data_dir, 'meta.pkl')):
    with open(os.path.join(data_dir, 'meta.pkl'), 'rb') as f:
        meta = pickle.load(f)
    meta_vocab_size = meta['vocab_size']
# One random stream per global micro-step j (0 <= j < gradient_accumulation_steps), seeded [seed, j]; rank r
# draws micro-steps r*accum_steps ... (r+1)*accum_steps-1. Each rank draws different batches, and an iteration's
# global batch does not depend on the number of ranks: 2 ranks x 1 micro-step == 1 rank x 2 micro-steps, exactly.
# (All stream states are saved in checkpoints, so a run resumes on another world size with the same batches.)
micro_ids = list(range(rank * accum_steps, (rank + 1) * accum_steps))
data_rngs = [np.random.default_rng([seed, j]) for j in micro_ids]


def get_batch(split, rng):
    # recreate the memmap every batch to avoid a memory leak (numpy issue, see nanoGPT)
    data = np.memmap(os.path.join(data_dir, f'{split}.bin'), dtype=np.uint16, mode='r')
    ix = rng.integers(len(data) - block_size, size=batch_size)
    x = torch.stack([torch.from_numpy(data[i:i + block_size].astype(np.int64)) for i in ix])
    y = torch.stack([torch.from_numpy(data[i + 1:i + 1 + block_size].astype(np.int64)) for i in ix])
    if device_type == 'cuda':
        return x.pin_memory().to(device, non_blocking=True), y.pin_memory().to(device, non_blocking=True)
    return x.to(device), y.to(device)


# -----------------------------------------------------------------------------
# model: the parameterization fills the neutral knobs, builds on meta, then initialises every tensor itself
ckpt_path = os.path.join(run_dir, 'ckpt.pt')
resume = init_from == 'resume' or (init_from == 'auto' and os.path.exists(ckpt_path))
if resume and not os.path.exists(ckpt_path):
    die(f"init_from='resume' but {ckpt_path} does not exist: check out_dir/run_name or use init_from='scratch'")
model_args = dict(n_layer=n_layer, n_head=n_head, head_dim=head_dim, n_embd=n_embd, block_size=block_size,
                  bias=bias, vocab_size=meta_vocab_size or 50304, dropout=dropout, tie_embeddings=tie_embeddings)
try:  # same init on every rank: the seed is set right before init_params
    model, infos = P.build_model(config, model_args, device, seed=seed)
except ValueError as e:
    die(e)
gptconf = model.config
model_args = asdict(gptconf)  # with the forward multipliers, saved in checkpoints
if fsdp:  # FSDP2: shard every Block, then the root (embeddings, final norm, readout); parameters become DTensors
    from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard
    mp = MixedPrecisionPolicy(param_dtype=ptdtype, reduce_dtype=torch.float32) if ptdtype != torch.float32 \
        else MixedPrecisionPolicy()  # bf16 compute copies, fp32 gradient reduction, fp32 sharded masters
    for block in model.transformer.h:
        fully_shard(block, mp_policy=mp)
    fully_shard(model, mp_policy=mp)
try:  # from the raw model: names without wrapper prefixes
    groups = P.param_groups(model, config, role_family, infos)
except ValueError as e:
    die(e)
# FSDP2: foreach (fused + DTensor untested); the batch rule may change beta2 (parameterization.optimizer_overrides)
opt_config = dict(config, tokens_per_iter=tokens_per_iter, fused=not fsdp, **P.optimizer_overrides(config))
if ddp and getattr(opt_cls, 'needs_full_tensors', False):
    # whole-matrix optimizers: one owner rank per parameter steps it on the full tensor (optim/distributed.py)
    from optim.distributed import OwnerOptimizer
    optimizer_obj = OwnerOptimizer(lambda gs: optim.build_optimizer(optimizer, gs, opt_config), groups, rank,
                                   world_size)
else:
    optimizer_obj = optim.build_optimizer(optimizer, groups, opt_config)
iter_num, best_val_loss, best_iter = 0, float('inf'), 0
if resume:
    print0(f"resuming from {ckpt_path}")
    ckpt = torch.load(ckpt_path, map_location=device, weights_only=False)
    changed = {k: (v, model_args.get(k)) for k, v in ckpt['model_args'].items() if model_args.get(k) != v}
    if changed:
        die(f"{ckpt_path} was written by a different model ({', '.join(f'{k}: {a} -> {b}' for k, (a, b) in changed.items())}): "
            f"resume with the same model and parameterization config, or use another run_name")
    dist.load_full_model_state(model, ckpt['model'])
    dist.load_full_optimizer_state(optimizer_obj, ckpt['optimizer'])
    iter_num, best_val_loss, best_iter = ckpt['iter_num'], ckpt['best_val_loss'], ckpt['best_iter']
    torch.set_rng_state(ckpt['rng']['torch'])
    if device_type == 'cuda' and ckpt['rng']['cuda'] is not None:
        torch.cuda.set_rng_state(ckpt['rng']['cuda'])
    if len(ckpt['rng']['data']) != gradient_accumulation_steps:
        die(f"{ckpt_path} has {len(ckpt['rng']['data'])} data streams but gradient_accumulation_steps="
            f"{gradient_accumulation_steps}: resume with the same gradient_accumulation_steps")
    for j, r in zip(micro_ids, data_rngs):
        r.bit_generator.state = ckpt['rng']['data'][j]
    ckpt = None
raw_model = model
print0(f"model: {model.get_num_params() / 1e6:.2f}M parameters, {parameterization} ({family} family, "
       f"alignment {alignment}, lr_scaling {lr_scaling}), forward mults "
       + ', '.join(f"{k}={getattr(gptconf, k):.4g}" for k in ('emb_mult', 'hidden_mult', 'logit_mult',
                                                             'attn_scale', 'branch_mult')))
groups_table = P.describe(groups)
print0(groups_table)
scaler = torch.amp.GradScaler(device_type, enabled=(dtype == 'float16'))
if compile and device_type == 'cuda':
    print0("compiling the model...")
    model = torch.compile(model)
eval_model = model  # compiled, not DDP-wrapped: rank 0 evaluates alone (under FSDP every rank takes part)
if ddp and not fsdp:
    from torch.nn.parallel import DistributedDataParallel as DDP
    model = DDP(model, device_ids=[local_rank] if device_type == 'cuda' else None)


# -----------------------------------------------------------------------------
# schedule, evaluation, checkpointing, metrics

def lr_multiplier(it):
    """Multiplier of every group's initial_lr at iteration it: linear warmup, then the chosen decay."""
    if it < warmup_iters:
        return (it + 1) / (warmup_iters + 1)
    if lr_schedule == 'constant':
        return 1.0
    if lr_schedule == 'wsd':  # warmup-stable-decay: flat, then linear decay over the last wsd_decay_frac
        decay_start = lr_decay_iters * (1 - wsd_decay_frac)
        if it < decay_start:
            return 1.0
        frac = min(1.0, (it - decay_start) / max(1, lr_decay_iters - decay_start))
        return 1.0 - frac * (1.0 - min_lr_ratio)
    frac = min(1.0, (it - warmup_iters) / max(1, lr_decay_iters - warmup_iters))
    if lr_schedule == 'linear':
        return 1.0 - frac * (1.0 - min_lr_ratio)
    return min_lr_ratio + 0.5 * (1.0 + math.cos(math.pi * frac)) * (1.0 - min_lr_ratio)  # cosine


@torch.no_grad()
def estimate_loss():
    """Mean loss over eval_iters batches per split; the same batches at every evaluation."""
    out = {}
    model.eval()
    for i, split in enumerate(('train', 'val')):
        rng = np.random.default_rng([seed, 10_000 + i])
        losses = torch.zeros(eval_iters)
        for k in range(eval_iters):
            X, Y = get_batch(split, rng)
            with ctx:
                _, loss = eval_model(X, Y)
            losses[k] = loss.item()
        out[split] = losses.mean().item()
    model.train()
    return out


def set_grad_sync(flag):
    """Whether the next backward reduces gradients across ranks (only the last micro-step's does)."""
    if fsdp:
        raw_model.set_requires_gradient_sync(flag)
    elif ddp:
        model.require_backward_grad_sync = flag


def atomic_json(obj, path):
    with open(path + '.tmp', 'w') as f:
        json.dump(obj, f, indent=2)
    os.replace(path + '.tmp', path)


def next_train_batch(k):
    """The batch of this rank's k-th micro-step; remembers the stream's state before drawing it, which is what a
    checkpoint saves, so a resumed run redraws the batch that was already prefetched."""
    global prefetched
    prefetched = (k, data_rngs[k].bit_generator.state)
    return get_batch('train', data_rngs[k])


def save_checkpoint():
    # every stream of every rank, in global micro-step order; the prefetched batch's stream as before the draw
    states = [r.bit_generator.state for r in data_rngs]
    states[prefetched[0]] = prefetched[1]
    data_states = [s for part in dist.gather_objects(states) for s in part]
    model_state = dist.full_model_state(raw_model)  # under FSDP: shards gathered (every rank takes part)
    optim_state = dist.full_optimizer_state(optimizer_obj)
    if not master_process:
        return
    ckpt = dict(model=model_state, optimizer=optim_state, model_args=model_args,
                iter_num=iter_num, best_val_loss=best_val_loss, best_iter=best_iter, config=config,
                rng=dict(torch=torch.get_rng_state(),
                         cuda=torch.cuda.get_rng_state() if device_type == 'cuda' else None, data=data_states))
    torch.save(ckpt, ckpt_path + '.tmp')
    os.replace(ckpt_path + '.tmp', ckpt_path)  # a kill mid-write never leaves a truncated ckpt.pt


def log_metrics(row):
    if master_process:
        metrics_file.write(json.dumps(row) + '\n')
        metrics_file.flush()


if master_process:
    os.makedirs(run_dir, exist_ok=True)
    atomic_json(config, os.path.join(run_dir, 'config.json'))
    with open(os.path.join(run_dir, 'groups.txt'), 'w') as f:
        f.write(groups_table + '\n')
    metrics_path = os.path.join(run_dir, 'metrics.jsonl')
    kept = []
    if resume and os.path.exists(metrics_path):  # drop rows a killed run wrote after its last checkpoint
        kept = [line for line in open(metrics_path) if json.loads(line)['iter'] <= iter_num]
    metrics_file = open(metrics_path, 'w')
    metrics_file.writelines(kept)
    metrics_file.flush()

# -----------------------------------------------------------------------------
# training loop
X, Y = next_train_batch(0)  # first batch
t_start = time.time()
t0 = t_start
start_iter = iter_num
first_loss = None
last_train_loss = float('nan')
last_val_loss = float('nan')
diverged = stopped_early = False
mfu_avg, dt_sum, dt_count = -1.0, 0.0, 0
skip_eval = resume  # the checkpoint was written right after the evaluation at this iteration
while True:
    lrm = lr_multiplier(iter_num)
    for group in optimizer_obj.param_groups:
        group['lr'] = group['initial_lr'] * lrm

    # evaluate, early-stop, checkpoint (rank 0 evaluates, every rank gets the decision)
    if (iter_num % eval_interval == 0 or iter_num == max_iters) and not skip_eval:
        if hasattr(optimizer_obj, 'eval'):  # eval-time weights (Schedule-Free's x, SPlus's EMA), on every rank
            optimizer_obj.eval()
        losses = estimate_loss() if master_process or fsdp else {'train': 0.0, 'val': 0.0}
        if hasattr(optimizer_obj, 'train'):  # back to the training weights: checkpoints hold these (exact resume)
            optimizer_obj.train()
        train_l, val_l = dist.broadcast_floats([losses['train'], losses['val']], device)
        last_val_loss = val_l
        if val_l < best_val_loss:
            best_val_loss, best_iter = val_l, iter_num
        print0(f"step {iter_num}: train loss {train_l:.4f}, val loss {val_l:.4f}")
        log_metrics(dict(iter=iter_num, kind='eval', train_loss=train_l, val_loss=val_l, lr_mult=lrm))
        if not math.isfinite(val_l):
            diverged = True
        if early_stop_patience and iter_num - best_iter >= early_stop_patience:
            stopped_early = True
        if always_save_checkpoint or iter_num == max_iters or stopped_early or diverged:
            save_checkpoint()
        t0 = time.time()  # keep evaluation out of the step timing
    skip_eval = False
    if alignment_interval and iter_num % alignment_interval == 0 and (master_process or fsdp) \
            and not (resume and iter_num == start_iter):  # a resumed run already logged this iteration
        # on one fixed validation batch, uncompiled raw model, eval mode (no dropout): comparable across steps
        Xa, _ = get_batch('val', np.random.default_rng([seed, 20_000]))
        raw_model.eval()
        with ctx:
            align = measure.alignment_by_layer(raw_model, Xa)
        raw_model.train()
        log_metrics(dict(iter=iter_num, kind='alignment', **{f'A/{k}': v for k, v in align.items()}))
        t0 = time.time()
    if eval_only or iter_num >= max_iters or stopped_early or diverged:
        break

    # forward / backward with gradient accumulation; DDP/FSDP sync gradients only on the last micro-step
    loss_sum, batches = 0.0, []
    for micro_step in range(accum_steps):
        set_grad_sync(micro_step == accum_steps - 1)
        with ctx:
            _, loss = model(X, Y)
            loss = loss / accum_steps
        batches.append(X)  # kept for Sophia's Hessian refresh
        X, Y = next_train_batch((micro_step + 1) % accum_steps)  # prefetch the next batch while the GPU works
        scaler.scale(loss).backward()
        loss_sum = loss_sum + loss.detach()
    if grad_clip != 0.0:
        scaler.unscale_(optimizer_obj)
        torch.nn.utils.clip_grad_norm_(raw_model.parameters(), grad_clip)
    scaler.step(optimizer_obj)
    scaler.update()
    optimizer_obj.zero_grad(set_to_none=True)
    if hasattr(optimizer_obj, 'hessian_due') and optimizer_obj.hessian_due():
        # Sophia's Gauss-Newton-Bartlett estimate (Liu et al. Alg. 2): labels sampled from the model's own logits,
        # the gradient of that loss -> h <- b2 h + (1 - b2) g*g (official train_sophiag.py: one micro-batch per
        # GPU, so the Hessian batch grows with the ranks; hessian_micro_steps=0 uses the whole iteration's batch,
        # which is the same on any number of ranks). Inputs: this iteration's micro-batches (the official code
        # takes the next one; same distribution). Labels come from a generator keyed by (seed, iteration, global
        # micro-step), so the sample does not depend on the world size.
        hb = batches if hessian_micro_steps == 0 else batches[:hessian_micro_steps]
        for k, Xh in enumerate(hb):
            set_grad_sync(k == len(hb) - 1)
            with ctx:
                logits, _ = model(Xh, Xh)  # targets only to get logits at every position: (B, T, vocab)
            loss_sampled = sampled_label_loss(logits, hessian_sample_seed(seed, iter_num, micro_ids[k])) / len(hb)
            loss_sampled.backward()  # unscaled: the grad scaler's unscale_ belongs to the training step
        if grad_clip != 0.0:
            torch.nn.utils.clip_grad_norm_(raw_model.parameters(), grad_clip)
        optimizer_obj.update_hessian()
        optimizer_obj.zero_grad(set_to_none=True)

    t1 = time.time()
    dt, t0 = t1 - t0, t1
    iter_num += 1
    if iter_num % log_interval == 0 or iter_num == max_iters:
        lossf = dist.all_mean(loss_sum).item()  # the iteration's mean loss over all micro-steps and ranks
        first_loss = lossf if first_loss is None else first_loss
        bad = not math.isfinite(lossf) or lossf > diverge_factor * first_loss
        if iter_num - start_iter > 5:  # let compilation and warm-up pass before timing
            mfu = raw_model.estimate_mfu(tokens_per_iter, dt)
            mfu_avg = mfu if mfu_avg == -1.0 else 0.9 * mfu_avg + 0.1 * mfu
            dt_sum, dt_count = dt_sum + dt, dt_count + 1
        last_train_loss = lossf
        print0(f"iter {iter_num}: loss {lossf:.4f}, time {dt * 1000:.2f}ms, mfu {max(mfu_avg, 0) * 100:.2f}%")
        log_metrics(dict(iter=iter_num, kind='train', loss=lossf, lr_mult=lrm, ms=dt * 1000))
        if dist.any_rank(bad, device):
            diverged = True
            print0(f"DIVERGED at iter {iter_num}: loss {lossf} (non-finite or above {diverge_factor} x the first "
                   f"logged loss {first_loss:.4f})")
            break

# -----------------------------------------------------------------------------
# summary: what scripts read (sweeps skip runs whose summary.json exists)
wall = time.time() - t_start
if master_process:
    summary = dict(run_name=run_name, parameterization=parameterization, optimizer=optimizer, family=family,
                   n_embd=gptconf.n_embd, n_layer=n_layer, n_head=gptconf.n_head, learning_rate=learning_rate,
                   seed=seed, best_val_loss=best_val_loss if math.isfinite(best_val_loss) else None,
                   best_iter=best_iter, final_val_loss=last_val_loss if math.isfinite(last_val_loss) else None,
                   final_train_loss=last_train_loss if math.isfinite(last_train_loss) else None,
                   diverged=diverged, stopped_early=stopped_early, iters=iter_num,
                   tokens=iter_num * tokens_per_iter, wall_time_s=wall,
                   ms_per_iter=1000 * dt_sum / dt_count if dt_count else None,
                   tokens_per_s=tokens_per_iter * dt_count / dt_sum if dt_count else None,
                   mfu=mfu_avg if mfu_avg >= 0 else None)
    atomic_json(summary, os.path.join(run_dir, 'summary.json'))
    metrics_file.close()
    if diverged:
        print(f"run diverged: stopped at iter {iter_num}; {run_dir}/summary.json has diverged: true")
    else:
        print(f"done: best val loss {best_val_loss:.4f} at iter {best_iter}, final val loss {last_val_loss:.4f}"
              + (" (early stop)" if stopped_early else "") + f"; results in {run_dir}")
if sample_tokens and not diverged:
    if hasattr(optimizer_obj, 'eval'):  # sample from the eval-time weights (Schedule-Free's x, SPlus's EMA)
        optimizer_obj.eval()  # every rank (whole-tensor optimizers broadcast from their owners)
    if master_process or fsdp:  # under FSDP every rank runs the forward passes, rank 0 prints
        raw_model.eval()
        start = torch.zeros((1, 1), dtype=torch.long, device=device)
        if meta_vocab_size and 'stoi' in meta:
            start[0, 0] = meta['stoi'].get('\n', 0)
        torch.manual_seed(seed)
        with ctx:
            out = raw_model.generate(start, sample_tokens, temperature=0.8, top_k=200)[0].tolist()
        if meta_vocab_size and 'itos' in meta:
            text = ''.join(meta['itos'][i] for i in out)
        else:
            import tiktoken
            text = tiktoken.get_encoding('gpt2').decode(out)
        dist.print0(f"--- sample ---\n{text}\n--------------")
dist.cleanup()
