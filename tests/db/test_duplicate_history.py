"""True duplicates (two ``## General`` after one ``## Scope``, numbered ``general``,
``general-2`` by the cutter) planned against their stored copy keep their codes: a
duplicate inserted before, between or after the others is created at a number never
used in the group, a removed one is retired, and every other unit keeps its id, its
code and its versions; nothing is left to plan after."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_rule_relabel import EXEC, apply, plan

from iucut.apply import apply_plan
from iucut.cut import cut_text
from iucut.planfile import plan_from_dict, plan_hash, plan_to_dict
from iucut.report.review import terminal_chunks
from iucut.units import Action, CutDocument, Op

HEAD = "# Terms\n\n## Scope\n\nThese terms apply to you.\n\n"


def text(bodies: list[str]) -> str:
    """The terms with one ``## General`` section per body, after ``## Scope``."""
    return HEAD + "".join(f"## General\n\n{body}\n\n" for body in bodies)


def cut(bodies: list[str], ns: str = "T") -> CutDocument:
    return cut_text(text(bodies), f"{ns.lower()}.md", namespace=ns)


def stored(db: Any, ns: str = "T") -> dict[str, tuple[Any, str, list[str]]]:
    """Each stored code: its unit id, its state and its versions' hashes, in order."""
    with db.connect() as conn:
        rows = conn.execute(
            f"SELECT u.code, u.unit_id, u.state, array_agg(v.content_hash ORDER BY v.version)"
            f" AS versions FROM {db.schema}.information_unit u JOIN {db.schema}.unit_version v"
            " USING (unit_id) WHERE u.namespace = %(ns)s GROUP BY u.code, u.unit_id, u.state",
            {"ns": ns},
        ).fetchall()
    return {r["code"]: (r["unit_id"], r["state"], list(r["versions"])) for r in rows}


def body_of(db: Any, ns: str = "T") -> dict[str, str]:
    """The body of each active ``general`` section, by code."""
    with db.connect() as conn:
        rows = conn.execute(
            f"SELECT u.code, v.body FROM {db.schema}.information_unit u"
            f" JOIN {db.schema}.unit_version v ON v.unit_id = u.unit_id"
            " AND v.version = u.current_version WHERE u.state = 'active'"
            " AND u.code LIKE %(like)s",
            {"like": f"{ns}/terms/general%"},
        ).fetchall()
    return {r["code"]: r["body"].strip() for r in rows}


def replan(db: Any, doc: CutDocument) -> Any:
    """``doc`` planned, the plan applied (through its file form), and then up to date;
    returns the plan."""
    the_plan = plan(db, doc)
    assert plan_from_dict(plan_to_dict(the_plan)) == the_plan
    settings_ = db.settings(execution="enabled", apply_role=EXEC)
    result = apply_plan(settings_, db.provider(), the_plan, plan_hash(the_plan))
    assert not result.failed and not result.rejected, result
    (again,) = plan(db, doc).documents  # current: skipped unread (the digest of its cut)
    assert again.action == Action.SKIP
    return the_plan


def test_a_duplicate_inserted_before_the_others_is_only_created(db: Any) -> None:
    """``general`` and ``general-2`` stored; a third section inserted in front of them is
    created at ``general-3`` and the stored two keep their codes, ids and versions (in
    document order they would each have taken the code of the one before)."""
    apply(db, cut(["One.", "Two."]))
    before = stored(db)
    the_plan = replan(db, cut(["Zero.", "One.", "Two."]))
    (dp,) = the_plan.documents
    assert [(c.op, c.code) for c in dp.changes if c.op != Op.PLACE] == [
        (Op.CREATE, "T/terms/general-3")
    ]
    assert dp.numbered == (
        ("T/terms/general", "T/terms/general-3"),
        ("T/terms/general-2", "T/terms/general"),
        ("T/terms/general-3", "T/terms/general-2"),
    )
    shown = "".join(terminal_chunks(plan_to_dict(the_plan)["documents"]))
    assert "T/terms/general-3 (numbered from the history; T/terms/general in document order)" in (
        shown
    )
    after = stored(db)
    assert {c: after[c] for c in before} == before
    assert body_of(db) == {
        "T/terms/general": "One.",
        "T/terms/general-2": "Two.",
        "T/terms/general-3": "Zero.",
    }


def test_inserted_between_and_after_and_removed(db: Any) -> None:
    """One inserted between, one after, then the first removed and one revised: the units
    keep their codes through every version; a removed one is retired, its code not given
    to the next one inserted, and restored when its text comes back."""
    apply(db, cut(["One.", "Two."]))
    first = stored(db)
    replan(db, cut(["One.", "Half.", "Two."]))
    replan(db, cut(["One.", "Half.", "Two.", "Three."]))
    assert body_of(db) == {
        "T/terms/general": "One.",
        "T/terms/general-2": "Two.",
        "T/terms/general-3": "Half.",
        "T/terms/general-4": "Three.",
    }
    the_plan = replan(db, cut(["Half.", "Two!", "Three."]))
    (dp,) = the_plan.documents
    assert sorted((c.op, c.code) for c in dp.changes if c.op != Op.PLACE) == [
        (Op.RETIRE, "T/terms/general"),
        (Op.REVISE, "T/terms/general-2"),
    ]
    replan(db, cut(["New.", "Half.", "Two!", "Three."]))
    assert body_of(db) == {
        "T/terms/general-2": "Two!",
        "T/terms/general-3": "Half.",
        "T/terms/general-4": "Three.",
        "T/terms/general-5": "New.",
    }
    replan(db, cut(["One.", "New.", "Half.", "Two!", "Three."]))  # its text back: restored
    assert body_of(db)["T/terms/general"] == "One."
    after = stored(db)
    for code in ("T/terms/general", "T/terms/general-2"):
        assert after[code][0] == first[code][0]
    assert after["T/terms/general"][1:] == ("active", first["T/terms/general"][2])
    assert after["T/terms/general-2"][2][0] == first["T/terms/general-2"][2][0]
    assert len(after["T/terms/general-2"][2]) == 2


def sections(notes: list[str], ns: str = "T") -> CutDocument:
    """One empty ``## General`` per note, each over its own ``### Note`` section."""
    text = HEAD + "".join(f"## General\n\n### Note\n\n{note}\n\n" for note in notes)
    return cut_text(text, f"{ns.lower()}.md", namespace=ns)


def test_identical_headings_over_other_sections_keep_them(db: Any) -> None:
    """The same empty heading over different sections: the members are told apart by
    what is below them, so one inserted in front (its section too) is created, and the
    others keep their sections, paired in order when identical (by their own text
    alone, the stored first would be paired with the new first and every note revised)."""
    apply(db, sections(["Alpha.", "Beta.", "Beta."]))
    before = stored(db)
    the_plan = replan(db, sections(["Gamma.", "Alpha.", "Beta.", "Beta."]))
    (dp,) = the_plan.documents
    assert sorted((c.op, c.code) for c in dp.changes if c.op != Op.PLACE) == [
        (Op.CREATE, "T/terms/general-4"),
        (Op.CREATE, "T/terms/general-4/note"),
    ]
    after = stored(db)
    assert {c: after[c] for c in before} == before


BODIES = st.sampled_from(["A.", "B.", "C."])


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    first=st.lists(BODIES, min_size=2, max_size=4),
    edits=st.lists(st.tuples(st.booleans(), st.integers(0, 5), BODIES), min_size=1, max_size=5),
)
# (a unit moved to a new code of its group: a diff's alignment, not the longest one)
@example(first=["B.", "A.", "A."], edits=[(True, 0, "A."), (False, 1, "A.")])
def test_random_inserts_and_removals_keep_every_code(
    db: Any, first: list[str], edits: list[tuple[bool, int, str]]
) -> None:
    """Over random inserts and removals of duplicates: every stored code keeps its unit,
    an active unit still active keeps its versions (a duplicate's text never goes to
    another code), a new unit gets a code never used, and a re-plan is empty."""
    ns = f"P{uuid.uuid4().hex[:12].upper()}"
    bodies = list(first)
    apply(db, cut(bodies, ns))
    ever = stored(db, ns)
    for insert, at, body in edits:
        if insert:
            bodies.insert(at % (len(bodies) + 1), body)
        elif len(bodies) > 1:
            del bodies[at % len(bodies)]
        before = stored(db, ns)
        replan(db, cut(bodies, ns))
        after = stored(db, ns)
        for code, (unit_id, state, versions) in before.items():
            assert after[code][0] == unit_id
            if state == "active" and after[code][1] == "active":
                assert after[code][2] == versions
        assert sorted(body_of(db, ns).values()) == sorted(bodies)
        assert not {c for c in after if c not in ever} & {c for c in ever}
        ever.update(after)
