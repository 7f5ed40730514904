"""Reading the configuration: YAML plus environment variables, checked at start-up.

A bad file must be a one-line error naming the file, the key and what was expected, so
every check here raises ``ConfigError`` with exactly that; the CLI prints it and exits 2.
Tokens never live in the file: they come from the environment only.

The loader knows the core's sections (``sources``, ``data_dir``, ``synonyms``,
``watch``). Every other top-level mapping is a platform's section, handed to the adapter
that registered that name (``platforms:`` holds them too). The composition root passes
the registered platforms so their sections and announce targets are checked at load;
a library caller that passes none gets the sections unchecked until an adapter reads
them.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

import msgspec
import yaml

from bot.core.config_papers import parse_enrich, parse_linkcheck
from bot.core.settings import (
    DATA_DIR,
    AnnounceTarget,
    ConfigError,
    SearchSettings,
    Settings,
    SourceConfig,
    StateSettings,
    WatchSettings,
    convert_section,
    env_overrides,
)

__all__ = [
    "DATA_DIR",
    "AnnounceTarget",
    "ConfigError",
    "PlatformSchema",
    "Settings",
    "SourceConfig",
    "WatchSettings",
    "default_data_dir",
    "load_settings",
]

CORE_KEYS = ("sources", "data_dir", "synonyms", "search", "state", "watch", "enrich", "linkcheck", "platforms")


class PlatformSchema(Protocol):
    """What the loader needs of a registered platform: its name and its section's type."""

    @property
    def name(self) -> str: ...

    @property
    def settings_type(self) -> type[Any]: ...


def default_data_dir() -> Path:
    """The platform's user data dir, so a plain ``medbot search`` needs no setup."""
    import platformdirs

    return Path(platformdirs.user_data_dir("medbot", appauthor=False))


def load_settings(
    config_path: str | os.PathLike[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    platforms: Iterable[PlatformSchema] = (),
) -> Settings:
    """Settings from the config file (or the bundled defaults) and the environment."""
    env = dict(os.environ if environ is None else environ)
    registered = {platform.name: platform for platform in platforms}
    chosen = config_path or env.get("MEDBOT_CONFIG") or None
    if chosen:
        path: Path | None = Path(chosen).expanduser()
        assert path is not None
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

    sections = _platform_sections(raw, registered, label)
    watch = _parse_watch(_section(raw, "watch", label), env, label, set(registered) | {"console"} if registered else None)

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
        if not synonyms.is_file():
            raise ConfigError(f"{label}: synonyms: no such file {synonyms}")

    settings = Settings(
        sources=tuple(sources),
        data_dir=data_path,
        config_path=path,
        synonyms_path=synonyms,
        watch=watch,
        search=_parse_search(_section(raw, "search", label), env, label, base_dir if path is not None else None),
        state=convert_section({**_section(raw, "state", label), **env_overrides(env, "state", StateSettings)}, StateSettings,
                              f"{label}: state"),
        enrich=parse_enrich(raw.get("enrich"), label, env),
        linkcheck=parse_linkcheck(raw.get("linkcheck"), label, env),
        platform_sections=sections,
        env=env,
    )
    for name, platform in registered.items():  # checked now, not at the first message
        settings.platform(name, platform.settings_type)
    return settings


def _platform_sections(raw: dict[str, Any], registered: Mapping[str, PlatformSchema], label: str) -> dict[str, dict[str, Any]]:
    """Each platform's section, from ``platforms:`` and from top-level keys naming one."""
    nested = _section(raw, "platforms", label)
    sections: dict[str, dict[str, Any]] = {}
    for key, value in [*nested.items(), *((k, v) for k, v in raw.items() if k not in CORE_KEYS)]:
        known = key in registered or (not registered and (value is None or isinstance(value, dict)))
        if not known:
            expected = ", ".join([*CORE_KEYS, *registered])
            raise ConfigError(f"{label}: unknown key '{key}' (expected one of: {expected})")
        if value is not None and not isinstance(value, dict):
            raise ConfigError(f"{label}: '{key}' must be a mapping")
        sections[str(key)] = {**sections.get(str(key), {}), **(value or {})}
    return sections


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


def _parse_search(raw: dict[str, Any], env: Mapping[str, str], label: str, base_dir: Path | None) -> SearchSettings:
    """``search.model`` (env ``MEDBOT_SEARCH_MODEL``); a relative path is relative to the config file."""
    search = convert_section({**raw, **env_overrides(env, "search", SearchSettings)}, SearchSettings, f"{label}: search")
    if base_dir is not None and search.model.startswith((".", "~")):
        search = SearchSettings(model=str((base_dir / search.model).expanduser()))
    return search


def _parse_watch(raw: dict[str, Any], env: Mapping[str, str], label: str, platforms: set[str] | None) -> WatchSettings:
    plain = {key: value for key, value in raw.items() if key not in {"operator_chats", "announce"}}
    plain.update(env_overrides(env, "watch", WatchSettings))
    targets = {key: _parse_targets(raw.get(key), label, f"watch.{key}", platforms) for key in ("operator_chats", "announce")}
    watch = convert_section(plain, WatchSettings, f"{label}: watch")
    return msgspec.structs.replace(watch, **targets)


def _parse_targets(value: Any, label: str, key: str, platforms: set[str] | None) -> tuple[AnnounceTarget, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ConfigError(f"{label}: {key} must be a list of {{platform, chat}} mappings")
    targets = []
    for item in value:
        if isinstance(item, str) and ":" in item:
            platform, chat = item.split(":", 1)
            item = {"platform": platform, "chat": chat}
        if not isinstance(item, dict) or not isinstance(item.get("platform"), str) or not item.get("chat"):
            raise ConfigError(f"{label}: {key}: expected items like {{platform: telegram, chat: '-100123'}}")
        if platforms is not None and item["platform"] not in platforms:
            raise ConfigError(f"{label}: {key}: unknown platform '{item['platform']}' (expected one of: {', '.join(sorted(platforms))})")
        targets.append(AnnounceTarget(str(item["platform"]), str(item["chat"]), str(item.get("filter") or "")))
    return tuple(targets)
