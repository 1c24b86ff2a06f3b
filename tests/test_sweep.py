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
    # 60 steps: the kill below must land between good2's first checkpoint (step 3) and its end; with 12 steps that
    # window (~0.2 s) was missed once on a loaded 2-core machine (the run finished before SIGTERM)
    f = sweep_file(tmp_path / 's.py', sw, fixed=dict(max_iters=60, eval_interval=3, eval_iters=2, log_interval=1),
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
    assert [r['iter'] for r in rows if r['kind'] == 'train'] == list(range(1, 61))  # every step exactly once
    assert [r['iter'] for r in rows if r['kind'] == 'eval'] == list(range(0, 61, 3))
    assert json.loads((sw / good2 / 'summary.json').read_text())['iters'] == 60
    failed = [e for e in evts if e['event'] == 'failed']
    assert [e['run_name'] for e in failed] == [bad, bad]  # retried by the restart, recorded both times
    assert failed[-1]['returncode'] == 2 and 'error:' in failed[-1]['stderr_tail']
    assert 'n_head' in failed[-1]['stderr_tail'] or 'divisible' in failed[-1]['stderr_tail']
    assert not (sw / '.sweep.lock').exists()


# -----------------------------------------------------------------------------
# killed with SIGKILL: no orphan keeps running, a restart takes over, and never runs a point twice at once

def alive(pid):
    """A process that exists and is not a zombie (a dead child its new parent has not reaped yet)."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except FileNotFoundError:
        return False


def kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def test_sigkilled_sweep_takes_its_runs_with_it_and_a_restart_takes_over(tmp_path, char_data):
    sw = tmp_path / 'sw'
    f = sweep_file(tmp_path / 's.py', sw, fixed=dict(max_iters=100, eval_interval=20, eval_iters=2, log_interval=5),
                   points=[dict(learning_rate=0.01)])
    env = dict(os.environ, OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='', PYTHONUNBUFFERED='1')
    cmd = [sys.executable, 'scripts/sweep.py', str(f)]
    p = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    child = None
    try:
        deadline = time.time() + 120
        while not (sw / 'lr0.01' / 'ckpt.pt').exists():
            assert p.poll() is None and time.time() < deadline
            time.sleep(0.01)
        child = [e['pid'] for e in events(sw) if e['event'] == 'start'][0]
        p.kill()  # SIGKILL: no handler runs, the lock file stays behind
        p.wait()
        deadline = time.time() + 10
        while alive(child) and time.time() < deadline:
            time.sleep(0.05)
        assert not alive(child), 'the run outlived its sweep (orphan)'
        assert not (sw / 'lr0.01' / 'summary.json').exists()
        assert (sw / '.sweep.lock').exists()  # stale: its owner is dead
        r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
    finally:
        kill_group(p.pid)
        if child:
            kill_group(child)
    assert 'resuming from' in (sw / 'logs' / 'lr0.01.out').read_text()
    rows = [json.loads(line) for line in open(sw / 'lr0.01' / 'metrics.jsonl')]  # every line JSON, none twice
    assert [r['iter'] for r in rows if r['kind'] == 'train'] == list(range(5, 101, 5))
    summary = json.loads((sw / 'lr0.01' / 'summary.json').read_text())
    assert summary['iters'] == 100 and summary['final_val_loss'] is not None
    assert not (sw / '.sweep.lock').exists()


def test_restarted_sweep_never_runs_a_point_whose_process_is_alive(tmp_path, char_data):
    sw = tmp_path / 'sw'
    f = sweep_file(tmp_path / 's.py', sw, fixed=dict(max_iters=100000, eval_interval=100000, eval_iters=2),
                   points=[dict(learning_rate=0.01)])
    spec = sweep.load_sweep(f)
    [(name, point)] = sweep.expand(spec)
    env = dict(os.environ, OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='', PYTHONUNBUFFERED='1')
    # the point's own command, started by hand: what an orphan of a killed older sweep looks like
    orphan = subprocess.Popen(sweep.command(spec, name, point), cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    p = None
    try:
        deadline = time.time() + 60
        while not (sw / name / 'ckpt.pt').exists():
            assert orphan.poll() is None and time.time() < deadline
            time.sleep(0.05)
        p = subprocess.Popen([sys.executable, 'scripts/sweep.py', str(f)], cwd=ROOT, env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        out, err = p.communicate(timeout=60)
        assert p.returncode == 1, out + err
        assert f'still running in pid {orphan.pid}' in out, out
        evts = events(sw)
        assert count(evts, 'busy', name) == 1 and count(evts, 'start', name) == 0
        assert orphan.poll() is None  # left alone
        [json.loads(line) for line in open(sw / name / 'metrics.jsonl')]  # one writer: every line is JSON
    finally:
        kill_group(orphan.pid)
        orphan.wait()
        if p is not None:
            kill_group(p.pid)
            for e in events(sw) if (sw / 'sweep_status.jsonl').exists() else []:
                if e['event'] == 'start':
                    kill_group(e['pid'])


HOLD = """import sys, time; sys.path.insert(0, 'scripts'); import sweep
try:
    fd = sweep.take_lock(sys.argv[1])
except sweep.SweepError as e:
    print('busy', flush=True)
else:
    print('got', flush=True)
    time.sleep(float(sys.argv[2]))
    sweep.release_lock(sys.argv[1], fd)
"""


def test_sweep_lock_is_exclusive_and_a_dead_owners_lock_is_taken_over(tmp_path):
    d = tmp_path / 'sw'
    d.mkdir()
    (d / '.sweep.lock').write_text(str(os.getpid()))  # a live pid that is no sweep (a reused pid): not a lock
    fd = sweep.take_lock(d)
    assert (d / '.sweep.lock').read_text() == str(os.getpid())
    sweep.release_lock(d, fd)
    assert not (d / '.sweep.lock').exists()
    # 8 sweeps starting at once: exactly one gets the lock while it holds it
    procs = [subprocess.Popen([sys.executable, '-c', HOLD, str(d), '3'], cwd=ROOT, stdout=subprocess.PIPE, text=True)
             for _ in range(8)]
    outs = [q.communicate(timeout=60)[0].strip() for q in procs]
    assert sorted(outs) == ['busy'] * 7 + ['got'], outs
    holder = subprocess.Popen([sys.executable, '-c', HOLD, str(d), '30'], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == 'got'
        with pytest.raises(sweep.SweepError, match=f'another sweep \\(pid {holder.pid}\\)'):
            sweep.take_lock(d)
    finally:
        holder.kill()
        holder.wait()
    sweep.release_lock(d, sweep.take_lock(d))  # its owner died (SIGKILL): taken over
