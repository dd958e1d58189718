"""What a re-sync's process pays whatever the corpus (issue #16 part 3): an ``apply`` that
finds nothing changed imports neither the cutter nor the modules of the reads, and one
that cuts a changed document takes the rules' programs kept by an earlier command
instead of compiling them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import CliEnv

OLD = 1_700_000_000_000_000_000  # an mtime long before the cache's entries (not racy)
TEXT = "# Act {n}\n\n## Article 1. One\n\nText {n}{extra}.\n\n## Article 2. Two\n\nMore.\n"
#: modules an unchanged re-sync has no use for
UNUSED = (
    "iucut.cut.cutter",
    "iucut.cut.profiles",
    "iucut.cut.rxcode",
    "iucut.refs",
    "iucut.asof",
    "iucut.browse",
    "iucut.feed",
    "iucut.search",
    "iucut.cutting",
    "iucut.planspool",
    "iucut.numbering",
    "tomllib",
    "importlib.metadata",  # (psycopg's version read without it: iucut.db.driver_versions)
)
#: of those, the modules an apply that writes one changed document has no use for either
#: (its plan is written, not spooled; its front matter, if any, is YAML)
UNUSED_BY_A_CHANGE = (
    "iucut.asof",
    "iucut.browse",
    "iucut.feed",
    "iucut.search",
    "iucut.planspool",
    "tomllib",
    "importlib.metadata",
)
PROBE = """
import json, sys
from iucut.cli import main

compiled = []
if sys.argv[1] == "count":  # (the compiler counted: imported here, not by the apply)
    from iucut.cut import rxcode

    real = rxcode.compile_pattern

    def counting(pattern):
        compiled.append(pattern.pattern)
        return real(pattern)

    rxcode.compile_pattern = counting
try:
    main(["apply", "--jobs", sys.argv[4], sys.argv[2]])
except SystemExit as exc:
    code = exc.code
modules = sorted(m for m in sys.modules if m.startswith(tuple(sys.argv[3].split(","))))
print(json.dumps({"code": code, "compiled": len(compiled), "modules": modules}))
"""


def _write(folder: Path, n: int, extra: str = "") -> None:
    path = folder / f"d{n}.md"
    path.write_text(TEXT.format(n=n, extra=extra), encoding="utf-8")
    os.utime(path, ns=(OLD, OLD))


def _apply(cli_env: CliEnv, corpus: Path, mode: str = "", jobs: int = 2) -> dict[str, Any]:
    """``iucut apply --jobs JOBS`` in a new process (``mode`` count: the programs compiled
    in it are counted; the first apply cuts here with one job, not in workers)."""
    env = {**cli_env.env, "IUCUT_EXECUTION": "enabled", "IUCUT_ROOT": str(corpus)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode, str(corpus), ",".join(UNUSED), str(jobs)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["code"] == 0, done.stdout + done.stderr
    return found


def test_an_unchanged_resync_imports_no_cutter_and_no_reads(
    cli_env: CliEnv, tmp_path: Path
) -> None:
    """The first apply cuts (the cutter is imported); the same apply again finds every
    file unchanged and imports none of the cutter, the references, the reads' modules."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for n in range(3):
        _write(corpus, n)
    first = _apply(cli_env, corpus, jobs=1)
    assert "iucut.cut.cutter" in first["modules"]
    again = _apply(cli_env, corpus)
    assert again["modules"] == []


def test_a_change_is_cut_with_the_programs_kept_by_an_earlier_command(
    cli_env: CliEnv, tmp_path: Path
) -> None:
    """The first apply compiles the rules' programs and keeps them in the iucut home; an
    apply of one changed document in a new process compiles none (and writes it), and
    imports none of the reads' modules, the plan's spool or the TOML parser."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for n in range(3):
        _write(corpus, n)
    first = _apply(cli_env, corpus, "count", jobs=1)
    assert first["compiled"] > 0
    assert (cli_env.home / "rule-programs.json").is_file()
    _write(corpus, 1, extra=" changed")
    changed = _apply(cli_env, corpus, "count")
    assert changed["compiled"] == 0
    assert "iucut.cut.cutter" in changed["modules"]  # (it was cut)
    assert "iucut.refs" in changed["modules"]  # (and planned, with its references)
    assert not [m for m in changed["modules"] if m.startswith(UNUSED_BY_A_CHANGE)]
