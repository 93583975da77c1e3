"""case-insensitive usernames, token expiry; login throttling moves to Flask-Limiter

Revision ID: 9904529c578b
Revises: a6ad4322999b
Create Date: 2026-12-01 00:02:51.187993

Existing accounts whose names differ only by case (Alice, alice, ALICE) are resolved safely:
the oldest account (lowest id) keeps its name; every later one is renamed to "<name>-<id>"
(shortened to fit 40 characters). No account, card state or review is deleted or merged. Before
this migration only the oldest of them could log in (login looked names up case-insensitively),
so nobody loses access; the renamed accounts become reachable under their new names, which the
upgrade prints.
"""
from datetime import timedelta

from alembic import op
import sqlalchemy as sa
import quiz.db  # noqa: F401  (custom column types such as UTCDateTime)


# revision identifiers, used by Alembic.
revision = '9904529c578b'
down_revision = 'a6ad4322999b'
branch_labels = None
depends_on = None

TOKEN_DAYS = 90


def _resolve_usernames(connection: sa.engine.Connection) -> None:
    users = sa.table("users", sa.column("id"), sa.column("username"), sa.column("username_key"))
    rows = connection.execute(sa.select(users.c.id, users.c.username).order_by(users.c.id)).all()
    taken: set[str] = set()
    for user_id, name in rows:
        new_name = name
        n = 0
        while new_name.lower() in taken:
            n += 1
            suffix = f"-{user_id}" + (f"-{n}" if n > 1 else "")
            new_name = name[: 40 - len(suffix)] + suffix
        taken.add(new_name.lower())
        if new_name != name:
            print(f"username {name!r} (id {user_id}) renamed to {new_name!r}: a case variant of an older account")
        connection.execute(
            users.update()
            .where(users.c.id == user_id)
            .values(username=new_name, username_key=new_name.lower())
        )


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('username_key', sa.String(length=40), nullable=True))
    _resolve_usernames(op.get_bind())
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('username_key', existing_type=sa.String(length=40), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_users_username_key'), ['username_key'])

    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', quiz.db.UTCDateTime(), nullable=True))
    tokens = sa.table(
        "api_tokens",
        sa.column("id"),
        sa.column("created_at", quiz.db.UTCDateTime()),
        sa.column("expires_at", quiz.db.UTCDateTime()),
    )
    bind = op.get_bind()
    for token_id, created in bind.execute(sa.select(tokens.c.id, tokens.c.created_at)).all():
        bind.execute(
            tokens.update()
            .where(tokens.c.id == token_id)
            .values(expires_at=created + timedelta(days=TOKEN_DAYS))
        )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.alter_column('expires_at', existing_type=quiz.db.UTCDateTime(), nullable=False)

    # Failed logins are counted by Flask-Limiter now (atomic, per account+address and address).
    with op.batch_alter_table('auth_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_failures_at'))
        batch_op.drop_index(batch_op.f('ix_auth_failures_key'))
    op.drop_table('auth_failures')


def downgrade():
    op.create_table(
        'auth_failures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=120), nullable=False),
        sa.Column('at', quiz.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_failures')),
    )
    with op.batch_alter_table('auth_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_failures_key'), ['key'], unique=False)
        batch_op.create_index(batch_op.f('ix_auth_failures_at'), ['at'], unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_users_username_key'), type_='unique')
        batch_op.drop_column('username_key')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
