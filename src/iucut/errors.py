"""The one exception root of iucut, its kinds, and the exit code of each kind.

Every error a user can meet is an :class:`IucutError`. A subclass carries its
default message in its docstring and its own exit code, so the CLI has exactly one
place that turns errors into text and codes (``cli.main``). Driver exceptions never
pass this boundary: the connectors translate them (``raise ... from exc``).

Messages must never contain a password: build them from redacted targets
(:func:`iucut.db.target.redact`) and never from raw connection strings.
"""

from __future__ import annotations

from typing import Any, ClassVar


class IucutError(Exception):
    """iucut failed."""

    exit_code: ClassVar[int] = 1

    def __init__(self, message: str | None = None, *, hint: str | None = None, **context: Any):
        self.message = message or (self.__doc__ or "").strip().splitlines()[0]
        self.hint = hint
        self.context = context
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"error": type(self).__name__, "message": self.message}
        if self.hint:
            data["hint"] = self.hint
        if self.context:
            data["context"] = {k: v for k, v in self.context.items() if _jsonable(v)}
        data["exit_code"] = self.exit_code
        return data


def _jsonable(value: Any) -> bool:
    return isinstance(value, str | int | float | bool | list | dict | type(None))


class InputError(IucutError):
    """A source document cannot be cut."""

    exit_code = 3

    def __init__(
        self,
        message: str | None = None,
        *,
        path: str | None = None,
        line: int | None = None,
        offset: int | None = None,
        hint: str | None = None,
    ):
        where = path or "<input>"
        if line is not None:
            where += f":{line}"
        if offset is not None:
            where += f" (byte {offset})"
        super().__init__(
            f"{where}: {message or 'cannot be cut'}",
            hint=hint,
            path=path,
            line=line,
            offset=offset,
        )


class ContractError(IucutError):
    """A row breaks the row contract."""

    exit_code = 4


class ExecutionDisabled(IucutError):
    """Live execution is disabled (the kill-switch is off)."""

    exit_code = 5


class Frozen(IucutError):
    """Live writes are frozen at the database."""

    exit_code = 6


class StalePlan(IucutError):
    """The plan no longer matches the database."""

    exit_code = 7


class DatabaseError(IucutError):
    """The database refused or failed an operation."""

    exit_code = 8


class ConnectionFailed(DatabaseError):
    """Cannot connect to the database."""

    exit_code = 8


class MigrationError(IucutError):
    """The database schema cannot be migrated."""

    exit_code = 9


class ProofFailed(IucutError):
    """The rollback-only proof did not pass."""

    exit_code = 10


class DoctorFailed(IucutError):
    """At least one doctor check failed."""

    exit_code = 11


class CheckFailed(IucutError):
    """A source document does not round-trip byte for byte."""

    exit_code = 12


class ConfigError(IucutError):
    """The configuration is invalid."""

    exit_code = 13


class NotFound(IucutError):
    """No such unit or document."""

    exit_code = 14


class OutputError(IucutError):
    """An output file (rows, plan, export, report) cannot be written."""

    exit_code = 15


class VerifyFailed(IucutError):
    """The stored state does not check out (hashes, document digests or tree shape)."""

    exit_code = 16


class FreezeTimeout(IucutError):
    """The freeze gave up waiting for writes in flight; writes are not frozen."""

    exit_code = 17


class OutsideRoot(InputError):
    """A source file lies outside the project root (through a link or ``..``)."""

    exit_code = 20


class RootError(IucutError):
    """The project root cannot be decided (no such folder, or paths of several projects)."""

    exit_code = 21


class CursorRefused(IucutError):
    """A change-feed cursor is refused (malformed, or from another database)."""

    exit_code = 24


class NotReadOnly(IucutError):
    """A read-only service refuses to run with a role that can write."""

    exit_code = 25


class PlanFileError(IucutError):
    """A plan or proof file is not a readable iucut file (named, with the reason)."""

    exit_code = 27


class NotMigrated(DatabaseError):
    """The database has no iucut schema or roles yet: run `iucut migrate --roles`."""

    exit_code = 28


class DanglingReferences(IucutError):
    """plan --strict-refs: the plan would leave references of active units dangling."""

    exit_code = 30


class EmptySearchQuery(IucutError):
    """search: the query has no words to search for (only stop words or punctuation)."""

    exit_code = 32


class Interrupted(IucutError):
    """Interrupted (Ctrl-C): what was written before is listed."""

    exit_code = 130


class CitusUnavailable(MigrationError):
    """migrate --distributed: this database is no Citus coordinator (no citus extension)."""

    exit_code = 36


class DistributedUnsupported(IucutError):
    """This command is not available on a schema distributed with Citus."""

    exit_code = 37


class AsOfRefused(IucutError):
    """--as-of / --in-force-on names no stored state: an unknown run, an ambiguous run-id
    prefix, a time before any run, or a date before every effective date."""

    exit_code = 34


class HistoryNotKept(IucutError):
    """--as-of names a point before the upgrade to schema 15: document versions (the order
    of units) were not kept then, so that state cannot be rebuilt exactly."""

    exit_code = 35


#: Exit code when standard output was closed by its reader (``| head``): 128 + SIGPIPE,
#: what the shell reports for a program killed by a broken pipe. Nothing is printed.
BROKEN_PIPE_EXIT = 141

#: Exit code of a usage error (unknown option, missing argument): EX_USAGE.
USAGE_EXIT = 64
#: Exit code of ``iucut plan`` when the plan has changes (terraform's -detailed-exitcode).
PLAN_CHANGES_EXIT = 2
#: Exit code of ``iucut search`` when no unit matches (grep's "no lines selected").
SEARCH_NO_MATCH_EXIT = 33

EXIT_CODES: dict[int, str] = {
    0: "success (plan: no changes)",
    1: "unexpected error",
    PLAN_CHANGES_EXIT: "plan: there are changes to apply",
    InputError.exit_code: "bad input document (named with file, line and byte)",
    ContractError.exit_code: "a row breaks the row contract",
    ExecutionDisabled.exit_code: "apply refused: the kill-switch is off",
    Frozen.exit_code: "apply refused: live writes are frozen at the database",
    StalePlan.exit_code: "apply refused: the plan is stale or for another database",
    DatabaseError.exit_code: "database unreachable or refused the operation",
    MigrationError.exit_code: "migration failed (e.g. an applied migration was edited)",
    ProofFailed.exit_code: "prove: at least one proof check failed",
    DoctorFailed.exit_code: "doctor: at least one check failed",
    CheckFailed.exit_code: "cut --check: a document does not round-trip",
    ConfigError.exit_code: "invalid configuration",
    NotFound.exit_code: "no such unit or document",
    OutputError.exit_code: "an output file cannot be written (named, with the reason)",
    VerifyFailed.exit_code: "verify: the stored state does not check out (or doctor's check)",
    FreezeTimeout.exit_code: "freeze: gave up waiting for writes in flight (named); not frozen",
    OutsideRoot.exit_code: "a source file lies outside the project root (through a link or ..)",
    RootError.exit_code: "the project root cannot be decided (no such folder, or paths of "
    "several projects)",
    CursorRefused.exit_code: "changes: the cursor is malformed or from another database",
    NotReadOnly.exit_code: "mcp: refused to start with a role that can write",
    USAGE_EXIT: "usage error (unknown option, missing argument)",
    PlanFileError.exit_code: "a plan or proof file is not a readable iucut file",
    NotMigrated.exit_code: "the database is not migrated (no iucut schema or roles): "
    "run `iucut migrate --roles`",
    DanglingReferences.exit_code: "plan --strict-refs: references of active units would "
    "dangle (target retired or renumbered)",
    EmptySearchQuery.exit_code: "search: the query has no words to search for (only stop "
    "words or punctuation)",
    SEARCH_NO_MATCH_EXIT: "search: no unit matches the query",
    Interrupted.exit_code: "interrupted (Ctrl-C); the documents already written are listed",
    CitusUnavailable.exit_code: "migrate --distributed: the database is no Citus coordinator",
    DistributedUnsupported.exit_code: "the command is not available on a distributed (Citus) "
    "schema",
    AsOfRefused.exit_code: "--as-of / --in-force-on: no such run (or an ambiguous prefix), a "
    "time before any run, or nothing in force on that date",
    HistoryNotKept.exit_code: "--as-of: a point before the upgrade to schema 15, whose document "
    "versions were not kept",
    BROKEN_PIPE_EXIT: "standard output closed by its reader (e.g. `| head`); nothing printed",
}
