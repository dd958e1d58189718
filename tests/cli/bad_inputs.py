"""The table of bad inputs: each kind, its files, and the decision iucut must show.

Shared by ``test_bad_input.py`` (which asserts the decisions against a real database)
and by anyone who wants the before → after table (``python -m tests.cli.bad_inputs
IUCUT_EXECUTABLE DSN`` prints each kind's exit code and first message).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GOOD = "# Quy chế\n\n## Điều 1. Phạm vi\n\nNội dung.\n".encode()
FM = b"---\ntitle: T\n---\n"
BODY = b"# Title\n\n## Section\n\nText.\n"


@dataclass(frozen=True)
class Case:
    """One kind of bad input: ``bad.md`` holds ``data``; ``good.md`` sits beside it."""

    kind: str
    data: bytes
    decision: str  # "rejected" | "warned" | "accepted"
    message: str  # a piece of the message shown for bad.md
    line: int | None = None  # where the message points, when there is a position
    byte: int | None = None
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    extra: dict[str, bytes] = field(default_factory=dict)  # more files beside bad.md


def _nested(depth: int) -> bytes:
    return b"".join(b"  " * i + b"- item\n" for i in range(depth))


CASES: list[Case] = [
    # -- encodings ---------------------------------------------------------------------
    Case("invalid UTF-8 at byte 0", b"\xff# T\n", "rejected", "invalid UTF-8", 1, 0),
    Case("invalid UTF-8 mid-line", b"# T\n\nab\xfecd\n", "rejected", "invalid UTF-8", 3, 7),
    Case("truncated multibyte at end", b"# T\n\nabc\xe1\xba", "rejected", "invalid UTF-8", 3, 8),
    Case("overlong encoding", b"# T\n\xc0\xaf\n", "rejected", "invalid UTF-8", 2, 4),
    Case("encoded surrogate (CESU)", b"# T\n\xed\xa0\x80\n", "rejected", "invalid UTF-8", 2, 4),
    Case(
        "invalid UTF-8 in front matter",
        b"---\nt: \xff\n---\n# T\n",
        "rejected",
        "invalid UTF-8",
        2,
        7,
    ),
    Case("UTF-16 with BOM", "# Tiêu đề\n".encode("utf-16"), "rejected", "UTF-16", 1, 0),
    # -- binary and control bytes ------------------------------------------------------
    Case("NUL byte", b"# T\n\nab\x00cd\n", "rejected", "NUL byte", 3, 7),
    Case(
        "PNG image named .md",
        b"\x89PNG\r\n\x1a\n" + bytes(range(1, 200)) * 3,
        "rejected",
        "binary",
        2,
        6,
    ),
    Case(
        "control bytes (binary)", b"# T\n" + b"\x01\x02\x03\x04" * 40, "rejected", "control", 2, 4
    ),
    Case(
        "one escape byte in text",
        b"# T\n\nred \x1b[31m text\n",
        "warned",
        "control character",
        3,
        9,
    ),
    Case("form feed", b"# T\n\npage\x0cbreak\n", "warned", "control character", 3, 9),
    Case("DEL byte", b"# T\n\nab\x7fcd\n", "warned", "control character", 3, 7),
    # -- empty -------------------------------------------------------------------------
    Case("empty file", b"", "rejected", "empty", 1, 0),
    Case("whitespace only", b"  \n\t\n\n", "rejected", "empty", 1, 0),
    Case("BOM only", b"\xef\xbb\xbf", "rejected", "empty", 1, 0),
    Case("BOM and blank lines", b"\xef\xbb\xbf\n\n", "rejected", "empty", 1, 0),
    Case("front matter only", FM, "warned", "no content after the front matter", 4, 17),
    # -- size --------------------------------------------------------------------------
    Case(
        "over the size limit",
        BODY + b"x" * 5000 + b"\n",
        "rejected",
        "over the limit of 4096 bytes",
        env={"IUCUT_MAX_DOCUMENT_BYTES": "4096"},
    ),
    Case("very long line (1 MB)", b"# T\n\n" + b"word " * 200_000 + b"\n", "accepted", ""),
    Case("pathological list nesting", b"# T\n\n" + _nested(3000), "accepted", ""),
    Case("pathological quote nesting", b"# T\n\n" + b">" * 20000 + b" deep\n", "accepted", ""),
    Case("5000 headings", b"".join(b"## H%d\n\nx\n" % i for i in range(5_000)), "accepted", ""),
    # -- front matter ------------------------------------------------------------------
    Case(
        "broken YAML front matter",
        b"---\ntitle: [unclosed\n---\n# T\n",
        "warned",
        "front matter does not parse",
        3,
    ),
    Case(
        "unclosed YAML front matter",
        b"---\ntitle: T\n\n# T\n\ntext\n",
        "warned",
        "never closed",
        1,
        0,
    ),
    Case(
        "broken TOML front matter",
        b"+++\ntitle = \n+++\n# T\n",
        "warned",
        "front matter does not parse",
        2,
    ),
    Case("unclosed TOML front matter", b'+++\ntitle = "T"\n# T\n', "warned", "never closed", 1, 0),
    Case("YAML front matter is a list", b"---\n- a\n- b\n---\n# T\n", "warned", "not a mapping", 2),
    Case(
        "YAML front matter is a string", b"---\njust text\n---\n# T\n", "warned", "not a mapping", 2
    ),
    Case(
        "iu_namespace not a text",
        b"---\niu_namespace: [A, B]\n---\n# T\n",
        "warned",
        "iu_namespace",
    ),
    Case(
        "iu_namespace invalid",
        b"---\niu_namespace: 'bad ns!'\n---\n# T\n",
        "rejected",
        "namespace 'bad ns!'",
    ),
    Case(
        "unknown iu_profile",
        b"---\niu_profile: klingon\n---\n# T\n",
        "rejected",
        "unknown profile 'klingon'",
    ),
    Case(
        "YAML alias bomb",
        b"---\na: &a [x, x, x, x, x, x, x, x, x]\n"
        + b"".join(
            b"%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n" % ((98 + i,) * 2 + (97 + i,) * 8)
            for i in range(8)
        )
        + b"---\n# T\n",
        "accepted",
        "",
    ),
    # -- structure ---------------------------------------------------------------------
    Case(
        "duplicate article label",
        "# Luật\n\n## Điều 5. A\n\nx\n\n## Điều 5. B\n\ny\n".encode(),
        "warned",
        "duplicate code",
        7,
    ),
    Case(
        "duplicate heading",
        b"# T\n\n## Intro\n\nx\n\n## Intro\n\ny\n",
        "warned",
        "duplicate code",
        7,
    ),
    Case(
        "namespace shared with another file",
        b"---\niu_namespace: SAME\n---\n# A\n",
        "rejected",
        "namespace SAME is also the namespace of",
        extra={"other.md": b"---\niu_namespace: SAME\n---\n# B\n"},
    ),
    Case("iu_profile not a text", b"---\niu_profile: [vi, de]\n---\n# T\n", "warned", "iu_profile"),
    # -- fine print that must stay accepted --------------------------------------------
    Case("CRLF and lone CR line ends", b"# T\r\n\r\ntext\rmore\r\n", "accepted", ""),
    Case("bidi and zero-width characters", "# T\u202e\u200b\n\nx\n".encode(), "accepted", ""),
    Case("C1 control (NEL) as text", "# T\n\na\u0085b\n".encode(), "accepted", ""),
]


@dataclass
class Outcome:
    """What iucut did with one case: plan and apply, text and JSON."""

    plan: subprocess.CompletedProcess[str]
    plan_json: subprocess.CompletedProcess[str]
    apply_json: subprocess.CompletedProcess[str]
    written: set[str]  # document paths in the database after apply

    @property
    def messages(self) -> str:
        return self.plan.stderr + self.plan.stdout

    def summary(self) -> str:
        """``exit plan/apply; first line about bad.md`` for the before → after table."""
        lines = [ln for ln in self.messages.splitlines() if "bad.md" in ln]
        said = lines[0] if lines else "(nothing said about bad.md)"
        stored = "stored" if "docs/bad.md" in self.written else "not stored"
        return f"plan {self.plan.returncode}, apply {self.apply_json.returncode}; {stored}; {said}"


def lay_out(case: Case, folder: Path) -> Path:
    """Write the case's files (and good.md) into ``folder/docs``."""
    docs = folder / "docs"
    docs.mkdir(parents=True)
    (docs / "bad.md").write_bytes(case.data)
    (docs / "good.md").write_bytes(GOOD)
    for name, data in case.extra.items():
        (docs / name).write_bytes(data)
    return docs


def run_case(
    command: list[str], case: Case, folder: Path, env: dict[str, str], written: Any
) -> Outcome:
    """Plan (text, JSON) then apply (JSON) the case's folder; ``written()`` lists the
    document paths the database holds afterwards."""
    docs = lay_out(case, folder)
    env = {**env, **case.env, "IUCUT_EXECUTION": "enabled"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*command, *args, *case.args, "docs"],
            cwd=folder,
            env=env,
            text=True,
            capture_output=True,
            timeout=300,
            check=False,
        )

    del docs
    plan = run("plan")
    plan_json = run("plan", "--json")
    apply_json = run("apply", "--json")
    return Outcome(plan, plan_json, apply_json, set(written()))


def json_documents(text: str) -> int:
    """How many JSON documents ``text`` holds, one after another."""
    decoder, n, i = json.JSONDecoder(), 0, 0
    text = text.strip()
    while i < len(text):
        _, i = decoder.raw_decode(text, i)
        n += 1
        while i < len(text) and text[i].isspace():
            i += 1
    return n


def main() -> None:
    """``python -m tests.cli.bad_inputs IUCUT ADMIN_DSN``: one line per kind, each case on
    a fresh database copied from a template migrated by that ``iucut``."""
    import os
    import tempfile

    import psycopg
    from psycopg.conninfo import make_conninfo

    command, admin = [sys.argv[1]], sys.argv[2]
    base = {k: v for k, v in os.environ.items() if not k.startswith(("IUCUT_", "PG"))}
    tpl = f"iucut_badin_tpl_{os.getpid()}"
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f"CREATE DATABASE {tpl}")
    subprocess.run(
        [*command, "migrate", "--roles"],
        env={**base, "IUCUT_DSN": make_conninfo(admin, dbname=tpl)},
        check=True,
        capture_output=True,
    )
    try:
        for n, case in enumerate(CASES, 1):
            name = f"iucut_badin_{os.getpid()}_{n}"
            with psycopg.connect(admin, autocommit=True) as c:
                c.execute(f"CREATE DATABASE {name} TEMPLATE {tpl}")
            dsn = make_conninfo(admin, dbname=name)
            try:
                with tempfile.TemporaryDirectory() as tmp:

                    def written(dsn: str = dsn) -> list[str]:
                        with psycopg.connect(dsn) as d:
                            rows = d.execute("SELECT doc_path FROM iu_document").fetchall()
                        return [r[0] for r in rows]

                    out = run_case(command, case, Path(tmp), {**base, "IUCUT_DSN": dsn}, written)
                    print(f"{n:>2} | {case.kind} | {out.summary()}", flush=True)
            finally:
                with psycopg.connect(admin, autocommit=True) as c:
                    c.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f"DROP DATABASE IF EXISTS {tpl} WITH (FORCE)")


if __name__ == "__main__":
    main()
