"""covering index for live cards per topic (topic lists, dashboard)

Revision ID: 3f7b2c9e4a10
Revises: 15351e040902
Create Date: 2026-12-01 03:30:00.000000

"""
from alembic import op
import sqlalchemy as sa  # noqa: F401
import quiz.db  # noqa: F401  (custom column types such as UTCDateTime)


# revision identifiers, used by Alembic.
revision = '3f7b2c9e4a10'
down_revision = '15351e040902'
branch_labels = None
depends_on = None


def upgrade():
    # Counting a topic's live cards (and joining them to a user's states) reads only this
    # index: the card rows themselves are wide (rendered answers).
    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.create_index('ix_cards_topic_live', ['topic_id', 'retired', 'kind'], unique=False)


def downgrade():
    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.drop_index('ix_cards_topic_live')
