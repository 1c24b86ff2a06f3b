"""train.py end to end in subprocesses on config/debug_cpu.py: the run folder, golden losses, exact resume,
divergence, early stopping and the one-line errors.

    pytest tests/test_train.py
    UPDATE_GOLDEN=1 pytest tests/test_train.py -k golden   # after an intended change of the numerics
"""

import json
import os

import pytest
from conftest import ROOT, run_script

GOLDEN = ROOT / 'tests' / 'assets' / 'losses' / 'debug_cpu.txt'


def train(tmp_path, *args, name='run'):
    r = run_script(['train.py', 'config/debug_cpu.py', f'--out_dir={tmp_path}', f'--run_name={name}', *args])
    return r, tmp_path / name


def losses(run_dir, kind='train', key='loss'):
    rows = [json.loads(line) for line in open(run_dir / 'metrics.jsonl')]
    return {r['iter']: r[key] for r in rows if r['kind'] == kind}


def test_run_folder_and_golden_losses(tmp_path, char_data):
    r, run = train(tmp_path)
    assert r.returncode == 0, r.stderr
    assert {'config.json', 'groups.txt', 'metrics.jsonl', 'summary.json', 'ckpt.pt'} <= set(os.listdir(run))
    summary = json.loads((run / 'summary.json').read_text())
    assert summary['iters'] == 30 and not summary['diverged'] and summary['best_val_loss'] < 3.4
    assert json.loads((run / 'config.json').read_text())['parameterization'] == 'mup'
    assert 'readout' in (run / 'groups.txt').read_text()
    got = losses(run)
    assert list(got) == list(range(1, 31))
    assert got[30] < got[1] - 0.5  # it learns
    if os.environ.get('UPDATE_GOLDEN'):
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(''.join(f'{it} {loss:.6f}\n' for it, loss in got.items()))
    golden = {int(a): float(b) for a, b in (line.split() for line in GOLDEN.read_text().splitlines())}
    assert golden.keys() == got.keys()
    for it in golden:  # fp32 on the CPU: equal up to summation-order noise across machines
        assert got[it] == pytest.approx(golden[it], rel=2e-4, abs=2e-4), it


def test_resume_continues_exactly(tmp_path, char_data):
    common = ['--lr_schedule=cosine', '--warmup_iters=3', '--lr_decay_iters=20', '--dropout=0.1']
    r, full = train(tmp_path, '--max_iters=20', *common, name='full')
    assert r.returncode == 0, r.stderr
    r, half = train(tmp_path, '--max_iters=10', *common, name='half')
    assert r.returncode == 0, r.stderr
    r, half = train(tmp_path, '--max_iters=20', '--init_from=resume', *common, name='half')
    assert r.returncode == 0, r.stderr
    assert losses(full) == losses(half)  # bitwise: same floats in the JSON
    assert losses(full, 'eval', 'val_loss') == losses(half, 'eval', 'val_loss')
    r, _ = train(tmp_path, '--max_iters=30', '--init_from=resume', '--n_embd=128', *common, name='half')
    assert r.returncode == 2 and 'n_embd: 64 -> 128' in r.stderr and 'Traceback' not in r.stderr


def test_divergence_writes_summary(tmp_path, char_data):
    r, run = train(tmp_path, '--learning_rate=1000.0')
    assert r.returncode == 0, r.stderr
    assert 'diverged' in r.stdout
    summary = json.loads((run / 'summary.json').read_text())
    assert summary['diverged'] is True and summary['iters'] < 30


def test_early_stopping(tmp_path, char_data):
    # lr = 0: the val loss never improves on iter 0, so the run stops after `patience` iterations
    r, run = train(tmp_path, '--learning_rate=0', '--early_stop_patience=4', '--eval_interval=2')
    assert r.returncode == 0, r.stderr
    summary = json.loads((run / 'summary.json').read_text())
    assert summary['stopped_early'] is True and summary['iters'] == 4


@pytest.mark.parametrize('args,msg', [
    (['--learning_rat=1e-3'], "unknown config key 'learning_rat' (did you mean 'learning_rate'?)"),
    (['--parameterization=mupp'], "unknown parameterization 'mupp'"),
    (['--optimizer=adamm'], "unknown optimizer 'adamm' (did you mean 'adam'?)"),
    (['--n_embd=65'], 'n_embd=65 is not divisible by n_head=2'),
    (['--dataset=nosuchdata'], 'python data/nosuchdata/prepare.py'),
    (['--tie_embeddings=True', '--parameterization=sp'], "tie_embeddings=True under 'sp'"),
    (['--optimizer=adam', '--wd_mode=independent'], 'decoupled weight decay'),
    (['--batch_size=abc'], 'batch_size expects int'),
    (['config/nope.py'], 'config file config/nope.py not found'),
])
def test_bad_config_gives_one_line_error(tmp_path, args, msg, char_data):
    r, _ = train(tmp_path, *args)
    assert r.returncode == 2
    assert 'Traceback' not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: ') and msg in lines[0], r.stderr


def test_torchrun_ddp_two_ranks_and_resume_on_one(tmp_path, char_data):
    """2 gloo ranks on the CPU train, rank 0 writes the run folder, and the checkpoint resumes in 1 process.
    (Equality with a single process is the distributed issue's test: each rank draws its own batches.)"""
    common = [f'--out_dir={tmp_path}', '--run_name=ddp', '--gradient_accumulation_steps=2']
    r = run_script(['-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2', 'train.py',
                    'config/debug_cpu.py', '--max_iters=10', *common])
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'tokens per iteration: 512 (2 ranks x 1 micro-steps' in r.stdout
    assert json.loads((tmp_path / 'ddp' / 'summary.json').read_text())['iters'] == 10
    r = run_script(['train.py', 'config/debug_cpu.py', '--max_iters=15', '--init_from=resume', *common])
    assert r.returncode == 0, r.stderr
    assert list(losses(tmp_path / 'ddp')) == list(range(1, 16))
