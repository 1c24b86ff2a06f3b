"""OpenWebText (or your own local documents) with the GPT-2 BPE, as in nanoGPT.

    python data/openwebtext/prepare.py [--num_proc 8] [--val_fraction 0.0005] [--out_dir DIR]
    python data/openwebtext/prepare.py --input a.txt b.jsonl ... [--split_lines] [--text_field text]

From the Hugging Face hub (needs `datasets`, network or a filled cache; ~54 GB of cache, ~17 GB written):
train.bin has ~9B tokens, val.bin ~4M. With --input the documents come from local files instead, read with
plain Python: a .txt file is one document (one per line with --split_lines), a .jsonl file has one JSON
object per line whose --text_field is the document. Documents are shuffled (seed 2357), a --val_fraction of
them go to val, and each is encoded with encode_ordinary followed by <|endoftext|>. Writes DIR/train.bin,
DIR/val.bin (uint16, all documents concatenated) and DIR/meta.pkl. DIR defaults to this script's folder.
"""

import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from data.common import ArgumentParser, bpe_encoding, die, write_meta, write_split  # noqa: E402

SEED = 2357  # nanoGPT's split seed, so the val set is the same documents as there


def encode(enc, text):
    # encode_ordinary: a literal "<|endoftext|>" inside a document is text, not a separator
    ids = enc.encode_ordinary(text)
    ids.append(enc.eot_token)  # the separator goes after each document, so a document never leaks into the next
    return ids


def read_documents(paths, text_field='text', split_lines=False):
    """Documents from local .txt / .jsonl files (blank ones skipped), without `datasets`."""
    docs = []
    for path in paths:
        if not os.path.isfile(path):
            die(f"input file not found: {path}")
        if not path.endswith(('.txt', '.jsonl')):
            die(f"{path}: expected a .txt or .jsonl file")
        try:
            with open(path, encoding='utf-8') as f:
                if path.endswith('.txt') and not split_lines:
                    docs.append(f.read())
                    continue
                for lineno, line in enumerate(f, 1):
                    if not line.strip():
                        continue
                    if path.endswith('.txt'):
                        docs.append(line.rstrip('\n'))
                        continue
                    try:
                        doc = json.loads(line)[text_field]
                    except (ValueError, KeyError, TypeError, IndexError):
                        doc = None
                    if not isinstance(doc, str):
                        die(f"{path}:{lineno}: not a JSON object with a string field '{text_field}'")
                    docs.append(doc)
        except UnicodeDecodeError as e:
            die(f"{path} is not UTF-8 text: {e}")
    return [d for d in docs if d.strip()]


def prepare_documents(docs, out_dir, enc=None, val_fraction=0.0005, seed=SEED):
    """Shuffle, split, encode and write a list of documents held in memory; returns the stats."""
    enc = enc or bpe_encoding()
    if len(docs) < 2:
        die(f"got {len(docs)} non-empty documents; need at least 2 for a train and a val split")
    os.makedirs(out_dir, exist_ok=True)
    # like train_test_split: a seeded shuffle, then at least one document on each side
    n_val = min(len(docs) - 1, max(1, round(len(docs) * val_fraction)))
    perm = np.random.default_rng(seed).permutation(len(docs))
    stats = {'vocab_size': enc.n_vocab}
    for split, idx in (('val', perm[:n_val]), ('train', perm[n_val:])):
        ids = np.concatenate([np.array(encode(enc, docs[i]), dtype=np.int64) for i in idx])
        write_split(ids, os.path.join(out_dir, f'{split}.bin'))
        stats.update({f'{split}_docs': len(idx), f'{split}_tokens': len(ids)})
    write_meta({'vocab_size': enc.n_vocab, 'tokenizer': enc.name}, out_dir)
    report(stats, out_dir)
    return stats


def prepare_hf(dataset, out_dir, enc=None, val_fraction=0.0005, seed=SEED, num_proc=8):
    """The nanoGPT path for a `datasets.Dataset` with a 'text' column: tokenize in parallel, memmap in batches."""
    enc = enc or bpe_encoding()
    os.makedirs(out_dir, exist_ok=True)
    split = dataset.train_test_split(test_size=val_fraction, seed=seed, shuffle=True)
    split['val'] = split.pop('test')

    def process(example):
        ids = encode(enc, example['text'])
        return {'ids': ids, 'len': len(ids)}

    tokenized = split.map(process, remove_columns=['text'], desc='tokenizing', num_proc=num_proc)
    stats = {'vocab_size': enc.n_vocab}
    for name, dset in tokenized.items():
        total = int(np.sum(np.asarray(dset.with_format('numpy')['len'][:], dtype=np.uint64)))
        path = os.path.join(out_dir, f'{name}.bin')
        arr = np.memmap(path + '.tmp', dtype=np.uint16, mode='w+', shape=(total,))
        n_batches, i = min(1024, len(dset)), 0  # ~9B tokens do not fit in memory at once; batches do
        for b in range(n_batches):
            batch = dset.shard(num_shards=n_batches, index=b, contiguous=True).with_format('numpy')[:]
            ids = np.concatenate(list(batch['ids']))
            arr[i:i + len(ids)] = ids
            i += len(ids)
        arr.flush()
        del arr
        os.replace(path + '.tmp', path)
        stats.update({f'{name}_docs': len(dset), f'{name}_tokens': total})
    write_meta({'vocab_size': enc.n_vocab, 'tokenizer': enc.name}, out_dir)
    report(stats, out_dir)
    return stats


def report(stats, out_dir):
    for split in ('train', 'val'):
        print(f"{split} has {stats[f'{split}_docs']:,} documents, {stats[f'{split}_tokens']:,} tokens")
    print(f"wrote {out_dir}/train.bin, val.bin, meta.pkl (vocab size {stats['vocab_size']:,})")


def main(argv=None, enc=None):
    parser = ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--input', nargs='+', default=None, help='local .txt/.jsonl files instead of the hub')
    parser.add_argument('--split_lines', action='store_true', help='.txt: one document per line')
    parser.add_argument('--text_field', default='text', help='.jsonl: the field holding the document')
    parser.add_argument('--val_fraction', type=float, default=0.0005)
    parser.add_argument('--num_proc', type=int, default=8)
    parser.add_argument('--dataset', default='openwebtext', help='hub dataset name (without --input)')
    parser.add_argument('--out_dir', default=os.path.dirname(os.path.abspath(__file__)))
    args = parser.parse_args(argv)
    if not 0 < args.val_fraction < 1:
        die(f"--val_fraction must be in (0, 1), got {args.val_fraction}")
    if args.input:  # local files first: a wrong path is the likelier mistake than a missing tokenizer
        docs = read_documents(args.input, args.text_field, args.split_lines)
        return prepare_documents(docs, args.out_dir, enc=enc, val_fraction=args.val_fraction)
    enc = enc or bpe_encoding()  # fail on a missing tokenizer before downloading gigabytes
    try:
        from datasets import load_dataset
    except ImportError:
        die("the hub path needs the `datasets` package (pip install datasets), or pass --input local files")
    try:
        dataset = load_dataset(args.dataset, num_proc=args.num_proc)['train']
    except Exception as e:  # no network, no cache, hub error: all the same advice
        die(f"could not load '{args.dataset}' from the Hugging Face hub ({type(e).__name__}): pass --input with "
            f"local .txt/.jsonl files, or set HF_DATASETS_OFFLINE=1 with the dataset already in the local cache "
            f"(HF_HOME / HF_DATASETS_CACHE)")
    return prepare_hf(dataset, args.out_dir, enc=enc, val_fraction=args.val_fraction, num_proc=args.num_proc)


if __name__ == '__main__':
    main()
