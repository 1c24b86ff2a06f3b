"""The data preparers: exact splits, lossless round trips, uint16 files, EOT separators, one-line errors.

    pytest tests/test_data.py

No network: BPE preparers get a tiny byte-level tiktoken encoding (in-process via enc=, in subprocesses via
NANOMUP_TEST_ENCODING=bytes). The real Tiny Shakespeare is the gzip copy the repository carries (data/).
"""

import gzip
import hashlib
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tiktoken

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from data.openwebtext import prepare as owt  # noqa: E402
from data.shakespeare import prepare as bpe  # noqa: E402
from data.shakespeare_char import prepare as char  # noqa: E402
from data.common import SHAKESPEARE_SHA256  # noqa: E402

REAL = ROOT / 'data' / 'tinyshakespeare.txt.gz'
TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n" * 20 + "Ünïcode ok?\n"


def tiny_encoding():
    return tiktoken.Encoding(name='tiny', pat_str=r"""'s|'t| ?\w+| ?[^\s\w]+|\s+""",
                             mergeable_ranks={bytes([i]): i for i in range(256)},
                             special_tokens={'<|endoftext|>': 256})


def load(out_dir):
    bins = {s: np.fromfile(out_dir / f'{s}.bin', dtype=np.uint16) for s in ('train', 'val')}
    with open(out_dir / 'meta.pkl', 'rb') as f:
        return bins, pickle.load(f)


def run(args, **env):
    return subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env=dict(os.environ, **env))


def test_char_roundtrip(tmp_path):
    stats = char.prepare(TEXT, tmp_path)
    bins, meta = load(tmp_path)
    train, val = bins['train'], bins['val']
    n = int(0.9 * len(TEXT))
    assert meta['vocab_size'] == len(set(TEXT)) == stats['vocab_size']
    assert sorted(meta['itos'].values()) == list(meta['itos'].values())  # vocab is the sorted character set
    assert all(meta['stoi'][c] == i for i, c in meta['itos'].items())
    assert ''.join(meta['itos'][i] for i in train) == TEXT[:n]
    assert ''.join(meta['itos'][i] for i in val) == TEXT[n:]
    assert (stats['train_tokens'], stats['val_tokens']) == (n, len(TEXT) - n)
    assert not list(tmp_path.glob('*.tmp'))


def test_char_real_shakespeare(tmp_path):
    text = gzip.decompress(REAL.read_bytes()).decode('utf-8')
    stats = char.prepare(text, tmp_path)
    assert (stats['vocab_size'], stats['train_tokens'], stats['val_tokens']) == (65, 1_003_854, 111_540)
    bins, meta = load(tmp_path)
    assert len(bins['train']) == 1_003_854 and len(bins['val']) == 111_540
    assert ''.join(meta['itos'][i] for i in bins['train']) == text[:1_003_854]
    assert ''.join(meta['itos'][i] for i in bins['val'][:100]) == text[1_003_854:1_003_954]


def test_bpe_shakespeare_roundtrip(tmp_path):
    enc = tiny_encoding()
    text = TEXT + "a literal <|endoftext|> stays text\n"
    stats = bpe.prepare(text, tmp_path, enc=enc)
    bins, meta = load(tmp_path)
    n = int(0.9 * len(text))
    assert meta == {'vocab_size': 257, 'tokenizer': 'tiny'}
    assert enc.decode(bins['train'].tolist()) == text[:n]
    assert enc.decode(bins['val'].tolist()) == text[n:]
    assert 256 not in bins['train'] and 256 not in bins['val']  # encode_ordinary: no special tokens
    assert stats['train_tokens'] == len(bins['train'])


def test_openwebtext_documents(tmp_path):
    enc = tiny_encoding()
    docs = [f"document {i}: " + "words and ünïcode " * (i % 7) for i in range(200)]
    stats = owt.prepare_documents(docs, tmp_path, enc=enc, val_fraction=0.1)
    bins, meta = load(tmp_path)
    assert meta['vocab_size'] == 257
    assert (stats['train_docs'], stats['val_docs']) == (180, 20)  # the val fraction, in documents
    got = []
    for split in ('train', 'val'):
        assert bins[split].dtype == np.uint16 and bins[split][-1] == enc.eot_token
        parts = enc.decode(bins[split].tolist()).split('<|endoftext|>')
        assert parts[-1] == '' and len(parts) - 1 == stats[f'{split}_docs'] == (bins[split] == 256).sum()
        got += parts[:-1]
    assert sorted(got) == sorted(docs)  # every document exactly once, each followed by EOT
    assert got[:180] != docs[:180]  # shuffled before the split
    stats2 = owt.prepare_documents(docs, tmp_path / 'again', enc=enc, val_fraction=0.1)
    assert stats2 == stats and np.array_equal(load(tmp_path / 'again')[0]['val'], bins['val'])  # seeded


def test_openwebtext_hf_path(tmp_path):
    datasets = pytest.importorskip('datasets')
    enc = tiny_encoding()
    docs = [f"doc {i} " + "x" * i for i in range(100)]
    stats = owt.prepare_hf(datasets.Dataset.from_dict({'text': docs}), tmp_path, enc=enc, val_fraction=0.05,
                           num_proc=1)
    bins, _ = load(tmp_path)
    assert (stats['train_docs'], stats['val_docs']) == (95, 5)
    got = [d for s in ('train', 'val') for d in enc.decode(bins[s].tolist()).split('<|endoftext|>')[:-1]]
    assert sorted(got) == sorted(docs)


def test_cli_char(tmp_path):
    missing = run(['data/shakespeare_char/prepare.py', '--input', tmp_path / 'nope.txt', '--out_dir', tmp_path])
    assert missing.returncode != 0 and 'Traceback' not in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1 and missing.stderr.startswith('error: ')
    src = tmp_path / 'small.txt'
    src.write_text(TEXT, encoding='utf-8')
    ok = run(['data/shakespeare_char/prepare.py', '--input', src, '--out_dir', tmp_path / 'out'])
    assert ok.returncode == 0, ok.stderr
    assert f'vocab size: {len(set(TEXT))}' in ok.stdout and 'differs from the canonical' in ok.stdout
    bins, meta = load(tmp_path / 'out')
    assert ''.join(meta['itos'][i] for i in bins['train']) == TEXT[:int(0.9 * len(TEXT))]


def test_cli_bpe(tmp_path):
    src = tmp_path / 'small.txt'
    src.write_text(TEXT, encoding='utf-8')
    r = run(['data/shakespeare/prepare.py', '--input', src, '--out_dir', tmp_path / 'sh'],
            NANOMUP_TEST_ENCODING='bytes')
    assert r.returncode == 0, r.stderr
    assert load(tmp_path / 'sh')[1] == {'vocab_size': 257, 'tokenizer': 'bytes'}
    lines = tmp_path / 'docs.jsonl'
    lines.write_text(''.join(f'{{"body": "doc {i}"}}\n' for i in range(40)), encoding='utf-8')
    r = run(['data/openwebtext/prepare.py', '--input', lines, '--text_field', 'body', '--val_fraction', '0.1',
             '--out_dir', tmp_path / 'owt'], NANOMUP_TEST_ENCODING='bytes')
    assert r.returncode == 0, r.stderr
    bins, _ = load(tmp_path / 'owt')
    assert (bins['train'] == 256).sum() == 36 and (bins['val'] == 256).sum() == 4
    bad = run(['data/openwebtext/prepare.py', '--input', lines, '--out_dir', tmp_path / 'bad'],
              NANOMUP_TEST_ENCODING='bytes')  # no 'text' field
    assert bad.returncode == 1 and len(bad.stderr.strip().splitlines()) == 1 and "'text'" in bad.stderr


def test_write_split_rejects_big_ids(tmp_path):
    from data.common import write_split
    with pytest.raises(AssertionError):
        write_split(np.array([0, 70000]), str(tmp_path / 'x.bin'))


def test_bundled_shakespeare_offline(tmp_path):
    """No --input, no input.txt, no network: the preparer uses the repository's gzip copy, sha256-checked."""
    assert hashlib.sha256(gzip.decompress(REAL.read_bytes())).hexdigest() == SHAKESPEARE_SHA256
    r = run(['data/shakespeare_char/prepare.py', '--out_dir', tmp_path])
    assert r.returncode == 0, r.stderr
    assert 'bundled' in r.stdout and 'vocab size: 65' in r.stdout
    assert hashlib.sha256((tmp_path / 'input.txt').read_bytes()).hexdigest() == SHAKESPEARE_SHA256
    again = run(['data/shakespeare_char/prepare.py', '--out_dir', tmp_path])  # now from out_dir/input.txt
    assert again.returncode == 0 and 'matches the canonical' in again.stdout


def test_bundled_shakespeare_damaged(tmp_path, monkeypatch, capsys):
    import data.common as common
    bad = tmp_path / 'bad.txt.gz'
    bad.write_bytes(gzip.compress(b'not shakespeare'))
    monkeypatch.setattr(common, 'SHAKESPEARE_BUNDLED', str(bad))
    with pytest.raises(SystemExit):
        common.shakespeare_text(None, str(tmp_path / 'out'))
    err = capsys.readouterr().err
    assert err.startswith('error: ') and len(err.strip().splitlines()) == 1 and 'git checkout' in err


def test_download_path(tmp_path, monkeypatch):
    """--download skips the local copies; the bytes are sha-checked (urlopen replaced: no network in tests)."""
    import io
    import data.common as common
    payload = gzip.decompress(REAL.read_bytes())
    calls = []

    def fake_urlopen(url, timeout):
        calls.append(url)
        return io.BytesIO(payload)
    monkeypatch.setattr(common.urllib.request, 'urlopen', fake_urlopen)
    (tmp_path / 'input.txt').write_text('stale local copy')
    text = common.shakespeare_text(None, str(tmp_path), download=True)
    assert calls == [common.SHAKESPEARE_URL] and len(text) == 1_115_394
    assert (tmp_path / 'input.txt').read_bytes() == payload
    monkeypatch.setattr(common.urllib.request, 'urlopen', lambda url, timeout: io.BytesIO(b'tampered'))
    with pytest.raises(SystemExit):
        common.shakespeare_text(None, str(tmp_path / 'x'), download=True)
