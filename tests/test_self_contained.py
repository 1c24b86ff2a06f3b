"""The repository stands on its own: no tracked file points outside it, and what the tests and the demo read
ships inside it.

    pytest tests/test_self_contained.py
"""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# a path beside the checkout, and the names of notes that live only beside it (never in a user's clone)
OUTSIDE = re.compile(r'\.\./shared|peers\.md|DESIGN\.md')


def tracked_files():
    out = subprocess.run(['git', 'ls-files', '-z'], cwd=ROOT, capture_output=True, check=True).stdout
    return [ROOT / f for f in out.decode().split('\0') if f]


def test_no_tracked_file_references_outside():
    files = tracked_files()
    assert len(files) > 50  # git works here and lists the repository
    me = Path(__file__).resolve()
    hits = []
    for path in files:
        if path.resolve() == me or not path.is_file():
            continue
        data = path.read_bytes()
        if b'\0' in data[:4096]:  # binary (PNG, gzip)
            continue
        for i, line in enumerate(data.decode('utf-8', errors='replace').splitlines(), 1):
            if OUTSIDE.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{i}: {line.strip()[:100]}")
    assert not hits, "tracked files point outside the repository:\n" + '\n'.join(hits)


def test_pattern_catches_what_it_should():
    for bad in ('see ../shared/papers/x.txt', 'per peers.md', 'DESIGN.md §3'):
        assert OUTSIDE.search(bad)
    assert not OUTSIDE.search('data/tinyshakespeare.txt.gz')
