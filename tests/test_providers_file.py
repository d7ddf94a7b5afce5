from __future__ import annotations

from pathlib import Path

import pytest

from beacon_gql.providers.config import (
    ProviderConfig,
    ProvidersFileError,
    load_providers_file,
    providers_to_toml,
)

GOOD = """\
[[providers]]
name = "modal-us-east"
region = "us-east"                 # normalised to US
kind = "openai"
base_url = "http://127.0.0.1:9101/v1/"
api_key_env = "MODAL_US_KEY"
max_concurrency = 8
timeout_seconds = 60
[providers.models]
"llama3.2-1b" = "llama3.2:1b"
"qwen2.5-1.5b" = "qwen2.5:1.5b"

[[providers]]
name = "router-eu"
region = "EU"
kind = "hybrid-router"
base_url = "https://router.example.org"
[providers.models]
"mistral-7b" = "mistral-7b"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "providers.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    us, eu = load_providers_file(write(tmp_path, GOOD))
    assert us == ProviderConfig(
        name="modal-us-east",
        region="US",
        kind="openai",
        base_url="http://127.0.0.1:9101/v1",
        api_key_env="MODAL_US_KEY",
        models={"llama3.2-1b": "llama3.2:1b", "qwen2.5-1.5b": "qwen2.5:1.5b"},
        max_concurrency=8,
        timeout_seconds=60.0,
    )
    assert (eu.region, eu.kind, eu.api_key_env) == ("EU", "hybrid-router", None)
    assert (eu.max_concurrency, eu.timeout_seconds) == (4, 60.0)

    monkeypatch.delenv("MODAL_US_KEY", raising=False)
    assert us.api_key() is None
    monkeypatch.setenv("MODAL_US_KEY", "sk-test")
    assert us.api_key() == "sk-test"
    assert eu.api_key() is None


def test_round_trip_through_toml(tmp_path: Path) -> None:
    configs = load_providers_file(write(tmp_path, GOOD))
    weird = ProviderConfig(
        name='odd "name" \\ with\ttab',
        region="ASIA",
        kind="openai",
        base_url="http://[::1]:8000/v1",
        api_key_env=None,
        models={"a.b": "ü:1b"},
        timeout_seconds=0.5,
    )
    again = load_providers_file(write(tmp_path, providers_to_toml([*configs, weird])))
    assert again == [*configs, weird]


def replace_line(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new, 1)


def line_of(text: str, fragment: str, occurrence: int = 1) -> int:
    numbers = [n for n, line in enumerate(text.splitlines(), 1) if fragment in line]
    return numbers[occurrence - 1]


AFTER_KIND = 'kind = "hybrid-router"'


@pytest.mark.parametrize(
    ("old", "new", "field", "problem", "at_line", "occurrence"),
    [
        (
            'region = "EU"',
            'region = "mars"',
            "region",
            "unknown region 'mars'",
            'region = "mars"',
            1,
        ),
        (AFTER_KIND, 'kind = "grpc"', "kind", "unknown kind 'grpc'", 'kind = "grpc"', 1),
        ('base_url = "https:', 'base_url = "ftp:', "base_url", "http:// or https://", "ftp:", 1),
        (
            'base_url = "https://router.example.org"',
            'base_url = "router"',
            "base_url",
            "URL",
            '"router"',
            1,
        ),
        ('"mistral-7b" = "mistral-7b"', "", "models", "non-empty table", "[providers.models]", 2),
        (
            '"mistral-7b" = "mistral-7b"',
            '"mistral-7b" = ""',
            "models.mistral-7b",
            "non-empty",
            '"mistral-7b"',
            1,
        ),
        (
            'name = "router-eu"',
            'name = "modal-us-east"',
            "name",
            "duplicate name",
            'name = "modal-us-east"',
            2,
        ),
        ('name = "router-eu"', 'name = ""', "name", "non-empty string", 'name = ""', 1),
        (
            AFTER_KIND,
            f"{AFTER_KIND}\nmax_concurrency = 0",
            "max_concurrency",
            "positive integer",
            "max_concurrency = 0",
            1,
        ),
        (
            AFTER_KIND,
            f"{AFTER_KIND}\nmax_concurrency = true",
            "max_concurrency",
            "positive integer",
            "max_concurrency = true",
            1,
        ),
        (
            AFTER_KIND,
            f"{AFTER_KIND}\nmax_concurrency = 2.5",
            "max_concurrency",
            "positive integer",
            "max_concurrency = 2.5",
            1,
        ),
        (
            AFTER_KIND,
            f"{AFTER_KIND}\ntimeout_seconds = -1",
            "timeout_seconds",
            "positive number",
            "timeout_seconds = -1",
            1,
        ),
        (
            AFTER_KIND,
            f"{AFTER_KIND}\ntimeout_seconds = 0",
            "timeout_seconds",
            "positive number",
            "timeout_seconds = 0",
            1,
        ),
        (AFTER_KIND, f"{AFTER_KIND}\nretries = 3", "retries", "unknown key", "retries = 3", 1),
        (
            AFTER_KIND,
            f'{AFTER_KIND}\napi_key_env = "not a name"',
            "api_key_env",
            "environment variable",
            "not a name",
            1,
        ),
    ],
)
def test_bad_field_names_file_provider_field_and_line(
    tmp_path: Path, old: str, new: str, field: str, problem: str, at_line: str, occurrence: int
) -> None:
    text = replace_line(old, new)
    path = write(tmp_path, text)
    with pytest.raises(ProvidersFileError) as caught:
        load_providers_file(path)
    error = caught.value
    assert (error.field, error.provider_index) == (field, 1)
    assert error.line == line_of(text, at_line, occurrence)
    assert error.message.startswith(f"{path}:{error.line}: providers[1]")
    assert f"field {field!r}" in error.message
    assert problem in error.message
    if field != "name":
        assert "('router-eu')" in error.message


def test_missing_required_field_points_at_the_providers_name(tmp_path: Path) -> None:
    text = replace_line('base_url = "https://router.example.org"\n', "")
    path = write(tmp_path, text)
    with pytest.raises(ProvidersFileError) as caught:
        load_providers_file(path)
    assert caught.value.field == "base_url"
    assert "is required" in caught.value.message
    assert "'router-eu'" in caught.value.message
    assert caught.value.line == line_of(text, 'name = "router-eu"')


def test_toml_syntax_error_carries_its_line(tmp_path: Path) -> None:
    text = replace_line('kind = "hybrid-router"', 'kind = "hybrid-router')
    path = write(tmp_path, text)
    with pytest.raises(ProvidersFileError) as caught:
        load_providers_file(path)
    assert caught.value.line == line_of(text, 'kind = "hybrid-router')
    assert "invalid TOML" in caught.value.message
    assert f"{path}:{caught.value.line}" in caught.value.message


def test_unknown_top_level_key(tmp_path: Path) -> None:
    text = "version = 2\n\n" + GOOD
    with pytest.raises(ProvidersFileError) as caught:
        load_providers_file(write(tmp_path, text))
    assert caught.value.field == "version"
    assert caught.value.line == 1


def test_file_without_providers(tmp_path: Path) -> None:
    with pytest.raises(ProvidersFileError, match="no \\[\\[providers\\]\\]"):
        load_providers_file(write(tmp_path, "# nothing here\n"))


def test_unreadable_file_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "absent.toml"
    with pytest.raises(ProvidersFileError, match=r"absent\.toml"):
        load_providers_file(missing)


def test_is_a_value_error() -> None:
    assert issubclass(ProvidersFileError, ValueError)
