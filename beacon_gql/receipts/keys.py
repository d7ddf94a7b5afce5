"""The server's receipt signing keys: one current Ed25519 key and the public halves of the
retired ones, kept in one JSON file so that a rotation never invalidates an old receipt.

The file (`BEACON_SIGNING_KEY_FILE`, by default `.beacon/signing-key.json`):

    {"format": "beacon-signing-keys/1",
     "current": {"keyId": "...", "privateKey": "<base64 32-byte seed>", "createdAt": "..."},
     "retired": [{"keyId": "...", "publicKey": "<base64>", "createdAt": "...",
                  "retiredAt": "..."}]}

A key id is the first 16 hex digits of SHA-256 over the raw 32-byte public key, so anyone
can check that an id belongs to its key.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from nacl.signing import SigningKey, VerifyKey

log = logging.getLogger("beacon_gql.receipts")

DEFAULT_KEY_FILE: Final = Path(".beacon") / "signing-key.json"
KEY_FILE_FORMAT: Final = "beacon-signing-keys/1"
KEYS_DOCUMENT_FORMAT: Final = "beacon-keys/1"
ALGORITHM: Final = "Ed25519"


class KeyFileError(ValueError):
    """The signing key file cannot be used; the message names the file and the problem."""


def key_id_of(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()[:16]


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


@dataclass(frozen=True)
class PublishedKey:
    key_id: str
    public_key: bytes
    status: str  # "current" or "retired"
    created_at: str | None = None
    retired_at: str | None = None

    def as_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "keyId": self.key_id,
            "algorithm": ALGORITHM,
            "publicKey": b64(self.public_key),
            "status": self.status,
        }
        if self.created_at is not None:
            entry["createdAt"] = self.created_at
        if self.retired_at is not None:
            entry["retiredAt"] = self.retired_at
        return entry


@dataclass(frozen=True)
class Keyring:
    """The current signing key and every key whose receipts must still verify."""

    signing_key: SigningKey
    key_id: str
    published: tuple[PublishedKey, ...]

    def sign(self, message: bytes) -> str:
        return b64(self.signing_key.sign(message).signature)

    def document(self) -> dict[str, Any]:
        """What `/.well-known/beacon-keys.json` serves."""
        return {"format": KEYS_DOCUMENT_FORMAT, "keys": [k.as_json() for k in self.published]}


def _now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def new_key_file_content(retired: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    seed = SigningKey.generate()
    return {
        "format": KEY_FILE_FORMAT,
        "current": {
            "keyId": key_id_of(bytes(seed.verify_key)),
            "privateKey": b64(bytes(seed)),
            "createdAt": _now_text(),
        },
        "retired": retired or [],
    }


def _write_private(path: Path, content: dict[str, Any], *, exclusive: bool) -> None:
    """Owner-only permissions from the first byte; `exclusive` refuses an existing file so
    two processes starting together do not each make a key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(content, indent=2) + "\n"
    if exclusive:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
        return
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        raise


def load_keyring(path: Path | None) -> Keyring:
    """The keys of `path`; with no path, the default file, created on first start."""
    if path is None:
        path = DEFAULT_KEY_FILE
        if not path.exists():
            try:
                _write_private(path, new_key_file_content(), exclusive=True)
            except FileExistsError:
                pass  # another process made it a moment ago: use theirs
            else:
                log.warning(
                    "created a new receipt signing key in %s (set BEACON_SIGNING_KEY_FILE to "
                    "use another; keep this file: it signs every receipt)",
                    path,
                )
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KeyFileError(
            f"BEACON_SIGNING_KEY_FILE {path} does not exist: make it with "
            "`beacon-gql rotate-signing-key`, once, and share it with every server and worker"
        ) from None
    except (OSError, ValueError) as error:
        raise KeyFileError(f"cannot read the signing key file {path}: {error}") from None
    return keyring_from(content, source=str(path))


def _decode(value: object, *, source: str, what: str) -> bytes:
    try:
        if not isinstance(value, str):
            raise ValueError("not a string")
        raw = base64.b64decode(value, validate=True)
    except ValueError:
        raise KeyFileError(f"{source}: {what} is not base64") from None
    if len(raw) != 32:
        raise KeyFileError(f"{source}: {what} must be 32 bytes, got {len(raw)}")
    return raw


def keyring_from(content: object, *, source: str) -> Keyring:
    if not isinstance(content, dict) or content.get("format") != KEY_FILE_FORMAT:
        raise KeyFileError(f"{source}: not a signing key file (format {KEY_FILE_FORMAT!r})")
    current = content.get("current")
    if not isinstance(current, dict):
        raise KeyFileError(f"{source}: the current key is missing")
    signing_key = SigningKey(
        _decode(current.get("privateKey"), source=source, what="current.privateKey")
    )
    public = bytes(signing_key.verify_key)
    published = [
        PublishedKey(key_id_of(public), public, "current", created_at=current.get("createdAt"))
    ]
    retired = content.get("retired") or []
    if not isinstance(retired, list):
        raise KeyFileError(f"{source}: retired must be a list")
    for index, entry in enumerate(retired):
        if not isinstance(entry, dict):
            raise KeyFileError(f"{source}: retired[{index}] must be an object")
        raw = _decode(entry.get("publicKey"), source=source, what=f"retired[{index}].publicKey")
        VerifyKey(raw)  # refuses bytes that are not a key
        published.append(
            PublishedKey(
                key_id_of(raw),
                raw,
                "retired",
                created_at=entry.get("createdAt"),
                retired_at=entry.get("retiredAt"),
            )
        )
    return Keyring(signing_key, key_id_of(public), tuple(published))


def rotate_key_file(path: Path | None) -> tuple[str | None, str]:
    """Make a new current key; the old one's public half joins the retired keys, so the
    receipts it signed still verify. Returns (old key id, new key id); with no file yet, it
    makes the first key and the old key id is None."""
    path = path or DEFAULT_KEY_FILE
    if not path.exists():
        first = new_key_file_content()
        _write_private(path, first, exclusive=True)
        return None, str(first["current"]["keyId"])
    old = load_keyring(path)
    content = json.loads(path.read_text(encoding="utf-8"))
    previous = content["current"]
    retired = [
        {
            "keyId": old.key_id,
            "publicKey": b64(bytes(old.signing_key.verify_key)),
            "createdAt": previous.get("createdAt"),
            "retiredAt": _now_text(),
        },
        *content.get("retired", []),
    ]
    fresh = new_key_file_content(retired)
    _write_private(path, fresh, exclusive=False)
    return old.key_id, str(fresh["current"]["keyId"])
