"""Codes that change owner across the versions of a real history, planned and applied one
version after the other (the planner's codes, not the first cut's), with and without the
true duplicates numbered from the stored history (:mod:`iucut.numbering`).

    .venv/bin/python bench/duplicate_owners.py --dsn postgresql://postgres@127.0.0.1:5432/postgres

For each pair of consecutive versions, as stored after each apply: a code handed to
another unit (the text it held is found unchanged, once, at another code, and it holds
another text), and texts that lost their history (a plan that retires a unit and creates
one with the same text). The database is made on the server and dropped after.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from unittest import mock

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "unit"))

import test_cut_history as history

from apply_bench import fresh_database
from iucut.apply import apply_plan
from iucut.config import Settings
from iucut.cut import cut_text
from iucut.db.connector import ConnectionProvider
from iucut.db.target import Target
from iucut.plan_state import make_plan
from iucut.planfile import plan_hash
from iucut.units import CutDocument, Op

SCHEMA = "public"
Stored = dict[str, str]  # code -> content hash of the active units


def handed_over(old: Stored, new: Stored) -> list[str]:
    """Codes of ``old`` that hold another text in ``new`` while their text is found
    unchanged, once, at another code of ``new``."""
    at: dict[str, list[str]] = {}
    for code, digest in new.items():
        at.setdefault(digest, []).append(code)
    out = []
    for code, digest in old.items():
        now = new.get(code)
        moved = at.get(digest, [])
        if now is not None and now != digest and len(moved) == 1 and moved[0] != code:
            out.append(f"{code} (its text is now at {moved[0]})")
    return out


def run(
    admin: str, versions: Sequence[Sequence[CutDocument]]
) -> tuple[list[str], int, int, int, int]:
    """Apply each version (its documents) in order: the codes handed over, the texts that
    lost their history, the plans' created and retired units (after the first), the
    documents rejected (left as they were)."""
    handed: list[str] = []
    lost = created = retired = rejected = 0
    with fresh_database(admin, "owners", keep=False) as dsn:
        settings = Settings(dsn=dsn, schema=SCHEMA, execution="enabled", env={})
        provider = ConnectionProvider(Target(dsn, "--dsn"))
        before: Stored | None = None
        for docs in versions:
            with provider.connect() as conn:
                the_plan = make_plan(conn, docs)
            if before is not None:
                for dp in the_plan.documents:
                    gone = {before[c.code] for c in dp.changes if c.op == Op.RETIRE}
                    new = [c.unit.content_hash for c in dp.changes if c.op == Op.CREATE and c.unit]
                    lost += sum(1 for h in new if h in gone)
                    created += len(new)
                    retired += sum(1 for c in dp.changes if c.op == Op.RETIRE)
            result = apply_plan(settings, provider, the_plan, plan_hash(the_plan))
            assert not result.failed, result
            rejected += len(result.rejected)
            with psycopg.connect(dsn) as conn:
                rows = conn.execute(
                    f"SELECT code, content_hash FROM {SCHEMA}.information_unit "  # type: ignore[arg-type]
                    "WHERE state = 'active' AND depth > 0"
                ).fetchall()
            now = dict(rows)
            if before is not None:
                handed += handed_over(before, now)
            before = now
    return handed, lost, created, retired, rejected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("-v", "--verbose", action="store_true", help="list the codes")
    parser.add_argument("--only", help="only the runs whose name starts with this")
    args = parser.parse_args()
    files = sorted((history.CORPORA / "en-terms-history").glob("[0-9]*.md"))
    runs: dict[str, Callable[[], list[list[CutDocument]]]] = {
        f"en-terms-history ({len(files)} versions)": lambda: [
            [cut_text(p.read_bytes(), "terms.md", namespace="GH-TOS")] for p in files
        ],
        "BGB built history (4 versions)": lambda: [
            [d] for d in history.cut_all(history.bgb_versions(), "BGB")
        ],
        "de-laws, duplicates inserted and removed": lambda: built("de-laws"),
        "vn-laws, duplicates inserted and removed": lambda: built("vn-laws"),
    }
    for name, make in runs.items():
        if args.only and not name.startswith(args.only):
            continue
        versions = make()
        numbered = sum(len(d.numbered) for docs in versions for d in docs)
        for side, patch in (("by position", True), ("from history", False)):
            with contextlib_patch(patch):
                handed, lost, created, retired, rejected = run(args.dsn, versions)
            print(
                f"{name}, duplicates numbered {side}: {len(handed)} codes handed to another "
                f"unit, {lost} texts lost their history, {rejected} documents rejected; "
                f"+{created} -{retired} "
                f"({len(versions[0])} documents, {numbered} numbered units in the cuts)"
            )
            if args.verbose:
                for line in itertools.islice(handed, 40):
                    print(f"  {line}")


def inserted(doc: CutDocument, at: str, text: str) -> str:
    """``text`` with a copy of the unit ``at`` (its heading and a new body) in front of it."""
    u = doc.by_code()[at]
    raw = text.encode("utf-8")
    copy = (
        f"{u.raw_heading}{u.body.rstrip()}\nEingefügt / được chèn.\n\n"
        if u.body.strip()
        else (f"{u.raw_heading}\nEingefügt / được chèn.\n\n")
    )
    return (raw[: u.byte_start] + copy.encode("utf-8") + raw[u.byte_start :]).decode("utf-8")


def built(corpus: str) -> list[list[CutDocument]]:
    """The documents of ``corpus`` with true duplicates, in four versions: as they are; a
    copy of the first member of each group inserted in front of it; another in front of
    the second member; as they are again. A document whose copies do not all cut as
    members of their groups is left out."""
    root = history.CORPORA
    versions: list[list[CutDocument]] = [[], [], [], []]
    for path in sorted((root / corpus).rglob("*.md")):
        name = path.relative_to(root).as_posix()
        text = path.read_text(encoding="utf-8")
        doc = cut_text(text, name)
        if not doc.numbered:
            continue
        groups: dict[str, list[str]] = {}
        for code, base in doc.numbered:
            groups.setdefault(base, [base]).append(code)
        at = {u.code: u.byte_start for u in doc.units}
        firsts = sorted((m[0] for m in groups.values()), key=at.__getitem__, reverse=True)
        seconds = sorted((m[1] for m in groups.values()), key=at.__getitem__, reverse=True)
        v2 = text
        for code in firsts:  # from the end: the earlier offsets stay
            v2 = inserted(doc, code, v2)
        both = sorted([*firsts, *seconds], key=at.__getitem__, reverse=True)
        v3 = text
        for code in both:
            v3 = inserted(doc, code, v3)
        cuts = [doc, cut_text(v2, name), cut_text(v3, name), doc]
        if len(cuts[1].numbered) != len(doc.numbered) + len(firsts) or len(cuts[2].numbered) != len(
            doc.numbered
        ) + len(both):
            continue
        for version, cut in zip(versions, cuts, strict=True):
            version.append(cut)
    return versions


def contextlib_patch(by_position: bool) -> mock._patch[object] | _Null:
    """The planner with the duplicates numbered by position (the cut's codes kept)."""
    if not by_position:
        return _Null()
    return mock.patch("iucut.numbering.renumber", lambda doc, units, held: (doc, {}))


class _Null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


if __name__ == "__main__":
    main()
