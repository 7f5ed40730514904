"""Settings of the paper features: metadata enrichment (``enrich:``) and link checking (``linkcheck:``).

Kept out of ``config.py`` so that module stays about lists and chats. ``enrich: false``
(or ``linkcheck: false``) turns a feature off; a mapping tunes it. Every service's base
URL is configurable so tests point them at loopback fakes; the delays are the seconds
between two requests to one service, chosen from each service's published limits.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

__all__ = ["EnrichSettings", "LinkcheckSettings", "parse_enrich", "parse_linkcheck"]


class _Error(Exception):
    pass


@dataclass(frozen=True, slots=True)
class EnrichSettings:
    enabled: bool = True
    contact: str = ""  # an e-mail for User-Agent and Crossref's polite pool (mailto=)
    arxiv_url: str = "https://export.arxiv.org/api/query"
    crossref_url: str = "https://api.crossref.org"
    ncbi_url: str = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
    github_url: str = "https://api.github.com"
    arxiv_delay: float = 3.0  # arXiv API terms: one request every three seconds
    crossref_delay: float = 1.0  # well inside the polite pool's limits
    ncbi_delay: float = 0.34  # E-utilities: three requests a second without an API key
    github_delay: float = 60.0  # 60 requests an hour unauthenticated (GITHUB_TOKEN: 1 s)
    refresh_days: float = 30.0
    interval: float = 600.0  # seconds between background rounds
    per_round: int = 50  # identifiers looked up per round at most
    timeout: float = 20.0
    max_wait: float = 3600.0  # the longest Retry-After honoured before skipping the round
    provenance: bool = True  # GitHub commits/PRs that added entries


@dataclass(frozen=True, slots=True)
class LinkcheckSettings:
    enabled: bool = True
    per_host_per_minute: int = 6
    timeout: float = 15.0
    recheck_days: float = 7.0
    interval: float = 3600.0
    per_round: int = 200
    weekly_summary: bool = True  # a summary of dead links to watch.operator_chats once a week


def _parse(cls: Any, value: Any, label: str, key: str) -> Any:
    defaults = cls()
    if value is None or value is True:
        return defaults
    if value is False:
        return replace(defaults, enabled=False)
    if not isinstance(value, dict):
        raise ValueError(f"{label}: '{key}' must be true, false or a mapping")
    known = {f.name: getattr(defaults, f.name) for f in fields(cls)}
    updates: dict[str, Any] = {}
    for name, raw in value.items():
        if name not in known:
            raise ValueError(f"{label}: unknown key '{key}.{name}'")
        default = known[name]
        if raw is None:
            continue
        if isinstance(default, bool):
            if not isinstance(raw, bool):
                raise ValueError(f"{label}: {key}.{name}: expected true or false")
        elif isinstance(default, (int, float)):
            if isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw < 0:
                raise ValueError(f"{label}: {key}.{name}: expected a non-negative number")
            raw = type(default)(raw)
        elif not isinstance(raw, str):
            raise ValueError(f"{label}: {key}.{name}: expected a string")
        updates[name] = raw
    return replace(defaults, **updates)


def parse_enrich(value: Any, label: str) -> EnrichSettings:
    settings: EnrichSettings = _parse(EnrichSettings, value, label, "enrich")
    return settings


def parse_linkcheck(value: Any, label: str) -> LinkcheckSettings:
    settings: LinkcheckSettings = _parse(LinkcheckSettings, value, label, "linkcheck")
    return settings
