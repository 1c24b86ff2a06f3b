"""
The one training script. Runs on one device or under torchrun (DDP, or FSDP2 with --parallel=fsdp):

    $ python train.py config/mup_adamw.py --n_embd=512
    $ torchrun --standalone --nproc_per_node=4 train.py config/mup_adamw.py
    $ torchrun --standalone --nproc_per_node=4 train.py config/mup_splus.py --parallel=fsdp

Order, as in nanoGPT: defaults -> configurator -> checks -> distributed -> data -> the run folder -> model
(parameterization: forward multipliers, init) -> param groups -> optimizer -> loop. Every run writes
<out_dir>/<run_name>/: config.json, groups.txt, metrics.jsonl, summary.json, ckpt.pt (written atomically;
init_from='resume' continues exactly, wall time and step timing accumulate over the segments).

Bad input (config, data, checkpoint, out_dir, device) stops the run with one `error:` line before the model is
built or a file is written. A run folder belongs to one run and one live process: it is locked (<run dir>/.lock)
while a process runs in it; a folder holding a run of another config is refused (naming the keys) unless
overwrite=True; a finished run is left as it is (init_from='auto' / 'resume' print that it is finished and exit 0)
unless a larger max_iters asks it to continue; a resume may change only the keys in RESUME_SAFE.
"""

import fcntl
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
import logger
import measure
import optim
import parameterization as P
from optim.sophia import hessian_sample_seed, sampled_label_loss
import configurator
from configurator import ConfigError, configure
from model import gpu_peak_flops


# -----------------------------------------------------------------------------
# default config values: a width-256 muP AdamW run on Tiny Shakespeare (char)
# I/O
out_dir = 'out'
run_name = ''  # '' -> <dataset>_<parameterization>_<optimizer>_w<n_embd>_d<n_layer>_lr<learning_rate>_s<seed>
overwrite = False  # True: delete the run already in the run folder (another config, or finished) and start over
eval_interval = 250
log_interval = 10
eval_iters = 20  # batches per split per evaluation (the same batches every time: fixed eval RNG)
eval_only = False
always_save_checkpoint = True  # write ckpt.pt at every evaluation (needed to resume a killed run)
init_from = 'scratch'  # 'scratch' | 'resume' (from <run dir>/ckpt.pt) | 'auto' (resume if ckpt.pt exists)
# (a folder holding another run is refused, a finished run is left as it is; see plan_run below)
seed = 1337
sample_tokens = 0  # generate and print this many tokens at the end (0: no sample)
alignment_interval = 0  # > 0: log Everett's log alignment ratio (Def. 3.1) of every dense layer this often
wandb_log = False  # also log the metrics rows to Weights & Biases (logger.py; needs the wandb package)
wandb_project = 'nanomup'
wandb_run_name = ''  # '' -> run_name
tensorboard = False  # also log the metrics rows to TensorBoard: event files in <run dir>/tb/ (needs tensorboard)
# data
dataset = 'shakespeare_char'
gradient_accumulation_steps = 1  # micro-steps per optimizer step (total over all ranks)
batch_size = 32  # sequences per micro-step per rank
block_size = 256
train_set_tokens = 0  # > 0: train on the first this-many tokens of train.bin only (a small training set: many
# epochs in a short run; validation still uses all of val.bin)
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
optimizer_family = ''  # '' = the optimizer's own family; or sgd | adam | adafactor | invariant | invariant_rms
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
compile = torch.cuda.is_available()  # torch.compile the model (inductor, on CUDA or the CPU); default: on CUDA
# -----------------------------------------------------------------------------
# optimizer-specific hyperparameters (sophia_rho, splus_inverse_every, ...): each optim/<name>.py declares its own
# keys and defaults in `hparams`; they become config globals here, so --sophia_rho=0.05 works like any other key
globals().update(optim.hparam_defaults())
config_keys = [k for k, v in globals().items() if not k.startswith('_') and isinstance(v, configurator.CONFIG_TYPES)]

# Keys a resumed run may change; a change to any other key is refused, naming the keys. None of these changes a
# number the run computes for its iterations (model, data order, optimizer, LR schedule, evaluation batches are all
# fixed by the other keys): they set where it stops (max_iters), how often it evaluates, logs, measures and
# checkpoints, the sample printed at the end, where its files live, and how it is launched (parallel: checkpoints
# are in single-device format and an iteration does not depend on the number of ranks, tests/test_distributed.py).
# lr_decay_iters=0 means "max_iters", so a new max_iters that moves a decaying schedule's end is refused too
# (config_changes compares lr_decay_iters as resolved).
RESUME_SAFE = ('init_from', 'overwrite', 'out_dir', 'run_name', 'max_iters', 'eval_interval', 'log_interval',
               'always_save_checkpoint', 'alignment_interval', 'sample_tokens', 'parallel',
               'wandb_log', 'wandb_project', 'wandb_run_name', 'tensorboard')
RUN_FILES = ('summary.json', 'ckpt.pt', 'metrics.jsonl', 'config.json', 'groups.txt')  # summary.json first: the mark
# that the run is done goes before anything else when a run is started over
CKPT_KEYS = ('model', 'optimizer', 'model_args', 'iter_num', 'best_val_loss', 'best_iter', 'config', 'rng')
# Training FLOPs per iteration above which a CPU run is pointed to config/demo_cpu.py: 1e11 is about 1 s per
# iteration at 100 GFLOP/s, what a few CPU cores reach in fp32 (the baby GPT of config/mup_adamw.py needs 1.2e12)
CPU_HINT_FLOPS = 1e11
defaults = {k: globals()[k] for k in config_keys}
_on_error = []  # undo actions for die(): a refused run leaves no folder it created


def die(msg):
    print(f"error: {msg}", file=sys.stderr)
    for undo in _on_error:
        undo()
    sys.exit(2)


def warn(msg):
    print(f"warning: {msg}", file=sys.stderr)


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
for key in ('batch_size', 'block_size', 'eval_iters', 'eval_interval', 'log_interval', 'gradient_accumulation_steps'):
    if config[key] <= 0:
        die(f"{key}={config[key]}: must be a positive integer")
for key in ('max_iters', 'warmup_iters', 'lr_decay_iters', 'learning_rate', 'weight_decay', 'grad_clip',
            'sample_tokens', 'alignment_interval', 'early_stop_patience'):
    if config[key] < 0:
        die(f"{key}={config[key]}: must be >= 0")
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
why = logger.check(config)  # wandb_log / tensorboard: the package is there, before any work
if why:
    die(why)
if init_from not in ('scratch', 'resume', 'auto'):
    die(f"unknown init_from '{init_from}': choose one of scratch, resume, auto")
if overwrite and init_from == 'resume':
    die("overwrite=True deletes the run in the folder and starts over: it cannot be combined with init_from='resume'")
if device.startswith('cuda') and not torch.cuda.is_available():
    die(f"device='{device}' but torch {torch.__version__} sees no CUDA GPU here: use --device=cpu --dtype=float32 "
        f"--compile=False (config/demo_cpu.py sets them, with a model sized for a CPU)")
if device == 'cpu' and dtype == 'float16':
    die("dtype='float16' on the CPU: use --dtype=bfloat16 (CPU autocast) or --dtype=float32 (fp16 needs a CUDA GPU)")
try:  # the optimizer's own hyperparameters, on a stand-in tensor: a bad one is refused before any work
    _probe = dict(params=[torch.zeros(2, 2, requires_grad=True)], role='hidden', lr=learning_rate, eps=eps,
                  weight_decay=weight_decay)
    optim.build_optimizer(optimizer, [_probe], dict(config, tokens_per_iter=1, fused=False))
except ValueError as e:
    die(e)
own_hparams = set(getattr(opt_cls, 'hparams', {}))
other_hparams = {k: v for k, v in optim.hparam_defaults().items() if k not in own_hparams}  # no effect on this run
dataset_name = os.path.basename(os.path.normpath(dataset))  # a dataset given as a path is named by its folder
run_name = run_name or f"{dataset_name}_{parameterization}_{optimizer}_w{n_embd}_d{n_layer}_lr{learning_rate:g}_s{seed}"
run_dir = os.path.join(out_dir, run_name)
config['run_name'] = run_name
lr_decay_iters = lr_decay_iters or max_iters


def folder_problem(path):
    """Why a folder cannot be created and written at path (None if it can), judged from its first existing
    ancestor: nothing is created here."""
    p = os.path.abspath(path)
    while not os.path.exists(p):
        p = os.path.dirname(p)
    if not os.path.isdir(p):
        return f"{p} is a file"
    if not os.access(p, os.W_OK | os.X_OK):
        return f"{p} is not writable"
    return None


why = folder_problem(run_dir)
if why:
    die(f"cannot write the run folder {run_dir}: {why}; choose another --out_dir (or --run_name)")

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
device_type = 'cuda' if 'cuda' in device else 'cpu'
if master_process:
    for key, default in other_hparams.items():
        if config[key] != default:
            owner = next(n for n in optim.REGISTRY if key.startswith(n + '_') and
                         key in getattr(optim.get_optimizer_class(n), 'hparams', {}))
            warn(f"{key}={config[key]!r} is a hyperparameter of optimizer '{owner}': it has no effect with "
                 f"optimizer '{optimizer}'")
n_threads = torch.get_num_threads()
print0(f"device: {device} ({torch.cuda.get_device_name(device)})" if device_type == 'cuda' else
       f"device: cpu ({n_threads} thread{'s' if n_threads != 1 else ''})")
print0(f"tokens per iteration: {tokens_per_iter:,} ({world_size} ranks x {accum_steps} micro-steps x "
       f"{batch_size} x {block_size}){' with FSDP2' if fsdp else ' with DDP' if ddp and world_size > 1 else ''}")
torch.backends.cuda.matmul.allow_tf32 = True
torch.backends.cudnn.allow_tf32 = True
ptdtype = {'float32': torch.float32, 'bfloat16': torch.bfloat16, 'float16': torch.float16}[dtype]
ctx = nullcontext() if dtype == 'float32' else torch.autocast(device_type, dtype=ptdtype)  # CPU: bf16 autocast

# -----------------------------------------------------------------------------
# data: uint16 token files written by data/<dataset>/prepare.py, read through np.memmap; checked before any work
data_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data', dataset)
prepare_cmd = f"python data/{dataset}/prepare.py"
for split in ('train', 'val'):
    path = os.path.join(data_dir, f'{split}.bin')
    if not os.path.exists(path):
        die(f"missing {path}: run `{prepare_cmd}` first")
    size = os.path.getsize(path)
    if size == 0:
        die(f"{path} is empty: run `{prepare_cmd}` again")
    if size % 2:
        die(f"{path} has {size} bytes, not a whole number of uint16 tokens (cut short?): run `{prepare_cmd}` again")
    if size // 2 < block_size + 1:  # a batch row is block_size + 1 consecutive tokens (inputs and shifted targets)
        die(f"{path} has {size // 2} tokens, fewer than block_size + 1 = {block_size + 1}: use a smaller "
            f"--block_size or more data")
    if split == 'train' and train_set_tokens and not block_size + 1 <= train_set_tokens <= size // 2:
        die(f"train_set_tokens={train_set_tokens}: must lie between block_size + 1 = {block_size + 1} and the "
            f"{size // 2} tokens of {path} (0: all of them)")
meta_path = os.path.join(data_dir, 'meta.pkl')
meta, meta_vocab_size = None, None
if os.path.exists(meta_path):
    try:
        with open(meta_path, 'rb') as f:
            meta = pickle.load(f)
    except Exception as e:
        die(f"cannot read {meta_path} ({type(e).__name__}: {str(e)[:100]}): run `{prepare_cmd}` again")
    if not isinstance(meta, dict) or not isinstance(meta.get('vocab_size'), int) or meta['vocab_size'] <= 0:
        die(f"{meta_path} has no vocab_size (a positive int): run `{prepare_cmd}` again")
    meta_vocab_size = meta['vocab_size']
vocab_size = meta_vocab_size or 50304  # no meta.pkl: GPT-2's BPE, 50257 padded to a multiple of 64
for split in ('train', 'val'):  # an id >= the vocabulary would index past the embedding table (a CUDA assert)
    path = os.path.join(data_dir, f'{split}.bin')
    top = int(np.memmap(path, dtype=np.uint16, mode='r').max())
    if top >= vocab_size:
        die(f"token id {top} in {path} is >= the model's vocab_size {vocab_size} "
            f"({'from ' + meta_path if meta else 'GPT-2, as there is no meta.pkl'}): the data and its vocabulary "
            f"do not match; run `{prepare_cmd}` again")
decode = None  # token ids -> text, for the sample printed at the end
if sample_tokens:
    if meta is not None and 'itos' in meta:
        decode = lambda ids: ''.join(meta['itos'][i] for i in ids)  # noqa: E731
    else:  # checked now, not after the run: tiktoken downloads the encoding on first use
        try:
            import tiktoken
            decode = tiktoken.get_encoding('gpt2').decode
        except Exception as e:
            die(f"sample_tokens={sample_tokens} needs {meta_path} (with itos) or tiktoken's GPT-2 encoding, which "
                f"is not available here ({type(e).__name__}): set --sample_tokens=0, or install tiktoken and let "
                f"it download the encoding once")
# One random stream per global micro-step j (0 <= j < gradient_accumulation_steps), seeded [seed, j]; rank r
# draws micro-steps r*accum_steps ... (r+1)*accum_steps-1. Each rank draws different batches, and an iteration's
# global batch does not depend on the number of ranks: 2 ranks x 1 micro-step == 1 rank x 2 micro-steps, exactly.
# (All stream states are saved in checkpoints, so a run resumes on another world size with the same batches.)
micro_ids = list(range(rank * accum_steps, (rank + 1) * accum_steps))
data_rngs = [np.random.default_rng([seed, j]) for j in micro_ids]


def get_batch(split, rng):
    # recreate the memmap every batch to avoid a memory leak (numpy issue, see nanoGPT)
    data = np.memmap(os.path.join(data_dir, f'{split}.bin'), dtype=np.uint16, mode='r')
    if split == 'train' and train_set_tokens:
        data = data[:train_set_tokens]  # a smaller training set: its epochs are train_set_tokens / tokens per iter
    ix = rng.integers(len(data) - block_size, size=batch_size)
    x = torch.stack([torch.from_numpy(data[i:i + block_size].astype(np.int64)) for i in ix])
    y = torch.stack([torch.from_numpy(data[i + 1:i + 1 + block_size].astype(np.int64)) for i in ix])
    if device_type == 'cuda':
        return x.pin_memory().to(device, non_blocking=True), y.pin_memory().to(device, non_blocking=True)
    return x.to(device), y.to(device)


model_args = dict(n_layer=n_layer, n_head=n_head, head_dim=head_dim, n_embd=n_embd, block_size=block_size,
                  bias=bias, vocab_size=vocab_size, dropout=dropout, tie_embeddings=tie_embeddings)
try:  # on the meta device (no memory, no init cost): shape errors now, before the run folder is touched
    flops_per_iter = P.build_model(config, model_args, 'meta')[0].estimate_flops_per_token() * tokens_per_iter
except ValueError as e:
    die(e)

# -----------------------------------------------------------------------------
# the run folder: one live process per folder (a lock), one run per folder (its config), a finished run is kept
ckpt_path = os.path.join(run_dir, 'ckpt.pt')
metrics_path = os.path.join(run_dir, 'metrics.jsonl')
summary_path = os.path.join(run_dir, 'summary.json')


def take_run_lock():
    """An exclusive flock on <run dir>/.lock, held for this process's life (the kernel drops it when the process
    dies, however it dies): (fd, None), or (None, why) when another live process holds it."""
    top = os.path.abspath(run_dir)
    while not os.path.exists(os.path.dirname(top)) and os.path.dirname(top) != top:
        top = os.path.dirname(top)
    created = not os.path.exists(top)
    try:
        os.makedirs(run_dir, exist_ok=True)
        fd = os.open(os.path.join(run_dir, '.lock'), os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        return None, f"cannot create {run_dir} ({e.strerror}): choose another --out_dir"
    if created:  # a refused run removes the folders it made
        def undo():
            os.close(fd)
            os.unlink(os.path.join(run_dir, '.lock'))
            p = os.path.abspath(run_dir)
            while True:
                try:
                    os.rmdir(p)
                except OSError:
                    break
                if p == top:
                    break
                p = os.path.dirname(p)
        _on_error.append(undo)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors='replace').strip() or '?'
        return None, (f"{run_dir} is in use by another live process (pid {holder}), which holds {run_dir}/.lock: "
                      f"wait for it or stop it (two processes in one run folder would mix their files)")
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd, None


def load_checkpoint(path):
    """(checkpoint dict, None), or (None, why) when the file is truncated, not a torch file or not train.py's."""
    try:
        ck = torch.load(path, map_location=device, weights_only=False)
    except Exception as e:
        first = (str(e).strip().splitlines() or [''])[0][:120]
        return None, (f"{path} is not a readable checkpoint ({type(e).__name__}: {first}): restore it, or start "
                      f"over with --overwrite=True")
    missing = [k for k in CKPT_KEYS if not isinstance(ck, dict) or k not in ck]
    if missing:
        return None, (f"{path} is not a checkpoint written by train.py (it has no {', '.join(missing)}): restore "
                      f"it, or start over with --overwrite=True")
    return ck, None


def config_changes(old):
    """['key: old -> new'] for every key whose value differs between a run folder's config and this run's, except
    RESUME_SAFE and other optimizers' hyperparameters (no effect here). A key the old config lacks (written before
    the key existed) counts as its default. lr_decay_iters is compared as resolved (0 = max_iters) under a
    decaying schedule, and not at all under a constant one (it is not used); max_iters counts when an LR rule
    reads it (base_train_tokens: the horizon rule)."""
    o = json.loads(json.dumps({**defaults, **{k: v for k, v in old.items() if k in defaults}}))  # as in config.json
    n = json.loads(json.dumps(config))
    for c in (o, n):
        c['lr_decay_iters'] = (c['lr_decay_iters'] or c['max_iters']) if c['lr_schedule'] != 'constant' else None
        c['max_iters (LR horizon rule)'] = c['max_iters'] if c.get('base_train_tokens') else None
    keys = [k for k in config_keys if k not in set(RESUME_SAFE) | set(other_hparams)] + ['max_iters (LR horizon rule)']
    return [f"{k}: {o[k]} -> {n[k]}" + (' (0 = max_iters)' if k == 'lr_decay_iters' else '')
            for k in keys if o[k] != n[k]]


def read_metrics(upto):
    """(lines of metrics.jsonl up to iteration `upto`, None) -- a killed run wrote rows after its checkpoint, and
    a torn last line (killed mid-write) is dropped -- or (None, why) when another line is not JSON."""
    if not os.path.exists(metrics_path):
        return [], None
    with open(metrics_path, encoding='utf-8', errors='replace') as f:
        lines = f.read().splitlines()
    kept = []
    for i, line in enumerate(lines):
        try:
            row = json.loads(line)
        except ValueError:
            if i == len(lines) - 1:
                print0(f"{metrics_path}: dropped a torn last line (the run was killed while writing it)")
                continue
            return None, (f"{metrics_path} line {i + 1} is not JSON: repair or delete that line, or start over with "
                          f"--overwrite=True")
        if row.get('iter', 0) <= upto:
            kept.append(line + '\n')
    return kept, None


def plan_run():
    """What to do with the run folder, from what it holds (reads only): dict(action=...) with action one of
    fresh | overwrite | restart (an unfinished run of this config, started over) | resume | finished | error."""
    present = [f for f in RUN_FILES if os.path.exists(os.path.join(run_dir, f))]
    if overwrite:
        return dict(action='overwrite' if present else 'fresh')
    has_ckpt = os.path.exists(ckpt_path)
    if init_from == 'resume' and not has_ckpt:
        return dict(action='error', msg=f"init_from='resume' but {ckpt_path} does not exist: check out_dir/run_name "
                                        f"or use init_from='scratch'")
    if not present:
        return dict(action='fresh')
    ckpt = old = None
    if has_ckpt and init_from != 'scratch':
        ckpt, why = load_checkpoint(ckpt_path)
        if why:
            return dict(action='error', msg=why)
        old = ckpt['config']
    elif os.path.exists(os.path.join(run_dir, 'config.json')):
        try:
            with open(os.path.join(run_dir, 'config.json')) as f:
                old = json.load(f)
        except (OSError, ValueError) as e:
            return dict(action='error', msg=f"{run_dir}/config.json is unreadable ({type(e).__name__}): use another "
                                            f"--run_name, or --overwrite=True to delete that run")
    if not isinstance(old, dict):
        return dict(action='error', msg=f"{run_dir} holds {', '.join(present)} but no config saying which run they "
                                        f"belong to: use another --run_name, or --overwrite=True to delete them")
    changes = config_changes(old)
    if changes:
        return dict(action='error', msg=f"{run_dir} holds a different run ({'; '.join(changes)}): use another "
                                        f"--run_name, or --overwrite=True to delete that run and start this one")
    summary = None
    if os.path.exists(summary_path):
        try:
            with open(summary_path) as f:
                summary = json.load(f)
        except (OSError, ValueError) as e:
            return dict(action='error', msg=f"{summary_path} is unreadable ({type(e).__name__}): delete it to "
                                            f"resume, or --overwrite=True to start over")
    finished = summary is not None and bool(summary.get('diverged') or summary.get('stopped_early') or
                                            summary.get('iters', 0) >= max_iters)
    done_msg = (f"{run_dir} holds this run, already finished ({summary.get('iters')} iterations"
                + ('; diverged' if summary.get('diverged') else '') + ('; stopped early' if summary.get('stopped_early')
                else '') + "): nothing to do, its files are kept. To train further: --init_from=resume with a "
                "larger --max_iters") if summary is not None else ''
    if ckpt is not None:
        if finished:
            return dict(action='finished', msg=done_msg)
        if ckpt['iter_num'] > max_iters:
            return dict(action='error', msg=f"{ckpt_path} is at iteration {ckpt['iter_num']}, past max_iters="
                                            f"{max_iters}: resume with --max_iters={ckpt['iter_num']} or more")
        kept, why = read_metrics(ckpt['iter_num'])
        if why:
            return dict(action='error', msg=why)
        return dict(action='resume', ckpt=ckpt, kept=kept, continuing=summary is not None)
    if summary is not None:
        if finished and init_from == 'auto':
            return dict(action='finished', msg=done_msg)
        return dict(action='error', msg=f"{run_dir} holds a finished run of this config ({summary.get('iters')} "
                                        f"iterations, summary.json): "
                                        + ("--init_from=resume with a larger --max_iters continues it, " if has_ckpt
                                           else "it has no ckpt.pt to continue from; ")
                                        + "--overwrite=True deletes it and starts over")
    return dict(action='restart')


ACTIONS = ('error', 'finished', 'fresh', 'overwrite', 'restart', 'resume')
plan = dict(action='fresh')
if master_process:
    lock_fd, why = take_run_lock()
    plan = plan_run() if lock_fd is not None else dict(action='error', msg=why)
action = ACTIONS[int(dist.broadcast_floats([float(ACTIONS.index(plan['action']))], device)[0])]  # rank 0 decides
if action == 'error':
    if master_process:
        die(plan['msg'])
    sys.exit(2)
if action == 'finished':
    print0(plan['msg'])
    dist.finish()
    sys.exit(0)
resume = action == 'resume'

# -----------------------------------------------------------------------------
# model: the parameterization fills the neutral knobs, builds on meta, then initialises every tensor itself
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
# FSDP2 on CUDA: foreach (fused + DTensor untested there; on the CPU fused is bitwise the single-process step); the
# batch rule may change beta2 (parameterization.optimizer_overrides)
opt_config = dict(config, tokens_per_iter=tokens_per_iter, fused=not fsdp or device_type == 'cpu',
                  **P.optimizer_overrides(config))
if ddp and getattr(opt_cls, 'needs_full_tensors', False):
    # whole-matrix optimizers: one owner rank per parameter steps it on the full tensor (optim/distributed.py)
    from optim.distributed import OwnerOptimizer
    optimizer_obj = OwnerOptimizer(lambda gs: optim.build_optimizer(optimizer, gs, opt_config), groups, rank,
                                   world_size)
else:
    optimizer_obj = optim.build_optimizer(optimizer, groups, opt_config)
iter_num, best_val_loss, best_iter = 0, float('inf'), 0
progress = {}  # what the summary accumulates over the segments of a resumed run (wall time, step timing, ...)
if resume:
    print0(f"resuming from {ckpt_path}")
    if master_process:
        ckpt = plan['ckpt']
    else:
        ckpt, why = load_checkpoint(ckpt_path)
        if why:
            die(why)
    changed = {k: (v, model_args.get(k)) for k, v in ckpt['model_args'].items() if model_args.get(k) != v}
    if changed:
        die(f"{ckpt_path} was written by a different model ({', '.join(f'{k}: {a} -> {b}' for k, (a, b) in changed.items())}): "
            f"resume with the same model and parameterization config, or use another run_name")
    if len(ckpt['rng']['data']) != gradient_accumulation_steps:
        die(f"{ckpt_path} has {len(ckpt['rng']['data'])} data streams but gradient_accumulation_steps="
            f"{gradient_accumulation_steps}: resume with the same gradient_accumulation_steps")
    dist.load_full_model_state(model, ckpt['model'])
    dist.load_full_optimizer_state(optimizer_obj, ckpt['optimizer'])
    iter_num, best_val_loss, best_iter = ckpt['iter_num'], ckpt['best_val_loss'], ckpt['best_iter']
    progress = ckpt.get('progress', {})
    torch.set_rng_state(ckpt['rng']['torch'])
    if device_type == 'cuda' and ckpt['rng']['cuda'] is not None:
        torch.cuda.set_rng_state(ckpt['rng']['cuda'])
    for j, r in zip(micro_ids, data_rngs):
        r.bit_generator.state = ckpt['rng']['data'][j]
    ckpt = plan['ckpt'] = None
raw_model = model
print0(f"model: {model.get_num_params() / 1e6:.2f}M parameters, {parameterization} ({family} family, "
       f"alignment {alignment}, lr_scaling {lr_scaling}), forward mults "
       + ', '.join(f"{k}={getattr(gptconf, k):.4g}" for k in ('emb_mult', 'hidden_mult', 'logit_mult',
                                                             'attn_scale', 'branch_mult')))
groups_table = P.describe(groups)
print0(groups_table)
scaler = torch.amp.GradScaler(device_type, enabled=(dtype == 'float16'))
if compile:  # inductor: Triton kernels on CUDA, C++/OpenMP on the CPU
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
                         cuda=torch.cuda.get_rng_state() if device_type == 'cuda' else None, data=data_states),
                progress=dict(wall_time_s=wall_time(), dt_sum=dt_sum, dt_count=dt_count, mfu_avg=mfu_avg,
                              first_loss=first_loss, last_train_loss=last_train_loss, last_val_loss=last_val_loss))
    torch.save(ckpt, ckpt_path + '.tmp')
    os.replace(ckpt_path + '.tmp', ckpt_path)  # a kill mid-write never leaves a truncated ckpt.pt


def log_metrics(row):
    if master_process:
        metrics_file.write(json.dumps(row) + '\n')
        metrics_file.flush()
        run_logger.log(row)  # the same row to wandb / TensorBoard when asked (logger.py)


def wall_time():
    """Seconds this run has trained, over every segment of a resumed run (each checkpoint carries the total)."""
    return progress.get('wall_time_s', 0.0) + time.time() - t_start


if master_process:  # every check has passed: from here on the run folder is written
    if action in ('overwrite', 'restart'):
        why = 'overwrite=True' if action == 'overwrite' else \
            f"an unfinished run of this config, init_from='{init_from}'"
        print0(f"{why}: deleting the previous run's files in {run_dir} and starting over")
    for name in RUN_FILES if action in ('overwrite', 'restart') else ('summary.json',) if resume else ():
        for path in (os.path.join(run_dir, name), os.path.join(run_dir, name + '.tmp')):
            if os.path.exists(path):
                os.remove(path)  # summary.json first: a run killed now is not taken for a finished one
    _on_error.clear()  # the folder is this run's now
    atomic_json(config, os.path.join(run_dir, 'config.json'))
    with open(os.path.join(run_dir, 'groups.txt'), 'w') as f:
        f.write(groups_table + '\n')
    if resume:  # the rows up to the checkpoint (a killed run wrote some after it), replaced atomically
        with open(metrics_path + '.tmp', 'w') as f:
            f.writelines(plan['kept'])
        os.replace(metrics_path + '.tmp', metrics_path)
    metrics_file = open(metrics_path, 'a' if resume else 'w')
    run_logger = logger.open_loggers(config, run_dir, iter_num, resume)

# -----------------------------------------------------------------------------
# training loop
if device_type == 'cpu' and flops_per_iter > CPU_HINT_FLOPS:
    print0(f"note: this config needs {flops_per_iter:.2g} training FLOPs per iteration, a GPU-sized run (above "
           f"{CPU_HINT_FLOPS:.0e}: seconds to minutes per iteration on a CPU); for a CPU-sized one: "
           f"python train.py config/mup_adamw.py config/demo_cpu.py")
peak_flops = gpu_peak_flops() if device_type == 'cuda' else 0.0  # MFU only where the device's peak is known
X, Y = next_train_batch(0)  # first batch
t_start = time.time()
t0 = t_start
start_iter = iter_num
first_loss = progress.get('first_loss')  # the divergence test's reference: the run's first logged loss
last_train_loss = progress.get('last_train_loss', float('nan'))
last_val_loss = progress.get('last_val_loss', float('nan'))
diverged = stopped_early = False
mfu_avg, dt_sum, dt_count = progress.get('mfu_avg', -1.0), progress.get('dt_sum', 0.0), progress.get('dt_count', 0)
skip_eval = resume  # the checkpoint was written right after the evaluation at this iteration
eval_seconds = None  # how long one evaluation takes (for the ETA)
while True:
    lrm = lr_multiplier(iter_num)
    for group in optimizer_obj.param_groups:
        group['lr'] = group['initial_lr'] * lrm

    # evaluate, early-stop, checkpoint (rank 0 evaluates, every rank gets the decision)
    if (iter_num % eval_interval == 0 or iter_num == max_iters) and not skip_eval:
        if eval_seconds is None:  # a large model on a CPU can take minutes here: say what it is doing
            print0(f"evaluating: {eval_iters} batches of {batch_size} x {block_size} tokens per split...")
        t_eval = time.time()
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
        eval_seconds = time.time() - t_eval
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
            if peak_flops:
                mfu = raw_model.estimate_mfu(tokens_per_iter, dt, peak_flops)
                mfu_avg = mfu if mfu_avg == -1.0 else 0.9 * mfu_avg + 0.1 * mfu
            dt_sum, dt_count = dt_sum + dt, dt_count + 1
        last_train_loss = lossf
        print0(f"iter {iter_num}: loss {lossf:.4f}, time {dt * 1000:.2f}ms"
               + (f", mfu {max(mfu_avg, 0) * 100:.2f}%" if peak_flops else ''))
        if iter_num - start_iter <= log_interval and iter_num < max_iters:  # once per segment: the first log
            left = max_iters - iter_num
            evals = max_iters // eval_interval - iter_num // eval_interval + (max_iters % eval_interval > 0)
            eta = left * dt + evals * (eval_seconds or 0.0)
            print0(f"eta {int(eta // 3600)}:{int(eta % 3600 // 60):02d}:{int(eta % 60):02d} for {left} more "
                   f"iterations at {dt:.3g} s" + (f" and {evals} evaluations at {eval_seconds:.3g} s"
                                                  if eval_seconds and evals else ''))
        log_metrics(dict(iter=iter_num, kind='train', loss=lossf, lr_mult=lrm, ms=dt * 1000))
        if dist.any_rank(bad, device):
            diverged = True
            print0(f"DIVERGED at iter {iter_num}: loss {lossf} (non-finite or above {diverge_factor} x the first "
                   f"logged loss {first_loss:.4f})")
            break

# -----------------------------------------------------------------------------
# summary: what scripts read (sweeps skip runs whose summary.json exists)
wall = wall_time()
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
    run_logger.close()
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
        text = decode(out)
        dist.print0(f"--- sample ---\n{text}\n--------------")
dist.finish()  # under torchrun: exits here
