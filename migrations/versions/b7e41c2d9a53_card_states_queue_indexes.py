"""card_states index for the study queue: per state in due order

Revision ID: b7e41c2d9a53
Revises: 68d796e85b56
Create Date: 2026-12-01 06:00:00.000000

"""
from alembic import op
import sqlalchemy as sa  # noqa: F401
import quiz.db  # noqa: F401  (custom column types such as UTCDateTime)


# revision identifiers, used by Alembic.
revision = 'b7e41c2d9a53'
down_revision = '68d796e85b56'
branch_labels = None
depends_on = None


def upgrade():
    # The queue's learning cards and due reviews as one range per state in due order: on the
    # (user, due) index it read every due card of the user (nearly all reviews) to test its
    # state, twice per answer.
    with op.batch_alter_table('card_states', schema=None) as batch_op:
        batch_op.create_index(
            'ix_card_states_user_state_due', ['user_id', 'state', 'due'], unique=False
        )


def downgrade():
    with op.batch_alter_table('card_states', schema=None) as batch_op:
        batch_op.drop_index('ix_card_states_user_state_due')
