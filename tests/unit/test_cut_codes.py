"""Codes, labels, profiles and rows: what a cut document's units look like."""

from __future__ import annotations

from typing import Any

import pytest

from iucut.cut import cut_text
from iucut.cut.codes import heading_slug, namespace_for, slug
from iucut.cut.profiles import PROFILES, configured
from iucut.errors import ConfigError, InputError
from iucut.units import content_hash

VN = """---
iu_namespace: ICX-CONST
---
# Hiến pháp

Phần thứ nhất QUY ĐỊNH CHUNG

## Chương II QUYỀN CON NGƯỜI

### Mục 1. Chung

#### Tiểu mục 2 Riêng

**Điều 44. Bảo vệ Tổ quốc**

1. Khoản một.
2. Khoản hai:
a) điểm a;
đ) điểm đ;
a1) điểm a1.

Điều 19a. Điều chèn

> Điều 45. Được trích dẫn trong sửa đổi
> 1. không phải khoản

## Chương III KINH TẾ

### Mục 1. Lại mục một

Điều 46. Một điều
"""


def codes(text: str, **kw: object) -> list[tuple[str, str, str | None]]:
    doc = cut_text(text.encode(), "law.md", **kw)  # type: ignore[arg-type]
    return [(u.code, u.kind, u.parent_code) for u in doc.units]


def test_vietnamese_codes_come_from_labels() -> None:
    """Vietnamese labels give the spec's codes: D44/K2/a, C2, M1 under its chapter, P1, đ→dd."""
    got = codes(VN)
    assert got == [
        ("ICX-CONST", "document", None),
        ("ICX-CONST/hien-phap", "heading", "ICX-CONST"),
        ("ICX-CONST/P1", "part", "ICX-CONST/hien-phap"),
        ("ICX-CONST/C2", "chapter", "ICX-CONST/P1"),
        ("ICX-CONST/C2/M1", "section", "ICX-CONST/C2"),
        ("ICX-CONST/C2/M1/TM2", "subsection", "ICX-CONST/C2/M1"),
        ("ICX-CONST/D44", "article", "ICX-CONST/C2/M1/TM2"),
        ("ICX-CONST/D44/K1", "clause", "ICX-CONST/D44"),
        ("ICX-CONST/D44/K2", "clause", "ICX-CONST/D44"),
        ("ICX-CONST/D44/K2/a", "point", "ICX-CONST/D44/K2"),
        ("ICX-CONST/D44/K2/dd", "point", "ICX-CONST/D44/K2"),
        ("ICX-CONST/D44/K2/a1", "point", "ICX-CONST/D44/K2"),
        ("ICX-CONST/D19a", "article", "ICX-CONST/C2/M1/TM2"),
        ("ICX-CONST/C3", "chapter", "ICX-CONST/P1"),
        ("ICX-CONST/C3/M1", "section", "ICX-CONST/C3"),
        ("ICX-CONST/D46", "article", "ICX-CONST/C3/M1"),
    ]


def test_quoted_article_stays_in_the_quoting_unit() -> None:
    """A block-quoted article (an amendment quoting new text) is body of the quoting unit."""
    doc = cut_text(VN.encode(), "law.md")
    d19a = doc.by_code()["ICX-CONST/D19a"]
    assert "> Điều 45." in d19a.body and "> 1. không phải khoản" in d19a.body


def test_inserting_an_article_renames_nothing_else() -> None:
    """Codes come from labels, not positions: inserting an article keeps every other code
    and every other unit's hash."""
    before = cut_text(VN.encode(), "law.md")
    after = cut_text(VN.replace("Điều 19a.", "Điều 19. Mới\n\nĐiều 19a.").encode(), "law.md")
    old = {u.code: u.content_hash for u in before.units}
    new = {u.code: u.content_hash for u in after.units}
    assert set(new) - set(old) == {"ICX-CONST/D19"}
    assert {c for c in old if old[c] != new[c]} == set()


def test_clause_lines_outside_an_article_are_body_text() -> None:
    """A numbered list outside any article is plain body text, not clauses."""
    got = codes("# Intro\n\n1. one\n2. two\n\nĐiều 1. X\n\n1. khoản\n", profile="vi")
    assert [c for c, _, _ in got] == ["LAW", "LAW/intro", "LAW/D1", "LAW/D1/K1"]


def test_german_paragraphs_absaetze_numbers_and_letters() -> None:
    """German: Abschnitt, § (document-wide), Absatz (n), Nummer n., Buchstabe a)."""
    text = (
        "# Gesetz\n\n## Abschnitt 1 Allgemeines\n\n### § 5 Begriffe\n\n(1) Satz.\n\n"
        "(2) Liste:\n\n1.  erstens\n    a) aa\n2.  zweitens\n\n### § 5a Neu\n\nText\n"
    )
    got = [c for c, _, _ in codes(text)]
    assert got == [
        "LAW",
        "LAW/gesetz",
        "LAW/gesetz/Abschn1",
        "LAW/§5",
        "LAW/§5/Abs1",
        "LAW/§5/Abs2",
        "LAW/§5/Abs2/Nr1",
        "LAW/§5/Abs2/Nr1/a",
        "LAW/§5/Abs2/Nr2",
        "LAW/§5a",
    ]


def test_english_articles_sections_amendments() -> None:
    """English: Article I → A1 (document-wide), its Section 2 → A1/S2, Amendment XIV → Am14."""
    text = "# Constitution\n\n## Article I\n\n### Section 2.\n\nText\n\n## Amendment XIV\n"
    got = [c for c, _, _ in codes(text)]
    assert got == ["LAW", "LAW/constitution", "LAW/A1", "LAW/A1/S2", "LAW/Am14"]


def test_profiles_are_detected_per_document() -> None:
    """The profile is detected from the labels a document uses (vi, de, else en)."""
    assert codes("Điều 1. A\n\nĐiều 2. B\n")[1][0] == "LAW/D1"
    assert codes("## § 1 Zweck\n\n(1) Satz\n")[2][0] == "LAW/§1/Abs1"
    assert codes("## Section 3 Scope\n")[1][0] == "LAW/S3"


def test_profile_from_front_matter_and_unknown_profile() -> None:
    """Front matter iu_profile overrides detection; an unknown profile is an InputError."""
    assert codes("---\niu_profile: en\n---\nĐiều 1. A\n") == [("LAW", "document", None)]
    with pytest.raises(InputError, match="unknown profile"):
        cut_text(b"# x\n", "x.md", profile="klingon")
    with pytest.raises(InputError, match="unknown profile 'xx'"):
        cut_text(b"---\niu_profile: xx\n---\n# x\n", "x.md", config={"profiles": {"*": "en"}})


def test_a_configured_profile_that_does_not_exist_is_a_configuration_error() -> None:
    """configuration ``profiles`` pinning a path to an unknown profile is the
    configuration's fault (ConfigError, exit 13), not the document's."""
    with pytest.raises(ConfigError, match=r"gives laws/x\.md the unknown profile 'xx'") as info:
        cut_text(b"# x\n", "laws/x.md", config={"profiles": {"laws/*": "xx"}})
    assert info.value.exit_code == 13
    doc = cut_text(b"# x\n", "other/x.md", config={"profiles": {"laws/*": "xx"}})
    assert doc.units[0].code == "OTHER.X"


def test_duplicate_labels_and_slugs_get_deterministic_suffixes() -> None:
    """Colliding codes get -2, -3 in document order, and the document gets a warning."""
    doc = cut_text(b"# A\n## Notes\n## Notes\nDi\n## Notes\n", "x.md")
    assert [u.code for u in doc.units] == ["X", "X/a", "X/a/notes", "X/a/notes-2", "X/a/notes-3"]
    assert len(doc.warnings) == 2 and "duplicate code X/a/notes" in doc.warnings[0]


def test_explicit_id_overrides_the_segment() -> None:
    """A trailing {#id} names the unit (under the namespace) and is not part of the title."""
    doc = cut_text(b"# Intro\n## Scope {#scope-v2}\n### Detail\n", "x.md")
    assert [u.code for u in doc.units] == ["X", "X/intro", "X/scope-v2", "X/scope-v2/detail"]
    assert doc.units[2].title == "Scope"


def test_namespace_sources_in_order() -> None:
    """Namespace: argument > front matter iu_namespace > config glob > derived from path."""
    config = {"namespaces": {"laws/*.md": "LAWS"}}
    assert cut_text(b"", "laws/a.md", config=config).namespace == "LAWS"
    assert cut_text(b"---\niu_namespace: FM\n---\n", "laws/a.md", config=config).namespace == "FM"
    assert cut_text(b"", "laws/a.md", namespace="ARG", config=config).namespace == "ARG"
    assert namespace_for("van-ban/bao-chi/luat-bao-chi.md") == "VAN-BAN.BAO-CHI.LUAT-BAO-CHI"
    assert namespace_for("de-laws/b/beherbmeldv/index.md") == "DE-LAWS.B.BEHERBMELDV"


def test_slugs_fold_diacritics_and_drop_enumerators() -> None:
    """Slugs are ASCII (đ→d, ß→ss, ä→a), lower case; heading enumerators are dropped."""
    assert slug("Đường bộ – Straße Ärger") == "duong-bo-strasse-arger"
    assert heading_slug("G. Intellectual Property Notice") == "intellectual-property-notice"
    assert heading_slug("A Short Title") == "a-short-title"
    assert slug("!!!") == "untitled"


def test_configured_label_rules_extend_a_profile() -> None:
    """Configuration adds label rules to a profile (tried before the built-in ones)."""
    config = {
        "labels": {
            "en": [{"kind": "article", "rank": 30, "prefix": "R", "head": r"Rule (?P<label>\d+)"}]
        }
    }
    doc = cut_text(b"## Rule 7 Conduct\n", "x.md", profile="en", config=config)
    assert doc.units[1].code == "X/R7"
    with pytest.raises(ConfigError):
        cut_text(b"", "x.md", config={"labels": {"en": [{"kind": "x", "head": "no label"}]}})


def test_rows_carry_spans_hashes_and_enrichment() -> None:
    """Each row has title, label, ordinal, depth, line and byte spans, and the iu1 hash."""
    text = "# Tiêu đề\r\n\r\nĐiều 1. Một\r\nnội dung\r\nĐiều 2. Hai"
    doc = cut_text(text.encode(), "x.md")
    art1, art2 = doc.units[2], doc.units[3]
    assert (art1.label, art1.ordinal, art1.depth, art1.title) == ("1", 1, 2, "Điều 1. Một")
    assert (art1.line_start, art1.line_end, art2.line_start, art2.line_end) == (3, 4, 5, 5)
    assert art1.raw_heading == "Điều 1. Một\r\n" and art1.body == "nội dung\r\n"
    raw = text.encode()
    assert raw[art1.byte_start : art1.byte_end] == (art1.raw_heading + art1.body).encode()
    assert art1.content_hash == content_hash(art1.raw_heading, art1.body)
    assert doc.units[0].title == "Tiêu đề"


def test_configured_profiles_are_kept_while_the_labels_are_the_same() -> None:
    """A cut asks for the configured profiles once per document: the same labels give
    the same profiles (their compiled matchers kept); changed labels, new ones."""
    rule = {"kind": "article", "rank": 50, "prefix": "X", "head": r"Article (?P<label>\d+)"}
    config: dict[str, Any] = {"labels": {"vi": [dict(rule)]}}
    first = configured(config)
    assert configured({"labels": {"vi": [dict(rule)]}}) is first
    config["labels"]["vi"][0]["prefix"] = "Y"  # changed in place: not the kept one
    second = configured(config)
    assert second is not first and second["vi"].rules[0].prefix == "Y"
    assert configured({}) is PROFILES


FR_CODE = """# Code de la consommation

## Article L. 111-1

Les caractéristiques.

## Article L. 111-2

Le prix.

## Article R*111-1

Par écrit.

## Article R. 111-2

Autre.
"""
UCC = """# Uniform Commercial Code

## Article 1 General Provisions

### Section 1-201. General Definitions

Text.

### Section 1-202. Notice; Knowledge

Text.

## Article 2 Sales

### § 2-314. Implied Warranty

Text.
"""


@pytest.mark.parametrize("compiled", [False, True])
def test_hyphenated_and_lettered_article_numbers_are_whole_labels(
    compiled: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """French ``Article L. 111-1`` / ``R*111-1`` and UCC ``Section 1-201`` / ``§ 2-314`` are
    labelled by their whole number, so no two articles share a label and no code is a
    position (``AL``, ``AL-2``, … renamed every unit after an inserted article); ``L. 111-1``
    and ``L111-1`` are one label."""
    from iucut.cut import cutter

    monkeypatch.setattr(cutter, "COMPILED", compiled and cutter._core is not None)
    doc = cut_text(FR_CODE.encode(), "code.md", namespace="CC")
    assert [(u.code, u.label) for u in doc.units if u.kind == "article"] == [
        ("CC/AL111-1", "L. 111-1"),
        ("CC/AL111-2", "L. 111-2"),
        ("CC/AR-111-1", "R*111-1"),
        ("CC/AR111-2", "R. 111-2"),
    ]
    assert doc.warnings == ()
    inserted = FR_CODE.replace(
        "## Article L. 111-2", "## Article L111-1-1\n\nNouveau.\n\n## Article L. 111-2"
    )
    again = cut_text(inserted.encode(), "code.md", namespace="CC")
    before = {u.code: u.content_hash for u in doc.units}
    after = {u.code: u.content_hash for u in again.units}
    assert {c for c in after if c not in before} == {"CC/AL111-1-1"}
    assert all(after[c] == h for c, h in before.items() if c != "CC/code-de-la-consommation")
    ucc = cut_text(UCC.encode(), "ucc.md", namespace="UCC")
    assert [u.code for u in ucc.units if u.kind in ("article", "section")] == [
        "UCC/A1",
        "UCC/A1/S1-201",
        "UCC/A1/S1-202",
        "UCC/A2",
        "UCC/§2-314",
    ]
    assert ucc.warnings == ()
