"""scripts/bench_optim.py on tiny shapes (a few seconds): every optimizer of optim.REGISTRY gets a timed row with
its state size, peer rows of the installed libraries carry the measured ratios, a library that is not installed is
a note row, not a crash.

    OMP_NUM_THREADS=1 pytest tests/test_bench_optim.py -q
"""

import importlib.util
import math

import pytest
import torch

import optim
from conftest import ROOT


@pytest.fixture(autouse=True)
def keep_thread_count():
    """bench_optim's --threads sets this process's torch thread count: put it back for the tests that follow."""
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


def load():
    spec = importlib.util.spec_from_file_location('bench_optim', ROOT / 'scripts' / 'bench_optim.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tiny_run_rows_ratios_and_missing_peers(tmp_path, monkeypatch):
    bench = load()
    real = bench.import_peer

    def import_peer(library):  # heavyball stands for any peer library that is not installed
        if library == 'heavyball':
            raise ImportError(library)
        real(library)

    monkeypatch.setattr(bench, 'import_peer', import_peer)
    out = tmp_path / 'bench.md'
    rows = bench.main(['--model=tiny', '--rounds=2', '--period=2', '--warmup_rounds=1', '--threads=1',
                       '--peers=torch,heavyball', f'--out={out}'])
    ours = {r['algo']: r for r in rows if r['ours']}
    assert list(ours) == list(optim.REGISTRY)
    for r in ours.values():
        assert r['ms'] > 0 and math.isfinite(r['ms']) and r['note'] is None, r
    # state bytes per parameter: exact for the layouts we know
    assert ours['adamw']['bytes_per_param'] == 8.0 and ours['sgd']['bytes_per_param'] == 4.0
    assert ours['adafactor']['bytes_per_param'] < 1.0  # factored second moment
    assert ours['soap']['bytes_per_param'] > 8.0  # factors and eigenbases on top of the moments
    assert ours['adamw']['x_adamw'] == 1.0
    assert math.isclose(ours['soap']['x_adamw'], ours['soap']['ms'] / ours['adamw']['ms'])
    peers = [r for r in rows if not r['ours'] and r['ms']]
    assert {r['label'] for r in peers} >= {'torch AdamW (fused)', 'torch AdamW (foreach)', 'torch Adafactor',
                                           'torch Muon + AdamW'}
    for r in peers:  # a peer row: our time over its time
        assert math.isclose(r['ratio'], ours[r['algo']]['ms'] / r['ms']), r
    fastest = min(r['ms'] for r in peers if r['algo'] == 'adamw')
    assert math.isclose(ours['adamw']['ratio'], ours['adamw']['ms'] / fastest)
    assert ours['soap']['ratio'] is None  # no torch peer for SOAP, and heavyball is "missing"
    notes = [r for r in rows if r['note'] and 'not installed' in r['note']]
    assert {r['label'] for r in notes} == {'heavyball AdamW', 'heavyball ADOPT', 'heavyball SOAP',
                                           'heavyball PSGDKron', 'heavyball Muon + AdamW', 'heavyball SFAdamW'}
    assert all('pip install heavyball' in r['note'] for r in notes)
    text = out.read_text()
    assert 'python scripts/bench_optim.py --model=tiny' in text and '| adamw | **ours (adamw)** |' in text
    assert text.count('\n| ') == len(rows) + 1  # the header and one line per row


def test_bad_input_is_one_line(tmp_path):
    from conftest import run_script
    for args, what in ((['--optimizers=adamw,sopha'], "unknown optimizer 'sopha'"),
                       (['--peers=torch,optax'], "unknown peer library 'optax'"),
                       (['--model=gpt3'], "unknown model 'gpt3'"), (['--rounds=0'], 'rounds')):
        r = run_script(['scripts/bench_optim.py', *args], timeout=120)
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1 and lines[0].startswith('error: ') and what in lines[0], r.stderr


def test_every_model_passes_the_config_checks():
    # gpt2 (12 heads) once failed on CUDA with train.py's base_width 256, which 12 heads do not divide
    bench = load()
    import parameterization as P
    for name in bench.MODELS:
        cfg = bench.load_config([f'--model={name}'])
        P.check(cfg)
        assert cfg['base_width'] % cfg['n_head'] == 0, name
