"""Document identity as a user meets it: one path and namespace for a file whatever the
working folder or path form (CLI and library alike), iucut init, --root/IUCUT_ROOT, the
duplicate warning of plan, iucut retire, export path forms, and the paths iucut refuses
or passes over (links out of the root, .., dangling links, loops, FIFOs, folders,
non-Markdown files, its own reports)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import CliEnv, iucut_command

from iucut.cut import cut_paths
from iucut.units import CutDocument

LAW = b"""# Verordnung

## \xc2\xa7 1 Zweck

Diese Verordnung regelt die Meldung.

## \xc2\xa7 2 Pflichten

(1) Wer meldet, meldet.

(2) Wer nicht meldet, meldet nicht.
"""
ENABLED = {"IUCUT_EXECUTION": "enabled", "IUCUT_APPLY_ROLE": "cutter_exec"}


def iucut(
    cli: CliEnv, cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``iucut ARGS`` from the working folder ``cwd``."""
    return subprocess.run(
        [*iucut_command(), *args],
        cwd=cwd,
        text=True,
        capture_output=True,
        env={**cli.env, **(env or {})},
        timeout=120,
        check=False,
    )


def project(tmp_path: Path, *, init: bool = True) -> Path:
    """A project folder with ``laws/de/meldv.md`` (and its iucut.yaml when ``init``)."""
    top = tmp_path / "proj"
    (top / "laws" / "de").mkdir(parents=True)
    (top / "laws" / "de" / "meldv.md").write_bytes(LAW)
    if init:
        (top / "iucut.yaml").write_text("# the project root\n", encoding="utf-8")
    return top


def identities(result: subprocess.CompletedProcess[str]) -> set[tuple[str, str]]:
    """(doc_path, namespace) of every row ``cut --json`` printed."""
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    return {(r["doc_path"], r["namespace"]) for r in rows}


def documents(db: Any) -> list[tuple[str, str, str]]:
    """(doc_path, namespace, state) of every stored document."""
    with db.connect() as conn:
        rows = conn.execute(
            f"SELECT doc_path, namespace, state FROM {db.schema}.iu_document ORDER BY doc_path"
        ).fetchall()
    return [(r["doc_path"], r["namespace"], r["state"]) for r in rows]


def test_one_identity_from_any_working_folder_and_the_library(
    cli_offline: CliEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same file cut from three working folders, as a folder, a file, an absolute
    path and through '..', and by cut_paths, has one path and one namespace."""
    top = project(tmp_path)
    law = top / "laws" / "de" / "meldv.md"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    runs = [
        iucut(cli_offline, top, "cut", "--json", "laws/de"),
        iucut(cli_offline, top / "laws", "cut", "--json", "de"),
        iucut(cli_offline, top / "laws" / "de", "cut", "--json", "meldv.md"),
        iucut(cli_offline, elsewhere, "cut", "--json", str(law)),
        iucut(cli_offline, elsewhere, "cut", "--json", "../proj/laws/../laws/de"),
    ]
    want = {("laws/de/meldv.md", "LAWS.DE.MELDV")}
    for run in runs:
        assert identities(run) == want
        assert "note" not in run.stderr  # a declared root: nothing to say
    for cwd, given in ((top / "laws", "de"), (elsewhere, str(law)), (top, ".")):
        monkeypatch.chdir(cwd)
        docs = [d for d in cut_paths([given]) if isinstance(d, CutDocument)]
        assert {(d.path, d.namespace) for d in docs} == want


def test_apply_from_two_folders_stores_the_document_once(
    cli_env: CliEnv, db: Any, tmp_path: Path
) -> None:
    """Applied from the project's top and from the file's own folder, a document is
    stored once; a plan from a third folder finds nothing to do (exit 0)."""
    top = project(tmp_path)
    first = iucut(cli_env, top, "apply", "laws", env=ENABLED)
    assert first.returncode == 0, first.stderr
    again = iucut(cli_env, top / "laws" / "de", "apply", "meldv.md", env=ENABLED)
    assert again.returncode == 0, again.stderr
    assert "1 unchanged" in again.stdout
    assert documents(db) == [("laws/de/meldv.md", "LAWS.DE.MELDV", "active")]
    planned = iucut(cli_env, tmp_path, "plan", str(top / "laws" / "de" / "meldv.md"))
    assert planned.returncode == 0, planned.stdout + planned.stderr


def test_init_root_flag_and_variable(cli_offline: CliEnv, tmp_path: Path) -> None:
    """iucut init makes a folder the root (once: a second init is exit 21); --root and
    IUCUT_ROOT override it; with no root declared the folder taken is said once."""
    top = project(tmp_path, init=False)
    guessed = iucut(cli_offline, top, "cut", "--json", "laws/de")
    assert identities(guessed) == {("meldv.md", "MELDV")}
    notes = [line for line in guessed.stderr.splitlines() if "note" in line]
    assert len(notes) == 1 and str(top / "laws" / "de") in notes[0] and "iucut init" in notes[0]

    made = iucut(cli_offline, top / "laws", "init", "..")
    assert made.returncode == 0, made.stderr
    assert (top / "iucut.yaml").is_file()
    assert iucut(cli_offline, top, "init").returncode == 21
    assert identities(iucut(cli_offline, top, "cut", "--json", "laws/de")) == {
        ("laws/de/meldv.md", "LAWS.DE.MELDV")
    }
    flag = iucut(cli_offline, tmp_path, "cut", "--json", "--root", str(top / "laws"), str(top))
    assert identities(flag) == {("de/meldv.md", "DE.MELDV")}
    variable = iucut(
        cli_offline, tmp_path, "cut", "--json", str(top), env={"IUCUT_ROOT": str(top / "laws")}
    )
    assert identities(variable) == {("de/meldv.md", "DE.MELDV")}


def test_plan_warns_about_a_new_document_with_the_bytes_of_a_stored_one(
    cli_env: CliEnv, tmp_path: Path
) -> None:
    """A new document with the exact bytes of a stored document at another path is
    named in a warning with the stored one and the fix, on stderr and in --json."""
    top = project(tmp_path)
    assert iucut(cli_env, top, "apply", "laws", env=ENABLED).returncode == 0
    copy = top / "archive" / "meldv-copy.md"
    copy.parent.mkdir()
    copy.write_bytes(LAW)
    planned = iucut(cli_env, top, "plan", "archive")
    assert planned.returncode == 2, planned.stderr
    warning = next(line for line in planned.stderr.splitlines() if "warning" in line)
    assert "archive/meldv-copy.md" in warning and "laws/de/meldv.md" in warning
    assert "exact bytes" in warning and "iucut retire laws/de/meldv.md" in warning
    as_json = json.loads(iucut(cli_env, top, "plan", "--json", "archive").stdout)
    assert any("laws/de/meldv.md" in w["warning"] for w in as_json["warnings"])
    same = iucut(cli_env, top, "plan", "laws")
    assert "warning" not in same.stderr


def test_a_moved_document_with_its_own_namespace_is_told_what_works(
    cli_env: CliEnv, tmp_path: Path
) -> None:
    """A document with a namespace of its own (front matter iu_namespace) moved to another
    folder is rejected (its codes stay with the stored document); the warning does not
    send the user to `iucut retire`, which frees no code: after a retire the move is
    rejected the same way. It says to keep the path or give the copy its own namespace."""
    top = project(tmp_path)
    law = top / "laws" / "de" / "meldv.md"
    law.write_bytes(b"---\niu_namespace: MELDV\n---\n" + LAW)
    assert iucut(cli_env, top, "apply", "laws", env=ENABLED).returncode == 0
    moved = top / "archive" / "meldv.md"
    moved.parent.mkdir()
    law.rename(moved)
    for _ in range(2):
        planned = iucut(cli_env, top, "plan", "archive")
        assert planned.returncode == 3, planned.stderr
        assert "code MELDV already belongs to document laws/de/meldv.md" in planned.stderr
        warning = next(line for line in planned.stderr.splitlines() if "warning" in line)
        assert "archive/meldv.md" in warning and "namespace MELDV" in warning
        assert "iucut retire" not in warning
        assert "keep it at laws/de/meldv.md" in warning and "its own namespace" in warning
        retired = iucut(cli_env, top, "retire", "laws/de/meldv.md", env=ENABLED)
        assert retired.returncode == 0, retired.stderr


def test_retire_is_gated_planned_and_written(cli_env: CliEnv, db: Any, tmp_path: Path) -> None:
    """iucut retire: refused while the kill-switch is off (exit 5) or writes are frozen
    (exit 6), nothing changes; --dry-run and -o plan only; the plan applies with
    apply --plan; enabled, by path or namespace, the document is retired."""
    top = project(tmp_path)
    assert iucut(cli_env, top, "apply", "laws", env=ENABLED).returncode == 0
    law = str(top / "laws" / "de" / "meldv.md")
    refused = iucut(cli_env, tmp_path, "retire", law)
    assert refused.returncode == 5, refused.stderr
    dry = iucut(cli_env, tmp_path, "retire", "--dry-run", law)
    assert dry.returncode == 2, dry.stderr
    assert "laws/de/meldv.md  [retire]" in dry.stdout and "- LAWS.DE.MELDV/" in dry.stdout
    plan_file = tmp_path / "retire.json"
    planned = iucut(cli_env, tmp_path, "retire", "LAWS.DE.MELDV", "-o", str(plan_file))
    assert planned.returncode == 2 and plan_file.is_file()
    assert iucut(cli_env, tmp_path, "freeze", "--reason", "test").returncode == 0
    frozen = iucut(cli_env, tmp_path, "retire", "LAWS.DE.MELDV", env=ENABLED)
    assert frozen.returncode == 6, frozen.stderr
    assert iucut(cli_env, tmp_path, "unfreeze").returncode == 0
    assert documents(db) == [("laws/de/meldv.md", "LAWS.DE.MELDV", "active")]

    applied = iucut(cli_env, tmp_path, "apply", "--plan", str(plan_file), env=ENABLED)
    assert applied.returncode == 0, applied.stderr
    assert documents(db) == [("laws/de/meldv.md", "LAWS.DE.MELDV", "retired")]
    gone = iucut(cli_env, top, "export", "laws/de/meldv.md")
    assert gone.returncode == 14 and "retired" in gone.stderr
    again = iucut(cli_env, top, "retire", "LAWS.DE.MELDV", env=ENABLED)
    assert again.returncode == 0 and "already retired" in again.stdout
    missing = iucut(cli_env, top, "retire", "NO.SUCH", env=ENABLED)
    assert missing.returncode == 14, missing.stderr


def test_export_takes_every_path_form_plan_takes(cli_env: CliEnv, tmp_path: Path) -> None:
    """export by a path relative to any working folder, absolute, through '..', or by
    namespace gives the stored document byte for byte."""
    top = project(tmp_path)
    law = top / "laws" / "de" / "meldv.md"
    assert iucut(cli_env, top / "laws", "apply", "de", env=ENABLED).returncode == 0
    forms = [
        (top, "laws/de/meldv.md"),
        (top / "laws" / "de", "meldv.md"),
        (tmp_path, str(law)),
        (tmp_path, "proj/laws/../laws/de/meldv.md"),
        (tmp_path, "LAWS.DE.MELDV"),
    ]
    for cwd, form in forms:
        out = subprocess.run(
            [*iucut_command(), "export", form],
            cwd=cwd,
            capture_output=True,
            env=cli_env.env,
            timeout=120,
            check=False,
        )
        assert out.returncode == 0, (form, out.stderr)
        assert out.stdout == LAW, form


def test_links_out_of_the_root_and_dotdot_are_refused(cli_offline: CliEnv, tmp_path: Path) -> None:
    """A link under the root that leads outside it is refused (exit 20) unless
    --follow-symlinks; a file outside a given --root is refused too."""
    top = project(tmp_path)
    secret = tmp_path / "secret.md"
    secret.write_text("# host secret\n", encoding="utf-8")
    (top / "laws" / "bad.md").symlink_to(secret)
    refused = iucut(cli_offline, top, "cut", "--json", "laws")
    assert refused.returncode == 20, refused.stderr
    assert f"laws/bad.md: leads to {secret}, outside the project root" in refused.stderr
    assert "--follow-symlinks" in refused.stderr
    assert "host secret" not in refused.stdout
    followed = iucut(cli_offline, top, "cut", "--json", "--follow-symlinks", "laws")
    assert ("laws/bad.md", "LAWS.BAD") in identities(followed)
    outside = iucut(cli_offline, top, "cut", "--root", "laws/de", "laws/de/../../../secret.md")
    assert outside.returncode == 20, outside.stderr
    assert "outside the project root" in outside.stderr


def test_special_files_matching_the_glob_are_named_and_skipped(
    cli_offline: CliEnv, tmp_path: Path
) -> None:
    """Dangling links, link loops, FIFOs and folders matching the glob are each named in
    a warning and skipped; the real document is cut; a FIFO given by name is refused."""
    top = project(tmp_path)
    de = top / "laws" / "de"
    (de / "dangling.md").symlink_to(de / "nowhere.md")
    (de / "loop.md").symlink_to(de / "loop.md")
    os.mkfifo(de / "fifo.md")
    (de / "folder.md").mkdir()
    result = iucut(cli_offline, top, "cut", "--json", "laws")
    assert identities(result) == {("laws/de/meldv.md", "LAWS.DE.MELDV")}
    for name, why in (
        ("dangling.md", "a dangling link"),
        ("loop.md", "a link loop"),
        ("fifo.md", "not a regular file (a FIFO)"),
        ("folder.md", "a folder matching the glob"),
    ):
        assert f"iucut: warning: laws/de/{name}: {why}" in result.stderr, name
    given = iucut(cli_offline, top, "cut", "laws/de/fifo.md")
    assert given.returncode == 3 and "not a regular file (a FIFO)" in given.stderr


def test_non_markdown_files_and_iucut_reports_are_passed_over(
    cli_offline: CliEnv, tmp_path: Path
) -> None:
    """data.csv and /etc/passwd are warned about and skipped unless --glob names them;
    the default glob passes over iucut's own proof reports."""
    top = project(tmp_path)
    (top / "data.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    skipped = iucut(cli_offline, top, "cut", "--json", "data.csv", "/etc/passwd")
    assert skipped.returncode == 0 and skipped.stdout == ""
    assert "data.csv: not named by --glob '**/*.md'" in skipped.stderr
    assert "/etc/passwd: not named by --glob" in skipped.stderr
    named = iucut(cli_offline, top, "cut", "--json", "--glob", "*.csv", "data.csv")
    assert identities(named) == {("data.csv", "DATA")}
    reports = top / "reports"
    reports.mkdir()
    (reports / "proof-abc.md").write_text("# iucut proof\n", encoding="utf-8")
    (reports / "proof-abc.json").write_text("{}\n", encoding="utf-8")
    listed = iucut(cli_offline, top, "cut", "--json", ".")
    assert identities(listed) == {("laws/de/meldv.md", "LAWS.DE.MELDV")}
    assert "reports/proof-abc.md: an iucut report" in listed.stderr


def test_the_project_configuration_applies_from_any_folder(
    cli_offline: CliEnv, tmp_path: Path
) -> None:
    """The root's iucut.yaml is the configuration wherever iucut runs: a namespace it
    gives a document is the same from the project, from a subfolder and from outside."""
    top = project(tmp_path, init=False)
    (top / "iucut.yaml").write_text('namespaces:\n  "laws/de/*.md": BMV\n', encoding="utf-8")
    law = top / "laws" / "de" / "meldv.md"
    want = {("laws/de/meldv.md", "BMV")}
    assert identities(iucut(cli_offline, top, "cut", "--json", "laws")) == want
    assert identities(iucut(cli_offline, top / "laws" / "de", "cut", "--json", ".")) == want
    assert identities(iucut(cli_offline, tmp_path, "cut", "--json", str(law))) == want


def test_reports_without_a_folder_go_outside_the_source_tree(
    cli_env: CliEnv, tmp_path: Path
) -> None:
    """doctor --report and prove --report with no folder write to IUCUT_HOME/reports,
    not into the working folder (where the next cut would find them)."""
    top = project(tmp_path)
    doctor = iucut(cli_env, top, "doctor", "--report")
    assert doctor.returncode in (0, 11), doctor.stderr
    proof = iucut(cli_env, top, "prove", "laws", "--report")
    assert proof.returncode == 0, proof.stderr
    written = sorted(p.name for p in (cli_env.home / "reports").iterdir())
    assert "doctor.md" in written and any(n.startswith("proof-") for n in written)
    assert sorted(p.name for p in top.iterdir()) == ["iucut.yaml", "laws"]
