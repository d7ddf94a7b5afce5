"""Signed receipts: one per execution, one Merkle root per job, checked offline
(docs/receipts.md).

May import db/ and jobs/ (canonical JSON); execution/, services, the schema, the web edge
and the CLI import it.
"""
