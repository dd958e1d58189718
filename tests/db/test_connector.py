"""Both connectors serve the same interface, translate errors, and the provider counts calls."""

from __future__ import annotations

import uuid

import pytest

from iucut.config import Settings
from iucut.db.connector import Connection, ConnectionProvider, Json, open_provider
from iucut.db.target import Target
from iucut.errors import (
    ConnectionFailed,
    ContractError,
    DatabaseError,
    Frozen,
    NotFound,
    StalePlan,
)

pytestmark = pytest.mark.db


def test_both_drivers_serve_the_interface(db, driver):
    """Each driver gives a Connection with dict rows, a server version and a backend pid."""
    conn = db.connect(driver=driver)
    assert not conn.in_transaction
    assert isinstance(conn, Connection)
    assert conn.driver_name == driver
    assert conn.server_version >= 130000
    pid = conn.execute("SELECT pg_backend_pid() AS pid").scalar()
    assert conn.backend_pid == pid
    rows = conn.execute("SELECT %(a)s::int AS a, %(b)s AS b", {"a": 1, "b": "x"}).fetchall()
    assert conn.in_transaction
    assert rows == [{"a": 1, "b": "x"}]


def test_same_values_from_both_drivers(db):
    """uuid, jsonb (dict and Json list), arrays and NULL come back alike from both drivers."""
    sql = (
        "SELECT %(u)s::uuid AS u, %(d)s::jsonb AS d, %(l)s::jsonb AS l, "
        "%(a)s::text[] AS a, NULL::text AS n"
    )
    u = uuid.uuid4()
    params = {"u": u, "d": {"k": [1, 2]}, "l": Json([{"x": 1}]), "a": ["p", "q"]}
    results = [
        db.connect(driver=d).execute(sql, params).fetchone() for d in ("psycopg", "psycopg2")
    ]
    assert (
        results[0]
        == results[1]
        == {"u": u, "d": {"k": [1, 2]}, "l": [{"x": 1}], "a": ["p", "q"], "n": None}
    )


def test_executescript_runs_several_statements_with_literal_percent(db, driver):
    """executescript sends SQL without parameters: several statements, % stays literal."""
    conn = db.connect(driver=driver, autocommit=True)
    conn.executescript(
        "CREATE TEMP TABLE t (x text); INSERT INTO t VALUES ('100%'); "
        "DO $$ BEGIN RAISE NOTICE 'at 50%% of %', 'x'; END $$;"
    )
    assert conn.execute("SELECT x FROM t").scalar() == "100%"


def test_rowcount(db, driver):
    """rowcount is the number of affected rows."""
    conn = db.connect(driver=driver)
    conn.executescript("CREATE TEMP TABLE t (x int)")
    assert conn.execute("INSERT INTO t SELECT generate_series(1, 3)").rowcount == 3


@pytest.mark.parametrize("autocommit", [False, True])
def test_transaction_commits_on_clean_exit(db, driver, autocommit):
    """transaction() commits on a clean exit, whatever the autocommit mode."""
    conn = db.connect(driver=driver, autocommit=autocommit)
    conn.executescript("CREATE TABLE public.t_commit (x int)")
    if not autocommit:
        conn.commit()
    with conn.transaction():
        conn.execute("INSERT INTO public.t_commit VALUES (1)")
    other = db.connect()
    assert other.execute("SELECT count(*) AS n FROM public.t_commit").scalar() == 1


@pytest.mark.parametrize("autocommit", [False, True])
def test_transaction_force_rollback_and_exception_roll_back(db, driver, autocommit):
    """force_rollback=True and an exception in the block both leave nothing behind."""
    conn = db.connect(driver=driver, autocommit=autocommit)
    conn.executescript("CREATE TABLE public.t_rb (x int)")
    if not autocommit:
        conn.commit()
    with conn.transaction(force_rollback=True):
        conn.execute("INSERT INTO public.t_rb VALUES (1)")
    with pytest.raises(RuntimeError), conn.transaction():
        conn.execute("INSERT INTO public.t_rb VALUES (2)")
        raise RuntimeError("boom")
    other = db.connect()
    assert other.execute("SELECT count(*) AS n FROM public.t_rb").scalar() == 0


def test_nested_transaction_is_a_savepoint(db, driver):
    """A transaction() inside another rolls back alone; the outer one still commits."""
    conn = db.connect(driver=driver, autocommit=True)
    conn.executescript("CREATE TABLE public.t_nest (x int)")
    with conn.transaction():
        conn.execute("INSERT INTO public.t_nest VALUES (1)")
        with conn.transaction(force_rollback=True):
            conn.execute("INSERT INTO public.t_nest VALUES (2)")
    assert db.connect().execute("SELECT array_agg(x) AS a FROM public.t_nest").scalar() == [1]


def test_leaving_with_block_never_commits(db, driver):
    """Leaving ``with conn:`` rolls back what is uncommitted and closes (drivers commit)."""
    conn = db.connect(driver=driver)
    conn.executescript("CREATE TABLE public.t_with (x int)")
    conn.commit()
    with conn:
        conn.execute("INSERT INTO public.t_with VALUES (1)")
    assert conn.closed
    assert db.connect().execute("SELECT count(*) AS n FROM public.t_with").scalar() == 0


@pytest.mark.parametrize(
    ("sqlstate", "kind"),
    [
        ("IUF01", Frozen),
        ("IUS01", StalePlan),
        ("IUC01", ContractError),
        ("IUN01", NotFound),
        ("IUR01", DatabaseError),
        ("IUP01", DatabaseError),
    ],
)
def test_custom_sqlstates_become_iucut_errors(db, driver, sqlstate, kind):
    """Each iucut SQLSTATE raised in the database becomes its error kind, with the hint."""
    conn = db.connect(driver=driver)
    sql = (
        f"DO $$ BEGIN RAISE EXCEPTION 'iucut: refused %', 42 "
        f"USING ERRCODE = '{sqlstate}', HINT = 'do this'; END $$"
    )
    with pytest.raises(kind) as info:
        conn.executescript(sql)
    assert type(info.value) is kind
    assert info.value.message == "refused 42"  # the server's "iucut: " mark, said once by the CLI
    assert info.value.hint == "do this"
    assert info.value.context["sqlstate"] == sqlstate
    assert isinstance(info.value.__cause__, Exception)


def test_other_errors_carry_sqlstate(db, driver):
    """Any other server error is a DatabaseError carrying SQLSTATE and message."""
    conn = db.connect(driver=driver)
    with pytest.raises(DatabaseError) as info:
        conn.execute("SELECT * FROM no_such_table")
    assert type(info.value) is DatabaseError
    assert info.value.context["sqlstate"] == "42P01"
    assert "no_such_table" in info.value.message


def test_commit_failure_is_translated(db, driver):
    """An error raised at COMMIT (a deferred trigger) is translated too."""
    conn = db.connect(driver=driver, autocommit=True)
    conn.executescript(
        "CREATE TABLE public.t_pill (x int);"
        "CREATE FUNCTION public.f_pill() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'never' USING ERRCODE = 'IUP01'; END $$;"
        "CREATE CONSTRAINT TRIGGER pill AFTER INSERT ON public.t_pill DEFERRABLE INITIALLY "
        "DEFERRED FOR EACH ROW EXECUTE FUNCTION public.f_pill();"
    )
    with pytest.raises(DatabaseError) as info, conn.transaction():
        conn.execute("INSERT INTO public.t_pill VALUES (1)")
    assert info.value.context["sqlstate"] == "IUP01"


def test_lost_connection_is_connection_failed(db, driver):
    """A connection killed by the server becomes ConnectionFailed."""
    conn = db.connect(driver=driver, autocommit=True)
    pid = conn.backend_pid
    db.connect(autocommit=True).execute("SELECT pg_terminate_backend(%(p)s)", {"p": pid})
    with pytest.raises(ConnectionFailed):
        conn.execute("SELECT 1")


def test_named_query_runs_for_the_schema(db, driver, monkeypatch):
    """query(name) runs a named query of queries.sql with @schema@ replaced."""
    from iucut.db import queries

    monkeypatch.setattr(
        queries,
        "load",
        lambda filename="queries.sql": {
            "count_runs": "SELECT count(*) AS n FROM @schema@.iu_run WHERE mode = %(mode)s\n"
        },
    )
    conn = db.connect(driver=driver)
    assert conn.query("count_runs", mode="apply").scalar() == 0


def test_provider_counts_every_connect(db):
    """ConnectionProvider.calls counts every connect(), including failed ones."""
    provider = db.provider()
    assert provider.calls == 0
    provider.connect().close()
    provider.connect(user=db.roles.reader).close()
    bad = ConnectionProvider(Target("postgresql://nobody@127.0.0.1:1/x", "--dsn"))
    with pytest.raises(ConnectionFailed):
        bad.connect()
    assert (provider.calls, bad.calls) == (2, 1)


def test_provider_connects_as_another_role(db, driver):
    """connect(user=...) opens the session as that role."""
    conn = db.provider(driver).connect(user=db.roles.exec)
    try:
        assert conn.execute("SELECT current_user AS u").scalar() == db.roles.exec
    finally:
        conn.close()


def test_open_provider_resolves_nothing_until_connect(tmp_path):
    """open_provider neither resolves the target nor starts the embedded server."""
    settings = Settings(home=tmp_path / "home", env={})
    provider = open_provider(settings)
    assert provider.calls == 0
    assert provider._target is None
    assert provider.target.embedded
    assert not (tmp_path / "home").exists()
