"""Passwords never reach output: every input path × every command × success and failure.

The passwords are hostile on purpose (spaces, ``#``, ``@``, ``/``, ``?``, quotes,
backslashes, ``=``, ``%``, Unicode, newlines) and written raw, as users write them.
Each run asserts that neither the password, its percent-decoded form, nor any piece
of it of 4 characters or more appears in stdout, stderr or a report file.
"""

from __future__ import annotations

import os
import random
import re
import socket
import subprocess
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from tests.conftest import TEST_SCHEMA, CliEnv, iucut_command

from iucut.db.target import BadConninfo, redact, split_password

HOSTILE = [" ", "#", "@", "/", "?", "'", '"', "\\", "=", "%", "é", "密", "\n", ":", "&", "\t"]


def hostile_passwords(n: int = 12, seed: int = 11) -> list[str]:
    """Passwords of two random capitals/digits then one hostile character, repeated:
    every 4-character piece holds random characters no message contains by chance."""
    rng = random.Random(seed)
    alnum = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    found = ["Canary 7f3a#pw"]  # the issue's own
    for i in range(n - 1):
        chars: list[str] = []
        for j in range(5):
            chars += [rng.choice(alnum), rng.choice(alnum), HOSTILE[(i * 5 + j) % len(HOSTILE)]]
        found.append("".join(chars))
    found.append("Q7%41Z9 @@//??##X4")  # a valid percent escape next to raw characters
    return found


PASSWORDS = hostile_passwords()
_HEX = re.compile(r"[0-9a-fA-F]+")


def pieces(password: str) -> set[str]:
    """The password, its decoded form, and every substring of 4+ characters of both."""
    out: set[str] = set()
    for text in {password, unquote(password)}:
        for i in range(len(text)):
            for j in range(i + 4, len(text) + 1):
                out.add(text[i:j])
    if password == "Canary 7f3a#pw":
        # 4-grams of English words may occur by chance, and so may "7f3a" in the
        # hexadecimal digests and ids reports carry (1 in 65,536 per position; a
        # proof report holds thousands): a piece counts when it has a digit, "#" or
        # space inside it and is not all hexadecimal.
        out = {
            p
            for p in out
            if any(c.isdigit() or c in "# " for c in p[1:-1]) and not _HEX.fullmatch(p)
        }
    return out


def leaks(password: str, *texts: str) -> list[str]:
    """The pieces of ``password`` found in ``texts`` (empty: no leak)."""
    blob = "\n".join(texts)
    return sorted(p for p in pieces(password) if p in blob)


def dsn_forms(base: str, password: str) -> dict[str, str]:
    """The same target written three ways with ``password``: a raw URI (the password
    not percent-encoded), a quoted key=value string, and an unquoted key=value string
    (invalid for libpq when the password holds a space)."""
    params = {k: str(v) for k, v in conninfo_to_dict(base).items()}
    host = params.get("host", "localhost")
    port = params.get("port", "5432")
    user = params.get("user", "postgres")
    dbname = params.get("dbname", "postgres")
    if host.startswith("/"):
        uri = f"postgresql://{user}:{password}@/{dbname}?host={quote(host, safe='')}&port={port}"
    else:
        uri = f"postgresql://{user}:{password}@{host}:{port}/{dbname}"
    kv = make_conninfo(base, password=password)
    raw = f"host={host} port={port} user={user} dbname={dbname} password={password}"
    return {"uri": uri, "kv": kv, "kv-raw": raw}


def unreachable(base: str) -> str:
    """The same server and role, a database that does not exist (the server refuses)."""
    return make_conninfo(base, dbname="iucut_no_such_database")


SAMPLE = "# Quy chế\n\n## Điều 1. Phạm vi\n\nText one.\n\n## Điều 2. Đối tượng\n\nText two.\n"


@pytest.fixture
def seeded(cli_env: CliEnv, tmp_path: Path) -> tuple[CliEnv, Path]:
    """The test database with one document applied (for show, history, export)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "q.md").write_text(SAMPLE, encoding="utf-8")
    done = cli_env.run("apply", str(docs), env={"IUCUT_EXECUTION": "enabled"})
    assert done.returncode == 0, done.stderr
    return cli_env, docs


def commands(docs: Path, reports: Path) -> list[tuple[str, ...]]:
    """Every command that touches the database, text and JSON."""
    q = str(docs / "q.md")
    return [
        ("status",),
        ("status", "--json"),
        ("doctor", "--report", str(reports / "doctor")),
        ("doctor", "--json"),
        ("migrate",),
        ("migrate", "--json"),
        ("plan", q),
        ("plan", "--json", q),
        ("prove", q, "--report", str(reports / "proof")),
        ("prove", "--json", q),
        ("apply", q),
        ("apply", "--json", q),
        ("show", "Q/D1"),
        ("show", "--json", "Q/D1"),
        ("history", "Q/D1"),
        ("export", "q.md"),
        ("freeze", "--help"),
    ]


#: Commands run against the unreachable target too.
FAILING = ("status", "doctor", "plan", "apply", "show")


def run_with(
    cli: CliEnv, path: str, dsn: str, password: str, args: tuple[str, ...], tmp: Path
) -> subprocess.CompletedProcess[str]:
    """Run ``iucut ARGS`` with the target given through ``path`` (the input path)."""
    env = {k: v for k, v in cli.env.items() if k not in ("IUCUT_DSN", "DATABASE_URL")}
    env["IUCUT_EXECUTION"] = "enabled"
    pre: list[str] = []
    if path == "--dsn":
        pre = ["--dsn", dsn]
    elif path in ("IUCUT_DSN", "DATABASE_URL"):
        env[path] = dsn
    elif path == "--env-file":
        env_file = tmp / "iucut.env"
        env_file.write_text(f"IUCUT_DSN={dsn}\n", encoding="utf-8")
        pre = ["--env-file", str(env_file)]
    elif path == "iucut.yaml":
        config = tmp / "iucut.yaml"
        config.write_text(yaml.safe_dump({"dsn": dsn}), encoding="utf-8")
        env["IUCUT_CONFIG"] = str(config)
    elif path == "PGPASSWORD":
        env["IUCUT_DSN"] = dsn
        env["PGPASSWORD"] = password
    return subprocess.run(
        [*iucut_command(), *pre, *args],
        text=True,
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )


def report_texts(reports: Path) -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted(reports.rglob("*")) if p.is_file()]


def test_the_leak_detector_sees_pieces_but_not_chance_hex():
    """The detector itself: any telling piece of the canary is a leak; a digest that
    happens to hold "7f3a" (CI once failed on one in a report) is not."""
    canary = "Canary 7f3a#pw"
    digest = "sha256:90c1e07f3a5d2b44c0ffee"
    assert leaks(canary, digest) == []
    for shown in ("password=Canary 7f3a#pw", "y 7f3a", "7f3a#p", "Canary 7"):
        assert leaks(canary, digest, shown), shown
    other = PASSWORDS[1]
    assert leaks(other, "x" + other[3:7] + "x")


@pytest.mark.parametrize(
    "path", ["--dsn", "IUCUT_DSN", "DATABASE_URL", "--env-file", "iucut.yaml", "PGPASSWORD"]
)
def test_no_password_through_any_path_any_command(seeded, db, tmp_path, path):
    """Every command, on a reachable and an unreachable target, given the password
    through ``path``: no piece of it in stdout, stderr or the report files."""
    cli, docs = seeded
    problems: list[str] = []
    ran = 0
    for outcome in ("success", "failure"):
        base = db.dsn if outcome == "success" else unreachable(db.dsn)
        for n, args in enumerate(commands(docs, tmp_path / f"reports-{outcome}")):
            if outcome == "failure" and args[0] not in FAILING:
                continue  # every command fails alike at the connection: a few suffice
            password = PASSWORDS[(n + len(path)) % len(PASSWORDS)]
            form = ("uri", "kv", "kv-raw")[n % 3]
            dsn = base if path == "PGPASSWORD" else dsn_forms(base, password)[form]
            result = run_with(cli, path, dsn, password, args, tmp_path)
            ran += 1
            texts = [result.stdout, result.stderr]
            found = leaks(password, *texts)
            if found:
                problems.append(f"{outcome} {form} {args}: {found[:3]}")
            if "Traceback" in result.stderr:
                problems.append(f"{outcome} {form} {args}: traceback")
            if outcome == "success" and args == ("status",) and form != "kv-raw":
                assert result.returncode == 0, result.stdout + result.stderr
        for password in PASSWORDS:
            found = leaks(password, *report_texts(tmp_path / f"reports-{outcome}"))
            if found:
                problems.append(f"{outcome} report files: {found[:3]}")
    assert ran == 17 + 10
    assert (tmp_path / "reports-success" / "doctor" / "doctor.html").is_file()
    assert not problems, "\n".join(problems)


def run_in_process(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], home: Path, *args: str
) -> tuple[int, str, str]:
    """``iucut ARGS`` through ``main`` in this process (exit code, stdout, stderr), with
    a clean environment and no password remembered from an earlier run."""
    from iucut.cli import main
    from iucut.db import target

    monkeypatch.setattr(target, "_KNOWN", set())
    for name in list(os.environ):
        if name.startswith(("IUCUT_", "PG")) or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("IUCUT_HOME", str(home))
    monkeypatch.setenv("IUCUT_SCHEMA", TEST_SCHEMA)
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("password", PASSWORDS, ids=range(len(PASSWORDS)))
def test_every_password_every_form_in_status_and_doctor_reports(
    db, tmp_path, monkeypatch, capsys, password
):
    """Each hostile password in each DSN form (raw URI, quoted and unquoted key=value),
    reachable and not: status and doctor (JSON, and their md/json/html reports) show
    none of it; every form libpq can be given reaches the database."""
    for outcome in ("success", "failure"):
        base = db.dsn if outcome == "success" else unreachable(db.dsn)
        for form, dsn in dsn_forms(base, password).items():
            reports = tmp_path / f"{outcome}-{form}"
            texts: list[str] = []
            for args in (("status", "--json"), ("doctor", "--json", "--report", str(reports))):
                code, out, err = run_in_process(
                    monkeypatch, capsys, tmp_path / "home", "--dsn", dsn, *args
                )
                texts += [out, err]
                assert "Traceback" not in err
                if args[0] == "status":
                    try:
                        split_password(dsn)
                        want = 0 if outcome == "success" else 8
                    except BadConninfo:
                        want = 8  # status shows why it cannot connect
                    assert code == want, (form, out, err)
            texts += report_texts(reports)
            assert not leaks(password, *texts), (outcome, form, leaks(password, *texts))


def test_unquoted_key_value_is_refused_without_quoting_it(cli_offline):
    """An unquoted key=value DSN whose password holds a space: a configuration error
    (exit 13) naming the source and what to do, quoting nothing, no traceback."""
    dsn = "host=127.0.0.1 port=1 user=u password=Canary 7f3a#pw dbname=x"
    for env in ({"IUCUT_DSN": dsn}, {"IUCUT_DSN": dsn, "IUCUT_APPLY_ROLE": "cutter_exec"}):
        result = cli_offline.run("apply", ".", env={**env, "IUCUT_EXECUTION": "enabled"})
        assert result.returncode == 13, result.stderr
        assert "IUCUT_DSN" in result.stderr and "pgpass" in result.stderr
        assert "Traceback" not in result.stderr
        assert not leaks("Canary 7f3a#pw", result.stdout, result.stderr)


def test_help_recommends_keeping_the_password_off_the_command_line(cli_offline):
    """`iucut --help` tells users to give passwords by IUCUT_DSN, a service file or .pgpass."""
    out = " ".join(cli_offline.run("--help").stdout.split())
    assert "IUCUT_DSN" in out and "service file" in out and ".pgpass" in out


def test_dsn_password_is_not_in_the_process_title(cli_offline):
    """While iucut runs, /proc/PID/cmdline shows the --dsn target without its password."""
    password = "Tz9 k#Q2@w/7x"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts, never answers: iucut waits while we read its title
    port = listener.getsockname()[1]
    dsn = f"postgresql://alice:{password}@127.0.0.1:{port}/prod"
    proc = subprocess.Popen(
        [*iucut_command(), "--dsn", dsn, "status"],
        env=cli_offline.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        conn, _ = listener.accept()  # iucut is connecting: main() has run
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().decode("utf-8", "replace")
        conn.close()
    finally:
        proc.kill()
        proc.wait()
        listener.close()
    assert "127.0.0.1" in cmdline and "status" in cmdline
    assert not leaks(password, cmdline), cmdline


# -- the parser itself, on any password -----------------------------------------------

_PASSWORD = st.text(st.characters(blacklist_characters="\0", codec="utf-8"), min_size=1)


@settings(max_examples=300, deadline=None)
@given(_PASSWORD, st.sampled_from(["uri", "kv"]))
def test_any_password_is_parsed_out_and_never_displayed(password, form):
    """Any password in a raw URI or a quoted key=value string: split_password hands
    libpq that exact password (a URI's percent-decoded), and the display shows none of it."""
    base = "host=db.example port=5433 user=alice dbname=prod"
    dsn = dsn_forms(base, password)[form]
    try:
        want = unquote(password, errors="strict") if form == "uri" else password
    except UnicodeDecodeError:  # a percent escape that is no UTF-8: refused, not guessed
        with pytest.raises(BadConninfo):
            split_password(dsn)
        return
    conninfo = split_password(dsn)
    parsed = conninfo_to_dict(conninfo)
    assert parsed["password"] == want
    assert parsed["host"] == "db.example" and parsed["dbname"] == "prod"
    # the display holds exactly the other parts, nothing of the password
    assert conninfo_to_dict(redact(conninfo)) == {**conninfo_to_dict(base), "password": "***"}


@settings(max_examples=200, deadline=None)
@given(_PASSWORD)
def test_unparseable_strings_raise_without_quoting(password):
    """A string libpq cannot parse raises BadConninfo with a fixed reason (nothing of the
    string in it); one it can parse keeps the password out of its display."""
    dsn = f"host=h user=u password={password} dbname=d"
    try:
        conninfo = split_password(dsn)
    except BadConninfo as exc:
        assert exc.reason in REASONS
    else:
        assert "password=***" in redact(conninfo) or not conninfo_to_dict(dsn).get("password")


REASONS = {
    BadConninfo.__init__.__defaults__,  # (none: the reasons are the two below)
    "is not a valid postgresql:// URI",
    "is not a valid key=value connection string: quote values that hold spaces or quotes "
    "(password='...'), or better keep the password out of it (PGPASSWORD, ~/.pgpass or a "
    "service file)",
}
