"""Ed25519 jobspec signatures, compatible with the predecessor portal's signJobSpecForAPI."""

from __future__ import annotations

import base64
import binascii
import copy
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from nacl.exceptions import CryptoError
from nacl.signing import SigningKey, VerifyKey

from beacon_gql.errors import BadUserInput, Unauthenticated
from beacon_gql.jobs.canonical import signable_message

PUBLIC_KEY_BYTES: Final = 32
SIGNATURE_BYTES: Final = 64
SEED_BYTES: Final = 32
NONCE_COMMITMENT_BYTES: Final = 32

_NOT_IN_ALPHABET: Final = re.compile(r"[^A-Za-z0-9+/=]")


@dataclass(frozen=True)
class VerifiedSignature:
    public_key: str  # the base64 text, as sent; strict decoding makes it unique per key
    signature: bytes
    # R, the first half of the signature. Two different signatures sharing it for one key
    # mean the signer reused its Ed25519 nonce (as the portal does) and the key is exposed.
    nonce_commitment: bytes


def decode_strict_base64(text: object, *, expected_bytes: int, field: str) -> bytes:
    """Decode standard, padded base64 and refuse everything a lenient decoder would forgive.

    Lenient decoders (atob, Buffer.from, base64.b64decode without validate) skip unknown
    characters, so a mangled value could still verify; we want one spelling per byte string.
    """
    if not isinstance(text, str):
        raise Unauthenticated(
            f"{field} must be a base64 string, got {_json_type_name(text)}", field=field
        )
    stray = _NOT_IN_ALPHABET.search(text)
    if stray is not None:
        raise Unauthenticated(
            f"{field} is not valid standard base64: character {stray.group()!r} at position "
            f"{stray.start()} (only A-Z, a-z, 0-9, '+', '/' and '=' padding are allowed)",
            field=field,
        )
    if len(text) % 4:
        raise Unauthenticated(
            f"{field} is not valid standard base64: its length {len(text)} is not a multiple "
            "of 4 (is the '=' padding missing?)",
            field=field,
        )
    misplaced_padding = text.rstrip("=").find("=")
    if misplaced_padding >= 0:
        raise Unauthenticated(
            f"{field} is not valid standard base64: '=' at position {misplaced_padding} "
            "(padding may only appear at the end)",
            field=field,
        )
    try:
        # validate=True refuses stray characters but still accepts non-zero unused bits in the
        # last character ("AB==" decodes like "AA=="); comparing with the canonical
        # re-encoding refuses those and any wrong amount of padding.
        decoded = base64.b64decode(text, validate=True)
    except binascii.Error:
        decoded = None
    if decoded is None or base64.b64encode(decoded).decode("ascii") != text:
        raise Unauthenticated(
            f"{field} is not valid standard base64: '=' padding or the final character is "
            "wrong (it is not the canonical encoding of any byte string)",
            field=field,
        )
    if len(decoded) != expected_bytes:
        raise Unauthenticated(
            f"{field} must be {expected_bytes} bytes, got {len(decoded)}", field=field
        )
    return decoded


def verify_spec_signature(spec: Mapping[str, object]) -> VerifiedSignature:
    """Check the jobspec's own `signature` against its own `public_key`.

    Whether that key may submit at all is the trust store's decision, not this function's.
    """
    for field in ("signature", "public_key"):
        if spec.get(field) in (None, ""):
            raise Unauthenticated(
                f"jobspec is not signed: {field} is missing (sign it with `beacon-gql sign` "
                "or the portal)",
                field=field,
            )
    public_key = decode_strict_base64(
        spec["public_key"], expected_bytes=PUBLIC_KEY_BYTES, field="public_key"
    )
    signature = decode_strict_base64(
        spec["signature"], expected_bytes=SIGNATURE_BYTES, field="signature"
    )
    try:
        # libsodium refuses non-canonical S (S >= L) and small-order keys, so a malleated
        # copy of a valid signature does not verify.
        VerifyKey(public_key).verify(signable_message(spec), signature)
    except CryptoError:
        raise Unauthenticated(
            "signature does not match the jobspec and public_key: the jobspec was changed "
            "after signing, or it was signed by a different key",
            field="signature",
        ) from None
    return VerifiedSignature(
        # Strict decoding means this re-encoding is exactly the text that was sent.
        public_key=_b64(public_key),
        signature=signature,
        nonce_commitment=signature[:NONCE_COMMITMENT_BYTES],
    )


def generate_signing_key() -> tuple[str, str]:
    """A new key pair as (private seed, public key), both standard padded base64."""
    signing_key = SigningKey.generate()
    return _b64(bytes(signing_key)), _b64(bytes(signing_key.verify_key))


def sign_spec(
    spec: Mapping[str, object],
    private_seed_b64: str,
    *,
    now: datetime | None = None,
    nonce: str | None = None,
) -> dict[str, object]:
    """Sign a jobspec the way the portal does, returning a new, ready-to-submit jobspec.

    The signature is deterministic RFC 8032 Ed25519, so unlike the portal's, its first half
    differs for every message and never exposes the key.
    """
    try:
        seed = decode_strict_base64(
            private_seed_b64, expected_bytes=SEED_BYTES, field="private_seed"
        )
    except Unauthenticated as error:
        raise BadUserInput(error.message, field="private_seed") from None
    signing_key = SigningKey(seed)

    metadata = spec.get("metadata", {})
    if not isinstance(metadata, Mapping):
        raise BadUserInput(
            f"jobspec metadata must be an object, got {_json_type_name(metadata)}",
            field="metadata",
        )
    timestamp = _iso_millis(now if now is not None else datetime.now(UTC))
    signed: dict[str, object] = copy.deepcopy(dict(spec))
    signed["metadata"] = {
        **copy.deepcopy(dict(metadata)),
        "timestamp": timestamp,
        "nonce": nonce if nonce is not None else new_nonce(),
    }
    signed["created_at"] = timestamp
    signed.pop("signature", None)
    signed.pop("public_key", None)
    signature = signing_key.sign(signable_message(signed)).signature
    signed["signature"] = _b64(signature)
    signed["public_key"] = _b64(bytes(signing_key.verify_key))
    return signed


def new_nonce() -> str:
    """A replay nonce in the portal's shape: 16 random bytes, base64 without the '=='."""
    return _b64(secrets.token_bytes(16))[:22]


def _iso_millis(moment: datetime) -> str:
    """JavaScript's Date.prototype.toISOString: UTC, milliseconds (truncated), trailing Z."""
    if moment.tzinfo is None:
        raise ValueError("the signing time must be timezone-aware")
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _json_type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    return f"a {type(value).__name__}"
