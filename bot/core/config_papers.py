"""Settings of the paper features: metadata enrichment (``enrich:``) and link checking (``linkcheck:``).

Kept out of ``config.py`` so that module stays about lists and chats. ``enrich: false``
(or ``linkcheck: false``) turns a feature off; a mapping tunes it. Every service's base
URL is configurable so tests point them at loopback fakes; the delays are the seconds
between two requests to one service, chosen from each service's published limits.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core.settings import ConfigError, EnrichSettings, LinkcheckSettings, convert_section, env_overrides

__all__ = ["EnrichSettings", "LinkcheckSettings", "parse_enrich", "parse_linkcheck"]


def _parse(schema: Any, value: Any, label: str, key: str, env: Mapping[str, str]) -> Any:
    """``key: false`` turns the feature off, ``true`` or nothing keeps the defaults, a mapping
    tunes it; ``MEDBOT_<KEY>_<FIELD>`` (e.g. ``MEDBOT_ENRICH_ENABLED=false``) overrides."""
    if value is None or value is True:
        value = {}
    elif value is False:
        value = {"enabled": False}
    elif not isinstance(value, dict):
        raise ConfigError(f"{label}: '{key}' must be true, false or a mapping")
    return convert_section({**value, **env_overrides(env, key, schema)}, schema, f"{label}: {key}")


def parse_enrich(value: Any, label: str, env: Mapping[str, str] = {}) -> EnrichSettings:  # noqa: B006 (never mutated)
    return _parse(EnrichSettings, value, label, "enrich", env)  # type: ignore[no-any-return]


def parse_linkcheck(value: Any, label: str, env: Mapping[str, str] = {}) -> LinkcheckSettings:  # noqa: B006 (never mutated)
    return _parse(LinkcheckSettings, value, label, "linkcheck", env)  # type: ignore[no-any-return]
