"""The README stays a front door that is true: short, every top-level file and folder in its file map with its size
(within 30%), and the two commands it promises in the Makefile.

    pytest tests/test_readme.py
"""

import re
import subprocess

from conftest import ROOT

README = (ROOT / 'README.md').read_text()


def tracked(path=''):
    out = subprocess.run(['git', 'ls-files', '-z', *([path] if path else [])], cwd=ROOT, capture_output=True,
                         check=True).stdout.decode()
    return [f for f in out.split('\0') if f]


def test_readme_is_short_and_has_the_two_commands():
    assert len(README.splitlines()) <= 250
    assert 'make demo' in README and 'make test' in README
    makefile = (ROOT / 'Makefile').read_text()
    assert re.search(r'^demo:', makefile, re.M) and re.search(r'^test:', makefile, re.M)


def test_file_map_lists_every_top_level_entry_with_its_size():
    entries = {f.split('/')[0] + ('/' if '/' in f else '') for f in tracked()}
    rows = dict(re.findall(r'^\| `([^`]+)` \| ([^|]+) \|', README, re.M))
    assert entries <= set(rows), f"missing from the README's file map: {sorted(entries - set(rows))}"
    for entry in entries:
        if entry.endswith('/'):
            files = tracked(entry)
            n, kb = (int(x) for x in re.match(r'(\d+) files?, (\d+) KB', rows[entry]).groups())
            actual_kb = sum((ROOT / f).stat().st_size for f in files) // 1024
            assert abs(n - len(files)) <= max(2, 0.3 * len(files)), (entry, n, len(files))
            assert abs(kb - actual_kb) <= max(2, 0.3 * actual_kb), (entry, kb, actual_kb)
        else:
            lines = int(re.match(r'(\d+) lines', rows[entry]).group(1))
            actual = len((ROOT / entry).read_text().splitlines())
            assert abs(lines - actual) <= max(3, 0.3 * actual), (entry, lines, actual)
