"""The GPU code paths of train.py on the CPU: torch.compile (inductor) and bf16 autocast (torch.autocast('cpu')),
on config/debug_cpu.py. Each run must learn (the loss falls) and leave a complete run folder; a bf16 run resumed from
its checkpoint continues bitwise; float16 on the CPU is one error line.

    OMP_NUM_THREADS=1 pytest tests/test_train_cpu_paths.py -q
"""

import json
import os

import pytest

from conftest import run_script

SHORT = ['--max_iters=12', '--eval_interval=6', '--eval_iters=2', '--log_interval=1']
RUN_FILES = {'config.json', 'groups.txt', 'metrics.jsonl', 'summary.json', 'ckpt.pt'}


def train(tmp_path, name, *args):
    r = run_script(['train.py', 'config/debug_cpu.py', f'--out_dir={tmp_path}', f'--run_name={name}', *args])
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    return r, tmp_path / name


def train_losses(run_dir):
    rows = [json.loads(line) for line in open(run_dir / 'metrics.jsonl')]
    return {r['iter']: r['loss'] for r in rows if r['kind'] == 'train'}


def check_run(run_dir, iters):
    assert RUN_FILES <= set(os.listdir(run_dir))
    summary = json.loads((run_dir / 'summary.json').read_text())
    assert summary['iters'] == iters and not summary['diverged']
    losses = train_losses(run_dir)
    assert list(losses) == list(range(1, iters + 1))
    first, last = sum(list(losses.values())[:3]) / 3, sum(list(losses.values())[-3:]) / 3
    assert last < first - 0.2, losses  # it learns
    return summary


def test_compile_on_the_cpu(tmp_path, char_data):
    r, run = train(tmp_path, 'compiled', '--compile=True', *SHORT)
    assert 'compiling the model' in r.stdout
    check_run(run, 12)
    assert json.loads((run / 'config.json').read_text())['compile'] is True


@pytest.mark.parametrize('optimizer', ['adamw', 'splus', 'sophia'])
def test_bf16_autocast_on_the_cpu(tmp_path, char_data, optimizer):
    # SPlus at its config's LR (config/mup_splus.py); Sophia with a Hessian refresh (under autocast) inside the run
    extra = {'splus': ['--learning_rate=0.2'], 'sophia': ['--sophia_k=4']}.get(optimizer, [])
    _, bf16 = train(tmp_path, 'bf16', '--dtype=bfloat16', f'--optimizer={optimizer}', *SHORT, *extra)
    check_run(bf16, 12)
    _, fp32 = train(tmp_path, 'fp32', f'--optimizer={optimizer}', *SHORT, *extra)
    a, b = train_losses(bf16), train_losses(fp32)
    assert a[1] != b[1] and abs(a[1] - b[1]) < 0.05, (a[1], b[1])  # bf16 matmuls: close to fp32, not equal


def test_bf16_resume_continues_exactly(tmp_path, char_data):
    common = ['--dtype=bfloat16', '--eval_interval=5', '--eval_iters=2', '--lr_schedule=cosine', '--warmup_iters=2',
              '--lr_decay_iters=10']
    train(tmp_path, 'full', '--max_iters=10', *common)
    train(tmp_path, 'half', '--max_iters=5', *common)
    r, half = train(tmp_path, 'half', '--max_iters=10', '--init_from=resume', *common)
    assert 'resuming from' in r.stdout
    assert train_losses(half) == train_losses(tmp_path / 'full')  # bitwise: the same floats in the JSON


def test_float16_on_the_cpu_is_refused(tmp_path, char_data):
    r = run_script(['train.py', 'config/debug_cpu.py', f'--out_dir={tmp_path}', '--dtype=float16'])
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: dtype='float16' on the CPU"), r.stderr
    assert 'bfloat16' in lines[0] and not os.listdir(tmp_path)
