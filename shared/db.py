"""Database plumbing shared by the services: engines, write transactions, migrations.

SQLite (embedded) runs in WAL mode with full fsync; a write transaction starts with
``BEGIN IMMEDIATE`` so two writers queue on the lock instead of failing on upgrade.
PostgreSQL gets a psycopg 3 engine. Timestamps are stored as UTC text or aware datetimes and
normalised on read by the repositories.
"""
from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Iterator, Mapping, Sequence

from sqlalchemy import JSON, BigInteger, Integer, Table, create_engine, event, exc, select
from sqlalchemy.engine import Connection, Engine, make_url

#: A 64-bit key that still autoincrements on SQLite.
BigKey = BigInteger().with_variant(Integer, "sqlite")


def make_engine(url: str, *, pool_size: int = 5, max_overflow: int | None = None) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database)
    if parsed.drivername in ("postgresql", "postgres"):
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    # No pre-ping (a round trip per transaction): a connection lost with a database restart fails
    # one transaction, which SQLAlchemy answers by recycling the whole pool.
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size * 2 if max_overflow is None else max_overflow,
                         future=True)


class NoDatabase(LookupError):
    """A database a reading command needs is not there; the message says where it looked."""


def where(url: str) -> str:
    """A database's place for a message: a SQLite file's path, else the URL without its password."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return str(parsed.database)
    return parsed.render_as_string(hide_password=True)


def open_existing(url: str, *, table: str | None = None, pool_size: int = 1) -> Engine:
    """An engine on a database that must already exist, for commands that only read: a SQLite
    file is opened only if it is there (no file and no folder is created), and ``table``, if
    given, must stand in it; a PostgreSQL URL is simply connected to. Raises ``NoDatabase``."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if not database or database == ":memory:" or not Path(database).is_file():
            raise NoDatabase(f"no database at {where(url)}")
        if table is not None and not _sqlite_has_table(Path(database), table):  # read-only: not even WAL is set
            raise NoDatabase(f"no {table} table in the database at {where(url)}")
    engine = make_engine(url, pool_size=pool_size)
    if table is not None:
        from sqlalchemy import inspect

        try:
            found = inspect(engine).has_table(table)
        except exc.DBAPIError as error:
            engine.dispose()
            raise NoDatabase(f"cannot open the database at {where(url)}: {error.orig}") from None
        if not found:
            engine.dispose()
            raise NoDatabase(f"no {table} table in the database at {where(url)}")
    return engine


def _sqlite_has_table(path: Path, table: str) -> bool:
    import sqlite3

    try:
        with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone() is not None
    except sqlite3.DatabaseError as error:
        raise NoDatabase(f"cannot read the database at {path}: {error}") from None


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, future=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_conn.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=30000"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        immediate = conn.get_execution_options().get("write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def bulk_insert(conn: Connection, table: Table, rows: Sequence[Mapping]) -> None:
    """Insert many rows: with COPY on PostgreSQL (about three times cheaper than a multi-row
    INSERT for the driver and the server), with executemany elsewhere."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(table.insert(), list(rows))
        return
    import psycopg

    names = list(rows[0])
    as_json = {name for name in names if isinstance(table.c[name].type, JSON)}
    columns = ", ".join('"%s"' % name for name in names)
    statement = f'COPY "{table.name}" ({columns}) FROM STDIN'
    try:
        with conn.connection.driver_connection.cursor() as cursor:
            with cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row([json.dumps(row[n], ensure_ascii=False) if n in as_json else row[n] for n in names])
    except psycopg.Error as error:  # speak SQLAlchemy's errors, as every other statement does
        if conn.dialect.is_disconnect(error, conn.connection.dbapi_connection, None):
            conn.invalidate(error)
        raise exc.DBAPIError.instance(statement, None, error, psycopg.Error) from error


class SoleHolder:
    """One process at a time among those on a PostgreSQL database holds ``name``: a session
    advisory lock on a connection of its own, kept while the process lives; when the process goes
    or that connection breaks, the lock is freed and another process takes it at its next
    ``holds()``. On SQLite every process holds it (each does the work)."""

    def __init__(self, engine: Engine, name: str):
        self.engine, self.name = engine, name
        self._conn: Connection | None = None

    def holds(self) -> bool:
        if self.engine.dialect.name != "postgresql":
            return True
        if self._conn is not None:
            try:
                self._conn.exec_driver_sql("SELECT 1").scalar()  # the session, and the lock with it, lives
                self._conn.commit()
                return True
            except exc.DBAPIError:
                self.release()
        conn = self.engine.connect()
        try:
            got = conn.exec_driver_sql("SELECT pg_try_advisory_lock(hashtext(%(name)s))", {"name": self.name}).scalar()
            conn.commit()  # the lock is the session's, not the transaction's
        except BaseException:
            conn.invalidate()
            conn.close()
            raise
        if got:
            self._conn = conn
            return True
        conn.close()
        return False

    def release(self) -> None:
        """Free it (the connection is closed, not pooled: the session goes with its lock)."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.invalidate()
            conn.close()


def upsert_statement(conn: Connection, table: Table):
    """``INSERT`` into ``table`` in the connection's dialect, which offers ``on_conflict_do_update``
    (PostgreSQL's and SQLite's spell it alike; the core ``insert`` has none)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def existing(conn: Connection, column, values: Sequence) -> set:
    """Which of ``values`` stand in ``column``, asked in chunks (a database caps the parameters
    of one statement)."""
    found: set = set()
    for start in range(0, len(values), 500):
        found.update(conn.execute(select(column).where(column.in_(values[start:start + 500]))).scalars())
    return found


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


@contextlib.contextmanager
def write_tx(engine: Engine) -> Iterator[Connection]:
    """A transaction that will write: takes SQLite's write lock up front."""
    with engine.connect() as conn:
        conn = conn.execution_options(write=True)
        with conn.begin():
            yield conn


@contextlib.contextmanager
def read_tx(engine: Engine) -> Iterator[Connection]:
    """A read-only snapshot (one transaction, so several queries agree)."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


def is_transient_db_error(error: BaseException) -> bool:
    """Errors worth retrying later: the database is unreachable, locked or restarting."""
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, (exc.OperationalError, exc.InterfaceError, exc.TimeoutError))


def migrate(url: str, migrations_dir: Path | str, version_table: str, revision: str = "head") -> None:
    """Bring one service's schema to ``revision`` with its own Alembic environment."""
    from alembic import command  # here: a third of a second of imports that only migrating needs
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["version_table"] = version_table
    engine = make_engine(url, pool_size=1)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":  # processes starting together migrate one at a time
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock(hashtext('{version_table}'))")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    finally:
        engine.dispose()


def run_migrations(context, target_metadata) -> None:
    """The body of every service's ``migrations/env.py``."""
    conn = context.config.attributes.get("connection")
    version_table = context.config.attributes.get("version_table", "alembic_version")
    if conn is None:  # plain `alembic` command line: connect from the URL
        engine = make_engine(context.config.get_main_option("sqlalchemy.url") or os.environ["DATABASE_URL"], pool_size=1)
        with engine.begin() as conn:
            _configure(context, conn, target_metadata, version_table)
        engine.dispose()
    else:
        _configure(context, conn, target_metadata, version_table)


def _configure(context, conn, target_metadata, version_table) -> None:
    context.configure(
        connection=conn,
        target_metadata=target_metadata,
        version_table=version_table,
        render_as_batch=conn.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
