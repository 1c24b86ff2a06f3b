"""Run logging (logger.py, train.py's wandb_log / tensorboard keys) end to end on config/debug_cpu.py: TensorBoard's
event files read back equal metrics.jsonl, over a resume after a kill and a start over; wandb through a stand-in
module that records its calls (wandb is not installed for the tests); a missing package is one error line.
    pytest tests/test_logger.py
"""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

import logger

FAKE_WANDB = '''
import json, os

def _record(call, **kw):
    with open(os.environ['FAKE_WANDB_CALLS'], 'a') as f:
        f.write(json.dumps(dict(call=call, **kw), default=str) + '\\n')

def init(**kw):
    _record('init', **kw)
    return object()

def log(values, step=None):
    _record('log', values=values, step=step)

def finish():
    _record('finish')
'''
MISSING = "raise ImportError(\"No module named '{name}'\")\n"


def package_dir(tmp_path, **modules):
    """A folder to put first on PYTHONPATH holding packages {name: source of its __init__.py}."""
    root = tmp_path / 'pkgs'
    for name, source in modules.items():
        (root / name).mkdir(parents=True)
        (root / name / '__init__.py').write_text(source.format(name=name) if source is MISSING else source)
    return root


def train(out, *args, pythonpath=None, env=None, name='run'):
    env = dict(os.environ, PYTHONUNBUFFERED='1', **(env or {}))
    if pythonpath:
        env['PYTHONPATH'] = os.pathsep.join([str(pythonpath), env.get('PYTHONPATH', '')])
    r = subprocess.run([sys.executable, 'train.py', 'config/debug_cpu.py', f'--out_dir={out}', f'--run_name={name}',
                        *args], cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    return r, out / name


def metrics(run_dir):
    return [json.loads(line) for line in open(run_dir / 'metrics.jsonl')]


def expected_scalars(rows):
    """{tag: [(step, value), ...]} that metrics.jsonl's rows should give, in order."""
    out = {}
    for row in rows:
        for tag, value in logger.scalars(row).items():
            out.setdefault(tag, []).append((row['iter'], value))
    return out


def tensorboard_scalars(run_dir):
    """{tag: [(step, value), ...]} as TensorBoard shows them (its EventAccumulator, every event, purges applied)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    acc = EventAccumulator(str(run_dir / 'tb'), size_guidance={'scalars': 0})
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()['scalars']}


def assert_tensorboard_is_metrics(run_dir):
    want, got = expected_scalars(metrics(run_dir)), tensorboard_scalars(run_dir)
    assert set(got) == set(want)
    for tag in want:  # event files store float32
        assert got[tag] == [(step, float(np.float32(v))) for step, v in want[tag]], tag


def test_scalars_of_a_row():
    assert logger.scalars(dict(iter=3, kind='eval', train_loss=2.5, val_loss=float('nan'), lr_mult=1)) == \
        {'eval/train_loss': 2.5, 'eval/val_loss': pytest.approx(float('nan'), nan_ok=True), 'eval/lr_mult': 1.0}
    assert logger.scalars({'iter': 0, 'kind': 'alignment', 'A/lm_head': 0.5}) == {'alignment/A/lm_head': 0.5}


def test_tensorboard_equals_metrics_over_a_kill_and_resume(tmp_path, char_data):
    args = ['--tensorboard=True', '--eval_interval=5', '--alignment_interval=5']
    r, run = train(tmp_path, *args, '--max_iters=10')
    assert r.returncode == 0, r.stderr
    assert {'train/loss', 'train/ms', 'eval/val_loss', 'alignment/A/lm_head'} <= set(tensorboard_scalars(run))
    assert_tensorboard_is_metrics(run)
    # a kill after iteration 15 whose last checkpoint is at 10: continue to 15, then put the iteration-10
    # checkpoint back and drop the summary. The resume logs 11..15 again (other step times in train/ms): TensorBoard
    # must show them once, as metrics.jsonl does
    shutil.copy(run / 'ckpt.pt', tmp_path / 'ckpt10.pt')
    r, _ = train(tmp_path, *args, '--max_iters=15', '--init_from=resume')
    assert r.returncode == 0, r.stderr
    shutil.copy(tmp_path / 'ckpt10.pt', run / 'ckpt.pt')
    os.remove(run / 'summary.json')
    r, _ = train(tmp_path, *args, '--max_iters=20', '--init_from=resume')
    assert r.returncode == 0, r.stderr
    assert len(os.listdir(run / 'tb')) == 3  # one event file per segment
    assert [s for s, _ in tensorboard_scalars(run)['train/loss']] == list(range(1, 21))
    assert_tensorboard_is_metrics(run)


def test_tensorboard_run_started_over_drops_the_old_events(tmp_path):
    """A run started over (overwrite, restart: not a resume) replaces metrics.jsonl, and its event files too."""
    for steps, resume in (([1, 2, 3, 4], False), ([5], True), ([1, 2], False)):
        run_logger = logger.open_loggers(dict(run_name='r', tensorboard=True), str(tmp_path), steps[0] - 1, resume)
        for step in steps:
            run_logger.log(dict(iter=step, kind='train', loss=float(step)))
        run_logger.close()
        if resume:
            assert [s for s, _ in tensorboard_scalars(tmp_path)['train/loss']] == [1, 2, 3, 4, 5]
    assert tensorboard_scalars(tmp_path) == {'train/loss': [(1, 1.0), (2, 2.0)]}


def test_wandb_gets_every_metrics_row_and_resumes_the_same_run(tmp_path, char_data):
    fake = package_dir(tmp_path, wandb=FAKE_WANDB)
    calls = tmp_path / 'calls.jsonl'
    args = ['--wandb_log=True', '--eval_interval=3', '--alignment_interval=3']
    r, run = train(tmp_path, *args, '--max_iters=6', pythonpath=fake, env=dict(FAKE_WANDB_CALLS=str(calls)))
    assert r.returncode == 0, r.stderr
    first = [json.loads(line) for line in open(calls)]
    init = first[0]
    run_id = (run / 'wandb_id').read_text().strip()
    assert init['call'] == 'init' and init['project'] == 'nanomup' and init['name'] == 'run'
    assert init['id'] == run_id and init['resume'] == 'allow' and init['config']['n_embd'] == 64
    assert first[-1] == {'call': 'finish'}
    rows = metrics(run)
    assert [(c['step'], c['values']) for c in first[1:-1]] == [(x['iter'], logger.scalars(x)) for x in rows]
    # a resume continues the same wandb run, logging only the new rows; the project and name keys may change
    calls.unlink()
    r, _ = train(tmp_path, *args, '--max_iters=9', '--init_from=resume', '--wandb_project=other',
                 '--wandb_run_name=named', pythonpath=fake, env=dict(FAKE_WANDB_CALLS=str(calls)))
    assert r.returncode == 0, r.stderr
    second = [json.loads(line) for line in open(calls)]
    assert {k: second[0][k] for k in ('id', 'project', 'name')} == dict(id=run_id, project='other', name='named')
    new = [x for x in metrics(run) if x['iter'] > 6]
    assert [(c['step'], c['values']) for c in second[1:-1]] == [(x['iter'], logger.scalars(x)) for x in new]


@pytest.mark.parametrize('key, package', [('wandb_log', 'wandb'), ('tensorboard', 'tensorboard')])
def test_missing_package_is_one_error_line(tmp_path, char_data, key, package):
    r, run = train(tmp_path, f'--{key}=True', pythonpath=package_dir(tmp_path, **{package: MISSING}))
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and lines == [f"error: {key}=True needs the {package} package: pip install {package}"], \
        r.stderr[-2000:]
    assert not run.exists()  # before any work


def test_no_logging_keys_no_logging(tmp_path, monkeypatch):
    """Without the keys nothing is imported or created; with wandb_log the stand-in module gets the run."""
    got = logger.open_loggers(dict(run_name='r'), str(tmp_path))
    assert got.sinks == [] and os.listdir(tmp_path) == []
    calls = []

    class Wandb:
        def init(self, **kw):
            calls.append(('init', kw['id'], kw['name']))

        def log(self, values, step):
            calls.append(('log', step, values))

        def finish(self):
            calls.append(('finish',))

    monkeypatch.setitem(sys.modules, 'wandb', Wandb())
    assert logger.check(dict(wandb_log=True)) is None
    run_logger = logger.open_loggers(dict(run_name='r', wandb_log=True, wandb_run_name=''), str(tmp_path))
    run_logger.log(dict(iter=2, kind='train', loss=1.5))
    run_logger.close()
    run_id = (tmp_path / 'wandb_id').read_text().strip()
    assert calls == [('init', run_id, 'r'), ('log', 2, {'train/loss': 1.5}), ('finish',)]
    calls.clear()  # a run started over (not a resume) gets a new wandb run
    logger.open_loggers(dict(run_name='r', wandb_log=True), str(tmp_path), resume=False)
    assert calls[0][1] != run_id and calls[0][1] == (tmp_path / 'wandb_id').read_text().strip()
