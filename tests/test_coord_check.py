"""Coordinate check at widths 32..256 (AdamW, large LR, 5 steps): flat under mup and mup_spectral, blowing up
under SP with one global LR. Uses scripts/coord_check.py, i.e. the same build_model / param_groups / optimizer
path as train.py; also its update and depth checks, its default output folder, its vocabulary from meta.pkl and
its one-line errors for an axis that cannot give a slope.  pytest tests/test_coord_check.py
"""

import csv
import importlib.util
import os
import pickle
import shutil

import numpy as np

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
    data, vocab, _ = cc.token_source(cfg['dataset'])
    batches = cc.fixed_batches(cfg, data, vocab, 5, 'cpu')
    return cc.slopes(cc.coord_data(cfg, WIDTHS, batches, vocab, 'cpu'))


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


def test_update_check_writes_every_role(tmp_path):
    r = run_script(['scripts/coord_check.py', '--measure=update', '--widths=32,64', '--seeds=1', '--base_width=32',
                    '--block_size=8', f'--out_dir={tmp_path}'])
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(open(tmp_path / 'mup_adamw_update.csv')))
    assert list(rows[0]) == ['seed', 'width', 'role', 'init', 'delta']
    roles = {row['role'] for row in rows}
    assert {'embedding', 'attn_logits.0', 'attn.1', 'mlp_hidden.1', 'ln_f', 'logits'} <= roles and len(roles) == 15
    assert all(float(row['delta']) > 0 for row in rows)  # every output moved
    assert 'attn_logits.0' in r.stdout and (tmp_path / 'mup_adamw_update.png').stat().st_size > 10_000


def test_depth_check_writes_residual_branch_logits(tmp_path):
    r = run_script(['scripts/coord_check.py', '--depths=2,4', '--width=32', '--base_width=32', '--seeds=1',
                    '--block_size=8', '--depth_alpha=1', f'--out_dir={tmp_path}'])
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(open(tmp_path / 'mup_adamw_depth_alpha1.csv')))
    assert list(rows[0]) == ['seed', 'depth', 'role', 'init', 'delta']
    assert sorted({(row['depth'], row['role']) for row in rows}) == sorted(
        (d, role) for d in ('2', '4') for role in ('residual', 'branch', 'logits'))
    assert 'slope of log RMS change after 3 steps vs log depth' in r.stdout


def test_default_out_dir_is_out_coord_check(tmp_path):
    # run from another folder: the default out_dir is relative, results/coord_check/ is never the default
    r = run_script([ROOT / 'scripts' / 'coord_check.py', '--widths=32,64', '--steps=2', '--seeds=1',
                    '--base_width=32', '--block_size=16', '--plot=False'], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / 'out' / 'coord_check' / 'mup_adamw.csv').exists()
    assert cc.out_dir == 'out/coord_check'


def test_vocabulary_from_meta_pkl():
    # tokens up to 99 with meta.pkl's vocab_size 100: a script that assumed 65 would index past its embedding
    name = f'_coord_check_vocab_{os.getpid()}'
    data_dir = ROOT / 'data' / name
    data_dir.mkdir()
    try:
        np.arange(2000, dtype=np.uint16).__mod__(100).astype(np.uint16).tofile(data_dir / 'train.bin')
        with open(data_dir / 'meta.pkl', 'wb') as f:
            pickle.dump({'vocab_size': 100}, f)
        r = run_script(['scripts/coord_check.py', f'--dataset={name}', '--widths=32,64', '--steps=2', '--seeds=1',
                        '--base_width=32', '--block_size=16', '--plot=False', f'--out_dir={data_dir}'])
        assert r.returncode == 0, r.stderr
        assert f'data/{name}/train.bin windows, vocab 100' in r.stdout
    finally:
        shutil.rmtree(data_dir)


def test_random_tokens_when_the_data_is_not_prepared(tmp_path):
    r = run_script(['scripts/coord_check.py', '--dataset=no_such_dataset', '--widths=32,64', '--steps=2',
                    '--seeds=1', '--base_width=32', '--block_size=16', '--plot=False', f'--out_dir={tmp_path}'])
    assert r.returncode == 0, r.stderr
    assert 'random tokens, vocab 65 (data/no_such_dataset/train.bin not prepared)' in r.stdout


def one_line_error(tmp_path, *args):
    """Run the script expecting exit 2 and one 'error:' line on stderr, before any work (nothing written)."""
    r = run_script(['scripts/coord_check.py', *args, f'--out_dir={tmp_path / "o"}'])
    assert r.returncode == 2 and 'Traceback' not in r.stderr, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error:'), r.stderr
    assert not (tmp_path / 'o').exists()
    return lines[0]


def test_single_width_is_one_line_error(tmp_path):
    assert 'at least two different widths' in one_line_error(tmp_path, '--widths=128')


def test_non_numeric_widths_are_one_line_error(tmp_path):
    assert 'positive integers' in one_line_error(tmp_path, '--widths=small,large')


def test_width_below_batch_tokens_is_one_line_error(tmp_path):
    # 2 x 64 = 128 tokens per batch: width 64 would give muP slopes of -0.74 from a partly aligned update
    msg = one_line_error(tmp_path, '--widths=64,128,256', '--batch_size=2', '--block_size=64')
    assert 'width 64 < batch_size * block_size = 128' in msg


def test_single_depth_is_one_line_error(tmp_path):
    assert 'at least two different depths' in one_line_error(tmp_path, '--depths=4', '--width=128')


def test_bad_key_is_one_line_error(tmp_path):
    r = run_script(['scripts/coord_check.py', '--widhts=32', f'--out_dir={tmp_path}'])
    assert r.returncode == 2 and 'Traceback' not in r.stderr
    assert r.stderr.strip().startswith('error:') and "'widths'" in r.stderr


def test_tied_embeddings_check_and_refusal(tmp_path):
    """--tie_embeddings=True runs the check on the tied model (its title says so); under sp one shared matrix cannot
    follow both the embedding's and the readout's rules: refused in one line before any work."""
    r = run_script(['scripts/coord_check.py', '--measure=update', '--widths=32,64', '--block_size=4', '--seeds=1',
                    '--tie_embeddings=True', '--plot=False', f'--out_dir={tmp_path}', '--tag=t'])
    assert r.returncode == 0, r.stderr
    assert 'tied embeddings' in r.stdout and (tmp_path / 't.csv').exists()
    r = run_script(['scripts/coord_check.py', '--measure=update', '--widths=32,64', '--block_size=4',
                    '--tie_embeddings=True', '--parameterization=sp', f'--out_dir={tmp_path}', '--tag=sp'])
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and "tie_embeddings=True under 'sp'" in lines[0], r.stderr
    assert not (tmp_path / 'sp.csv').exists()
