"""Lexical and dense rankings as one: each side counts for what it is good at.

Keywords are precise when they match: an entry holding every rare word of the query is
almost surely the one meant, and a sentence model only blurs that. When the best
lexical match holds few of the query's informative words (a paraphrase, a long chatty
question), the keywords are guessing and the dense side should lead. So the weight of
the lexical side follows its *match quality* — the IDF-weighted share of the query's
concepts its best entry matches — and the dense side counts only as far as its best
similarity clears a floor (an English model reading Chinese, or a query about nothing
in the lists, gives flat, low similarities that must not reorder good keyword hits).

Both sides are scaled to [0, 1] against their own best candidate before mixing, so the
weights mean the same thing for a 2-word and a 20-word query. Pure functions of arrays.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

__all__ = ["dense_weight", "fuse", "lexical_weight", "similar_ranking", "strip_filters"]

DENSE_CANDIDATES = 60
DENSE_FLOOR = 0.25
"""Below this best cosine similarity the dense side knows nothing useful (MiniLM)."""
DENSE_FULL = 0.6
"""At or above this best similarity the dense side gets its full weight."""
LEXICAL_MIN, LEXICAL_MAX = 0.2, 0.85
DENSE_ONLY_MIN = 0.3
"""A dense-only candidate needs at least this similarity to be listed at all."""
DENSE_ONLY_POWER = 2.0
"""Dense-only candidates count (1 - quality) ** this: a precise keyword match leaves
little room for entries that hold none of the query's words."""

SKIP_QUALITY = 0.95
"""From this lexical match quality on, the query is not embedded at all: on both
relevance sets and our own, skipping from 0.9 changed no hit and halved hybrid time."""

_FILTER = re.compile(r'(?<![^\s(])(?:topic|year|source|tag)\s*:\s*(?:"[^"]*"|\S+)', re.I)


def strip_filters(text: str) -> str:
    """The words of a query without its filters: what the sentence model should read."""
    return " ".join(_FILTER.sub(" ", text).replace('"', " ").split())


def lexical_weight(quality: float) -> float:
    """How much the keyword ranking counts, from its best entry's match quality (0..1)."""
    quality = min(max(quality, 0.0), 1.0)
    return LEXICAL_MIN + (LEXICAL_MAX - LEXICAL_MIN) * quality**2


def dense_weight(best_similarity: float, lexical: float, han_share: float, multilingual: bool) -> float:
    """How much the dense ranking counts: what the keywords leave, times its confidence."""
    confidence = min(max((best_similarity - DENSE_FLOOR) / (DENSE_FULL - DENSE_FLOOR), 0.0), 1.0)
    if not multilingual:
        confidence *= 1.0 - han_share  # an English-only model cannot read Chinese
    return (1.0 - lexical) * confidence


def fuse(
    lexical: Sequence[tuple[int, float]],
    quality: float,
    similarities: np.ndarray,
    *,
    han_share: float = 0.0,
    multilingual: bool = False,
    needed: int = 5,
    unreadable: np.ndarray | None = None,
) -> list[tuple[int, float]]:
    """One ranking from the lexical window and the dense side's best candidates.

    ``similarities`` has one value per document, already -1 where filters or deletions
    rule a document out. Entries only the dense side found follow the same formula,
    with a lexical part of zero. ``unreadable`` marks documents the model cannot read
    (Chinese ones for an English-only model): their similarity means nothing, so the
    dense side is taken to agree with the keywords on them, and finds none of them alone.
    """
    count = max(DENSE_CANDIDATES, needed)
    dense_docs = _top(similarities, count)
    best = float(similarities[dense_docs[0]]) if len(dense_docs) else -1.0
    alpha = lexical_weight(quality) if lexical else 0.0
    beta = dense_weight(best, alpha if lexical else 0.0, han_share, multilingual)
    if beta <= 0.0 or not len(dense_docs):
        return list(lexical)
    floor = float(similarities[dense_docs[-1]]) if len(dense_docs) >= count else DENSE_FLOOR
    floor = min(floor, best - 1e-6)
    top_lexical = lexical[0][1] if lexical else 1.0
    scores: dict[int, float] = {}
    for doc, score in lexical:
        scores[doc] = alpha * (score / top_lexical if top_lexical > 0 else 0.0)
    blind = unreadable if unreadable is not None and not multilingual else None
    for doc in dense_docs:
        similarity = float(similarities[doc])
        if int(doc) not in scores and (similarity < DENSE_ONLY_MIN or (blind is not None and blind[doc])):
            continue
        scores[int(doc)] = scores.get(int(doc), 0.0)
    lexical_docs = {doc for doc, _ in lexical}
    outsider = (1.0 - min(max(quality, 0.0), 1.0)) ** DENSE_ONLY_POWER if lexical else 1.0
    for doc in scores:
        if blind is not None and blind[doc]:
            scores[doc] += beta * (scores[doc] / alpha if alpha > 0 else 0.0)
            continue
        similarity = float(similarities[doc])
        if similarity > floor:
            share = 1.0 if doc in lexical_docs else outsider
            scores[doc] += beta * share * (similarity - floor) / (best - floor)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def similar_ranking(
    similarities: np.ndarray | None,
    lexical: Sequence[tuple[int, float]],
    same_section: np.ndarray,
    limit: int,
) -> list[tuple[int, float]]:
    """Neighbours of one entry: its vector's nearest, its words' more-like-this, and
    its own section first among equals (same list, same topic).

    ``same_section`` scores each document 0..1 by how much of the entry's section path
    it shares; ``similarities`` is -1 for the entry itself and for ruled-out documents.
    """
    scores: dict[int, float] = {}
    top_lexical = lexical[0][1] if lexical else 1.0
    for doc, score in lexical:
        scores[doc] = 0.3 * score / top_lexical
    if similarities is not None:
        for doc in _top(similarities, max(50, limit)):
            scores.setdefault(int(doc), 0.0)
        for doc in scores:
            scores[doc] += max(float(similarities[doc]), 0.0)
    for doc in scores:
        scores[doc] += 0.25 * float(same_section[doc])
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    return ranked[:limit]


def _top(values: np.ndarray, count: int) -> np.ndarray:
    """Indexes of the ``count`` largest values, largest first (ties: lower index)."""
    if not len(values):
        return np.zeros(0, dtype=np.int64)
    count = min(count, len(values))
    part = np.argpartition(-values, count - 1)[:count]
    order = np.lexsort((part, -values[part]))
    chosen = part[order]
    return chosen[values[chosen] > -1.0]
