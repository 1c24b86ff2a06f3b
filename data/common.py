"""Small helpers shared by the data preparers in data/*/prepare.py.

Every preparer writes uint16 token files (train.bin, val.bin) that train.py reads through np.memmap, plus a
meta.pkl with at least `vocab_size`. User errors are reported as one `error: ...` line, never a traceback.

    from data.common import die, write_split, write_meta, bpe_encoding, shakespeare_text
"""

import argparse
import gzip
import hashlib
import os
import pickle
import sys
import urllib.request

import numpy as np

SHAKESPEARE_URL = 'https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt'
SHAKESPEARE_SHA256 = '86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed'
# the repository carries Tiny Shakespeare (Karpathy's char-rnn copy, public domain, gzip -9 -n: 434 KB), so the
# tests and the demo need no network; the sha256 above is checked on every read
SHAKESPEARE_BUNDLED = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'tinyshakespeare.txt.gz')


def die(msg):
    """Report a user error as one line on stderr and exit 1 (whitespace is collapsed so it stays one line)."""
    print(f"error: {' '.join(str(msg).split())}", file=sys.stderr)
    sys.exit(1)


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad command line is one `error:` line too (argparse would print usage and exit 2)."""

    def error(self, message):
        die(f"{message} (see {self.prog} --help)")


def write_split(ids, path):
    """Write a 1-D integer array as uint16 to `path`, atomically, so a killed run never leaves a short .bin."""
    ids = np.asarray(ids)
    assert ids.ndim == 1, f"expected a 1-D array of token ids, got shape {ids.shape}"
    assert ids.size == 0 or (ids.min() >= 0 and ids.max() < 2 ** 16), "token ids must fit in uint16"
    tmp = path + '.tmp'
    ids.astype(np.uint16).tofile(tmp)
    os.replace(tmp, path)


def write_meta(meta, out_dir):
    """Pickle the dataset's meta dict (vocab_size, ...) to out_dir/meta.pkl, atomically."""
    path = os.path.join(out_dir, 'meta.pkl')
    with open(path + '.tmp', 'wb') as f:
        pickle.dump(meta, f)
    os.replace(path + '.tmp', path)


def bytes_encoding():
    """A byte-level tiktoken encoding: 256 byte tokens plus <|endoftext|> = 256. No files, no network."""
    import tiktoken
    return tiktoken.Encoding(
        name='bytes',
        pat_str=r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""",
        mergeable_ranks={bytes([i]): i for i in range(256)},
        special_tokens={'<|endoftext|>': 256})


def bpe_encoding():
    """The GPT-2 BPE from tiktoken, or one error line saying how to get it without network.

    Test/offline hook: NANOMUP_TEST_ENCODING=bytes returns bytes_encoding() instead, so subprocess tests
    (and machines without the GPT-2 files) can run the BPE preparers end to end. Not for real training data.
    """
    if os.environ.get('NANOMUP_TEST_ENCODING') == 'bytes':
        return bytes_encoding()
    import tiktoken
    try:
        return tiktoken.get_encoding('gpt2')
    except Exception as e:  # tiktoken downloads the vocab on first use; offline that is a ConnectionError
        die(f"cannot load the GPT-2 tokenizer ({type(e).__name__}): put the GPT-2 tokenizer files (tiktoken's "
            f"cached vocab.bpe and encoder.json, named by the sha1 of their URLs) into a folder and set "
            f"TIKTOKEN_CACHE_DIR to it, or run once on a machine with network to fill the cache "
            f"(--input takes a local text file, but the tokenizer is still needed)")


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def shakespeare_text(input_path, out_dir, download=False):
    """The Tiny Shakespeare text, from --input, else out_dir/input.txt, else the copy this repository carries
    (data/tinyshakespeare.txt.gz), else downloaded; download=True skips the local copies. Every source but
    --input must match the canonical sha256.

    The text ends up in out_dir/input.txt either way, so later runs read it from there.
    """
    os.makedirs(out_dir, exist_ok=True)
    cached = os.path.join(out_dir, 'input.txt')
    if input_path is not None:
        if not os.path.isfile(input_path):
            die(f"input file not found: {input_path}")
        with open(input_path, 'rb') as f:
            data = f.read()
        same = sha256(data) == SHAKESPEARE_SHA256
        print(f"read {input_path}: sha256 {sha256(data)} ({'matches' if same else 'differs from'} the canonical "
              f"Tiny Shakespeare)")
    elif os.path.exists(cached) and not download:
        with open(cached, 'rb') as f:
            data = f.read()
        same = sha256(data) == SHAKESPEARE_SHA256
        print(f"using {cached} ({'matches' if same else 'differs from'} the canonical sha256)")
    elif os.path.exists(SHAKESPEARE_BUNDLED) and not download:
        try:
            with gzip.open(SHAKESPEARE_BUNDLED, 'rb') as f:
                data = f.read()
        except (OSError, EOFError) as e:
            die(f"{SHAKESPEARE_BUNDLED} is damaged ({e}): restore it with `git checkout -- data/tinyshakespeare.txt.gz` "
                f"or pass --download")
        if sha256(data) != SHAKESPEARE_SHA256:
            die(f"{SHAKESPEARE_BUNDLED} has sha256 {sha256(data)}, expected {SHAKESPEARE_SHA256}: restore it with "
                f"`git checkout -- data/tinyshakespeare.txt.gz` or pass --download")
        print(f"using the bundled {os.path.relpath(SHAKESPEARE_BUNDLED)} (sha256 matches)")
    else:
        data = download_shakespeare()
    if not (input_path is not None and os.path.exists(cached) and os.path.samefile(input_path, cached)):
        with open(cached + '.tmp', 'wb') as f:
            f.write(data)
        os.replace(cached + '.tmp', cached)
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError as e:
        die(f"input is not UTF-8 text: {e}")


def download_shakespeare():
    """The canonical file from char-rnn's repository, checked against its sha256."""
    print(f"downloading {SHAKESPEARE_URL}")
    try:
        with urllib.request.urlopen(SHAKESPEARE_URL, timeout=60) as r:
            data = r.read()
    except Exception as e:  # no network, DNS failure, HTTP error, timeout
        die(f"could not download Tiny Shakespeare ({type(e).__name__}: {e}): drop --download to use the copy "
            f"in data/tinyshakespeare.txt.gz, or pass --input PATH to a local copy")
    if sha256(data) != SHAKESPEARE_SHA256:
        die(f"downloaded Tiny Shakespeare has sha256 {sha256(data)}, expected {SHAKESPEARE_SHA256}: "
            f"pass --input PATH to a trusted local copy")
    return data
