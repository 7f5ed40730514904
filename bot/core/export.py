"""Entries as citation files: BibTeX (bibtexparser v2), RIS (rispy) and CSV (stdlib). Pure.

Built from the enriched metadata when the enricher has some (authors, venue, abstract)
and from the list entry otherwise; the title is always the list's. Keys are stable: the
first author's surname (else the first title word), the year and the entry id's first
six characters, so exporting the same entry twice gives the same key.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Sequence

import rispy
from bibtexparser import model
from bibtexparser.entrypoint import write_string
from bibtexparser.library import Library

from bot.core.paper_info import PaperInfo

__all__ = ["FORMATS", "bibtex_key", "export", "to_bibtex", "to_csv", "to_ris"]

FORMATS: dict[str, tuple[str, str]] = {
    "bibtex": ("bib", "application/x-bibtex"),
    "ris": ("ris", "application/x-research-info-systems"),
    "csv": ("csv", "text/csv"),
}
CSV_COLUMNS = ("id", "title", "authors", "year", "venue", "doi", "arxiv", "pmid", "url", "code", "section", "lists", "abstract")


def _ascii_word(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = re.findall(r"[A-Za-z0-9]+", folded)
    return words[0].lower() if words else ""


def _surname(author: str) -> str:
    name = author.split(",", 1)[0] if "," in author else (author.split()[-1] if author.split() else "")
    return _ascii_word(name)


def bibtex_key(info: PaperInfo) -> str:
    """``eraslan2019_3f9a2c``: surname or title word, year, and the entry id's start."""
    stem = (_surname(info.authors[0]) if info.authors else "") or _ascii_word(info.title) or "entry"
    return f"{stem[:20]}{info.year or ''}_{info.entry.id[:6]}"


def _braces_safe(text: str) -> str:
    """BibTeX values are brace-delimited: a stray brace in list text must not end the value."""
    return " ".join(text.replace("{", "(").replace("}", ")").split())


def _bib_entry(info: PaperInfo) -> model.Entry:
    doi, arxiv, pmid = info.identifier("doi"), info.identifier("arxiv"), info.identifier("pubmed")
    fields: list[tuple[str, str]] = [("title", info.title)]
    if info.authors:
        fields.append(("author", " and ".join(info.authors)))
    if info.year:
        fields.append(("year", str(info.year)))
    kind = "misc"
    if info.venue and not (arxiv and info.venue.lower().startswith("arxiv")):
        fields.append(("journal", info.venue))
        kind = "article"
    if doi:
        fields.append(("doi", doi))
    if arxiv:
        fields.extend([("eprint", arxiv), ("archiveprefix", "arXiv")])
    if pmid:
        fields.append(("pmid", pmid))
    if info.entry.url:
        fields.append(("url", info.entry.url))
    if info.abstract:
        fields.append(("abstract", info.abstract))
    code = info.entry.code_url
    if code:
        fields.append(("note", f"Code: {code}"))
    if info.entry.section:
        fields.append(("keywords", ", ".join(info.entry.section)))
    return model.Entry(kind, bibtex_key(info), [model.Field(name, _braces_safe(value)) for name, value in fields if value])


def to_bibtex(infos: Sequence[PaperInfo]) -> str:
    library = Library()
    seen: set[str] = set()
    for info in infos:
        if info.entry.id in seen:  # the same entry twice (two lists): one record
            continue
        seen.add(info.entry.id)
        library.add(_bib_entry(info))
    return str(write_string(library))


def to_ris(infos: Sequence[PaperInfo]) -> str:
    records = []
    for info in infos:
        record: dict[str, object] = {"type_of_reference": "JOUR" if info.venue else "GEN", "title": info.title}
        if info.authors:
            record["authors"] = list(info.authors)
        if info.year:
            record["year"] = str(info.year)
        if info.venue:
            record["journal_name"] = info.venue
        doi = info.identifier("doi")
        if doi:
            record["doi"] = doi
        urls = [url for url in (info.entry.url, info.entry.code_url) if url]
        if urls:
            record["urls"] = urls
        if info.abstract:
            record["abstract"] = info.abstract
        if info.entry.section:
            record["keywords"] = list(info.entry.section)
        record["id"] = info.entry.id
        records.append(record)
    return str(rispy.dumps(records))


def to_csv(infos: Sequence[PaperInfo]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for info in infos:
        writer.writerow([
            info.entry.id, info.title, "; ".join(info.authors), info.year or "", info.venue,
            info.identifier("doi") or "", info.identifier("arxiv") or "", info.identifier("pubmed") or "",
            info.entry.url or "", info.entry.code_url or "", " › ".join(info.entry.section),
            ", ".join(info.sources or (info.entry.source,)), info.abstract,
        ])
    return out.getvalue()


def export(infos: Sequence[PaperInfo], fmt: str) -> bytes:
    """The file's bytes in ``fmt`` (bibtex, ris or csv), UTF-8."""
    builders = {"bibtex": to_bibtex, "ris": to_ris, "csv": to_csv}
    return builders[fmt](infos).encode("utf-8")
