"""organisations author content: tracks per organisation, authored files with versions, releases

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 19:40:00

"""
from alembic import op
import sqlalchemy as sa

import academy.models.base  # noqa: F401  (custom column types used below)


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('track', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organization_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('retired', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.drop_constraint('uq_track_code', type_='unique')
        batch_op.create_unique_constraint('uq_track_organization_code', ['organization_id', 'code'])
        batch_op.create_index(batch_op.f('ix_track_organization_id'), ['organization_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_track_organization_id_organization'), 'organization',
                                    ['organization_id'], ['id'], ondelete='CASCADE')
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.drop_constraint('uq_question_key', type_='unique')
        batch_op.create_unique_constraint('uq_question_track_key', ['track_id', 'key'])
    with op.batch_alter_table('lab', schema=None) as batch_op:
        batch_op.drop_constraint('uq_lab_key', type_='unique')
        batch_op.create_unique_constraint('uq_lab_track_key', ['track_id', 'key'])

    op.create_table('authored_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=300), nullable=False),
    sa.Column('created_at', academy.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_authored_file_organization_id_organization'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_authored_file')),
    sa.UniqueConstraint('organization_id', 'path', name='uq_authored_file_organization_path')
    )
    with op.batch_alter_table('authored_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_authored_file_organization_id'), ['organization_id'], unique=False)

    op.create_table('authored_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('created_at', academy.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_authored_version_author_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['file_id'], ['authored_file.id'], name=op.f('fk_authored_version_file_id_authored_file'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_authored_version')),
    sa.UniqueConstraint('file_id', 'number', name='uq_authored_version_file_number')
    )
    with op.batch_alter_table('authored_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_authored_version_file_id'), ['file_id'], unique=False)

    op.create_table('content_release',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('manifest', sa.JSON(), nullable=False),
    sa.Column('summary', sa.String(length=300), nullable=False),
    sa.Column('published_by', sa.Integer(), nullable=True),
    sa.Column('published_at', academy.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_content_release_organization_id_organization'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['published_by'], ['user_account.id'], name=op.f('fk_content_release_published_by_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_release')),
    sa.UniqueConstraint('organization_id', 'number', name='uq_content_release_organization_number')
    )
    with op.batch_alter_table('content_release', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_content_release_organization_id'), ['organization_id'], unique=False)


def downgrade():
    op.drop_table('content_release')
    op.drop_table('authored_version')
    op.drop_table('authored_file')
    with op.batch_alter_table('lab', schema=None) as batch_op:
        batch_op.drop_constraint('uq_lab_track_key', type_='unique')
        batch_op.create_unique_constraint('uq_lab_key', ['key'])
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.drop_constraint('uq_question_track_key', type_='unique')
        batch_op.create_unique_constraint('uq_question_key', ['key'])
    with op.batch_alter_table('track', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_track_organization_id_organization'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_track_organization_id'))
        batch_op.drop_constraint('uq_track_organization_code', type_='unique')
        batch_op.create_unique_constraint('uq_track_code', ['code'])
        batch_op.drop_column('retired')
        batch_op.drop_column('organization_id')
