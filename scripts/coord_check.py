"""
Coordinate check (Yang et al. 2021; microsoft/mup's get_coord_data), three ways:

  --measure=activation (default)  train a few steps at several widths on the same fixed batches and watch the mean
                                  |activation| of every module. Under a correct muP the curves are flat in width at
                                  every step; under SP with one LR they grow with width after the first update.
  --measure=update                the RMS change of every module's output (embedding, LayerNorms, attention logits,
                                  attention and MLP outputs, logits) after --update_steps steps on one fixed batch,
                                  vs width (measure.update_coords): 0 slope = width-stable updates.
  --depths=2,4,8,16 --width=64    the same change vs depth at one width (measure.depth_coords): the residual stream
                                  after the last block, the mean branch, the logits.

    $ python scripts/coord_check.py --parameterization=mup --widths=128,256,512,1024,2048
    $ python scripts/coord_check.py --parameterization=sp --lr_scaling=global
    $ python scripts/coord_check.py --measure=update --widths=32,64,128,256 --block_size=4
    $ python scripts/coord_check.py --depths=2,4,8,16 --width=64 --depth_alpha=1 --block_size=4
    $ python scripts/coord_check.py --measure=update --widths=32,64,128,256 --block_size=4 --tie_embeddings=True

The model, its init and its param groups come from parameterization.build_model / param_groups and the
optimizer from optim.build_optimizer: exactly the code train.py trains with. The defaults are train.py's
(configurator.train_defaults()) with the check's own changes below; any engine or optimizer key can be overridden
(--alignment=none, --zero_init_readout=True, --muon_scale=rms, ...). The vocabulary is data/<dataset>/meta.pkl's
and the batches are windows of its train.bin; without them, random tokens over a vocabulary of 65. Every width
(or --width) must be at least batch_size * block_size tokens: with more tokens than width an update is not fully
aligned with its input and the slopes drift down (Everett et al. 2024 §3.3).

Writes to <out_dir>/<tag>.csv and <tag>.png and prints per module the slope of log value vs log width (or depth)
at the last step (0 = flat). activation: rows (seed, width, t, module, l1), one panel per step; update: rows (seed,
width, role, init, delta); depth: rows (seed, depth, role, init, delta).
"""

import csv
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import pickle  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import optim  # noqa: E402
import parameterization as P  # noqa: E402
import configurator  # noqa: E402
from configurator import ConfigError, configure  # noqa: E402
from measure import depth_coords, fixed_batch, loglog_slopes, update_coords  # noqa: E402
from model import GPTConfig  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# -----------------------------------------------------------------------------
# defaults: train.py's (configurator.train_defaults(): the engine's and every optimizer's keys included), then what
# the check itself changes or adds
globals().update(configurator.train_defaults())
base_width = 128
learning_rate = 1e-2  # large on purpose: a bad parameterization shows within a few steps
widths = (128, 256, 512, 1024, 2048)  # --widths=32,64,128
n_layer = 2
n_head = 2
block_size = 64
batch_size = 2  # keep batch_size * block_size <= the smallest width: a low-rank update is fully aligned with its
                # input (Everett's full alignment, the regime muP's exponents are derived for); with more tokens
                # than width the first updates are less aligned and muP activations drift down with width
steps = 5  # activation: t = 0 .. steps-1; t = 0 is the forward at init
measure = ''  # activation | update; '' = activation across widths, update for the depth check (--depths)
update_steps = 3  # update and depth checks: optimizer steps between the two measurements
depths = ()  # --depths=2,4,8,16: the depth check at --width (base_depth: the smallest depth unless set)
width = 0  # the depth check's width; 0 = base_width
seeds = 2
out_dir = 'out/coord_check'
tag = ''  # file name stem; '' -> <parameterization>_<optimizer>[_update | _depth_alpha<depth_alpha>]
plot = True
# -----------------------------------------------------------------------------


def token_source(dataset):
    """(tokens, vocab_size, description): data/<dataset>/train.bin (memmap) with meta.pkl's vocabulary (train.py's
    50304 when there is no meta.pkl), or (None, 65, ...) when the dataset is not prepared: random tokens."""
    data_dir = os.path.join(ROOT, 'data', dataset)
    path, meta = os.path.join(data_dir, 'train.bin'), os.path.join(data_dir, 'meta.pkl')
    if not os.path.exists(path):
        return None, 65, f'random tokens, vocab 65 (data/{dataset}/train.bin not prepared)'
    vocab = 50304
    if os.path.exists(meta):
        with open(meta, 'rb') as f:
            vocab = pickle.load(f)['vocab_size']
    return np.memmap(path, dtype=np.uint16, mode='r'), vocab, f'data/{dataset}/train.bin windows, vocab {vocab}'


def fixed_batches(cfg, data, vocab_size, n, device):
    """n (x, y) batches: random windows of the 1-D token array data, or random tokens if data is None."""
    rng = np.random.default_rng(0)
    if data is None:
        data = rng.integers(0, vocab_size, size=100_000)
    batches = []
    for _ in range(n):
        ix = rng.integers(len(data) - cfg['block_size'] - 1, size=cfg['batch_size'])
        x = torch.stack([torch.from_numpy(data[i:i + cfg['block_size']].astype(np.int64)) for i in ix])
        y = torch.stack([torch.from_numpy(data[i + 1:i + 1 + cfg['block_size']].astype(np.int64)) for i in ix])
        batches.append((x.to(device), y.to(device)))
    return batches


def check_axes(cfg):
    """A one-line message for a width or depth axis that cannot give a slope, else None (before any work)."""
    def ints(name):
        values = cfg[name]
        if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values):
            return None, (f"--{name} must be positive integers separated by commas, e.g. --{name}="
                          f"{'128,256,512' if name == 'widths' else '2,4,8,16'} (got {','.join(map(str, values))})")
        if len(set(values)) < 2:
            return None, f"--{name}={','.join(map(str, values))}: a slope needs at least two different {name}"
        return sorted(set(values)), None
    tokens = cfg['batch_size'] * cfg['block_size']
    if cfg['measure'] not in ('', 'activation', 'update'):
        return f"unknown measure '{cfg['measure']}': choose activation or update"
    if cfg['depths']:
        if cfg['measure'] == 'activation':
            return "the depth check (--depths) measures the update: drop --measure=activation or use --measure=update"
        _, err = ints('depths')
        if err:
            return err
        if not (cfg['width'] or cfg['base_width']):
            return "the depth check needs a width: set --width=N (or a base_width)"
        widths = [cfg['width'] or cfg['base_width']]
    else:
        widths, err = ints('widths')
        if err:
            return err
    for w in widths:
        if w < tokens:
            return (f"width {w} < batch_size * block_size = {tokens} tokens: the check needs every width >= the "
                    f"tokens of a batch (full alignment); lower --batch_size / --block_size or use larger widths")
    for w in widths + ([cfg['base_width']] if cfg['base_width'] else []):
        try:
            GPTConfig(n_embd=w, n_head=cfg['n_head'], head_dim=cfg['head_dim'])
        except ValueError as e:
            return str(e)
    return None


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
                              block_size=cfg['block_size'], vocab_size=vocab_size, bias=False, dropout=0.0,
                              tie_embeddings=cfg.get('tie_embeddings', False))
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


def plot_change(rows, path, title, x='width'):
    """Two log-log panels: the RMS change after the steps and the RMS at init, one line per role, band = seeds."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), squeeze=False)
    roles = list(dict.fromkeys(r['role'] for r in rows))
    colors = plt.cm.tab20(np.linspace(0, 1, 20))  # up to 20 roles, each its own colour
    for ax, key, label in zip(axes[0], ('delta', 'init'), ('RMS change after the steps', 'RMS at init')):
        for i, role in enumerate(roles):
            by_x = {}
            for r in rows:
                if r['role'] == role:
                    by_x.setdefault(r[x], []).append(r[key])
            xs = sorted(by_x)
            mean = [float(np.exp(np.mean(np.log(np.maximum(by_x[v], 1e-30))))) for v in xs]
            line, = ax.plot(xs, mean, marker='osv^D'[i % 5], ms=3, label=role, color=colors[i % 20])
            ax.fill_between(xs, [min(by_x[v]) for v in xs], [max(by_x[v]) for v in xs], color=line.get_color(),
                            alpha=0.2)
        ax.set_xscale('log', base=2)
        ax.set_yscale('log')
        ax.set_xlabel(x)
        ax.set_title(label, fontsize=9)
    axes[0][-1].legend(fontsize=6, loc='center left', bbox_to_anchor=(1, 0.5))
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_csv(path, rows):
    with open(path, 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def main(argv):
    try:
        configure(globals(), argv)
        cfg = {k: v for k, v in globals().items() if not k.startswith('_') and isinstance(v, configurator.CONFIG_TYPES)}
        cfg['tokens_per_iter'] = cfg['batch_size'] * cfg['block_size']
        P.check(cfg)
        optim.get_optimizer_class(optimizer)
        err = check_axes(cfg)
        if err:
            raise ValueError(err)
        if cfg['tie_embeddings']:  # one shared matrix under sp / ntk: refused now, not after the first width
            P.check_tied(cfg, GPTConfig(tie_embeddings=True),
                         P.role_exponents(cfg, optim.family_of(optimizer, cfg))[0])
    except (ConfigError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    cfg['fused'] = False  # the fused kernels need CUDA tensors of one dtype; not worth it for a few steps
    data, vocab_size, source = token_source(dataset)
    kind = 'depth' if depths else (measure or 'activation')
    stem = os.path.join(out_dir, tag or f'{parameterization}_{optimizer}' + {
        'activation': '', 'update': '_update', 'depth': f'_depth_alpha{depth_alpha:g}'}[kind])
    what = (f"{parameterization} + {optimizer} (lr {learning_rate:g}, lr_scaling {lr_scaling}, base width "
            f"{base_width}{', tied embeddings' if tie_embeddings else ''})")
    if kind == 'activation':
        print(f"coord check: {what}, widths {list(widths)}, {steps} steps x {seeds} seeds on {source}")
        rows = coord_data(cfg, list(widths), fixed_batches(cfg, data, vocab_size, steps, device), vocab_size, device)
        s, xlabel = slopes(rows), 'width'
        ylabel = f'mean|activation| at t={steps - 1}'
    else:
        batch = fixed_batch(vocab_size, batch_size, block_size, seed=0, data=data)
        if kind == 'update':
            print(f"update check: {what}, widths {list(widths)}, {update_steps} steps x {seeds} seeds on {source}")
            rows = update_coords(cfg, list(widths), steps=update_steps, seeds=range(seeds), batch=batch,
                                 vocab_size=vocab_size, device=device)
            xlabel = 'width'
        else:
            w = width or base_width
            print(f"depth check: {what}, width {w}, depths {list(depths)}, depth_alpha {depth_alpha:g}, "
                  f"{update_steps} steps x {seeds} seeds on {source}")
            rows = depth_coords(cfg, list(depths), w, steps=update_steps, seeds=range(seeds), batch=batch,
                                vocab_size=vocab_size, device=device)
            xlabel = 'depth'
        s, ylabel = loglog_slopes(rows, x=xlabel), f'RMS change after {update_steps} steps'
    os.makedirs(out_dir, exist_ok=True)
    write_csv(stem + '.csv', rows)
    if plot:
        title = f"{what}" + (f", depth_alpha {depth_alpha:g}, width {width or base_width}" if kind == 'depth' else '')
        if kind == 'activation':
            plot_grid(rows, stem + '.png', title)
        else:
            plot_change(rows, stem + '.png', title, x=xlabel)
    print(f"slope of log {ylabel} vs log {xlabel}:")
    for module, v in s.items():
        print(f"  {module:<14} {v:+.3f}")
    print(f"max |slope| {max(abs(v) for v in s.values()):.3f}; wrote {stem}.csv" + (f", {stem}.png" if plot else ''))
    return rows


if __name__ == '__main__':
    main(sys.argv[1:])
