"""Crashes found by the red team (issue #11): each fails on the code before the fix.

apply --json lost its result to an AttributeError when a document was rejected;
plan --json printed two JSON documents on a rejection; IUCUT_APPLY_ROLE errors ended
in a traceback; a namespace clash said "the others were written" when nothing was;
an unexpected error printed a traceback (whose text may hold a password).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli.bad_inputs import GOOD, json_documents


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    """A folder with a good document and one that cannot be cut (invalid UTF-8)."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.md").write_bytes(GOOD)
    (folder / "bad.md").write_bytes(b"# T\n\nab\xfecd\n")
    return folder


def test_apply_json_with_a_rejected_document_prints_its_result(cli_env, docs):
    """apply --json with a rejected document: exit 3 and one JSON document listing the
    written document and the rejected one (not an AttributeError and exit 1)."""
    result = cli_env.run("apply", "--json", str(docs), env={"IUCUT_EXECUTION": "enabled"})
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    assert json_documents(result.stdout) == 1
    data = json.loads(result.stdout)
    assert [d["status"] for d in data["documents"]] == ["applied"]
    assert [r["path"] for r in data["rejected"]] == ["bad.md"]
    assert "invalid UTF-8" in data["rejected"][0]["message"]
    assert "1 other document written" in result.stderr


def test_plan_json_with_a_rejection_prints_one_json_document(cli_env, docs):
    """plan --json with a rejected document: exit 3 and exactly one JSON document (the
    plan, listing the rejection), not the plan followed by an error document."""
    result = cli_env.run("plan", "--json", str(docs))
    assert result.returncode == 3, result.stderr
    assert json_documents(result.stdout) == 1, result.stdout[-300:]
    data = json.loads(result.stdout)
    assert [r["path"] for r in data["rejected"]] == ["bad.md"]
    assert data["plan_id"]


def test_namespace_clash_says_nothing_was_written(cli_env, db, tmp_path):
    """Two documents sharing a namespace and nothing else: both rejected, and apply says
    that nothing was written (it used to say "the others were written")."""
    folder = tmp_path / "clash"
    folder.mkdir()
    for name in ("a.md", "b.md"):
        (folder / name).write_text(f"---\niu_namespace: SAME\n---\n# {name}\n", encoding="utf-8")
    result = cli_env.run("apply", str(folder), env={"IUCUT_EXECUTION": "enabled"})
    assert result.returncode == 3, result.stderr
    assert "nothing was written" in result.stderr
    assert "others were written" not in result.stderr
    assert "namespace SAME is also the namespace of" in result.stderr  # said, not just counted
    conn = db.connect(autocommit=True)
    assert conn.query("documents_active").fetchall() == []


def test_apply_role_with_a_bad_connection_string_is_an_error_not_a_traceback(cli_offline):
    """IUCUT_APPLY_ROLE with a connection string libpq cannot parse: exit 13 and a
    message (it used to end in a psycopg ProgrammingError traceback)."""
    env = {
        "IUCUT_DSN": "host=127.0.0.1 port=1 password=two words",
        "IUCUT_APPLY_ROLE": "cutter_exec",
        "IUCUT_EXECUTION": "enabled",
    }
    for args in (("apply", "."), ("prove", "."), ("apply", "--json", ".")):
        result = cli_offline.run(*args, env=env)
        assert result.returncode == 13, result.stderr
        assert "Traceback" not in result.stderr
        assert "IUCUT_DSN" in result.stderr + result.stdout
        if "--json" in args:
            assert json.loads(result.stdout)["exit_code"] == 13


def test_an_unexpected_error_is_a_message_without_traceback(monkeypatch, capsys):
    """A bug (any exception) ends in 'internal error' and exit 1, no traceback, the
    password of the target masked; --json gives one JSON document."""
    from iucut import cli as cli_mod
    from iucut.db import target

    secret = "Hz4 9#kQ@w"
    monkeypatch.setattr(target, "_KNOWN", set())

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"cannot use postgresql://u:{secret}@h/db")

    monkeypatch.setattr(cli_mod, "load_settings", boom)
    monkeypatch.delenv("IUCUT_DEBUG", raising=False)
    for args in (["--dsn", f"postgresql://u:{secret}@h/db", "status"], ["status", "--json"]):
        with pytest.raises(SystemExit) as exit_info:
            cli_mod.main(args)
        assert exit_info.value.code == 1
        out = capsys.readouterr()
        assert "Traceback" not in out.err and "internal error" in out.out + out.err
        assert secret not in out.out + out.err
        if "--json" in args:
            assert json_documents(out.out) == 1
            assert json.loads(out.out)["error"] == "InternalError"
