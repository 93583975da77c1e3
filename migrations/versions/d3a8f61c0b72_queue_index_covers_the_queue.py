"""the study queue's state index covers what the queue reads

Revision ID: d3a8f61c0b72
Revises: b7e41c2d9a53
Create Date: 2026-12-01 08:20:00.000000

"""
from alembic import op
import sqlalchemy as sa  # noqa: F401
import quiz.db  # noqa: F401  (custom column types such as UTCDateTime)


# revision identifiers, used by Alembic.
revision = 'd3a8f61c0b72'
down_revision = 'b7e41c2d9a53'
branch_labels = None
depends_on = None

_COLUMNS = ['user_id', 'state', 'due', 'card_id', 'suspended', 'buried_until']


def upgrade():
    # The queue counts up to a day's reviews per answer, walking (user, state, due); with the
    # card and the suspended/buried flags in the index it no longer reads each state's row.
    with op.batch_alter_table('card_states', schema=None) as batch_op:
        batch_op.drop_index('ix_card_states_user_state_due')
        batch_op.create_index('ix_card_states_user_state_due', _COLUMNS, unique=False)


def downgrade():
    with op.batch_alter_table('card_states', schema=None) as batch_op:
        batch_op.drop_index('ix_card_states_user_state_due')
        batch_op.create_index(
            'ix_card_states_user_state_due', ['user_id', 'state', 'due'], unique=False
        )
