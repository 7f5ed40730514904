"""Chinese as lab members write it: either script, and about English papers.

Two things the analyzer and the query reader need:

- ``to_simplified``: Traditional (and Taiwanese usage, 網路 -> 网络) to Simplified with
  OpenCC's ``tw2sp`` conversion. The analyzer applies it to entries and queries alike,
  so 單細胞 finds 单细胞, and any word the conversion changes is changed on both sides.
- ``glossary``: English glosses of a Chinese word from a pruned CC-CEDICT
  (``data/zh_en/zh_en.tsv``, CC BY-SA 4.0), so 可解释性 also looks for
  "interpretability" and a Chinese description of an English paper can find it. It is
  loaded on the first Chinese query that needs it (about 0.1 s), then kept.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

import opencc

__all__ = ["default_glossary_path", "glossary", "load_glossary", "to_simplified", "warm"]

_CONVERTER: opencc.OpenCC | None = None
_CONVERTER_LOCK = threading.Lock()


def _converter() -> opencc.OpenCC:
    global _CONVERTER
    if _CONVERTER is None:
        with _CONVERTER_LOCK:
            if _CONVERTER is None:
                _CONVERTER = opencc.OpenCC("tw2sp")
    return _CONVERTER


@lru_cache(maxsize=100_000)
def to_simplified(text: str) -> str:
    """``text`` in Simplified Chinese (already simplified text comes back as it was)."""
    converted: str = _converter().convert(text)
    # OpenCC maps character by character or phrase by phrase; a length change would
    # shift positions, so keep the original then (it has not happened in practice).
    return converted if len(converted) == len(text) else text


def default_glossary_path() -> Path:
    return Path(__file__).resolve().parents[1] / "data" / "zh_en" / "zh_en.tsv"


@lru_cache(maxsize=4)
def load_glossary(path: str) -> dict[str, tuple[str, ...]]:
    """word -> English glosses (commonest first) of a glossary file (empty if missing)."""
    table: dict[str, tuple[str, ...]] = {}
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("#"):
                    continue
                word, _, senses = line.rstrip("\n").partition("\t")
                if word and senses:
                    table[word] = tuple(senses.split("|"))
    except OSError:
        return {}
    return table


def glossary(word: str) -> tuple[str, ...]:
    """The bundled glossary's English glosses of a (simplified) Chinese word."""
    return load_glossary(str(default_glossary_path())).get(word, ())


def warm() -> None:
    """Load the converter and the glossary now (~140 ms for the glossary's 72k lines),
    so a long-running bot pays it at start-up, not on its first Chinese question."""
    to_simplified("單細胞")
    glossary("细胞")
