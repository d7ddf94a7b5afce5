"""Signed receipts: one per execution, one Merkle root per job, checked offline
(docs/receipts.md)."""
