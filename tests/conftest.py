"""Shared test helpers: the repo root on sys.path, a tiny model config, a subprocess runner for scripts."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TINY = dict(n_layer=2, n_head=2, n_embd=64, block_size=16, vocab_size=65, bias=False, dropout=0.0)
os.environ.setdefault('TRITON_INTERPRET', '0' if torch.cuda.is_available() else '1')  # no GPU: Triton's interpreter


def optim_config(**overrides):
    """A complete config for optim.from_config, as train.py passes it: train.py's shared keys (its defaults, but a
    constant LR schedule), tokens_per_iter (official Sophia's 5120), fused off, every optimizer's own keys at their
    defaults; then the overrides."""
    import optim
    return {**optim.hparam_defaults(), 'learning_rate': 1e-3, 'beta1': 0.9, 'beta2': 0.95, 'momentum': 0.9,
            'nesterov': False, 'fused': False, 'tokens_per_iter': 5120, 'lr_schedule': 'constant', 'warmup_iters': 0,
            **overrides}


def load_script(name):
    """scripts/<name>.py imported as a module (scripts/ goes on sys.path first: the scripts import each other)."""
    import importlib.util
    if str(ROOT / 'scripts') not in sys.path:
        sys.path.insert(0, str(ROOT / 'scripts'))
    spec = importlib.util.spec_from_file_location(name, ROOT / 'scripts' / f'{name}.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run_script(args, cwd=ROOT, timeout=300):
    """Run `python <args>` in the repo root; returns CompletedProcess with text stdout/stderr."""
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    return subprocess.run([sys.executable, *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    yield


@pytest.fixture(scope='session')
def char_data():
    """data/shakespeare_char prepared from the repository's own copy of Tiny Shakespeare (once per session)."""
    data_dir = ROOT / 'data' / 'shakespeare_char'
    if not (data_dir / 'train.bin').exists():
        r = run_script(['data/shakespeare_char/prepare.py'])
        assert r.returncode == 0, r.stderr
    return data_dir
