"""Query-time synonyms: abbreviations and variants of the field (data/synonyms.yaml).

A lab member types "EMR NER" and means "electronic medical records" and "named entity
recognition", or 电子病历 and 命名实体识别. Synonyms are applied to the query only (the
index stays as written), so editing the YAML needs no rebuild. The map is compiled once:
each variant is analysed like the index analyses text and keyed by its stemmed words;
Chinese words are keyed by their characters, so a query segmented as 数据 + 集 still
finds the variant 数据集.

Beside the groups, ``broader`` relations say what a narrow term is a kind of
(chromothripsis is a structural variation; a d-vector is a voiceprint). A lab member
who types the narrow jargon of a paper the list describes in general words still finds
it: the broader terms are searched too, at a lower weight than a true synonym, so an
entry that names the narrow term itself always comes first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from index.analysis import QueryToken, is_han, query_tokens, stem_word

__all__ = ["SynonymMap", "SynonymsError", "Variant", "default_synonyms_path", "load_synonyms", "token_key"]


class SynonymsError(ValueError):
    """The synonyms file cannot be used: which file, which line (1-based, 0 if unknown), what is wrong."""

    def __init__(self, path: str, line: int, problem: str) -> None:
        super().__init__(f"{path}:{line}: {problem}" if line else f"{path}: {problem}")
        self.path, self.line, self.problem = path, line, problem


@dataclass(frozen=True, slots=True)
class Variant:
    """One way of writing a concept, as the stemmed terms the index holds."""

    text: str
    terms: tuple[str, ...]


def token_key(terms: Sequence[str]) -> str:
    """The match key of a word sequence: Chinese words joined without space."""
    key = ""
    previous_han = False
    for term in terms:
        han = is_han(term)
        if key and not (han and previous_han):
            key += " "
        key += term
        previous_han = han
    return key


Broader = tuple[Sequence[str], Sequence[str]]
"""(narrow terms, broader terms): each narrow term is a kind of every broader one."""


class SynonymMap:
    """Groups of equivalent variants, matched longest-first on analysed query words."""

    def __init__(self, groups: Sequence[Sequence[str]], broader: Sequence[Broader] = ()) -> None:
        self._groups: list[tuple[Variant, ...]] = []
        self._by_key: dict[str, list[int]] = {}
        self._broader: dict[str, dict[tuple[str, ...], Variant]] = {}
        self.max_words = 1
        for raw_group in groups:
            variants = _compile_group(raw_group)
            if len(variants) < 2:
                continue
            index = len(self._groups)
            self._groups.append(variants)
            for variant in variants:
                key = token_key(variant.terms)
                slots = self._by_key.setdefault(key, [])
                if index not in slots:
                    slots.append(index)
                self.max_words = max(self.max_words, len(key.split(" ")), len(variant.terms))
        for narrow, wide in broader:
            wide_variants = [v for raw in wide for v in _compile_group([raw])]
            for variant in _compile_group(narrow):
                key = token_key(variant.terms)
                found = self._broader.setdefault(key, {})
                for general in wide_variants:
                    for same in (general, *self.variants_for(token_key(general.terms))):
                        found.setdefault(same.terms, same)
                self.max_words = max(self.max_words, len(key.split(" ")), len(variant.terms))

    def __len__(self) -> int:
        return len(self._groups)

    def variants_for(self, key: str) -> tuple[Variant, ...]:
        """Every variant of every group ``key`` belongs to (empty when none)."""
        seen: dict[tuple[str, ...], Variant] = {}
        for index in self._by_key.get(key, ()):
            for variant in self._groups[index]:
                seen.setdefault(variant.terms, variant)
        return tuple(seen.values())

    def broader_for(self, key: str) -> tuple[Variant, ...]:
        """What ``key`` or any of its synonyms is a kind of, with the broader terms' own
        synonyms (empty when nothing is recorded)."""
        seen: dict[tuple[str, ...], Variant] = {}
        for same in (key, *(token_key(v.terms) for v in self.variants_for(key))):
            for terms, variant in self._broader.get(same, {}).items():
                seen.setdefault(terms, variant)
        return tuple(seen.values())

    def knows(self, text: str) -> bool:
        """Whether ``text`` as a whole is a variant of some group (``MIMIC-III``, ``Hi-C``)."""
        key = token_key([token.term for token in query_tokens(text)])
        return key in self._by_key or key in self._broader

    def match(self, tokens: Sequence[QueryToken], start: int) -> tuple[int, tuple[Variant, ...]]:
        """The longest synonym starting at ``tokens[start]``: (words used, variants).

        Returns ``(0, ())`` when no group starts there. Chinese words may be split
        differently in the query than in the YAML, so up to four times ``max_words``
        tokens are tried.
        """
        limit = min(len(tokens), start + self.max_words * 4)
        for end in range(limit, start, -1):
            key = token_key([token.term for token in tokens[start:end]])
            if key in self._by_key or key in self._broader:
                return end - start, self.variants_for(key)
        return 0, ()


def _compile_group(raw_group: Sequence[str]) -> tuple[Variant, ...]:
    variants: dict[tuple[str, ...], Variant] = {}
    for raw in raw_group:
        text = str(raw).strip()
        terms = tuple(token.term for token in query_tokens(text))
        if not terms:
            continue
        variants.setdefault(terms, Variant(text, terms))
        # Abbreviations take a plural the stemmer does not undo ("GNNs", "CNNs").
        if len(terms) == 1 and terms[0].isascii() and terms[0].isalnum() and len(terms[0]) <= 6:
            plural = terms[0] + "s"
            if stem_word(plural) != terms[0]:
                variants.setdefault((plural,), Variant(text + "s", (plural,)))
    return tuple(variants.values())


def default_synonyms_path() -> Path:
    """The bundled synonyms file (data/synonyms.yaml in the repository)."""
    return Path(__file__).resolve().parents[1] / "data" / "synonyms.yaml"


@lru_cache(maxsize=8)
def _load_cached(path: str, mtime_ns: int) -> SynonymMap:
    try:
        with open(path, encoding="utf-8") as handle:
            # the C loader when PyYAML has it: it halves what the synonyms cost a cold start
            data = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise SynonymsError(path, mark.line + 1 if mark else 0, str(exc.problem or exc.context or "not valid YAML")) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SynonymsError(path, 0, str(exc)) from None
    groups = data.get("groups", []) if isinstance(data, dict) else data
    if not isinstance(groups, list):
        raise SynonymsError(path, 0, "'groups' must be a list of lists of variants")
    relations = data.get("broader", []) if isinstance(data, dict) else []
    if not isinstance(relations, list):
        raise SynonymsError(path, 0, "'broader' must be a list of {terms: [...], broader: [...]}")
    broader: list[Broader] = []
    for relation in relations:
        narrow = relation.get("terms") if isinstance(relation, dict) else None
        wide = relation.get("broader") if isinstance(relation, dict) else None
        if not isinstance(narrow, list) or not isinstance(wide, list):
            raise SynonymsError(path, 0, f"a 'broader' item needs a 'terms' list and a 'broader' list, not {relation!r}")
        broader.append(([str(t) for t in narrow], [str(t) for t in wide]))
    return SynonymMap([group for group in groups if isinstance(group, list)], broader)


def load_synonyms(path: Path | None = None) -> SynonymMap:
    """The synonym map of ``path`` (default: the bundled file), compiled once per version."""
    target = path or default_synonyms_path()
    if not target.exists():
        return SynonymMap([])
    return _load_cached(str(target), target.stat().st_mtime_ns)
