"""scripts/optimizers_smoke.py: every named optimizer runs its config, the table has one row each with the
AdamW ratio computed from the measured ms/iter, a missing config is an error row, and a re-run skips done runs."""

import re

from conftest import run_script

TINY = 'device=cpu,dtype=float32,compile=False,n_layer=1,n_embd=64,block_size=32,batch_size=4,eval_iters=2'


def test_smoke_table_rows_ratios_and_resume(tmp_path, char_data):
    out = tmp_path / 'smoke.md'
    args = ['scripts/optimizers_smoke.py', '--optimizers', 'sophia,nosuch', '--max-iters', '12', '--set', TINY,
            '--work-dir', str(tmp_path / 'runs'), '--out', str(out)]
    r = run_script(args)
    assert r.returncode == 1, r.stderr  # the error row makes the call fail
    table = out.read_text()
    rows = {line.split('|')[1].strip(): [c.strip() for c in line.split('|')[2:-1]]
            for line in table.splitlines() if re.match(r'\| (adamw|sophia|nosuch) ', line)}
    assert set(rows) == {'adamw', 'sophia', 'nosuch'}
    assert rows['nosuch'][1].startswith('error: no optimizer')
    for name in ('adamw', 'sophia'):
        lr, final, best, div, ms, ratio = rows[name]
        assert div == 'no' and 0 < float(best) <= float(final) + 1e-9 < 4.3 and float(ms) > 0
    assert abs(float(rows['sophia'][5]) - float(rows['sophia'][4]) / float(rows['adamw'][4])) < 0.05  # ms printed to 0.1, ratio to 0.01
    r2 = run_script(args)
    assert '$ ' not in r2.stdout  # both runs were skipped: their summary.json exists
