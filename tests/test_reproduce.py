"""scripts/reproduce.py: the budget plan, and a tiny end-to-end reproduction on the CPU (sweep -> tables -> report).
pytest tests/test_reproduce.py"""

import importlib.util

from conftest import ROOT, run_script

spec = importlib.util.spec_from_file_location('reproduce', ROOT / 'scripts' / 'reproduce.py')
reproduce = importlib.util.module_from_spec(spec)
spec.loader.exec_module(reproduce)


def test_plan_iters_fits_the_budget():
    calib = {128: (10.0, 0.01), 256: (20.0, 0.02)}  # (fixed s per run, s per iteration)
    # 4 runs per width: fixed 4*(10+20) = 120 s, per iteration 4*(0.01+0.02) = 0.12 s; 600 s -> 4000 iterations
    assert reproduce.plan_iters(600, calib, 4, 1) == 4000
    assert reproduce.plan_iters(600, calib, 4, 2) == 5000  # two slots: capped at the paper's 5000
    assert reproduce.plan_iters(100, calib, 4, 1) == 50  # cannot fit: the minimum
    assert reproduce.literal('2') == 2 and reproduce.literal('1e-3') == 1e-3 and reproduce.literal('cpu') == 'cpu'


def test_tiny_reproduction_writes_report(tmp_path, char_data):
    r = run_script(['scripts/reproduce.py', 'shakespeare', '--base-config', 'config/debug_cpu.py',
                    '--widths', '32,64', '--lrs', '1e-2,3e-2', '--seeds', '1', '--max-iters', '8',
                    '--set', 'n_layer=1,early_stop_patience=0,eval_interval=4,eval_iters=2',
                    '--name', 'tiny', '--results-dir', tmp_path, '--work-dir', tmp_path / 'work'], timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    report = (tmp_path / 'tiny.md').read_text()
    assert 'Fitted optimal-LR exponents' in report and 'mup_spectral' in report and 'nanogpt' in report
    assert len(list((tmp_path / 'tiny').glob('*.png'))) == 4
    assert 'max_iters=8' in report
