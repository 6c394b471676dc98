#!/usr/bin/python3
"""Go standard library source (Debian package golang-1.19-src) -> JSONL, one .go file per line.

Usage: go_to_jsonl.py <GOROOT/src, e.g. /usr/share/go-1.19/src> <package> [<package> ...]

For each package, in the order given: its own directory's .go files (not subdirectories), sorted by
name, skipping tests (*_test.go) and generated files (a "// Code generated" line), since the first are
not library code and the second are mostly tables. A file's text is kept byte for byte (its
copyright header included); "id" is its path under GOROOT.
"""
import json
import os
import sys


def main() -> None:
    root, packages = sys.argv[1], sys.argv[2:]
    files = total = 0
    for package in packages:
        folder = os.path.join(root, package)
        for name in sorted(os.listdir(folder)):
            path = os.path.join(folder, name)
            if not name.endswith(".go") or name.endswith("_test.go") or not os.path.isfile(path):
                continue
            text = open(path, encoding="utf-8").read()
            if any(line.startswith("// Code generated") for line in text.splitlines()):
                continue
            doc = {"id": f"src/{package}/{name}", "text": text}
            sys.stdout.write(json.dumps(doc, ensure_ascii=False) + "\n")
            files += 1
            total += len(text.encode("utf-8"))
    print(f"go: {files} files, {total} bytes of text", file=sys.stderr)


if __name__ == "__main__":
    main()
