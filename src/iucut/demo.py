"""The guided demo: the whole pipeline on sample documents, on a database of its own.

:func:`run_demo` resets a database ``iucut_demo`` on the embedded server (never the
user's ``iucut`` database, never a server named by ``--dsn`` or the environment),
copies the samples shipped in ``iucut/samples`` to a temporary working copy, and runs
migrate --roles, doctor, cut, plan, prove, apply (refused while the switch is off, then
as ``cutter_exec`` with the switch on for this database only), an edit of one clause,
its plan and apply, the unit's history and a byte-for-byte export. Every step checks
its own outcome; the narrative goes to ``say`` line by line.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from iucut._version import __version__
from iucut.config import Roles, Settings
from iucut.db.connector import Connection, ConnectionProvider
from iucut.db.queries import Ident
from iucut.db.target import Target, with_database
from iucut.errors import ExecutionDisabled, IucutError
from iucut.units import CutDocument, Plan

DEMO_DATABASE = "iucut_demo"
SCHEMA = "public"
SAMPLES = ("quy-che-bao-mat-thong-tin.md", "employee-handbook.md")
#: The clause the demo edits: a sentence of it, before and after.
EDIT_DOC = "quy-che-bao-mat-thong-tin.md"
EDIT_OLD = "độ dài tối thiểu 12 ký tự"
EDIT_NEW = "độ dài tối thiểu 14 ký tự"
SWITCH_SOURCE = "iucut demo (for its own database only)"

Say = Callable[[str], None]


class StepFailed(Exception):
    """A demo step's expectation did not hold."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise StepFailed(message)


@dataclass
class Step:
    """One step of the demo: what it shows, the command it stands for, what it found."""

    number: int
    title: str
    command: str
    ok: bool = False
    lines: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class DemoResult:
    """The demo's outcome: every step, the total time, where things are."""

    steps: list[Step]
    total_steps: int
    seconds: float
    database: str
    workdir: str | None
    reports: list[str]

    @property
    def ok(self) -> bool:
        return len(self.steps) == self.total_steps and all(s.ok for s in self.steps)

    @property
    def failed_step(self) -> int | None:
        return next((s.number for s in self.steps if not s.ok), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "seconds": round(self.seconds, 2),
            "database": self.database,
            "workdir": self.workdir,
            "reports": self.reports,
            "steps": [s.to_dict() for s in self.steps],
        }


def copy_samples(dest: Path) -> list[Path]:
    """Copy the shipped sample documents to ``dest``; returns the copies."""
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for name in SAMPLES:
        data = (resources.files("iucut") / "samples" / name).read_bytes()
        (dest / name).write_bytes(data)
        out.append(dest / name)
    return out


class Demo:
    """The demo's state between steps (each step is a method returning its lines)."""

    def __init__(self, settings: Settings, say: Say, notify: Say, workdir: Path):
        self.user_settings = settings
        self.say = say
        self.notify = notify
        self.workdir = workdir
        self.roles = Roles()
        self.url = ""
        self.provider: ConnectionProvider | None = None
        self.docs: list[CutDocument] = []
        self.plan: Plan | None = None
        self.plan_id = ""
        self.code = ""
        self.reports: list[str] = []

    # -- plumbing --------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """Settings for the demo database: kill-switch off, apply as the execution role."""
        return Settings(
            dsn=self.url,
            schema=SCHEMA,
            driver=self.user_settings.driver,
            roles=self.roles,
            apply_role=self.roles.exec,
            home=self.user_settings.home,
            env={},
        )

    @property
    def settings_on(self) -> Settings:
        return self.settings.with_(execution="enabled", execution_source=SWITCH_SOURCE)

    @property
    def db(self) -> ConnectionProvider:
        assert self.provider is not None
        return self.provider

    @contextmanager
    def connect(self, role: str | None = None) -> Iterator[Connection]:
        with self.db.connect(user=role, autocommit=True) as conn:
            yield conn

    def cut(self) -> list[CutDocument]:
        from iucut.cut import cut_paths

        docs: list[CutDocument] = []
        for item in cut_paths([self.workdir], glob="**/*.md", root=self.workdir, config={}):
            if isinstance(item, IucutError):
                raise StepFailed(f"a sample was rejected: {item.message}")
            docs.append(item)
        expect(len(docs) == len(SAMPLES), f"cut {len(docs)} documents, expected {len(SAMPLES)}")
        return sorted(docs, key=lambda d: d.path)

    def make_plan(self, docs: list[CutDocument]) -> tuple[Plan, str]:
        from iucut import plan_state, planfile

        with self.connect(self.roles.reader) as conn:
            the_plan = plan_state.make_plan(conn, docs)
        return the_plan, planfile.plan_hash(the_plan)

    # -- the steps ---------------------------------------------------------------------

    def step_server(self) -> list[str]:
        from iucut.db.embedded import EmbeddedServer

        server = EmbeddedServer(self.user_settings.home, notify=self.notify)
        status = server.start()
        admin_url = server.url("postgres")
        with ConnectionProvider(Target(admin_url, "demo")).connect(autocommit=True) as admin:
            admin.query("database_drop", database=Ident(DEMO_DATABASE))
            admin.query("database_create", database=Ident(DEMO_DATABASE))
            version = admin.query("server_version").scalar()
        self.url = with_database(admin_url, DEMO_DATABASE)
        self.provider = ConnectionProvider(
            Target(self.url, "demo"), self.user_settings.driver, schema=SCHEMA, notify=self.notify
        )
        return [
            f"PostgreSQL {version}, data in {status.pgdata}",
            f"database {DEMO_DATABASE} created afresh (your own database is not touched)",
        ]

    def step_migrate(self) -> list[str]:
        from iucut.migrate import migrate

        with self.connect() as conn:
            result = migrate(conn, SCHEMA, roles=self.roles)
        expect(bool(result.applied), "no migration was applied to the fresh database")
        r = self.roles
        return [
            f"applied {', '.join(result.applied)}: schema version {result.current_version}",
            f"roles: {r.owner} owns the schema, {r.exec} may only EXECUTE the write "
            f"functions and SELECT, {r.reader} may only SELECT",
        ]

    def step_doctor(self) -> list[str]:
        from iucut.doctor import doctor
        from iucut.report import verdict

        checks = doctor(self.settings, self.db)
        line = verdict("IUCUT_DOCTOR", checks)
        failed = [f"{c.name}: {c.evidence}" for c in checks if c.status == "FAIL"]
        expect(not failed, f"{line}: " + "; ".join(failed))
        out = [f"{c.status}  {c.name}" for c in checks if c.status != "PASS"]
        return [*out, line]

    def step_cut(self) -> list[str]:
        self.docs = self.cut()
        lines = []
        for doc in self.docs:
            source = (self.workdir / doc.path).read_bytes()
            lossless = doc.reassemble().encode("utf-8", "surrogatepass") == source
            expect(lossless, f"{doc.path}: the units do not reassemble to the source")
            kinds: dict[str, int] = {}
            for u in doc.units:
                kinds[u.kind] = kinds.get(u.kind, 0) + 1
            breakdown = ", ".join(f"{n} {k}" for k, n in kinds.items())
            lines.append(
                f"{doc.path}: {len(doc.units)} units in namespace {doc.namespace} "
                f"({breakdown}); reassembles byte for byte"
            )
        edited = [
            u
            for d in self.docs
            if d.path == EDIT_DOC
            for u in d.units
            if EDIT_OLD in u.body or EDIT_OLD in u.raw_heading
        ]
        expect(len(edited) == 1, f"the clause to edit was found in {len(edited)} units")
        self.code = edited[0].code
        sample = [u for d in self.docs for u in d.units if u.kind == "point"][:1]
        if sample:
            lines.append(f"e.g. {sample[0].code}  [{sample[0].kind}]  {sample[0].title}")
        return lines

    def step_plan(self) -> list[str]:
        from iucut.planfile import write_plan
        from iucut.report.model import summary_line

        self.plan, _ = self.make_plan(self.docs)
        self.plan_id = write_plan(self.plan, self.workdir / "plan.json")
        counts = self.plan.counts
        units = sum(len(d.units) for d in self.docs)
        expect(
            counts["created"] == units and counts["revised"] == counts["retired"] == 0,
            f"the first plan should create {units} units, it says {summary_line(counts)}",
        )
        return [
            f"{d.doc_path}  [{d.action}]  {summary_line({**d.counts, 'unchanged': 0})}"
            for d in self.plan.documents
        ] + [f"plan {self.plan_id[:12]} written to plan.json: {summary_line(counts)}"]

    def step_prove(self) -> list[str]:
        from iucut.prove import prove
        from iucut.report import write_report

        assert self.plan is not None
        report = prove(self.settings, self.db, self.plan, self.plan_id)
        directory = self.user_settings.home / "demo"
        written = write_report(directory, f"proof-{self.plan_id[:12]}", report.to_dict())
        self.reports = [str(p) for p in written]
        lines = [f"PROOF-{c.number}  {c.status}  {c.name}" for c in report.checks]
        expect(report.passed, report.verdict)
        with self.connect() as conn:
            rows = conn.query("table_counts").fetchone() or {}
        expect(rows.get("information_unit") == 0, "the proof left units behind")
        return [
            *lines,
            report.verdict,
            f"information_unit still holds {rows.get('information_unit')} rows; report: "
            f"{directory / f'proof-{self.plan_id[:12]}.html'}",
        ]

    def step_refused(self) -> list[str]:
        from iucut.apply import apply_plan

        assert self.plan is not None
        before = self.db.calls
        try:
            apply_plan(self.settings, self.db, self.plan, self.plan_id)
        except ExecutionDisabled as exc:
            opened = self.db.calls - before
            expect(opened == 0, f"{opened} connection(s) were opened before the refusal")
            return [
                f"refused (exit code {exc.exit_code}): {exc.message}",
                f"connections opened: {opened}",
            ]
        raise StepFailed("apply was not refused while the kill-switch was off")

    def step_apply(self) -> list[str]:
        from iucut.apply import apply_plan
        from iucut.report.model import summary_line

        assert self.plan is not None
        result = apply_plan(self.settings_on, self.db, self.plan, self.plan_id)
        expect(not result.failed, "; ".join(f"{d.doc_path}: {d.error}" for d in result.failed))
        expect(
            result.counts["created"] == self.plan.counts["created"],
            f"created {result.counts['created']}, the plan said {self.plan.counts['created']}",
        )
        with self.connect() as conn:
            actor = conn.query("run_actor", run_id=result.run_id).scalar()
        expect(actor == self.roles.exec, f"the run was written by {actor}, not {self.roles.exec}")
        return [
            f"kill-switch ON from {SWITCH_SOURCE}",
            f"apply: {summary_line(result.counts)} in {result.seconds:.2f}s, run "
            f"{str(result.run_id)[:8]} written by {actor}",
        ]

    def step_show(self) -> list[str]:
        from iucut.browse import show

        with self.connect(self.roles.reader) as conn:
            view = show(conn, self.code)
        u = view.unit
        expect(u["current_version"] == 1, f"{self.code} is at version {u['current_version']}")
        text = (u["raw_heading"] + u["body"]).strip().splitlines()[0]
        return [
            f"{u['code']}  [{u['kind']} {u['label'] or ''}]  {u['state']}, version "
            f"{u['current_version']}, parent {u['parent_code']}",
            f"  {text}",
        ]

    def step_edit(self) -> list[str]:
        path = self.workdir / EDIT_DOC
        text = path.read_text(encoding="utf-8")
        expect(text.count(EDIT_OLD) == 1, "the clause to edit is not in the working copy")
        path.write_text(text.replace(EDIT_OLD, EDIT_NEW), encoding="utf-8")
        return [f"{EDIT_DOC}, unit {self.code}:", f"  - {EDIT_OLD}", f"  + {EDIT_NEW}"]

    def step_plan_edit(self) -> list[str]:
        from iucut.report.model import summary_line

        self.docs = self.cut()
        the_plan, plan_id = self.make_plan(self.docs)
        counts = the_plan.counts
        changes = [c for d in the_plan.documents for c in d.changes if c.op != "place"]
        expect(
            counts["revised"] == 1
            and counts["created"] == counts["retired"] == 0
            and counts["moved"] == counts["restored"] == 0,
            f"the plan should revise exactly 1 unit, it says {summary_line(counts)}",
        )
        expect(
            [c.code for c in changes] == [self.code],
            f"the plan changes {[c.code for c in changes]}, expected {self.code}",
        )
        skipped = [d.doc_path for d in the_plan.documents if d.action == "skip"]
        return [
            f"plan {plan_id[:12]}: {summary_line(counts)}",
            f"  ~ {self.code}",
            f"unchanged documents skipped by hash: {', '.join(skipped)}",
        ]

    def step_apply_edit(self) -> list[str]:
        from iucut.apply import apply_documents
        from iucut.report.model import summary_line

        docs: list[CutDocument | IucutError] = list(self.docs)
        result = apply_documents(self.settings_on, self.db, docs)
        expect(not result.failed, "; ".join(f"{d.doc_path}: {d.error}" for d in result.failed))
        expect(
            result.counts["revised"] == 1 and result.counts["created"] == 0,
            f"apply did {summary_line(result.counts)}, expected ~1",
        )
        return [
            f"apply: {summary_line(result.counts)} in {result.seconds:.2f}s "
            f"(one transaction for the document, under its advisory lock)"
        ]

    def step_history(self) -> list[str]:
        from iucut.browse import history

        with self.connect(self.roles.reader) as conn:
            hist = history(conn, self.code)
        expect(len(hist.versions) == 2, f"{self.code} has {len(hist.versions)} versions")
        events = [e["event"] for e in hist.events]
        expect(events == ["created", "revised"], f"events are {events}")
        lines = [
            f"{self.code}: {len(hist.versions)} versions, events "
            + ", ".join(f"{e['event']} by {e['actor']}" for e in hist.events)
        ]
        for v in hist.versions:
            lines.append(f"  v{v['version']}  {v['content_hash'][:12]}  {v['title']}")
        lines += [
            "  " + line
            for line in hist.diff(1, 2).splitlines()
            if line.startswith(("-", "+")) and not line.startswith(("---", "+++"))
        ]
        return lines

    def step_export(self) -> list[str]:
        from iucut.browse import export

        lines = []
        with self.connect(self.roles.reader) as conn:
            for name in SAMPLES:
                _, text = export(conn, name)
                data = text.encode("utf-8", "surrogatepass")
                source = (self.workdir / name).read_bytes()
                expect(data == source, f"export of {name} differs from the working copy")
                lines.append(
                    f"{name}: {len(data)} bytes, sha256 "
                    f"{hashlib.sha256(data).hexdigest()[:16]}, identical to the "
                    "working copy"
                )
        return lines

    def step_again(self) -> list[str]:
        from iucut.report.model import summary_line

        the_plan, _ = self.make_plan(self.cut())
        expect(
            not the_plan.has_changes,
            f"a second plan still has changes: {summary_line(the_plan.counts)}",
        )
        return [
            f"no changes (exit code 0): {len(the_plan.documents)} documents skipped by their hash"
        ]


#: The steps: title, the command it stands for (run in the working copy), the method.
STEPS: tuple[tuple[str, str, Callable[[Demo], list[str]]], ...] = (
    ("Start the embedded server, reset the demo database", "iucut db start", Demo.step_server),
    ("Create the schema and the least-privilege roles", "iucut migrate --roles", Demo.step_migrate),
    ("Check the installed tree, the schema and the privileges", "iucut doctor", Demo.step_doctor),
    ("Cut the samples into units (no database)", "iucut cut .", Demo.step_cut),
    (
        "Plan against the database (read-only, as iucut_reader)",
        "iucut plan . -o plan.json",
        Demo.step_plan,
    ),
    (
        "Prove the plan without writing (rollback-only, as cutter_exec)",
        "iucut prove --plan plan.json",
        Demo.step_prove,
    ),
    (
        "Apply with the kill-switch off: refused before any connection",
        "iucut apply --plan plan.json",
        Demo.step_refused,
    ),
    (
        "Apply the proven plan as cutter_exec (switch on for the demo database only)",
        "IUCUT_EXECUTION=enabled IUCUT_APPLY_ROLE=cutter_exec iucut apply --plan plan.json",
        Demo.step_apply,
    ),
    ("Show the unit the demo will edit", "iucut show CODE", Demo.step_show),
    ("Edit one clause in the working copy", "$EDITOR quy-che-bao-mat-thong-tin.md", Demo.step_edit),
    ("Plan again: one revision", "iucut plan .", Demo.step_plan_edit),
    (
        "Apply the revision",
        "IUCUT_EXECUTION=enabled IUCUT_APPLY_ROLE=cutter_exec iucut apply .",
        Demo.step_apply_edit,
    ),
    ("History of the unit: two versions", "iucut history CODE", Demo.step_history),
    (
        "Export: the database gives back the edited source byte for byte",
        "iucut export quy-che-bao-mat-thong-tin.md",
        Demo.step_export,
    ),
    ("Plan once more: nothing to do (idempotent)", "iucut plan .", Demo.step_again),
)


def run_demo(
    settings: Settings, *, say: Say = print, notify: Say | None = None, keep: bool = False
) -> DemoResult:
    """Run every step in order, stopping at the first that fails; never raises for a step."""
    started = time.monotonic()
    notify = notify or (lambda _msg: None)
    workdir = Path(tempfile.mkdtemp(prefix="iucut-demo-"))
    copy_samples(workdir)
    demo = Demo(settings, say, notify, workdir)
    say(
        f"iucut {__version__} demo: the whole pipeline on {len(SAMPLES)} sample documents, "
        f"on a database of its own"
    )
    say(
        f"  working copy: {workdir}  ({', '.join(SAMPLES)})"
        + ("" if keep else "; removed at the end (--keep keeps it)")
    )
    steps: list[Step] = []
    try:
        for number, (title, command, method) in enumerate(STEPS, 1):
            step = Step(number, title, command.replace("CODE", demo.code or "CODE"))
            steps.append(step)
            say("")
            say(f"[{number:>2}/{len(STEPS)}] {title}")
            t0 = time.monotonic()
            try:
                step.lines = method(demo)
                step.ok = True
            except (StepFailed, IucutError) as exc:
                step.error = exc.message if isinstance(exc, IucutError) else str(exc)
            except Exception as exc:  # a bug, not an expectation: name it, trace on stderr
                step.error = f"{type(exc).__name__}: {exc}"
                notify(traceback.format_exc())
            step.seconds = time.monotonic() - t0
            say(f"        $ {step.command}")
            for line in step.lines:
                say(f"        {line}")
            if not step.ok:
                say(f"        FAILED: {step.error}")
                break
            if number == 1 and keep:
                say(f"        to follow along: cd {workdir} && export IUCUT_DSN='{demo.url}'")
            elif number == 1:
                say(f"        to look around afterwards: export IUCUT_DSN='{demo.url}'")
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
    result = DemoResult(
        steps,
        len(STEPS),
        time.monotonic() - started,
        demo.url,
        str(workdir) if keep else None,
        demo.reports,
    )
    say("")
    if result.ok:
        say(f"demo: all {len(STEPS)} steps passed in {result.seconds:.1f}s")
    else:
        say(f"demo: step {result.failed_step} of {len(STEPS)} failed after {result.seconds:.1f}s")
    if result.reports:
        say(f"proof report: {', '.join(result.reports)}")
    if keep:
        say(f"working copy kept in {workdir}")
    if result.ok:
        for line in next_steps():
            say(line)
    return result


def next_steps() -> list[str]:
    """What to do after the demo: its database was its own, so the user's own database
    (the embedded server's ``iucut``, or the one IUCUT_DSN names) still needs migrating;
    and where the ``iucut`` command is when it is not on PATH (``make demo``'s .venv)."""
    lines = [
        "",
        "next, on your own database (the demo used iucut_demo, a database of its own; your "
        "documents go to the embedded server's database iucut, or to --dsn / IUCUT_DSN):",
        "  iucut migrate --roles     # once per database, as an administrator",
        "  iucut plan docs           # then cut, plan, prove and apply: see the README's tour",
    ]
    script = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    on_path = shutil.which("iucut")
    if (
        script is not None
        and script.name == "iucut"
        and (on_path is None or Path(on_path).resolve() != script)
    ):
        activate = script.parent / "activate"
        how = (
            f"`source {activate}` puts it there"
            if activate.is_file()
            else f"add {script.parent} to PATH"
        )
        lines.append(f"the iucut command is {script}, not on your PATH: {how}")
    return lines
