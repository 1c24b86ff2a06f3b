"""scripts/gpu_check.sh --dry-run (no GPU needed): every step names a script, test file or config file that exists,
with arguments its script accepts (the same parsers the scripts use), and the budgets fit the 8-minute total.

    pytest tests/test_gpu_check.py -q
"""

import contextlib
import importlib.util
import io
import shlex
import subprocess

import configurator
from conftest import ROOT

KERNEL_FLAGS = {'--dtype', '--only', '--no-compile', '--no-tf32', '--out'}  # scripts/bench_kernels.py's argparse


def load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / 'scripts' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def dry_run(*args):
    return subprocess.run(['bash', 'scripts/gpu_check.sh', '--dry-run', *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=30, env={'PATH': '/usr/bin:/bin', 'OUT': 'results/gpu'})


def test_dry_run_names_existing_scripts_and_valid_keys():
    r = dry_run()
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    steps = [line for line in lines if line.startswith('[')]
    assert len(steps) == 8 and lines[-1].startswith('total budget 480 s')
    budgets = [int(line[1:line.index(' s]')]) for line in steps]
    assert sum(budgets) <= 480, budgets
    commands = [shlex.split(line[line.index('] ') + 2:]) for line in steps]
    scripts = {}
    for cmd in commands:
        assert cmd[0] == 'python3', cmd
        if cmd[1:3] == ['-m', 'pytest']:
            assert (ROOT / cmd[3]).is_file(), cmd
            scripts.setdefault('pytest', []).append(cmd)
            continue
        assert (ROOT / cmd[1]).is_file(), cmd
        args = cmd[2:]
        for a in args:  # config files
            if not a.startswith('-') and '=' not in a and not a.startswith('results/'):
                assert (ROOT / a).is_file(), (cmd, a)
        scripts.setdefault(cmd[1], []).append(args)
    assert set(scripts) == {'pytest', 'scripts/bench_kernels.py', 'scripts/bench_train.py', 'train.py',
                            'scripts/bench_optim.py'}
    assert scripts['pytest'][0][3] == 'tests/test_kernels.py'
    bench_train, bench_optim = load('bench_train'), load('bench_optim')
    with contextlib.redirect_stdout(io.StringIO()):  # the parsers print every override
        presets = []
        for args in scripts['scripts/bench_train.py']:
            cfg = bench_train.load_config(args)  # raises ConfigError on an unknown key, preset or bad type
            presets.append(cfg['preset'])
            if cfg['optimizers']:
                assert cfg['optimizers'] == 'all' and cfg['preset'] == 'gpt2'
        assert sorted(presets) == sorted(['gpt2', 'baby', 'w2048', 'gpt2'])
        for args in scripts['scripts/bench_optim.py']:
            cfg = bench_optim.load_config(args)
            assert cfg['device'] == 'cuda' and cfg['model'] == 'gpt2' and 0 < cfg['budget_s'] < 55
        for args in scripts['train.py']:
            cfg = configurator.train_defaults()
            configurator.configure(cfg, args)
            assert (cfg['max_iters'], cfg['dtype'], cfg['compile']) == (300, 'bfloat16', True)
            assert cfg['out_dir'].startswith('out/')  # a checkpoint is no table: out/ is not committed
    for args in scripts['scripts/bench_kernels.py']:
        assert {a for a in args if a.startswith('--')} <= KERNEL_FLAGS, args
    # every table lands in OUT
    outs = [a.split('=', 1)[-1] for cmd in commands for a in cmd if a.startswith('--out=')]
    assert outs and all(o.startswith('results/gpu/') for o in outs), outs


def test_unknown_argument_is_one_line():
    r = dry_run('--fast')
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [
        "error: unknown argument '--fast': use --dry-run or none (OUT=dir, TOTAL=seconds, PYTHON=python)"]
