"""What kind of resource an entry is, so "code for X" prefers X with a code link.

``question`` notes the kinds a query asks for (code, data, course, list, website);
this module tells the kinds of an entry from its links, tags, title and section, and
raises the entries of a wanted kind within the best-ranked window. A preference, never a
filter: an entry without a code link is still found, just below one that has it.
Pure functions; ``KindCache`` only remembers answers per open searcher.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from index.model import Entry

__all__ = ["INTENT_BOOST", "INTENT_WINDOW", "KindCache", "entry_kinds", "prefer"]

INTENT_BOOST = 0.35
INTENT_WINDOW = 60

_CODE_HOSTS = ("github.com", "gitlab.com", "bitbucket.org", "huggingface.co", "sourceforge.net", "pypi.org",
               "bioconductor.org", "cran.r-project.org", "paperswithcode.com")
_DATA_HOSTS = ("kaggle.com", "zenodo.org", "figshare.com", "physionet.org", "grand-challenge.org", "biendata.com",
               "tianchi.aliyun.com", "synapse.org", "dataverse")
_COURSE_HOSTS = ("youtube.com", "youtu.be", "coursera.org", "edx.org", "bilibili.com", "videolectures.net", "udacity.com")

_WORDS: dict[str, re.Pattern[str]] = {
    "code": re.compile(r"\b(code|github|gitlab|pytorch|tensorflow|keras|implementation|repo|source)\b|代码|源码", re.I),
    "data": re.compile(r"\b(datasets?|data ?sets?|databases?|corpus|corpora|benchmarks?|challenges?|competitions?)\b"
                       r"|数据集|数据库|语料|比赛|竞赛", re.I),
    "course": re.compile(r"\b(courses?|lectures?|tutorials?|class(es)?|slides?|videos?|school|workshops?)\b"
                         r"|课程|讲座|教程|幻灯片|视频|报告", re.I),
    "list": re.compile(r"\b(awesome|lists?|collections?|papers|resources|reading)\b|合集|列表|汇总|文集", re.I),
}


def entry_kinds(entries: Sequence[Entry]) -> frozenset[str]:
    """The kinds of resource the occurrences of one entry are (possibly none)."""
    kinds: set[str] = set()
    for entry in entries:
        hosts = [_host(link.url) for link in entry.links] + [_host(entry.url or "")]
        if any(host.endswith(h) for host in hosts for h in _CODE_HOSTS):
            kinds.add("code")
        if any(h in host for host in hosts for h in _DATA_HOSTS):
            kinds.add("data")
        if any(host.endswith(h) for host in hosts for h in _COURSE_HOSTS):
            kinds.add("course")
        labels = " ".join([*entry.tags, *(link.text for link in entry.links)])
        words = " ".join([entry.title, *entry.section, labels])
        for kind, pattern in _WORDS.items():
            if pattern.search(labels if kind == "code" else words):
                kinds.add(kind)
        if _home_page(entry.url or ""):
            kinds.add("website")
    return frozenset(kinds)


def prefer(
    ranked: Sequence[tuple[int, float]], wanted: frozenset[str], kinds_of: Callable[[int], frozenset[str]]
) -> list[tuple[int, float]]:
    """``ranked`` with the window's entries of a wanted kind raised by ``INTENT_BOOST``."""
    if not wanted:
        return list(ranked)
    window = [
        (docnum, score * (1 + INTENT_BOOST) if kinds_of(docnum) & wanted else score)
        for docnum, score in ranked[:INTENT_WINDOW]
    ]
    window.sort(key=lambda item: (-item[1], item[0]))
    return window + list(ranked[INTENT_WINDOW:])


class KindCache:
    """Kinds per document of one open searcher; ``load`` gives a document's occurrences."""

    def __init__(self, load: Callable[[int], Sequence[Entry]]) -> None:
        self._load = load
        self._kinds: dict[int, frozenset[str]] = {}

    def __call__(self, docnum: int) -> frozenset[str]:
        found = self._kinds.get(docnum)
        if found is None:
            found = self._kinds[docnum] = entry_kinds(self._load(docnum))
        return found


def _host(url: str) -> str:
    try:
        return urlsplit(url).netloc.lower()
    except ValueError:
        return ""


def _home_page(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return bool(parts.netloc) and parts.path.strip("/") in ("", "index.html", "en", "home") and not parts.query
