"""Settings of the paper features: metadata enrichment (``enrich:``) and link checking (``linkcheck:``).

Kept out of ``config.py`` so that module stays about lists and chats. ``enrich: false``
(or ``linkcheck: false``) turns a feature off; a mapping tunes it. Every service's base
URL is configurable so tests point them at loopback fakes; the delays are the seconds
between two requests to one service, chosen from each service's published limits.
"""

from __future__ import annotations

from typing import Any

from bot.core.settings import ConfigError, EnrichSettings, LinkcheckSettings, convert_section

__all__ = ["EnrichSettings", "LinkcheckSettings", "parse_enrich", "parse_linkcheck"]


def _parse(schema: Any, value: Any, label: str, key: str) -> Any:
    """``key: false`` turns the feature off, ``true`` or nothing keeps the defaults, a mapping tunes it."""
    if value is None or value is True:
        return schema()
    if value is False:
        return schema(enabled=False)
    if not isinstance(value, dict):
        raise ConfigError(f"{label}: '{key}' must be true, false or a mapping")
    return convert_section(value, schema, f"{label}: {key}")


def parse_enrich(value: Any, label: str) -> EnrichSettings:
    return _parse(EnrichSettings, value, label, "enrich")  # type: ignore[no-any-return]


def parse_linkcheck(value: Any, label: str) -> LinkcheckSettings:
    return _parse(LinkcheckSettings, value, label, "linkcheck")  # type: ignore[no-any-return]
