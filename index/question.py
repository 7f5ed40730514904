"""What a chat question asks for, once the chat around it is taken away.

In a group chat people do not type keywords: they write "hey all, does anyone know a
python library that gives per-feature contributions for each prediction?". Searched as
is, "hey", "anyone" and "know" count as much as "per-feature contributions", and the
entries that happen to say "know" win. This module is a pure reader of such text:

- *chat words* (greetings, pronouns, "does anyone know", "is there a good", "I need")
  are dropped, but only from text that reads like a message (a question mark, a
  greeting, or a question opening), so a plain keyword query is never trimmed;
- *intent words* (code, dataset, download, course, list, website, ...) say what kind of
  resource is wanted. They are kept as soft preferences: an entry with a code link or a
  dataset tag ranks higher, but an entry without one is still found.

It knows nothing of the index; ``search_query`` calls it on the plain words of a query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["INTENT_KINDS", "Question", "intent_of", "is_conversational", "read_question"]

# Each intent word and the kind of entry it prefers (see ``search_intents``).
_INTENT_WORDS: dict[str, str] = {
    **dict.fromkeys(
        """code codes implementation implementations implemented implement pytorch tensorflow keras
        jax repo repos repository repositories github gitlab notebook notebooks library libraries
        package packages toolkit pretrained weights checkpoint checkpoints 代码 源码 开源 实现""".split(),
        "code",
    ),
    **dict.fromkeys(
        """dataset datasets database databases download downloads corpus corpora 数据集 数据库 语料 语料库 下载""".split(),
        "data",
    ),
    **dict.fromkeys(
        """course courses lecture lectures tutorial tutorials slides video videos class classes
        课程 讲座 教程 幻灯片 视频""".split(),
        "course",
    ),
    **dict.fromkeys("""list lists roundup collection collections curated 列表 合集 汇总""".split(), "list"),
    **dict.fromkeys("""website websites homepage site 网站 主页 官网""".split(), "website"),
}
INTENT_KINDS = frozenset(_INTENT_WORDS.values())

# Words that carry the chat, not the subject. Dropped only from conversational text.
_CHAT_WORDS = frozenset(
    """hey hi hello hiya folks guys all everyone everybody anyone anybody someone somebody
    does do did doing done know knows knew has have had got get getting gotten is are was were
    be been am there any some good nice great best decent useful i i'm im i've ive i'd me my
    mine we we're were we've our ours us you your yours they their he she it it's its that this
    those these one ones something anything thing things need needs needed want wants wanted
    wanting looking look find finding found where what which who whom whose how why when can
    could would should will shall might may like please pls thanks thank thx cheers help
    recommend recommendation recommendations suggest suggestion suggestions point pointer
    pointers tell share sharing link links ever seen heard remember wondering wonder idea
    random quick question q so just also maybe perhaps actually really kind sort about
    here if whether or else then yet still again too very much many lot lots bit around""".split()
)

_GREETING = re.compile(r"^\s*(hey|hi|hello|hiya|dear|morning|folks|guys|all)\b", re.I)
_OPENING = re.compile(
    r"^\s*(does|do|did|has|have|is|are|was|were|can|could|would|anyone|anybody|someone|somebody|"
    r"where|what|which|who|how|why|i need|i want|i'm looking|im looking|looking for|i am looking|"
    r"my supervisor|any idea|any ideas|wasn't|isn't|doesn't|hasn't)\b",
    re.I,
)
# Apostrophes inside a word stay with it ("Theis's"); the word reader drops them later.
_WORDS = re.compile(r"[^\s]+")


@dataclass(frozen=True, slots=True)
class Question:
    """The subject words of a message and the kinds of resource it asks for."""

    text: str
    intents: frozenset[str]
    conversational: bool


def intent_of(word: str) -> str | None:
    """The kind of entry a typed word prefers ("code" for "pytorch"), or None."""
    return _INTENT_WORDS.get(word.lower())


def is_conversational(text: str) -> bool:
    """True when ``text`` reads like a chat message rather than a list of keywords."""
    return "?" in text or bool(_GREETING.match(text)) or bool(_OPENING.match(text))


def read_question(text: str) -> Question:
    """The subject of ``text``: chat words dropped from a message, intents noted.

    Intent words stay in the text (they may also be title words: "a corpus of news
    summaries"); the caller makes them optional. A message that would be left with
    nothing keeps its words: better a weak search than none.
    """
    conversational = is_conversational(text)
    kept: list[str] = []
    intents: set[str] = set()
    for raw in _WORDS.findall(text):
        bare = raw.strip(".,;:!?()[]{}\"'`“”‘’-–—~").lower()
        kind = _INTENT_WORDS.get(bare)
        if kind:
            intents.add(kind)
        if conversational and (bare in _CHAT_WORDS or _chat_contraction(bare)):
            continue
        kept.append(raw)
    subject = " ".join(kept) if any(_has_letters(word) for word in kept) else text
    return Question(subject, frozenset(intents), conversational)


def _chat_contraction(word: str) -> bool:
    """ "wasn't", "they've", "we'd": the contractions of chat words are chat too."""
    for suffix in ("n't", "'ve", "'d", "'ll", "'re", "'m", "’t", "’ve", "’re"):
        if word.endswith(suffix):
            return True
    return False


def _has_letters(word: str) -> bool:
    return any(ch.isalnum() for ch in word)
