"""iucut on a local Citus cluster (coordinator + 2 workers): `migrate --distributed`, the
upgrade of a single-node schema with its data, and the safety properties that hold on
the cluster. Run with `make test-citus` (tests/citus/conftest.py starts the cluster)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tests.citus.conftest import CitusDatabase, Node
from tests.conftest import clean_environment, iucut_command

from iucut.distributed import DISTRIBUTED, LAYOUT_ONLY, LOCAL, REFERENCE
from iucut.errors import IucutError

pytestmark = pytest.mark.citus

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpora" / "vn-laws"


def run(db: CitusDatabase, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``iucut ARGS`` against the test's schema on the coordinator."""
    environment = clean_environment(db.home)
    environment.update({"IUCUT_DSN": db.dsn, "IUCUT_SCHEMA": db.schema, **env})
    return subprocess.run(
        [*iucut_command(), *args],
        text=True,
        capture_output=True,
        env=environment,
        timeout=600,
        check=False,
    )


def sources(tmp_path: Path, n: int = 5) -> Path:
    """``n`` documents of the shared Vietnamese corpus, copied into a folder."""
    files = sorted(CORPUS.rglob("*.md"))[:n]
    assert len(files) == n, f"the shared corpus is missing: {CORPUS}"
    folder = tmp_path / "laws"
    folder.mkdir()
    for f in files:
        shutil.copyfile(f, folder / f.name)
    return folder


def layout(db: CitusDatabase) -> dict[str, tuple[str, str | None, int | None]]:
    with db.cluster.connect() as conn:
        rows = conn.execute(
            "SELECT c.relname, p.partmethod, p.colocationid, "
            "       CASE WHEN p.partmethod = 'h' "
            "            THEN column_to_column_name(p.logicalrelid, p.partkey) END AS col "
            "  FROM pg_class c LEFT JOIN pg_dist_partition p ON p.logicalrelid = c.oid "
            " WHERE c.relnamespace = %(s)s::regnamespace AND c.relkind = 'r'",
            {"s": db.schema},
        ).fetchall()
    return {r["relname"]: (r["partmethod"] or "local", r["col"], r["colocationid"]) for r in rows}


def on_node(db: CitusDatabase, node: Node, sql: str, user: str = "postgres") -> Any:
    with db.cluster.connect(node, user=user) as conn:
        return conn.execute(sql).scalar()


def test_migrate_distributed_lays_the_schema_out_for_citus(citus_db: CitusDatabase) -> None:
    """Unit, version, log, reference and document tables hash-distributed by doc_path in
    one co-location group; run, control and feed tables replicated; every primary and
    unique key starts with doc_path; the functions naming a document are routed by it."""
    result = run(citus_db, "migrate", "--roles", "--distributed", "--json")
    assert result.returncode == 0, result.stderr
    done = json.loads(result.stdout)["distributed"]
    assert done["laid_out_now"] is True and done["workers"] == 2

    tables = layout(citus_db)
    for name in DISTRIBUTED:
        assert tables[name][:2] == ("h", "doc_path"), name
    assert len({tables[name][2] for name in DISTRIBUTED}) == 1  # co-located
    for name in REFERENCE + LAYOUT_ONLY:
        assert tables[name][0] == "n", name
    # every table of the schema has a layout (a table a later migration adds is named)
    known = set(DISTRIBUTED) | set(REFERENCE) | set(LAYOUT_ONLY) | set(LOCAL)
    assert set(tables) == known, sorted(tables)
    for name in LOCAL:
        assert tables[name][0] == "local", name

    with citus_db.cluster.connect() as conn:
        keys = conn.execute(
            "SELECT i.indrelid::regclass::text AS rel, i.indexrelid::regclass::text AS idx, "
            "       a.attname AS first "
            "  FROM pg_index i JOIN pg_attribute a "
            "    ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] "
            " WHERE (i.indisunique OR i.indisprimary) "
            "   AND i.indrelid = ANY(%(rels)s::regclass[])",
            {"rels": [f"{citus_db.schema}.{t}" for t in DISTRIBUTED]},
        ).fetchall()
        routed = conn.execute(
            "SELECT p.proname FROM pg_dist_object o JOIN pg_proc p ON p.oid = o.objid "
            " WHERE o.classid = 'pg_proc'::regclass AND o.distribution_argument_index IS NOT NULL"
            "   AND p.pronamespace = %(s)s::regnamespace ORDER BY 1",
            {"s": citus_db.schema},
        ).fetchall()
    assert keys and all(k["first"] == "doc_path" for k in keys), keys
    assert {"fn_iu_recode", "fn_iu_document_profile", "fn_iu_lock_document"} <= {
        r["proname"] for r in routed
    }

    again = run(citus_db, "migrate", "--roles", "--distributed")
    assert again.returncode == 0, again.stderr
    assert "already laid out" in again.stdout


def test_upgrade_moves_a_single_node_schema_with_its_data(
    citus_db: CitusDatabase, tmp_path: Path
) -> None:
    """A schema migrated and applied on one server (the coordinator's local tables) is
    moved by `migrate --distributed`: the rows land in shards on both workers, nothing
    is lost, and export gives back every source byte for byte, before and after."""
    folder = sources(tmp_path)
    assert run(citus_db, "migrate", "--roles").returncode == 0
    applied = run(citus_db, "apply", str(folder), IUCUT_EXECUTION="enabled", IUCUT_ROOT=str(folder))
    assert applied.returncode == 0, applied.stderr
    assert layout(citus_db)["information_unit"][0] == "local"
    counts_sql = (
        f"SELECT (SELECT count(*) FROM {citus_db.schema}.information_unit) || '/' || "
        f"(SELECT count(*) FROM {citus_db.schema}.unit_version) || '/' || "
        f"(SELECT count(*) FROM {citus_db.schema}.iu_lifecycle_log) || '/' || "
        f"(SELECT count(*) FROM {citus_db.schema}.iu_document) || '/' || "
        f"(SELECT count(*) FROM {citus_db.schema}.iu_document_version)"
    )
    before = on_node(citus_db, citus_db.cluster.coordinator, counts_sql)
    # the search configuration of each version (a regconfig: an OID, another on each
    # worker for the schema's own iucut_vi) and its index keep their names and words
    search_sql = (
        f"SELECT (SELECT string_agg(v.search_config::text || ':' || md5(v.search_vector::text),"
        f"                          ',' ORDER BY v.version_id) "
        f"          FROM {citus_db.schema}.unit_version v) "
        f"       || '|' || (SELECT string_agg(c.profile || '=' || c.config::text, ',' "
        f"                                    ORDER BY c.profile) "
        f"                    FROM {citus_db.schema}.iu_search_config c) "
        f"       || '|' || (SELECT string_agg(u.config::text, ',' ORDER BY u.config::text) "
        f"                    FROM {citus_db.schema}.iu_search_config_used u)"
    )
    searched = on_node(citus_db, citus_db.cluster.coordinator, search_sql)
    assert "iucut_vi:" in searched, searched[:200]

    moved = run(citus_db, "migrate", "--roles", "--distributed")
    assert moved.returncode == 0, moved.stderr
    assert "laid out now" in moved.stdout
    assert layout(citus_db)["information_unit"][:2] == ("h", "doc_path")
    assert on_node(citus_db, citus_db.cluster.coordinator, counts_sql) == before
    assert on_node(citus_db, citus_db.cluster.coordinator, search_sql) == searched
    with citus_db.cluster.connect() as conn:
        nodes = conn.execute(
            "SELECT count(DISTINCT s.nodeport) FROM citus_shards s "
            " WHERE s.table_name = %(t)s::regclass AND s.shard_size > 8192",
            {"t": f"{citus_db.schema}.information_unit"},
        ).scalar()
    assert nodes == 2  # the units are spread over both workers

    for source in sorted(folder.glob("*.md")):
        exported = run(citus_db, "export", source.name, IUCUT_ROOT=str(folder))
        assert exported.returncode == 0, exported.stderr
        assert exported.stdout.encode() == source.read_bytes(), source.name
    ls = run(citus_db, "ls", IUCUT_ROOT=str(folder))
    assert ls.returncode == 0 and "5 documents" in ls.stdout, ls.stderr


def test_the_execution_role_cannot_write_a_table_on_any_node(citus_db: CitusDatabase) -> None:
    """cutter_exec writes through the functions only: a direct INSERT, UPDATE or DELETE is
    refused on the coordinator, on a worker's distributed table and on a worker's shard."""
    assert run(citus_db, "migrate", "--roles", "--distributed").returncode == 0
    s = citus_db.schema
    worker = citus_db.cluster.workers[0]
    with citus_db.cluster.connect(worker) as conn:
        conn.execute("SET citus.override_table_visibility = off")
        shard = conn.execute(
            "SELECT c.relname FROM pg_class c WHERE c.relnamespace = %(s)s::regnamespace "
            "   AND c.relname ~ '^information_unit_[0-9]+$' LIMIT 1",
            {"s": s},
        ).scalar()
    assert shard
    attempts = [
        (None, f"INSERT INTO {s}.information_unit (code) VALUES ('x')"),
        (None, f"UPDATE {s}.iu_control SET frozen = false"),
        (None, f"DELETE FROM {s}.iu_run"),
        (None, f"UPDATE {s}.iu_document SET doc_hash = 'x'"),
        (None, f"INSERT INTO {s}.iu_namespace_claim VALUES ('X', 'x.md')"),
        (worker, f"DELETE FROM {s}.iu_namespace_claim"),
        (worker, f"INSERT INTO {s}.unit_version (doc_path) VALUES ('x')"),
        (worker, f"UPDATE {s}.iu_control SET frozen = false"),
        (worker, f"INSERT INTO {s}.{shard} (code) VALUES ('x')"),
        (worker, f"DELETE FROM {s}.{shard}"),
    ]
    for node, sql in attempts:
        with pytest.raises(IucutError, match="permission denied"):
            on_node(citus_db, node or citus_db.cluster.coordinator, sql, user="cutter_exec")
    # and through the functions it may run: the run is there on every node
    with citus_db.connect("cutter_exec", autocommit=True) as conn:
        run_id = conn.execute(f"SELECT {s}.fn_run_begin('apply') AS r").scalar()
    for node in [citus_db.cluster.coordinator, *citus_db.cluster.workers]:
        assert on_node(citus_db, node, f"SELECT count(*) FROM {s}.iu_run") == 1, node.name
    assert run_id


PROOF = """
BEGIN;
SET LOCAL ROLE iucut_owner;
SELECT {s}.fn_run_begin('proof');
INSERT INTO {s}.iu_feed_cursor (consumer, commit_seq, event_id) VALUES ('proof', 1, 1);
COMMIT;
"""


def _proof_commit(db: CitusDatabase) -> None:
    with db.cluster.connect() as conn:
        conn.autocommit = False
        for statement in PROOF.format(s=db.schema).strip().splitlines():
            conn.execute(statement)


def _left_behind(db: CitusDatabase) -> list[str]:
    left = []
    for node in [db.cluster.coordinator, *db.cluster.workers]:
        rows = on_node(db, node, f"SELECT count(*) FROM {db.schema}.iu_run")
        rows += on_node(db, node, f"SELECT count(*) FROM {db.schema}.iu_feed_cursor")
        prepared = on_node(db, node, "SELECT count(*) FROM pg_prepared_xacts")
        if rows or prepared:
            left.append(f"{node.name}: {rows} row(s), {prepared} prepared transaction(s)")
    return left


def test_a_proof_run_never_commits_through_two_phase_commit(citus_db: CitusDatabase) -> None:
    """A proof transaction that wrote on every node (reference tables: Citus commits it
    with two-phase commit) is refused at COMMIT and leaves nothing on any node; it is
    refused by the workers' PREPARE too when the coordinator's own copy of the trigger is
    gone."""
    assert run(citus_db, "migrate", "--roles", "--distributed").returncode == 0
    with pytest.raises(IucutError, match="proof run"):
        _proof_commit(citus_db)
    assert _left_behind(citus_db) == []

    # the coordinator's placement of iu_run without its poison pill: the workers refuse
    with citus_db.cluster.connect() as conn:
        conn.execute("SET citus.enable_manual_changes_to_shards = on")
        conn.execute("SET citus.override_table_visibility = off")
        placement = conn.execute(
            "SELECT c.relname FROM pg_class c WHERE c.relnamespace = %(s)s::regnamespace "
            "   AND c.relname ~ '^iu_run_[0-9]+$'",
            {"s": citus_db.schema},
        ).scalar()
        trigger = conn.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = %(t)s::regclass "
            "   AND tgname LIKE 'iu_run_proof_never_commits%%'",
            {"t": f"{citus_db.schema}.{placement}"},
        ).scalar()
        conn.execute(f"ALTER TABLE {citus_db.schema}.{placement} DISABLE TRIGGER {trigger}")
    with pytest.raises(IucutError):
        _proof_commit(citus_db)
    assert _left_behind(citus_db) == []


def test_a_freeze_holds_on_every_node(citus_db: CitusDatabase) -> None:
    """`iucut freeze` sets the control row on every node's copy; a live run is refused
    (on the coordinator and when begun on a worker); unfreeze lets it through again."""
    assert run(citus_db, "migrate", "--roles", "--distributed").returncode == 0
    frozen = run(citus_db, "freeze", "--reason", "cluster test")
    assert frozen.returncode == 0, frozen.stderr
    s = citus_db.schema
    for node in [citus_db.cluster.coordinator, *citus_db.cluster.workers]:
        assert on_node(citus_db, node, f"SELECT frozen FROM {s}.iu_control") is True, node.name
    for node in [citus_db.cluster.coordinator, citus_db.cluster.workers[1]]:
        with pytest.raises(IucutError, match="frozen"):
            on_node(citus_db, node, f"SELECT {s}.fn_run_begin('apply')", user="cutter_exec")
    assert run(citus_db, "unfreeze").returncode == 0
    for node in [citus_db.cluster.coordinator, *citus_db.cluster.workers]:
        assert on_node(citus_db, node, f"SELECT frozen FROM {s}.iu_control") is False
    assert on_node(citus_db, citus_db.cluster.coordinator, f"SELECT {s}.fn_run_begin('apply')")


def test_the_feed_is_refused_on_a_distributed_schema(citus_db: CitusDatabase) -> None:
    """The change feed numbers commits on one server: on the cluster it is a clear
    refusal (exit 37) naming the reason, not a wrong order."""
    assert run(citus_db, "migrate", "--roles", "--distributed").returncode == 0
    result = run(citus_db, "changes")
    assert result.returncode == 37, result.stderr
    assert "single-node only" in result.stderr and "docs/distributed.md" in result.stderr


def test_a_later_migration_keeps_the_layout(citus_db: CitusDatabase, tmp_path: Path) -> None:
    """A migration released after the schema was distributed runs statement by statement
    (Citus forwards DDL to the workers), its new column reaches every shard, and a layout
    function it replaced with its single-node body is put back."""
    from iucut.migrate import load_migrations, migrate

    assert run(citus_db, "migrate", "--roles", "--distributed").returncode == 0
    folder = tmp_path / "migrations"
    folder.mkdir()
    for m in load_migrations():
        (folder / m.filename).write_text(m.sql, encoding="utf-8")
    (folder / "0099_later.sql").write_text(
        "ALTER TABLE @schema@.information_unit ADD COLUMN note text;\n"
        "CREATE OR REPLACE FUNCTION @schema@.fn_iu_lock_document(p_doc_path text)\n"
        "RETURNS void LANGUAGE sql SECURITY DEFINER\n"
        "SET search_path = pg_catalog, pg_temp AS $$\n"
        "    SELECT pg_catalog.pg_advisory_xact_lock(\n"
        "        pg_catalog.hashtextextended('iucut:@schema@:' || p_doc_path, 0));\n"
        "$$;\n",
        encoding="utf-8",
    )
    with citus_db.connect() as conn:
        result = migrate(conn, citus_db.schema, directory=folder)
    assert result.applied == ("0099_later.sql",)
    assert layout(citus_db)["information_unit"][:2] == ("h", "doc_path")
    s = citus_db.schema
    lock_body = (
        f"SELECT prosrc FROM pg_proc WHERE oid = '{s}.fn_iu_lock_document(text)'::regprocedure"
    )
    for node in [citus_db.cluster.coordinator, *citus_db.cluster.workers]:
        assert "iucut.doc_path" in on_node(citus_db, node, lock_body), node.name
    worker = citus_db.cluster.workers[0]
    with citus_db.cluster.connect(worker) as conn:
        conn.execute("SET citus.override_table_visibility = off")
        shards_with_note = conn.execute(
            "SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            " WHERE c.relnamespace = %(s)s::regnamespace AND a.attname = 'note' "
            "   AND c.relname ~ '^information_unit_[0-9]+$'",
            {"s": s},
        ).scalar()
    assert shards_with_note >= 1


def test_routed_write_functions_run_on_the_documents_worker(
    citus_db: CitusDatabase, tmp_path: Path
) -> None:
    """The write functions that name their document are pushed down to its worker: a
    recode there writes its lifecycle event with the document key taken from the
    document lock, the profile write passes the document check on the shard, and export
    still gives back the source. A bare row without its document is refused (IUC01)."""
    folder = sources(tmp_path, 2)
    assert run(citus_db, "migrate", "--roles").returncode == 0
    applied = run(citus_db, "apply", str(folder), IUCUT_EXECUTION="enabled", IUCUT_ROOT=str(folder))
    assert applied.returncode == 0, applied.stderr
    assert run(citus_db, "migrate", "--roles", "--distributed").returncode == 0
    s = citus_db.schema
    doc = sorted(folder.glob("*.md"))[0].name
    notices: list[str] = []
    with citus_db.connect("cutter_exec", autocommit=True) as conn:
        conn.raw.add_notice_handler(lambda d: notices.append(d.message_primary or ""))  # type: ignore[attr-defined]
        run_id = conn.execute(f"SELECT {s}.fn_run_begin('apply') AS r").scalar()
        leaf = conn.execute(
            f"SELECT code, current_version AS v, profile FROM {s}.information_unit u "
            f"JOIN {s}.iu_document d USING (doc_path) WHERE doc_path = %(d)s "
            " AND parent_code IS NOT NULL ORDER BY position DESC LIMIT 1",
            {"d": doc},
        ).fetchone()
        assert leaf is not None
        conn.execute("SET client_min_messages = debug1")
        moved = conn.execute(
            f"SELECT {s}.fn_iu_recode(%(r)s, %(d)s, %(m)s::jsonb)",
            {
                "r": run_id,
                "d": doc,
                "m": json.dumps([{"from": leaf["code"], "to": leaf["code"] + "-moved",
                                  "expect_version": leaf["v"]}]),
            },
        ).scalar()  # fmt: skip
        profile = conn.execute(
            f"SELECT {s}.fn_iu_document_profile(%(r)s, %(d)s, 'de', %(p)s)",
            {"r": run_id, "d": doc, "p": leaf["profile"]},
        ).scalar()
        conn.execute("SET client_min_messages = notice")
    assert moved == 1 and profile == "de"
    assert notices.count("pushing down the function call") == 2, notices
    with citus_db.cluster.connect() as conn:
        event = conn.execute(
            f"SELECT doc_path, event FROM {s}.iu_lifecycle_log WHERE code = %(c)s",
            {"c": leaf["code"] + "-moved"},
        ).fetchone()
        assert event is not None and dict(event) == {"doc_path": doc, "event": "moved"}
        # the document version the recode made (0015's trigger, run on the shard)
        codes = conn.execute(
            f"SELECT codes FROM {s}.iu_document_version WHERE doc_path = %(d)s "
            " ORDER BY doc_version_id DESC LIMIT 1",
            {"d": doc},
        ).scalar()
        assert leaf["code"] + "-moved" in codes
        with pytest.raises(IucutError, match="without its document"):
            conn.execute(
                f"INSERT INTO {s}.iu_lifecycle_log (unit_id, code, event, run_id) "
                f"SELECT 1, 'x', 'created', run_id FROM {s}.iu_run LIMIT 1"
            )
    exported = run(citus_db, "export", doc, IUCUT_ROOT=str(folder))
    assert exported.stdout.encode() == (folder / doc).read_bytes()
