"""Profile detection over the whole document: every law of the shared corpora gets its
articles without --profile, and a document whose legal lines make no unit is warned of."""

from __future__ import annotations

import re
from pathlib import Path

from markdown_it import MarkdownIt

from iucut.cut import cut_file, cut_text
from iucut.cut.frontmatter import split_front_matter


def _corpora() -> Path:
    """../shared/corpora seen from the repository (or from any folder above it)."""
    for parent in Path(__file__).resolve().parents:
        found = parent / "shared" / "corpora"
        if found.is_dir():
            return found
    raise AssertionError("../shared/corpora is missing (tests read it in place)")


CORPORA = _corpora()
MD = MarkdownIt("commonmark")

# Written here, not taken from the cutter: what a reader calls an article line.
ARTICLE = re.compile(
    r"(?:\(\S+\)\s*)?§§?\s*\d"  # § 5, §§ 3 bis 6, (XXXX) § 7
    r"|(?:Art\.?|Artikel)\s*(?:\d+[a-z]?|[IVX]+[a-z]?)(?!\w)"  # Art 5, Art. 5a, Artikel 1, Art III
    r"|Điều\s+\d+[a-zđ]?(?:\.(?:\d+[a-zđ]?|[A-ZĐ]{1,4}))*(?!\w)"  # Điều 5, Điều 19a
)
PLAIN_ARTICLE = re.compile(r"Điều\s+\d+[a-zđ]?(?:\.(?:\d+[a-zđ]?|[A-ZĐ]{1,4}))*[.:](?:\s|$)")


def article_lines(text: str) -> int:
    """Top-level headings and bold lines that read as an article, plus plain ``Điều N.``
    lines, outside block quotes (CommonMark structure by markdown-it)."""
    fm_end, _, _ = split_front_matter(text)
    body = text[fm_end:]
    lines = body.split("\n")
    count = quoted = 0
    tokens = MD.parse(body)
    for i, tok in enumerate(tokens):
        if tok.type == "blockquote_open":
            quoted += 1
        elif tok.type == "blockquote_close":
            quoted -= 1
        elif tok.type == "heading_open" and tok.level == 0:
            count += bool(ARTICLE.match(tokens[i + 1].content.strip(" *_")))
        elif tok.type == "paragraph_open" and not quoted and tok.map:
            for raw in lines[tok.map[0] : tok.map[1]]:
                line = raw.strip()
                if line.startswith(("**", "__")):
                    count += bool(ARTICLE.match(line.strip(" *_")))
                else:
                    count += bool(PLAIN_ARTICLE.match(line))
    return count


def test_every_law_with_article_lines_gets_its_articles_without_a_profile() -> None:
    """Every de-laws and vn-laws file with article lines (§ N, Art N, Artikel N, Điều N.)
    gets exactly that many article units with no --profile given."""
    files = [p for law in ("de-laws", "vn-laws") for p in sorted((CORPORA / law).rglob("*.md"))]
    wrong: list[tuple[str, int, int]] = []
    with_lines = 0
    for path in files:
        expected = article_lines(path.read_text(encoding="utf-8"))
        if not expected:
            continue
        with_lines += 1
        doc = cut_file(path, root=CORPORA)
        got = sum(1 for u in doc.units if u.kind == "article")
        if got != expected:
            wrong.append((doc.path, expected, got))
    assert with_lines > 350
    assert wrong == []


def test_art_only_german_law_is_german() -> None:
    """A law whose articles are only ``Art N`` / ``Artikel N`` headings is cut as German:
    article, paragraph (Abs) and number units, not heading slugs."""
    text = "# Gesetz\n\n## Artikel 1\n\n(1) Eins.\n\n(2) Zwei:\n\n1. a\n2. b\n\n"
    text += "### Art 2\n\nText.\n"
    doc = cut_text(text, "g.md", namespace="G")
    assert [u.code for u in doc.units if u.kind != "heading"][1:] == [
        "G/Art1",
        "G/Art1/Abs1",
        "G/Art1/Abs2",
        "G/Art1/Abs2/Nr1",
        "G/Art1/Abs2/Nr2",
        "G/Art2",
    ]
    assert doc.warnings == ()


def test_bold_only_vietnamese_law_is_vietnamese() -> None:
    """A Vietnamese law whose chapters and articles are bold lines only is cut as
    Vietnamese: its articles and clauses are units."""
    text = (
        "**CHƯƠNG I**\n\n**QUY ĐỊNH CHUNG**\n\n**Điều 1. Phạm vi điều chỉnh**\n\n"
        "1. Khoản một.\n\n2. Khoản hai.\n\n**Điều 2. Đối tượng áp dụng**\n\nNội dung.\n"
    )
    doc = cut_text(text, "v.md", namespace="V")
    assert [u.code for u in doc.units if u.kind in ("article", "clause")] == [
        "V/D1",
        "V/D1/K1",
        "V/D1/K2",
        "V/D2",
    ]


def test_articles_after_a_long_preamble_are_still_found() -> None:
    """Detection reads the whole document: 3000 English section headings first do not
    hide the 3001 German articles that follow."""
    preamble = "".join(f"## Section {n}\n\ntext\n\n" for n in range(1, 3001))
    law = "".join(f"## Art {n}\n\n(1) Satz.\n\n" for n in range(1, 3002))
    doc = cut_text(preamble + law, "long.md", namespace="L")
    assert sum(1 for u in doc.units if u.kind == "article") == 3001


def test_legal_lines_no_unit_is_made_of_are_warned_about() -> None:
    """A document with article lines that the chosen profile makes no legal unit of gets
    a warning naming the line and the profile that would cut it."""
    text = "# Abkommen\n\nVorwort.\n\n## Art 1\n\nText.\n\n## Art 2\n\nText.\n"
    doc = cut_text(text, "a.md", namespace="A", profile="vi")
    assert len(doc.warnings) == 1
    assert doc.warnings[0].startswith("line 5: 'Art 1' looks like a legal label (de)")
    assert "--profile de" in doc.warnings[0]
    assert cut_text(text, "a.md", namespace="A").warnings == ()
