"""Every version of the GitHub Terms of Service, applied in order to one document: each
step changes only the sections an independent line diff says changed, and export gives
back that version byte for byte."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from iucut import browse
from iucut.apply import apply_documents
from iucut.cut import cut_text
from iucut.units import CutDocument, Unit

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "en-terms-history"
DOC_PATH = "github/terms-of-service.md"


def versions() -> list[Path]:
    files = sorted(CORPUS.glob("[0-9][0-9][0-9]_*.md"))
    assert len(files) >= 2, f"no corpus at {CORPUS}"
    return files


def changed_regions(old: str, new: str) -> list[tuple[range, range]]:
    """The non-equal blocks of a line diff as (old lines, new lines), 0-based.

    A pure insertion or deletion is widened to the one line at its position, so that
    a unit that ends or starts exactly there counts as touched.
    """
    matcher = difflib.SequenceMatcher(
        None, old.splitlines(keepends=True), new.splitlines(keepends=True), autojunk=False
    )
    return [
        (range(i1, max(i2, i1 + 1)), range(j1, max(j2, j1 + 1)))
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


def changed_new_lines(old: str, new: str) -> list[tuple[str, range]]:
    """The lines of ``new`` that the diff says are inserted or replaced, 0-based."""
    matcher = difflib.SequenceMatcher(
        None, old.splitlines(keepends=True), new.splitlines(keepends=True), autojunk=False
    )
    return [
        (tag, range(j1, j2))
        for tag, _, _, j1, j2 in matcher.get_opcodes()
        if tag in ("replace", "insert")
    ]


def span(u: Unit) -> range:
    """The unit's lines, 0-based, widened by one line after (its boundary)."""
    return range(u.line_start - 1, u.line_end + 1)


def lineage(doc: CutDocument, code: str) -> list[Unit]:
    """The unit of ``code`` and its ancestors in ``doc``, short of the document unit (its
    text is the preamble, which names no code)."""
    units = doc.by_code()
    out = [units[code]]
    parent = units[code].parent_code
    while parent is not None and units[parent].parent_code is not None:
        out.append(units[parent])
        parent = units[parent].parent_code
    return out


def overlaps(a: range, b: range) -> bool:
    return a.start < b.stop and b.start < a.stop


def touched(u: Unit | None, regions: list[tuple[range, range]], side: int) -> bool:
    return u is not None and any(overlaps(span(u), r[side]) for r in regions)


def events_of(conn: Any, schema: str, run_id: str | None) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    if run_id is None:
        return out
    for row in conn.execute(
        f"SELECT code, event FROM {schema}.iu_lifecycle_log WHERE run_id = %(run)s",
        {"run": run_id},
    ).fetchall():
        out.setdefault(row["event"], set()).add(row["code"])
    return out


def test_every_version_applies_with_only_changed_sections_revised(db: Any) -> None:
    """Each step revises, creates and retires only units the line diff touches, every unit
    holding a changed line is new or revised, and export equals that version's file."""
    settings, provider = db.settings(execution="enabled"), db.provider()
    previous: CutDocument | None = None
    old_text = ""
    revisions = 0
    with db.connect() as conn:
        for path in versions():
            data = path.read_bytes()
            doc = cut_text(data, DOC_PATH)
            assert isinstance(doc, CutDocument), path.name
            result = apply_documents(settings, provider, [doc])
            assert not result.failed and not result.rejected, (path.name, result)
            conn.rollback()
            assert browse.export(conn, DOC_PATH)[1].encode() == data, path.name
            events = events_of(conn, db.schema, result.run_id)
            new_text = data.decode()
            if previous is None:
                assert events.keys() == {"created"}
                assert events["created"] == {u.code for u in doc.units}
            elif new_text == old_text:
                assert result.run_id is None, path.name  # identical bytes: skipped
            else:
                regions = changed_regions(old_text, new_text)
                before, after = previous.by_code(), doc.by_code()
                for code in events.get("revised", set()):
                    assert touched(after[code], regions, 1) or touched(
                        before.get(code), regions, 0
                    ), f"{path.name}: {code} revised but the diff does not touch it"
                # A new or retired code is a unit the diff touches, or one under a touched
                # heading (a renamed heading renames the codes below it).
                for code in events.get("created", set()):
                    assert any(touched(u, regions, 1) for u in lineage(doc, code)), (
                        f"{path.name}: {code} created but the diff does not touch it"
                    )
                for code in events.get("retired", set()):
                    assert any(touched(u, regions, 0) for u in lineage(previous, code)), (
                        f"{path.name}: {code} retired but the diff does not touch it"
                    )
                written = (
                    events.get("revised", set())
                    | events.get("created", set())
                    | (events.get("restored", set()))
                )
                new_lines = [r for tag, r in changed_new_lines(old_text, new_text)]
                for u in doc.units:
                    inside = range(u.line_start - 1, u.line_end)
                    if u.text not in old_text and any(overlaps(inside, r) for r in new_lines):
                        assert u.code in written, f"{path.name}: {u.code} changed, not written"
                revisions += len(events.get("revised", set()))
            previous, old_text = doc, new_text
        # Each revision is a real change: consecutive versions of a unit never hold equal text.
        same = conn.execute(
            f"""SELECT count(*) AS n FROM {db.schema}.unit_version a
                JOIN {db.schema}.unit_version b
                  ON b.unit_id = a.unit_id AND b.version = a.version + 1
               WHERE a.raw_heading || a.body = b.raw_heading || b.body"""
        ).scalar()
        assert same == 0
        logged = conn.execute(
            f"SELECT count(*) AS n FROM {db.schema}.iu_lifecycle_log WHERE event = 'revised'"
        ).scalar()
        assert logged == revisions > 0
        gaps = conn.execute(
            f"""SELECT count(*) AS n FROM {db.schema}.information_unit u
               WHERE u.current_version <> (SELECT count(*) FROM {db.schema}.unit_version v
                                            WHERE v.unit_id = u.unit_id)"""
        ).scalar()
        assert gaps == 0
        # No code was ever held by two units (a code once given is never given again).
        reused = conn.execute(
            f"""SELECT count(*) FROM (SELECT code FROM {db.schema}.iu_lifecycle_log
                GROUP BY code HAVING count(DISTINCT unit_id) > 1) r"""
        ).scalar()
        assert reused == 0
