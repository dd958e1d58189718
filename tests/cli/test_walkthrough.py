"""The write commands' refusals and exit codes, as a user meets them (a nested folder
with `--root`, both drivers, prune, freeze, stale plans, unwritable outputs).

The walkthrough itself (cut, plan, prove, apply refused then enabled, edit, plan, apply,
history, export, references, search) is the tour script `iucut/samples/tour.yaml`: run
by `iucut demo` (tests/cli/test_demo.py) and by tests/cli/test_readme_tour.py, which
checks every step's exit code and expectations and the README's transcript of it. Both
run on the embedded server; here the steps they share run on a new database of the
tests' server (IUCUT_TEST_DSN's when it is set, e.g. PostgreSQL 15)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import clean_environment
from iucut import tour
from iucut.demo import command_folder, copy_samples

LAW = """\
---
title: Luật mẫu
---

# LUẬT MẪU

Căn cứ Hiến pháp nước Cộng hòa xã hội chủ nghĩa Việt Nam;

## Chương I. NHỮNG QUY ĐỊNH CHUNG

### Điều 1. Phạm vi điều chỉnh

Luật này quy định về mẫu.

1. Cơ quan nhà nước thực hiện theo quy định.

2. Tổ chức, cá nhân có trách nhiệm phối hợp.

a) Báo cáo định kỳ;

b) Báo cáo đột xuất.

### Điều 2. Giải thích từ ngữ

Trong Luật này, các từ ngữ dưới đây được hiểu như sau:

1. Mẫu là văn bản dùng để thử.

## Chương II. ĐIỀU KHOẢN THI HÀNH

### Điều 3. Hiệu lực thi hành

Luật này có hiệu lực từ ngày ký.
"""

GUIDE = """\
# Guide

## Usage

Run the tool.

## Support

Ask the team.
"""


def source(tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    (folder / "laws").mkdir(parents=True)
    (folder / "laws" / "luat-mau.md").write_text(LAW, encoding="utf-8")
    (folder / "guide.md").write_text(GUIDE, encoding="utf-8")
    return folder


def run(cli_env: Any, *args: str, enabled: bool = False, **kw: Any) -> Any:
    env = {"IUCUT_EXECUTION": "enabled"} if enabled else {}
    env.update(kw.pop("env", {}))
    return cli_env.run(*args, env=env, **kw)


def table_counts(db: Any) -> dict[str, int]:
    with db.connect() as conn:
        row = conn.query("table_counts").fetchone()
        assert row is not None
        return dict(row)


def test_walkthrough_is_the_tour_script(empty_db: str, tmp_path: Path) -> None:
    """The tour's steps shared by the README and the demo, run as written on a new
    database of the tests' server (IUCUT_TEST_DSN's when set), each meet the script's
    exit code and expectations."""
    work = tmp_path / "work"
    copy_samples(work / "docs")
    env = clean_environment(tmp_path / "home")
    env.update(IUCUT_DSN=empty_db, PATH=f"{command_folder(tmp_path / 'bin')}:{env['PATH']}")
    steps = [s for s in (s for b in tour.load() for s in b) if s.only is None]
    assert steps[0].run.startswith("iucut init") and steps[-1].run.startswith("iucut search")
    outcomes = list(tour.run(steps, cwd=work, env=env))
    assert [o.step.run for o in outcomes] == [s.run for s in steps]
    unmet = [f"$ {o.step.run}\n{o.output}\n{o.problems}" for o in outcomes if not o.ok]
    assert not unmet, "\n".join(unmet)


def test_apply_refused_without_the_switch_opens_no_connection(
    cli_offline: Any, tmp_path: Path
) -> None:
    """Switch off: exit 5 with an unreachable database or none, and no server started."""
    folder = source(tmp_path)
    where = ("--root", str(folder))
    no_db = run(cli_offline, "apply", str(folder), *where)
    assert no_db.returncode == 5, no_db.stderr
    assert "kill-switch is off" in no_db.stderr
    assert not (cli_offline.home / "pg").exists()  # the embedded server was never touched
    env = {"IUCUT_DSN": "postgresql://nobody:s3cr3t@127.0.0.1:1/none?connect_timeout=1"}
    unreachable = run(cli_offline, "apply", str(folder), *where, env=env)
    assert unreachable.returncode == 5, unreachable.stderr  # not 8: never tried to connect
    assert "s3cr3t" not in unreachable.stderr + unreachable.stdout
    for word in ("Enabled", "true", "1", "yes"):
        typo = run(cli_offline, "apply", str(folder), *where, env={**env, "IUCUT_EXECUTION": word})
        assert typo.returncode == 5, (word, typo.stderr)
    as_json = run(cli_offline, "apply", str(folder), *where, "--json", env=env)
    assert as_json.returncode == 5
    assert json.loads(as_json.stdout)["exit_code"] == 5
    codes = cli_offline.run("exit-codes")
    assert any(
        line.split(None, 1)[0] == "5" and "kill-switch" in line
        for line in codes.stdout.splitlines()
    )


def test_apply_exit_code_3_for_a_rejected_document_while_others_are_written(
    cli_env: Any, db: Any, tmp_path: Path
) -> None:
    """An invalid UTF-8 file: named on stderr, exit 3, nothing of it written, others written."""
    folder = source(tmp_path)
    (folder / "broken.md").write_bytes(b"# Broken\n\nvalid \xc3\x28 invalid\n")
    result = run(cli_env, "apply", str(folder), "--root", str(folder), enabled=True)
    assert result.returncode == 3, result.stderr
    assert "broken.md" in result.stderr
    with db.connect() as conn:
        docs = conn.execute(f"SELECT doc_path FROM {db.schema}.iu_document ORDER BY 1").fetchall()
    assert docs == [{"doc_path": "guide.md"}, {"doc_path": "laws/luat-mau.md"}]


def test_frozen_database_refuses_apply_with_exit_6(cli_env: Any, db: Any, tmp_path: Path) -> None:
    """After `iucut freeze`, apply exits 6 and writes nothing; after unfreeze it applies."""
    folder = source(tmp_path)
    freeze = run(cli_env, "freeze", "--reason", "audit")
    assert freeze.returncode == 0, freeze.stderr
    result = run(cli_env, "apply", str(folder), "--root", str(folder), enabled=True)
    assert result.returncode == 6, result.stderr
    assert "frozen" in result.stderr
    assert table_counts(db)["iu_run"] == 0
    assert run(cli_env, "unfreeze").returncode == 0
    again = run(cli_env, "apply", str(folder), "--root", str(folder), enabled=True)
    assert again.returncode == 0, again.stderr
    assert table_counts(db)["iu_document"] == 2


def test_stale_plan_file_is_refused_with_exit_7(cli_env: Any, db: Any, tmp_path: Path) -> None:
    """apply --plan of a reviewed plan works once; a stale or foreign plan exits 7."""
    folder = source(tmp_path)
    plan_file = tmp_path / "plan.json"
    made = run(cli_env, "plan", str(folder), "--root", str(folder), "-o", str(plan_file))
    assert made.returncode == 2 and plan_file.is_file(), made.stderr
    ok = run(cli_env, "apply", "--plan", str(plan_file), enabled=True)
    assert ok.returncode == 0, ok.stderr
    again = run(cli_env, "apply", "--plan", str(plan_file), enabled=True)
    assert again.returncode == 7, again.stderr
    assert "plan again" in again.stderr
    data = json.loads(plan_file.read_bytes())
    data["fingerprint"]["database"] = "somewhere_else"
    plan_file.write_text(json.dumps(data), encoding="utf-8")
    foreign = run(cli_env, "apply", "--plan", str(plan_file), enabled=True)
    assert foreign.returncode == 7 and "another database" in foreign.stderr
    plan_file.write_text("[]", encoding="utf-8")
    junk = run(cli_env, "apply", "--plan", str(plan_file), enabled=True)
    assert junk.returncode == 27, junk.stderr
    assert table_counts(db)["iu_run"] == 1


@pytest.mark.parametrize("driver", ["psycopg", "psycopg2"])
def test_apply_and_export_with_each_driver(cli_env: Any, tmp_path: Path, driver: str) -> None:
    """--driver psycopg2 and psycopg give the same apply and the same export."""
    folder = source(tmp_path)
    result = run(
        cli_env,
        "--driver",
        driver,
        "apply",
        str(folder),
        "--root",
        str(folder),
        "--json",
        enabled=True,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["counts"]["created"] > 0 and data["run_id"]
    out = tmp_path / "guide.md"
    exported = run(cli_env, "--driver", driver, "export", "guide.md", "-o", str(out))
    assert exported.returncode == 0 and out.read_text(encoding="utf-8") == GUIDE
    again = run(
        cli_env,
        "--driver",
        driver,
        "apply",
        str(folder),
        "--root",
        str(folder),
        "--json",
        enabled=True,
    )
    assert json.loads(again.stdout)["run_id"] is None


def test_prune_then_export_refuses_the_retired_document(cli_env: Any, tmp_path: Path) -> None:
    """apply --prune retires a deleted file's document; export of it then fails (exit 14)."""
    folder = source(tmp_path)
    assert run(cli_env, "apply", str(folder), "--root", str(folder), enabled=True).returncode == 0
    (folder / "guide.md").unlink()
    plan = run(cli_env, "plan", str(folder), "--root", str(folder), "--prune")
    assert plan.returncode == 2 and "guide.md  [retire]" in plan.stdout
    pruned = run(cli_env, "apply", str(folder), "--root", str(folder), "--prune", enabled=True)
    assert pruned.returncode == 0, pruned.stderr
    gone = run(cli_env, "export", "guide.md")
    assert gone.returncode == 14 and "retired" in gone.stderr
    kept = run(cli_env, "export", "laws/luat-mau.md")
    assert kept.returncode == 0 and kept.stdout == LAW


def test_prune_of_a_folder_with_no_matching_file_is_refused(
    cli_env: Any, db: Any, tmp_path: Path
) -> None:
    """--prune on a folder where --glob finds nothing would retire every document under
    it: plan and apply refuse (exit 64) and nothing is retired; pruning the folder that
    held a removed folder still retires its documents."""
    folder = source(tmp_path)
    assert run(cli_env, "apply", str(folder), "--root", str(folder), enabled=True).returncode == 0
    wrong_glob = ("--root", str(folder), "--prune", "--glob", "**/*.txt")
    plan = run(cli_env, "plan", str(folder), *wrong_glob)
    assert plan.returncode == 64 and "would be retired" in plan.stderr, plan.stderr
    applied = run(cli_env, "apply", str(folder), *wrong_glob, enabled=True)
    assert applied.returncode == 64 and "nothing was done" in applied.stderr, applied.stderr
    empty = folder / "laws"
    (empty / "luat-mau.md").unlink()
    refused = run(cli_env, "apply", str(empty), "--root", str(folder), "--prune", enabled=True)
    assert refused.returncode == 64, refused.stderr
    with db.connect() as conn:
        active = conn.execute(
            f"SELECT count(*) AS n FROM {db.schema}.iu_document WHERE state = 'active'"
        ).scalar()
    assert active == 2  # nothing retired so far
    parent = run(cli_env, "apply", str(folder), "--root", str(folder), "--prune", enabled=True)
    assert parent.returncode == 0, parent.stderr
    gone = run(cli_env, "export", "laws/luat-mau.md")
    assert gone.returncode == 14 and "retired" in gone.stderr


def test_plan_export_and_report_outputs_that_cannot_be_written_exit_15(
    cli_env: Any, db: Any, tmp_path: Path
) -> None:
    """plan -o, export -o and prove --report into a missing or unwritable place: exit 15
    naming it, no traceback; nothing is written to the database by plan."""
    folder = source(tmp_path)
    missing = tmp_path / "no-such-folder" / "plan.json"
    plan = run(cli_env, "plan", str(folder), "--root", str(folder), "-o", str(missing))
    assert plan.returncode == 15, plan.stderr
    assert f"cannot write {missing}" in plan.stderr and "Traceback" not in plan.stderr
    assert table_counts(db)["iu_document"] == 0
    assert run(cli_env, "apply", str(folder), "--root", str(folder), enabled=True).returncode == 0
    export = run(cli_env, "export", "guide.md", "-o", str(missing))
    assert export.returncode == 15 and f"cannot write {missing}" in export.stderr
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    reports = blocker / "reports"  # under a file: the folder cannot be made
    proof = run(cli_env, "prove", str(folder), "--root", str(folder), "--report", str(reports))
    assert proof.returncode == 15, proof.stderr
    assert f"cannot write {reports}" in proof.stderr and "Traceback" not in proof.stderr
