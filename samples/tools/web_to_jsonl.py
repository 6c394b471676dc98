#!/usr/bin/python3
"""World English Bible, New Testament (SWORD module engWEB2015eb) -> JSONL, one chapter per line.

Input: the output of `diatheke -b engWEB2015eb -f plain -k "Matthew 1:1-Revelation 22:21"` on stdin.
Each verse starts with "<Book> <chapter>:<verse>: "; poetry continues on the next lines.
The module appends its glossary and a "(engWEB2015eb)" trailer after Revelation 22:21; both are dropped.
Output text per chapter: a title line "<Book> <chapter>", then one verse per line, without verse
numbers, whitespace collapsed. Because of these changes the result is "derived from the WEB".
"""
import json
import re
import sys

VERSE = re.compile(r"^((?:I{1,3} )?[A-Z][A-Za-z ]*?) (\d+):(\d+): ?(.*)$")
GLOSSARY = "The following words used in the World English Bible"


def clean(text: str) -> str:
    # The module lacks a space after some commas next to markup ("Christ,the"); restore it.
    text = re.sub(r",(?=[A-Za-z])", ", ", text)
    return re.sub(r"\s+", " ", text).strip()


def main() -> None:
    chapters = []  # [(book, chapter, [verse texts])]
    for raw in sys.stdin.read().splitlines():
        if GLOSSARY in raw or raw.strip() == "(engWEB2015eb)":
            break
        m = VERSE.match(raw)
        if m:
            book, chapter, text = m.group(1), int(m.group(2)), m.group(4)
            if book == "Revelation of John":
                book = "Revelation"
            if not chapters or chapters[-1][:2] != (book, chapter):
                chapters.append((book, chapter, []))
            chapters[-1][2].append(text)
        elif chapters and raw.strip():
            # Continuation of a poetic verse: same verse, joined with a space.
            chapters[-1][2][-1] += " " + raw
    for book, chapter, verses in chapters:
        lines = [f"{book} {chapter}"] + [clean(v) for v in verses if clean(v)]
        doc = {"id": f"{book} {chapter}", "text": "\n".join(lines)}
        sys.stdout.write(json.dumps(doc, ensure_ascii=False) + "\n")
    print(f"web: {len(chapters)} chapters", file=sys.stderr)


if __name__ == "__main__":
    main()
