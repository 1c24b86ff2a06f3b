"""train.py end to end in subprocesses on config/debug_cpu.py: the run folder, golden losses, exact resume,
divergence, early stopping and the one-line errors.

    pytest tests/test_train.py
    UPDATE_GOLDEN=1 pytest tests/test_train.py -k golden   # after an intended change of the numerics
"""

import json
import os
import pickle
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
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
    # what a CPU user sees: the device and its threads, an ETA, no MFU (no known peak), no hint for this size
    # a fresh process's count (what the run started with: OMP_NUM_THREADS or torch's default), not this process's,
    # which an in-process test may have changed
    threads = int(subprocess.run([sys.executable, '-c', 'import torch; print(torch.get_num_threads())'],
                                 capture_output=True, text=True, check=True).stdout)
    assert f"device: cpu ({threads} thread{'s' if threads > 1 else ''})" in r.stdout and 'eta ' in r.stdout, \
        r.stdout[:2000]
    assert 'mfu' not in r.stdout and 'demo_cpu' not in r.stdout and summary['mfu'] is None
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


def snapshot(run_dir):
    """{file: (bytes, mtime)} of a run folder (the lock file aside): equal snapshots = nothing was touched."""
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(run_dir.iterdir()) if p.name != '.lock'}


def error_line(r):
    """The single stderr line of a refused run (exit 2, no traceback)."""
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and lines[0].startswith('error: '), (r.returncode, r.stderr[-3000:])
    return lines[0]


def test_finished_run_is_left_untouched_unless_continued(tmp_path, char_data):
    common = ['--max_iters=10', '--eval_interval=5']
    r, run = train(tmp_path, *common)
    assert r.returncode == 0, r.stderr
    first = json.loads((run / 'summary.json').read_text())
    before = snapshot(run)
    for how in ('auto', 'resume'):  # used to rewrite summary.json with null losses, ms/iter and a 3e-5 s wall time
        r, _ = train(tmp_path, *common, f'--init_from={how}')
        assert r.returncode == 0 and 'already finished' in r.stdout, r.stdout[-2000:] + r.stderr
        assert snapshot(run) == before
    line = error_line(train(tmp_path, *common)[0])  # init_from='scratch' would start it over
    assert 'finished run' in line and 'overwrite=True' in line and snapshot(run) == before
    # killed after its last checkpoint, before its summary: the resume writes the summary the run would have written
    (run / 'summary.json').unlink()
    r, _ = train(tmp_path, *common, '--init_from=auto')
    assert r.returncode == 0, r.stderr
    again = json.loads((run / 'summary.json').read_text())
    for k in ('best_val_loss', 'best_iter', 'final_val_loss', 'final_train_loss', 'iters', 'ms_per_iter',
              'tokens_per_s', 'diverged'):
        assert again[k] == first[k], k
    # the wall time of the run (carried by its checkpoint) plus the resume's, not the resume's alone; the checkpoint
    # is the reference: its own write time falls after the total it records, and on a loaded disk that write can
    # take most of a 10-iteration run
    ckpt_wall = torch.load(run / 'ckpt.pt', weights_only=False)['progress']['wall_time_s']
    assert 0 < ckpt_wall <= again['wall_time_s']
    # asked to continue (a larger max_iters): it continues; wall time and timing accumulate over both segments
    r, _ = train(tmp_path, '--max_iters=14', '--eval_interval=5', '--init_from=resume')
    assert r.returncode == 0, r.stderr
    cont = json.loads((run / 'summary.json').read_text())
    assert cont['iters'] == 14 and cont['final_val_loss'] is not None and cont['ms_per_iter'] is not None
    assert cont['wall_time_s'] > ckpt_wall  # 10 iterations + 3 evaluations, then 4 more and one evaluation
    assert list(losses(run)) == list(range(1, 15))


def test_folder_of_another_run_is_refused_unless_overwrite(tmp_path, char_data):
    r, run = train(tmp_path, '--max_iters=4')
    assert r.returncode == 0, r.stderr
    before = snapshot(run)
    for how in ('scratch', 'auto'):  # used to truncate metrics.jsonl and replace config.json, keeping summary.json
        line = error_line(train(tmp_path, '--max_iters=4', '--learning_rate=3e-3', '--n_layer=1',
                                f'--init_from={how}')[0])
        assert 'learning_rate: 0.01 -> 0.003' in line and 'n_layer: 2 -> 1' in line and 'overwrite=True' in line
        assert snapshot(run) == before
    r, _ = train(tmp_path, '--max_iters=3', '--learning_rate=3e-3', '--overwrite=True')
    assert r.returncode == 0, r.stderr
    assert json.loads((run / 'config.json').read_text())['learning_rate'] == 3e-3
    assert json.loads((run / 'summary.json').read_text())['iters'] == 3 and list(losses(run)) == [1, 2, 3]
    # the default run name carries the dataset: runs on two datasets never share a folder
    r = run_script(['train.py', 'config/debug_cpu.py', f'--out_dir={tmp_path}', '--max_iters=0'])
    assert r.returncode == 0, r.stderr
    assert (tmp_path / 'shakespeare_char_mup_adamw_w64_d2_lr0.01_s1337' / 'summary.json').exists()


def test_resume_refuses_changes_that_alter_the_run(tmp_path, char_data):
    r, run = train(tmp_path, '--max_iters=4', '--eval_interval=2')
    assert r.returncode == 0, r.stderr
    before = snapshot(run)
    for args, keys in [(['--learning_rate=3e-3'], ['learning_rate: 0.01 -> 0.003']),
                       (['--optimizer=adam'], ['optimizer: adamw -> adam']),  # was KeyError 'bias_correction'
                       (['--parameterization=sp'], ['parameterization: mup -> sp']),
                       (['--beta2=0.99', '--lr_mult_hidden=2'], ['beta2: 0.95 -> 0.99', 'lr_mult_hidden: 1.0 -> 2.0'])]:
        line = error_line(train(tmp_path, '--max_iters=8', '--init_from=resume', *args)[0])
        assert all(k in line for k in keys), line
        assert snapshot(run) == before  # config.json is not rewritten
    r, _ = train(tmp_path, '--max_iters=6', '--eval_interval=3', '--log_interval=2', '--init_from=resume')
    assert r.returncode == 0, r.stderr  # where it stops and what it logs: allowed
    # a decaying schedule that ends at max_iters (lr_decay_iters=0): a new max_iters changes the LRs to come
    r, cos = train(tmp_path, '--max_iters=4', '--lr_schedule=cosine', name='cos')
    assert r.returncode == 0, r.stderr
    line = error_line(train(tmp_path, '--max_iters=8', '--lr_schedule=cosine', '--init_from=resume', name='cos')[0])
    assert 'lr_decay_iters' in line and '4 -> 8' in line
    r, _ = train(tmp_path, '--max_iters=8', '--lr_schedule=cosine', '--lr_decay_iters=4', '--init_from=resume',
                 name='cos')
    assert r.returncode == 0, r.stderr  # the same schedule, written out: allowed


def test_torn_metrics_line_is_dropped_on_resume(tmp_path, char_data):
    r, run = train(tmp_path, '--max_iters=4')
    assert r.returncode == 0, r.stderr
    with open(run / 'metrics.jsonl', 'a') as f:
        f.write('{"iter": 5, "kind": "tra')  # killed mid-write
    r, _ = train(tmp_path, '--max_iters=6', '--init_from=resume')
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in open(run / 'metrics.jsonl')]  # every line is JSON again
    assert [x['iter'] for x in rows if x['kind'] == 'train'] == list(range(1, 7))


def test_second_process_on_a_live_run_folder_is_refused(tmp_path, char_data):
    args = ['train.py', 'config/debug_cpu.py', f'--out_dir={tmp_path}', '--run_name=run', '--max_iters=100000',
            '--eval_interval=100000']
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    p = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while not (tmp_path / 'run' / 'ckpt.pt').exists():
            assert p.poll() is None and time.time() < deadline
            time.sleep(0.05)
        r = run_script([*args[:-2], '--max_iters=5', '--init_from=auto'])
        line = error_line(r)
        assert 'in use' in line and f'pid {p.pid}' in line, line
        assert p.poll() is None  # the first run goes on
    finally:
        p.kill()
        p.wait()


def bad_dataset(root, train=None, val=None, meta=None):
    """A data folder: train/val token arrays (uint16) or raw bytes, meta a dict or raw bytes (None: no file)."""
    root.mkdir(parents=True, exist_ok=True)
    good = np.arange(200, dtype=np.uint16) % 65
    for split, data in (('train', train), ('val', val)):
        data = good if data is None else data
        (root / f'{split}.bin').write_bytes(data if isinstance(data, bytes) else np.asarray(data, np.uint16).tobytes())
    if meta is not None:
        (root / 'meta.pkl').write_bytes(meta if isinstance(meta, bytes) else pickle.dumps(meta))
    return root


VOCAB65 = dict(vocab_size=65)


@pytest.mark.parametrize('files,msg', [
    (dict(train=np.arange(10) % 65, meta=VOCAB65), 'train.bin has 10 tokens, fewer than block_size + 1 = 33'),
    (dict(val=b'abc', meta=VOCAB65), 'val.bin has 3 bytes, not a whole number of uint16 tokens'),
    (dict(train=b'', meta=VOCAB65), 'train.bin is empty'),
    (dict(train=np.r_[np.arange(100) % 65, 100], meta=VOCAB65), 'token id 100 in'),
    (dict(val=np.full(100, 60000)), 'token id 60000 in'),  # no meta.pkl: GPT-2's padded vocabulary 50304
    (dict(meta=b'not a pickle'), 'cannot read'),
    (dict(meta=dict(stoi={})), 'has no vocab_size'),
])
def test_bad_data_gives_one_line_error(tmp_path, files, msg, char_data):
    data = bad_dataset(tmp_path / 'data', **files)
    line = error_line(train(tmp_path, f'--dataset={data}')[0])
    assert msg in line, line
    assert not (tmp_path / 'run').exists()  # nothing written


def test_train_set_tokens_trains_and_evaluates_on_the_first_tokens_only(tmp_path, char_data):
    """train.bin: 200 tokens of one repeated id, then 20,000 random ones. Training on the first 200 only, the model
    learns to repeat that id: its train loss (evaluated on the same 200 tokens) falls far below the random tokens'
    log(65) = 4.17, which the validation split (random) stays near."""
    rng = np.random.default_rng(0)
    data = bad_dataset(tmp_path / 'data', train=np.r_[np.full(200, 7), rng.integers(0, 65, 20_000)],
                       val=rng.integers(0, 65, 2_000), meta=VOCAB65)
    r, run = train(tmp_path, f'--dataset={data}', '--train_set_tokens=200')
    assert r.returncode == 0, r.stderr
    assert losses(run, 'eval', 'train_loss')[30] < 1.0 and losses(run, 'eval', 'val_loss')[30] > 4.0
    for bad in (32, 20_201):  # below block_size + 1 = 33, above the split's length
        line = error_line(train(tmp_path, f'--dataset={data}', f'--train_set_tokens={bad}', name='bad')[0])
        assert f'train_set_tokens={bad}: must lie between block_size + 1 = 33 and the 20200 tokens' in line, line


def test_sample_without_meta_needs_a_tokenizer_up_front(tmp_path, char_data):
    data = bad_dataset(tmp_path / 'data')  # no meta.pkl: decoding a sample needs tiktoken's GPT-2 encoding
    env = dict(os.environ, TIKTOKEN_CACHE_DIR=str(tmp_path / 'empty'), HTTPS_PROXY='http://127.0.0.1:9',
               HTTP_PROXY='http://127.0.0.1:9', https_proxy='http://127.0.0.1:9', http_proxy='http://127.0.0.1:9')
    r = subprocess.run([sys.executable, 'train.py', 'config/debug_cpu.py', f'--out_dir={tmp_path}', '--run_name=run',
                        f'--dataset={data}', '--sample_tokens=20'], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=300)
    line = error_line(r)  # used to train, then fail on the download at the end with a traceback
    assert 'sample_tokens=20' in line and 'meta.pkl' in line, line
    assert not (tmp_path / 'run').exists()


def test_bad_checkpoint_gives_one_line_error(tmp_path, char_data):
    r, run = train(tmp_path, '--max_iters=2')
    assert r.returncode == 0, r.stderr
    good = (run / 'ckpt.pt').read_bytes()
    for bad, msg in [(good[:len(good) // 2], 'not a readable checkpoint'),  # truncated
                     (b'hello', 'not a readable checkpoint'),
                     (None, 'not a checkpoint written by train.py')]:  # a torch file of something else
        if bad is None:
            torch.save({'weights': torch.zeros(2)}, run / 'ckpt.pt')
        else:
            (run / 'ckpt.pt').write_bytes(bad)
        before = snapshot(run)
        for how in ('resume', 'auto'):
            line = error_line(train(tmp_path, '--max_iters=4', f'--init_from={how}')[0])
            assert msg in line and 'ckpt.pt' in line, line
            assert snapshot(run) == before


def test_optimizer_key_of_another_optimizer_warns(tmp_path, char_data):
    r, run = train(tmp_path, '--sophia_rho=0.05', '--max_iters=0')
    assert r.returncode == 0, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('warning: sophia_rho') and 'adamw' in lines[0], r.stderr


def test_config_file_error_names_file_and_line(tmp_path, char_data):
    f = tmp_path / 'cfg.py'
    f.write_text("n_layer = 2\nlearning_rate = base_lr * 2\n")
    line = error_line(train(tmp_path, str(f))[0])
    assert f"{f}:2: NameError" in line, line


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_gpu_sized_config_on_the_cpu_gets_a_hint(tmp_path, char_data):
    # 1024 micro-steps of 8 x 32 tokens: ~1.8e11 FLOPs per iteration, above the CPU threshold; max_iters=0 only
    # evaluates. One torchrun rank (the environment torchrun sets): a single process, so not 'with DDP'.
    env = dict(os.environ, RANK='0', LOCAL_RANK='0', WORLD_SIZE='1', LOCAL_WORLD_SIZE='1', MASTER_ADDR='127.0.0.1',
               MASTER_PORT=str(free_port()), PYTHONUNBUFFERED='1')
    r = subprocess.run([sys.executable, 'train.py', 'config/debug_cpu.py', f'--out_dir={tmp_path}', '--run_name=run',
                        '--gradient_accumulation_steps=1024', '--max_iters=0', '--eval_iters=1'], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert 'with DDP' not in r.stdout and 'device: cpu' in r.stdout
    hint = [line for line in r.stdout.splitlines() if 'config/demo_cpu.py' in line]
    assert len(hint) == 1 and 'FLOP' in hint[0], r.stdout[-3000:]


@pytest.mark.parametrize('args,msg', [
    (['--learning_rat=1e-3'], "unknown config key 'learning_rat' (did you mean 'learning_rate'?)"),
    (['--eval_iters=0'], 'eval_iters=0'),  # used to run and be recorded as diverged
    (['--batch_size=0'], 'batch_size=0'),
    (['--eval_interval=0'], 'eval_interval=0'),
    (['--log_interval=-1'], 'log_interval=-1'),
    (['--gradient_accumulation_steps=0'], 'gradient_accumulation_steps=0'),
    (['--max_iters=-5'], 'max_iters=-5'),
    (['--warmup_iters=-1'], 'warmup_iters=-1'),
    (['--learning_rate=-0.001'], 'learning_rate=-0.001'),
    (['--device=cuda', '--dtype=float32'], 'CUDA'),  # the test environment hides any GPU
    (['--out_dir=train.py/sub'], 'out_dir'),  # a file where a folder must be
    (['--parameterization=mupp'], "unknown parameterization 'mupp'"),
    (['--optimizer=adamm'], "unknown optimizer 'adamm' (did you mean 'adam'?)"),
    (['--n_embd=65'], 'n_embd=65 is not divisible by n_head=2'),
    (['--dataset=nosuchdata'], 'python data/nosuchdata/prepare.py'),
    (['--tie_embeddings=True', '--parameterization=sp'], "tie_embeddings=True under 'sp'"),
    (['--optimizer=adam', '--wd_mode=independent'], 'decoupled weight decay'),
    (['--batch_size=abc'], 'batch_size expects int'),
    (['--optimizer=muon', '--muon_ns_steps=-1'], 'Muon: muon_ns_steps=-1: must be >= 0'),
    (['--optimizer=splus', '--splus_inverse_every=0'], 'splus_inverse_every=0'),
    (['config/nope.py'], 'config file config/nope.py not found'),
])
def test_bad_config_gives_one_line_error(tmp_path, args, msg, char_data, monkeypatch):
    monkeypatch.setenv('CUDA_VISIBLE_DEVICES', '')
    r, run = train(tmp_path, *args)
    assert not run.exists()  # before anything is written
    assert r.returncode == 2
    assert 'Traceback' not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: ') and msg in lines[0], r.stderr


def test_torchrun_ddp_two_ranks_and_resume_on_one(tmp_path, char_data):
    """2 gloo ranks on the CPU train, rank 0 writes the run folder, and the checkpoint resumes in 1 process.
    (Equality with a single process is tests/test_distributed.py's: each rank draws its own batches.)"""
    common = [f'--out_dir={tmp_path}', '--run_name=ddp', '--gradient_accumulation_steps=2']
    r = run_script(['-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2', 'train.py',
                    'config/debug_cpu.py', '--max_iters=10', *common])
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'tokens per iteration: 512 (2 ranks x 1 micro-steps' in r.stdout
    assert json.loads((tmp_path / 'ddp' / 'summary.json').read_text())['iters'] == 10
    r = run_script(['train.py', 'config/debug_cpu.py', '--max_iters=15', '--init_from=resume', *common])
    assert r.returncode == 0, r.stderr
    assert list(losses(tmp_path / 'ddp')) == list(range(1, 16))
