"""grading tickets: submissions counted against the rate limits while they are graded

Revision ID: 7d2f4a9c1e30
Revises: 9904529c578b
Create Date: 2026-12-01 00:15:00.000000

"""
from alembic import op
import sqlalchemy as sa
import quiz.db  # noqa: F401  (custom column types such as UTCDateTime)


# revision identifiers, used by Alembic.
revision = '7d2f4a9c1e30'
down_revision = '9904529c578b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'grading_tickets',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', quiz.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('grading_tickets', schema=None) as batch_op:
        batch_op.create_index(
            'ix_grading_tickets_user_time', ['user_id', 'created_at'], unique=False
        )


def downgrade():
    with op.batch_alter_table('grading_tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_grading_tickets_user_time')
    op.drop_table('grading_tickets')
