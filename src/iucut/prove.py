"""The rollback-only proof: drive the real write path inside a transaction that cannot
commit, roll it back, and verify from an independent connection that nothing changed.

The protocol (see notes/postgres-safety.md):

* preflight, read-only, on an observer connection: the target's fingerprint and a
  snapshot S0 (row counts, content digests, sequence values, prepared transactions);
* the proof, on a dedicated connection: one transaction; its xid; ``fn_run_begin('proof')``
  arms the poison pill (the database refuses to COMMIT it); every document of the plan is
  written by :func:`iucut.apply.write_document`, the code apply runs; the schema's other
  deferrable constraints are checked; the in-transaction deltas must equal the plan;
  ROLLBACK; no advisory lock may remain; the connection is closed;
* postcheck, on a new observer connection: counts and digests equal S0, no row carries
  the run id or a created code, ``pg_xact_status(xid)`` is ``aborted``; sequence values
  consumed by the rolled-back inserts are reported, not hidden.

Checks are numbered as in SPEC §6, plus 8 (the database refuses to commit a proof run).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from iucut import manifest
from iucut._version import __version__
from iucut.apply import apply_documents, begin_run, op_columns, write_document
from iucut.config import Settings, load_settings
from iucut.db.connector import Connection, ConnectionProvider
from iucut.db.queries import SqlText
from iucut.distributed import is_distributed
from iucut.errors import (
    ContractError,
    ExecutionDisabled,
    IucutError,
    PlanFileError,
    ProofFailed,
    StalePlan,
)
from iucut.plan_state import read_fingerprint
from iucut.report.model import Status
from iucut.units import EVENTS, DocumentPlan, Fingerprint, Plan
from iucut.validate import require_row

PASS, FAIL, WARN = Status.PASS, Status.FAIL, Status.WARN
TABLES = manifest.STATE_TABLES
REPORT_FORMAT = "iucut-proof/1"

WritePath = Callable[[Connection, str, DocumentPlan], dict[str, int]]


@dataclass(frozen=True)
class Check:
    number: int
    name: str
    status: str
    evidence: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "name": self.name,
            "status": self.status,
            "evidence": self.evidence,
        }


@dataclass(frozen=True)
class ProofReport:
    """The outcome of a proof: its checks, bound to a plan and a database."""

    checks: tuple[Check, ...]
    plan_hash: str
    fingerprint: Fingerprint | None
    driver: str
    tool_version: str = __version__
    started_at: str = ""
    seconds: float = 0.0
    run_id: str | None = None
    xid: str | None = None
    survives_rollback: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.status != FAIL for c in self.checks)

    @property
    def verdict(self) -> str:
        n = len(self.checks)
        ok = sum(1 for c in self.checks if c.status != FAIL)
        if self.passed:
            return f"IUCUT_PROOF {ok}/{n} ALL_PROOFS_PASS"
        failed = ",".join(f"PROOF-{c.number}" for c in self.checks if c.status == FAIL)
        return f"IUCUT_PROOF {ok}/{n} FAILED {failed}"

    @property
    def role(self) -> str | None:
        """The role the write path was driven as (from PROOF-3)."""
        for check in self.checks:
            if check.number == 3:
                return check.evidence.get("role")
        return None

    def to_dict(self) -> dict[str, Any]:
        fp = self.fingerprint
        return {
            "format": REPORT_FORMAT,
            "verdict": self.verdict,
            "passed": self.passed,
            "plan_hash": self.plan_hash,
            "fingerprint": None
            if fp is None
            else {
                "system_identifier": fp.system_identifier,
                "database": fp.database,
                "schema": fp.schema,
                "migration_version": fp.migration_version,
            },
            "driver": self.driver,
            "role": self.role,
            "tool_version": self.tool_version,
            "started_at": self.started_at,
            "seconds": round(self.seconds, 3),
            "run_id": self.run_id,
            "xid": self.xid,
            "survives_rollback": self.survives_rollback,
            "checks": [c.to_dict() for c in self.checks],
        }


# --------------------------------------------------------------------------------------
# Snapshots (observer side)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    counts: dict[str, int]
    digests: dict[str, str]
    sequences: dict[str, int | None]
    prepared_xacts: int


def snapshot(conn: Connection) -> Snapshot:
    counts = conn.query("table_counts").fetchone() or {}
    digests = conn.query("table_digests").fetchone() or {}
    seqs = {r["sequence"]: r["last_value"] for r in conn.query("sequence_values").fetchall()}
    leftovers = conn.query("session_leftovers").fetchone() or {}
    return Snapshot(
        {k: int(v) for k, v in counts.items()},
        dict(digests),
        seqs,
        int(leftovers.get("prepared_xacts", 0)),
    )


def expected_deltas(plan: Plan) -> dict[str, int]:
    """Rows each table gains in the proof transaction if the write path does the plan."""
    counts = plan.counts
    versions = sum(1 for d in plan.documents for c in d.changes if c.new_version)
    docs_new = sum(1 for d in plan.documents if d.has_changes and d.expect_doc_hash is None)
    return {
        "information_unit": counts["created"],
        "unit_version": versions,
        "iu_lifecycle_log": sum(counts[e] for e in EVENTS),
        "iu_run": 1,
        "iu_document": docs_new,
        "iu_control": 0,
    }


# --------------------------------------------------------------------------------------
# The proof
# --------------------------------------------------------------------------------------


def prove(
    settings: Settings,
    provider: ConnectionProvider,
    plan: Plan,
    plan_hash: str,
    *,
    observer_user: str | None = None,
    write_path: WritePath = write_document,
    lock_timeout: str = "10s",
    statement_timeout: str = "15min",
) -> ProofReport:
    """Run the rollback-only proof of ``plan``; never writes, whatever happens."""
    started = time.monotonic()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    checks: list[Check] = []
    # The switch as its sources (environment, env file, configuration file) say now;
    # PROOF-7 reads them again after the proof.
    switch_before = _switch_from_sources(settings)

    # PROOF-1: kill-switch state and tool version; the role that will drive the write
    # path must not be able to write the tables directly (checked below, once connected).
    proof_role = settings.apply_role

    # PROOF-2: the live path is refused while the switch is off, before any connection.
    checks.append(_check_gate(settings, provider))

    observer = provider.connect(user=observer_user, autocommit=True)
    try:
        fingerprint = read_fingerprint(observer)
        if not fingerprint.matches(plan.fingerprint):
            raise StalePlan("the plan was made for another database; plan again here")
        s0 = snapshot(observer)
    finally:
        observer.close()

    run_id: str | None = None
    xid: str | None = None
    # The proof runs as the role apply runs as: same rights, same settings.
    conn = provider.connect(user=settings.apply_role, autocommit=False)
    try:
        # PROOF-3: the driver serves the calls, as the role that applies.
        ident = dict(conn.query("proof_identity").fetchone() or {})
        role_ok = proof_role is None or ident.get("role") == proof_role
        checks.append(
            Check(
                3,
                "the driver serves the calls as the role that applies",
                PASS if role_ok else FAIL,
                {
                    "driver": conn.driver_name,
                    "apply_role": proof_role or "(the connecting role)",
                    **ident,
                },
            )
        )
        checks.append(_check_role(conn, settings, switch_before))
        conn.rollback()

        # PROOF-4: the row contract, client side and database side.
        checks.append(_check_contract(conn, plan))
        conn.rollback()

        # PROOF-5: the full plan through the write functions in one transaction.
        check5, run_id, xid = _drive(conn, plan, s0, write_path, lock_timeout, statement_timeout)
        checks.append(check5)
    finally:
        leftovers = _end_proof_session(conn)

    # PROOF-6: independent verification from a new connection.
    observer = provider.connect(user=observer_user, autocommit=True)
    try:
        s_after = snapshot(observer)
        checks.append(_verify(observer, plan, s0, run_id, xid, leftovers))
        survives = _survivors(observer, s0, plan)
        # PROOF-8: the database itself refuses to commit a proof run.
        pill = _check_pill(provider, settings.apply_role)
    finally:
        observer.close()

    # PROOF-7: the switch, read again from its sources, and the control row are as
    # they were before the proof.
    switch_after = _switch_from_sources(settings)
    control_same = s_after.digests.get("iu_control") == s0.digests.get("iu_control")
    checks.append(
        Check(
            7,
            "kill-switch and control row unchanged after the proof",
            PASS if switch_after == switch_before and control_same else FAIL,
            {
                "before": switch_before,
                "after": switch_after,
                "control_row_unchanged": control_same,
            },
        )
    )
    checks.append(pill)
    checks.sort(key=lambda c: c.number)
    return ProofReport(
        tuple(checks),
        plan_hash,
        fingerprint,
        provider.driver,
        started_at=started_at,
        seconds=time.monotonic() - started,
        run_id=run_id,
        xid=xid,
        survives_rollback=survives,
    )


class _CountingProvider:
    """Stands in for the real provider in PROOF-2: counts, never connects."""

    def __init__(self) -> None:
        self.calls = 0

    def connect(self, **_: Any) -> Connection:
        self.calls += 1
        raise AssertionError("the kill-switch let a connection through")


def _check_gate(settings: Settings, provider: ConnectionProvider) -> Check:
    off = settings.with_(execution=None, execution_source="proof (switch forced off)")
    counter = _CountingProvider()
    try:
        apply_documents(off, counter, [])  # type: ignore[arg-type]
    except ExecutionDisabled as exc:
        status = PASS if counter.calls == 0 else FAIL
        return Check(
            2,
            "live path refused while the switch is off",
            status,
            {"refused": True, "provider_calls": counter.calls, "message": exc.message},
        )
    except AssertionError:
        pass
    return Check(
        2,
        "live path refused while the switch is off",
        FAIL,
        {"refused": False, "provider_calls": counter.calls},
    )


#: A row without title and body: the client validator and the database must refuse it.
BARE_ROW: dict[str, Any] = {
    "namespace": "IUCUT-PROOF",
    "code": "IUCUT-PROOF/BARE",
    "kind": "article",
    "ordinal": 1,
    "depth": 1,
    "position": 1,
    "raw_heading": "",
    "content_hash": "0" * 64,
    "doc_path": "iucut-proof/contract-probe.md",
}


def _check_contract(conn: Connection, plan: Plan) -> Check:
    """Plan rows pass the client contract; the database refuses a bare row (IUC01)."""
    rows = [c.unit for d in plan.documents for c in d.changes if c.unit is not None]
    evidence: dict[str, Any] = {"rows": len(rows)}
    status = PASS
    try:
        for row in rows:
            require_row(row)
        evidence["plan_rows_missing"] = []
    except ContractError as exc:
        status = FAIL
        evidence["plan_rows_error"] = exc.message
    try:
        require_row(dict(BARE_ROW, doc_path="proof.md"))
        status = FAIL
        evidence["bare_row_client"] = "accepted (it must be refused)"
    except ContractError as exc:
        evidence["bare_row_client"] = exc.message
    # The database side: the write function itself must refuse the bare row, in a
    # proof run (the poison pill) that is rolled back at once.
    document = {
        "doc_path": BARE_ROW["doc_path"],
        "namespace": BARE_ROW["namespace"],
        "doc_hash": "0" * 64,
        "expect_doc_hash": None,
        "state": "active",
    }
    op = {k: v for k, v in BARE_ROW.items() if k != "doc_path"}
    op.update(op="create", expect_version=None)
    try:
        run_id = begin_run(conn, "proof", meta={"probe": "bare row must be refused"})
        conn.query(
            "apply_document",
            run_id=run_id,
            document=json.dumps(document),
            refs=None,
            **op_columns([op]),
        ).fetchone()
        status = FAIL
        evidence["bare_row_database"] = "accepted (it must be refused with IUC01)"
    except IucutError as exc:
        sqlstate = exc.context.get("sqlstate")
        evidence["bare_row_database"] = {"sqlstate": sqlstate, "message": exc.message}
        if sqlstate != "IUC01" or "body" not in exc.message or "title" not in exc.message:
            status = FAIL
    return Check(
        4, "row contract: plan rows pass, the database refuses a bare row", status, evidence
    )


def _switch_from_sources(settings: Settings) -> dict[str, Any]:
    """The kill-switch as the environment and configuration file say it now."""
    environ = {**settings.env, **os.environ}
    if settings.config_path is not None:
        environ.setdefault("IUCUT_CONFIG", str(settings.config_path))
    try:
        now = load_settings(environ=environ)
    except IucutError as exc:
        return {"error": exc.message}
    return {"execution_enabled": now.execution_enabled, "source": now.execution_source}


def _check_role(conn: Connection, settings: Settings, switch: dict[str, Any]) -> Check:
    """PROOF-1: the switch and tool version, and the role's direct table rights.

    A role that is neither superuser nor the owner and can INSERT, UPDATE, DELETE or
    TRUNCATE an iucut table could write around the functions: FAIL. Proving as a
    superuser or the owner is a WARN (apply should run as the execution role)."""
    row = dict(conn.query("role_write_rights").fetchone() or {})
    direct = list(row.get("direct_writes") or [])
    privileged = bool(row.get("superuser")) or bool(row.get("owner"))
    status = FAIL if direct and not privileged else (WARN if privileged else PASS)
    evidence: dict[str, Any] = {
        "execution_enabled": settings.execution_enabled,
        "source": settings.execution_source,
        "switch_from_sources": switch,
        "tool_version": __version__,
        "role": row.get("role"),
        "superuser_or_owner": privileged,
        "direct_table_writes": direct,
    }
    if privileged:
        evidence["note"] = "proved as a superuser or the owner; set IUCUT_APPLY_ROLE"
    return Check(
        1, "kill-switch, tool version, no direct table writes by the role", status, evidence
    )


def _drive(
    conn: Connection,
    plan: Plan,
    s0: Snapshot,
    write_path: WritePath,
    lock_timeout: str,
    statement_timeout: str,
) -> tuple[Check, str | None, str | None]:
    name = "full plan driven through the SQL functions in one transaction"
    run_id: str | None = None
    xid: str | None = None
    try:
        distributed = is_distributed(conn, conn.schema)
        conn.query("proof_timeouts", lock_timeout=lock_timeout, statement_timeout=statement_timeout)
        xid = str(conn.query("current_xid").scalar())
        run_id = begin_run(conn, "proof", meta={"proof": True})
        done = dict.fromkeys((*EVENTS, "placed"), 0)
        for doc in plan.documents:
            if not doc.has_changes:
                continue
            for key, n in write_path(conn, run_id, doc).items():
                done[key] = done.get(key, 0) + n
        deferred = [row["name"] for row in conn.query("deferrable_constraints").fetchall()]
        if deferred:  # names quoted by quote_ident
            conn.query("constraints_immediate", constraints=SqlText(", ".join(deferred)))
        still = str(conn.query("current_xid").scalar())
        # on the cluster, as the owner that wrote (docs/distributed.md)
        table_counts = "table_counts_distributed" if distributed else "table_counts"
        counts = {k: int(v) for k, v in (conn.query(table_counts).fetchone() or {}).items()}
    except IucutError as exc:
        return (
            Check(5, name, FAIL, {"error": exc.message, "sqlstate": exc.context.get("sqlstate")}),
            run_id,
            xid,
        )
    deltas = {t: counts[t] - s0.counts[t] for t in TABLES}
    want = expected_deltas(plan)
    planned = {e: plan.counts[e] for e in EVENTS}
    did = {e: done.get(e, 0) for e in EVENTS}
    ok = deltas == want and did == planned and still == xid
    evidence = {
        "run_id": run_id,
        "xid": xid,
        "planned": planned,
        "written": did,
        "table_deltas": deltas,
        "expected_deltas": want,
        "before": s0.counts,
        "in_transaction": counts,
    }
    if still != xid:
        evidence["error"] = f"the transaction ended inside the proof (xid {xid} -> {still})"
    return Check(5, name, PASS if ok else FAIL, evidence), run_id, xid


def _end_proof_session(conn: Connection) -> dict[str, Any]:
    """ROLLBACK, look for what a session could keep, and close the connection."""
    leftovers: dict[str, Any] = {}
    try:
        conn.rollback()
        conn.autocommit = True
        leftovers = dict(conn.query("session_leftovers").fetchone() or {})
    except IucutError as exc:
        leftovers = {"error": exc.message}
    finally:
        conn.close()
    return leftovers


def _verify(
    observer: Connection,
    plan: Plan,
    s0: Snapshot,
    run_id: str | None,
    xid: str | None,
    leftovers: Mapping[str, Any],
) -> Check:
    after = snapshot(observer)
    codes = [c.code for d in plan.documents for c in d.changes if c.op == "create"]
    leaked = int(observer.query("codes_present", codes=codes).scalar() or 0)
    run_rows = int(observer.query("run_rows", run_id=run_id).scalar() or 0) if run_id else 0
    xact = observer.query("xact_status", xid=xid).scalar() if xid else None
    evidence = {
        "counts_before": s0.counts,
        "counts_after": after.counts,
        "digests_equal": after.digests == s0.digests,
        "changed_tables": sorted(t for t in TABLES if after.digests[t] != s0.digests[t]),
        "plan_rows_leaked": leaked,
        "run_rows_leaked": run_rows,
        "xact_status": xact,
        "advisory_locks_left": leftovers.get("advisory_locks"),
        "prepared_xacts": {"before": s0.prepared_xacts, "after": after.prepared_xacts},
    }
    ok = (
        after.counts == s0.counts
        and after.digests == s0.digests
        and leaked == 0
        and run_rows == 0
        and xact == "aborted"
        and leftovers.get("advisory_locks") == 0
        and after.prepared_xacts == s0.prepared_xacts
    )
    return Check(
        6, "after ROLLBACK an independent connection sees no change", PASS if ok else FAIL, evidence
    )


def _survivors(observer: Connection, s0: Snapshot, plan: Plan) -> dict[str, Any]:
    """Effects that do survive a rollback, reported rather than hidden.

    Identity values used by the rolled-back inserts are not given back: each table's
    sequence should have moved by exactly the rows the proof inserted there.
    """
    now = {r["sequence"]: r["last_value"] for r in observer.query("sequence_values").fetchall()}
    drift = {name: (now.get(name) or 0) - (s0.sequences.get(name) or 0) for name in now}
    inserted = expected_deltas(plan)
    expected = {
        name: inserted[table]
        for name in now
        for table in ("information_unit", "unit_version", "iu_lifecycle_log")
        if name.startswith(table + "_")
    }
    return {
        "sequence_values_consumed": drift,
        "sequence_values_expected": expected,
        "consumed_as_expected": all(drift.get(n) == v for n, v in expected.items()),
        "note": "identity values used by the rolled-back inserts are not given back; "
        "statistics, WAL and transaction ids advance too. Nothing else survives.",
    }


def _check_pill(provider: ConnectionProvider, role: str | None) -> Check:
    """Begin a proof run in a throwaway transaction and try to COMMIT it."""
    conn = provider.connect(user=role, autocommit=False)
    try:
        begin_run(conn, "proof", meta={"probe": "commit must be refused"})
        try:
            conn.commit()
        except IucutError as exc:
            refused = exc.context.get("sqlstate") == "IUP01"
            return Check(
                8,
                "the database refuses to commit a proof run",
                PASS if refused else FAIL,
                {"sqlstate": exc.context.get("sqlstate"), "message": exc.message},
            )
        return Check(8, "the database refuses to commit a proof run", FAIL, {"committed": True})
    except IucutError as exc:
        return Check(8, "the database refuses to commit a proof run", FAIL, {"error": exc.message})
    finally:
        try:
            conn.rollback()
        finally:
            conn.close()


# --------------------------------------------------------------------------------------
# Reports and --require-proof
# --------------------------------------------------------------------------------------


def check_proof_report(
    path: Path, plan_hash: str, provider: ConnectionProvider, *, role: str | None = None
) -> dict[str, Any]:
    """Accept a proof report only if it passed, for this plan, on this database, driven
    as the role that applies (``role``; None: the connecting role)."""
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PlanFileError(
            f"cannot read proof report {path}: {getattr(exc, 'strerror', None) or exc}",
            hint="give the proof.json that `iucut prove --plan FILE --report DIR` wrote",
        ) from exc
    if not isinstance(report, dict) or report.get("format") != REPORT_FORMAT:
        raise PlanFileError(
            f"{path} is not an iucut proof report",
            hint="give the proof.json that `iucut prove --plan FILE --report DIR` wrote",
        )
    if not report.get("passed"):
        raise ProofFailed(f"{path}: the proof did not pass ({report.get('verdict')})")
    if report.get("plan_hash") != plan_hash:
        raise ProofFailed(
            f"{path}: the proof is for plan {str(report.get('plan_hash'))[:12]}, not for this "
            f"plan {plan_hash[:12]}",
            hint="prove this plan: iucut prove --plan FILE",
        )
    conn = provider.connect(user=role, autocommit=True)
    try:
        here = read_fingerprint(conn)
        applies_as = (conn.query("proof_identity").fetchone() or {}).get("role")
    finally:
        conn.close()
    if report.get("role") != applies_as:
        raise ProofFailed(
            f"{path}: the proof drove the write path as {report.get('role') or 'an unnamed role'}"
            f", but apply writes as {applies_as}",
            hint="prove as the role that applies: set IUCUT_APPLY_ROLE (or apply_role) "
            "the same for prove and apply",
        )
    fp = report.get("fingerprint") or {}
    there = Fingerprint(
        str(fp.get("system_identifier")),
        str(fp.get("database")),
        str(fp.get("schema")),
        fp.get("migration_version"),
    )
    if not here.matches(there):
        raise ProofFailed(
            f"{path}: the proof was made on another database",
            hint="prove the plan against this database",
        )
    return dict(report)
