"""Find the entries that carry a pasted identifier (the lookup half of ``index.identifiers``).

The index stores each entry under the id derived from its primary link and its other
links as normalised keys in the ``urls`` field, so an identifier is found by trying each
of its equivalent keys both ways; a GitHub repository also matches links deeper into it
(``.../tree/master/lesion_detector``). Called by ``SearchIndex.search`` under its lock.
"""

from __future__ import annotations

from whoosh import query as wq
from whoosh.searching import Searcher

from index import search_store as store
from index.identifiers import parse_identifier
from index.model import entry_id

__all__ = ["identifier_docnums"]

MAX_MATCHES = 20


def identifier_docnums(searcher: Searcher, text: str) -> list[int]:
    """Documents holding the identifier ``text`` is, best first; [] when it is none or unknown."""
    identifier = parse_identifier(text)
    if identifier is None:
        return []
    found: list[int] = []
    for key in identifier.keys:
        for docnum in (searcher.document_number(id=entry_id(key)), searcher.document_number(urls=store.keyword(key))):
            if docnum is not None and docnum not in found:
                found.append(docnum)
    if identifier.kind == "github":
        deeper = wq.Prefix("urls", store.keyword(identifier.key + "/"))
        for docnum in sorted(searcher.docs_for_query(deeper))[:MAX_MATCHES]:
            if docnum not in found:
                found.append(docnum)
    return found[:MAX_MATCHES]
