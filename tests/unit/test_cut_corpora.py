"""The shared corpora, read in place: round-trips, article and § counts, stable codes."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from iucut.cut import cut_file, cut_text
from iucut.cut.frontmatter import split_front_matter
from iucut.units import CutDocument

CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"
MD = MarkdownIt("commonmark")


def corpus(name: str) -> list[Path]:
    folder = CORPORA / name
    assert folder.is_dir(), f"corpus {folder} is missing (tests read ../shared/corpora in place)"
    files = sorted(folder.rglob("*.md"))
    assert files, f"no Markdown files in {folder}"
    return files


def test_every_corpus_file_round_trips_byte_for_byte() -> None:
    """Every file of ../shared/corpora cuts into units that reassemble it byte for byte."""
    files = corpus("vn-laws") + corpus("de-laws") + corpus("en-terms-history")
    failed = [p for p in files if cut_file(p, root=CORPORA).reassemble().encode() != p.read_bytes()]
    assert failed == []
    assert len(files) > 500


def label_lines(text: str, heading: re.Pattern[str], line: re.Pattern[str] | None) -> int:
    """Independent count: top-level headings (markdown-it) whose text matches ``heading``,
    plus paragraph lines outside block quotes matching ``line`` (or ``heading`` when
    the line is bold)."""
    fm_end, _, _ = split_front_matter(text)
    body = text[fm_end:]
    lines = body.split("\n")
    count = 0
    quoted = 0
    tokens = MD.parse(body)
    for i, tok in enumerate(tokens):
        if tok.type == "blockquote_open":
            quoted += 1
        elif tok.type == "blockquote_close":
            quoted -= 1
        elif tok.type == "heading_open" and tok.level == 0:
            if heading.match(tokens[i + 1].content.strip(" *_")):
                count += 1
        elif tok.type == "paragraph_open" and not quoted and tok.map:
            for raw in lines[tok.map[0] : tok.map[1]]:
                stripped = raw.strip()
                if stripped.startswith(("**", "__")):
                    if heading.match(stripped.strip(" *_")):
                        count += 1
                elif line is not None and line.match(stripped):
                    count += 1
    return count


VI_LABEL = r"\d+[a-zđ]?(?:\.(?:\d+[a-zđ]?|[A-ZĐ]{1,4}))*"
VI_HEADING = re.compile(r"Điều\s+" + VI_LABEL + r"(?![\w])")
VI_LINE = re.compile(r"Điều\s+" + VI_LABEL + r"[.:](?:\s|$)")


@pytest.mark.parametrize("path", corpus("vn-laws"), ids=lambda p: p.stem[:40])
def test_vn_article_units_match_an_independent_count(path: Path) -> None:
    """Each vn-laws file has as many article units as it has article lines (Điều N)."""
    doc = cut_file(path, profile="vi")
    articles = sum(1 for u in doc.units if u.kind == "article")
    text = path.read_text(encoding="utf-8")
    assert articles == label_lines(text, VI_HEADING, VI_LINE)


DE_HEADING = re.compile(r"(?:\(\S+\)\s*)?§§?\s*\d")


@pytest.mark.parametrize("path", corpus("de-laws"), ids=lambda p: p.parent.name[:40])
def test_de_paragraph_units_match_an_independent_count(path: Path) -> None:
    """Each de-laws file has as many § units as it has § headings (and bold § lines)."""
    doc = cut_file(path, profile="de")
    units = sum(1 for u in doc.units if u.kind == "article" and "/§" in u.code)
    assert units == label_lines(path.read_text(encoding="utf-8"), DE_HEADING, None)


def cut_versions() -> list[CutDocument]:
    return [
        cut_text(p.read_bytes(), "terms.md", namespace="GH-TOS") for p in corpus("en-terms-history")
    ]


def test_unchanged_sections_keep_code_and_hash_across_versions() -> None:
    """Across consecutive Terms of Service versions, a unit whose text did not change keeps
    its code (and hash): the count of codes that changed when they should not is 0."""
    versions = cut_versions()
    changed, unchanged = [], 0
    for old, new in itertools.pairwise(versions):
        codes_by_hash: dict[str, set[str]] = {}
        for u in old.units:
            codes_by_hash.setdefault(u.content_hash, set()).add(u.code)
        for u in new.units[1:]:
            if u.content_hash in codes_by_hash:
                unchanged += 1
                if u.code not in codes_by_hash[u.content_hash]:
                    changed.append(u.code)
    assert unchanged > 1000
    assert changed == []
