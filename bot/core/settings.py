"""What medbot is configured with, as typed values (the loader is ``bot/core/config.py``).

Sections with plain keys are msgspec ``Struct`` types: msgspec checks types, bounds and
unknown keys, so nothing here coerces by hand. A platform's own section (``telegram:``,
``discord:`` or anything an adapter registers) is kept as written and read by that
adapter through ``Settings.platform(name, schema)``: the core holds no platform names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypeVar

import msgspec

__all__ = [
    "DATA_DIR",
    "AnnounceTarget",
    "ConfigError",
    "DEFAULT_SEARCH_MODEL",
    "SearchSettings",
    "EnrichSettings",
    "LinkcheckSettings",
    "NonNegative",
    "Settings",
    "SourceConfig",
    "StateSettings",
    "WatchSettings",
    "convert_section",
    "env_overrides",
]

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
"""The bundled data shipped with medbot: default lists, sources.yaml, synonyms."""

S = TypeVar("S")
NonNegative = Annotated[float, msgspec.Meta(ge=0)]
NonNegativeInt = Annotated[int, msgspec.Meta(ge=0)]


class ConfigError(Exception):
    """A configuration problem, phrased as one line for the operator."""


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """One awesome list: a local snapshot (``path``), an upstream ``url``, or both."""

    name: str
    path: Path | None = None
    url: str | None = None

    @property
    def kind(self) -> str:
        return "url" if self.url else "path"


class AnnounceTarget(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A chat named in the config that receives announcements without /subscribe."""

    platform: str
    chat_id: str
    filter: str = ""


class WatchSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    interval: NonNegative = 3600.0
    jitter: NonNegative = 0.1
    digest_after: NonNegativeInt = 5
    timeout: NonNegative = 20.0
    max_bytes: NonNegativeInt = 10 * 1024 * 1024
    max_added: NonNegativeInt = 50
    alert_after_failures: NonNegativeInt = 3
    operator_chats: tuple[AnnounceTarget, ...] = ()
    announce: tuple[AnnounceTarget, ...] = ()
    redirect_hosts: tuple[str, ...] = ()
    """Hosts besides a list's own that its redirects may lead to."""
    timezone: str = "UTC"
    """The time zone of scheduled digests in chats that set none (``/settings tz``)."""
    tick: NonNegative = 30.0
    """Seconds between delivery rounds (and, with several workers, between asks for the watcher role)."""


class EnrichSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    enabled: bool = True
    contact: str = ""  # an e-mail for User-Agent and Crossref's polite pool (mailto=)
    arxiv_url: str = "https://export.arxiv.org/api/query"
    crossref_url: str = "https://api.crossref.org"
    ncbi_url: str = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
    github_url: str = "https://api.github.com"
    arxiv_delay: NonNegative = 3.0  # arXiv API terms: one request every three seconds
    crossref_delay: NonNegative = 1.0  # well inside the polite pool's limits
    ncbi_delay: NonNegative = 0.34  # E-utilities: three requests a second without an API key
    github_delay: NonNegative = 60.0  # 60 requests an hour unauthenticated (GITHUB_TOKEN: 1 s)
    refresh_days: NonNegative = 30.0
    interval: NonNegative = 600.0  # seconds between background rounds
    per_round: NonNegativeInt = 50  # identifiers looked up per round at most
    timeout: NonNegative = 20.0
    max_wait: NonNegative = 3600.0  # the longest Retry-After honoured before skipping the round
    provenance: bool = True  # GitHub commits/PRs that added entries


class LinkcheckSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    enabled: bool = True
    per_host_per_minute: NonNegativeInt = 6
    timeout: NonNegative = 15.0
    recheck_days: NonNegative = 7.0
    interval: NonNegative = 3600.0
    per_round: NonNegativeInt = 200
    weekly_summary: bool = True  # a summary of dead links to watch.operator_chats once a week



DEFAULT_SEARCH_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
"""Used when it is in the data dir's model cache or can be downloaded; else lexical search."""


class StateSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    url: str = ""
    """Empty: the SQLite file in the data dir. ``postgresql://…``: a server several workers share."""

    def __post_init__(self) -> None:
        if self.url and not self.url.startswith(("postgresql://", "postgres://", "sqlite:///")):
            raise ValueError(f"url: expected postgresql://… or sqlite:///path, got {self.url.split('://')[0]!r}")


class SearchSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    model: str = DEFAULT_SEARCH_MODEL
    """A model directory, a model name fastembed can download, or "none" (lexical only)."""


def convert_section(raw: Mapping[str, Any], schema: type[S], where: str, *, from_env: bool = False) -> S:
    """``raw`` as ``schema``, or a ``ConfigError`` naming ``where.key`` and what was expected."""
    given = {key: value for key, value in raw.items() if value is not None}  # "key:" keeps the default
    try:
        return msgspec.convert(given, schema, strict=not from_env)
    except msgspec.ValidationError as exc:
        message = str(exc)
        if message.startswith("Object contains unknown field `"):
            key = message.split("`")[1]
            raise ConfigError(f"{where}: unknown key '{_dotted(where, key)}'") from None
        if " - at `$." in message:
            problem, path = message.rsplit(" - at `$.", 1)
            key = path.rstrip("`").split("[")[0]
            raise ConfigError(f"{where}: {_dotted(where, key)}: {problem[0].lower()}{problem[1:]}") from None
        raise ConfigError(f"{where}: {message}") from None


def _dotted(where: str, key: str) -> str:
    section = where.rsplit(": ", 1)[-1] if ": " in where else ""
    return f"{section}.{key}" if section else key


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    sources: tuple[SourceConfig, ...]
    data_dir: Path
    config_path: Path | None = None
    synonyms_path: Path = DATA_DIR / "synonyms.yaml"
    watch: WatchSettings = field(default_factory=WatchSettings)
    search: SearchSettings = field(default_factory=SearchSettings)
    state: StateSettings = field(default_factory=StateSettings)
    enrich: EnrichSettings = field(default_factory=EnrichSettings)
    linkcheck: LinkcheckSettings = field(default_factory=LinkcheckSettings)
    platform_sections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def search_model(self) -> str:
        return self.search.model

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def state_path(self) -> Path:
        return self.data_dir / "state.sqlite3"

    @property
    def state_url(self) -> str:
        """Where the state lives: ``state.url`` (env ``MEDBOT_STATE_URL``), else the data dir's file.

        May hold a password: show ``bot.store.engine`` ``describe()``, never this.
        """
        return self.state.url or str(self.state_path)

    @property
    def label(self) -> str:
        return str(self.config_path) if self.config_path else "built-in defaults"

    def secret(self, variable: str) -> str | None:
        """A secret (bot token) from the environment: never from the file, never in a repr."""
        return self.env.get(variable) or None

    def platform(self, name: str, schema: type[S]) -> S:
        """Platform ``name``'s section as ``schema``, with ``MEDBOT_<NAME>_<KEY>`` overrides."""
        section = dict(self.platform_sections.get(name) or {})
        section.update(env_overrides(self.env, name, schema))
        return convert_section(section, schema, f"{self.label}: {name}")


def env_overrides(env: Mapping[str, str], section: str, schema: type[Any]) -> dict[str, Any]:
    """``MEDBOT_<SECTION>_<KEY>`` values for the plain keys of ``schema``, converted and checked.

    A list key takes comma-separated items (``MEDBOT_DISCORD_GUILD_IDS=1,2``); an empty
    value means "not set".
    """
    values: dict[str, Any] = {}
    for info in msgspec.structs.fields(schema):
        variable = f"MEDBOT_{section.upper()}_{info.name.upper()}"
        text = env.get(variable)
        if text is None:
            continue
        raw: Any = text
        if isinstance(info.default, tuple):
            if info.name in {"operator_chats", "announce"}:
                continue
            raw = [part.strip() for part in text.split(",") if part.strip()]
        elif text == "":
            raw = None
        if raw is None:
            values[info.name] = None
            continue
        one = convert_section({info.name: raw}, schema, variable, from_env=True)
        values[info.name] = getattr(one, info.name)
    return values
