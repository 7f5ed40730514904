"""Lab members search from the command line while the operator rebuilds the index and
the watcher commits list updates, all on one data dir: no search ever fails because a
generation (or a segment) was removed from under it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from benchmarks.corpus import generate_list
from index.search import SearchIndex, SourceSnapshot
from tests.conftest import medbot_command, medbot_env

pytestmark = pytest.mark.slow

SECONDS = 25

# The operator's side: full rebuilds (a new generation swapped in, the old one retired)
# alternating with in-place commits of one edited list, as fast as the machine allows.
REBUILDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from index.parser import parse
    from index.search import SearchIndex, SourceSnapshot
    lists, index_dir, seconds = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
    texts = {p.stem: p.read_text(encoding="utf-8") for p in sorted(lists.glob("*.md"))}
    def snapshots(tag):
        return [SourceSnapshot(n, tag, lambda n=n, t=t: parse(t, source=n)) for n, t in texts.items()]
    swaps = commits = 0
    end = time.monotonic() + seconds
    with SearchIndex(index_dir) as index:
        while time.monotonic() < end:
            index.sync(snapshots(f"r{swaps}"), progress=False, rebuild=True)
            swaps += 1
            name, text = next(iter(texts.items()))
            edited = text.replace("](https://", f"](https://v{commits}.", 3)
            index.update_source(name, f"e{commits}", parse(edited, source=name))
            commits += 1
    print(swaps, commits)
    """
)

# A reader in a loop: open the served index, search, show every hit (stored fields are
# read lazily, which is where a removed generation used to fail), close.
READER = textwrap.dedent(
    """
    import sys, time, traceback
    from pathlib import Path
    from index.search import SearchIndex
    index_dir, seconds = Path(sys.argv[1]), float(sys.argv[2])
    searches = failures = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            with SearchIndex.open(index_dir) as index:
                for query in ("lesion segmentation", "deep learning", "survey"):
                    result = index.search(query, per_page=10)
                    assert result.total > 0, f"no results for {query!r}"
                    [hit.entry.title for hit in result.hits]
                    searches += 1
        except Exception:
            failures += 1
            traceback.print_exc()
    print(searches, failures)
    """
)


def test_searches_during_rebuilds_and_commits_never_fail(tmp_path: Path) -> None:
    lists = tmp_path / "lists"
    lists.mkdir()
    for number in range(2):
        (lists / f"lab-{number}.md").write_text(generate_list(300, seed=number, name=f"lab {number}"), encoding="utf-8")
    config = tmp_path / "medbot.yaml"
    config.write_text(f"sources:\n  - path: {lists}/*.md\n", encoding="utf-8")
    data = tmp_path / "data"
    env = medbot_env(MEDBOT_SEARCH_MODEL="none")
    built = subprocess.run(medbot_command("--config", str(config), "--data-dir", str(data), "index"), env=env, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    index_dir = data / "index"

    rebuilder = subprocess.Popen(
        [sys.executable, "-c", REBUILDER, str(lists), str(index_dir), str(SECONDS)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(index_dir), str(SECONDS)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    cli_runs: list[subprocess.CompletedProcess[str]] = []
    end = time.monotonic() + SECONDS
    while time.monotonic() < end:  # a lab member typing `medbot search` again and again
        cli_runs.append(
            subprocess.run(
                medbot_command("--config", str(config), "--data-dir", str(data), "search", "--json", "lesion"),
                env=env, capture_output=True, text=True, timeout=120,
            )
        )
    rebuilt, rebuild_errors = rebuilder.communicate(timeout=180)
    read, read_errors = reader.communicate(timeout=180)

    assert rebuilder.returncode == 0, rebuild_errors
    swaps, commits = map(int, rebuilt.split())
    assert swaps >= 5 and commits >= 5, f"only {swaps} rebuilds and {commits} commits: the race was hardly exercised"
    searches, failures = map(int, read.split())
    sys.stderr.write(f"\nreaders: {searches} searches and {len(cli_runs)} `medbot search` runs during {swaps} rebuilds"
                     f" and {commits} commits, {failures} failed\n")
    assert searches >= 100, f"only {searches} searches ran"
    assert failures == 0, f"{failures} of {searches} searches failed during rebuilds:\n{read_errors[-3000:]}"
    failed_cli = [run for run in cli_runs if run.returncode != 0]
    assert not failed_cli, f"{len(failed_cli)} of {len(cli_runs)} `medbot search` runs failed:\n{failed_cli[0].stderr[-3000:]}"

    # Once nobody reads them, retired generations and superseded segments are tidied.
    with SearchIndex(index_dir) as index:
        index.sync([SourceSnapshot(p.stem, "final", lambda p=p: _parse(p)) for p in sorted(lists.glob("*.md"))], progress=False, rebuild=True)
    generations = [child.name for child in index_dir.iterdir() if child.name.startswith("gen-")]
    assert len(generations) == 1, generations


def _parse(path: Path) -> object:
    from index.parser import parse

    return parse(path.read_text(encoding="utf-8"), source=path.stem)
