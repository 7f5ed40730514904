"""The layout keeps its promises: no import cycles, adapters only behind the composition
root, the index free of the bot, and no module too long to read."""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest

from tests.conftest import REPO_ROOT

PACKAGES = ("bot", "adapters", "index")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True)


def test_no_module_imports_itself_back_through_others(graph: grimp.ImportGraph) -> None:
    seen: set[str] = set()
    on_path: list[str] = []

    def visit(module: str) -> None:
        on_path.append(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported in on_path:
                cycle = on_path[on_path.index(imported):] + [imported]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if imported not in seen:
                visit(imported)
        on_path.pop()
        seen.add(module)

    for module in sorted(graph.modules):
        if module not in seen:
            visit(module)


def test_only_the_composition_root_imports_adapters(graph: grimp.ImportGraph) -> None:
    importers = {
        importer
        for module in graph.modules if module.split(".")[0] == "adapters"
        for importer in graph.find_modules_that_directly_import(module)
        if importer.split(".")[0] != "adapters"
    }
    assert importers and all(importer.startswith("bot.run.") for importer in importers), importers


def test_the_index_imports_nothing_of_the_bot(graph: grimp.ImportGraph) -> None:
    for module in graph.modules:
        if module.startswith("index"):
            assert not {m for m in graph.find_modules_directly_imported_by(module) if m.split(".")[0] in {"bot", "adapters"}}


def test_no_module_is_over_400_lines() -> None:
    long = {
        str(path.relative_to(REPO_ROOT)): count
        for package in PACKAGES
        for path in Path(REPO_ROOT / package).rglob("*.py")
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert not long, long
