"""Reviewing a plan: word diffs with whitespace made visible, the terminal view, the old
text in the plan file, the HTML review page's data and escaping, the proof's tables."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from factory import make_unit
from iucut.errors import PlanFileError
from iucut.planfile import plan_to_dict, read_plan, write_plan
from iucut.report import render
from iucut.report.diff import first_lines, hunks, word_diff
from iucut.report.html import evidence_html
from iucut.report.page import render_plan_page, script_json
from iucut.report.review import page_data, terminal
from iucut.units import (
    Change,
    DocumentPlan,
    Fingerprint,
    OldText,
    Plan,
    Unit,
    content_hash,
)

FP = Fingerprint("7312345678901234567", "kb", "public", 2)


def unit(code: str, heading: str, body: str, *, parent: str | None = "NS", depth: int = 1) -> Unit:
    return make_unit(
        code,
        parent=parent,
        heading=heading,
        body=body,
        kind="article",
        label="1",
        depth=depth,
        title=heading.strip("# \n"),
        byte_end=10,
    )


def revise(code: str, heading: str, old_body: str, new_body: str) -> Change:
    return Change(
        "revise",
        code,
        1,
        unit(code, heading, new_body),
        old_hash=content_hash(heading, old_body),
        old=OldText(heading.strip("# \n"), heading, old_body),
    )


def review_plan() -> Plan:
    """One document with a revision of each kind of text change, a move, a create, a
    retire, and a hostile heading."""
    changes = (
        revise("NS/A1", "## Article 1. Encoding\n", "Files are UTF 8.\n", "Files are UTF-8.\n"),
        revise("NS/A2", "## Article 2. Names\n", "Names are short. \n", "Names are short.\n"),
        revise("NS/A3", "## Article 3. Ends\n", "One line.\n", "One line.\r\n"),
        Change(
            "move",
            "NS/A4",
            1,
            unit("NS/A4", "## Article 4\n", "Moved.\n", parent="NS/P2", depth=2),
            moved=True,
            moved_from="NS/P1",
            old_hash=content_hash("## Article 4\n", "Moved.\n"),
        ),
        Change("create", "NS/A5", None, unit("NS/A5", "## <script>alert(1)</script>\n", "New.\n")),
        Change(
            "retire", "NS/A6", 3, None, old=OldText("Article 6", "## Article 6\n", "Gone now.\n")
        ),
    )
    doc = DocumentPlan("a.md", "NS", "h2", "h1", "update", 100, 6, changes, 10)
    return Plan(FP, (doc,), "0.1.0")


def test_a_replaced_character_is_one_small_change() -> None:
    """``UTF 8`` → ``UTF-8`` is one space replaced by one hyphen, the words kept."""
    assert word_diff("Files are UTF 8.\n", "Files are UTF-8.\n") == [
        ("=", "Files are UTF"),
        ("-", " "),
        ("+", "-"),
        ("=", "8.\n"),
    ]


def test_whitespace_only_changes_are_changes() -> None:
    """A trailing space, a CRLF and a missing final newline each show as a change."""
    assert ("-", " ") in word_diff("short. \n", "short.\n")
    assert ("+", "\r") in word_diff("a\n", "a\r\n")
    assert ("+", "\n") in word_diff("x", "x\n")


def test_a_rewritten_phrase_is_one_change_not_word_confetti() -> None:
    """Neighbouring changed words separated by one space read as one phrase."""
    assert word_diff("the quick brown fox\n", "the slow red fox\n") == [
        ("=", "the "),
        ("-", "quick brown"),
        ("+", "slow red"),
        ("=", " fox\n"),
    ]


_TEXT = st.text(alphabet=st.sampled_from(list("ab \t\r\n-.ệ")), max_size=60)


@settings(max_examples=300, deadline=None)
@given(_TEXT, _TEXT)
def test_a_diff_gives_back_both_texts(old: str, new: str) -> None:
    """Kept + removed segments are the old text, kept + added the new one, always."""
    segments = word_diff(old, new)
    assert "".join(t for op, t in segments if op != "+") == old
    assert "".join(t for op, t in segments if op != "-") == new
    assert all(t for _, t in segments)


def test_a_huge_unit_is_diffed_fast_and_exactly_where_it_changed() -> None:
    """One changed word in a 30,000-word line is found (common ends trimmed first); a
    rewrite too large to match word by word is shown removed and added whole; two
    edits in 10,000 lines (half of them blank) are found; all within seconds."""
    words = [f"w{i % 97}" for i in range(30_000)]
    old = " ".join(words) + "\n"
    new = " ".join([*words[:15_000], "CHANGED", *words[15_001:]]) + "\n"
    start = time.perf_counter()
    changes = [s for s in word_diff(old, new) if s[0] != "="]
    assert changes == [("-", words[15_000]), ("+", "CHANGED")]
    rewritten = " ".join(reversed(words)) + "\n"
    segments = word_diff(old, rewritten)
    assert "".join(t for op, t in segments if op != "-") == rewritten
    lines = "".join(f"Paragraph {i}.\n\n" for i in range(5_000))  # 10,000 lines
    edited = lines.replace("Paragraph 1000.", "Paragraph 1000 new.").replace(
        "Paragraph 4000.", "Paragraph 4000 other."
    )
    changed = [s for s in word_diff(lines, edited) if s[0] != "="]
    assert changed == [("+", " new"), ("+", " other")]
    word_diff(lines, "".join(f"Other {i}.\n\n" for i in range(5_000)))
    assert time.perf_counter() - start < 5


def test_hunks_keep_changed_lines_and_their_neighbours_only() -> None:
    """A long unit shows the changed line, one line of text around it, gaps as None."""
    old = "".join(f"line {i}\n\n" for i in range(10))
    new = old.replace("line 5\n", "line five\n")
    shown = hunks(word_diff(old, new))
    texts = [None if h is None else "".join(t for _, t in h) for h in shown]
    assert texts == [None, "line 4\n", "line 5five\n", "line 6\n", None]


def test_first_lines_are_cut_with_an_ellipsis() -> None:
    """A create or retire shows its first lines, marked when there is more."""
    assert first_lines("a\nb\nc\nd\n", 2) == "a\nb\n…"
    assert first_lines("short\n", 2) == "short"


def test_terminal_marks_the_changed_words_and_the_whitespace() -> None:
    """Piped (no colour): [-removed-]{+added+}, whitespace drawn, no ANSI escape."""
    out = terminal(plan_to_dict(review_plan()))
    assert "Files are UTF[-·-]{+-+}8." in out
    assert "Names are short.[-·-]" in out
    assert "One line.{+␍+}" in out
    assert "parent: NS/P1 → NS/P2" in out
    assert "- NS/A6  Article 6" in out and "Gone now." in out
    assert "+ NS/A5  <script>alert(1)</script>" in out and "New." in out
    assert "\x1b[" not in out


def test_terminal_colour_styles_the_changes_instead_of_marking_them() -> None:
    """On a terminal the changes are coloured (ANSI) and the plain markers are gone."""
    out = terminal(plan_to_dict(review_plan()), color=True)
    assert "\x1b[" in out
    assert "[-" not in out and "{+" not in out


def test_summary_prints_the_documents_counts_only() -> None:
    """--summary: one line per document with its counts, no unit and no diff."""
    out = terminal(plan_to_dict(review_plan()), summary=True)
    assert out.splitlines() == ["a.md  [update]  +1 ~3 →1 ↺0 -1 =10"]


def test_a_control_character_in_the_text_never_reaches_the_terminal() -> None:
    """An ESC in a document's text is drawn as \\x1b, in kept and in changed text."""
    plan = Plan(
        FP,
        (
            DocumentPlan(
                "a.md",
                "NS",
                "h2",
                "h1",
                "update",
                1,
                1,
                (revise("NS/A1", "## A\n", "x\x1b[2J y\n", "x\x1b[2J z\x1b]0;t\x07\n"),),
                0,
            ),
        ),
        "0.1.0",
    )
    out = terminal(plan_to_dict(plan))
    assert "\x1b" not in out and "\x07" not in out
    assert "x\\x1b[2J [-y-]{+z\\x1b]0;t\\x07+}" in out


def test_plan_file_carries_the_old_text_and_reads_back_equal(tmp_path: Path) -> None:
    """The plan file holds each revised or retired unit's old text: the same plan back."""
    plan = review_plan()
    path = tmp_path / "plan.json"
    write_plan(plan, path)
    data = json.loads(path.read_bytes())
    changes = {c["code"]: c for c in data["documents"][0]["changes"]}
    assert changes["NS/A1"]["old"]["body"] == "Files are UTF 8.\n"
    assert changes["NS/A6"]["old"]["body"] == "Gone now.\n"
    assert "old" not in changes["NS/A5"]  # a create has none: a first plan stays small
    back, _ = read_plan(path)
    assert back == plan
    assert terminal(plan_to_dict(back)) == terminal(plan_to_dict(plan))  # offline review


def test_a_plan_file_whose_old_text_was_edited_is_refused(tmp_path: Path) -> None:
    """An old text that its old hash does not name would show a false diff: refused."""
    path = tmp_path / "plan.json"
    write_plan(review_plan(), path)
    raw = path.read_text(encoding="utf-8")
    path.write_text(raw.replace("Files are UTF 8.", "Files are UTF-8.", 1), encoding="utf-8")
    with pytest.raises(PlanFileError, match="old text of NS/A1"):
        read_plan(path)


def test_a_plan_file_without_old_texts_still_reads(tmp_path: Path) -> None:
    """A plan written before old texts were carried reads, and says it has none."""
    data = plan_to_dict(review_plan())
    for change in data["documents"][0]["changes"]:
        change.pop("old", None)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    back, _ = read_plan(path)
    assert all(c.old is None for c in back.documents[0].changes)
    assert "no old text" in terminal(plan_to_dict(back))


def test_page_embeds_the_plan_as_inert_json() -> None:
    """The page's data is JSON that cannot close its script element or start markup."""
    page = render_plan_page(plan_to_dict(review_plan()), "f" * 64)
    assert "<script>alert(1)</script>" not in page
    data_text = re.search(r'id="plan-data">(.*?)</script>', page, re.S)
    assert data_text is not None
    assert "<" not in data_text.group(1) and ">" not in data_text.group(1)
    data = json.loads(data_text.group(1))
    a5 = next(c for c in data["documents"][0]["changes"] if c["code"] == "NS/A5")
    assert a5["title"] == "<script>alert(1)</script>"
    assert "http://" not in page and "https://" not in page  # nothing to fetch
    assert json.loads(script_json("\u2028</script>\ud800")) == "\u2028</script>\ud800"


def test_page_diff_draws_a_changed_newline_and_breaks_the_line() -> None:
    """A CRLF change is drawn (␍) and ends the line in the page's diff; whitespace
    changes are drawn, kept text stays as it is; a move carries from and to."""
    page = render_plan_page(plan_to_dict(review_plan()), None)
    data = json.loads(re.search(r'id="plan-data">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    a3 = next(c for c in data["documents"][0]["changes"] if c["code"] == "NS/A3")
    assert ["+", "␍\n"] in a3["diff"]
    a1 = next(c for c in data["documents"][0]["changes"] if c["code"] == "NS/A1")
    assert ["-", "·"] in a1["diff"] and ["+", "-"] in a1["diff"]
    a4 = next(c for c in data["documents"][0]["changes"] if c["code"] == "NS/A4")
    assert (a4["from"], a4["to"]) == ("NS/P1", "NS/P2") and "diff" not in a4


def test_proof_evidence_is_tables_with_counts_side_by_side() -> None:
    """Mappings of counts with the same keys share one table; no JSON braces shown."""
    out = evidence_html(
        {
            "run_id": "r1",
            "planned": {"created": 2, "revised": 1},
            "written": {"created": 2, "revised": 0},
        }
    )
    assert "<th>planned</th><th>written</th>" in out
    assert '<tr><th>revised</th><td class="n">1</td><td class="n">0</td></tr>' in out
    assert "{" not in out


def test_proof_page_lists_the_units_and_links_the_plan_page() -> None:
    """A proof report with its plan shows the units driven and links the review page."""
    from iucut.report import plan_summary

    data = {
        "format": "iucut-proof/1",
        "verdict": "IUCUT_PROOF 1/1 ALL_PROOFS_PASS",
        "passed": True,
        "plan_page": "plan-ffffffffffff.html",
        "plan": plan_summary(review_plan(), "f" * 64, max_changes=3),
        "checks": [{"number": 1, "name": "n", "status": "PASS", "evidence": {"a": 1}}],
    }
    out = render(data, "html")
    assert '<a href="plan-ffffffffffff.html">open the review page with every diff</a>' in out
    assert "<code>NS/A1</code>" in out and "<code>NS/A3</code>" in out
    assert "NS/A6" not in out and "… and 3 more" in out


DANGLING = [
    {
        "source": "NS/A2",
        "doc_path": "a.md",
        "text": "Article 6\nparagraph 1",
        "target": "NS/A6",
        "reason": "retired",
        "now": None,
    },
    {
        "source": "NS/A3",
        "doc_path": "a.md",
        "text": "Article 4 <b>\x1b[2J",
        "target": "NS/A4",
        "reason": "renumbered",
        "now": "NS/A5",
    },
]


def test_terminal_lists_every_dangling_reference_with_who_what_and_why() -> None:
    """The review names each citing code, the reference as written (one line) and why it
    would dangle (retired; renumbered and where its text moves), even in --summary; a
    control character in the reference never reaches the terminal."""
    for summary in (False, True):
        out = terminal(plan_to_dict(review_plan()), summary=summary, dangling=DANGLING)
        lines = [x for x in out.splitlines() if x.startswith("dangling reference: ")]
        assert lines == [
            'dangling reference: NS/A2 cites "Article 6 paragraph 1": NS/A6 is retired',
            'dangling reference: NS/A3 cites "Article 4 <b>\\x1b[2J": NS/A4 is renumbered '
            "(its text moves to NS/A5)",
        ]
        assert "\x1b" not in out
    assert "dangling" not in terminal(plan_to_dict(review_plan()))


def test_page_data_carries_the_dangling_references_and_why() -> None:
    """The page's data lists each dangling reference: citing code, text, target, why."""
    page = render_plan_page(plan_to_dict(review_plan()), None, DANGLING)
    data = json.loads(re.search(r'id="plan-data">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    assert [(d["source"], d["text"], d["why"]) for d in data["dangling"]] == [
        ("NS/A2", "Article 6 paragraph 1", "NS/A6 is retired"),
        ("NS/A3", "Article 4 <b>\x1b[2J", "NS/A4 is renumbered (its text moves to NS/A5)"),
    ]
    assert "<b>" not in page  # inert JSON, drawn as text by the page
    assert page_data(plan_to_dict(review_plan()), None)["dangling"] == []
