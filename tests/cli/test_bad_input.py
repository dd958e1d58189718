"""Every kind of bad input gets a decision that is shown, on a real database.

Rejected: plan and apply exit 3 and name the file (line and byte where there is a
position); nothing of it is written, the documents beside it are. Warned: cut,
planned and written, the warning printed by plan and apply and listed in their JSON;
``--strict`` rejects it. Accepted: written, nothing said. Always one JSON document
per command and never a traceback. The kinds are in ``bad_inputs.py``; the whole
table is planned and applied at once (each kind in its own folder, a good document in
another), as a user would run it on a folder holding them all.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.cli.bad_inputs import CASES, GOOD, Case, json_documents
from tests.conftest import TEST_SCHEMA, clean_environment, iucut_command

from iucut.db.queries import Ident
from iucut.db.target import with_database


@dataclass
class TableRun:
    """The outputs of one group of cases (same environment): plan, plan --json,
    apply --json, plan --strict, and the document paths stored afterwards."""

    plan: subprocess.CompletedProcess[str]
    plan_json: subprocess.CompletedProcess[str]
    apply_json: subprocess.CompletedProcess[str]
    strict: subprocess.CompletedProcess[str]
    written: set[str]


def folder(case: Case) -> str:
    return f"k{CASES.index(case):02d}"


@pytest.fixture(scope="module")
def table(pg_server, pg_template, tmp_path_factory) -> Iterator[dict[str, TableRun]]:
    """Each group of cases (by environment) cut, planned and applied on its own database."""
    groups: dict[str, list[Case]] = {}
    for case in CASES:
        groups.setdefault(json.dumps(case.env, sort_keys=True), []).append(case)
    runs: dict[str, TableRun] = {}
    names: list[str] = []
    try:
        for key, cases in groups.items():
            name = f"iucut_bad_{os.getpid()}_{secrets.token_hex(3)}"
            names.append(name)
            with pg_server.admin() as admin:
                admin.execute(f"CREATE DATABASE {name} TEMPLATE {pg_template}")
            dsn = with_database(pg_server.dsn, name)
            root = tmp_path_factory.mktemp("bad-input")
            for case in cases:
                (root / folder(case)).mkdir()
                (root / folder(case) / "bad.md").write_bytes(case.data)
                for extra, data in case.extra.items():
                    (root / folder(case) / extra).write_bytes(data)
            (root / "good").mkdir()
            (root / "good" / "good.md").write_bytes(GOOD)
            env = clean_environment(root / ".home")
            env.update(IUCUT_DSN=dsn, IUCUT_SCHEMA=TEST_SCHEMA, IUCUT_EXECUTION="enabled")
            env.update(json.loads(key))

            def run(*args: str, root: Path = root, env: dict[str, str] = env) -> Any:
                return subprocess.run(
                    [*iucut_command(), *args, "."],
                    cwd=root,
                    env=env,
                    text=True,
                    capture_output=True,
                    timeout=600,
                    check=False,
                )

            plan, plan_json = run("plan"), run("plan", "--json")
            strict = run("plan", "--strict")
            apply_json = run("apply", "--json")
            with pg_server.admin(name) as conn:
                rows = conn.query("documents_active", schema=Ident(TEST_SCHEMA)).fetchall()
            written = {r["doc_path"] for r in rows}
            for case in cases:
                runs[case.kind] = TableRun(plan, plan_json, apply_json, strict, written)
        yield runs
    finally:
        with pg_server.admin() as admin:
            for name in names:
                admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _about(text: str, path: str, piece: str) -> list[str]:
    return [ln for ln in text.splitlines() if path in ln and piece in ln]


def test_the_table_has_at_least_35_kinds():
    """The table covers at least 35 kinds of bad input, each named once."""
    assert len(CASES) >= 35
    assert len({c.kind for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_bad_input_gets_a_decision_that_is_shown(table, case: Case):
    """Plan and apply (text and JSON) and plan --strict show the case's decision; the
    database holds exactly what that decision allows, and the good document."""
    out = table[case.kind]
    path = f"{folder(case)}/bad.md"
    for run in (out.plan, out.plan_json, out.apply_json, out.strict):
        assert "Traceback" not in run.stderr, run.stderr
        assert run.returncode in (2, 3), run.stderr  # changes, or rejections
    assert json_documents(out.plan_json.stdout) == 1
    assert json_documents(out.apply_json.stdout) == 1
    plan_data = json.loads(out.plan_json.stdout)
    apply_data = json.loads(out.apply_json.stdout)
    assert "good/good.md" in out.written
    rejected = {r["path"] for r in plan_data["rejected"]}
    warned = {w["path"] for w in plan_data["warnings"]}
    strict_rejected = _about(out.strict.stderr + out.strict.stdout, path, "rejected")

    if case.decision == "rejected":
        assert path not in out.written
        assert path in rejected
        assert path in {r["path"] for r in apply_data["rejected"]}
        said = _about(out.plan.stderr + out.plan.stdout, path, case.message)
        assert said and "rejected" in said[0], out.plan.stderr + out.plan.stdout
        if case.line is not None:
            assert re.search(rf"{path}:{case.line}\b|line {case.line}\b", said[0]), said
        if case.byte is not None:
            assert f"byte {case.byte})" in said[0], said
        assert _about(out.apply_json.stderr, path, case.message), out.apply_json.stderr
        assert strict_rejected
    elif case.decision == "warned":
        assert path in out.written
        assert path in warned and path not in rejected
        assert path in {w["path"] for w in apply_data["warnings"]}
        said = _about(out.plan.stderr, path, case.message)
        assert said and "warning" in said[0], out.plan.stderr
        if case.line is not None:
            assert f"line {case.line}" in said[0], said
        if case.byte is not None:
            assert f"byte {case.byte})" in said[0], said
        assert _about(out.apply_json.stderr, path, case.message), out.apply_json.stderr
        assert strict_rejected and "(--strict)" in strict_rejected[0], out.strict.stderr
    else:
        assert path in out.written
        assert path not in rejected and path not in warned
        assert not _about(out.plan.stderr, path, "warning"), out.plan.stderr
        assert not strict_rejected


def test_the_runs_say_what_was_written(table):
    """Plan and apply exit 3 when any document is rejected and say so once; apply's
    closing line counts the documents written beside the rejected ones."""
    out = table[CASES[0].kind]
    assert (out.plan.returncode, out.plan_json.returncode, out.apply_json.returncode) == (3, 3, 3)
    m = re.search(
        r"(\d+) documents? rejected; (\d+) other documents? written", out.apply_json.stderr
    )
    assert m is not None, out.apply_json.stderr
    assert int(m.group(2)) == len(out.written)


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
    assert "max_document_bytes" in result.stderr
