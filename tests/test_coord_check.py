"""Coordinate check at widths 32..256 (AdamW, large LR, 5 steps): flat under mup and mup_spectral, blowing up
under SP with one global LR. Uses scripts/coord_check.py, i.e. the same build_model / param_groups / optimizer
path as train.py.  pytest tests/test_coord_check.py
"""

import csv
import importlib.util

import pytest
from conftest import ROOT, run_script

spec = importlib.util.spec_from_file_location('coord_check', ROOT / 'scripts' / 'coord_check.py')
cc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cc)

WIDTHS = [32, 64, 128, 256]
CFG = dict(cc.P.DEFAULTS, base_width=32, learning_rate=1e-2, optimizer='adamw', beta1=0.9, beta2=0.95,
           n_layer=2, n_head=2, head_dim=0, block_size=16, batch_size=2, seeds=2, dataset='shakespeare_char',
           fused=False)


def measured_slopes(**overrides):
    cfg = dict(CFG, **overrides)
    batches, _ = cc.fixed_batches(cfg, 65, 5, 'cpu')
    return cc.slopes(cc.coord_data(cfg, WIDTHS, batches, 65, 'cpu'))


@pytest.mark.parametrize('name', ['mup', 'mup_spectral'])
def test_mup_activations_flat_in_width(name, char_data):
    s = measured_slopes(parameterization=name)
    # measured here: max |slope| 0.08 for both (mlp.0 -0.08, the rest within 0.05)
    assert set(s) == {'embedding', 'attn.0', 'mlp.0', 'block.0', 'attn.1', 'mlp.1', 'block.1', 'logits'}
    assert max(abs(v) for v in s.values()) < 0.2, s


def test_sp_global_lr_blows_up_with_width(char_data):
    s = measured_slopes(parameterization='sp', lr_scaling='global')
    # measured here: hidden activations +1.2 .. +1.7, logits +0.54
    assert min(s[m] for m in ('attn.0', 'mlp.0', 'block.0', 'attn.1', 'mlp.1', 'block.1')) > 0.6, s
    assert s['logits'] > 0.3, s


def test_script_writes_csv_and_png(tmp_path):
    r = run_script(['scripts/coord_check.py', '--widths=32,64', '--steps=2', '--seeds=1', '--base_width=32',
                    '--block_size=16', f'--out_dir={tmp_path}', '--tag=t'])
    assert r.returncode == 0, r.stderr
    assert 'slope of log mean|activation|' in r.stdout
    rows = list(csv.DictReader(open(tmp_path / 't.csv')))
    assert list(rows[0]) == ['seed', 'width', 't', 'module', 'l1']
    assert len(rows) == 1 * 2 * 2 * 8  # seeds x widths x steps x modules
    assert (tmp_path / 't.png').stat().st_size > 10_000


def test_bad_key_is_one_line_error(tmp_path):
    r = run_script(['scripts/coord_check.py', '--widthz=32', f'--out_dir={tmp_path}'])
    assert r.returncode == 2 and 'Traceback' not in r.stderr
    assert r.stderr.strip().startswith('error:') and "'widths'" in r.stderr
