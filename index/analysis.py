"""Text analysis for mixed English/Chinese awesome lists.

Awesome lists mix English titles with Chinese headings ("2.3 单细胞 Single-Cell"), so one
analyzer serves both: Han runs are segmented with rjieba (search mode, so 基因组 is found
inside 表观基因组学) after conversion to Simplified Chinese (``chinese.to_simplified``,
so 單細胞 and 单细胞 are one word), everything else goes through a Whoosh-style word
regex; text is accent-folded and lower-cased, stop words dropped, English stemmed. Positions are
sequential over the main words so phrase queries work; search-mode sub-words share the
position of the word they come from.

The analyzer classes are pickled into the index by Whoosh: they must stay in this module
under these names. Bump ``ANALYZER_VERSION`` whenever the tokens produced change; the
index notices and rebuilds itself.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import rjieba
from whoosh.analysis import Composable, StemFilter, Token, Tokenizer
from whoosh.lang.porter2 import stem as porter2_stem

from index.chinese import to_simplified

__all__ = [
    "ANALYZER_VERSION",
    "MixedTokenizer",
    "STOP_WORDS",
    "QueryToken",
    "is_han",
    "query_tokens",
    "stem_word",
    "text_analyzer",
    "words",
]

ANALYZER_VERSION = 2  # 2: Traditional Chinese converted to Simplified

_HAN_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
_HAN_SPLIT = re.compile(f"([{_HAN_CLASS}]+)")
_HAN_ONLY = re.compile(f"^[{_HAN_CLASS}]+$")
_WORD = re.compile(r"\w+(?:\.?\w+)*")

# Words too common to tell entries apart; dropped at index and query time alike (so
# positions stay consistent and a query "of the" does not count as two matched words).
STOP_WORDS = frozenset(
    """a an and are as at be been but by for from has have in into is it its of on or
    not our than that the their these this those to via was we were which with within without
    的 了 和 与 及 或 在 是 对 中 之 等 基于 一个 一种""".split()
)


def is_han(text: str) -> bool:
    """True when ``text`` is made only of Han characters (a Chinese word)."""
    return bool(_HAN_ONLY.match(text))


# Combining marks vanish (accents); invisible format/control characters (zero-width
# spaces, RTL marks, NUL) separate words like a space would.
_FOLD = {"Mn": "", "Cf": " ", "Cc": " "}


def _fold(text: str) -> str:
    """Accents, compatibility forms (full-width letters) and invisible marks folded away."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(_FOLD.get(unicodedata.category(ch), ch) for ch in decomposed if ch != "\u00ad")
    return unicodedata.normalize("NFC", kept).casefold()


@lru_cache(maxsize=100_000)
def _segment(run: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """A Han run as (word, sub-words) pairs: default-mode words, search-mode parts inside."""
    main = rjieba.tokenize(run, mode="default")
    if all(end - start <= 2 for _, start, end in main):
        return tuple((word, ()) for word, _, _ in main)
    parts = rjieba.tokenize(run, mode="search")
    result = []
    for word, start, end in main:
        inner = tuple(
            sub for sub, s, e in parts if start <= s and e <= end and (s, e) != (start, end) and sub != word
        )
        result.append((word, tuple(dict.fromkeys(inner))))
    return tuple(result)


def words(text: str) -> Iterator[tuple[str, tuple[str, ...]]]:
    """The (word, sub-words) stream of ``text``, folded, stop words dropped, unstemmed."""
    for piece in _HAN_SPLIT.split(_fold(text)):
        if not piece:
            continue
        if _HAN_ONLY.match(piece):
            for word, subs in _segment(to_simplified(piece)):
                if word not in STOP_WORDS and not word.isspace():
                    yield word, subs
        else:
            for match in _WORD.finditer(piece):
                word = match.group()
                if word not in STOP_WORDS:
                    yield word, ()


@lru_cache(maxsize=50_000)
def _cached_words(text: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Short texts (section names, tags, link texts) repeat across entries: analyse once."""
    return tuple(words(text))


@lru_cache(maxsize=200_000)
def stem_word(word: str) -> str:
    """The Porter2 (Snowball English) stem of a word; others (Chinese, numbers) as they are."""
    if word.isascii() and word.isalpha():
        return str(porter2_stem(word))
    return word


class MixedTokenizer(Tokenizer):  # type: ignore[misc]  # Whoosh is untyped
    """Whoosh tokenizer: Han runs through rjieba, the rest through a word regex.

    Positions count main words only; search-mode sub-words (``subwords=True``) are
    emitted at their parent word's position, so ``"表观 基因组"`` still matches
    表观基因组学 as a phrase.
    """

    def __init__(self, subwords: bool = True) -> None:
        self.subwords = subwords

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MixedTokenizer) and other.subwords == self.subwords

    def __hash__(self) -> int:
        return hash((MixedTokenizer, self.subwords))

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            token.original = token.text = _fold(value)
            token.boost = 1.0
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar, token.endchar = start_char, start_char + len(value)
            yield token
            return
        pos = start_pos
        char = start_char
        for word, subs in _cached_words(value) if len(value) <= 120 else words(value):
            for text in (word, *subs) if self.subwords else (word,):
                token.text = text
                token.boost = 1.0
                token.stopped = False
                if keeporiginal:
                    token.original = text
                if positions:
                    token.pos = pos
                if chars:
                    token.startchar, token.endchar = char, char + len(word)
                yield token
            pos += 1
            char += len(word) + 1


def text_analyzer() -> Composable:
    """The analyzer of every full-text field: mixed tokenizer, then English stemming."""
    return MixedTokenizer() | StemFilter(stemfn=stem_word, cachesize=None)


@dataclass(frozen=True, slots=True)
class QueryToken:
    """One word of a query: what the user typed (folded), its stem, and Chinese sub-words."""

    word: str
    term: str
    subterms: tuple[str, ...] = ()

    @property
    def han(self) -> bool:
        return is_han(self.word)


@lru_cache(maxsize=4096)
def query_tokens(text: str) -> tuple[QueryToken, ...]:
    """The analyzed words of a piece of query text, analysed exactly as the index does."""
    return tuple(QueryToken(word, stem_word(word), subs) for word, subs in words(text))
