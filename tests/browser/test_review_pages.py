"""The plan's review page and the proof report in a real browser (Debian's Chromium,
driven by Playwright): what a reviewer sees, a filter, lazy expansion of a 60,000-unit
first plan, hostile text kept as text. Each test keeps a screenshot under artifacts/."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from iucut.cut import cut_file, cut_text
from iucut.plan import diff_document
from iucut.planfile import plan_hash, plan_to_dict
from iucut.report import plan_summary, write_report
from iucut.report.page import write_plan_page
from iucut.units import CutDocument, Fingerprint, OldText, Plan, UnitState

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("IUCUT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).is_file():
    pytest.skip(
        f"browser tests not run: no Chromium at {CHROMIUM} (apt-get install chromium, "
        "or set IUCUT_CHROMIUM)",
        allow_module_level=True,
    )
try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright
except ImportError:
    pytest.skip(
        "browser tests not run: Playwright is not installed (pip install -e '.[browser]')",
        allow_module_level=True,
    )

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "browser"
CORPORA = ROOT.parent / "shared" / "corpora"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
FP = Fingerprint("7312345678901234567", "kb", "public", 2)

POLICY = """\
# Policy

## Article 1. Encoding

Files are stored as UTF 8.

## Article 2. Names

Names are short.\x20

## Article 3. Old

Removed soon.
"""

EDITED = """\
# Policy

## Article 1. Encoding

Files are stored as UTF-8.

## Article 2. Names

Names are short.

## Article 4. <script>window.pwned = 1; alert(1)</script>

<img src=x onerror="window.pwned = 2">
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page whose errors and dialogs are recorded; a screenshot is kept at the end."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    tab.on(
        "dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss())
    )
    tab.on("request", lambda req: None if req.url.startswith("file:") else problems.append(req.url))
    tab.problems = problems  # type: ignore[attr-defined]
    yield tab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"{request.node.name}.png"
    tab.screenshot(path=str(shot), full_page=len(tab.content()) < 2_000_000)
    print(f"\nscreenshot: {shot}")
    context.close()


def cut(text: str, path: str = "policy.md") -> CutDocument:
    doc = cut_text(text.encode(), path)
    assert isinstance(doc, CutDocument)
    return doc


def edit_plan() -> Plan:
    """The plan of editing POLICY into EDITED, with the old texts a database would give."""
    before, after = cut(POLICY), cut(EDITED)
    state = {
        u.code: UnitState(
            u.code,
            u.parent_code,
            u.kind,
            u.label,
            u.ordinal,
            u.depth,
            u.position,
            "active",
            1,
            u.content_hash,
            u.doc_path,
        )
        for u in before.units
    }
    db_doc = {"doc_path": before.path, "doc_hash": before.doc_hash, "state": "active"}
    dp = diff_document(after, db_doc, state)
    old = before.by_code()
    changes = tuple(
        replace(c, old=OldText(old[c.code].title, old[c.code].raw_heading, old[c.code].body))
        if c.op in ("revise", "retire")
        else c
        for c in dp.changes
    )
    other = diff_document(cut("# Guide\n\nUse it.\n", "guide.md"), None, {})
    return Plan(FP, (replace(dp, changes=changes), other), "0.1.0")


def plan_page(tmp_path: Path, plan: Plan) -> Path:
    return write_plan_page(tmp_path, plan_to_dict(plan), plan_hash(plan))


def open_page(page: Page, path: Path) -> float:
    start = time.perf_counter()
    page.goto(path.as_uri(), wait_until="load")
    return time.perf_counter() - start


def test_the_changed_words_are_highlighted(page: Page, tmp_path: Path) -> None:
    """An opened document shows each revision with the removed and added words marked
    (red and green), whitespace changes drawn, the retire and the create with text."""
    open_page(page, plan_page(tmp_path, edit_plan()))
    assert page.locator(".unit").count() == 0  # documents start closed (two here)
    page.get_by_role("button", name="policy.md").click()
    a1 = page.locator('.unit[data-code="POLICY/A1"]')
    assert a1.locator(".title").inner_text() == "Article 1. Encoding"
    assert a1.locator("del").all_inner_texts() == ["·"]
    assert a1.locator("ins").all_inner_texts() == ["-"]
    assert "Files are stored as UTF·-8." in a1.locator(".diff").inner_text()
    colours = a1.locator("ins").evaluate("e => getComputedStyle(e).backgroundColor")
    assert colours == "rgb(218, 251, 225)"
    assert page.locator('.unit[data-code="POLICY/A2"] del').all_inner_texts() == ["·"]
    retired = page.locator('.unit[data-code="POLICY/A3"]')
    assert "op-retire" in (retired.get_attribute("class") or "")
    assert retired.locator(".text").inner_text() == "Removed soon."
    assert page.problems == []  # type: ignore[attr-defined]


def test_the_counts_are_those_of_the_plan(page: Page, tmp_path: Path) -> None:
    """The summary boxes and the filter labels show the plan's counts."""
    plan = edit_plan()
    open_page(page, plan_page(tmp_path, plan))
    for kind in ("created", "revised", "retired", "unchanged"):
        shown = page.locator(f'.count[data-kind="{kind}"] b').inner_text()
        assert int(shown) == plan.counts[kind], kind
    assert plan.counts["revised"] == 2 and plan.counts["created"] == 3
    assert "revised (2)" in page.locator("#filters").inner_text()
    assert page.locator("#filters .shown").inner_text() == "6 changes in 2 documents"
    assert page.locator(".doc .sum").first.inner_text() == "+1 ~2 →0 ↺0 -1 =2"


def test_the_change_kind_filter_hides_and_shows_units(page: Page, tmp_path: Path) -> None:
    """Unticking 'revised' hides the revisions (and a document with nothing left);
    ticking it again brings them back."""
    open_page(page, plan_page(tmp_path, edit_plan()))
    page.get_by_role("button", name="policy.md").click()
    assert page.locator(".unit.op-revise").count() == 2
    page.locator('#filters input[data-kind="revise"]').uncheck()
    assert page.locator(".unit.op-revise").count() == 0
    assert page.locator(".unit.op-retire").count() == 1
    assert page.locator("#filters .shown").inner_text() == "4 changes in 2 documents"
    page.locator('#filters input[data-kind="create"]').uncheck()
    page.locator('#filters input[data-kind="retire"]').uncheck()
    assert page.locator(".doc:not(.hidden)").count() == 0
    page.locator('#filters input[data-kind="revise"]').check()
    assert page.locator(".unit.op-revise").count() == 2
    assert page.locator(".doc:not(.hidden)").count() == 1


def test_the_search_box_keeps_the_matching_units(page: Page, tmp_path: Path) -> None:
    """Typing part of a code or a title keeps only the changes that contain it."""
    open_page(page, plan_page(tmp_path, edit_plan()))
    page.get_by_role("button", name="policy.md").click()
    page.locator("#query").fill("names")
    expect(page.locator(".unit")).to_have_count(1)
    assert page.locator(".unit").get_attribute("data-code") == "POLICY/A2"
    assert page.locator("#filters .shown").inner_text() == "1 change in 1 document"
    page.locator("#query").fill("guide")
    expect(page.locator("#filters .shown")).to_have_text("2 changes in 1 document")
    expect(page.locator(".doc:not(.hidden)")).to_have_count(1)
    page.locator("#query").fill("")
    expect(page.locator(".unit")).to_have_count(4)


def test_hostile_text_stays_text(page: Page, tmp_path: Path) -> None:
    """A <script> heading and an <img onerror> body are shown as text: nothing runs,
    nothing is fetched, no dialog opens."""
    open_page(page, plan_page(tmp_path, edit_plan()))
    page.get_by_role("button", name="policy.md").click()
    created = page.locator('.unit[data-code="POLICY/A4"]')
    assert created.locator(".title").inner_text() == (
        "Article 4. <script>window.pwned = 1; alert(1)</script>"
    )
    assert created.locator(".text").inner_text() == '<img src=x onerror="window.pwned = 2">'
    assert page.evaluate("window.pwned") is None
    assert page.locator("img").count() == 0
    assert page.problems == []  # type: ignore[attr-defined]


def test_the_references_that_would_dangle_are_listed(page: Page, tmp_path: Path) -> None:
    """Above the documents, every reference of an active unit the plan would break: the
    citing code, the reference as written, and why (retired, or renumbered and where
    its text moves); a hostile reference text stays text. No list when none dangles."""
    dangling = [
        {
            "source": "POLICY/A2",
            "doc_path": "policy.md",
            "text": "Article 3",
            "target": "POLICY/A3",
            "reason": "retired",
            "now": None,
        },
        {
            "source": "POLICY/A1",
            "doc_path": "policy.md",
            "text": 'Article 2 <img src=x onerror="window.pwned = 3">',
            "target": "POLICY/A2",
            "reason": "renumbered",
            "now": "POLICY/A5",
        },
    ]
    plan = edit_plan()
    path = write_plan_page(tmp_path, plan_to_dict(plan), plan_hash(plan), dangling)
    open_page(page, path)
    box = page.locator("#dangling")
    expect(box).to_be_visible()
    assert box.locator("h2").inner_text() == "2 references of active units would dangle"
    items = box.locator("li")
    assert items.all_inner_texts() == [
        "POLICY/A2 cites \u201cArticle 3\u201d: POLICY/A3 is retired (policy.md)",
        'POLICY/A1 cites \u201cArticle 2 <img src=x onerror="window.pwned = 3">\u201d: '
        "POLICY/A2 is renumbered (its text moves to POLICY/A5) (policy.md)",
    ]
    assert items.nth(1).get_attribute("data-reason") == "renumbered"
    assert page.evaluate("window.pwned") is None and page.locator("img").count() == 0
    assert page.problems == []  # type: ignore[attr-defined]
    open_page(page, plan_page(tmp_path / "none", plan))
    expect(page.locator("#dangling")).to_be_hidden()


def first_plan(units: int) -> Plan:
    """The first plan of the real corpora (every unit a create), at least ``units``."""
    docs = []
    for name in ("vn-laws", "de-laws"):
        for path in sorted((CORPORA / name).rglob("*.md")):
            docs.append(diff_document(cut_file(path, root=CORPORA), None, {}))
            if sum(d.unit_count for d in docs) >= units:
                return Plan(FP, tuple(docs), "0.1.0")
    raise AssertionError(f"the corpora in {CORPORA} have fewer than {units} units")


def test_a_60000_unit_first_plan_opens_and_expands_lazily(page: Page, tmp_path: Path) -> None:
    """A first plan of 60,000 real units: the page opens with no unit drawn, a document
    draws its first 300 units when opened and 300 more on request, and scrolls."""
    plan = first_plan(60_000)
    path = plan_page(tmp_path, plan)
    size = path.stat().st_size
    seconds = open_page(page, path)
    total = page.locator('.count[data-kind="created"] b').inner_text()
    assert int(total) == plan.counts["created"] >= 60_000
    assert page.locator(".doc").count() == len(plan.documents)
    assert page.locator(".unit").count() == 0
    biggest = max(plan.documents, key=lambda d: d.unit_count)
    head = page.locator(f'.doc[data-path="{biggest.doc_path}"] > button.head')
    start = time.perf_counter()
    head.click()
    body = page.locator(f'.doc[data-path="{biggest.doc_path}"] .body')
    assert body.locator(".unit").count() == 300
    expand = time.perf_counter() - start
    body.locator("button.more").click()
    assert body.locator(".unit").count() == 600
    page.mouse.wheel(0, 20_000)
    assert page.evaluate("window.scrollY") > 5_000
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    opened = ARTIFACTS / "test_a_60000_unit_first_plan_opened.png"
    page.screenshot(path=str(opened))
    print(f"\nscreenshot: {opened}")
    head.click()
    assert page.locator(".unit").count() == 0
    print(
        f"\n60k page: {plan.counts['created']} units, {len(plan.documents)} documents, "
        f"{size / 1e6:.1f} MB, loaded in {seconds:.2f} s, biggest document "
        f"({biggest.unit_count} units) drawn in {expand:.2f} s"
    )
    (ARTIFACTS / "page-60k.json").parent.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "page-60k.json").write_text(
        json.dumps({"units": plan.counts["created"], "bytes": size, "load_s": seconds}),
        encoding="utf-8",
    )
    assert seconds < 15


def test_the_proof_report_shows_the_units_and_links_the_plan_page(
    page: Page, tmp_path: Path
) -> None:
    """The proof page: verdict, evidence as tables (planned beside written), the units
    the plan drove; its link opens the plan's review page."""
    plan = edit_plan()
    plan_id = plan_hash(plan)
    review = write_plan_page(tmp_path, plan_to_dict(plan), plan_id)
    data = {
        "format": "iucut-proof/1",
        "verdict": "IUCUT_PROOF 1/1 ALL_PROOFS_PASS",
        "passed": True,
        "plan_hash": plan_id,
        "plan_page": review.name,
        "plan": plan_summary(plan, plan_id),
        "checks": [
            {
                "number": 5,
                "name": "full plan driven through the SQL functions in one transaction",
                "status": "PASS",
                "evidence": {
                    "run_id": "r-1",
                    "planned": {"created": 2, "revised": 2, "retired": 1},
                    "written": {"created": 2, "revised": 2, "retired": 1},
                },
            }
        ],
    }
    html = next(p for p in write_report(tmp_path, "proof", data) if p.suffix == ".html")
    open_page(page, html)
    assert page.locator(".verdict").inner_text() == "IUCUT_PROOF 1/1 ALL_PROOFS_PASS"
    grid = page.locator("table.ev.grid")
    assert grid.locator("tr").first.inner_text().split() == ["planned", "written"]
    assert grid.locator("tr", has_text="revised").inner_text().split() == ["revised", "2", "2"]
    assert "{" not in page.locator("table.checks").inner_text()
    units = page.locator("table.units").first
    assert "POLICY/A1" in units.inner_text() and "Article 3. Old" in units.inner_text()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "test_the_proof_report.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"\nscreenshot: {shot}")
    page.get_by_role("link", name="open the review page with every diff").click()
    page.wait_for_selector("#filters input")
    assert page.title() == f"iucut plan {plan_id[:12]}"
