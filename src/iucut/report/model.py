"""What a report holds (checks, a verdict, a plan summary, facts) and how secrets leave it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from iucut.db.target import MASK, scrub
from iucut.units import summary_line as summary_line  # (reports print it too)

if TYPE_CHECKING:
    from iucut.units import Plan


class Status(StrEnum):
    """The status of a check (doctor, prove, verify), worst last."""

    PASS = "PASS"
    WARN = "WARN"
    FAIL = "FAIL"


#: The statuses a check can have, worst last.
STATUSES = tuple(Status)

#: Keys whose values are secrets wherever they appear in evidence or facts.
_SECRET_KEY = re.compile(
    r"(^|[_-])(pg)?(password|passwd|passphrase|pwd|secret|token|api_?key|credentials?)$", re.I
)


@dataclass(frozen=True)
class Check:
    """One check: its number, name, status, evidence (one line or a mapping), a hint.

    ``details`` is extra machine data: in the JSON, Markdown and HTML forms, not on
    the terminal, which shows the evidence only.
    """

    number: int
    name: str
    status: str
    evidence: str | Mapping[str, Any] = ""
    hint: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"check status must be one of {STATUSES}, not {self.status!r}")

    @property
    def ok(self) -> bool:
        return self.status != "FAIL"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "number": self.number,
            "name": self.name,
            "status": self.status,
            "evidence": self.evidence if isinstance(self.evidence, str) else dict(self.evidence),
        }
        if self.hint:
            data["hint"] = self.hint
        if self.details:
            data["details"] = dict(self.details)
        return data


def as_check(item: Any, number: int) -> Check:
    """A :class:`Check` from a check, a mapping, or any object with the same attributes.

    ``number`` is used when the item has none (its position, 1-based).
    """
    if isinstance(item, Check):
        return item
    get = item.get if isinstance(item, Mapping) else lambda k, d=None: getattr(item, k, d)
    status = str(get("status", "FAIL")).upper()
    if status not in STATUSES:  # e.g. a boolean "passed" coerced by a caller
        status = "FAIL"
    return Check(
        number=int(get("number", None) or number),
        name=str(get("name", f"check {number}")),
        status=status,
        evidence=get("evidence", "") or "",
        hint=get("hint", None),
        details=get("details", None) or {},
    )


def as_checks(items: Iterable[Any]) -> tuple[Check, ...]:
    return tuple(as_check(item, n) for n, item in enumerate(items, 1))


def tally(checks: Sequence[Check]) -> dict[str, int]:
    counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
    for check in checks:
        counts[check.status] += 1
    return counts


def verdict(prefix: str, checks: Sequence[Check], noun: str = "CHECKS") -> str:
    """The one verdict line, e.g. ``IUCUT_DOCTOR 15/15 ALL_CHECKS_PASS (1 WARN)``."""
    counts = tally(checks)
    passed = len(checks) - counts["FAIL"]
    word = f"ALL_{noun}_PASS" if counts["FAIL"] == 0 else f"{counts['FAIL']}_FAILED"
    warn = f" ({counts['WARN']} WARN)" if counts["WARN"] else ""
    return f"{prefix} {passed}/{len(checks)} {word}{warn}"


@dataclass(frozen=True)
class Report:
    """A report: a title, checks and their verdict, facts, and optionally a plan summary.

    ``secrets`` (never rendered) are extra strings to mask, e.g. the target's password.
    """

    title: str
    checks: tuple[Check, ...] = ()
    verdict: str | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)
    plan: Mapping[str, Any] | None = None
    generated_at: str = field(
        default_factory=lambda: datetime.now().astimezone().isoformat(timespec="seconds")
    )
    secrets: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        """The report as plain data, every secret already masked.

        The facts come first, at the top level (a proof report keeps its own keys, such
        as ``format``, ``passed`` and ``plan_hash``, where its readers look for them).
        """
        data: dict[str, Any] = {k: v for k, v in self.facts.items() if k not in RESERVED}
        data.update(
            {
                "title": self.title,
                "generated_at": self.generated_at,
                "verdict": self.verdict,
                "ok": self.ok,
                "counts": tally(self.checks),
                "checks": [c.to_dict() for c in self.checks],
            }
        )
        if self.plan is not None:
            data["plan"] = dict(self.plan)
        redacted: dict[str, Any] = redact(data, self.secrets)
        return redacted


#: Keys of a report's data that are not facts.
RESERVED = frozenset({"title", "generated_at", "verdict", "ok", "counts", "checks", "plan"})


def facts_of(data: Mapping[str, Any]) -> dict[str, Any]:
    """The facts of a report's data: every key that is not one of the report's own."""
    return {k: v for k, v in data.items() if k not in RESERVED}


def as_report(data: Report | Mapping[str, Any], title: str | None = None) -> Report:
    """A :class:`Report` from a report or from a mapping with ``checks`` and ``verdict``.

    The mapping's other keys become facts (e.g. a proof report's plan hash and target).
    """
    if isinstance(data, Report):
        return data
    name = (
        title
        or data.get("title")
        or (
            "iucut rollback-only proof"
            if str(data.get("format", "")).startswith("iucut-proof")
            else "iucut report"
        )
    )
    plan = data.get("plan")
    return Report(
        title=str(name),
        checks=as_checks(data.get("checks") or ()),
        verdict=data.get("verdict"),
        facts=facts_of(data),
        plan=plan if isinstance(plan, Mapping) else None,
    )


#: A URI password up to the ``@`` of the host, whatever it holds (even an unencoded
#: ``#`` or ``?``, which the general pattern stops at).
_URI_USERINFO = re.compile(r"(?P<pre>\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^\s@]+(?=@)", re.I)


def _scrub(text: str, secrets: Sequence[str]) -> str:
    return scrub(_URI_USERINFO.sub(lambda m: m["pre"] + MASK, text), secrets)


def redact(value: Any, secrets: Sequence[str] = ()) -> Any:
    """``value`` with every password masked: secret-named keys, URIs, ``password=`` pairs."""
    if isinstance(value, str):
        return _scrub(value, secrets)
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, Mapping):
        return {
            str(k): MASK
            if _SECRET_KEY.search(str(k)) and v not in (None, "")
            else redact(v, secrets)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(v, secrets) for v in value]
    return _scrub(str(value), secrets)


def plan_summary(
    plan: Plan, plan_id: str | None = None, *, max_changes: int | None = None
) -> dict[str, Any]:
    """A plan as a report shows it: its id, target, counts, documents and changes.

    ``max_changes``: at most that many changes per document (``more`` counts the rest;
    the plan's review page has them all).
    """
    documents = []
    for dp in plan.documents:
        counts = {**dp.counts, "unchanged": dp.unchanged}
        cut_as = {planned: cut for cut, planned in dp.numbered}
        changes = [
            {
                "op": c.op,
                "code": c.code,
                "title": c.unit.title
                if c.unit is not None
                else (c.old.title if c.old is not None else None),
                "moved_from": c.moved_from,
                "renamed_from": c.renamed_from,
                # a true duplicate numbered from the history: its code as cut alone
                **({"cut_as": cut_as[c.code]} if c.code in cut_as else {}),
            }
            for c in dp.changes
            if c.op != "place"
        ]
        doc: dict[str, Any] = {
            "doc_path": dp.doc_path,
            "action": dp.action,
            "profile": dp.profile,
            "expect_profile": dp.expect_profile,
            "summary": summary_line(counts),
            "counts": counts,
            "changes": changes[:max_changes] if max_changes is not None else changes,
        }
        if max_changes is not None and len(changes) > max_changes:
            doc["more"] = len(changes) - max_changes
        documents.append(doc)
    fp = plan.fingerprint
    return {
        "plan_id": plan_id,
        "summary": summary_line(plan.counts),
        "counts": plan.counts,
        "target": {
            "system_identifier": fp.system_identifier,
            "database": fp.database,
            "schema": fp.schema,
            "migration_version": fp.migration_version,
        },
        "documents": documents,
        "rejected": [{"path": r.path, "message": r.message} for r in plan.rejected],
    }
