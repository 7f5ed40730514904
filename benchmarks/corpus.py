"""The haystack of ``medbot bench``: the seeds plus a corpus of real awesome lists.

Every list is copied into a scratch workspace with a config naming them, so the
benchmark can change one list (the incremental figure) without touching the originals
and every engine reads the very same files. Without a real corpus, ``generate_corpus``
writes synthetic lists in the shape of real ones (sections, badges, code links, some
Chinese), and ``generate_list`` makes the large single list behind the diff figure.
"""

from __future__ import annotations

import os
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BenchQuery",
    "REPO",
    "Workspace",
    "default_corpus_dir",
    "generate_corpus",
    "generate_list",
    "load_queries",
    "new_entry_line",
    "prepare_workspace",
    "shared_dir",
]

REPO = Path(__file__).resolve().parents[1]
SEEDS_DIR = REPO / "data" / "lists"
QUERIES_PATH = Path(__file__).resolve().parent / "queries.txt"


@dataclass(frozen=True, slots=True)
class BenchQuery:
    """One line of queries.txt: the text typed, and the page asked for."""

    text: str
    page: int = 1


@dataclass(frozen=True, slots=True)
class Workspace:
    """Scratch copies of every list, the config that names them, and a data dir."""

    root: Path
    lists_dir: Path
    config_path: Path
    data_dir: Path
    files: tuple[Path, ...]
    corpus_label: str


def shared_dir() -> Path | None:
    """``/work/shared``-style data next to the repo (or ``$MEDBOT_SHARED``), when present."""
    candidates = [os.environ.get("MEDBOT_SHARED"), str(REPO.parent / "shared"), str(REPO.parents[1] / "shared")]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


def default_corpus_dir() -> Path | None:
    """The shared corpus of real lists (``../shared/corpus/lists``), if this machine has it."""
    shared = shared_dir()
    if shared is None:
        return None
    lists = shared / "corpus" / "lists"
    return lists if lists.is_dir() and any(lists.rglob("*.md")) else None


def prepare_workspace(root: Path, corpus_dir: Path | None) -> Workspace:
    """Copy the seeds and every ``*.md`` under ``corpus_dir`` into ``root/lists``.

    Without a corpus a synthetic one is generated, so the figures always have a haystack.
    """
    lists_dir = root / "lists"
    lists_dir.mkdir(parents=True, exist_ok=True)
    if corpus_dir is None:
        generated = root / "generated"
        generate_corpus(generated, lists=40, entries_per_list=500, seed=7)
        corpus_dir, label = generated, "generated (40 synthetic lists)"
    else:
        label = str(corpus_dir)
    names: set[str] = set()
    copied: list[Path] = []
    for source in [*sorted(SEEDS_DIR.glob("*.md")), *sorted(corpus_dir.rglob("*.md"))]:
        if not source.is_file():
            continue
        name = source.stem
        number = 2
        while name in names:
            name, number = f"{source.stem}-{number}", number + 1
        names.add(name)
        target = lists_dir / f"{name}.md"
        shutil.copyfile(source, target)
        copied.append(target)
    config_path = root / "medbot.yaml"
    config_path.write_text("# written by medbot bench\nsources:\n  - path: lists/*.md\n", encoding="utf-8")
    data_dir = root / "data"
    data_dir.mkdir(exist_ok=True)
    return Workspace(root, lists_dir, config_path, data_dir, tuple(copied), label)


def load_queries(path: Path = QUERIES_PATH) -> list[BenchQuery]:
    """The checked-in query set; ``@page=N`` at the end of a line asks for page N."""
    queries: list[BenchQuery] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        page = 1
        text, marker, page_text = line.rpartition("@page=")
        if marker and page_text.isdigit() and text.strip():
            line, page = text.strip(), int(page_text)
        queries.append(BenchQuery(line, page))
    return queries


# --- synthetic lists -------------------------------------------------------------------

_WORDS = (
    "deep learning medical image segmentation lesion detection graph neural network "
    "attention transformer genomics single cell protein structure clinical notes "
    "question answering dialogue knowledge retrieval benchmark dataset survey "
    "unsupervised contrastive federated privacy radiology pathology ultrasound mri "
    "ct x-ray tumor cancer drug discovery molecule language model embedding parser "
    "server client database cache queue stream monitoring testing framework library "
    "fast lightweight secure distributed scalable interactive visual robust efficient"
).split()
_ZH_WORDS = ("医学", "影像", "分割", "检测", "基因组", "单细胞", "知识图谱", "问答", "对话", "数据集", "深度学习")
_VENUES = ("ACL", "EMNLP", "NeurIPS", "ICML", "ICLR", "CVPR", "MICCAI", "Nature", "KDD", "AAAI")


def _phrase(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(low, high)))


def _entry_line(rng: random.Random, number: int, prefix: str) -> str:
    title = _phrase(rng, 2, 6).title()
    if rng.random() < 0.3:
        url = f"https://arxiv.org/abs/{rng.randint(15, 24)}{rng.randint(1, 12):02d}.{number:05d}"
    else:
        url = f"https://github.com/{prefix}-{number % 97}/{prefix}-project-{number}"
    line = f"- [{title}]({url}) - {_phrase(rng, 5, 18).capitalize()}."
    if rng.random() < 0.15:
        line += " " + "".join(rng.choice(_ZH_WORDS) for _ in range(rng.randint(1, 3)))
    if rng.random() < 0.4:
        line += f" [[code](https://github.com/{prefix}/code-{number})]"
    if rng.random() < 0.3:
        line += f" `{rng.choice(_VENUES)} {rng.randint(2012, 2024)}`"
    return line


def new_entry_line(seed: int) -> str:
    """One more list item, as an upstream commit would add it."""
    return _entry_line(random.Random(seed), 90_000 + seed % 9_000, "added")


def generate_list(entries: int, seed: int = 0, name: str = "synthetic") -> str:
    """An awesome list in Markdown with ``entries`` items spread over sections."""
    rng = random.Random(seed)
    lines = [f"# Awesome {name.title()}", "", f"A generated list of {entries} resources.", ""]
    per_section = max(1, min(60, entries // 8 or 1))
    number = 0
    section = 0
    while number < entries:
        section += 1
        heading = _phrase(rng, 1, 3).title()
        if rng.random() < 0.2:
            heading = f"{rng.choice(_ZH_WORDS)} {heading}"
        lines += [f"## {section}. {heading}", ""]
        for _ in range(min(per_section, entries - number)):
            number += 1
            lines.append(_entry_line(rng, number, f"{name}{seed}"))
        lines.append("")
    return "\n".join(lines) + "\n"


def generate_corpus(directory: Path, lists: int, entries_per_list: int, seed: int = 0) -> list[Path]:
    """Write ``lists`` synthetic lists into ``directory`` (a stand-in for a real corpus)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(lists):
        path = directory / f"synthetic-{number:03d}.md"
        path.write_text(generate_list(entries_per_list, seed=seed * 1000 + number, name=f"topic{number}"), encoding="utf-8")
        paths.append(path)
    return paths
