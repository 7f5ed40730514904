"""The ``medbot`` command line as a user runs it: a fresh install, JSON out, clear errors."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, medbot_command, medbot_env

pytestmark = pytest.mark.slow


def run(*args: str, data_dir: Path, stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        medbot_command("--data-dir", str(data_dir), *args),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
        env=env or medbot_env(),
        cwd=REPO_ROOT.parent,
    )


def index_files(data_dir: Path) -> dict[str, int]:
    return {str(p.relative_to(data_dir)): p.stat().st_mtime_ns for p in (data_dir / "index").rglob("*") if p.is_file()}


def test_a_fresh_install_answers_from_the_bundled_lists_and_then_reuses_the_index(tmp_path: Path) -> None:
    first = run("search", "lesion detection", "--json", data_dir=tmp_path)
    assert first.returncode == 0, first.stderr
    answer = json.loads(first.stdout)
    assert answer["query"] == "lesion detection"
    assert answer["total"] >= 3 and answer["page"] == 1 and "suggestion" in answer
    top = answer["results"][0]
    for key in ("id", "title", "url", "links", "description", "section", "tags", "year", "source", "score"):
        assert key in top
    assert any(r["title"].startswith("DeepLesion") for r in answer["results"])
    before = index_files(tmp_path)
    assert before
    second = run("search", "lesion detection", "--json", data_dir=tmp_path)
    assert second.returncode == 0
    assert json.loads(second.stdout)["results"] == answer["results"]
    assert index_files(tmp_path) == before, "the second call rebuilt the index"


def test_a_query_starting_with_a_dash_after_double_dash(tmp_path: Path) -> None:
    result = run("search", "--json", "--", "-weird query (", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["query"] == "-weird query ("


def test_readable_text_forms(tmp_path: Path) -> None:
    search = run("search", "DeepLesion", data_dir=tmp_path)
    assert search.returncode == 0 and "DeepLesion" in search.stdout and "code:" in search.stdout
    topics = run("topics", data_dir=tmp_path)
    assert "Lesion Detection" in topics.stdout and "单细胞" in topics.stdout
    topic = run("topic", "单细胞", "--json", data_dir=tmp_path)
    data = json.loads(topic.stdout)
    assert any("单细胞" in part for part in data["topic"]) and data["results"]
    random_pick = run("random", "--topic", "lesion detection", "--json", data_dir=tmp_path)
    assert json.loads(random_pick.stdout)["section"] == ["Lesion Detection"]
    sources = json.loads(run("sources", "--json", data_dir=tmp_path).stdout)
    assert {row["name"] for row in sources} == {"awesome-medical-research", "awesome-medical-machine-learning"}
    assert all(row["entries"] > 10 for row in sources)
    new = run("new", "--json", data_dir=tmp_path)
    assert new.returncode == 0 and json.loads(new.stdout) == []


def test_similar_by_id_and_an_unknown_id(tmp_path: Path) -> None:
    hit = json.loads(run("search", "DeepLesion", "--json", data_dir=tmp_path).stdout)["results"][0]
    similar = run("similar", hit["id"], "--json", data_dir=tmp_path)
    assert similar.returncode == 0 and json.loads(similar.stdout)["results"]
    missing = run("similar", "nope", data_dir=tmp_path)
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1


def test_parse_and_diff_of_files(tmp_path: Path) -> None:
    seed = REPO_ROOT / "data" / "lists" / "awesome-medical-research.md"
    parsed = json.loads(run("parse", str(seed), "--json", data_dir=tmp_path).stdout)
    assert parsed["title"].startswith("Some Awesome Medical Research")
    assert parsed["entries"] and parsed["sections"]
    new_version = tmp_path / "new.md"
    new_version.write_text(
        seed.read_text(encoding="utf-8").replace("## Lesion Detection\n", "## Lesion Detection\n* A Brand New Lesion Paper [`arxiv`](https://arxiv.org/abs/2401.00001)\n", 1),
        encoding="utf-8",
    )
    changes = json.loads(run("diff", str(seed), str(new_version), "--json", data_dir=tmp_path).stdout)
    assert [e["title"] for e in changes["added"]] == ["A Brand New Lesion Paper"]
    assert changes["removed"] == []
    text = run("diff", str(seed), str(new_version), data_dir=tmp_path)
    assert text.returncode == 0 and "A Brand New Lesion Paper" in text.stdout


@pytest.mark.parametrize("args", [("parse", "/no/such/file.md"), ("diff", "/no/such/a.md", "/no/such/b.md"), ("parse", "/")])
def test_a_missing_or_unreadable_file_is_one_line_and_exit_2(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = run(*args, data_dir=tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_serve_with_a_data_dir_that_is_a_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "data"
    not_a_dir.write_text("oops", encoding="utf-8")
    token = ":".join(("123456789", "AAServeNeverGetsThisFarServeNever12"))
    result = run("serve", data_dir=not_a_dir, env=medbot_env(TELEGRAM_BOT_TOKEN=token))
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert "cannot use the data dir" in result.stderr and token not in result.stderr


def test_a_feed_into_a_missing_directory_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run("feed", "--output", str(tmp_path / "no" / "such" / "dir" / "new.atom"), data_dir=tmp_path / "data")
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert "cannot write the feed" in result.stderr


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("sources: [", "not valid YAML"),
        ("sources: 3", "sources"),
        ("sources:\n  - {name: x}", "needs 'path' or 'url'"),
        ("watch: {interval: soon}", "watch.interval"),
        ("colour: blue", "unknown key 'colour'"),
    ],
)
def test_a_bad_config_file_is_one_line_naming_file_and_key(tmp_path: Path, content: str, expected: str) -> None:
    config = tmp_path / "medbot.yaml"
    config.write_text(content, encoding="utf-8")
    result = run("--config", str(config), "search", "x", data_dir=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(config) in lines[0] and expected in lines[0], lines


def test_a_config_with_a_glob_of_local_lists(tmp_path: Path) -> None:
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "lab-picks.md").write_text("# Lab picks\n\n## Tools\n- [Zebrafish Atlas](https://example.org/zebra) a fish atlas\n", encoding="utf-8")
    config = tmp_path / "medbot.yaml"
    config.write_text("sources:\n  - path: lists/*.md\n", encoding="utf-8")
    result = run("--config", str(config), "search", "zebrafish", "--json", data_dir=tmp_path / "data")
    assert result.returncode == 0, result.stderr
    hit = json.loads(result.stdout)["results"][0]
    assert hit["title"] == "Zebrafish Atlas" and hit["source"] == "lab-picks"


def test_the_console_chat_keeps_going_after_bad_lines_and_ends_on_eof(tmp_path: Path) -> None:
    lines = "\n".join(["/search lesion", ":1", "/topic (((", "/nosuch", "", "\x00", "/help", ":9"]) + "\n"
    result = run("chat", data_dir=tmp_path, stdin=lines)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "DeepLesion" in out
    assert "I don't know /nosuch" in out
    assert "/similar" in out  # the help listing
    assert "No such button" in out
    assert "Traceback" not in out + result.stderr


@pytest.mark.parametrize("command", [("index",), ("watch", "--once"), ("feed",), ("search", "x")])
def test_an_unusable_data_dir_is_one_line_for_every_command(tmp_path: Path, command: tuple[str, ...]) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data dir should be", encoding="utf-8")
    result = run(*command, data_dir=blocker / "data")
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_a_negative_interval_from_the_environment_is_refused(tmp_path: Path) -> None:
    result = run("search", "x", data_dir=tmp_path, env=medbot_env(MEDBOT_WATCH_INTERVAL="-5"))
    assert result.returncode == 2 and "MEDBOT_WATCH_INTERVAL" in result.stderr


def test_an_operator_gets_a_clear_word_at_each_edge(tmp_path: Path) -> None:
    past = run("search", "lesion detection", "--page", "99", data_dir=tmp_path)
    assert past.returncode == 2 and "past the last page" in past.stderr and "Nothing found" not in past.stdout
    unknown_source = run("search", "lesion", "--source", "nosuch", data_dir=tmp_path)
    assert unknown_source.returncode == 2 and "nosuch" in unknown_source.stderr
    assert "awesome-medical-research" in unknown_source.stderr  # the names it does know
    unknown_topic = run("topic", "xyzzy-no-such", data_dir=tmp_path)
    assert unknown_topic.returncode == 2 and "no topic matches" in unknown_topic.stderr
    assert run("random", "--topic", "xyzzy-no-such", data_dir=tmp_path).returncode == unknown_topic.returncode
    single = run("search", '"DeepLesion: automated mining"', "--limit", "1", data_dir=tmp_path)
    assert single.returncode == 0
    assert single.stdout.splitlines()[0].startswith("1 result for"), single.stdout


def test_new_takes_the_same_day_range_as_the_chat(tmp_path: Path) -> None:
    too_far = run("new", "--days", "366", data_dir=tmp_path)
    assert too_far.returncode == 2 and "365" in too_far.stderr
    assert run("new", "--days", "365", data_dir=tmp_path).returncode == 0


def test_the_text_output_shows_the_description_with_its_links(tmp_path: Path) -> None:
    (tmp_path / "lab.md").write_text("# L\n## Clustering\n- [X](https://github.com/a/x) - desc. [Paper](https://arxiv.org/abs/2601.01234)\n")
    (tmp_path / "medbot.yaml").write_text("sources:\n  - path: lab.md\n")
    found = run("--config", str(tmp_path / "medbot.yaml"), "search", "desc", data_dir=tmp_path / "data")
    assert found.returncode == 0, found.stderr
    assert "desc. Paper <https://arxiv.org/abs/2601.01234>" in found.stdout
    chat = run("--config", str(tmp_path / "medbot.yaml"), "chat", data_dir=tmp_path / "data", stdin="/search desc\n")
    assert "desc. Paper <https://arxiv.org/abs/2601.01234>" in chat.stdout, chat.stdout + chat.stderr


BROKEN_SYNONYMS = "groups:\n  - [EMR, electronic medical records]\n  - [NER, named entity recognition\n  - [CT, computed tomography]\n"


def test_a_broken_synonyms_file_is_one_line_naming_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "synonyms.yaml").write_text(BROKEN_SYNONYMS)
    (tmp_path / "medbot.yaml").write_text("synonyms: synonyms.yaml\n")
    for command in (("search", "lesion"), ("check",)):
        broken = run("--config", str(tmp_path / "medbot.yaml"), *command, data_dir=tmp_path / "data")
        assert broken.returncode == 2, command
        problem = [line for line in broken.stderr.splitlines() if line.strip()]
        assert len(problem) == 1 and "Traceback" not in broken.stderr, broken.stderr
        assert "synonyms.yaml:" in problem[0] and any(f":{n}:" in problem[0] for n in (3, 4, 5)), problem
    (tmp_path / "medbot.yaml").write_text("synonyms: no-such.yaml\n")
    missing = run("--config", str(tmp_path / "medbot.yaml"), "search", "lesion", data_dir=tmp_path / "data")
    assert missing.returncode == 2 and "no-such.yaml" in missing.stderr
    (tmp_path / "medbot.yaml").write_text("sources:\n  - path: lab.md\n")
    (tmp_path / "lab.md").write_text("# L\n## S\n- [X](https://x.example) - a tool\n")
    fine = run("--config", str(tmp_path / "medbot.yaml"), "check", data_dir=tmp_path / "fresh")
    assert fine.returncode == 0 and "lab: 1 entry" in fine.stdout.replace("list ", ""), fine.stdout + fine.stderr
    assert not (tmp_path / "fresh").exists()  # nothing started or written
