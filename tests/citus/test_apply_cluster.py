"""`iucut apply` on the Citus cluster (coordinator + 2 workers), and the safety properties
of the write path there: the same state as on one server, concurrent appliers, kill -9
mid-apply, plan/prove/apply, and the upgrade of a single-node schema applied again.
Run with `make test-citus` (tests/citus/conftest.py starts the cluster)."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from tests.citus.conftest import CitusDatabase, wait_for
from tests.citus.test_distributed import layout, on_node, run, sources
from tests.conftest import clean_environment, iucut_command

pytestmark = pytest.mark.citus

HISTORY = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpora" / "en-terms-history"
LIVE = {"IUCUT_EXECUTION": "enabled", "IUCUT_APPLY_ROLE": "cutter_exec"}

#: What the units say, blind to ids, runs and times (the named query state_digest joins
#: the versions on unit_id alone, which Citus does not plan across shards).
DIGEST = """
SELECT (SELECT md5(coalesce(string_agg(concat_ws('|', code, namespace, doc_path, parent_code,
               kind, label, ordinal, depth, position, state, current_version, content_hash),
               E'\\n' ORDER BY code), ''))
          FROM {s}.information_unit)
    || (SELECT md5(coalesce(string_agg(concat_ws('|', u.code, v.version, v.title, v.body,
               v.raw_heading, v.content_hash, split_part(v.search_config::text, '.', 2),
               v.line_start, v.byte_end),
               E'\\n' ORDER BY u.code, v.version), ''))
          FROM {s}.unit_version v
          JOIN {s}.information_unit u ON u.doc_path = v.doc_path AND u.unit_id = v.unit_id)
    || (SELECT md5(coalesce(string_agg(concat_ws('|', l.code, l.event, l.from_version,
               l.to_version, l.detail::text), E'\\n' ORDER BY l.code, l.event_id), ''))
          FROM {s}.iu_lifecycle_log l)
    || (SELECT md5(coalesce(string_agg(concat_ws('|', doc_path, namespace, doc_hash, state,
               unit_count, size_bytes), E'\\n' ORDER BY doc_path), ''))
          FROM {s}.iu_document)
    || ' units ' || (SELECT count(*) FROM {s}.information_unit)
    || ' events ' || (SELECT count(*) FROM {s}.iu_lifecycle_log)
"""

#: A document only in part: units or events without their document row, a document whose
#: unit count is not that of its active units, a run left running.
PARTIAL = """
SELECT (SELECT count(*) FROM {s}.information_unit u
         WHERE NOT EXISTS (SELECT 1 FROM {s}.iu_document d WHERE d.doc_path = u.doc_path))
     + (SELECT count(*) FROM {s}.iu_lifecycle_log l
         WHERE NOT EXISTS (SELECT 1 FROM {s}.iu_document d WHERE d.doc_path = l.doc_path))
     + (SELECT count(*) FROM {s}.iu_document d
         WHERE d.state = 'active' AND d.unit_count <> (
               SELECT count(*) FROM {s}.information_unit u
                WHERE u.doc_path = d.doc_path AND u.state = 'active'))
"""


def digest(db: CitusDatabase, schema: str | None = None) -> str:
    return str(on_node(db, db.cluster.coordinator, DIGEST.format(s=schema or db.schema)))


def exports_match(db: CitusDatabase, folder: Path) -> list[str]:
    """The sources of ``folder`` that `iucut export` does not give back byte for byte."""
    wrong = []
    for source in sorted(folder.glob("*.md")):
        exported = run(db, "export", source.name, IUCUT_ROOT=str(folder))
        if exported.returncode != 0 or exported.stdout.encode() != source.read_bytes():
            wrong.append(source.name)
    return wrong


def prepared_anywhere(db: CitusDatabase) -> int:
    return sum(
        on_node(db, node, "SELECT count(*) FROM pg_prepared_xacts")
        for node in [db.cluster.coordinator, *db.cluster.workers]
    )


def history_versions(step: int) -> list[Path]:
    files = sorted(HISTORY.glob("*.md"))
    assert files, f"the shared corpus is missing: {HISTORY}"
    return files[::step] + ([files[-1]] if (len(files) - 1) % step else [])


def test_apply_and_export_on_the_cluster(citus_db: CitusDatabase, tmp_path: Path) -> None:
    """Applies on the distributed schema, as the execution role, of documents that are
    created, revised, moved, retired and restored (every 8th version of the GitHub terms,
    beside three Vietnamese laws): after each one export gives back every source byte for
    byte, and the stored state (units, versions with their search configuration, events,
    documents) is the one a single-node schema reaches by the same applies, and a unit's
    history reads the same."""
    folder = sources(tmp_path, 3)
    assert run(citus_db, "migrate", "--roles", "--distributed").returncode == 0
    single = f"{citus_db.schema}_one"  # a single-node schema on the coordinator
    assert run(citus_db, "migrate", "--roles", IUCUT_SCHEMA=single).returncode == 0
    try:
        for n, version in enumerate(history_versions(8)):
            target = folder / "terms.md"
            target.unlink(missing_ok=True)
            shutil.copyfile(version, target)
            for schema in (citus_db.schema, single):
                applied = run(
                    citus_db, "apply", str(folder), "--json", IUCUT_ROOT=str(folder),
                    IUCUT_SCHEMA=schema, **LIVE,
                )  # fmt: skip
                assert applied.returncode == 0, (schema, version.name, applied.stderr)
                if schema == citus_db.schema and n == 0:
                    assert json.loads(applied.stdout)["counts"]["created"] > 400
            assert exports_match(citus_db, folder) == [], version.name
            assert digest(citus_db) == digest(citus_db, single), version.name
        events = on_node(
            citus_db,
            citus_db.cluster.coordinator,
            f"SELECT string_agg(DISTINCT event, ',' ORDER BY event) "
            f"FROM {citus_db.schema}.iu_lifecycle_log",
        )
        assert {"created", "revised", "retired"} <= set(events.split(",")), events
        # a unit's history (its events joined with it on the document key there)
        revised = on_node(
            citus_db,
            citus_db.cluster.coordinator,
            f"SELECT max(code) FROM {citus_db.schema}.iu_lifecycle_log WHERE event = 'revised'",
        )
        histories = []
        for schema in (citus_db.schema, single):
            shown = run(citus_db, "history", revised, "--json", IUCUT_SCHEMA=schema)
            assert shown.returncode == 0, shown.stderr
            found = json.loads(shown.stdout)
            histories.append(
                [(e["event"], e["from_version"], e["to_version"]) for e in found["events"]]
                + [(v["version"], v["content_hash"]) for v in found["versions"]]
            )
        assert histories[0] == histories[1] and len(histories[0]) > 2, histories
        with citus_db.cluster.connect() as conn:
            nodes = conn.execute(
                "SELECT count(DISTINCT s.nodeport) FROM citus_shards s "
                " WHERE s.table_name = %(t)s::regclass AND s.shard_size > 8192",
                {"t": f"{citus_db.schema}.unit_version"},
            ).scalar()
        assert nodes == 2
        runs = on_node(
            citus_db,
            citus_db.cluster.coordinator,
            f"SELECT string_agg(DISTINCT status, ',') FROM {citus_db.schema}.iu_run",
        )
        assert runs == "finished"  # each run ended (its end is a write on every node)
    finally:
        with citus_db.cluster.connect() as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {single} CASCADE")


def _start_apply(db: CitusDatabase, folder: Path, *args: str) -> subprocess.Popen[str]:
    """``iucut apply ARGS --json`` in the background, the root being ``folder``."""
    environment = clean_environment(db.home)
    environment.update(
        IUCUT_DSN=db.dsn, IUCUT_SCHEMA=db.schema, IUCUT_ROOT=str(folder), **LIVE
    )  # fmt: skip
    return subprocess.Popen(
        [*iucut_command(), "apply", *args, "--json"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_concurrent_appliers_end_consistent(citus_db: CitusDatabase, tmp_path: Path) -> None:
    """Two applies of overlapping documents at once (6 of 8 each, 4 in common, two
    writers each): both succeed, every document is written once (the second finds it
    done under its lock), no unit twice, and export gives back every source."""
    folder = sources(tmp_path, 8)
    assert run(citus_db, "migrate", "--roles", "--distributed").returncode == 0
    files = sorted(str(f) for f in folder.glob("*.md"))
    a = _start_apply(citus_db, folder, *files[:6], "--jobs", "2")
    b = _start_apply(citus_db, folder, *files[2:], "--jobs", "2")
    out_a, err_a = a.communicate(timeout=600)
    out_b, err_b = b.communicate(timeout=600)
    assert a.returncode == 0, err_a
    assert b.returncode == 0, err_b
    written = [json.loads(out)["written"] for out in (out_a, out_b)]
    assert sorted(written[0] + written[1]) == sorted(Path(f).name for f in files)
    assert exports_match(citus_db, folder) == []
    assert on_node(citus_db, citus_db.cluster.coordinator, PARTIAL.format(s=citus_db.schema)) == 0
    created = on_node(
        citus_db,
        citus_db.cluster.coordinator,
        f"SELECT count(*) FROM {citus_db.schema}.iu_lifecycle_log WHERE event = 'created'",
    )
    units = on_node(
        citus_db,
        citus_db.cluster.coordinator,
        f"SELECT count(*) FROM {citus_db.schema}.information_unit",
    )
    assert created == units  # no unit written twice
    assert prepared_anywhere(citus_db) == 0


def test_kill_9_mid_apply_leaves_whole_documents(citus_db: CitusDatabase, tmp_path: Path) -> None:
    """`kill -9` of an apply while it writes on the cluster: every document is there
    whole or not at all, nothing is left prepared on any node, and the next apply
    completes the rest (export byte-identical)."""
    folder = sources(tmp_path, 24)
    assert run(citus_db, "migrate", "--roles", "--distributed").returncode == 0
    s = citus_db.schema
    apply = _start_apply(citus_db, folder, str(folder), "--jobs", "2")
    try:
        wait_for(
            lambda: (
                on_node(
                    citus_db,
                    citus_db.cluster.coordinator,
                    f"SELECT count(*) FROM {s}.iu_document",
                )
                >= 3
            ),
            timeout=300,
        )
        apply.send_signal(signal.SIGKILL)
        apply.wait(timeout=60)
    finally:
        if apply.poll() is None:
            apply.kill()
    coordinator = citus_db.cluster.coordinator
    written = on_node(citus_db, coordinator, f"SELECT count(*) FROM {s}.iu_document")
    assert 3 <= written < 24, written  # killed mid-way
    assert on_node(citus_db, citus_db.cluster.coordinator, PARTIAL.format(s=s)) == 0
    wait_for(lambda: prepared_anywhere(citus_db) == 0, timeout=120)
    # the killed transaction's locks go with its connection: the next apply does not wait
    started = time.monotonic()
    again = run(citus_db, "apply", str(folder), "--json", IUCUT_ROOT=str(folder), **LIVE)
    assert again.returncode == 0, again.stderr
    assert time.monotonic() - started < 300
    assert on_node(citus_db, citus_db.cluster.coordinator, PARTIAL.format(s=s)) == 0
    assert exports_match(citus_db, folder) == []
    statuses: Any = on_node(
        citus_db,
        citus_db.cluster.coordinator,
        f"SELECT string_agg(status, ',' ORDER BY started_at) FROM {s}.iu_run",
    )
    assert statuses.split(",") == ["running", "finished"]  # the killed run never ended


def test_plan_prove_apply_verify_on_the_cluster(citus_db: CitusDatabase, tmp_path: Path) -> None:
    """A plan of changes to documents on the cluster (revisions, a new document) is
    proved as the execution role: every check passes, the proof drives the real write
    path (its counts are the plan's) and leaves nothing on any node; then apply writes
    exactly the plan, and verify passes, and fails once a unit is changed directly."""
    folder = sources(tmp_path, 4)
    assert run(citus_db, "migrate", "--roles", "--distributed").returncode == 0
    first = sorted(folder.glob("*.md"))
    newcomer = first[-1].read_bytes()
    first[-1].unlink()
    assert run(citus_db, "apply", str(folder), IUCUT_ROOT=str(folder), **LIVE).returncode == 0
    # a revision and a retirement in one document, and a new document
    old = HISTORY / sorted(p.name for p in HISTORY.glob("*.md"))[40]
    new = HISTORY / sorted(p.name for p in HISTORY.glob("*.md"))[44]
    shutil.copyfile(old, folder / "terms.md")
    assert run(citus_db, "apply", str(folder), IUCUT_ROOT=str(folder), **LIVE).returncode == 0
    (folder / "terms.md").unlink()
    shutil.copyfile(new, folder / "terms.md")
    (folder / first[-1].name).write_bytes(newcomer)
    before = digest(citus_db)

    planned = run(citus_db, "plan", str(folder), "--json", IUCUT_ROOT=str(folder))
    assert planned.returncode == 2, planned.stderr  # there are changes to apply
    counts = json.loads(planned.stdout)["counts"]
    assert counts["created"] > 0 and counts["revised"] > 0, counts

    proved = run(citus_db, "prove", str(folder), "--json", IUCUT_ROOT=str(folder), **LIVE)
    report = json.loads(proved.stdout)
    failed = {c["number"]: c for c in report["checks"] if c["status"] == "FAIL"}
    assert proved.returncode == 0 and not failed, failed or proved.stderr
    drive = next(c for c in report["checks"] if c["number"] == 5)["evidence"]
    assert drive["written"] == drive["planned"] and drive["planned"]["created"] > 0
    assert digest(citus_db) == before  # nothing of the proof stayed, on any node
    assert prepared_anywhere(citus_db) == 0

    applied = run(citus_db, "apply", str(folder), "--json", IUCUT_ROOT=str(folder), **LIVE)
    assert applied.returncode == 0, applied.stderr
    done = json.loads(applied.stdout)["counts"]
    assert {k: done[k] for k in drive["planned"]} == drive["planned"]
    assert exports_match(citus_db, folder) == []

    # verify reads the stored state back on the cluster (each document's tree on its
    # worker), and sees a unit changed behind the write functions' back
    verified = run(citus_db, "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "4/4 ALL_CHECKS_PASS" in verified.stdout
    on_node(
        citus_db,
        citus_db.cluster.coordinator,
        f"UPDATE {citus_db.schema}.information_unit SET parent_code = code "
        f" WHERE doc_path = 'terms.md' AND parent_code IS NOT NULL "
        f"   AND code = (SELECT max(code) FROM {citus_db.schema}.information_unit "
        f"                WHERE doc_path = 'terms.md' AND parent_code IS NOT NULL) "
        f"RETURNING code",
    )
    tampered = run(citus_db, "verify")
    assert tampered.returncode != 0
    assert "FAIL  tree shape" in tampered.stdout and "terms.md" in tampered.stdout


def test_upgrade_from_single_node_then_apply_again(citus_db: CitusDatabase, tmp_path: Path) -> None:
    """A schema applied on one server, moved by `migrate --distributed`, takes the next
    versions of its documents on the cluster: revisions, moves and retirements of units
    written before the move, new units, and a code held before the move is not handed
    to a new unit; export is byte-identical and the state is the single-node one."""
    folder = sources(tmp_path, 3)
    versions = history_versions(10)
    shutil.copyfile(versions[0], folder / "terms.md")
    single = f"{citus_db.schema}_one"
    assert run(citus_db, "migrate", "--roles").returncode == 0
    assert run(citus_db, "migrate", "--roles", IUCUT_SCHEMA=single).returncode == 0
    try:
        for schema in (citus_db.schema, single):
            applied = run(
                citus_db, "apply", str(folder), IUCUT_ROOT=str(folder), IUCUT_SCHEMA=schema,
                **LIVE,
            )  # fmt: skip
            assert applied.returncode == 0, applied.stderr
        moved = run(citus_db, "migrate", "--roles", "--distributed")
        assert moved.returncode == 0, moved.stderr
        assert layout(citus_db)["iu_lifecycle_log"][:2] == ("h", "doc_path")
        for version in versions[1:]:
            (folder / "terms.md").unlink()
            shutil.copyfile(version, folder / "terms.md")
            for schema in (citus_db.schema, single):
                applied = run(
                    citus_db, "apply", str(folder), IUCUT_ROOT=str(folder),
                    IUCUT_SCHEMA=schema, **LIVE,
                )  # fmt: skip
                assert applied.returncode == 0, (schema, version.name, applied.stderr)
            assert exports_match(citus_db, folder) == [], version.name
            assert digest(citus_db) == digest(citus_db, single), version.name
    finally:
        with citus_db.cluster.connect() as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {single} CASCADE")
