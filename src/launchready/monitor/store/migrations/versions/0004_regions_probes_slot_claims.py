"""Regions, probes and slot claims: per-region check state, regional probes, shared scheduling.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "check_regions",
        sa.Column("check_name", sa.String(200), primary_key=True),
        sa.Column("region", sa.String(64), primary_key=True),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("state_since", sa.Float, nullable=True),
        sa.Column("consecutive_failures", sa.Integer, nullable=False),
        sa.Column("consecutive_successes", sa.Integer, nullable=False),
        sa.Column("last_result_at", sa.Float, nullable=True),
        sa.Column("last_ok", sa.Boolean, nullable=True),
        sa.Column("last_latency_ms", sa.Float, nullable=True),
        sa.Column("last_reason", sa.Text, nullable=True),
        sa.Column("last_evidence", sa.Text, nullable=True),
    )
    op.create_table(
        "probes",
        sa.Column("region", sa.String(64), primary_key=True),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("state_since", sa.Float, nullable=False),
        sa.Column("last_seen_at", sa.Float, nullable=True),
        sa.Column("token_name", sa.String(100), nullable=True),
        sa.Column("clock_offset_s", sa.Float, nullable=True),
        sa.Column("results_received", sa.Integer, nullable=False),
        sa.Column("results_dropped", sa.Integer, nullable=False),
    )
    op.create_table(
        "slot_claims",
        sa.Column("check_name", sa.String(200), primary_key=True),
        sa.Column("region", sa.String(64), primary_key=True),
        sa.Column("slot_at", sa.Float, primary_key=True),
        sa.Column("node", sa.String(100), nullable=False),
        sa.Column("claimed_at", sa.Float, nullable=False),
    )
    op.create_index("ix_slot_claims_claimed_at", "slot_claims", ["claimed_at"])


def downgrade() -> None:
    op.drop_index("ix_slot_claims_claimed_at", table_name="slot_claims")
    op.drop_table("slot_claims")
    op.drop_table("probes")
    op.drop_table("check_regions")
