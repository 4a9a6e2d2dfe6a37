"""Alembic environment: runs on the connection handed over by ``lingtan.store.session.migrate``."""

from alembic import context
from sqlalchemy import create_engine

from lingtan.store import (
    carbon_models,  # noqa: F401  (registers the carbon tables)
    grid_models,  # noqa: F401  (registers the job and grid tables)
)
from lingtan.store.models import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        engine = create_engine(str(config.get_main_option("sqlalchemy.url")))
        with engine.begin() as conn:
            context.configure(
                connection=conn, target_metadata=target_metadata, render_as_batch=True
            )
            with context.begin_transaction():
                context.run_migrations()
        return
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run()
