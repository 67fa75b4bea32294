"""Reading the configuration (TOML file, then environment); its documented example."""

from __future__ import annotations

import os
import tomllib
import types
import typing
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

from registry.config.keys import CONFIG_ENV, ENV_PREFIX, ConfigError
from registry.config.settings import SECTIONS, Settings, validate


def _field_type(section_cls: type, name: str) -> type:
    hints = typing.get_type_hints(section_cls)
    tp = hints[name]
    if isinstance(tp, types.UnionType):
        tp = next(t for t in tp.__args__ if t is not type(None))
    return tp


def _coerce(value: Any, tp: type, where: str, meta: dict) -> Any:
    """Turn a TOML or environment value into the declared type, or raise ConfigError."""
    from_env = isinstance(value, str) and tp is not str
    if tp is bool:
        if isinstance(value, bool):
            return value
        if from_env and value.strip().lower() in ("1", "true", "yes", "on"):
            return True
        if from_env and value.strip().lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    if tp in (int, float):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        try:
            number = tp(value.strip()) if isinstance(value, str) else value
            if tp is int and isinstance(number, float):
                if not number.is_integer():
                    raise ValueError
                number = int(number)
        except ValueError:
            kind = "an integer" if tp is int else "a number"
            raise ConfigError(f"{where}: expected {kind}, got {value!r}") from None
        lo, hi = meta.get("min"), meta.get("max")
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            raise ConfigError(f"{where}: {number} is outside the allowed range {lo}..{hi}")
        return number
    if tp is list or typing.get_origin(tp) is list:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return list(value)
        raise ConfigError(f"{where}: expected a list of strings, got {value!r}")
    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected a string, got {value!r}")
    choices = meta.get("choices")
    if choices and value not in choices:
        raise ConfigError(f"{where}: {value!r} is not one of {', '.join(choices)}")
    return value


def load_settings(
    path: str | os.PathLike[str] | None = None, environ: typing.Mapping[str, str] | None = None
) -> Settings:
    """Read the TOML file (if any), apply environment overrides, validate everything."""
    environ = os.environ if environ is None else environ
    if path is None:
        path = environ.get(CONFIG_ENV) or ("config.toml" if Path("config.toml").exists() else None)
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"configuration file {path} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"configuration file {path} is not valid TOML: {exc}") from None
    unknown_sections = set(data) - set(SECTIONS)
    if unknown_sections:
        raise ConfigError(f"unknown section(s) in {path}: {', '.join(sorted(unknown_sections))}")
    sections = {}
    for section_name, section_cls in SECTIONS.items():
        given = data.get(section_name, {})
        if not isinstance(given, dict):
            raise ConfigError(f"{section_name}: expected a [{section_name}] table")
        known = {f.name for f in fields(section_cls)}
        unknown = set(given) - known
        if unknown:
            raise ConfigError(f"unknown key(s) in [{section_name}]: {', '.join(sorted(unknown))}")
        values = {}
        for f in fields(section_cls):
            tp = _field_type(section_cls, f.name)
            env_name = f"{ENV_PREFIX}{section_name}_{f.name}".upper()
            if env_name in environ:
                values[f.name] = _coerce(
                    environ[env_name], tp, f"{section_name}.{f.name} (from {env_name})", f.metadata
                )
            elif f.name in given:
                values[f.name] = _coerce(given[f.name], tp, f"{section_name}.{f.name}", f.metadata)
        sections[section_name] = section_cls(**values)
    settings = Settings(**sections)
    validate(settings)
    return settings


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def example_toml() -> str:
    """The documented example configuration: every key, its default and what it does."""
    lines = [
        "# Commons registry configuration. Every key is optional; the values shown are the",
        f"# defaults. Pass the file with --config PATH or {CONFIG_ENV}=PATH (./config.toml is",
        "# read if present). Every key can be overridden by an environment variable named",
        f"# {ENV_PREFIX}<SECTION>_<KEY>, e.g. {ENV_PREFIX}SERVER_PORT=8080. A bad value stops",
        "# start-up with a message naming the key.",
    ]
    for section_name, section_cls in SECTIONS.items():
        lines += ["", f"[{section_name}]"]
        doc = (section_cls.__doc__ or "").strip()
        if doc:
            lines.append(f"# {doc}")
        for f in fields(section_cls):
            lines.append("")
            for chunk in _wrap(f.metadata["doc"]):
                lines.append(f"# {chunk}")
            if f.metadata.get("choices"):
                lines.append(f"# One of: {', '.join(f.metadata['choices'])}.")
            env_name = f"{ENV_PREFIX}{section_name}_{f.name}".upper()
            lines.append(f"# Environment: {env_name}")
            default = f.default if f.default is not MISSING else f.default_factory()  # type: ignore[misc]
            lines.append(f"{f.name} = {_toml_value(default)}")
            if f.metadata.get("example") is not None:
                lines.append(f"# {f.name} = {_toml_value(f.metadata['example'])}")
    return "\n".join(lines) + "\n"


def _wrap(text: str, width: int = 96) -> list[str]:
    words, out, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            out.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        out.append(line)
    return out
