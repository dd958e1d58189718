"""Every kind of bad input gets a decision that is shown, on a real database.

Rejected: plan and apply exit 3 and name the file (line and byte where there is a
position); nothing of it is written, the good document beside it is. Warned: cut,
planned and written, the warning printed by plan and apply and listed in their JSON;
``--strict`` rejects it. Accepted: written, nothing said. Always one JSON document
per command and never a traceback. The kinds are in ``bad_inputs.py``.
"""

from __future__ import annotations

import json
import re

import pytest
from tests.cli.bad_inputs import CASES, Case, json_documents, run_case
from tests.conftest import iucut_command


def _about_bad(text: str, piece: str) -> list[str]:
    return [ln for ln in text.splitlines() if "docs/bad.md" in ln and piece in ln]


def test_the_table_has_at_least_35_kinds():
    """The table covers at least 35 kinds of bad input, each named once."""
    assert len(CASES) >= 35
    assert len({c.kind for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_bad_input_gets_a_decision_that_is_shown(cli_env, db, tmp_path, case: Case):
    """Plan and apply (text and JSON) show the case's decision; the database holds
    exactly what that decision allows."""
    conn = db.connect(autocommit=True)

    def written() -> list[str]:
        return [r["doc_path"] for r in conn.query("documents_active").fetchall()]

    out = run_case(iucut_command(), case, tmp_path, cli_env.env, written)
    runs = (out.plan, out.plan_json, out.apply_json)
    for run in runs:
        assert "Traceback" not in run.stderr, run.stderr
    assert json_documents(out.plan_json.stdout) == 1, out.plan_json.stdout[-500:]
    assert json_documents(out.apply_json.stdout) == 1, out.apply_json.stdout[-500:]
    plan_data = json.loads(out.plan_json.stdout)
    apply_data = json.loads(out.apply_json.stdout)
    assert "docs/good.md" in out.written
    rejected = {r["path"] for r in plan_data["rejected"]}
    warned = {w["path"] for w in plan_data["warnings"]}

    if case.decision == "rejected":
        assert (out.plan.returncode, out.plan_json.returncode) == (3, 3), out.plan.stderr
        assert out.apply_json.returncode == 3, out.apply_json.stderr
        assert "docs/bad.md" not in out.written
        assert "docs/bad.md" in rejected
        assert "docs/bad.md" in {r["path"] for r in apply_data["rejected"]}
        said = _about_bad(out.plan.stderr, case.message)
        assert said, out.plan.stderr
        if case.line is not None:
            assert re.search(rf"docs/bad\.md:{case.line}\b|line {case.line}\b", said[0]), said
        if case.byte is not None:
            assert f"byte {case.byte})" in said[0], said
        assert "1 other document written" in out.apply_json.stderr
    elif case.decision == "warned":
        assert (out.plan.returncode, out.apply_json.returncode) == (2, 0), out.plan.stderr
        assert "docs/bad.md" in out.written
        assert "docs/bad.md" in warned and not rejected
        assert "docs/bad.md" in {w["path"] for w in apply_data["warnings"]}
        said = _about_bad(out.plan.stderr, case.message)
        assert said and "warning" in said[0], out.plan.stderr
        if case.line is not None:
            assert f"line {case.line}" in said[0], said
        if case.byte is not None:
            assert f"byte {case.byte})" in said[0], said
        assert _about_bad(out.apply_json.stderr, case.message), out.apply_json.stderr
        strict = cli_env.run("plan", "--strict", "--root", str(tmp_path), str(tmp_path / "docs"))
        assert strict.returncode == 3, strict.stderr
        assert _about_bad(strict.stderr, "(--strict)"), strict.stderr
    else:
        assert (out.plan.returncode, out.apply_json.returncode) == (2, 0), out.plan.stderr
        assert "docs/bad.md" in out.written
        assert not rejected and "docs/bad.md" not in warned
        assert not _about_bad(out.plan.stderr, "warning"), out.plan.stderr


def test_oversized_document_is_refused_before_it_is_read(cli_env, tmp_path):
    """Over the size limit: refused up front with the limit named (the default, 64 MiB,
    by a sparse 65 MiB file, so nothing is cut or sent)."""
    big = tmp_path / "big.md"
    with big.open("wb") as f:
        f.write(b"# T\n")
        f.truncate(65 * 1024 * 1024)
    result = cli_env.run("plan", str(big), timeout=60)
    assert result.returncode == 3, result.stderr
    assert "over the limit of 67108864 bytes" in result.stderr
    assert "max_document_bytes" in result.stderr or "IUCUT_MAX_DOCUMENT_BYTES" in result.stderr
