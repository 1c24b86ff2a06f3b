"""
Coordinate check (Yang et al. 2021; microsoft/mup's get_coord_data): train a few steps at several widths on the
same fixed batches and watch the mean |activation| of every module. Under a correct muP the curves are flat in
width at every step; under SP with one LR they grow with width after the first update.

    $ python scripts/coord_check.py --parameterization=mup --widths=128,256,512,1024,2048
    $ python scripts/coord_check.py --parameterization=sp --lr_scaling=global

The model, its init and its param groups come from parameterization.build_model / param_groups and the
optimizer from optim.build_optimizer: exactly the code train.py trains with. Keys of parameterization.DEFAULTS
can all be overridden (--alignment=none, --zero_init_readout=True, ...). Writes <out_dir>/<tag>.csv (seed,
width, t, module, l1) and <tag>.png (one panel per step, x = width, log-log), and prints per module the slope of
log mean|activation| vs log width at the last step (0 = flat).
"""

import csv
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import optim  # noqa: E402
import parameterization as P  # noqa: E402
import configurator  # noqa: E402
from configurator import ConfigError, configure  # noqa: E402

# -----------------------------------------------------------------------------
# defaults: every engine key, then what the check itself needs
globals().update(P.DEFAULTS)
base_width = 128
learning_rate = 1e-2  # large on purpose: a bad parameterization shows within a few steps
optimizer = 'adamw'
optimizer_family = ''  # '' = the optimizer's own family
beta1 = 0.9
beta2 = 0.95
momentum = 0.9  # SGD
nesterov = False  # SGD
widths = (128, 256, 512, 1024, 2048)  # --widths=32,64,128
n_layer = 2
n_head = 2
head_dim = 0
block_size = 64
batch_size = 2  # keep batch_size * block_size <= the smallest width: a low-rank update is fully aligned with its
                # input (Everett's full alignment, the regime muP's exponents are derived for); with more tokens
                # than width the first updates are less aligned and muP activations drift down with width
steps = 5  # t = 0 .. steps-1; t = 0 is the forward at init
seeds = 2
dataset = 'shakespeare_char'  # data/<dataset>/train.bin if present, else random tokens (vocab 65)
device = 'cuda' if torch.cuda.is_available() else 'cpu'
out_dir = 'results/coord_check'
tag = ''  # file name stem; '' -> <parameterization>_<optimizer>
plot = True
globals().update(optim.hparam_defaults())  # each optimizer's own keys (--splus_inverse_every=10, ...)
# -----------------------------------------------------------------------------


def fixed_batches(cfg, vocab_size, n, device):
    """n (x, y) batches: random windows of the training split, or random tokens if it is not prepared."""
    rng = np.random.default_rng(0)
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'data', cfg['dataset'],
                        'train.bin')
    if os.path.exists(path):
        data = np.memmap(path, dtype=np.uint16, mode='r')
        source = f'{path} windows'
    else:
        data = rng.integers(0, vocab_size, size=100_000)
        source = 'random tokens'
    batches = []
    for _ in range(n):
        ix = rng.integers(len(data) - cfg['block_size'] - 1, size=cfg['batch_size'])
        x = torch.stack([torch.from_numpy(data[i:i + cfg['block_size']].astype(np.int64)) for i in ix])
        y = torch.stack([torch.from_numpy(data[i + 1:i + 1 + cfg['block_size']].astype(np.int64)) for i in ix])
        batches.append((x.to(device), y.to(device)))
    return batches, source


def recorded_modules(model):
    """label -> module whose output is recorded (embedding = input of block 0 after emb_mult)."""
    mods = {'embedding': model.transformer.drop}
    for i, block in enumerate(model.transformer.h):
        mods[f'attn.{i}'], mods[f'mlp.{i}'], mods[f'block.{i}'] = block.attn, block.mlp, block
    mods['logits'] = model.lm_head
    return mods


def coord_data(cfg, widths, batches, vocab_size, device):
    """Rows dict(seed, width, t, module, l1): mean |output| per module at each step t (before step t's update)."""
    family = optim.family_of(cfg['optimizer'], cfg)  # {role: family}, optimizer_family overrides
    rows = []
    for seed in range(cfg['seeds']):
        for width in widths:
            model_args = dict(n_layer=cfg['n_layer'], n_head=cfg['n_head'], head_dim=cfg['head_dim'], n_embd=width,
                              block_size=cfg['block_size'], vocab_size=vocab_size, bias=False, dropout=0.0)
            model, infos = P.build_model(cfg, model_args, device, seed=seed)
            opt = optim.build_optimizer(cfg['optimizer'], P.param_groups(model, cfg, family, infos), cfg)
            stats, hooks = {}, []
            for label, mod in recorded_modules(model).items():
                # the readout's multiplier is applied after lm_head: fold it in so 'logits' are the real logits
                mult = model.config.logit_mult if label == 'logits' else 1.0
                hooks.append(mod.register_forward_hook(
                    lambda m, i, out, label=label, mult=mult: stats.__setitem__(label, mult * out.abs().mean().item())))
            for t, (x, y) in enumerate(batches):
                _, loss = model(x, y)
                rows += [dict(seed=seed, width=width, t=t, module=k, l1=v) for k, v in stats.items()]
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
            for h in hooks:
                h.remove()
    return rows


def mean_l1(rows, t):
    """{module: {width: mean over seeds of l1}} at step t."""
    acc = {}
    for r in rows:
        if r['t'] == t:
            acc.setdefault(r['module'], {}).setdefault(r['width'], []).append(r['l1'])
    return {m: {w: float(np.mean(v)) for w, v in sorted(ws.items())} for m, ws in acc.items()}


def slopes(rows, t=None):
    """{module: least-squares slope of log mean|activation| vs log width} at step t (default: the last)."""
    t = max(r['t'] for r in rows) if t is None else t
    out = {}
    for module, by_width in mean_l1(rows, t).items():
        w, v = np.array(list(by_width)), np.array(list(by_width.values()))
        out[module] = float(np.polyfit(np.log(w), np.log(v), 1)[0])
    return out


def plot_grid(rows, path, title):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    ts = sorted({r['t'] for r in rows})
    fig, axes = plt.subplots(1, len(ts), figsize=(3.2 * len(ts), 3.4), sharey=True, squeeze=False)
    for ax, t in zip(axes[0], ts):
        for module, by_width in mean_l1(rows, t).items():
            w = list(by_width)
            per_seed = [[r['l1'] for r in rows if r['t'] == t and r['module'] == module and r['width'] == x]
                        for x in w]
            line, = ax.plot(w, list(by_width.values()), marker='o', ms=3, label=module)
            ax.fill_between(w, [min(s) for s in per_seed], [max(s) for s in per_seed], color=line.get_color(),
                            alpha=0.2)
        ax.set_xscale('log', base=2)
        ax.set_yscale('log')
        ax.set_title(f't={t}')
        ax.set_xlabel('width')
    axes[0][0].set_ylabel('mean |activation|')
    axes[0][-1].legend(fontsize=6, loc='center left', bbox_to_anchor=(1, 0.5))
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv):
    try:
        configure(globals(), argv)
        cfg = {k: v for k, v in globals().items() if not k.startswith('_') and isinstance(v, configurator.CONFIG_TYPES)}
        cfg['tokens_per_iter'] = cfg['batch_size'] * cfg['block_size']
        P.check(cfg)
        optim.get_optimizer_class(optimizer)
    except (ConfigError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    cfg['fused'] = False  # the fused kernels need CUDA tensors of one dtype; not worth it for a few steps
    batches, source = fixed_batches(cfg, 65, steps, device)
    print(f"coord check: {parameterization} + {optimizer} (lr {learning_rate:g}, lr_scaling {lr_scaling}, "
          f"base width {base_width}), widths {list(widths)}, {steps} steps x {seeds} seeds on {source}")
    try:
        rows = coord_data(cfg, list(widths), batches, 65, device)
    except ValueError as e:  # e.g. a width that n_head does not divide
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    os.makedirs(out_dir, exist_ok=True)
    stem = os.path.join(out_dir, tag or f'{parameterization}_{optimizer}')
    with open(stem + '.csv', 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=['seed', 'width', 't', 'module', 'l1'])
        writer.writeheader()
        writer.writerows(rows)
    if plot:
        plot_grid(rows, stem + '.png', f"{parameterization} + {optimizer}, lr {learning_rate:g} "
                                       f"({lr_scaling}), base width {base_width}")
    s = slopes(rows)
    print(f"slope of log mean|activation| vs log width at t={steps - 1}:")
    for module, v in s.items():
        print(f"  {module:<10} {v:+.3f}")
    print(f"max |slope| {max(abs(v) for v in s.values()):.3f}; wrote {stem}.csv" + (f", {stem}.png" if plot else ''))
    return rows


if __name__ == '__main__':
    main(sys.argv[1:])
