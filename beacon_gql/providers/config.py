"""The providers file: which endpoints serve which models in which region.

A mistake in this file silently changes which region answers a question, so loading is
strict: every error names the file, the provider, the field and (when it can be found) the
line, and nothing unknown is accepted.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from beacon_gql.providers.endpoint import ProviderConfig as ProviderConfig
from beacon_gql.providers.kinds import CLIENT_CLASSES
from beacon_gql.providers.regions import normalise_region


class ProvidersFileError(ValueError):
    def __init__(
        self,
        message: str,
        *,
        path: Path,
        line: int | None = None,
        provider_index: int | None = None,
        provider_name: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.provider_index = provider_index
        self.provider_name = provider_name
        self.field = field


_REQUIRED_FIELDS = ("name", "region", "kind", "base_url", "models")
_OPTIONAL_FIELDS = ("api_key_env", "max_concurrency", "timeout_seconds")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TOML_LINE = re.compile(r"line (\d+)")


def load_providers_file(path: Path) -> list[ProviderConfig]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProvidersFileError(f"{path}: cannot read providers file: {exc}", path=path) from exc
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_LINE.search(str(exc))
        line = int(found.group(1)) if found else None
        where = f"{path}:{line}" if line else str(path)
        raise ProvidersFileError(f"{where}: invalid TOML: {exc}", path=path, line=line) from exc
    return _Parser(path, text).parse(document)


class _Parser:
    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.blocks = _provider_blocks(self.lines)

    def parse(self, document: dict[str, Any]) -> list[ProviderConfig]:
        unknown = sorted(set(document) - {"providers"})
        if unknown:
            line = self._find_line(None, unknown[0])
            raise self._error(
                f"unknown top-level key {unknown[0]!r} (expected only [[providers]] tables)",
                line=line,
                field=unknown[0],
            )
        entries = document.get("providers")
        if not isinstance(entries, list) or not entries:
            raise self._error("defines no [[providers]] tables", field="providers")
        configs: list[ProviderConfig] = []
        seen: dict[str, int] = {}
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise self._error("must be a table", index=index, field="providers")
            config = self._provider(index, entry)
            if config.name in seen:
                raise self._error(
                    f"duplicate name: also used by providers[{seen[config.name]}]",
                    index=index,
                    name=config.name,
                    field="name",
                )
            seen[config.name] = index
            configs.append(config)
        return configs

    def _provider(self, index: int, entry: dict[str, Any]) -> ProviderConfig:
        raw_name = entry.get("name")
        name = raw_name if isinstance(raw_name, str) else None

        def fail(field: str, problem: str) -> ProvidersFileError:
            return self._error(problem, index=index, name=name, field=field)

        for key in entry:
            if key not in _REQUIRED_FIELDS and key not in _OPTIONAL_FIELDS:
                known = ", ".join(_REQUIRED_FIELDS + _OPTIONAL_FIELDS)
                raise fail(key, f"unknown key (known keys: {known})")
        for key in _REQUIRED_FIELDS:
            if key not in entry:
                raise fail(key, "is required")

        if name is None or not name.strip():
            raise fail("name", "must be a non-empty string")

        raw_region = entry["region"]
        region = normalise_region(raw_region) if isinstance(raw_region, str) else None
        if region is None:
            raise fail(
                "region",
                f"unknown region {raw_region!r} (use US, EU or ASIA, or an alias such as "
                "us-east, eu-west, asia-pacific)",
            )

        kind = entry["kind"]
        if kind not in CLIENT_CLASSES:
            raise fail("kind", f"unknown kind {kind!r} (use {' or '.join(CLIENT_CLASSES)})")

        base_url = entry["base_url"]
        if not isinstance(base_url, str) or not _is_http_url(base_url):
            raise fail("base_url", f"must be an http:// or https:// URL, got {base_url!r}")

        models = entry["models"]
        if not isinstance(models, dict) or not models:
            raise fail("models", "must be a non-empty table of job model id = upstream name")
        for model_id, upstream in models.items():
            if not isinstance(upstream, str) or not upstream.strip():
                raise fail(f"models.{model_id}", "upstream model name must be a non-empty string")

        api_key_env = entry.get("api_key_env")
        if api_key_env is not None and (
            not isinstance(api_key_env, str) or not _ENV_NAME.fullmatch(api_key_env)
        ):
            raise fail(
                "api_key_env", f"must be the name of an environment variable, got {api_key_env!r}"
            )

        max_concurrency = entry.get("max_concurrency", 4)
        if not _is_number(max_concurrency, integer=True) or max_concurrency <= 0:
            raise fail("max_concurrency", f"must be a positive integer, got {max_concurrency!r}")

        timeout_seconds = entry.get("timeout_seconds", 60.0)
        if not _is_number(timeout_seconds, integer=False) or timeout_seconds <= 0:
            raise fail("timeout_seconds", f"must be a positive number, got {timeout_seconds!r}")

        return ProviderConfig(
            name=name,
            region=region,
            kind=kind,
            base_url=base_url.rstrip("/"),
            api_key_env=api_key_env,
            models=dict(models),
            max_concurrency=max_concurrency,
            timeout_seconds=float(timeout_seconds),
        )

    def _error(
        self,
        problem: str,
        *,
        index: int | None = None,
        name: str | None = None,
        field: str | None = None,
        line: int | None = None,
    ) -> ProvidersFileError:
        if line is None and index is not None:
            line = self._find_line(index, field)
        where = f"{self.path}:{line}" if line else str(self.path)
        parts = [where]
        if index is not None:
            parts.append(f"providers[{index}]" + (f" ({name!r})" if name else ""))
        if field is not None:
            parts.append(f"field {field!r}")
        return ProvidersFileError(
            ": ".join([*parts, problem]),
            path=self.path,
            line=line,
            provider_index=index,
            provider_name=name,
            field=field,
        )

    def _find_line(self, index: int | None, field: str | None) -> int | None:
        """1-based line of `field` in provider `index` (or at top level), else of its name."""
        if index is None:
            end = self.blocks[0][0] if self.blocks else len(self.lines)
            span = range(0, end)
        elif index < len(self.blocks):
            span = range(*self.blocks[index])
        else:
            return None
        keys = []
        if field is not None:
            # "models.llama3.2-1b" is written as `"llama3.2-1b" = ...` under [providers.models].
            keys.append(field.removeprefix("models.") if field.startswith("models.") else field)
        keys.append("name")
        for key in keys:
            pattern = re.compile(rf"""\s*["']?{re.escape(key)}["']?\s*=""")
            if key == "models":
                pattern = re.compile(r"\s*(\[\s*providers\.models\s*\]|models\s*=)")
            for number in span:
                if pattern.match(self.lines[number]):
                    return number + 1
        if index is not None:
            return span.start + 1
        return None


_PROVIDERS_HEADER = re.compile(r"\s*\[\[\s*providers\s*\]\]")


def _provider_blocks(lines: Sequence[str]) -> list[tuple[int, int]]:
    """(first, end) line indexes of each [[providers]] table, sub-tables included."""
    starts = [number for number, line in enumerate(lines) if _PROVIDERS_HEADER.match(line)]
    return list(zip(starts, [*starts[1:], len(lines)], strict=False))


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _is_number(value: object, *, integer: bool) -> bool:
    # TOML booleans are Python bools, which are ints: `max_concurrency = true` must fail.
    if isinstance(value, bool):
        return False
    return isinstance(value, int) if integer else isinstance(value, int | float)


def providers_to_toml(configs: Iterable[ProviderConfig]) -> str:
    """The providers file for `configs`, in the shape `load_providers_file` reads."""
    chunks: list[str] = []
    for config in configs:
        lines = [
            "[[providers]]",
            f"name = {_toml_string(config.name)}",
            f"region = {_toml_string(config.region)}",
            f"kind = {_toml_string(config.kind)}",
            f"base_url = {_toml_string(config.base_url)}",
        ]
        if config.api_key_env is not None:
            lines.append(f"api_key_env = {_toml_string(config.api_key_env)}")
        lines += [
            f"max_concurrency = {config.max_concurrency}",
            f"timeout_seconds = {float(config.timeout_seconds)!r}",
            "[providers.models]",
        ]
        lines += [
            f"{_toml_string(model_id)} = {_toml_string(upstream)}"
            for model_id, upstream in config.models.items()
        ]
        chunks.append("\n".join(lines) + "\n")
    return "\n".join(chunks)


def _toml_string(value: str) -> str:
    escaped = []
    for char in value:
        if char in ('"', "\\"):
            escaped.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            escaped.append(f"\\u{ord(char):04x}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'
