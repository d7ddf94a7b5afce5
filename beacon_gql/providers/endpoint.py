"""One provider endpoint's settings, as the providers file gives them and clients use them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from beacon_gql.providers.regions import Region


@dataclass(frozen=True)
class ProviderConfig:
    name: str
    region: Region
    kind: str
    """A key of `providers.kinds.CLIENT_CLASSES`: the protocol the endpoint speaks."""
    base_url: str
    api_key_env: str | None
    models: Mapping[str, str]
    """Job model id -> the name the endpoint knows it by."""
    max_concurrency: int = 4
    timeout_seconds: float = 60.0
    """Per attempt: one HTTP exchange, connection included."""

    def api_key(self) -> str | None:
        """Read at call time, so a rotated key is picked up without a restart."""
        if self.api_key_env is None:
            return None
        return os.environ.get(self.api_key_env) or None
