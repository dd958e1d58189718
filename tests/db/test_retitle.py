"""A retitled plain heading without children keeps its history: plan matches the unit whose
code is gone to the new one by its body (the same non-blank body, the only one on each
side), moves it to the new code and revises it to the new title; the export gives the
source back byte for byte. Ambiguous or blank bodies, and a title changed with its body,
stay a retirement and a creation; a code once held is still never handed to another unit."""

from __future__ import annotations

from typing import Any

from iucut import browse
from iucut.apply import apply_documents, apply_plan
from iucut.cut import cut_text
from iucut.plan_state import make_plan
from iucut.planfile import plan_hash
from iucut.units import CutDocument, Plan

EXEC = "cutter_exec"

BODY = "This law applies to every contract of sale.\n\n"
OTHER = "## Other\n\nSomething else.\n"
V1 = "# Terms\n\n## Scope\n\n" + BODY + OTHER
V2 = "# Terms\n\n## Applicability\n\n" + BODY + OTHER
OLD = "T/terms/scope"
NEW = "T/terms/applicability"


def cut(text: str) -> CutDocument:
    return cut_text(text, "t.md", namespace="T")


def apply(db: Any, text: str) -> Any:
    settings = db.settings(execution="enabled", apply_role=EXEC)
    result = apply_documents(settings, db.provider(), [cut(text)])
    assert not result.failed and not result.rejected, result
    return result


def plan(db: Any, text: str) -> Plan:
    with db.connect(role=EXEC) as conn:
        return make_plan(conn, [cut(text)])


def apply_reviewed(db: Any, the_plan: Plan) -> Any:
    settings = db.settings(execution="enabled", apply_role=EXEC)
    result = apply_plan(settings, db.provider(), the_plan, plan_hash(the_plan))
    assert not result.failed and not result.rejected, result
    return result


def ops(the_plan: Plan) -> list[tuple[str, str, str | None]]:
    """The plan's changes of identity or text (a unit that only changes place left out)."""
    (dp,) = the_plan.documents
    return sorted((str(c.op), c.code, c.renamed_from) for c in dp.changes if c.op != "place")


def unit_id(db: Any, code: str) -> Any:
    with db.connect() as conn:
        return conn.execute(
            f"SELECT unit_id FROM {db.schema}.information_unit WHERE code = %(c)s", {"c": code}
        ).scalar()


def exported(db: Any) -> str:
    with db.connect() as conn:
        return browse.export(conn, "t.md")[1]


def test_a_retitled_leaf_heading_with_the_same_body_moves_with_its_history(db: Any) -> None:
    """`## Scope` + body becomes `## Applicability` + the same body: one move (was the old
    code) that revises the title, no retirement, no creation; the same unit now at the new
    code, a moved event naming both codes, version 2 with the new title, version 1 the
    old; the export is the new source."""
    apply(db, V1)
    before = unit_id(db, OLD)
    the_plan = plan(db, V2)
    assert ops(the_plan) == [("revise", NEW, OLD)]
    assert the_plan.counts["moved"] == 1
    assert (the_plan.counts["retired"], the_plan.counts["created"]) == (0, 0)
    result = apply_reviewed(db, the_plan)
    assert (result.counts["moved"], result.counts["retired"], result.counts["created"]) == (
        1,
        0,
        0,
    )
    assert unit_id(db, NEW) == before and unit_id(db, OLD) is None
    with db.connect() as conn:
        moved = conn.execute(
            f"SELECT detail FROM {db.schema}.iu_lifecycle_log "
            "WHERE unit_id = %(u)s AND event = 'moved'",
            {"u": before},
        ).fetchall()
        versions = conn.execute(
            f"SELECT version, title, body FROM {db.schema}.unit_version "
            "WHERE unit_id = %(u)s ORDER BY version",
            {"u": before},
        ).fetchall()
    assert [r["detail"] for r in moved] == [{"from_code": OLD, "to_code": NEW}]
    assert [(r["version"], r["title"], r["body"]) for r in versions] == [
        (1, "Scope", "\n" + BODY),
        (2, "Applicability", "\n" + BODY),
    ]
    assert exported(db) == V2
    assert not plan(db, V2).has_changes


def test_two_retitled_headings_with_equal_bodies_are_not_matched(db: Any) -> None:
    """Two leaf headings with the same body both retitled: no unit is matched to the other
    by chance; both are retired and two units created, and the export is the new source."""
    v1 = "# Terms\n\n## Scope\n\n" + BODY + "## Reach\n\n" + BODY + OTHER
    v2 = "# Terms\n\n## Applicability\n\n" + BODY + "## Extent\n\n" + BODY + OTHER
    apply(db, v1)
    the_plan = plan(db, v2)
    assert ops(the_plan) == [
        ("create", "T/terms/applicability", None),
        ("create", "T/terms/extent", None),
        ("retire", "T/terms/reach", None),
        ("retire", "T/terms/scope", None),
    ]
    apply_reviewed(db, the_plan)
    assert exported(db) == v2


def test_one_of_two_equal_bodies_retitled_is_not_matched(db: Any) -> None:
    """Two old headings share the body, one new heading has it: still ambiguous on the old
    side, so no move."""
    v1 = "# Terms\n\n## Scope\n\n" + BODY + "## Reach\n\n" + BODY + OTHER
    v2 = "# Terms\n\n## Applicability\n\n" + BODY + OTHER
    apply(db, v1)
    the_plan = plan(db, v2)
    assert ops(the_plan) == [
        ("create", "T/terms/applicability", None),
        ("retire", "T/terms/reach", None),
        ("retire", "T/terms/scope", None),
    ]
    apply_reviewed(db, the_plan)
    assert exported(db) == v2


def test_a_retitled_heading_with_a_blank_body_is_not_matched(db: Any) -> None:
    """A leaf heading with nothing but blank lines under it says nothing of its identity:
    retitled, it is retired and a new unit created."""
    v1 = "# Terms\n\n## Scope\n\n" + OTHER
    v2 = "# Terms\n\n## Applicability\n\n" + OTHER
    apply(db, v1)
    the_plan = plan(db, v2)
    assert ops(the_plan) == [("create", NEW, None), ("retire", OLD, None)]
    apply_reviewed(db, the_plan)
    assert exported(db) == v2


def test_a_title_and_body_changed_at_once_is_a_new_unit(db: Any) -> None:
    """Title and body changed together: nothing ties the units, retire and create."""
    v2 = "# Terms\n\n## Applicability\n\nThis law applies to every lease.\n\n" + OTHER
    apply(db, V1)
    the_plan = plan(db, v2)
    assert ops(the_plan) == [("create", NEW, None), ("retire", OLD, None)]
    apply_reviewed(db, the_plan)
    assert exported(db) == v2


def test_the_old_title_back_with_another_body_is_refused_its_code(db: Any) -> None:
    """After the move, a version that brings `## Scope` back as a new unit (another body)
    beside `## Applicability` would hand the moved unit's old code to another unit: the plan
    rejects it (the code, the unit now holding its history)."""
    apply(db, V1)
    apply(db, V2)
    v3 = "# Terms\n\n## Applicability\n\n" + BODY + "## Scope\n\nA new scope.\n\n" + OTHER
    the_plan = plan(db, v3)
    assert the_plan.documents == ()
    ((rejected),) = the_plan.rejected
    assert f"code {OLD} was held by another unit" in rejected.message
    assert NEW in rejected.message


def test_retitled_back_the_unit_moves_back_to_its_own_code(db: Any) -> None:
    """V1 again after V2: the same unit moves back to the code it held itself."""
    apply(db, V1)
    before = unit_id(db, OLD)
    apply(db, V2)
    the_plan = plan(db, V1)
    assert ops(the_plan) == [("revise", OLD, NEW)]
    apply_reviewed(db, the_plan)
    assert unit_id(db, OLD) == before
    assert exported(db) == V1


def test_a_plain_heading_that_becomes_a_labelled_unit_is_a_new_unit(db: Any) -> None:
    """`## Scope` + body becomes `## Article 3 Scope` + the same body: a unit of another
    kind is never matched, so retire and create."""
    v2 = "# Terms\n\n## Article 3 Scope\n\n" + BODY + OTHER
    apply(db, V1)
    the_plan = plan(db, v2)
    assert ops(the_plan) == [("create", "T/A3", None), ("retire", OLD, None)]
    apply_reviewed(db, the_plan)
    assert exported(db) == v2


def test_a_relabelled_unit_with_the_same_body_is_a_new_unit(db: Any) -> None:
    """A labelled unit's code is its label: `Article 3` becoming `Article 4` over the same
    body is another unit (retire and create), not a retitle."""
    v1 = "# Terms\n\n## Article 3 Scope\n\n" + BODY + OTHER
    v2 = "# Terms\n\n## Article 4 Scope\n\n" + BODY + OTHER
    apply(db, v1)
    the_plan = plan(db, v2)
    assert ops(the_plan) == [("create", "T/A4", None), ("retire", "T/A3", None)]
    apply_reviewed(db, the_plan)
    assert exported(db) == v2
