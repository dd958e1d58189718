"""`iucut search` as a user runs it: ranked hits with snippets, --json, filters, and the
exit codes of no match (33) and of a query without words (32)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

SAMPLES = Path(__file__).resolve().parents[2] / "src" / "iucut" / "samples"

pytestmark = pytest.mark.db


@pytest.fixture
def applied(cli_env: Any, tmp_path: Path) -> Any:
    """The bundled samples applied to the test's database through the CLI."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for sample in sorted(SAMPLES.glob("*.md")):
        (docs / sample.name).write_bytes(sample.read_bytes())
    (tmp_path / "iucut.yaml").touch()
    result = cli_env.run("apply", str(docs), env={"IUCUT_EXECUTION": "enabled"})
    assert result.returncode == 0, result.stderr
    return cli_env


def test_search_prints_code_title_and_marked_snippet(applied: Any) -> None:
    """Text output: the code and title, then the snippet with the matches in **bold**."""
    result = applied.run("search", "mat khau", "--limit", "2")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "QC-BMTT/D5  Điều 5. Quản lý tài khoản và mật khẩu"
    assert lines[1].startswith("    ") and "**mật** **khẩu**" in lines[1]
    assert len(lines) == 4 and lines[2].startswith("QC-BMTT/D5/K2  ")


def test_search_json_and_filters(applied: Any) -> None:
    """--json gives every hit's fields; --namespace and --kind narrow them."""
    result = applied.run("search", "mật khẩu", "--kind", "clause", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["query"] == "mật khẩu" and data["count"] == len(data["hits"]) >= 1
    hit = data["hits"][0]
    assert {h["kind"] for h in data["hits"]} == {"clause"}
    assert set(hit) == {
        "code", "namespace", "doc_path", "kind", "label", "version", "title", "rank", "snippet"
    }  # fmt: skip
    other = applied.run("search", "mật khẩu", "--namespace", "ACME-HB", "--json")
    assert other.returncode == 33 and json.loads(other.stdout)["hits"] == []


def test_no_match_exits_33_and_a_query_without_words_32(applied: Any) -> None:
    """Nothing found: exit 33 with a line on stderr; only punctuation: exit 32, a clear
    error naming the query, no traceback."""
    none = applied.run("search", "zebra")
    assert none.returncode == 33 and none.stdout == ""
    assert "no unit matches 'zebra'" in none.stderr
    empty = applied.run("search", "?! --")
    assert empty.returncode == 32, empty.stderr
    assert "has no words to search for" in empty.stderr and "Traceback" not in empty.stderr
    bad = applied.run("search", "x", "--limit", "0")
    assert bad.returncode == 64


def test_search_help_names_the_syntax(cli_offline: Any) -> None:
    """--help explains the query syntax and the options."""
    result = cli_offline.run("search", "--help")
    assert result.returncode == 0
    for word in ("--namespace", "--kind", "--limit", "--json", "mat khau", "Exit 33"):
        assert word in result.stdout
