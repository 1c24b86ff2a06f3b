"""scripts/bench_train.py: one CPU run on a tiny config (AdamW, Sophia with a Hessian refresh inside the timed
window, and an optimizer that fails to build) gives a table whose rows are all there, whose numbers are finite and
positive and whose ratio column is the ratio of the measured times; the presets are the models of the step targets;
scripts/bench_attention.py's explicit attention computes SDPA's.

    $ .venv/bin/python -m pytest tests/test_bench.py -q
"""

import importlib.util
import json
import math

import torch

from conftest import ROOT, run_script


def load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / 'scripts' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench_train, bench_attention = load('bench_train'), load('bench_attention')


def table_rows(text):
    """{optimizer: [cells]} of the Markdown table's body rows."""
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if line.startswith('| ') and cells[0] not in ('optimizer',) and not cells[0].startswith('---'):
            rows[cells[0]] = cells
    return rows


def test_cpu_run_table(tmp_path, monkeypatch):
    out = tmp_path / 'bench.md'
    monkeypatch.setenv('OMP_NUM_THREADS', '1')  # tiny matmuls: two threads on a busy 2-core box are 10x slower
    # warmup 1 + 2 timed iterations with k=2: Sophia's refresh after step 2 falls inside the timed window;
    # splus_inverse_every=0 makes SPlus refuse to build, which must become an error row, not a crash
    r = run_script(['scripts/bench_train.py', 'config/debug_cpu.py', '--vocab_size=65', '--n_embd=32',
                    '--block_size=16', '--batch_size=4', '--optimizers=adamw,sophia,splus', '--warmup=1',
                    '--iters=2', '--sophia_k=2', '--splus_inverse_every=0', f'--out={out}'], timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    text = out.read_text()
    assert 'torch ' + torch.__version__ in text and 'python scripts/bench_train.py config/debug_cpu.py' in text
    rows = table_rows(text)
    assert list(rows) == ['adamw', 'sophia', 'splus', 'adamw (repeat)'], text
    assert rows['splus'][1].startswith('error: ValueError'), rows['splus']
    # columns: optimizer, settings, mean, median, tokens/s, MFU, x AdamW, target, met
    ms = {}
    for name in ('adamw', 'sophia', 'adamw (repeat)'):
        mean, median, tok_s, ratio = (float(rows[name][i].replace(',', '')) for i in (2, 3, 4, 6))
        assert all(math.isfinite(v) and v > 0 for v in (mean, median, tok_s, ratio)), rows[name]
        ms[name] = (mean, ratio)
    assert ms['adamw'][1] == 1.0
    for name in ('sophia', 'adamw (repeat)'):  # printed ratio = printed means' ratio, up to their rounding
        assert abs(ms[name][1] - ms[name][0] / ms['adamw'][0]) < 2e-3 + 0.01 * ms[name][1], (name, ms)
    records = {j['optimizer']: j for j in map(json.loads, (tmp_path / 'bench.jsonl').read_text().splitlines())}
    assert set(records) == set(rows)
    ref = records['adamw']['ms_mean']
    for name in ('sophia', 'adamw (repeat)'):  # exact in the JSON lines
        assert math.isclose(records[name]['ratio'], records[name]['ms_mean'] / ref, rel_tol=1e-12)
        assert f"{records[name]['ratio']:.3f}" == rows[name][6]
    assert records['sophia']['hessian_refreshes'] == 1 and 'k=2' in rows['sophia'][1]
    assert records['adamw']['hessian_refreshes'] == 0
    assert records['splus']['error'] and records['splus']['ms_mean'] is None


def test_presets_are_the_target_models():
    # built through the bench's own path on the meta device: shapes and parameter counts without memory
    expect = {'gpt2': (12, 12, 768, 50304, 12 * 1024, 124.37), 'baby': (6, 6, 384, 65, 64 * 256, 10.75),
              'w2048': (8, 2, 2048, 65, 8 * 1024, 404.92)}
    for name, (L, H, d, V, tokens, params_m) in expect.items():
        cfg = bench_train.load_config([f'--preset={name}'])
        assert bench_train.is_preset_model(cfg) and name in bench_train.STEP_TARGETS
        model, infos = bench_train.P.build_model(cfg, bench_train.model_args(cfg), 'meta')
        g = model.config
        assert (g.n_layer, g.n_head, g.n_embd, g.vocab_size, cfg['batch_size'] * g.block_size) == (L, H, d, V, tokens)
        n = sum(q.numel() for q in model.parameters()) / 1e6  # tied: wte counted once, as nanoGPT
        assert abs(n - params_m) < 0.01, (name, n)
        assert bench_train.P.param_groups(model, cfg, bench_train.optim.family_of('adamw', cfg), infos)


def test_config_files_and_presets_configure():
    # train.py's defaults come from its source: every config file's keys are known; a preset stacks first, so a
    # config file overrides what it sets (and only that: a key the file leaves at train.py's default, like
    # block_size here, keeps the preset's value), and the command line overrides both
    cfg = bench_train.load_config(['--preset=gpt2', 'config/sp_adamw.py', '--n_layer=2'])
    assert cfg['n_layer'] == 2 and cfg['parameterization'] == 'sp' and cfg['batch_size'] == 64
    assert cfg['n_embd'] == 384 and cfg['block_size'] == 1024 and cfg['vocab_size'] == 50304
    assert cfg['splus_inverse_every'] == 100
    cfg = bench_train.load_config(['--preset=w2048'])
    assert (cfg['n_embd'], cfg['n_head'], cfg['parameterization'], cfg['optimizer']) == (2048, 2, 'nanogpt', 'adamw')


def test_explicit_attention_matches_sdpa():
    # the --attn=explicit candidate for model.py (head_dim > 256) must compute what SDPA computes
    q, k, v = (torch.randn(2, 3, 17, 40, requires_grad=True) for _ in range(3))
    for scale in (None, 0.05):
        a = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True, scale=scale)
        b = bench_attention.explicit_attention(q, k, v, is_causal=True, scale=scale)
        assert torch.allclose(a, b, atol=1e-5)
        ga = torch.autograd.grad(a.square().sum(), (q, k, v))
        gb = torch.autograd.grad(b.square().sum(), (q, k, v))
        assert all(torch.allclose(x, y, atol=1e-4) for x, y in zip(ga, gb))


def test_vary_repeat_and_measured_peak(tmp_path, monkeypatch):
    # a grid of rows (--vary) run twice in turn (--repeat), MFU against an fp32 matmul timed in the same run
    out = tmp_path / 'grid.md'
    monkeypatch.setenv('OMP_NUM_THREADS', '1')
    r = run_script(['scripts/bench_train.py', 'config/debug_cpu.py', '--vocab_size=65', '--n_embd=32',
                    '--block_size=16', '--batch_size=4', '--warmup=1', '--iters=2', '--peak_n=128', '--repeat=2',
                    '--vary=parameterization=nanogpt,mup;n_embd=32,64', f'--out={out}'], timeout=180)
    assert r.returncode == 0, r.stderr[-3000:]
    text = out.read_text()
    peak = float(text.split('the measured fp32 matmul rate: ')[1].split(' GFLOP/s')[0].replace(',', ''))
    assert 'the fastest 128^3 GEMM of 9 measurements' in text
    assert peak > 0 and 'run 2 times in turn' in text
    records = [json.loads(line) for line in (tmp_path / 'grid.jsonl').read_text().splitlines()]
    assert [tuple(r['row'][k] for k in ('parameterization', 'n_embd')) for r in records] == \
        2 * [('nanogpt', 32), ('nanogpt', 64), ('mup', 32), ('mup', 64)]
    for rec in records:  # MFU = model FLOPs per second over the fastest matmul rate measured in the run
        assert math.isclose(rec['mfu'], rec['flops_per_iter'] / (rec['ms_mean'] / 1000) / (peak * 1e9), rel_tol=2e-3)
    ms = {}
    for rec in records:
        ms.setdefault((rec['row']['parameterization'], rec['row']['n_embd']), []).append(rec['ms_mean'])
    med = {k: sorted(v)[0] / 2 + sorted(v)[1] / 2 for k, v in ms.items()}  # the median of two
    line = next(x for x in text.splitlines() if x.startswith('- parameterization=mup / parameterization=nanogpt '
                                                              '(n_embd=32'))
    assert f"{med[('mup', 32)] / med[('nanogpt', 32)]:.3f}" == line.rsplit(': ', 1)[1], (line, med)
    assert sum(x.startswith('- n_embd=64 / n_embd=32') for x in text.splitlines()) == 2
    bad = run_script(['scripts/bench_train.py', 'config/debug_cpu.py', '--vary=n_embdd=32,64'], timeout=120)
    assert bad.returncode == 2 and bad.stderr.strip().startswith('error: vary:'), bad.stderr
