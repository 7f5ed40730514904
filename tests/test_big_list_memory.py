"""An operator adds a huge generated list: parsing it must not hold the whole document's
Markdown tokens at once (a 20 MB list peaked at about 640 MB of parse memory; now
about 240 MB, most of it the entries themselves)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from benchmarks.corpus import generate_list
from index.chunks import chunks
from index.parser import parse
from tests.conftest import medbot_env

pytestmark = pytest.mark.slow
needs_proc = pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads peak RSS from /proc")

# Measured in a fresh interpreter: the growth of peak RSS over the parse alone. VmHWM,
# not ru_maxrss: the latter keeps the forking parent's peak (pytest's) across exec.
MEASURE = textwrap.dedent(
    """
    import json, re, sys
    from pathlib import Path
    from index.parser import parse_bytes
    def peak_kib():
        return int(re.search(r"VmHWM:\\s+(\\d+)", Path("/proc/self/status").read_text()).group(1))
    data = Path(sys.argv[1]).read_bytes()
    before = peak_kib()
    document = parse_bytes(data, source="huge")
    print(json.dumps({"entries": len(document.entries), "grown_kib": peak_kib() - before}))
    """
)


@needs_proc
def test_a_five_megabyte_list_parses_in_bounded_memory(tmp_path: Path) -> None:
    huge = tmp_path / "huge.md"
    huge.write_text(generate_list(25_000, seed=3, name="huge"), encoding="utf-8")
    size_mib = huge.stat().st_size / 2**20
    done = subprocess.run([sys.executable, "-c", MEASURE, str(huge)], env=medbot_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    grown_mib = figures["grown_kib"] / 1024
    sys.stderr.write(f"\nparse of a {size_mib:.1f} MiB list ({figures['entries']} entries): peak RSS +{grown_mib:.0f} MiB\n")
    assert figures["entries"] == 25_000
    # Whole-document tokens grew ~30x the text (151 MiB for 4.9 MiB); in pieces ~13x.
    assert grown_mib < 20 * size_mib, f"parsing {size_mib:.1f} MiB grew peak RSS by {grown_mib:.0f} MiB"


def test_a_list_read_in_pieces_gives_what_the_whole_gives() -> None:
    text = generate_list(3000, seed=5, name="pieces")
    text = text.replace("## 2.", "<!--\n# not a heading, a comment\n\n-->\n\n```\n# a fence\n\n# still a fence\n```\n\n## 2.", 1)
    text += "\n\n## Referenced\n\n- [A paper][ref] - defined far above\n"
    text = "[ref]: https://example.org/defined-at-the-top\n\n" + text
    import index.chunks as chunking

    whole = parse(text, source="pieces")
    original = chunking.CHUNK_CHARS
    chunking.CHUNK_CHARS = 2000
    try:
        assert sum(1 for _ in chunks(text)) > 20
        pieces = parse(text, source="pieces")
    finally:
        chunking.CHUNK_CHARS = original
    assert pieces.entries == whole.entries and pieces.sections == whole.sections and pieces.title == whole.title
    assert any(entry.url == "https://example.org/defined-at-the-top" for entry in pieces.entries)
