"""Other names an entry goes by, written into the index beside its own words.

Lab members often know a paper by a name its list entry never spells out:

- an *acronym* of its title ("K-SAN" for "Knowledge-Guided Structural Attention
  Networks", "PCAWG" for "Pan-cancer analysis of whole genomes");
- its *site* ("ConvAI" for the challenge at convai.io);
- the *pieces* of a joined name ("NeuralDialogPapers" is neural dialog papers).

These are computed from the entry itself, never from a hand-written table, and kept in
their own low-weight field (``aliases``), so they add candidates without outranking an
entry that uses the words. Pure functions; the index stems what they return.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from urllib.parse import urlsplit

__all__ = ["ALIAS_FIELD", "ALIAS_MARK", "ALIAS_WEIGHT", "MAX_ACRONYM", "MIN_ACRONYM", "acronyms", "entry_aliases", "host_words", "hyphen_acronym", "name_parts", "name_words"]

ALIAS_FIELD = "aliases"
ALIAS_MARK = "@"
"""A query term with this prefix is looked up in ``aliases`` only (the analyzer never
makes an ``@``): only words typed as names (``PCAWG``, ``K-SAN``, ``ConvAI2``) look there,
so the combinatorial acronyms of 50,000 titles never dilute an ordinary word."""
ALIAS_WEIGHT = 0.8
MIN_ACRONYM = 3
MAX_ACRONYM = 6
MAX_TITLE_WORDS = 16
"""Acronyms come from the first words of a title; a longer "title" is a sentence."""
MAX_ALIASES = 80

# Words an acronym skips ("Pan-Cancer Analysis *of* Whole Genomes" is PCAWG).
_SKIPPED = frozenset("a an and as at by for from in into of on or the to via with".split())
# Typed as a name: capitals inside (scScope, GraphSCI) or throughout (PCAWG).
_NAME = re.compile(r"\b\w*[a-z]\w*[A-Z]\w*\b|\b[A-Z][A-Z0-9]+\b")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-'][A-Za-z0-9]+)*")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
# Host labels that say nothing about one entry.
_GENERIC_LABELS = frozenset(
    """www m mp blog blogs docs doc en web api app apps com org net edu gov io ai co uk cn de fr
    jp ac info dev html pdf github gitlab githubusercontent arxiv doi dx""".split()
)


def acronyms(title: str) -> list[str]:
    """Every acronym a run of the title's words spells (3-6 letters, lower case).

    Each word gives its first letter; a hyphenated word gives either its first letter
    or one per part ("Knowledge-Guided" is K or KG). Small words are skipped.
    """
    words = [w for w in _WORD.findall(title)[:MAX_TITLE_WORDS] if w.lower() not in _SKIPPED]
    choices = [_initials(word) for word in words]
    found: dict[str, None] = {}
    for start in range(len(choices)):
        _extend(choices, start, "", found)
    return list(found)


def _initials(word: str) -> tuple[str, ...]:
    parts = [part for part in re.split(r"[-']", word) if part and part[0].isalpha()]
    if not parts:
        return ()
    first = parts[0][0].lower()
    whole = "".join(part[0].lower() for part in parts)
    return (first,) if whole == first else (first, whole)


def _extend(choices: Sequence[tuple[str, ...]], at: int, prefix: str, found: dict[str, None]) -> None:
    if at >= len(choices) or not choices[at]:
        return
    for letters in choices[at]:
        acronym = prefix + letters
        if len(acronym) > MAX_ACRONYM:
            continue
        if len(acronym) >= MIN_ACRONYM:
            found[acronym] = None
        _extend(choices, at + 1, acronym, found)


def host_words(urls: Iterable[str]) -> list[str]:
    """The telling labels of the links' hosts: ``convai`` for convai.io."""
    found: dict[str, None] = {}
    for url in urls:
        try:
            host = urlsplit(url if "://" in url else "http://" + url).hostname or ""
        except ValueError:
            continue
        labels = host.lower().split(".")
        for label in labels[:-1] if len(labels) > 1 else labels:
            if len(label) >= 3 and label.isalnum() and not label.isdigit() and label not in _GENERIC_LABELS:
                found[label] = None
    return list(found)


def name_words(text: str) -> frozenset[str]:
    """The words of ``text`` typed as names (folded): never typos, and looked up as aliases."""
    return frozenset(match.group().lower() for match in _NAME.finditer(text or ""))


def name_parts(word: str) -> list[str]:
    """The pieces of a joined name, lower case: ``GraphSCI`` -> graph, sci; ``ConvAI2`` ->
    conv, ai, 2. A word with no inner capital or digit has no pieces."""
    if not re.search(r"[a-z][A-Z]|[A-Z]{2}[a-z]|[A-Za-z]\d|\d[A-Za-z]", word):
        return []
    pieces = [piece.lower() for piece in _CAMEL.findall(word)]
    return pieces if len(pieces) > 1 else []


def hyphen_acronym(word: str) -> str | None:
    """``K-SAN`` / ``DS-QA`` as one acronym (ksan, dsqa): short capitalised parts."""
    parts = word.split("-")
    if len(parts) < 2 or not all(parts) or len("".join(parts)) > MAX_ACRONYM + 2:
        return None
    if all(part[0].isupper() and part.isalnum() and (part.isupper() or len(part) == 1) for part in parts):
        return "".join(parts).lower()
    return None


def entry_aliases(titles: Sequence[str], urls: Iterable[str]) -> list[str]:
    """An entry's aliases: its titles' acronyms, joined-name pieces, hyphen acronyms and
    site names, unique, at most ``MAX_ALIASES``."""
    found: dict[str, None] = {}
    for title in titles:
        for word in _WORD.findall(title)[:MAX_TITLE_WORDS]:
            joined = hyphen_acronym(word)
            if joined:
                found[joined] = None
            for piece in name_parts(word):
                found[piece] = None
    for word in host_words(urls):
        found[word] = None
    for title in titles:
        for acronym in acronyms(title):
            found[acronym] = None
    return list(_capped(found))


def _capped(found: Iterable[str]) -> Iterator[str]:
    for number, alias in enumerate(found):
        if number >= MAX_ALIASES:
            return
        yield alias
