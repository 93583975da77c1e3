"""covering index for progress aggregates (retention, new cards today)

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
    # The dashboard's retention figures read (state_before, rating) for up to a year of reviews;
    # with these columns in the index SQLite never touches the wide log rows.
    with op.batch_alter_table('review_logs', schema=None) as batch_op:
        batch_op.create_index(
            'ix_review_logs_user_time_outcome',
            ['user_id', 'reviewed_at', 'state_before', 'rating'],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table('review_logs', schema=None) as batch_op:
        batch_op.drop_index('ix_review_logs_user_time_outcome')
