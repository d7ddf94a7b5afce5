"""GraphQL types of receipts (docs/receipts.md): what a verifier needs, nothing computed here."""

from __future__ import annotations

from datetime import datetime

import strawberry

from beacon_gql.db.models import Execution, ReceiptRoot
from beacon_gql.receipts.service import InclusionProof


@strawberry.type(
    name="Receipt",
    description="A signed statement of how one execution ended (docs/receipts.md).",
)
class ReceiptType:
    payload: str = strawberry.field(
        description="The canonical JSON that was signed, verbatim: verify the signature over "
        "its UTF-8 bytes, then compare its fields with the execution."
    )
    signature: str = strawberry.field(description="Ed25519 signature, standard base64.")
    key_id: str = strawberry.field(
        description="The signing key, as listed at /.well-known/beacon-keys.json."
    )

    @classmethod
    def of(cls, row: Execution) -> ReceiptType | None:
        if (
            row.receipt_payload is None
            or row.receipt_signature is None
            or row.receipt_key_id is None
        ):
            return None
        return cls(
            payload=row.receipt_payload,
            signature=row.receipt_signature,
            key_id=row.receipt_key_id,
        )


@strawberry.type(
    name="ReceiptRoot",
    description="The RFC 6962 Merkle root over a job's receipts in position order, signed.",
)
class ReceiptRootType:
    root: str = strawberry.field(description="The Merkle tree hash, 64 hex digits.")
    signature: str = strawberry.field(
        description='Ed25519 signature (base64) of the canonical JSON {"jobId", "keyId", '
        '"leaves", "root", "type": "beacon-receipt-root/1"}.'
    )
    key_id: str
    leaves: int = strawberry.field(description="How many receipts the tree holds.")
    signed_at: datetime

    @classmethod
    def of(cls, row: ReceiptRoot) -> ReceiptRootType:
        return cls(
            root=row.root,
            signature=row.signature,
            key_id=row.key_id,
            leaves=row.leaves,
            signed_at=row.signed_at,
        )


@strawberry.type(
    name="ReceiptProof",
    description="The audit path (RFC 6962 2.1.1) of one receipt up to its job's root.",
)
class ReceiptProofType:
    leaf_index: int
    tree_size: int
    root: str
    path: list[str] = strawberry.field(description="Sibling hashes, leaf first, 64 hex each.")

    @classmethod
    def of(cls, proof: InclusionProof) -> ReceiptProofType:
        return cls(
            leaf_index=proof.leaf_index,
            tree_size=proof.tree_size,
            root=proof.root,
            path=list(proof.path),
        )
