"""Failures as a user meets them: each says what happened and what to do, with its
documented exit code, and never a traceback (issue #12, item 3)."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from conftest import iucut_command
from iucut.cut import DEFAULT_GLOB

SAMPLES = Path(__file__).resolve().parents[2] / "src" / "iucut" / "samples"
CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"
VN_LAWS = CORPORA / "vn-laws"
ON = {"IUCUT_EXECUTION": "enabled"}


def samples(tmp_path: Path) -> Path:
    """The two shipped samples, copied to ``tmp_path/docs``."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for sample in SAMPLES.glob("*.md"):
        shutil.copy(sample, docs / sample.name)
    return docs


def applied_samples(cli_env: Any, tmp_path: Path) -> Path:
    """The samples, applied to the test's database (paths relative to ``tmp_path``)."""
    docs = samples(tmp_path)
    done = cli_env.run("apply", str(docs), "--root", str(tmp_path), env=ON)
    assert done.returncode == 0, done.stderr
    return docs


def no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr


# -- rejected documents -----------------------------------------------------------------


def test_rejection_reason_is_printed_where_it_is_counted(cli_env: Any, tmp_path: Path) -> None:
    """A document whose code belongs to another document: plan and apply print why (stdout
    and the error), and --json carries it, instead of 'rejected (see above)'."""
    applied_samples(cli_env, tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(SAMPLES / "employee-handbook.md", other / "copy.md")
    why = "code ACME-HB already belongs to document docs/employee-handbook.md"
    where = ("--root", str(tmp_path))

    plan = cli_env.run("plan", str(other), *where)
    assert plan.returncode == 3, plan.stderr
    assert f"rejected: other/copy.md: {why}" in plan.stdout
    assert "see above" not in plan.stderr and why in plan.stderr

    apply = cli_env.run("apply", str(other), *where, env=ON)
    assert apply.returncode == 3, apply.stderr
    assert f"rejected: other/copy.md: {why}" in apply.stdout
    assert why in apply.stderr

    as_json = cli_env.run("plan", str(other), *where, "--json")
    assert as_json.returncode == 3
    assert why in as_json.stdout
    no_traceback(as_json)


# -- a database never migrated, roles never created ---------------------------------------

UNMIGRATED = [
    ("plan", "DOCS"),
    ("apply", "DOCS"),
    ("prove", "DOCS"),
    ("show", "ACME-HB"),
    ("history", "ACME-HB"),
    ("export", "ACME-HB"),
    ("freeze",),
    ("unfreeze",),
]


def test_unmigrated_schema_says_migrate(cli_env: Any, tmp_path: Path) -> None:
    """Every command that reads or writes the schema, on a schema never migrated: exit 28
    and one line naming the schema and `iucut migrate --roles`, no raw SQL error alone."""
    docs = samples(tmp_path)
    (tmp_path / "iucut.yaml").touch()  # a project: no note about a guessed root
    env = {**ON, "IUCUT_SCHEMA": "never_migrated"}
    for command in UNMIGRATED:
        args = [str(docs) if a == "DOCS" else a for a in command]
        proc = cli_env.run(*args, env=env)
        lines = proc.stderr.splitlines()
        assert proc.returncode == 28, (command, proc.stderr)
        assert len(lines) == 1, (command, proc.stderr)
        assert "schema never_migrated is not migrated" in lines[0], lines[0]
        assert "run `iucut migrate --roles`" in lines[0], lines[0]


def test_missing_apply_role_says_migrate_roles(cli_env: Any, tmp_path: Path) -> None:
    """Applying as a role that does not exist: exit 28, naming the role and the remedy."""
    docs = samples(tmp_path)
    proc = cli_env.run("apply", str(docs), env={**ON, "IUCUT_APPLY_ROLE": "no_such_cutter"})
    assert proc.returncode == 28, proc.stderr
    assert "role no_such_cutter does not exist" in proc.stderr
    assert "iucut migrate --roles" in proc.stderr
    no_traceback(proc)


# -- a driver not installed ---------------------------------------------------------------


def test_missing_psycopg2_is_one_line_with_the_pip_hint(cli_env: Any, tmp_path: Path) -> None:
    """--driver psycopg2 where psycopg2 cannot be imported: exit 13 and one line with the
    pip hint (an import shadow on PYTHONPATH makes it missing)."""
    shadow = tmp_path / "no-psycopg2"
    shadow.mkdir()
    (shadow / "psycopg2.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'psycopg2'\", name='psycopg2')\n"
    )
    proc = cli_env.run("--driver", "psycopg2", "show", "X", env={"PYTHONPATH": str(shadow)})
    assert proc.returncode == 13, proc.stderr
    assert proc.stderr.splitlines() == [
        "iucut: error: driver psycopg2 is not installed: pip install 'iucut[psycopg2]' "
        "(or use the default driver, psycopg 3)"
    ]


# -- a closed stdout pipe -----------------------------------------------------------------


def piped(cli_env: Any, args: list[str]) -> tuple[int, str, str]:
    """``iucut ARGS | head -1`` in a shell: (iucut's exit code, head's output, stderr)."""
    command = " ".join(f"'{a}'" for a in [*iucut_command(), *args])
    # as in a user's shell: with PYTHONUNBUFFERED (set where these tests run), a write cut
    # short by the closing reader returns a partial count that Python's text layer drops
    env = {k: v for k, v in cli_env.env.items() if k != "PYTHONUNBUFFERED"}
    proc = subprocess.run(
        ["bash", "-c", f"{command} | head -1; exit ${{PIPESTATUS[0]}}"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    return proc.returncode, proc.stdout, proc.stderr


def test_closed_stdout_is_a_quiet_exit(cli_env: Any, tmp_path: Path) -> None:
    """`cut --json | head -1` and `show | head -1` of a unit larger than a pipe buffer: exit
    141 (the shell's code for a broken pipe), nothing on stderr; `cut | head -1` too."""
    big = tmp_path / "big"
    big.mkdir()
    (big / "big.md").write_text("# Big\n\n" + "word " * 100_000 + "\n", encoding="utf-8")
    applied = cli_env.run("apply", str(big), "--root", str(tmp_path), env=ON)
    assert applied.returncode == 0, applied.stderr
    for args in (["cut", "--quiet", str(VN_LAWS), "--json"], ["show", "BIG.BIG/big"]):
        code, out, err = piped(cli_env, args)
        assert (code, err) == (141, ""), (args, code, err)
        assert out.count("\n") == 1
    # the document table may fit in the pipe's buffer before head leaves: 0 is as good
    code, out, err = piped(cli_env, ["cut", "--quiet", str(VN_LAWS)])
    assert code in (0, 141) and err == "", (code, err)


# -- Ctrl-C during apply ------------------------------------------------------------------


def test_interrupted_apply_lists_what_was_written(cli_env: Any, db: Any, tmp_path: Path) -> None:
    """SIGINT in the middle of an apply with stdout redirected to a file: the log lists the
    documents written (stderr too), exit 130, the run is finished 'failed' and marked
    interrupted in the database; the documents listed are exactly those stored."""
    corpus = tmp_path / "vn"
    shutil.copytree(VN_LAWS, corpus)
    log = tmp_path / "apply.log"
    # stderr to a file too: a pipe nobody reads until the end fills up with the corpus's
    # warnings (64 KiB) and stops the apply before it writes anything
    errors = tmp_path / "apply.err"
    with log.open("w") as out, errors.open("w") as error_file:
        proc = subprocess.Popen(
            [*iucut_command(), "apply", str(corpus), "--root", str(tmp_path)],
            stdout=out,
            stderr=error_file,
            text=True,
            env={**cli_env.env, **ON},
        )
        deadline = time.monotonic() + 120
        with db.connect(autocommit=True) as conn:
            while time.monotonic() < deadline and proc.poll() is None:
                n = conn.execute(f"SELECT count(*) AS n FROM {db.schema}.iu_document").scalar()
                if n >= 3:
                    break
                time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    err = errors.read_text()
    assert proc.returncode == 130, err
    with db.connect(autocommit=True) as conn:
        stored = {
            r["doc_path"]
            for r in conn.execute(f"SELECT doc_path FROM {db.schema}.iu_document").fetchall()
        }
        run = conn.execute(f"SELECT status, counts FROM {db.schema}.iu_run").fetchall()
    listed = re.findall(r"^(.*): written before the interrupt$", log.read_text(), re.MULTILINE)
    assert len(stored) >= 3 and set(listed) == stored
    on_stderr = re.findall(r"^iucut: written before the interrupt: (.*)$", err, re.MULTILINE)
    assert set(on_stderr) == stored
    assert "is marked interrupted" in err and "Traceback" not in err
    assert [(r["status"], r["counts"].get("interrupted")) for r in run] == [("failed", 1)]


# -- cut: warnings, --quiet, width -------------------------------------------------------


def test_cut_warnings_are_summed_up_and_quiet_silences_them(cli_offline: Any) -> None:
    """Hundreds of duplicate-code warnings become one line per kind with the first one;
    -v lists every one; --quiet prints none (and the results are the same)."""
    summary = cli_offline.run("cut", str(VN_LAWS))
    assert summary.returncode == 0, summary.stderr
    lines = summary.stderr.splitlines()
    assert len(lines) <= 4, lines
    dup = next(line for line in lines if "duplicate codes, first:" in line)
    count = int(re.search(r"warning: (\d+) duplicate codes", dup).group(1))  # type: ignore[union-attr]
    assert count > 200
    every = cli_offline.run("cut", "-v", str(VN_LAWS))
    assert every.stderr.count("duplicate code") == count
    quiet = cli_offline.run("cut", "--quiet", str(VN_LAWS))
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert quiet.stdout == summary.stdout


def test_cut_output_is_full_width_when_piped(cli_offline: Any, tmp_path: Path) -> None:
    """Piped (not a terminal), the tree's lines are not cut at 80 columns."""
    docs = samples(tmp_path)
    proc = cli_offline.run("cut", str(docs))
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if "/D5/K2  " in x)
    assert max(len(x) for x in proc.stdout.splitlines()) > 80
    assert "2. Mật khẩu phải có độ dài tối thiểu 12 ký tự, gồm chữ hoa, chữ thường, chữ" in line


def test_plan_lists_a_few_changes_per_document_and_counts_the_rest(
    cli_env: Any, tmp_path: Path
) -> None:
    """A first plan of a large document lists 20 changes and '… and N more changes';
    -v lists every one."""
    law = next(p for p in sorted(VN_LAWS.glob(DEFAULT_GLOB)) if p.stat().st_size > 60_000)
    plan = cli_env.run("plan", str(law), "--json")
    creates = sum(
        1 for d in json.loads(plan.stdout)["documents"] for c in d["changes"] if c["op"] == "create"
    )
    assert creates > 40
    text = cli_env.run("plan", str(law))
    assert text.returncode == 2, text.stderr
    assert sum(1 for x in text.stdout.splitlines() if x.startswith("  + ")) == 20
    assert f"  … and {creates - 20} more changes (-v lists every one)" in text.stdout
    verbose = cli_env.run("plan", str(law), "-v")
    assert sum(1 for x in verbose.stdout.splitlines() if x.startswith("  + ")) == creates


# -- history --diff --json, one exit code per condition -----------------------------------


def test_history_diff_json_is_json(cli_env: Any, tmp_path: Path) -> None:
    """history --diff A B --json prints one JSON document with both versions and the diff."""
    docs = applied_samples(cli_env, tmp_path)
    law = docs / "quy-che-bao-mat-thong-tin.md"
    law.write_text(law.read_text(encoding="utf-8").replace("12 ký tự", "14 ký tự"), "utf-8")
    again = cli_env.run("apply", str(docs), "--root", str(tmp_path), env=ON)
    assert again.returncode == 0, again.stderr
    proc = cli_env.run("history", "QC-BMTT/D5/K2", "--diff", "1", "2", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert (data["from"]["version"], data["to"]["version"], data["changed"]) == (1, 2, True)
    assert "-2. Mật khẩu phải có độ dài tối thiểu 12" in data["diff"]
    assert "+2. Mật khẩu phải có độ dài tối thiểu 14" in data["diff"]


def test_a_missing_path_is_the_same_exit_code_everywhere(cli_env: Any, tmp_path: Path) -> None:
    """cut, plan, apply and prove of a PATH that does not exist: exit 64, naming it."""
    missing = str(tmp_path / "nonexistent")
    for command in ("cut", "plan", "apply", "prove"):
        proc = cli_env.run(command, missing, env=ON)
        assert proc.returncode == 64, (command, proc.stderr)
        assert f"'{missing}' does not exist" in proc.stderr


def test_a_plan_file_that_is_not_json_is_bad_input(cli_env: Any, tmp_path: Path) -> None:
    """apply/prove --plan of a file that is not JSON: exit 27 naming the file and line,
    not 'stale' (7)."""
    junk = tmp_path / "plan.json"
    junk.write_text("these are\nnot the plans you are looking for\n")
    for command in ("apply", "prove"):
        proc = cli_env.run(command, "--plan", str(junk), env=ON)
        assert proc.returncode == 27, (command, proc.stderr)
        assert f"{junk}:1: not an iucut plan (not JSON" in proc.stderr
        no_traceback(proc)


def test_embedded_server_starts_in_a_home_with_a_space(cli_offline: Any, tmp_path: Path) -> None:
    """IUCUT_HOME with a space in it: the embedded server starts, migrates and stops."""
    home = tmp_path / "My iucut home"
    env = {"IUCUT_HOME": str(home)}
    try:
        started = cli_offline.run("db", "start", env=env, timeout=180)
        assert started.returncode == 0, started.stderr
        migrated = cli_offline.run("migrate", env=env)
        assert migrated.returncode == 0, migrated.stderr
    finally:
        cli_offline.run("db", "stop", env=env)


# -- show: near codes, times with their offset ------------------------------------------


def test_show_suggests_near_codes(cli_env: Any, tmp_path: Path) -> None:
    """show of a missing code: exit 14 and the nearest stored codes (in --json too); a
    mistyped namespace suggests the same code in the nearest namespace."""
    applied_samples(cli_env, tmp_path)
    proc = cli_env.run("show", "QC-BMTT/D5/K9")
    assert proc.returncode == 14
    assert "hint: did you mean QC-BMTT/D5/K3, QC-BMTT/D5/K2, QC-BMTT/D5/K1" in proc.stderr
    as_json = json.loads(cli_env.run("show", "QC-BMTT/D5/K9", "--json").stdout)
    assert as_json["context"]["suggestions"][:3] == [
        "QC-BMTT/D5/K3",
        "QC-BMTT/D5/K2",
        "QC-BMTT/D5/K1",
    ]
    typo = cli_env.run("history", "QC-BMTX/D5/K2")
    assert typo.returncode == 14
    assert "did you mean QC-BMTT/D5/K2," in typo.stderr


OFFSET_TIME = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[+-]\d\d:\d\d"


def test_times_carry_their_time_zone(cli_env: Any, tmp_path: Path) -> None:
    """show and history print times with their UTC offset; --json gives ISO 8601 with it."""
    applied_samples(cli_env, tmp_path)
    show = cli_env.run("show", "QC-BMTT/D5/K2")
    assert re.search(rf"^changed:  {OFFSET_TIME}$", show.stdout, re.MULTILINE), show.stdout
    history = cli_env.run("history", "QC-BMTT/D5/K2")
    assert re.search(rf"^  v1  {OFFSET_TIME}  ", history.stdout, re.MULTILINE), history.stdout
    data = json.loads(cli_env.run("history", "QC-BMTT/D5/K2", "--json").stdout)
    for stamp in (data["versions"][0]["created_at"], data["events"][0]["at"]):
        assert "T" in stamp and datetime.fromisoformat(stamp).utcoffset() is not None
