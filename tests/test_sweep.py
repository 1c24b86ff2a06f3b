"""scripts/sweep.py: grid expansion and run names, the one-line error for a bad sweep file, the dry run, one run
per GPU at a time (with a stand-in for train.py), and a real CPU sweep on config/debug_cpu.py that is killed
mid-run and restarted: no point runs twice, none is lost, a crashing point is recorded and the sweep goes on.

    pytest tests/test_sweep.py
"""

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT, run_script

spec = importlib.util.spec_from_file_location('sweep', ROOT / 'scripts' / 'sweep.py')
sweep = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sweep)


def sweep_file(path, sweep_dir, **fields):
    lines = [f"base_config = 'config/debug_cpu.py'", f"sweep_dir = {str(sweep_dir)!r}"]
    lines += [f"{k} = {v!r}" for k, v in fields.items()]
    path.write_text('\n'.join(lines) + '\n')
    return path


def events(sweep_dir):
    return [json.loads(line) for line in open(sweep_dir / 'sweep_status.jsonl')]


def count(evts, event, name):
    return sum(e['event'] == event and e['run_name'] == name for e in evts)


# -----------------------------------------------------------------------------
# the sweep file

def test_expand_names_and_commands(tmp_path):
    spec = sweep.load_sweep(sweep_file(
        tmp_path / 's.py', tmp_path / 'sw',
        grid=dict(learning_rate=[3e-3, 1e-2], n_embd=[64], parameterization=['mup'], optimizer=['adamw'],
                  seed=[1, 2], n_layer=[8]),
        fixed=dict(max_iters=5), points=[dict(n_embd=128, beta2=0.99, learning_rate=1e-4, optimizer='sgd')]))
    points = sweep.expand(spec)
    names = [n for n, _ in points]
    assert names[:2] == ['mup_adamw_w64_d8_lr0.003_s1', 'mup_adamw_w64_d8_lr0.003_s2']
    assert len(names) == 5 and names[-1] == 'sgd_w128_lr0.0001_beta2-0.99'  # fixed order, then the rest
    cmd = sweep.command(spec, *points[0])
    assert cmd[1:3] == ['train.py', 'config/debug_cpu.py'] and '--max_iters=5' in cmd
    assert "--parameterization=mup" in cmd and '--learning_rate=0.003' in cmd
    assert cmd[-3:] == [f"--out_dir={tmp_path / 'sw'}", '--run_name=mup_adamw_w64_d8_lr0.003_s1', '--init_from=auto']
    assert sweep.cli_value('None') == "'None'" and sweep.cli_value({'a': 1}) == "{'a': 1}"


def test_names_colliding_in_6_digits_are_an_error(tmp_path):
    f = sweep_file(tmp_path / 's.py', tmp_path / 'sw', grid=dict(learning_rate=[1e-3, 1.0000001e-3]))
    with pytest.raises(sweep.SweepError, match='get the run name lr0.001'):
        sweep.expand(sweep.load_sweep(f))


def test_keys_checked_against_train_py_and_optimizer_hparams(tmp_path):
    keys = sweep.known_keys()
    assert {'n_embd', 'learning_rate', 'seed', 'parameterization', 'max_iters', 'sophia_rho'} <= keys
    assert not keys & {'config', 'config_keys', 'run_dir', 'model'}  # only the defaults block
    spec = sweep.load_sweep(sweep_file(tmp_path / 's.py', tmp_path / 'sw', grid=dict(sophia_rho=[0.05])))
    sweep.check_keys(spec, sweep.known_keys())  # an optimizer's own key: accepted


@pytest.mark.parametrize('fields,msg', [
    (dict(grid=dict(learning_rat=[1e-3])), "error: unknown config key 'learning_rat' (did you mean 'learning_rate'?)"),
    (dict(grid=dict(out_dir=['x'])), 'error: out_dir: set by the sweep'),
    (dict(grid=dict(seed=[])), "error: "),  # + the file name: ...grid['seed'] must be a non-empty list
    (dict(gird=dict(seed=[1])), 'error: '),  # ...unknown sweep setting(s) gird
])
def test_bad_sweep_file_is_one_line_error(tmp_path, fields, msg):
    r = run_script(['scripts/sweep.py', sweep_file(tmp_path / 's.py', tmp_path / 'sw', **fields), '--dry-run'])
    assert r.returncode == 2 and r.stderr.startswith(msg) and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "grid['seed'] must be a non-empty" in r.stderr or 'gird' in r.stderr or 'seed' not in str(fields)
    assert not (tmp_path / 'sw').exists()


def test_dry_run_prints_commands_and_skips(tmp_path):
    sw = tmp_path / 'sw'
    f = sweep_file(tmp_path / 's.py', sw, grid=dict(learning_rate=[1e-3, 1e-2], seed=[1, 2]), estimate='1 min')
    (sw / 'lr0.001_s2').mkdir(parents=True)
    (sw / 'lr0.001_s2' / 'summary.json').write_text('{}')
    r = run_script(['scripts/sweep.py', f, '--dry-run'])
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == 'estimate: 1 min'
    assert sum('train.py config/debug_cpu.py' in line for line in lines) == 3
    assert '[skip, summary.json exists] lr0.001_s2' in lines
    assert lines[-1].startswith('4 points: 3 to run, 1 would be skipped')
    assert not (sw / 'sweep_status.jsonl').exists()  # a dry run runs nothing


# -----------------------------------------------------------------------------
# scheduling on GPUs, without GPUs: a stand-in for train.py that records its CUDA_VISIBLE_DEVICES

FAKE = """import json, os, sys, time
d = os.path.join(sys.argv[1], sys.argv[2]); os.makedirs(d, exist_ok=True); t0 = time.time(); time.sleep(0.5)
json.dump(dict(gpu=os.environ['CUDA_VISIBLE_DEVICES'], t0=t0, t1=time.time(), diverged=False, best_val_loss=1.0),
          open(os.path.join(d, 'summary.json'), 'w'))"""


def test_one_point_per_gpu_group_concurrently(tmp_path, monkeypatch, capsys):
    sw = tmp_path / 'sw'
    f = sweep_file(tmp_path / 's.py', sw, grid=dict(seed=[1, 2, 3, 4]), launcher='torchrun', nproc_per_node=2)
    monkeypatch.setattr(sweep, 'command', lambda spec, name, point: [sys.executable, '-c', FAKE, str(sw), name])
    handlers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        assert sweep.main([str(f), '--gpus', '0,1,2,3,4']) == 0  # 5 GPUs, 2 per run: groups 0,1 and 2,3
    finally:
        signal.signal(signal.SIGINT, handlers[0])
        signal.signal(signal.SIGTERM, handlers[1])
    runs = [json.loads((sw / f's{s}' / 'summary.json').read_text()) for s in (1, 2, 3, 4)]
    assert sorted(r['gpu'] for r in runs) == ['0,1', '0,1', '2,3', '2,3']
    first, second = sorted(runs[:2], key=lambda r: r['t0'])
    assert second['t0'] < first['t1']  # the first two ran at the same time
    for g in ('0,1', '2,3'):  # never two at once on one group
        a, b = sorted((r for r in runs if r['gpu'] == g), key=lambda r: r['t0'])
        assert b['t0'] >= a['t1']
    out = capsys.readouterr().out
    assert '[4/4] 0 failed' in out and 'ETA' in out
    assert sweep.slots(['0', '1'], 1, 2) == ['0', '0', '1', '1'] and sweep.slots([], 1, 3) == [None] * 3


# -----------------------------------------------------------------------------
# a real sweep on the CPU, killed and resumed

def test_killed_sweep_resumes_without_rerunning_and_records_crashes(tmp_path, char_data):
    sw = tmp_path / 'sw'
    bad, good1, good2 = 'w65', 'lr0.01', 'lr0.03'  # n_embd=65 is not divisible by n_head=2: train.py exits 2
    f = sweep_file(tmp_path / 's.py', sw, fixed=dict(max_iters=12, eval_interval=3, eval_iters=2, log_interval=1),
                   points=[dict(n_embd=65), dict(learning_rate=0.01), dict(learning_rate=0.03)])
    env = dict(os.environ, OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='', PYTHONUNBUFFERED='1')
    cmd = [sys.executable, 'scripts/sweep.py', str(f)]
    p = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    # kill when the first good point is finished and the second has a checkpoint but no summary yet
    while not ((sw / good1 / 'summary.json').exists() and (sw / good2 / 'ckpt.pt').exists()):
        assert p.poll() is None and time.time() < deadline, p.communicate()
        time.sleep(0.01)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 143, err
    assert not (sw / good2 / 'summary.json').exists()  # killed mid-run
    first = events(sw)
    child = [e['pid'] for e in first if e['event'] == 'start' and e['run_name'] == good2][0]
    with pytest.raises(ProcessLookupError):  # the running child went with the sweep
        os.kill(child, 0)
    assert count(first, 'interrupted', good2) == 1 and 'run the same command to resume' in out
    summary1 = (sw / good1 / 'summary.json').read_bytes()
    mtime1 = (sw / good1 / 'summary.json').stat().st_mtime_ns

    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1, r.stderr  # 1: a point failed
    assert '3 points, 1 already done, 2 to run' in r.stdout and 'sweep finished: 2/3 done, 1 failed' in r.stdout
    evts = events(sw)
    assert count(evts, 'start', good1) == 1 and count(evts, 'done', good1) == 1  # never run again
    assert (sw / good1 / 'summary.json').read_bytes() == summary1
    assert (sw / good1 / 'summary.json').stat().st_mtime_ns == mtime1
    assert count(evts, 'start', good2) == 2 and count(evts, 'done', good2) == 1  # resumed, finished once
    assert 'resuming from' in (sw / 'logs' / f'{good2}.out').read_text()  # from its checkpoint, not from scratch
    rows = [json.loads(line) for line in open(sw / good2 / 'metrics.jsonl')]
    assert [r['iter'] for r in rows if r['kind'] == 'train'] == list(range(1, 13))  # every step exactly once
    assert [r['iter'] for r in rows if r['kind'] == 'eval'] == [0, 3, 6, 9, 12]
    assert json.loads((sw / good2 / 'summary.json').read_text())['iters'] == 12
    failed = [e for e in evts if e['event'] == 'failed']
    assert [e['run_name'] for e in failed] == [bad, bad]  # retried by the restart, recorded both times
    assert failed[-1]['returncode'] == 2 and 'error:' in failed[-1]['stderr_tail']
    assert 'n_head' in failed[-1]['stderr_tail'] or 'divisible' in failed[-1]['stderr_tail']
    assert not (sw / '.sweep.lock').exists()
