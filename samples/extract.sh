#!/bin/sh
# Reproduces the sample corpora under samples/corpora/ from Debian 12 (bookworm) packages.
# Run as root on Debian 12 (it installs packages): sh samples/extract.sh
# Only Debian's /usr/bin/python3 standard library is used by the helper scripts in samples/tools/.
# The outputs are byte-identical to the committed files when the package versions below match;
# the script says so at the end (git diff --stat).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out="$here/corpora"
py=/usr/bin/python3

apt-get update
apt-get install -y --no-install-recommends sword-text-web diatheke debian-handbook golang-1.19-src python3

# Versions these samples were made from (checked 2026-11-22); a different version still works
# but gives different bytes.
for p in sword-text-web:426.0-1 diatheke:1.9.0+dfsg-4+b4 debian-handbook:11.20220922 golang-1.19-src:1.19.8-2; do
    name=${p%%:*}; want=${p#*:}
    have=$(dpkg-query -W -f '${Version}' "$name")
    [ "$have" = "$want" ] || echo "warning: $name is $have, samples were made from $want" >&2
done

# 1. english: World English Bible, New Testament (SWORD module engWEB2015eb), one chapter per document.
mkdir -p "$out/english"
diatheke -b engWEB2015eb -f plain -k "Matthew 1:1-Revelation 22:21" \
    | $py "$here/tools/web_to_jsonl.py" > "$out/english/english.jsonl"
cp /usr/share/doc/sword-text-web/copyright "$out/english/LICENSE"

# 2. german and 4. french: The Debian Administrator's Handbook, one HTML page (section) per document,
#    untranslated (English) paragraphs dropped.
for lang in german:de-DE:de french:fr-FR:fr; do
    name=${lang%%:*}; rest=${lang#*:}; folder=${rest%%:*}; code=${rest#*:}
    mkdir -p "$out/$name"
    $py "$here/tools/handbook_to_jsonl.py" "/usr/share/doc/debian-handbook/html/$folder" "$code" 1500000 \
        > "$out/$name/$name.jsonl"
    cp /usr/share/doc/debian-handbook/copyright "$out/$name/COPYING"
    cp /usr/share/common-licenses/GPL-2 "$out/$name/GPL-2"
done

# 3. code: Go 1.19 standard library, one non-test, non-generated .go file per document.
mkdir -p "$out/code"
$py "$here/tools/go_to_jsonl.py" /usr/share/go-1.19/src \
    bufio bytes strings strconv sort container/heap container/list container/ring errors \
    unicode/utf8 unicode/utf16 path path/filepath io encoding/csv encoding/hex encoding/base64 \
    encoding/binary encoding/json text/tabwriter text/template/parse regexp regexp/syntax flag \
    context sync math/bits > "$out/code/code.jsonl"
cp /usr/share/doc/golang-1.19-src/copyright "$out/code/LICENSE"

# How different the corpora are: byte-bigram cross-entropy, bits per byte (samples/README.md).
$py "$here/tools/bigram_xent.py" "$out/english/english.jsonl" "$out/german/german.jsonl" \
    "$out/code/code.jsonl" "$out/french/french.jsonl"

ls -l "$out"/*/*.jsonl
if command -v git >/dev/null 2>&1 && git -C "$here" rev-parse >/dev/null 2>&1; then
    git -C "$here" diff --stat -- corpora
fi
