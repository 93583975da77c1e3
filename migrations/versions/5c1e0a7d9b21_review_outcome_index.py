"""index for progress aggregates (true retention, new cards today)

Revision ID: 5c1e0a7d9b21
Revises: ee3cbd4543a5
Create Date: 2026-11-30 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa  # noqa: F401
import quiz.db  # noqa: F401  (custom column types such as UTCDateTime)


# revision identifiers, used by Alembic.
revision = '5c1e0a7d9b21'
down_revision = 'ee3cbd4543a5'
branch_labels = None
depends_on = None


def upgrade():
    # The dashboard's true retention counts a year of reviews by (state before, rating): in
    # this order each count is an index range, and SQLite never reads the wide log rows.
    with op.batch_alter_table('review_logs', schema=None) as batch_op:
        batch_op.create_index(
            'ix_review_logs_user_outcome_time',
            ['user_id', 'state_before', 'rating', 'reviewed_at'],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table('review_logs', schema=None) as batch_op:
        batch_op.drop_index('ix_review_logs_user_outcome_time')
