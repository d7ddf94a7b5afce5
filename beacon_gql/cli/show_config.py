"""`beacon-gql config`: the configuration a command would run with, secrets masked."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.engine import make_url

from beacon_gql.config import VARIABLES, Settings

_URL_FIELDS = {"database_url", "broadcast_url"}


def _shown(value: object, *, secret: bool, url: bool) -> str:
    if value is None:
        return "(unset)"
    if secret:
        return "****"
    if url and isinstance(value, str) and "://" in value:
        try:
            return make_url(value).render_as_string(hide_password=True)
        except Exception:
            return value
    if isinstance(value, frozenset):
        return ",".join(sorted(value)) or "(none)"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def config_lines(settings: Settings, env: Mapping[str, str]) -> list[str]:
    """One line a variable: name, effective value, and whether it was set or defaulted."""
    width = max(len(variable.name) for variable in VARIABLES)
    lines = []
    for variable in VARIABLES:
        value = _shown(
            getattr(settings, variable.field),
            secret=variable.secret,
            url=variable.field in _URL_FIELDS,
        )
        origin = "set" if env.get(variable.name, "").strip() else "default"
        lines.append(f"{variable.name:<{width}}  {value}  ({origin}; {variable.meaning})")
    return lines
