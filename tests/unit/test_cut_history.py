"""Codes free of position, held over real version histories: the GitHub Terms of Service
and histories built from the shared laws (a chapter inserted early, an ancestor
retitled, a § added to an Art-only law)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

import pytest

from iucut.cut import cut_text
from iucut.units import CutDocument


def _corpora() -> Path:
    for parent in Path(__file__).resolve().parents:
        found = parent / "shared" / "corpora"
        if found.is_dir():
            return found
    raise AssertionError("../shared/corpora is missing (tests read it in place)")


CORPORA = _corpora()
BGB = CORPORA / "de-laws" / "b" / "bgb" / "index.md"


def identity_breaks(versions: Sequence[CutDocument]) -> tuple[int, list[str], list[str]]:
    """Over consecutive versions: how many units are unchanged (their text is found once in
    both), those of them whose code changed, and codes that passed to another unit (the
    old unit's text is found unchanged at another code)."""
    unchanged, renamed, reused = 0, [], []
    for old, new in itertools.pairwise(versions):
        old_by_hash: dict[str, list[str]] = {}
        new_by_hash: dict[str, list[str]] = {}
        for u in old.units[1:]:
            old_by_hash.setdefault(u.content_hash, []).append(u.code)
        for u in new.units[1:]:
            new_by_hash.setdefault(u.content_hash, []).append(u.code)
        old_units = old.by_code()
        for u in new.units[1:]:
            before = old_by_hash.get(u.content_hash, [])
            if len(before) == 1 and len(new_by_hash[u.content_hash]) == 1:
                unchanged += 1
                if before[0] != u.code:
                    renamed.append(f"{before[0]} -> {u.code}")
            prev = old_units.get(u.code)
            if prev is not None and prev.content_hash != u.content_hash:
                moved_to = new_by_hash.get(prev.content_hash, [])
                if len(moved_to) == 1 and moved_to[0] != u.code:
                    reused.append(f"{u.code} (its unit is now {moved_to[0]})")
    return unchanged, renamed, reused


def cut_all(texts: Sequence[str], namespace: str) -> list[CutDocument]:
    return [cut_text(t, "law.md", namespace=namespace) for t in texts]


def test_repeated_labels_are_qualified_by_their_ancestors() -> None:
    """A label that restarts under each parent (Kapitel 1 under each Untertitel) is
    qualified by the ancestors that make it unique, not numbered in document order."""
    text = (
        "# G\n\n## Abschnitt 1\n\n### Untertitel 1 - Vereine\n\n#### Kapitel 1 - A\n\n"
        "#### § 1 x\n\n### Untertitel 2 - Stiftungen\n\n#### Kapitel 1 - B\n\n#### § 2 y\n\n"
        "#### Kapitel 2 - C\n\n#### § 3 z\n"
    )
    doc = cut_text(text, "g.md", namespace="G")
    chapters = [u.code for u in doc.units if u.kind == "chapter"]
    assert chapters == ["G/untertitel-1/Kap1", "G/untertitel-2/Kap1", "G/Kap2"]
    assert [u.code for u in doc.units if u.kind == "article"] == ["G/§1", "G/§2", "G/§3"]
    assert doc.warnings == ()


def test_true_duplicates_are_numbered_within_their_parent_only() -> None:
    """Two equal labels under one parent are numbered there; a duplicate inserted under
    another parent, earlier in the document, leaves that number as it is."""
    tail = "## Teil 2\n\n### Kapitel 1 - x\n\n### § 2\n\n### Kapitel 1 - y\n\n### § 3\n"
    before = cut_text("# D\n\n" + tail, "d.md", namespace="D")
    early = "## Teil 1\n\n### Kapitel 1 - new\n\n### § 1\n\n"
    after = cut_text("# D\n\n" + early + tail, "d.md", namespace="D")
    old = [u.code for u in before.units if u.title.startswith("Kapitel 1")]
    new = [u.code for u in after.units if u.title.startswith("Kapitel 1")]
    assert old == ["D/Kap1", "D/Kap1-2"]
    assert new == ["D/T1/Kap1", "D/T2/Kap1", "D/T2/Kap1-2"]
    assert after.warnings == ("line 15: duplicate code D/T2/Kap1; this unit is D/T2/Kap1-2",)


def test_github_terms_history_keeps_codes() -> None:
    """Across the 80 versions of the GitHub Terms of Service no unchanged unit is renamed
    and no code passes to another unit."""
    files = sorted((CORPORA / "en-terms-history").glob("*.md"))
    versions = [cut_text(p.read_bytes(), "terms.md", namespace="GH-TOS") for p in files]
    unchanged, renamed, reused = identity_breaks(versions)
    assert unchanged > 4000
    assert (renamed, reused) == ([], [])


def bgb_versions() -> list[str]:
    """The BGB, then: a Titel with an Untertitel and a chapter inserted early; then an
    Untertitel retitled; then a Titel retitled."""
    v1 = BGB.read_text(encoding="utf-8")
    anchor = "#### Titel 2 - Juristische Personen\n"
    assert anchor in v1
    inserted = (
        "#### Titel 1a - Neue Personen\n\n##### Untertitel 1 - Neues\n\n"
        "###### Kapitel 1 - Ein neues Kapitel\n\n###### § 20a Neu\n\nText.\n\n"
        "##### Untertitel 2 - Weiteres\n\n###### § 20b Neu\n\nText.\n\n"
    )
    v2 = v1.replace(anchor, inserted + anchor, 1)
    old_title = "##### Untertitel 2 - Besondere Arten des Kaufs\n"
    assert old_title in v2
    v3 = v2.replace(old_title, "##### Untertitel 2 - Kauf auf Probe, Wiederkauf, Vorkauf\n", 1)
    titel = "#### Titel 2 - Juristische Personen\n"
    v4 = v3.replace(titel, "#### Titel 2 - Vereine und Stiftungen\n", 1)
    return [v1, v2, v3, v4]


def test_bgb_history_built_from_the_shared_law_keeps_codes() -> None:
    """A chapter inserted early and retitled ancestors rename no unchanged unit of the BGB
    and hand no code to another unit."""
    unchanged, renamed, reused = identity_breaks(cut_all(bgb_versions(), "BGB"))
    assert unchanged > 3 * 3000
    assert (renamed, reused) == ([], [])


@pytest.mark.parametrize("law", ["d/dtpljwabkv", "e/eumetsatv", "l/lebpabkg_pol"])
def test_a_paragraph_added_to_an_art_only_law_renames_nothing(law: str) -> None:
    """Adding a § to a German law whose articles are Art N headings keeps it German and
    renames none of its units."""
    v1 = (CORPORA / "de-laws" / law / "index.md").read_text(encoding="utf-8")
    v2 = v1.rstrip("\n") + "\n\n## § 99 Inkrafttreten\n\nDieses Gesetz tritt in Kraft.\n"
    first, second = cut_all([v1, v2], "LAW")
    assert sum(u.kind == "article" for u in second.units) == 1 + sum(
        u.kind == "article" for u in first.units
    )
    unchanged, renamed, reused = identity_breaks([first, second])
    assert unchanged > 5
    assert (renamed, reused) == ([], [])
