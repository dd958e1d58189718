"""The report renderers: terminal, Markdown, JSON, HTML; secrets never reach any of them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from factory import make_unit
from iucut.report import (
    FORMATS,
    Check,
    Report,
    as_checks,
    render,
    render_checks,
    render_plan,
    verdict,
    write_report,
)
from iucut.units import Change, DocumentPlan, Fingerprint, Plan, Unit

PASSWORD = "s3cr#t-Pa55"  # with a "#", which stops the general URI pattern


def _checks() -> list[Check]:
    return [
        Check(1, "package", "PASS", "67/67 files OK"),
        Check(2, "database", "WARN", {"server": "15.4", "target": "host=db"}, hint="look"),
        Check(
            3,
            "schema",
            "FAIL",
            "checksum of 0001 changed",
            hint="restore it",
            details={"migrations": [1]},
        ),
    ]


def _secret_checks() -> list[Any]:
    return [
        Check(1, "uri", "PASS", f"postgresql://admin:{PASSWORD}@db.example:5432/kb"),
        Check(2, "kv", "FAIL", {"dsn": f"host=db user=admin password={PASSWORD} dbname=kb"}),
        Check(
            3,
            "key",
            "PASS",
            {"password": PASSWORD, "PGPASSWORD": PASSWORD},
            details={"nested": [{"db_password": PASSWORD}]},
        ),
        {
            "name": "mapping",
            "status": "WARN",
            "evidence": f"password = '{PASSWORD}'",
            "hint": f"connect with postgresql://u:{PASSWORD}@h/db",
        },
    ]


def test_terminal_one_line_per_check_and_verdict() -> None:
    """Terminal form: ``STATUS name — evidence`` per check, hints under non-passes, verdict."""
    checks = _checks()
    out = render_checks("doctor", checks, verdict("IUCUT_DOCTOR", checks), "terminal")
    lines = out.splitlines()
    assert lines[0] == "PASS  package — 67/67 files OK"
    assert lines[1] == "WARN  database — server=15.4, target=host=db"
    assert lines[2] == "      hint: look"
    assert lines[3] == "FAIL  schema — checksum of 0001 changed"
    assert lines[-1] == "IUCUT_DOCTOR 2/3 1_FAILED (1 WARN)"
    assert "\x1b[" not in out


def test_terminal_color_adds_ansi_styles() -> None:
    """With color on, statuses carry ANSI styles; the words stay the same."""
    out = render_checks("doctor", _checks(), "V", "terminal", color=True)
    assert "\x1b[" in out and "PASS" in out and "FAIL" in out


def test_verdict_all_pass() -> None:
    """The verdict line counts passes (WARN is not a failure) and names the outcome."""
    checks = [Check(1, "a", "PASS"), Check(2, "b", "WARN")]
    assert verdict("IUCUT_DOCTOR", checks) == "IUCUT_DOCTOR 2/2 ALL_CHECKS_PASS (1 WARN)"
    assert verdict("IUCUT_PROOF", checks[:1], "PROOFS") == "IUCUT_PROOF 1/1 ALL_PROOFS_PASS"


def test_markdown_table() -> None:
    """Markdown form: title, verdict, a table row per check, details as JSON blocks."""
    out = render_checks(
        "iucut doctor", _checks(), "IUCUT_DOCTOR 2/3", "md", facts={"target": "embedded"}
    )
    assert out.startswith("# iucut doctor\n")
    assert "**IUCUT_DOCTOR 2/3**" in out
    assert "- **target**: embedded" in out
    assert "| 1 | package | PASS | 67/67 files OK |" in out
    assert "| 3 | schema | FAIL | checksum of 0001 changed (hint: restore it) |" in out
    assert "### 3. schema" in out


def test_markdown_escapes_pipes() -> None:
    """A ``|`` in evidence does not break the table."""
    out = render_checks("t", [Check(1, "a|b", "PASS", "x | y")], None, "md")
    assert "| 1 | a\\|b | PASS | x \\| y |" in out


def test_json_round_trip() -> None:
    """JSON form: checks, counts, ok and the facts at the top level."""
    out = render_checks("t", _checks(), "V", "json", facts={"tool_version": "0.1.0"})
    data = json.loads(out)
    assert data["ok"] is False
    assert data["counts"] == {"PASS": 1, "WARN": 1, "FAIL": 1}
    assert data["tool_version"] == "0.1.0"
    assert [c["status"] for c in data["checks"]] == ["PASS", "WARN", "FAIL"]
    assert data["checks"][2]["details"] == {"migrations": [1]}


def test_html_is_escaped_and_standalone() -> None:
    """HTML form: a full page, markup in names and evidence escaped, no scripts."""
    checks = [Check(1, "<script>alert(1)</script>", "FAIL", {"x": "<b>&"})]
    out = render_checks("a <title>", checks, "V & W", "html")
    assert out.startswith("<!DOCTYPE html>")
    assert "<script>" not in out
    assert "&lt;script&gt;" in out and "&lt;b&gt;&amp;" in out
    assert "<title>a &lt;title&gt;</title>" in out
    assert 'class="FAIL"' in out


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_password_never_rendered(fmt: str) -> None:
    """A password in evidence, hints, details or facts appears in no format."""
    facts = {"target": f"postgresql://admin:{PASSWORD}@db/kb", "password": PASSWORD}
    out = render_checks("t", _secret_checks(), "V", fmt, facts=facts)
    assert PASSWORD not in out
    assert "***" in out
    if fmt == "json":
        json.loads(out)


def test_known_secret_masked_verbatim() -> None:
    """A secret the caller names is masked even where no pattern would find it."""
    report = Report(
        "t", as_checks([Check(1, "a", "PASS", f"token {PASSWORD} here")]), secrets=(PASSWORD,)
    )
    for fmt in FORMATS:
        assert PASSWORD not in render(report, fmt)


def test_status_words_not_mistaken_for_secrets() -> None:
    """Keys such as PASS (a status count) are not masked as passwords."""
    data = json.loads(render_checks("t", [Check(1, "a", "PASS")], "V", "json"))
    assert data["counts"]["PASS"] == 1


def test_objects_with_check_attributes() -> None:
    """Any object with number/name/status/evidence renders (e.g. the proof's checks)."""

    @dataclass
    class Other:
        number: int
        name: str
        status: str
        evidence: dict[str, Any] = field(default_factory=dict)

    out = render_checks("t", [Other(7, "kill-switch", "PASS", {"after": False})], "V")
    assert out.splitlines()[0] == "PASS  kill-switch — after=false"


def test_invalid_status_refused() -> None:
    """A check status outside PASS/WARN/FAIL is a programming error."""
    with pytest.raises(ValueError):
        Check(1, "a", "OK")


def test_write_report_proof_mapping(tmp_path: Path) -> None:
    """write_report writes .md/.json/.html; a proof mapping keeps its keys on top."""
    data = {
        "format": "iucut-proof/1",
        "verdict": "IUCUT_PROOF 1/1 ALL_PROOFS_PASS",
        "passed": True,
        "plan_hash": "ab" * 32,
        "fingerprint": {"database": "kb", "dsn": f"postgresql://u:{PASSWORD}@h/kb"},
        "checks": [
            {
                "number": 1,
                "name": "kill-switch",
                "status": "PASS",
                "evidence": {"execution_enabled": False},
            }
        ],
    }
    paths = write_report(tmp_path / "reports", "proof-abc", data)
    assert [p.name for p in paths] == ["proof-abc.md", "proof-abc.json", "proof-abc.html"]
    loaded = json.loads(paths[1].read_text())
    assert loaded["format"] == "iucut-proof/1"
    assert loaded["passed"] is True and loaded["plan_hash"] == "ab" * 32
    assert "# iucut rollback-only proof" in paths[0].read_text()
    for p in paths:
        assert PASSWORD not in p.read_text()


def _plan() -> Plan:
    def unit(code: str, title: str) -> Unit:
        return make_unit(
            code,
            parent=None,
            kind="article",
            label="1",
            depth=1,
            heading=f"## {title}\n",
            title=title,
            byte_end=10,
        )

    doc = DocumentPlan(
        "a.md",
        "NS",
        "h",
        None,
        "create",
        10,
        2,
        (
            Change("create", "NS/D1", None, unit("NS/D1", "Điều 1")),
            Change("revise", "NS/D2", 1, unit("NS/D2", "Điều 2"), old_hash="o"),
        ),
        0,
    )
    return Plan(Fingerprint("1", "kb", "public", 1), (doc,), "0.1.0")


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_render_plan(fmt: str) -> None:
    """A plan summary renders in every format with its counts and changed codes."""
    out = render_plan(_plan(), fmt, plan_id="f" * 64)
    assert "NS/D1" in out and "NS/D2" in out
    assert "+1 ~1" in out
    if fmt == "json":
        assert json.loads(out)["plan"]["counts"]["created"] == 1
