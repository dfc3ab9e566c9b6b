"""The error intake's tables: projects (DSN keys), groups, events, per-minute counts, tags,
transactions (latency samples), sessions and attachments.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "error_attachments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.Text(), nullable=True),
        sa.Column("received_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "error_projects",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("public_key"),
    )
    op.create_table(
        "error_sessions",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("minute", sa.Integer(), nullable=False),
        sa.Column("release", sa.String(length=200), nullable=False),
        sa.Column("environment", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "minute", "release", "environment", "status"),
    )
    op.create_table(
        "error_transactions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.Float(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=True),
        sa.Column("environment", sa.String(length=100), nullable=True),
        sa.Column("release", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_error_transactions_project_received", "error_transactions", ["project_id", "received_at"], unique=False
    )
    op.create_table(
        "error_groups",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=40), nullable=False),
        sa.Column("grouping_basis", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("culprit", sa.Text(), nullable=True),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("resolved_at", sa.Float(), nullable=True),
        sa.Column("resolved_in_release", sa.String(length=200), nullable=True),
        sa.Column("first_seen", sa.Float(), nullable=False),
        sa.Column("last_seen", sa.Float(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("users", sa.JSON(), nullable=False),
        sa.Column("users_count", sa.Integer(), nullable=False),
        sa.Column("environments", sa.JSON(), nullable=False),
        sa.Column("first_release", sa.String(length=200), nullable=True),
        sa.Column("last_release", sa.String(length=200), nullable=True),
        sa.Column("first_deploy_id", sa.Integer(), nullable=True),
        sa.Column("sample_event_id", sa.String(length=32), nullable=True),
        sa.Column("stack_top", sa.Text(), nullable=True),
        sa.Column("last_alert_at", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["error_projects.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "fingerprint", name="uq_error_groups_project_fingerprint"),
    )
    op.create_index("ix_error_groups_last_seen", "error_groups", ["last_seen"], unique=False)
    op.create_table(
        "error_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.Float(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("environment", sa.String(length=100), nullable=True),
        sa.Column("release", sa.String(length=200), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["error_groups.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_error_events_event_id", "error_events", ["event_id"], unique=False)
    op.create_index("ix_error_events_group_received", "error_events", ["group_id", "received_at"], unique=False)
    op.create_table(
        "error_group_minutes",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("minute", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["error_groups.id"],
        ),
        sa.PrimaryKeyConstraint("group_id", "minute"),
    )
    op.create_table(
        "error_group_tags",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["error_groups.id"],
        ),
        sa.PrimaryKeyConstraint("group_id", "key", "value"),
    )
    op.create_index("ix_error_group_tags_key_value", "error_group_tags", ["key", "value"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_error_group_tags_key_value", table_name="error_group_tags")
    op.drop_table("error_group_tags")
    op.drop_table("error_group_minutes")
    op.drop_index("ix_error_events_group_received", table_name="error_events")
    op.drop_index("ix_error_events_event_id", table_name="error_events")
    op.drop_table("error_events")
    op.drop_index("ix_error_groups_last_seen", table_name="error_groups")
    op.drop_table("error_groups")
    op.drop_index("ix_error_transactions_project_received", table_name="error_transactions")
    op.drop_table("error_transactions")
    op.drop_table("error_sessions")
    op.drop_table("error_projects")
    op.drop_table("error_attachments")
