#!/usr/bin/python3
"""Byte-bigram cross-entropy between corpora, in bits per byte: a quick measure of how non-IID a
stream of corpora is. For each corpus the documents are split 90/10 by position (every tenth document
is held out); a bigram model P(b | a) with add-one smoothing is fitted on the 90% of corpus X and
scored on the held-out 10% of corpus Y. The diagonal (X = Y) is the within-corpus entropy.

Usage: bigram_xent.py <corpus.jsonl> ...
"""
import json
import math
import os
import sys


def load(path):
    docs = [json.loads(line)["text"].encode("utf-8") for line in open(path, encoding="utf-8")]
    train = b"\n".join(d for i, d in enumerate(docs) if i % 10 != 9)
    held = b"\n".join(d for i, d in enumerate(docs) if i % 10 == 9)
    return train, held


def fit(data):
    counts = [[1] * 256 for _ in range(256)]
    for a, b in zip(data, data[1:]):
        counts[a][b] += 1
    return [[math.log2(c / sum(row)) for c in row] for row in counts]


def score(model, data):
    return -sum(model[a][b] for a, b in zip(data, data[1:])) / max(1, len(data) - 1)


def main():
    names = [os.path.basename(p).rsplit(".", 1)[0] for p in sys.argv[1:]]
    parts = [load(p) for p in sys.argv[1:]]
    models = [fit(train) for train, _ in parts]
    print("bits/byte  model(row) on held-out text(column)")
    print("%-10s" % "" + "".join("%10s" % n for n in names))
    for name, model in zip(names, models):
        print("%-10s" % name + "".join("%10.2f" % score(model, held) for _, held in parts))


if __name__ == "__main__":
    main()
