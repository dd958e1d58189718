"""Ten times the corpus: 100k and 1M units, generated from the shared laws, through the CLI.

The corpus: pieces of the shared ``de-laws`` and ``vn-laws`` documents (cut at their
headings into documents of varied sizes, 2 to a few thousand units), copied into as many
folders as the scale needs (each copy its own namespaces: they come from the path), until
the units reach the scale; at least 2,000 documents. Then, each step a fresh ``iucut``
process on one fresh database (the embedded server, or ``--dsn`` for another), timed end
to end (process start to exit) with its peak memory (``ru_maxrss`` of the process and
its workers, from ``wait4``):

- **first apply** into an empty database (``apply --jobs N``);
- **unchanged re-sync** (the same apply again), then twice more side by side with
  ``apply --rehash`` (every file read and hashed: no stat fast path);
- **one change**: one clause of one document edited, then apply;
- **plan of 1 % changed documents**: a word added to one unit of 1 % of the documents,
  ``plan -o FILE``.

Targets: 10x units -> <= 11x time for the first apply; unchanged re-sync of 1M <= 2 s;
one change <= 0.5 s; peak memory bounded by the largest document, not the corpus.

The package's bytecode is compiled first (as installing a wheel does): with
``PYTHONDONTWRITEBYTECODE`` set, an editable install would compile every module at
every start. Each step records the load average and the CPU seconds of the client (its
process and workers), which do not depend on the load of a shared machine.

    python bench/scale_bench.py --units 100000             # embedded server
    python bench/scale_bench.py --units 100000 --units 1000000 --json bench/out/scale.json
    python bench/scale_bench.py --dsn postgresql://postgres@127.0.0.1:5432/postgres
    # the long first apply once, the other steps later (e.g. with another build):
    python bench/scale_bench.py --units 1000000 --phase first --work /tmp/scale
    python bench/scale_bench.py --units 1000000 --phase rest --work /tmp/scale
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from iucut.cut import cut_text
from iucut.db.connector import ConnectionProvider
from iucut.db.target import Target, redact, with_database
from iucut.migrate import migrate

CORPORA = next(
    (
        p / "shared" / "corpora"
        for p in Path(__file__).resolve().parents
        if (p / "shared" / "corpora").is_dir()
    ),
    Path("shared/corpora"),
)
LAWS = ("de-laws", "vn-laws")
SCHEMA = "public"
HEADING = re.compile(r"^#{1,3} ", re.M)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# The corpus
# --------------------------------------------------------------------------------------


def pieces() -> list[tuple[str, str, int]]:
    """The shared laws cut at their headings (# to ###) into pieces of 1 to 40 sections,
    varied by a fixed pattern: ``(name, text, units)``."""
    found: list[tuple[str, str, int]] = []
    sizes = (1, 3, 8, 2, 20, 5, 40, 4, 12, 2)  # sections a piece
    k = 0
    for law in LAWS:
        for number, path in enumerate(sorted((CORPORA / law).rglob("*.md"))):
            if path.name in ("README.md", "LICENSE.md"):
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            starts = [m.start() for m in HEADING.finditer(text)] or [0]
            if starts[0] != 0:
                starts.insert(0, 0)
            i = 0
            part = 0
            while i < len(starts):
                n = sizes[k % len(sizes)]
                k += 1
                end = starts[i + n] if i + n < len(starts) else len(text)
                piece = text[starts[i] : end]
                if piece.strip():
                    name = f"{law}-{number:04d}-{part}"  # unique, and so its namespace
                    units = len(cut_text(piece.encode(), name + ".md").units)
                    found.append((name, piece, units))
                part += 1
                i += n
    return found


def make_corpus(folder: Path, units: int, base: list[tuple[str, str, int]]) -> dict[str, Any]:
    """Copies of the pieces in ``c0001/``, ``c0002/``… until ``units`` units."""
    total = docs = copy = 0
    largest = 0
    while total < units:
        copy += 1
        sub = folder / f"c{copy:04d}"
        sub.mkdir(parents=True)
        for name, text, n in base:
            (sub / f"{name}.md").write_text(text, encoding="utf-8")
            total += n
            docs += 1
            largest = max(largest, len(text.encode()))
            if total >= units:
                break
    size = sum(f.stat().st_size for f in folder.rglob("*.md"))
    return {"units": total, "documents": docs, "bytes": size, "largest_document_bytes": largest}


def edit_one_clause(folder: Path, nth: int) -> Path:
    """Add a word to one line of body text of the nth file (one unit revised)."""
    files = sorted(folder.rglob("*.md"))
    path = files[nth % len(files)]
    lines = path.read_text(encoding="utf-8").split("\n")
    for i, line in enumerate(lines):
        if len(line) > 40 and not line.startswith(("#", "-", "|", ">", " ")):
            lines[i] = line + " (sửa đổi)"
            break
    else:
        lines.append("Đoạn mới (sửa đổi).")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------
# Running the CLI
# --------------------------------------------------------------------------------------


def run_cli(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    before = server_cpu()
    out = _run_cli(args, env)
    if POSTMASTER[0]:
        out["server_cpu"] = round(server_cpu() - before, 3)
    return out


#: the embedded server's postmaster (its CPU is read from /proc; 0: another server)
POSTMASTER = [0]
TICK = os.sysconf("SC_CLK_TCK")


def server_cpu() -> float:
    """CPU seconds of the embedded server's processes (alive and ended)."""
    if not POSTMASTER[0]:
        return 0.0
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat.parent.name) == POSTMASTER[0]:
            total += sum(int(x) for x in fields[11:15])
        elif int(fields[1]) == POSTMASTER[0]:
            total += int(fields[11]) + int(fields[12])
    return total / TICK


#: GNU time, the launcher that reports a step's peak memory (see :func:`_run_cli`)
GNU_TIME = shutil.which("time", path="/usr/bin:/bin")


def _run_cli(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run ``iucut ARGS``: wall seconds, client CPU, and the peak memory (MiB) of the
    process and of the workers it waited for.

    The peak is GNU time's (``%M``), not this process's ``wait4``: Linux starts a forked
    child's peak at its parent's size (the copied memory counts, and exec keeps the
    peak), so ``wait4`` of a child of this benchmark, which holds the corpus's pieces,
    reported at least this benchmark's own size (122 MiB at every step and scale in
    session 5). GNU time is small when it forks iucut."""
    command = [str(Path(sys.executable).with_name("iucut")), *args]
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryFile() as out:
        peak_file = Path(tmp) / "peak"
        if GNU_TIME:
            command = [GNU_TIME, "-f", "%M", "-o", str(peak_file), *command]
        with tempfile.TemporaryFile() as err:
            started = time.perf_counter()
            proc = subprocess.Popen(command, env=env, stdout=out, stderr=err)
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - started
            proc.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            stdout = out.read().decode(errors="replace")
            stderr = err.read().decode(errors="replace")
        # (without GNU time: wait4's, polluted by this process's size, see above)
        peak_kib = int(peak_file.read_text().split()[-1]) if GNU_TIME else usage.ru_maxrss
    if proc.returncode not in (0, 2):
        raise SystemExit(f"iucut {' '.join(args)} failed ({proc.returncode}): {stderr}")
    return {
        "seconds": round(seconds, 3),
        # CPU of the process and its workers: what the step costs whatever the load
        "client_cpu": round(usage.ru_utime + usage.ru_stime, 3),
        "peak_mib": round(peak_kib / 1024, 1),
        "peak_by": "GNU time" if GNU_TIME else "wait4 (polluted)",
        "exit": proc.returncode,
        "last_line": stdout.strip().splitlines()[-1:],
    }


def machine(admin_dsn: str) -> dict[str, str]:
    cpu = platform.processor() or "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    with psycopg.connect(admin_dsn) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": cpu,
        "python": platform.python_version(),
        "postgresql": version,
        "server": redact(admin_dsn),
    }


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def one_scale(
    admin_dsn: str,
    units: int,
    base: list[tuple[str, str, int]],
    jobs: int,
    keep: bool,
    phase: str = "all",
    work_root: Path | None = None,
) -> dict[str, Any]:
    """One scale. ``phase``: ``all``; ``first`` (the corpus, the database and the first
    apply, kept in ``WORK_ROOT/scale-UNITS`` for a later ``rest``); ``rest`` (the steps
    after the first apply, on what ``first`` kept: the re-syncs can then be measured
    with another build of iucut than the long first apply)."""
    state_file = (work_root or Path(tempfile.gettempdir())) / f"scale-{units}" / "state.json"
    if phase == "rest":
        state = json.loads(state_file.read_text(encoding="utf-8"))
        work, dsn, name = Path(state["work"]), state["dsn"], state["database"]
        shape, steps = state["corpus"], state["steps"]
    else:
        if work_root is None:
            work = Path(tempfile.mkdtemp(prefix=f"iucut-scale-{units}-"))
        else:
            work = work_root / f"scale-{units}"
            work.mkdir(parents=True)
        name = f"iucut_scale_{units}_{secrets.token_hex(3)}"
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        dsn = with_database(admin_dsn, name)
        shape, steps = {}, {}
    corpus = work / "corpus"
    keep = keep or phase == "first"
    try:
        env = {
            k: v
            for k, v in os.environ.items()
            if not (k.startswith(("IUCUT_", "PG")) or k == "DATABASE_URL")
        }
        env.update(
            IUCUT_DSN=dsn,
            IUCUT_EXECUTION="enabled",
            IUCUT_HOME=str(work / "home"),
            IUCUT_ROOT=str(corpus),
        )
        apply = ["apply", "--jobs", str(jobs), str(corpus)]
        if phase != "rest":
            with ConnectionProvider(Target(dsn, "--dsn")).connect() as conn:
                migrate(conn, SCHEMA)
            shape = make_corpus(corpus, units, base)
            log(f"{units}: {shape}")
            steps["first_apply"] = {"load": load(), "iucut": build(), **run_cli(apply, env)}
            log(f"  first apply {steps['first_apply']}")
        if phase == "first":
            state = {"work": str(work), "dsn": dsn, "database": name, "corpus": shape}
            state_file.write_text(json.dumps({**state, "steps": steps}), encoding="utf-8")
            return {"corpus": shape, "jobs": jobs, "steps": steps}
        steps["unchanged_resync"] = {"load": load(), "iucut": build(), **run_cli(apply, env)}
        log(f"  unchanged {steps['unchanged_resync']}")
        # side by side: the stat fast path (no file read) and --rehash (every file read
        # and hashed, as before the fast path), alternating
        for _n in range(2):
            for key, extra in (
                ("unchanged_resync_rehash", ["--rehash"]),
                ("unchanged_resync_stat", []),
            ):
                steps.setdefault(key, []).append({"load": load(), **run_cli(apply + extra, env)})
                log(f"  {key} {steps[key][-1]}")
        edit_one_clause(corpus, 7)
        steps["one_change"] = {"load": load(), **run_cli(apply, env)}
        log(f"  one change {steps['one_change']}")
        files = sorted(corpus.rglob("*.md"))
        step = max(1, len(files) // max(1, len(files) // 100))
        changed = 0
        for i in range(0, len(files), step):
            edit_one_clause(corpus, i)
            changed += 1
        plan = ["plan", "--jobs", str(jobs), str(corpus), "-o", str(work / "plan.json")]
        steps["plan_1pct"] = {"load": load(), "documents_changed": changed, **run_cli(plan, env)}
        log(f"  plan 1% {steps['plan_1pct']}")
        return {"corpus": shape, "jobs": jobs, "steps": steps}
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
            with psycopg.connect(admin_dsn, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def build() -> str:
    """Which iucut the steps run: the commit of the package's tree (``+dirty`` when it
    has changes), and its folder."""
    import iucut

    folder = Path(iucut.__file__).parent
    try:
        head = subprocess.run(
            ["git", "-C", str(folder), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        head = (folder / "COMMIT").read_text().strip() if (folder / "COMMIT").is_file() else "?"
    return f"{head} ({folder})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", help="an admin (CREATE DATABASE) DSN; default: embedded server")
    parser.add_argument("--home", default="bench/out/home", help="embedded server home")
    parser.add_argument("--units", type=int, action="append", help="scale (repeatable)")
    parser.add_argument("--jobs", type=int, default=0, help="--jobs of each command")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--keep", action="store_true", help="keep the corpus and databases")
    parser.add_argument(
        "--phase",
        choices=("all", "first", "rest"),
        default="all",
        help="first: corpus, database and first apply only, kept in --work; rest: the "
        "other steps on what first kept",
    )
    parser.add_argument("--work", type=Path, help="where the corpora are made (and kept)")
    args = parser.parse_args()
    if args.dsn:
        admin_dsn = args.dsn
    else:
        from iucut.db.embedded import EmbeddedServer

        server = EmbeddedServer(Path(args.home))
        server.start()
        admin_dsn = server.url("postgres")
        POSTMASTER[0] = int((server.pgdata / "postmaster.pid").read_text().split()[0])
    import compileall

    import iucut

    compileall.compile_dir(Path(iucut.__file__).parent, quiet=1)
    base = pieces() if args.phase != "rest" else []
    log(f"{len(base)} pieces, {sum(n for _, _, n in base)} units")
    figures: dict[str, Any] = {"machine": machine(admin_dsn), "scales": {}}
    for units in args.units or [100_000]:
        figures["scales"][str(units)] = one_scale(
            admin_dsn, units, base, args.jobs, args.keep, args.phase, args.work
        )
    text = json.dumps(figures, indent=2, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
