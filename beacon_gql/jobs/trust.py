"""Which public keys may submit jobs, and when: the trusted keys file.

The file is a JSON array of `{kid, public_key, status, not_before, not_after}` objects. It is
re-read whenever its size or modification time changes, so revoking a key takes effect on the
next submission without a restart.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, TypeAlias, get_args

from beacon_gql.errors import Forbidden, Unauthenticated
from beacon_gql.jobs.signing import PUBLIC_KEY_BYTES, decode_strict_base64

logger = logging.getLogger("beacon_gql.trust")

KeyStatus: TypeAlias = Literal["active", "revoked"]
_KEY_STATUSES: frozenset[str] = frozenset(get_args(KeyStatus))

# (st_mtime_ns, st_size, st_ino): cheap to read, and changes whenever the file is rewritten
# or replaced by a rename.
_FileVersion: TypeAlias = tuple[int, int, int]


class TrustFileError(ValueError):
    """The trusted keys file cannot be used; the message names the entry and field."""


@dataclass(frozen=True)
class TrustedKey:
    kid: str
    public_key: str  # standard padded base64 of the raw 32-byte Ed25519 key
    status: KeyStatus
    not_before: datetime | None  # timezone-aware; None means no lower bound
    not_after: datetime | None  # timezone-aware, inclusive; None means no expiry

    def __post_init__(self) -> None:
        # Comparing a naive bound with the aware submission time would raise TypeError later.
        for bound in (self.not_before, self.not_after):
            if bound is not None and bound.tzinfo is None:
                raise ValueError(f"key {self.kid}: validity times must be timezone-aware")


class TrustStore:
    """The set of trusted keys, optionally backed by a file that is reloaded when it changes."""

    def __init__(self, keys: Iterable[TrustedKey], *, path: Path | None = None) -> None:
        key_list = list(keys)
        _refuse_duplicates(key_list)
        self._keys = _index_by_public_key(key_list)
        self._path = path
        self._version: _FileVersion | None = None

    @classmethod
    def from_file(cls, path: Path) -> TrustStore:
        # Stat before reading: a write in between then shows up as a change on the next
        # check instead of being missed.
        version = _file_version(path)
        store = cls(_parse_file(path), path=path)
        store._version = version
        return store

    @classmethod
    def from_keys(cls, keys: Iterable[TrustedKey]) -> TrustStore:
        return cls(keys)

    @classmethod
    def empty(cls) -> TrustStore:
        return cls(())

    @property
    def keys(self) -> tuple[TrustedKey, ...]:
        return tuple(self._keys.values())

    def require_trusted(self, public_key: str, at: datetime) -> TrustedKey:
        """The trusted key for `public_key`, or Forbidden saying why it may not sign at `at`."""
        if at.tzinfo is None:
            raise ValueError("the time to check a key at must be timezone-aware")
        self._reload_if_changed()
        key = self._keys.get(public_key)
        if key is None:
            raise Forbidden(
                f"public key {public_key} is not in the trusted keys file; ask an operator to "
                "add it (`beacon-gql keygen` prints the entry)",
                field="public_key",
            )
        if key.status == "revoked":
            raise Forbidden(f"key {key.kid} has been revoked", field="public_key")
        if key.not_before is not None and at < key.not_before:
            raise Forbidden(
                f"key {key.kid} is not valid until {_iso(key.not_before)}", field="public_key"
            )
        if key.not_after is not None and at > key.not_after:
            raise Forbidden(f"key {key.kid} expired at {_iso(key.not_after)}", field="public_key")
        return key

    def _reload_if_changed(self) -> None:
        if self._path is None:
            return
        problem: TrustFileError | None = None
        try:
            version: _FileVersion | None = _file_version(self._path)
        except TrustFileError as error:
            version, problem = None, error
        if version == self._version:
            return
        # Remember this version even if it is broken, so it is reported once, not on every
        # submission; the next edit of the file gets a fresh attempt.
        self._version = version
        if problem is None:
            try:
                keys = _parse_file(self._path)
            except TrustFileError as error:
                problem = error
            else:
                self._keys = _index_by_public_key(keys)
                logger.info("reloaded trusted keys file %s: %d keys", self._path, len(keys))
                return
        logger.warning("%s; still using the %d keys loaded before", problem, len(self._keys))


def trusted_key_entry(
    kid: str,
    public_key: str,
    *,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> dict[str, object]:
    """The trusted keys file entry for a new, active key (what `beacon-gql keygen` prints)."""
    entry: dict[str, object] = {
        "kid": kid,
        "public_key": public_key,
        "status": "active",
        "not_before": None if not_before is None else _iso(_require_aware(not_before)),
        "not_after": None if not_after is None else _iso(_require_aware(not_after)),
    }
    # Refuse to print an entry the server would then refuse to load.
    _parse_entry(entry, 0)
    return entry


def parse_trusted_keys(document: object) -> list[TrustedKey]:
    """Validate a parsed trusted keys file; TrustFileError names the bad entry and field."""
    if not isinstance(document, list):
        raise TrustFileError("the trusted keys file must be a JSON array of key objects")
    keys = [_parse_entry(entry, index) for index, entry in enumerate(document)]
    _refuse_duplicates(keys)
    return keys


def _parse_file(path: Path) -> list[TrustedKey]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise TrustFileError(f"cannot read trusted keys file {path}: {error}") from error
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise TrustFileError(f"trusted keys file {path} is not valid JSON: {error}") from error
    try:
        return parse_trusted_keys(document)
    except TrustFileError as error:
        raise TrustFileError(f"trusted keys file {path}: {error}") from error


def _parse_entry(entry: object, index: int) -> TrustedKey:
    where = f"entry {index}"
    if not isinstance(entry, Mapping):
        raise TrustFileError(f"{where} must be an object")
    kid = entry.get("kid")
    if not isinstance(kid, str) or not kid.strip():
        raise TrustFileError(f"{where}: field 'kid' must be a non-empty string")
    where = f"entry {index} (kid {kid!r})"
    try:
        raw_public_key = decode_strict_base64(
            entry.get("public_key"), expected_bytes=PUBLIC_KEY_BYTES, field="public_key"
        )
    except Unauthenticated as error:
        raise TrustFileError(f"{where}: field {error.message}") from None
    status = entry.get("status")
    if not isinstance(status, str) or status not in _KEY_STATUSES:
        raise TrustFileError(f'{where}: field \'status\' must be "active" or "revoked"')
    not_before = _parse_time(entry.get("not_before"), f"{where}: field 'not_before'")
    not_after = _parse_time(entry.get("not_after"), f"{where}: field 'not_after'")
    if not_before is not None and not_after is not None and not_after < not_before:
        raise TrustFileError(f"{where}: field 'not_after' is before 'not_before'")
    return TrustedKey(
        kid=kid,
        # Strict decoding means this re-encoding is exactly the text in the file.
        public_key=base64.b64encode(raw_public_key).decode("ascii"),
        status="active" if status == "active" else "revoked",
        not_before=not_before,
        not_after=not_after,
    )


def _parse_time(value: object, where: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TrustFileError(f"{where} must be an ISO-8601 string or null")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise TrustFileError(
            f"{where} is not an ISO-8601 time: {value!r} (e.g. 2026-01-31T00:00:00Z)"
        ) from None
    # Operators write dates by hand; a time without an offset is read as UTC, not server time.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _refuse_duplicates(keys: list[TrustedKey]) -> None:
    seen_kids: dict[str, int] = {}
    seen_public_keys: dict[str, int] = {}
    for index, key in enumerate(keys):
        if key.kid in seen_kids:
            raise TrustFileError(
                f"entry {index}: field 'kid' {key.kid!r} repeats entry {seen_kids[key.kid]}"
            )
        if key.public_key in seen_public_keys:
            raise TrustFileError(
                f"entry {index}: field 'public_key' repeats entry "
                f"{seen_public_keys[key.public_key]}; one key needs one status"
            )
        seen_kids[key.kid] = index
        seen_public_keys[key.public_key] = index


def _index_by_public_key(keys: Iterable[TrustedKey]) -> dict[str, TrustedKey]:
    return {key.public_key: key for key in keys}


def _file_version(path: Path) -> _FileVersion:
    try:
        stat = os.stat(path)
    except OSError as error:
        raise TrustFileError(f"cannot read trusted keys file {path}: {error}") from error
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


def _require_aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("key validity times must be timezone-aware")
    return moment


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
