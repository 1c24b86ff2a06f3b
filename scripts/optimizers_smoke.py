"""
Every optimizer trains its own config/<parameterization>_<name>.py for a few hundred steps, one after the other in
one call, and a Markdown table reports final / best val loss, divergence, ms/iter and ms/iter relative to AdamW
(measured in the same call, so the ratio is comparable even when the absolute times are not).

    $ python scripts/optimizers_smoke.py --out results/optimizers_smoke.md               # GPU: bf16, compiled
    $ python scripts/optimizers_smoke.py --set device=cpu,n_layer=2,block_size=64 --max-iters 200 --out /tmp/s.md

Runs go to <work-dir>/<name>/ (skipped when their summary.json exists, so a killed call resumes); a run that
crashes is a row with its error, not the end of the table.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import optim  # noqa: E402


def literal(text):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {'True': True, 'False': False}.get(text, text)


def device_name(overrides):
    import torch
    if overrides.get('device', 'cuda' if torch.cuda.is_available() else 'cpu') == 'cpu':
        return 'CPU'
    return torch.cuda.get_device_name(0)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--parameterization', default='mup', help='config/<this>_<name>.py for each optimizer')
    ap.add_argument('--optimizers', default='all', help="comma-separated names, or 'all' (AdamW is always first)")
    ap.add_argument('--max-iters', type=int, default=300)
    ap.add_argument('--set', default='', help='k=v,k=v overrides for every run (e.g. device=cpu,n_layer=2)')
    ap.add_argument('--work-dir', default='out/optimizers_smoke')
    ap.add_argument('--out', default='', help='write the Markdown table here too')
    args = ap.parse_args(argv)
    names = list(optim.REGISTRY) if args.optimizers == 'all' else args.optimizers.split(',')
    names = ['adamw'] + [n for n in names if n != 'adamw']
    overrides = dict(kv.split('=', 1) for kv in args.set.split(',') if kv)
    overrides = {k: literal(v) for k, v in overrides.items()}
    fixed = dict(max_iters=args.max_iters, eval_interval=max(1, args.max_iters // 3), log_interval=10,
                 lr_decay_iters=args.max_iters, always_save_checkpoint=False, **overrides)
    rows = []
    t_all = time.time()
    for name in names:
        cfg = ROOT / 'config' / f'{args.parameterization}_{name}.py'
        if name not in optim.REGISTRY or not cfg.exists():
            rows.append(dict(name=name, error=f'no optimizer or no {cfg.relative_to(ROOT)}'))
            continue
        run_dir = ROOT / args.work_dir / name
        cmd = [sys.executable, 'train.py', str(cfg.relative_to(ROOT)), *[f'--{k}={v}' for k, v in fixed.items()],
               f'--out_dir={args.work_dir}', f'--run_name={name}']
        if not (run_dir / 'summary.json').exists():
            print('$ ' + ' '.join(cmd), flush=True)
            r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
            if r.returncode != 0:
                rows.append(dict(name=name, error=(r.stderr.strip().splitlines() or ['?'])[-1][:160]))
                continue
        s = json.loads((run_dir / 'summary.json').read_text())
        lr = json.loads((run_dir / 'config.json').read_text())['learning_rate']
        rows.append(dict(name=name, lr=lr, **{k: s.get(k) for k in ('final_val_loss', 'best_val_loss', 'diverged',
                                                                       'iters', 'ms_per_iter')}))
        print(f"{name}: final val {s.get('final_val_loss')}, {s.get('ms_per_iter')} ms/iter", flush=True)
    base = next((r.get('ms_per_iter') for r in rows if r['name'] == 'adamw'), None)
    fmt = lambda v, f: '–' if v is None else format(v, f)
    lines = [f"# Optimizer smoke test: config/{args.parameterization}_<name>.py, {args.max_iters} steps each", '',
             f"Device: {device_name(overrides)}. Made by: `python scripts/optimizers_smoke.py "
             f"{' '.join(argv)}` ({(time.time() - t_all) / 60:.1f} min; runs in {args.work_dir}/).", '',
             '| optimizer | LR | final val loss | best val loss | diverged | ms/iter | × AdamW |',
             '|---|---:|---:|---:|---|---:|---:|']
    for r in rows:
        if 'error' in r:
            lines.append(f"| {r['name']} | | error: {r['error']} | | | | |")
            continue
        ratio = r['ms_per_iter'] / base if base and r['ms_per_iter'] else None
        lines.append(f"| {r['name']} | {r['lr']:g} | {fmt(r['final_val_loss'], '.4f')} | "
                     f"{fmt(r['best_val_loss'], '.4f')} | {'yes' if r['diverged'] else 'no'} | "
                     f"{fmt(r['ms_per_iter'], '.1f')} | {fmt(ratio, '.2f')} |")
    table = '\n'.join(lines) + '\n'
    print(table)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(table)
    return 1 if any('error' in r or r.get('diverged') for r in rows) else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
