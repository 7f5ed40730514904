"""One ``Settings`` object built from YAML plus environment variables, checked at start-up.

A bad file must be a one-line error naming the file, the key and what was expected, so
every check here raises ``ConfigError`` with exactly that; the CLI prints it and exits 2.
Tokens never live in the file: they come from the environment only.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "ConfigError",
    "DATA_DIR",
    "DiscordSettings",
    "Settings",
    "SourceConfig",
    "TelegramSettings",
    "WatchSettings",
    "default_data_dir",
    "load_settings",
]

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
"""The bundled data shipped with medbot: default lists, sources.yaml, synonyms."""

DEFAULT_SEARCH_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
"""Used when it is in the data dir's model cache or can be downloaded; else lexical."""


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


@dataclass(frozen=True, slots=True)
class AnnounceTarget:
    """A chat named in the config that receives announcements without /subscribe."""

    platform: str
    chat_id: str
    filter: str = ""


@dataclass(frozen=True, slots=True)
class WatchSettings:
    interval: float = 3600.0
    jitter: float = 0.1
    digest_after: int = 5
    timeout: float = 20.0
    max_bytes: int = 10 * 1024 * 1024
    max_added: int = 50
    alert_after_failures: int = 3
    operator_chats: tuple[AnnounceTarget, ...] = ()
    announce: tuple[AnnounceTarget, ...] = ()


@dataclass(frozen=True, slots=True)
class TelegramSettings:
    base_url: str | None = None
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    username: str | None = None


@dataclass(frozen=True, slots=True)
class DiscordSettings:
    guild_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    sources: tuple[SourceConfig, ...]
    data_dir: Path
    config_path: Path | None = None
    synonyms_path: Path = DATA_DIR / "synonyms.yaml"
    watch: WatchSettings = field(default_factory=WatchSettings)
    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    discord: DiscordSettings = field(default_factory=DiscordSettings)
    telegram_token: str | None = field(default=None, repr=False)
    discord_token: str | None = field(default=None, repr=False)
    search_model: str = DEFAULT_SEARCH_MODEL
    """A model directory, a fastembed model name, or "none" (lexical search only)."""

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def state_path(self) -> Path:
        return self.data_dir / "state.sqlite3"


def default_data_dir() -> Path:
    """The platform's user data dir, so a plain ``medbot search`` needs no setup."""
    import platformdirs

    return Path(platformdirs.user_data_dir("medbot", appauthor=False))


def load_settings(
    config_path: str | os.PathLike[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    environ: dict[str, str] | None = None,
) -> Settings:
    """Settings from the config file (or the bundled defaults) and the environment."""
    env = dict(os.environ if environ is None else environ)
    chosen = config_path or env.get("MEDBOT_CONFIG") or None
    if chosen:
        path = Path(chosen).expanduser()
        raw = _read_yaml(path)
        base_dir = path.resolve().parent
    else:
        path = None
        raw = {}
        base_dir = DATA_DIR
    label = str(path) if path else "built-in defaults"

    if "sources" in raw:
        sources = _parse_sources(raw["sources"], base_dir, label)
    else:
        bundled = DATA_DIR / "sources.yaml"
        sources = _parse_sources(_read_yaml(bundled).get("sources"), DATA_DIR, str(bundled))

    sections = {"watch": WatchSettings, "telegram": TelegramSettings, "discord": DiscordSettings}
    for key in raw:
        if key not in {"sources", "data_dir", "synonyms", "search", *sections}:
            raise ConfigError(f"{label}: unknown key '{key}' (expected one of: sources, data_dir, synonyms, search, watch, telegram, discord)")

    watch = _parse_watch(_section(raw, "watch", label), label)
    telegram = _parse_plain(TelegramSettings, _section(raw, "telegram", label), label, "telegram")
    discord_raw = _section(raw, "discord", label)
    guild_ids = discord_raw.get("guild_ids") or []
    if not isinstance(guild_ids, list) or not all(str(g).isdigit() for g in guild_ids):
        raise ConfigError(f"{label}: discord.guild_ids must be a list of numeric guild ids")
    discord = DiscordSettings(guild_ids=tuple(int(g) for g in guild_ids))

    telegram, watch = _apply_env(env, telegram, watch)
    if env.get("MEDBOT_DISCORD_GUILD_IDS"):
        ids = [part.strip() for part in env["MEDBOT_DISCORD_GUILD_IDS"].split(",") if part.strip()]
        if not all(part.isdigit() for part in ids):
            raise ConfigError("MEDBOT_DISCORD_GUILD_IDS: expected comma-separated numeric ids")
        discord = DiscordSettings(guild_ids=tuple(int(part) for part in ids))

    chosen_data = data_dir or env.get("MEDBOT_DATA_DIR") or raw.get("data_dir")
    if chosen_data:
        data_path = Path(str(chosen_data)).expanduser()
        if not data_path.is_absolute() and path is not None and not (data_dir or env.get("MEDBOT_DATA_DIR")):
            data_path = base_dir / data_path
    else:
        data_path = default_data_dir()

    synonyms = DATA_DIR / "synonyms.yaml"
    if raw.get("synonyms"):
        synonyms = Path(str(raw["synonyms"])).expanduser()
        if not synonyms.is_absolute():
            synonyms = base_dir / synonyms

    search_raw = _section(raw, "search", label)
    if set(search_raw) - {"model"}:
        raise ConfigError(f"{label}: search: unknown key (expected: model)")
    search_model = str(_coerce(search_raw.get("model"), DEFAULT_SEARCH_MODEL, label, "search.model"))
    search_model = env.get("MEDBOT_SEARCH_MODEL") or search_model
    if path is not None and search_model.startswith((".", "~")):
        search_model = str((base_dir / search_model).expanduser())

    return Settings(
        sources=tuple(sources),
        data_dir=data_path,
        config_path=path,
        synonyms_path=synonyms,
        watch=watch,
        telegram=telegram,
        discord=discord,
        telegram_token=env.get("TELEGRAM_BOT_TOKEN") or None,
        discord_token=env.get("DISCORD_BOT_TOKEN") or None,
        search_model=search_model,
    )


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc.__class__.__name__})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}: not valid YAML{where}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    return data


def _section(raw: dict[str, Any], key: str, label: str) -> dict[str, Any]:
    value = raw.get(key) or {}
    if not isinstance(value, dict):
        raise ConfigError(f"{label}: '{key}' must be a mapping")
    return value


def _parse_sources(value: Any, base_dir: Path, label: str) -> list[SourceConfig]:
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{label}: 'sources' must be a non-empty list of sources with 'path' and/or 'url'")
    sources: list[SourceConfig] = []
    for number, item in enumerate(value, 1):
        where = f"{label}: sources[{number}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: expected a mapping with 'path' and/or 'url'")
        unknown = set(item) - {"name", "path", "url"}
        if unknown:
            raise ConfigError(f"{where}: unknown key '{sorted(unknown)[0]}' (expected name, path, url)")
        url = item.get("url")
        raw_path = item.get("path")
        if url is not None and (not isinstance(url, str) or not url.startswith(("http://", "https://"))):
            raise ConfigError(f"{where}.url: expected an http(s) URL")
        if raw_path is None and url is None:
            raise ConfigError(f"{where}: needs 'path' or 'url'")
        name = item.get("name")
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise ConfigError(f"{where}.name: expected a non-empty string")
        if raw_path is not None:
            if not isinstance(raw_path, str):
                raise ConfigError(f"{where}.path: expected a file path or glob")
            full = Path(raw_path).expanduser()
            if not full.is_absolute():
                full = base_dir / full
            if glob.has_magic(str(full)):
                matches = sorted(Path(p) for p in glob.glob(str(full), recursive=True))
                if not matches:
                    raise ConfigError(f"{where}.path: the glob '{raw_path}' matches no file")
                sources.extend(SourceConfig(name=m.stem, path=m) for m in matches if m.is_file())
                continue
            sources.append(SourceConfig(name=name or full.stem, path=full, url=url))
        else:
            assert isinstance(url, str)
            sources.append(SourceConfig(name=name or _name_from_url(url), url=url))
    names = [s.name for s in sources]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ConfigError(f"{label}: sources: the name '{duplicated[0]}' is used twice (names must be unique)")
    return sources


def _name_from_url(url: str) -> str:
    parts = [p for p in url.split("/") if p]
    if "raw.githubusercontent.com" in url and len(parts) >= 4:
        return parts[3]
    return parts[-1].rsplit(".", 1)[0] if parts else url


def _parse_watch(raw: dict[str, Any], label: str) -> WatchSettings:
    plain = {k: v for k, v in raw.items() if k not in {"operator_chats", "announce"}}
    watch = _parse_plain(WatchSettings, plain, label, "watch")
    return replace(
        watch,
        operator_chats=_parse_targets(raw.get("operator_chats"), label, "watch.operator_chats"),
        announce=_parse_targets(raw.get("announce"), label, "watch.announce"),
    )


def _parse_targets(value: Any, label: str, key: str) -> tuple[AnnounceTarget, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ConfigError(f"{label}: {key} must be a list of {{platform, chat}} mappings")
    targets = []
    for item in value:
        if isinstance(item, str) and ":" in item:
            platform, chat = item.split(":", 1)
            item = {"platform": platform, "chat": chat}
        if not isinstance(item, dict) or item.get("platform") not in {"telegram", "discord", "console"} or not item.get("chat"):
            raise ConfigError(f"{label}: {key}: expected items like {{platform: telegram, chat: '-100123'}}")
        targets.append(AnnounceTarget(str(item["platform"]), str(item["chat"]), str(item.get("filter") or "")))
    return tuple(targets)


def _parse_plain(cls: Any, raw: dict[str, Any], label: str, section: str) -> Any:
    defaults = cls()
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if not hasattr(defaults, key) or key in {"operator_chats", "announce", "guild_ids"}:
            raise ConfigError(f"{label}: unknown key '{section}.{key}'")
        values[key] = _coerce(value, getattr(defaults, key), label, f"{section}.{key}")
    return replace(defaults, **values)


def _coerce(value: Any, default: Any, label: str, key: str) -> Any:
    if value is None:  # "key:" with nothing after it keeps the default
        return default
    kind = type(default)
    if default is None or kind is str:
        if not isinstance(value, str):
            raise ConfigError(f"{label}: {key}: expected a string")
        return value
    if kind is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{label}: {key}: expected true or false")
    if kind in (int, float):
        if isinstance(value, bool):
            raise ConfigError(f"{label}: {key}: expected a number")
        try:
            number = kind(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{label}: {key}: expected a number, got {value!r}") from None
        if number < 0:
            raise ConfigError(f"{label}: {key}: expected a non-negative number")
        return number
    return value


def _apply_env(env: dict[str, str], telegram: TelegramSettings, watch: WatchSettings) -> tuple[TelegramSettings, WatchSettings]:
    """``MEDBOT_<SECTION>_<KEY>`` overrides for plain keys of telegram and watch."""
    for section_name, obj in (("TELEGRAM", telegram), ("WATCH", watch)):
        updates: dict[str, Any] = {}
        for key in obj.__dataclass_fields__:
            value = env.get(f"MEDBOT_{section_name}_{key.upper()}")
            if value is None or key in {"operator_chats", "announce"}:
                continue
            default = getattr(obj, key)
            if isinstance(default, bool):
                updates[key] = value.lower() in {"1", "true", "yes", "on"}
            elif isinstance(default, (int, float)):
                try:
                    updates[key] = type(default)(value)
                except ValueError:
                    raise ConfigError(f"MEDBOT_{section_name}_{key.upper()}: expected a number, got {value!r}") from None
                if updates[key] < 0:
                    raise ConfigError(f"MEDBOT_{section_name}_{key.upper()}: expected a non-negative number, got {value!r}")
            else:
                updates[key] = value or None
        if section_name == "TELEGRAM":
            telegram = replace(telegram, **updates)
        else:
            watch = replace(watch, **updates)
    return telegram, watch
