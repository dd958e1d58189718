"""The diff of a cut document against the database state: pure, no database."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from factory import make_state
from iucut.plan import cut_digest, diff_document, retire_document
from iucut.units import (
    Change,
    CutDocument,
    DocumentPlan,
    Fingerprint,
    Plan,
    Unit,
    UnitState,
    content_hash,
)

PATH = "laws/act.md"
NS = "ACT"

# One unit spec: (code suffix, parent suffix or None, kind, label, text). The document
# unit ("" suffix) comes first; the heading line is the first line of the text.
Spec = tuple[str, str | None, str, str | None, str]

BASE: list[Spec] = [
    ("", None, "document", None, "Preamble.\n"),
    ("D1", "", "article", "1", "## Article 1. Scope\nThis act applies.\n"),
    ("D1/K1", "D1", "clause", "1", "1. Everyone.\n"),
    ("D1/K2", "D1", "clause", "2", "2. Everything.\n"),
    ("D2", "", "article", "2", "## Article 2. Terms\nWords mean things.\n"),
    ("D2/K1", "D2", "clause", "1", "1. A word.\n"),
]


def code(suffix: str | None, namespace: str = NS) -> str | None:
    if suffix is None:
        return None
    return namespace if suffix == "" else f"{namespace}/{suffix}"


def make_doc(specs: Sequence[Spec], path: str = PATH, namespace: str = NS) -> CutDocument:
    """A cut document built by hand: ordinals, depths, positions and spans from the specs."""
    units: list[Unit] = []
    ordinals: dict[str | None, int] = {}
    depths: dict[str, int] = {}
    offset, line = 0, 1
    for position, (suffix, parent, kind, label, text) in enumerate(specs):
        if suffix == "" or not text.startswith("#"):
            heading, body = "", text
        else:
            heading, _, rest = text.partition("\n")
            heading, body = heading + "\n", rest
        c = code(suffix, namespace)
        p = code(parent, namespace)
        assert c is not None
        ordinals[p] = ordinals.get(p, 0) + 1
        depth = 0 if p is None else depths[p] + 1
        depths[c] = depth
        size = len(text.encode())
        lines = text.count("\n")
        units.append(
            Unit(
                namespace=namespace,
                code=c,
                parent_code=p,
                kind=kind,
                label=label,
                ordinal=ordinals[p],
                depth=depth,
                position=position,
                title=(heading or body).strip("# \n").split("\n")[0],
                raw_heading=heading,
                body=body,
                content_hash=content_hash(heading, body),
                doc_path=path,
                line_start=line,
                line_end=line + lines - 1,
                byte_start=offset,
                byte_end=offset + size,
            )
        )
        offset += size
        line += lines
    source = "".join(u.text for u in units).encode()
    return CutDocument(
        path=path,
        namespace=namespace,
        doc_hash=hashlib.sha256(source).hexdigest(),
        size=len(source),
        units=tuple(units),
    )


def state_of(doc: CutDocument, **overrides: dict[str, Any]) -> dict[str, UnitState]:
    """The database state a clean apply of ``doc`` leaves (version 1 everywhere).

    ``overrides`` maps a code suffix to field changes of that unit's state.
    """
    out: dict[str, UnitState] = {u.code: make_state(u) for u in doc.units}
    for suffix, changes in overrides.items():
        c = code(suffix.replace("__", "/"))
        assert c is not None
        out[c] = replace(out[c], **changes)
    return out


def db_doc_of(doc: CutDocument, state: str = "active") -> dict[str, Any]:
    return {
        "doc_path": doc.path,
        "namespace": doc.namespace,
        "doc_hash": doc.doc_hash,
        "cut_digest": cut_digest(doc),
        "state": state,
        "unit_count": len(doc.units),
    }


def ops(plan: DocumentPlan) -> dict[str, str]:
    return {c.code: c.op for c in plan.changes}


def edit(specs: Sequence[Spec], suffix: str, **changes: Any) -> list[Spec]:
    out = []
    for s in specs:
        if s[0] == suffix:
            fields = dict(zip(("suffix", "parent", "kind", "label", "text"), s, strict=True))
            fields.update(changes)
            s = (
                fields["suffix"],
                fields["parent"],
                fields["kind"],
                fields["label"],
                fields["text"],
            )
        out.append(s)
    return out


def to_end(specs: Sequence[Spec], suffix: str) -> list[Spec]:
    return [s for s in specs if s[0] != suffix] + [s for s in specs if s[0] == suffix]


# --------------------------------------------------------------------------------------


def test_new_document_creates_every_unit_with_absent_precondition() -> None:
    """A document the database has never seen is a create of every unit, expecting absence."""
    doc = make_doc(BASE)
    plan = diff_document(doc, None, {})
    assert plan.action == "create"
    assert plan.expect_doc_hash is None
    assert [c.code for c in plan.changes] == [u.code for u in doc.units]
    assert all(c.op == "create" and c.expect_version is None for c in plan.changes)
    assert all(c.unit is u for c, u in zip(plan.changes, doc.units, strict=True))
    assert plan.counts == {"created": 6, "revised": 0, "moved": 0, "restored": 0, "retired": 0}
    assert plan.unchanged == 0
    assert plan.has_changes


def test_same_bytes_cut_differently_are_planned_again() -> None:
    """Same source hash but another cut (new rules, or no digest yet): not skipped."""
    doc = make_doc(BASE)
    for stored in (None, "0" * 64):
        db_doc = {**db_doc_of(doc), "cut_digest": stored}
        plan = diff_document(doc, db_doc, state_of(doc))
        assert plan.action == "update"
        assert plan.changes == ()
        assert plan.has_changes  # the document row must learn the new digest
        assert plan.cut_digest == cut_digest(doc) and plan.expect_cut_digest == stored


def test_unchanged_document_is_skipped_by_hash_without_its_units() -> None:
    """Same document hash, active: skipped without looking at the units at all."""
    doc = make_doc(BASE)
    # the unit state given is nonsense on purpose: a skip must not even read it
    bogus = state_of(make_doc(edit(BASE, "D1", text="## Article 1. X\nY\n")))
    plan = diff_document(doc, db_doc_of(doc), bogus)
    assert plan.action == "skip"
    assert plan.changes == ()
    assert plan.unchanged == len(doc.units)
    assert plan.expect_doc_hash == doc.doc_hash
    assert not plan.has_changes
    assert plan.counts == dict.fromkeys(("created", "revised", "moved", "restored", "retired"), 0)


def test_same_hash_but_retired_document_is_not_skipped() -> None:
    """A retired document that comes back with the same bytes is restored, not skipped."""
    doc = make_doc(BASE)
    retired = {c: replace(s, state="retired") for c, s in state_of(doc).items()}
    plan = diff_document(doc, db_doc_of(doc, state="retired"), retired)
    assert plan.action == "update"
    assert set(ops(plan).values()) == {"restore"}
    assert all(not c.new_version for c in plan.changes)
    assert plan.counts["restored"] == len(doc.units)
    assert plan.has_changes


def test_identical_units_are_unchanged_when_only_the_document_hash_differs() -> None:
    """Units equal to the database state are counted unchanged; the document still updates."""
    doc = make_doc(BASE)
    db_doc = {**db_doc_of(doc), "doc_hash": "0" * 64}
    plan = diff_document(doc, db_doc, state_of(doc))
    assert plan.action == "update"
    assert plan.changes == ()
    assert plan.unchanged == len(doc.units)
    assert plan.has_changes  # the document row must learn its new hash


def test_changed_text_is_a_revise_expecting_the_current_version() -> None:
    """A unit whose text changed is revised, with a compare-and-swap on its version."""
    old = make_doc(BASE)
    new = make_doc(edit(BASE, "D1/K2", text="2. Everything else.\n"))
    db = state_of(old, D1__K2={"current_version": 3})
    plan = diff_document(new, db_doc_of(old), db)
    assert ops(plan) == {"ACT/D1/K2": "revise"}
    (change,) = plan.changes
    assert change.expect_version == 3
    assert change.old_hash == old.by_code()["ACT/D1/K2"].content_hash
    assert change.unit == new.by_code()["ACT/D1/K2"]
    assert change.new_version and change.events == ("revised",) and change.db_op == "update"
    assert not change.moved
    assert plan.unchanged == len(new.units) - 1
    assert plan.counts["revised"] == 1


def test_a_heading_only_change_is_a_revise() -> None:
    """The raw heading is part of a unit's text: changing only it is a revision."""
    old = make_doc(BASE)
    new = make_doc(edit(BASE, "D2", text="## Article 2. Definitions\nWords mean things.\n"))
    plan = diff_document(new, db_doc_of(old), state_of(old))
    assert ops(plan) == {"ACT/D2": "revise"}


def test_new_parent_with_same_text_is_a_move() -> None:
    """Same text under another parent is a move: an event, no version."""
    old = make_doc(BASE)
    # the code is path-derived in real cuts; keep it to isolate the parent change
    new = make_doc(to_end(edit(BASE, "D1/K2", parent="D2"), "D1/K2"))
    plan = diff_document(new, db_doc_of(old), state_of(old))
    move = [c for c in plan.changes if c.op == "move"]
    assert [c.code for c in move] == ["ACT/D1/K2"]
    (change,) = move
    assert change.moved and change.moved_from == "ACT/D1"
    assert change.unit is not None and change.unit.parent_code == "ACT/D2"
    assert change.events == ("moved",)
    assert not change.new_version
    assert plan.counts == {"created": 0, "revised": 0, "moved": 1, "restored": 0, "retired": 0}


def test_new_parent_and_new_text_is_a_revise_that_also_moves() -> None:
    """Text and parent both changed: one revise change carrying both events."""
    old = make_doc(BASE)
    new = make_doc(
        to_end(edit(BASE, "D1/K2", parent="D2", text="2. Moved and changed.\n"), "D1/K2")
    )
    plan = diff_document(new, db_doc_of(old), state_of(old))
    change = next(c for c in plan.changes if c.code == "ACT/D1/K2")
    assert change.op == "revise" and change.moved
    assert change.events == ("revised", "moved")
    assert plan.counts["revised"] == 1 and plan.counts["moved"] == 1


def test_retired_unit_that_returns_is_restored() -> None:
    """A retired code present again is restored; a new version only if its text differs."""
    old = make_doc(BASE)
    same = diff_document(
        make_doc(BASE),
        {**db_doc_of(old), "doc_hash": "x"},
        state_of(old, D2__K1={"state": "retired", "current_version": 2}),
    )
    (change,) = same.changes
    assert change.op == "restore" and change.expect_version == 2
    assert change.events == ("restored",) and not change.new_version

    new = make_doc(edit(BASE, "D2/K1", text="1. A different word.\n"))
    diffed = diff_document(new, db_doc_of(old), state_of(old, D2__K1={"state": "retired"}))
    (change,) = diffed.changes
    assert change.op == "restore" and change.new_version
    assert change.events == ("restored",)
    assert diffed.counts["restored"] == 1 and diffed.counts["revised"] == 0


def test_code_missing_from_the_cut_is_retired_in_document_order() -> None:
    """Active codes absent from the cut are retired (in position order); retired ones stay."""
    old = make_doc(BASE)
    new = make_doc([s for s in BASE if s[0] not in ("D1/K2", "D2/K1")])
    db = state_of(old)
    db["ACT/GONE"] = replace(db["ACT/D1"], code="ACT/GONE", state="retired", position=99)
    plan = diff_document(new, db_doc_of(old), db)
    retires = [c for c in plan.changes if c.op == "retire"]
    assert [c.code for c in retires] == ["ACT/D1/K2", "ACT/D2/K1"]
    assert all(c.unit is None and c.expect_version == 1 for c in retires)
    assert all(c.db_op == "retire" and c.events == ("retired",) for c in retires)
    assert not any(c.new_version for c in retires)
    assert "ACT/GONE" not in ops(plan)
    assert plan.counts["retired"] == 2


def test_inserting_a_unit_places_the_later_ones_without_events() -> None:
    """An insertion shifts later units' positions: placement-only changes, no events."""
    old = make_doc(BASE)
    specs = list(BASE)
    specs.insert(2, ("D1/K0", "D1", "clause", "0", "0. Nobody.\n"))
    new = make_doc(specs)
    plan = diff_document(new, db_doc_of(old), state_of(old))
    got = ops(plan)
    assert got.pop("ACT/D1/K0") == "create"
    assert set(got.values()) == {"place"}
    assert set(got) == {"ACT/D1/K1", "ACT/D1/K2", "ACT/D2", "ACT/D2/K1"}
    placed = [c for c in plan.changes if c.op == "place"]
    assert all(c.events == () and not c.new_version and c.db_op == "update" for c in placed)
    assert plan.counts == {"created": 1, "revised": 0, "moved": 0, "restored": 0, "retired": 0}
    assert plan.unchanged == 2  # the document unit and Article 1


def test_kind_or_label_change_alone_is_placement() -> None:
    """A changed kind or label with the same text and parent is placement, not a revision."""
    old = make_doc(BASE)
    new = make_doc(edit(BASE, "D2/K1", label="i"))
    # same bytes, so the same document hash: only a changed cut (configuration) gets here
    plan = diff_document(new, {**db_doc_of(old), "doc_hash": "other"}, state_of(old))
    assert ops(plan) == {"ACT/D2/K1": "place"}


def test_mixed_changes_in_one_document() -> None:
    """Create, revise, move, retire and unchanged together; counts add up."""
    old = make_doc(BASE)
    specs = edit(BASE, "D1", text="## Article 1. Scope\nThis act applies to all.\n")
    specs = [s for s in specs if s[0] != "D1/K1"]
    specs = edit(specs, "D2/K1", parent="D1")
    specs.append(("D3", "", "article", "3", "## Article 3. Entry\nNow.\n"))
    new = make_doc(specs)
    plan = diff_document(new, db_doc_of(old), state_of(old))
    got = ops(plan)
    assert got["ACT/D1"] == "revise"
    assert got["ACT/D1/K1"] == "retire"
    assert got["ACT/D2/K1"] == "move"
    assert got["ACT/D3"] == "create"
    assert plan.counts == {"created": 1, "revised": 1, "moved": 1, "restored": 0, "retired": 1}
    assert plan.unchanged + sum(1 for c in plan.changes if c.unit is not None) == len(new.units)


def test_retire_document_retires_every_active_unit() -> None:
    """--prune of a missing document: a retire plan of its active units, expecting its hash."""
    doc = make_doc(BASE)
    db = state_of(doc, D2__K1={"state": "retired"})
    plan = retire_document(db_doc_of(doc), db)
    assert plan.action == "retire"
    assert plan.expect_doc_hash == doc.doc_hash
    assert [c.code for c in plan.changes] == [u.code for u in doc.units if u.code != "ACT/D2/K1"]
    assert all(c.op == "retire" for c in plan.changes)
    assert plan.counts["retired"] == len(doc.units) - 1
    assert plan.has_changes


def test_plan_counts_add_up_over_documents() -> None:
    """A plan's counts are the sum of its documents' events plus their unchanged units."""
    a = diff_document(make_doc(BASE), None, {})
    old = make_doc(BASE, path="b.md", namespace="B")
    new = make_doc(edit(BASE, "D1/K1", text="1. Someone.\n"), path="b.md", namespace="B")
    b = diff_document(new, db_doc_of(old), state_of_ns(old))
    plan = Plan(Fingerprint("1", "db", "public", 1), (a, b), "0")
    assert plan.counts == {
        "created": 6,
        "revised": 1,
        "moved": 0,
        "restored": 0,
        "retired": 0,
        "unchanged": 5,
    }
    assert plan.has_changes
    assert plan.touched_codes == (*(u.code for u in make_doc(BASE).units), "B/D1/K1")


def state_of_ns(doc: CutDocument) -> dict[str, UnitState]:
    return {u.code: make_state(u) for u in doc.units}


def test_change_event_mapping() -> None:
    """Each op maps to the database op and the events the write function logs."""
    u = make_doc(BASE).units[1]
    cases = {
        ("create", False): ("create", ("created",)),
        ("revise", False): ("update", ("revised",)),
        ("revise", True): ("update", ("revised", "moved")),
        ("move", True): ("update", ("moved",)),
        ("restore", False): ("update", ("restored",)),
        ("restore", True): ("update", ("restored", "moved")),
        ("place", False): ("update", ()),
        ("retire", False): ("retire", ("retired",)),
    }
    for (op, moved), (db_op, events) in cases.items():
        change = Change(op, u.code, 1, None if op == "retire" else u, moved=moved)
        assert (change.db_op, change.events) == (db_op, events), (op, moved)


# --------------------------------------------------------------------------------------
# Properties: a model of the write function, applied to random edits
# --------------------------------------------------------------------------------------


def simulate(state: dict[str, UnitState], plan: DocumentPlan) -> dict[str, UnitState]:
    """What fn_iu_apply_document leaves, modelled in Python (versions, states, placement)."""
    out = dict(state)
    to = {c.renamed_from: c.code for c in plan.changes if c.renamed_from is not None}
    if to:  # fn_iu_recode first: new codes, children follow their parent
        out = {
            to.get(code, code): replace(
                cur,
                code=to.get(code, code),
                parent_code=to.get(cur.parent_code or "", cur.parent_code),
            )
            for code, cur in out.items()
        }
    for c in plan.changes:
        if c.op == "retire":
            out[c.code] = replace(out[c.code], state="retired")
            continue
        u = c.unit
        assert u is not None
        cur = out.get(c.code)
        version = 1 if cur is None else cur.current_version + int(c.new_version)
        out[c.code] = make_state(u, version=version)
    return out


TEXTS = st.sampled_from(["a\n", "b\n", "c c\n", "", "1. x\n", "long " * 5 + "\n"])


@st.composite
def documents(draw: st.DrawFn) -> list[Spec]:
    """A small document: articles with clauses, random texts, random subsets."""
    specs: list[Spec] = [("", None, "document", None, draw(TEXTS))]
    articles = draw(st.lists(st.integers(1, 5), unique=True, max_size=4))
    for a in sorted(articles):
        specs.append((f"D{a}", "", "article", str(a), f"## Article {a}\n" + draw(TEXTS)))
        for k in sorted(draw(st.lists(st.integers(1, 3), unique=True, max_size=3))):
            specs.append((f"D{a}/K{k}", f"D{a}", "clause", str(k), f"{k}. " + draw(TEXTS)))
    return specs


@settings(max_examples=200, deadline=None)
@given(documents(), documents(), documents())
def test_diff_then_apply_converges(
    first: list[Spec], second: list[Spec], third: list[Spec]
) -> None:
    """Applying each diff in turn leaves a state whose diff against the same cut is empty."""
    state: dict[str, UnitState] = {}
    db_doc: dict[str, Any] | None = None
    for specs in (first, second, third):
        doc = make_doc(specs)
        plan = diff_document(doc, db_doc, state)
        state = simulate(state, plan)
        db_doc = db_doc_of(doc)
        # the same cut against the state it produced: nothing left to do
        again = diff_document(doc, {**db_doc, "doc_hash": "other"}, state)
        assert again.changes == ()
        assert again.unchanged == len(doc.units)
        active = {c for c, s in state.items() if s.state == "active"}
        assert active == {u.code for u in doc.units}
        # every change names a code once
        assert len({c.code for c in plan.changes}) == len(plan.changes)


@settings(max_examples=200, deadline=None)
@given(documents(), documents())
def test_events_are_exactly_the_content_parent_and_state_differences(
    first: list[Spec], second: list[Spec]
) -> None:
    """created/revised/moved/restored/retired are exactly what differs, nothing else."""
    old, new = make_doc(first), make_doc(second)
    plan = diff_document(new, db_doc_of(old), state_of_ns(old))
    before, after = old.by_code(), new.by_code()
    # A unit moved to a new code (renamed_from) is the same unit: its text is the same,
    # or it holds the same children.
    renames = {c.code: c.renamed_from for c in plan.changes if c.renamed_from is not None}
    to = {o: n for n, o in renames.items()}
    for n, o in renames.items():
        assert n not in before and o not in after and before[o].kind == after[n].kind
        kids_before = {to.get(u.code, u.code) for u in old.units if u.parent_code == o}
        kids_after = {u.code for u in new.units if u.parent_code == n}
        assert before[o].content_hash == after[n].content_hash or kids_before == kids_after
    old_of = {c: renames.get(c, c) for c in after}
    common = [c for c in after if old_of[c] in before]
    assert plan.counts == {
        "created": len(after) - len(common),
        "revised": sum(
            1 for c in common if after[c].content_hash != before[old_of[c]].content_hash
        ),
        "moved": len(renames)
        + sum(
            1
            for c in common
            if after[c].parent_code
            != to.get(before[old_of[c]].parent_code or "", before[old_of[c]].parent_code)
        ),
        "restored": 0,
        "retired": len(before) - len(common),
    }
