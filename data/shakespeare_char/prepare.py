"""Character-level Tiny Shakespeare: one token per character, vocab = the sorted set of characters.

    python data/shakespeare_char/prepare.py [--input PATH | --download] [--out_dir DIR]

Without --input it uses DIR/input.txt if present, else the copy this repository carries (data/tinyshakespeare.txt.gz),
else downloads the canonical file; --download forces the download. Both are checked against the canonical sha256.
Writes DIR/train.bin and DIR/val.bin (uint16, first 90% / last 10% of the text) and DIR/meta.pkl with
vocab_size, itos and stoi. DIR defaults to this script's folder.
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from data.common import ArgumentParser, die, shakespeare_text, write_meta, write_split  # noqa: E402


def prepare(text, out_dir):
    """Encode `text` character by character, split 90/10 and write the three files; returns the stats."""
    if len(text) < 2:
        die(f"input text has {len(text)} characters; need at least 2 for a train and a val split")
    os.makedirs(out_dir, exist_ok=True)
    chars = sorted(set(text))
    stoi = {ch: i for i, ch in enumerate(chars)}
    itos = {i: ch for i, ch in enumerate(chars)}
    if len(chars) > 2 ** 16:
        die(f"{len(chars)} distinct characters do not fit in uint16 token ids")
    # split by position, not shuffled, so val is a contiguous unseen stretch of the play (as in nanoGPT)
    n = int(0.9 * len(text))
    train_ids = np.array([stoi[c] for c in text[:n]], dtype=np.uint16)
    val_ids = np.array([stoi[c] for c in text[n:]], dtype=np.uint16)
    write_split(train_ids, os.path.join(out_dir, 'train.bin'))
    write_split(val_ids, os.path.join(out_dir, 'val.bin'))
    meta = {'vocab_size': len(chars), 'itos': itos, 'stoi': stoi}
    write_meta(meta, out_dir)
    stats = {'chars': len(text), 'vocab_size': len(chars), 'train_tokens': len(train_ids),
             'val_tokens': len(val_ids)}
    print(f"length of dataset in characters: {stats['chars']:,}")
    print(f"vocab size: {stats['vocab_size']}")
    print(f"train has {stats['train_tokens']:,} tokens, val has {stats['val_tokens']:,} tokens")
    print(f"wrote {out_dir}/train.bin, val.bin, meta.pkl")
    return stats


def main(argv=None):
    parser = ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--input', default=None, help='local Tiny Shakespeare text (instead of the bundled copy)')
    parser.add_argument('--download', action='store_true', help='download the canonical file instead of using a local copy')
    parser.add_argument('--out_dir', default=os.path.dirname(os.path.abspath(__file__)))
    args = parser.parse_args(argv)
    return prepare(shakespeare_text(args.input, args.out_dir, args.download), args.out_dir)


if __name__ == '__main__':
    main()
