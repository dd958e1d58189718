"""``iucut plan`` as a reviewer runs it: word diffs of revised units, moves, creates and
retires with their text, --summary, --json and the plan file carrying the old text,
--report writing the review page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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

## Article 4. <script>alert(1)</script>

Hostile heading.
"""


def applied_then_edited(cli_env: Any, tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    folder.mkdir()
    doc = folder / "policy.md"
    doc.write_text(POLICY, encoding="utf-8")
    done = cli_env.run(
        "apply", str(folder), "--root", str(folder), env={"IUCUT_EXECUTION": "enabled"}
    )
    assert done.returncode == 0, done.stderr
    doc.write_text(EDITED, encoding="utf-8")
    return folder


def test_plan_shows_the_changed_words_of_each_revised_unit(cli_env: Any, tmp_path: Path) -> None:
    """Piped plan output: each revision as a word diff (whitespace drawn), the retire and
    the create with their text, no ANSI escape; exit 2."""
    folder = applied_then_edited(cli_env, tmp_path)
    res = cli_env.run("plan", str(folder), "--root", str(folder))
    assert res.returncode == 2, res.stderr
    out = res.stdout
    assert "  ~ POLICY/A1  Article 1. Encoding\n" in out
    assert "      Files are stored as UTF[-·-]{+-+}8.\n" in out
    assert "      Names are short.[-·-]\n" in out
    assert "  - POLICY/A3  Article 3. Old\n      Removed soon.\n" in out
    assert "  + POLICY/A4  Article 4. <script>alert(1)</script>\n      Hostile heading.\n" in out
    assert "\x1b[" not in out
    assert out.splitlines()[-1].startswith("plan ")


def test_plan_summary_prints_counts_per_document_only(cli_env: Any, tmp_path: Path) -> None:
    """--summary: one line per document and the totals, nothing per unit."""
    folder = applied_then_edited(cli_env, tmp_path)
    res = cli_env.run("plan", str(folder), "--root", str(folder), "--summary")
    assert res.returncode == 2, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "policy.md  [update]  +1 ~2 →0 ↺0 -1 =2"
    assert len(lines) == 2 and lines[1].startswith("plan ")


def test_plan_json_and_plan_file_carry_the_old_text(cli_env: Any, tmp_path: Path) -> None:
    """--json and -o carry each revised or retired unit's stored text, not a create's;
    the file's id is the one printed."""
    folder = applied_then_edited(cli_env, tmp_path)
    plan_file = tmp_path / "plan.json"
    res = cli_env.run("plan", str(folder), "--root", str(folder), "--json", "-o", str(plan_file))
    assert res.returncode == 2, res.stderr
    printed = json.loads(res.stdout)
    stored = json.loads(plan_file.read_bytes())
    for data in (printed, stored):
        changes = {c["code"]: c for c in data["documents"][0]["changes"]}
        assert "UTF 8" in changes["POLICY/A1"]["old"]["body"]
        assert "UTF-8" in changes["POLICY/A1"]["unit"]["body"]
        assert changes["POLICY/A3"]["old"]["body"].startswith("\nRemoved soon.")
        assert "old" not in changes["POLICY/A4"]
    assert printed["plan_id"] in res.stderr


def test_plan_report_writes_one_self_contained_page(cli_env: Any, tmp_path: Path) -> None:
    """--report DIR writes plan-<id>.html, naming it on stderr; no network resource,
    the hostile heading never raw in the page."""
    folder = applied_then_edited(cli_env, tmp_path)
    reports = tmp_path / "reports"
    res = cli_env.run("plan", str(folder), "--root", str(folder), "--report", str(reports))
    assert res.returncode == 2, res.stderr
    pages = list(reports.glob("plan-*.html"))
    assert len(pages) == 1 and str(pages[0]) in res.stderr
    page = pages[0].read_text(encoding="utf-8")
    assert "<script>alert(1)" not in page
    assert "src=" not in page and "https://" not in page and "http://" not in page
    assert "Files are stored as UTF" in page


def test_prove_report_links_the_plan_page_and_lists_the_units(cli_env: Any, tmp_path: Path) -> None:
    """prove --report writes the plan's review page beside the proof report; the proof
    page lists the units driven, shows evidence as tables and links to the plan page."""
    folder = applied_then_edited(cli_env, tmp_path)
    plan_file = tmp_path / "plan.json"
    assert (
        cli_env.run("plan", str(folder), "--root", str(folder), "-o", str(plan_file)).returncode
        == 2
    )
    reports = tmp_path / "reports"
    res = cli_env.run("prove", "--plan", str(plan_file), "--report", str(reports))
    assert res.returncode == 0, res.stdout + res.stderr
    proof = next(reports.glob("proof-*.html"))
    plan_page = next(reports.glob("plan-*.html"))
    assert proof.name[len("proof-") :] == plan_page.name[len("plan-") :]
    html = proof.read_text(encoding="utf-8")
    assert f'<a href="{plan_page.name}">open the review page with every diff</a>' in html
    assert "<code>POLICY/A1</code>" in html and "Article 3. Old" in html
    assert "<th>planned</th><th>written</th>" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert str(plan_page) in res.stderr


def test_a_saved_plan_is_reviewed_offline_as_it_was_planned(cli_env: Any, tmp_path: Path) -> None:
    """plan --plan FILE prints the same review with no database reachable; a file whose
    old text was edited is refused as a bad plan file (exit 27)."""
    folder = applied_then_edited(cli_env, tmp_path)
    plan_file = tmp_path / "plan.json"
    planned = cli_env.run("plan", str(folder), "--root", str(folder), "-o", str(plan_file))
    assert planned.returncode == 2, planned.stderr
    offline = {"IUCUT_DSN": "postgresql://nobody@127.0.0.1:1/none"}
    shown = cli_env.run("plan", "--plan", str(plan_file), env=offline)
    assert shown.returncode == 2, shown.stderr
    assert shown.stdout == planned.stdout
    assert "UTF[-·-]{+-+}8." in shown.stdout
    plan_file.write_text(
        plan_file.read_text(encoding="utf-8").replace("UTF 8", "UTF 9", 1), encoding="utf-8"
    )
    refused = cli_env.run("plan", "--plan", str(plan_file), env=offline)
    assert refused.returncode == 27, refused.stdout + refused.stderr
    assert "old text of POLICY/A1" in refused.stderr
