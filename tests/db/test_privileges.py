"""The privilege matrix: the execution and reader roles can do exactly what they should."""

from __future__ import annotations

import hashlib

import pytest

from iucut.config import Roles
from iucut.db.connector import Connection, Json
from iucut.errors import DatabaseError, IucutError
from iucut.migrate import migrate
from iucut.units import content_hash

pytestmark = pytest.mark.db

TABLES = [
    "information_unit",
    "unit_version",
    "iu_lifecycle_log",
    "iu_run",
    "iu_document",
    "iu_control",
    "iucut_migration",
    "iucut_object",
    "iu_commit",
    "iu_feed_cursor",
    "unit_reference",
    "iu_document_version",
    "iu_document_effective",
    "iu_search_config",
    "iu_search_config_used",
]
WRITE_FUNCTIONS = [
    "fn_run_begin",
    "fn_run_finish",
    "fn_iu_apply_document",
    "fn_iu_feed_cursor_set",
    "fn_iu_set_references",
    "fn_iu_merge_search_pending",
]
ROLES = Roles()


def refused(conn: Connection, sql: str, params: dict[str, object] | None = None) -> IucutError:
    """Run ``sql`` in its own transaction and return the refusal (fails if it succeeds)."""
    with pytest.raises(IucutError) as info, conn.transaction():
        conn.execute(sql, params)
    return info.value


def insufficient(conn: Connection, sql: str, params: dict[str, object] | None = None) -> None:
    """``sql`` is refused with SQLSTATE 42501 (insufficient privilege)."""
    exc = refused(conn, sql, params)
    assert isinstance(exc, DatabaseError)
    assert exc.context.get("sqlstate") == "42501", (sql, exc.message)


def first_column(db, table: str) -> str:
    """A column an UPDATE may name (not an identity or generated column)."""
    return (
        db.connect()
        .execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %(t)s::regclass AND attnum > 0 "
            "AND NOT attisdropped AND attidentity = '' AND attgenerated = '' "
            "ORDER BY attnum LIMIT 1",
            {"t": f"{db.schema}.{table}"},
        )
        .scalar()
    )


def document(code: str = "NS/A1") -> tuple[dict[str, object], Json]:
    """A one-unit document whose unit is its root (its code the namespace), with the true
    hashes: the database refuses any other (0004)."""
    heading, body = "# T\n", "B\n"
    text = (heading + body).encode()
    doc = {
        "doc_path": "a.md",
        "namespace": code,
        "doc_hash": hashlib.sha256(text).hexdigest(),
        "expect_doc_hash": None,
        "unit_count": 1,
        "size_bytes": len(text),
    }
    ops = [
        {
            "op": "create",
            "code": code,
            "namespace": code,
            "kind": "document",
            "label": None,
            "ordinal": 1,
            "depth": 0,
            "position": 0,
            "title": "T",
            "body": body,
            "raw_heading": heading,
            "content_hash": content_hash(heading, body),
        }
    ]
    return doc, Json(ops)


def apply_one(conn: Connection, schema: str, code: str = "NS/A1") -> dict[str, int]:
    doc, ops = document(code)
    run = conn.execute(f"SELECT {schema}.fn_run_begin('apply') AS r").scalar()
    counts = conn.execute(
        f"SELECT {schema}.fn_iu_apply_document(%(run)s, %(doc)s, %(ops)s) AS c",
        {"run": run, "doc": doc, "ops": ops},
    ).scalar()
    conn.execute(f"SELECT {schema}.fn_run_finish(%(run)s)", {"run": run})
    return dict(counts)


@pytest.mark.parametrize("role", [ROLES.exec, ROLES.reader])
@pytest.mark.parametrize("table", TABLES)
def test_no_direct_writes(db, role, table):
    """INSERT, UPDATE, DELETE and TRUNCATE on every iucut table are refused; SELECT works."""
    conn = db.connect(role=role)
    t = f"{db.schema}.{table}"
    col = first_column(db, table)
    conn.execute(f"SELECT * FROM {t} LIMIT 1")
    insufficient(conn, f"INSERT INTO {t} DEFAULT VALUES")
    insufficient(conn, f"UPDATE {t} SET {col} = {col}")
    insufficient(conn, f"DELETE FROM {t}")
    insufficient(conn, f"TRUNCATE {t}")


@pytest.mark.parametrize("role", [ROLES.exec, ROLES.reader])
def test_no_ddl(db, role):
    """Neither role can create tables, functions or schemas, nor use the sequences."""
    conn = db.connect(role=role)
    insufficient(conn, f"CREATE TABLE {db.schema}.mine (x int)")
    insufficient(conn, f"CREATE FUNCTION {db.schema}.mine() RETURNS int LANGUAGE sql AS 'SELECT 1'")
    insufficient(conn, "CREATE SCHEMA mine")
    insufficient(conn, f"SELECT nextval('{db.schema}.information_unit_unit_id_seq')")
    insufficient(conn, f"ALTER TABLE {db.schema}.iu_run ADD COLUMN x int")
    refused(conn, f"ALTER DATABASE {db.name} SET search_path = pg_temp")


def test_exec_can_call_the_write_functions(db):
    """cutter_exec writes through the functions; the rows land in the real tables."""
    conn = db.connect(role=ROLES.exec)
    with conn.transaction():
        counts = apply_one(conn, db.schema)
    assert counts["created"] == 1
    admin = db.connect()
    assert (
        admin.execute(
            f"SELECT count(*) AS n FROM {db.schema}.information_unit WHERE code = 'NS/A1'"
        ).scalar()
        == 1
    )


def test_exec_has_execute_on_each_write_function(db):
    """cutter_exec may EXECUTE every fn_run_* / fn_iu_* write function."""
    rows = (
        db.connect()
        .execute(
            "SELECT p.proname, bool_and(has_function_privilege(%(r)s, p.oid, 'EXECUTE')) AS ok "
            "FROM pg_proc p WHERE p.pronamespace = %(s)s::regnamespace GROUP BY p.proname",
            {"r": ROLES.exec, "s": db.schema},
        )
        .fetchall()
    )
    granted = {r["proname"] for r in rows if r["ok"]}
    assert set(WRITE_FUNCTIONS) <= granted
    assert not granted & {
        "fn_iu_freeze",
        "fn_iu_unfreeze",
        "fn_iu_refuse_proof_commit",
        "fn_iu_refuse_history_change",
        "fn_iu_guard_run_mode",
    }


#: The per-unit write functions, a second write path that 0012 drops (one write path:
#: fn_iu_apply_document).
PER_UNIT = {"fn_iu_create", "fn_iu_revise", "fn_iu_retire", "fn_iu_move", "fn_iu_restore"}


def test_one_write_path(db):
    """No per-unit write function is left, and the execution role can execute nothing
    that writes units but fn_iu_apply_document."""
    with db.connect(autocommit=True) as admin:
        rows = admin.execute(
            "SELECT p.proname, has_function_privilege(%(role)s, p.oid, 'EXECUTE') AS ok"
            "  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE n.nspname = %(schema)s",
            {"role": ROLES.exec, "schema": db.schema},
        ).fetchall()
    names = {r["proname"] for r in rows}
    assert not names & PER_UNIT
    assert "fn_iu_apply_document" in {r["proname"] for r in rows if r["ok"]}


def test_reader_cannot_call_functions(db):
    """iucut_reader cannot call any write function."""
    conn = db.connect(role=ROLES.reader)
    insufficient(conn, f"SELECT {db.schema}.fn_run_begin('apply')")
    doc, ops = document()
    insufficient(
        conn,
        f"SELECT {db.schema}.fn_iu_apply_document(gen_random_uuid(), %(doc)s, %(ops)s)",
        {"doc": doc, "ops": ops},
    )


@pytest.mark.parametrize("role", [ROLES.exec, ROLES.reader])
def test_freeze_is_owner_only(db, role):
    """Neither cutter_exec nor the reader can freeze or unfreeze."""
    conn = db.connect(role=role)
    insufficient(conn, f"SELECT {db.schema}.fn_iu_freeze('x')")
    insufficient(conn, f"SELECT {db.schema}.fn_iu_unfreeze()")


def test_temp_tables_cannot_shadow_iucut_tables(db):
    """Temporary look-alikes made by cutter_exec get nothing; the real tables get the rows."""
    conn = db.connect(role=ROLES.exec)
    shadows = [
        "information_unit",
        "unit_version",
        "iu_lifecycle_log",
        "iu_run",
        "iu_document",
        "iu_control",
    ]
    for name in shadows:
        conn.executescript(f"CREATE TEMP TABLE {name} (LIKE {db.schema}.{name})")
    conn.executescript(f"SET search_path = pg_temp, {db.schema}")
    conn.commit()
    with conn.transaction():
        assert apply_one(conn, db.schema, "NS/SHADOW")["created"] == 1
    for name in shadows:
        assert conn.execute(f"SELECT count(*) AS n FROM pg_temp.{name}").scalar() == 0, name
    real = db.connect()
    counts = real.execute(
        f"SELECT (SELECT count(*) FROM {db.schema}.information_unit) AS units, "
        f"(SELECT count(*) FROM {db.schema}.iu_lifecycle_log) AS events, "
        f"(SELECT count(*) FROM {db.schema}.unit_version) AS versions"
    ).fetchone()
    assert counts == {"units": 1, "events": 1, "versions": 1}


def test_harden_refuses_temp_tables(db):
    """With --harden, cutter_exec cannot create temporary tables, and still applies."""
    admin = db.connect()
    migrate(admin, db.schema, roles=ROLES, harden=True)
    admin.commit()
    conn = db.connect(role=ROLES.exec)
    insufficient(conn, "CREATE TEMP TABLE information_unit (x int)")
    with conn.transaction():
        assert apply_one(conn, db.schema)["created"] == 1


def test_public_cannot_execute_any_function(db):
    """PUBLIC has EXECUTE on no function of the schema."""
    rows = (
        db.connect()
        .execute(
            "SELECT oid::regprocedure::text AS f FROM pg_proc "
            "WHERE pronamespace = %(s)s::regnamespace "
            "AND has_function_privilege('public', oid, 'EXECUTE')",
            {"s": db.schema},
        )
        .fetchall()
    )
    assert rows == []


def test_definer_functions_pin_search_path(db):
    """Every SECURITY DEFINER function pins its search_path, and there is at least one."""
    rows = (
        db.connect()
        .execute(
            "SELECT oid::regprocedure::text AS f, proconfig FROM pg_proc "
            "WHERE pronamespace = %(s)s::regnamespace AND prosecdef",
            {"s": db.schema},
        )
        .fetchall()
    )
    assert rows
    unpinned = [
        r["f"]
        for r in rows
        if not any(c.startswith("search_path=") for c in (r["proconfig"] or []))
    ]
    assert unpinned == []


def test_role_attributes(db):
    """Owner: NOLOGIN, not superuser, owns everything; exec and reader: plain LOGIN roles."""
    conn = db.connect()
    roles = {
        r["rolname"]: r
        for r in conn.execute(
            "SELECT rolname, rolsuper, rolcanlogin, rolcreaterole, rolcreatedb, rolbypassrls "
            "FROM pg_roles WHERE rolname = ANY(%(n)s)",
            {"n": [ROLES.owner, ROLES.exec, ROLES.reader]},
        )
    }
    for name, login in ((ROLES.owner, False), (ROLES.exec, True), (ROLES.reader, True)):
        r = roles[name]
        assert (r["rolsuper"], r["rolcreaterole"], r["rolcreatedb"], r["rolbypassrls"]) == (
            False,
            False,
            False,
            False,
        ), name
        assert r["rolcanlogin"] is login, name
    members = conn.execute(
        "SELECT pg_has_role(%(e)s, %(o)s, 'MEMBER') AS e, pg_has_role(%(r)s, %(o)s, 'MEMBER') AS r",
        {"e": ROLES.exec, "r": ROLES.reader, "o": ROLES.owner},
    ).fetchone()
    assert members == {"e": False, "r": False}
    owners = conn.execute(
        "SELECT DISTINCT pg_get_userbyid(relowner) AS o FROM pg_class "
        "WHERE relnamespace = %(s)s::regnamespace AND relkind IN ('r', 'S') "
        "UNION SELECT DISTINCT pg_get_userbyid(proowner) FROM pg_proc "
        "WHERE pronamespace = %(s)s::regnamespace",
        {"s": db.schema},
    ).fetchall()
    assert owners == [{"o": ROLES.owner}]


def test_exec_privileges_on_tables_are_select_only(db):
    """cutter_exec holds SELECT and nothing else on every table of the schema."""
    rows = (
        db.connect()
        .execute(
            "SELECT c.relname, p.priv FROM pg_class c CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', "
            "'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS p(priv) "
            "WHERE c.relnamespace = %(s)s::regnamespace AND c.relkind = 'r' "
            "AND has_table_privilege(%(r)s, c.oid, p.priv)",
            {"s": db.schema, "r": ROLES.exec},
        )
        .fetchall()
    )
    assert {r["priv"] for r in rows} == {"SELECT"}
    assert {r["relname"] for r in rows} == set(TABLES)


def test_roles_twice_is_idempotent(db):
    """Running --roles again changes no privilege, owner or role attribute."""
    admin = db.connect()
    snapshot = (
        "SELECT relname AS name, relacl::text AS acl, relowner::regrole::text AS owner "
        "FROM pg_class WHERE relnamespace = %(s)s::regnamespace "
        "UNION ALL SELECT oid::regprocedure::text, proacl::text, proowner::regrole::text "
        "FROM pg_proc WHERE pronamespace = %(s)s::regnamespace ORDER BY 1"
    )
    before = admin.execute(snapshot, {"s": db.schema}).fetchall()
    admin.commit()
    for _ in range(2):
        result = migrate(admin, db.schema, roles=ROLES)
        assert result.up_to_date and result.roles
    assert admin.execute(snapshot, {"s": db.schema}).fetchall() == before
