#!/usr/bin/python3
"""The Debian Administrator's Handbook (Debian package debian-handbook, HTML) -> JSONL, one page per line.

Usage: handbook_to_jsonl.py <html dir, e.g. /usr/share/doc/debian-handbook/html/de-DE> <de|fr> <max bytes>

Pages are read in the book's own order (following each page's rel="next" link from index.html; the
index page itself, a title page and table of contents, is skipped). A page is a chapter opening or a
section; it becomes one document. Kept: headings and prose paragraphs (div.para); dropped: screen
output and program listings (<pre>), tables of contents, navigation, index terms. Translations are
partial: a block whose English stop words outnumber the target language's is an untranslated
paragraph and is dropped. Documents are emitted until the running total passes <max bytes>.
Standard library only (runs on Debian's python3 without extra packages).
"""
import html.parser
import json
import os
import re
import sys

STOP = {
    "en": set("the and of to is in that for with are this it be on as by can you which from not".split()),
    "de": set("der die das und ist nicht mit ein eine zu den von für auf sich des im werden wird sie es dem auch".split()),
    "fr": set("le la les et est un une pour dans que qui du sur pas par au aux ce il sont ou plus".split()),
}
SKIP_TAGS = {"pre", "script", "style"}
SKIP_CLASSES = {"toc", "docnav", "indexterm", "navfooter", "navheader"}
SKIP_IDS = {"banner", "title", "site_footer"}
BLOCK_HEADINGS = {"h1", "h2", "h3", "h4", "h5"}
VOID = {"img", "br", "meta", "link", "hr", "input", "col", "area", "base"}


class PageParser(html.parser.HTMLParser):
    """Collects text blocks (headings, paragraphs) in document order, flushing an outer block when a
    nested one opens so that the order of text is preserved."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack = []        # per open element: (tag, skip, block)
        self.skip_depth = 0
        self.block_depth = 0
        self.current = []
        self.blocks = []
        self.next_href = None

    def _flush(self) -> None:
        text = re.sub(r"\s+", " ", "".join(self.current)).strip()
        if text:
            self.blocks.append(text)
        self.current = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "link" and a.get("rel") == "next":
            self.next_href = a.get("href")
        if tag in VOID:
            return
        classes = set((a.get("class") or "").split())
        skip = tag in SKIP_TAGS or bool(classes & SKIP_CLASSES) or a.get("id") in SKIP_IDS
        block = tag in BLOCK_HEADINGS or (tag == "div" and "para" in classes) or tag == "dt"
        if skip:
            self.skip_depth += 1
        if block and not self.skip_depth:
            self._flush()
            self.block_depth += 1
        self.stack.append((tag, skip, block and not skip and self.skip_depth == 0))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        # Pop to the matching tag (the input is XHTML, so this is exact in practice).
        while self.stack:
            t, skip, block = self.stack.pop()
            if skip:
                self.skip_depth -= 1
            if block:
                self._flush()
                self.block_depth -= 1
            if t == tag:
                break

    def handle_data(self, data):
        if self.block_depth and not self.skip_depth:
            self.current.append(data)


def language_of(text: str, target: str) -> str:
    words = re.findall(r"[a-zäöüßéèêàâçîôûœ]+", text.lower())
    en = sum(w in STOP["en"] for w in words)
    tg = sum(w in STOP[target] for w in words)
    return "en" if en > tg else target


def main() -> None:
    folder, target, max_bytes = sys.argv[1], sys.argv[2], int(sys.argv[3])
    page = PageParser()
    page.feed(open(os.path.join(folder, "index.html"), encoding="utf-8").read())
    href, total, docs, dropped, kept = page.next_href, 0, 0, 0, 0
    seen = set()
    while href and href not in seen and total < max_bytes:
        seen.add(href)
        page = PageParser()
        page.feed(open(os.path.join(folder, href), encoding="utf-8").read())
        blocks = []
        for b in page.blocks:
            if language_of(b, target) == "en":
                dropped += 1
            else:
                blocks.append(b)
        kept += len(blocks)
        if blocks:
            text = "\n\n".join(blocks)
            sys.stdout.write(json.dumps({"id": href, "text": text}, ensure_ascii=False) + "\n")
            total += len(text.encode("utf-8"))
            docs += 1
        href = page.next_href
    print(f"handbook {target}: {docs} pages, {kept} blocks kept, {dropped} English blocks dropped, "
          f"{total} bytes of text", file=sys.stderr)


if __name__ == "__main__":
    main()
