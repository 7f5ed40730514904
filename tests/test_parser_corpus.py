"""Every real list of the shared corpus parses, and finds the list items a reader sees.

The independent count: markdown-it's block pass alone (no inline parsing, so none of
the parser's rules), one count per list item whose own paragraph holds a link that is
not a ``#jump``, repeated links counted once (one entry per identity). The parser must
find within 5% of that among its entries that start on those items' lines, unless a
reason is written below. Run with ``-s`` to see the per-file report.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from index.model import normalise_url
from index.parser import parse_bytes
from tests.conftest import shared_dir


def _corpus_dir() -> Path | None:
    base = shared_dir()
    if base and (base / "corpus" / "lists").is_dir():
        return base / "corpus" / "lists"
    return None


CORPUS = _corpus_dir()
TOLERANCE = 0.05

# Files allowed to differ by more than TOLERANCE, and why (checked by reading them).
EXPLAINED: dict[str, str] = {
    "cjbarber__ToolsOfTheTrade.md": (
        "the list is tables; its only linked list items are 4 related links and a contents "
        "item written without '#' ([Customer Feedback](customer-feedback)), which is a jump, not an entry"
    ),
}

_BLOCKS = MarkdownIt("commonmark").disable("inline")
_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)|(https?://[^\s)>\]]+)")


def linked_list_items(text: str) -> dict[int, str]:
    """1-based line of each list item whose own first paragraph links out -> that link's key."""
    found: dict[int, str] = {}
    open_items: list[int] = []
    for token in _BLOCKS.parse(text):
        if token.type == "list_item_open":
            open_items.append(token.map[0] + 1 if token.map else 0)
        elif token.type == "list_item_close":
            open_items.pop()
        elif token.type == "inline" and open_items and open_items[-1] not in found:
            targets = [a or b for a, b in _LINK.findall(token.content)]
            targets = [url for url in targets if not url.startswith("#")]
            if targets:
                found[open_items[-1]] = normalise_url(targets[0])
    return found


@pytest.mark.slow
@pytest.mark.skipif(CORPUS is None, reason="shared corpus not present (set MEDBOT_SHARED)")
def test_every_corpus_list_parses_and_finds_its_linked_list_items() -> None:
    assert CORPUS is not None
    files = sorted(CORPUS.glob("*.md"))
    assert files, f"no lists in {CORPUS}"
    report = [f"{'file':58} {'entries':>7} {'on items':>8} {'items':>6}  ratio"]
    unexplained: list[str] = []
    for path in files:
        data = path.read_bytes()
        doc = parse_bytes(data, path.stem)
        assert not any("internal parser error" in warning for warning in doc.warnings), (path.name, doc.warnings)
        items = linked_list_items(data.decode("utf-8", errors="replace").lstrip("\ufeff"))
        expected = len(set(items.values()))
        found = sum(1 for entry in doc.entries if entry.line in items)
        ratio = found / expected if expected else 1.0
        report.append(f"{path.name:58} {len(doc.entries):7} {found:8} {expected:6}  {ratio:5.2f}")
        if expected and abs(found - expected) > TOLERANCE * expected and path.name not in EXPLAINED:
            unexplained.append(report[-1])
    print("\n".join(report))
    assert not unexplained, "off by more than 5% without a written reason:\n" + "\n".join(unexplained)
    stale = sorted(set(EXPLAINED) - {path.name for path in files})
    assert not stale, f"reasons for files no longer in the corpus: {stale}"
