"""Docs as tests: every command users can type is documented in README.md with help text."""

from bot.core.commands import COMMANDS, PAGERS
from bot.core.registry import Registry
from tests.conftest import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def test_every_registered_command_has_help_text_and_is_in_the_readme() -> None:
    visible = Registry(COMMANDS, PAGERS).visible
    assert {"start", "help", "search", "topic", "random", "new", "similar", "sources"} <= {s.name for s in visible}
    for spec in visible:
        assert spec.summary and spec.summary_zh and spec.usage.startswith(f"/{spec.name}")
        assert f"`/{spec.name}" in README, f"/{spec.name} is missing from README.md"


def test_the_quick_start_has_exactly_two_commands_and_ci_runs_the_test_one() -> None:
    quick = README.split("## Quick start", 1)[1].split("```", 2)[1]
    commands = [line for line in quick.splitlines()[1:] if line.strip()]
    assert len(commands) == 2
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1].strip() in ci


def test_every_cli_command_is_in_the_readme_command_line_table() -> None:
    import argparse

    from bot.run.cli import build_parser

    parser = build_parser()
    (subcommands,) = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    assert {"search", "watch", "serve", "bench"} <= set(subcommands.choices)
    for name in subcommands.choices:
        assert f"`medbot {name}" in README, f"medbot {name} is missing from README.md"


def test_the_architecture_doc_shows_how_to_add_a_command_and_a_platform_and_both_machines() -> None:
    doc = (REPO_ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    for heading in ("## Adding a command", "## Adding a platform", "## State machines"):
        assert heading in doc
    assert doc.count("```mermaid") >= 3  # the layout and the two state machines
    for module in ("bot/core/commands/__init__.py", "bot/run/platforms.py", "bot/store/poll_states.py", "bot/store/outbox_states.py"):
        assert module in doc and (REPO_ROOT / module).exists(), module
def test_every_paper_cli_command_is_in_the_readme() -> None:
    for name in ("medbot show", "medbot export", "medbot enrich", "medbot linkcheck", "`/paper", "`/export"):
        assert name in README, f"{name} is missing from README.md"
    services = README.split("## Services medbot contacts", 1)[1]
    for service in ("arXiv", "Crossref", "E-utilities", "GitHub", "enrich: false", "linkcheck: false", "GITHUB_TOKEN"):
        assert service in services


def test_every_config_key_is_in_the_readme_configuration_table() -> None:
    import msgspec

    from bot.core.config import CORE_KEYS
    from bot.core.settings import WatchSettings
    from bot.run.platforms import PLATFORMS

    table = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    keys = [f"`{key}`" for key in CORE_KEYS]
    keys += [f"`watch.{field.name}`" for field in msgspec.structs.fields(WatchSettings)]
    for platform in PLATFORMS:
        if platform.settings_type is not None:
            keys += [f"`{platform.name}.{field.name}`" for field in msgspec.structs.fields(platform.settings_type)]
    missing = [key for key in keys if key not in table]
    assert not missing, f"README.md's configuration table lacks {missing}"


def _first_cells(section: str) -> list[str]:
    """The first cell of every table row in one README section (the thing a row documents)."""
    body = README.split(section, 1)[1].split("\n## ", 1)[0]
    rows = [line for line in body.splitlines() if line.startswith("| `")]
    names = [row.split("`", 2)[1].split() for row in rows]
    return [" ".join(words[:2]) if words[0] == "medbot" else words[0] for words in names]


def test_no_command_or_config_key_has_two_rows_in_the_readme() -> None:
    """Two rows for one command drift apart (one said /unsubscribe removes all, the other asks which)."""
    for section in ("## Chat commands", "## Command line", "## Configuration", "## Web page"):
        cells = _first_cells(section)
        assert cells, section
        repeated = sorted({cell for cell in cells if cells.count(cell) > 1})
        assert not repeated, f"README.md's {section!r} table has two rows for {repeated}"
