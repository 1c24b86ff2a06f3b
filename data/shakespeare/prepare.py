"""Tiny Shakespeare with the GPT-2 BPE (tiktoken): the same text as shakespeare_char, ~300k tokens.

    python data/shakespeare/prepare.py [--input PATH | --download] [--out_dir DIR]

Without --input it uses DIR/input.txt if present, else the copy this repository carries (data/tinyshakespeare.txt.gz),
else downloads the canonical file; --download forces the download. Both are checked against the canonical sha256.
The text is split 90/10 by characters, each part encoded on its own; writes DIR/train.bin, DIR/val.bin
(uint16) and DIR/meta.pkl with vocab_size (the tokenizer's n_vocab) and tokenizer. Needs the GPT-2 tokenizer
files (downloaded by tiktoken on first use, or TIKTOKEN_CACHE_DIR). DIR defaults to this script's folder.
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from data.common import ArgumentParser, bpe_encoding, die, shakespeare_text, write_meta, write_split  # noqa: E402


def prepare(text, out_dir, enc=None):
    """BPE-encode `text` (split 90/10 by characters) and write the three files; returns the stats."""
    enc = enc or bpe_encoding()
    if len(text) < 2:
        die(f"input text has {len(text)} characters; need at least 2 for a train and a val split")
    os.makedirs(out_dir, exist_ok=True)
    n = int(0.9 * len(text))
    # encode_ordinary: the text is data, so a literal "<|endoftext|>" in it is not the special token
    train_ids = np.array(enc.encode_ordinary(text[:n]), dtype=np.int64)
    val_ids = np.array(enc.encode_ordinary(text[n:]), dtype=np.int64)
    write_split(train_ids, os.path.join(out_dir, 'train.bin'))
    write_split(val_ids, os.path.join(out_dir, 'val.bin'))
    meta = {'vocab_size': enc.n_vocab, 'tokenizer': enc.name}
    write_meta(meta, out_dir)
    stats = {'chars': len(text), 'vocab_size': enc.n_vocab, 'train_tokens': len(train_ids),
             'val_tokens': len(val_ids)}
    print(f"tokenizer {enc.name}, vocab size {stats['vocab_size']:,}")
    print(f"train has {stats['train_tokens']:,} tokens, val has {stats['val_tokens']:,} tokens")
    print(f"wrote {out_dir}/train.bin, val.bin, meta.pkl")
    return stats


def main(argv=None, enc=None):
    parser = ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--input', default=None, help='local Tiny Shakespeare text (instead of the bundled copy)')
    parser.add_argument('--download', action='store_true', help='download the canonical file instead of using a local copy')
    parser.add_argument('--out_dir', default=os.path.dirname(os.path.abspath(__file__)))
    args = parser.parse_args(argv)
    return prepare(shakespeare_text(args.input, args.out_dir, args.download), args.out_dir, enc=enc)


if __name__ == '__main__':
    main()
