"""``iucut cut`` run as a user would: summary, JSON rows, --check, bad input, exit codes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import CliEnv, iucut_command

CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"
LAW = "---\niu_namespace: ACT\n---\n# Luật\n\n## Chương I\n\nĐiều 1. Một\n\n1. Khoản\n"


def write(tmp_path: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    return tmp_path


def test_summary_shows_tree_and_counts(cli_offline: CliEnv, tmp_path: Path) -> None:
    """Without options: a tree of codes with titles and a count of units by kind."""
    src = write(tmp_path / "src", {"law.md": LAW.encode()})
    result = cli_offline.run("cut", str(src))
    assert result.returncode == 0, result.stderr
    assert "ACT" in result.stdout and "/D1/K1" in result.stdout and "Điều 1. Một" in result.stdout
    assert "article" in result.stdout and "clause" in result.stdout


def test_json_and_output_write_one_row_per_unit(cli_offline: CliEnv, tmp_path: Path) -> None:
    """--json writes JSON lines to stdout, -o FILE to a file: one row per unit, with hashes."""
    src = write(tmp_path / "src", {"law.md": LAW.encode()})
    result = cli_offline.run("cut", "--json", str(src))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["code"] for r in rows] == ["ACT", "ACT/luat", "ACT/C1", "ACT/D1", "ACT/D1/K1"]
    assert all(r["doc_hash"] and r["content_hash"] and "body" in r for r in rows)
    plan = tmp_path / "plan.jsonl"
    result = cli_offline.run("cut", "-o", str(plan), str(src))
    assert result.returncode == 0, result.stderr
    assert len(plan.read_text(encoding="utf-8").splitlines()) == 5


def test_bad_documents_are_reported_and_others_still_cut(
    cli_offline: CliEnv, tmp_path: Path
) -> None:
    """Invalid UTF-8 and binary files are named with line and byte, exit 3; the valid
    document in the same run still produces its rows."""
    src = write(
        tmp_path / "src",
        {"a.md": b"# ok\nbad \xff\n", "b.md": LAW.encode(), "c.md": b"\0\0\0binary"},
    )
    result = cli_offline.run("cut", "--json", str(src))
    assert result.returncode == 3
    assert "a.md:2 (byte 9): invalid UTF-8" in result.stderr
    assert "c.md:1 (byte 0): binary file" in result.stderr
    assert any(
        json.loads(line)["code"] == "ACT/D1"
        for line in result.stdout.splitlines()
        if line.startswith('{"namespace"')
    )


def test_check_passes_on_the_shared_corpora(cli_offline: CliEnv) -> None:
    """`iucut cut --check ../shared/corpora` passes: every file round-trips."""
    assert CORPORA.is_dir(), f"missing {CORPORA}"
    result = cli_offline.run("cut", "--check", str(CORPORA), timeout=300)
    assert result.returncode == 0, result.stderr
    assert "round-trip byte for byte" in result.stdout


def test_glob_selects_files_and_empty_file_is_rejected(cli_offline: CliEnv, tmp_path: Path) -> None:
    """--glob chooses the files; an empty file is rejected (file, line 1, byte 0: an
    emptied file must not retire a document's units unseen), the others are cut."""
    src = write(tmp_path / "src", {"a.txt": b"", "c.txt": b"# y\n", "b.md": b"# x\n"})
    result = cli_offline.run("cut", "--json", "--glob", "*.txt", str(src))
    assert result.returncode == 3, result.stderr
    assert "a.txt:1 (byte 0): empty document" in result.stderr
    rows = [json.loads(x) for x in result.stdout.splitlines() if x.startswith('{"namespace"')]
    assert {r["doc_path"] for r in rows} == {"c.txt"}


def test_cut_help_documents_the_options(cli_offline: CliEnv) -> None:
    """`iucut cut --help` lists every option."""
    result = cli_offline.run("cut", "--help")
    for option in ("--glob", "--json", "--output", "--check", "--namespace", "--profile"):
        assert option in result.stdout


def test_progress_on_a_terminal_only(cli_offline: CliEnv, tmp_path: Path) -> None:
    """On a terminal, stderr shows a "cutting" bar counting the files; not when stderr is
    a pipe, and not with --json (stdout holds only rows)."""
    src = write(tmp_path / "src", {f"law{k}.md": LAW.encode() for k in range(3)})
    (tmp_path / "iucut.yaml").touch()  # a project: no note about a guessed root
    terminal = {"TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1"}
    shown = cli_offline.run("cut", str(src), env=terminal)
    assert shown.returncode == 0, shown.stderr
    assert "cutting" in shown.stderr and "3/3" in shown.stderr
    piped = cli_offline.run("cut", str(src))
    assert piped.returncode == 0 and piped.stderr == ""  # not even a blank line
    rows = cli_offline.run("cut", "--json", str(src), env=terminal)
    assert rows.returncode == 0 and "cutting" not in rows.stderr
    assert len(rows.stdout.splitlines()) == 15


def test_an_output_that_cannot_be_written_is_exit_15_naming_it(
    cli_offline: CliEnv, tmp_path: Path
) -> None:
    """-o into a missing folder, or onto a full disk: exit 15 and one line naming the
    file and the reason (no traceback); the same with --json, as JSON."""
    src = write(tmp_path / "src", {"law.md": LAW.encode()})
    missing = tmp_path / "no-such-folder" / "plan.jsonl"
    result = cli_offline.run("cut", "-o", str(missing), str(src))
    assert result.returncode == 15, result.stderr
    assert f"cannot write {missing}: No such file or directory" in result.stderr
    assert "Traceback" not in result.stderr
    result = cli_offline.run("cut", "--json", "-o", str(missing), str(src))
    assert result.returncode == 15 and json.loads(result.stdout)["error"] == "OutputError"
    if not os.path.exists("/dev/full"):
        pytest.fail("this test needs /dev/full (Linux)")
    result = cli_offline.run("cut", "-o", "/dev/full", str(src))
    assert result.returncode == 15, result.stderr
    assert "cannot write /dev/full: No space left on device" in result.stderr


def test_a_full_standard_output_is_reported_on_stderr(cli_offline: CliEnv, tmp_path: Path) -> None:
    """--json rows to a stdout that cannot take them: exit 15, the reason on stderr."""
    src = write(tmp_path / "src", {"law.md": LAW.encode()})
    (tmp_path / "iucut.yaml").touch()  # a project: no note about a guessed root
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [*iucut_command(), "cut", "--json", str(src)],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_offline.env,
            timeout=120,
            check=False,
        )
    assert result.returncode == 15, result.stderr
    assert result.stderr.strip() == (
        "iucut: error: cannot write standard output: No space left on device"
    )


def test_a_folder_where_glob_finds_nothing_is_a_warning(
    cli_offline: CliEnv, tmp_path: Path
) -> None:
    """A folder argument with no matching file is named on stderr; the others are cut."""
    src = write(tmp_path / "src", {"law.md": LAW.encode()})
    (tmp_path / "iucut.yaml").touch()  # a project: no note about a guessed root
    (tmp_path / "empty").mkdir()
    result = cli_offline.run("cut", "--json", str(tmp_path / "empty"), str(src))
    assert result.returncode == 0, result.stderr
    assert result.stderr == f"iucut: warning: no file in {tmp_path / 'empty'} matches '**/*.md'\n"
    assert len(result.stdout.splitlines()) == 5


def test_unknown_profiles_stop_before_cutting(cli_offline: CliEnv, tmp_path: Path) -> None:
    """--profile that does not exist is a usage error (64); a configuration pinning
    files to one is a configuration error (13) naming the file and the profile."""
    src = write(tmp_path / "src", {"law.md": LAW.encode()})
    flag = cli_offline.run("cut", "--profile", "klingon", str(src))
    assert flag.returncode == 64, flag.stderr
    assert "unknown profile 'klingon' (known: de, en, eu, fr, vi)" in flag.stderr
    config = tmp_path / "iucut.yaml"
    config.write_text('profiles: {"*.md": xx}\n', encoding="utf-8")
    pinned = cli_offline.run("cut", str(src), env={"IUCUT_CONFIG": str(config)})
    assert pinned.returncode == 13, pinned.stderr
    # (the configuration file marks tmp_path as the project root: paths are under it)
    assert "gives src/law.md the unknown profile 'xx'" in pinned.stderr


def test_a_namespace_that_cannot_be_one_is_refused_naming_its_source(
    cli_offline: CliEnv, tmp_path: Path
) -> None:
    """A namespace is one segment of NAMESPACE/PATH: --namespace with '/' is a usage
    error (64); front matter with a space rejects that document only (3); configuration
    with one is a configuration error (13)."""
    src = write(
        tmp_path / "src",
        {"law.md": LAW.encode(), "spaced.md": b"---\niu_namespace: A B\n---\n# x\n"},
    )
    flag = cli_offline.run("cut", "--namespace", "X/Y", str(src / "law.md"))
    assert flag.returncode == 64 and "'X/Y' contains '/'" in flag.stderr, flag.stderr
    front = cli_offline.run("cut", "--json", str(src))
    assert front.returncode == 3, front.stderr
    assert "spaced.md: front matter iu_namespace: namespace 'A B' contains ' '" in front.stderr
    rows = [json.loads(r) for r in front.stdout.splitlines() if r.startswith('{"namespace"')]
    assert len(rows) == 5 and {r["namespace"] for r in rows} == {"ACT"}
    config = tmp_path / "iucut.yaml"
    config.write_text('namespaces: {"*": "a/b"}\n', encoding="utf-8")
    configured = cli_offline.run(
        "cut", str(src / "spaced.md"), "--namespace", "OK", env={"IUCUT_CONFIG": str(config)}
    )
    assert configured.returncode == 0, configured.stderr  # --namespace wins: not consulted
    bad = cli_offline.run("cut", str(src / "law.md"), env={"IUCUT_CONFIG": str(config)})
    assert bad.returncode == 0, bad.stderr  # front matter iu_namespace wins
    other = write(tmp_path / "other", {"plain.md": b"# x\n"})
    refused = cli_offline.run("cut", str(other), env={"IUCUT_CONFIG": str(config)})
    assert refused.returncode == 13, refused.stderr
    assert "configuration 'namespaces': namespace 'a/b' contains '/'" in refused.stderr


@pytest.mark.parametrize("pattern", ["", "/abs/*.md"])
def test_a_glob_that_is_not_relative_is_a_usage_error(
    cli_offline: CliEnv, tmp_path: Path, pattern: str
) -> None:
    """--glob must be a non-empty pattern relative to each folder (exit 64, no traceback)."""
    src = write(tmp_path / "src", {"law.md": LAW.encode()})
    result = cli_offline.run("cut", "--glob", pattern, str(src))
    assert result.returncode == 64, result.stderr
    assert "give a pattern relative to each folder" in result.stderr
    assert "Traceback" not in result.stderr


def test_control_characters_in_titles_and_names_never_reach_the_terminal(
    cli_offline: CliEnv, tmp_path: Path
) -> None:
    """A heading or file name with an escape sequence is shown escaped (\\x1b) in the
    summary and in messages; the rows keep the text as it is."""
    src = write(
        tmp_path / "src",
        {"law.md": b"# \x1b[31mRED\n\ntext\n", "bad\x1b[2Jname.md": b"\xff\n"},
    )
    result = cli_offline.run("cut", str(src))
    assert result.returncode == 3, result.stderr
    assert "\x1b" not in result.stdout and "\x1b" not in result.stderr
    assert "\\x1b[31mRED" in result.stdout
    assert "bad\\x1b[2Jname.md" in result.stderr
    rows = cli_offline.run("cut", "--json", str(src / "law.md"))
    assert json.loads(rows.stdout.splitlines()[1])["title"] == "\x1b[31mRED"


def _many(tmp_path: Path) -> Path:
    """13 documents (a table, not trees), one named with a tab and an escape sequence."""
    files = {f"law{k:02d}.md": LAW.replace("ACT", f"ACT{k}").encode() for k in range(12)}
    files["odd\tname\x1b[2J.md"] = b"# Odd\n\ntext\n"
    return write(tmp_path / "src", files)


def test_piped_summary_of_many_documents_is_plain_and_complete(
    cli_offline: CliEnv, tmp_path: Path
) -> None:
    """Stdout a pipe, more than 10 documents: tab-separated lines, one a document (path,
    namespace, units, warnings), the units by kind and their total, the count; no box
    drawing and no escape sequence; --jobs 2 writes the same."""
    src = _many(tmp_path)
    out = tmp_path / "rows.jsonl"
    shown = {}
    for jobs in ("1", "2"):
        result = cli_offline.run("cut", "-q", "--jobs", jobs, str(src), "-o", str(out))
        assert result.returncode == 0, result.stderr
        shown[jobs] = result.stdout
    assert shown["2"] == shown["1"]
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    lines = shown["1"].split("\n")
    assert lines[:2] == ["Documents", "document\tnamespace\tunits\twarnings"]
    table = [line.split("\t") for line in lines[2:15]]
    names = [f"law{k:02d}.md" for k in range(12)] + ["odd\\x09name\\x1b[2J.md"]
    assert sorted(cells[0] for cells in table) == sorted(names)
    units: dict[str, int] = {}
    for row in rows:
        units[row["namespace"]] = units.get(row["namespace"], 0) + 1
    assert {cells[1]: int(cells[2]) for cells in table} == units
    assert all(cells[3] == "0" for cells in table)
    assert lines[15:18] == ["", "Units by kind", "kind\tunits"]
    kinds = dict(line.split("\t") for line in lines[18:-3])
    assert kinds.pop("total") == str(len(rows))
    assert sum(int(n) for n in kinds.values()) == len(rows) and "clause" in kinds
    assert lines[-3:] == ["", f"13 documents; rows written to {out}", ""]
    assert not any(c in shown["1"] for c in "│┃━─\x1b")


def test_a_terminal_gets_the_table_of_many_documents(cli_offline: CliEnv, tmp_path: Path) -> None:
    """Stdout a terminal (a pseudo-terminal, or TTY_COMPATIBLE=1): the table of documents
    and the units by kind are drawn by rich, as before."""
    import pty

    src = _many(tmp_path)
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [*iucut_command(), "cut", "-q", str(src)],
        stdout=follower,
        stderr=subprocess.PIPE,
        env={**cli_offline.env, "COLUMNS": "200", "NO_COLOR": "1"},
    )
    os.close(follower)
    got = b""
    while True:
        try:
            more = os.read(leader, 65536)
        except OSError:  # EIO: the command has ended and closed the terminal
            break
        if not more:
            break
        got += more
    os.close(leader)
    assert proc.wait(60) == 0, proc.stderr.read() if proc.stderr else ""
    drawn = re.sub("\x1b\\[[0-9;]*m", "", got.decode())  # (its styles: bold, italic)
    assert "┃ document" in drawn and "┃ kind" in drawn and "13 documents" in drawn
    assert "law11.md" in drawn and "\t" not in drawn
    tty = cli_offline.run("cut", "-q", str(src), env={"TTY_COMPATIBLE": "1"})
    assert tty.returncode == 0, tty.stderr
    drawn = re.sub("\x1b\\[[0-9;]*m", "", tty.stdout)
    assert "┃ document" in drawn and "\t" not in drawn


def test_a_quiet_cut_to_a_file_imports_no_rich(cli_offline: CliEnv, tmp_path: Path) -> None:
    """`cut -q … -o FILE` of many documents, stdout a pipe: rich (its tables, its progress
    bar) is never imported: start-up and the summary are time no worker shares."""
    src = _many(tmp_path)
    script = (
        "import sys\n"
        "from iucut.cli import main\n"
        "try:\n"
        f"    main(['cut', '-q', '--jobs', '2', {str(src)!r}, '-o', {str(tmp_path / 'rows')!r}])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.startswith('rich')}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env=cli_offline.env,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
