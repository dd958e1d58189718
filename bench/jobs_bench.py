"""--jobs 2 against --jobs 1, side by side: `iucut cut` and a first `iucut apply` of the
shared laws (de-laws + vn-laws), alternating rounds, with where the CPU went.

Each step is a fresh ``iucut`` process, timed end to end. The CPU is counted per process,
which a machine shared with others does not change (the wall time it does):

- ``parent``: the ``iucut`` process itself (all its threads: for apply, the writers),
  its ``RUSAGE_SELF`` at exit (the command runs under a small wrapper that writes it);
- ``workers``: its worker processes (``RUSAGE_CHILDREN`` at exit: cutting);
- ``server``: the embedded server's processes (from ``/proc``: nothing else uses it).

- ``serial``: the parent's CPU before its first worker started and after the last one
  ended (start-up, listing; cut's summary): what no second core can share;
- ``workers_idle_s``: the wall time the workers waited for their next batch, summed
  (a full window, the parent busy; on a shared machine also the parent not scheduled).

From these, ``bound`` is the speed-up ``--jobs 2`` could reach on two idle cores: the
CPU of ``--jobs 1`` (its processes take turns: a client waits for its server) over the
least wall time ``--jobs 2`` can take: its serial CPU plus the rest of its CPU shared by
the two cores, and no less than its parent's CPU (one process; for apply, one
interpreter lock for its writers). Waits (commits, locks) are left out of both sides, so
it is an upper bound as far as CPU goes. A pure-Python burn (16 tasks of arithmetic in 1
and in 2 processes, no iucut) is measured in the same rounds: on a machine shared by
others it is the ceiling any program could reach at that moment.

    python bench/jobs_bench.py --rounds 2 --json bench/out/jobs.json
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import psycopg

from iucut.db.connector import ConnectionProvider
from iucut.db.target import Target, with_database
from iucut.migrate import migrate

CORPORA = next(
    (
        p / "shared" / "corpora"
        for p in Path(__file__).resolve().parents
        if (p / "shared" / "corpora").is_dir()
    ),
    Path("shared/corpora"),
)
LAWS = [str(CORPORA / "de-laws"), str(CORPORA / "vn-laws")]
TICK = os.sysconf("SC_CLK_TCK")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load() -> float:
    return round(os.getloadavg()[0], 2)


def server_cpu(postmaster: int) -> float:
    """CPU seconds (user + system) of the server's processes alive now and of those that
    ended (the postmaster's cutime/cstime)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(stat.parent.name), int(fields[1])
        if pid == postmaster:
            total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
        elif ppid == postmaster:
            total += int(fields[11]) + int(fields[12])
    return total / TICK


#: Runs the iucut command as its console script does, and writes the CPU of the process
#: (all its threads) and of its waited-for children (the workers) at exit.
WRAPPER = """
import atexit, json, os, resource, sys, time
import iucut.parallel
marks = {}
def _first_fork():
    marks.setdefault("first_fork", time.process_time())
os.register_at_fork(before=_first_fork)
_close = iucut.parallel._Pool.close
def _closed(self):
    _close(self)
    marks["last_close"] = time.process_time()
iucut.parallel._Pool.close = _closed
_worker = iucut.parallel._worker
class _Timed:  # a worker's pipe, with the time it waited for its next batch
    def __init__(self, conn):
        self.conn, self.idle = conn, 0.0
    def recv(self):
        t = time.perf_counter()
        try:
            return self.conn.recv()
        finally:
            self.idle += time.perf_counter() - t
    def __getattr__(self, name):
        return getattr(self.conn, name)
def _timed_worker(conn, *args):
    timed = _Timed(conn)
    _worker(timed, *args)
    with open(f"{sys.argv[1]}.idle.{os.getpid()}", "w") as f:
        f.write(str(timed.idle))
iucut.parallel._worker = _timed_worker
def _cpu():
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    end = time.process_time()
    before = marks.get("first_fork", end)
    after = end - marks.get("last_close", end)
    with open(sys.argv.pop(1), "w") as f:
        json.dump([s.ru_utime + s.ru_stime, c.ru_utime + c.ru_stime, before, after], f)
atexit.register(_cpu)
from iucut.cli import main
sys.argv[0] = "iucut"
main([a for a in sys.argv[2:]])
"""


def run(args: list[str], env: dict[str, str], postmaster: int | None) -> dict[str, Any]:
    before = server_cpu(postmaster) if postmaster else 0.0
    with tempfile.TemporaryDirectory() as tmp:
        # a home of its own: no cut cache from an earlier run (a first apply cuts all)
        env = {**env, "IUCUT_HOME": tmp}
        cpu_file = Path(tmp) / "cpu.json"
        command = [sys.executable, "-c", WRAPPER, str(cpu_file), *args]
        started = time.perf_counter()
        with tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=err)
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - started
            err.seek(0)
            text = err.read().decode(errors="replace")
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 2, 3):
            raise SystemExit(f"iucut {' '.join(args)}: exit {code}: {text}")
        parent, workers, before_workers, after_workers = json.loads(cpu_file.read_text())
        idle = sum(float(f.read_text()) for f in Path(tmp).glob("cpu.json.idle.*"))
    return {
        "seconds": round(seconds, 2),
        "parent_cpu": round(parent, 2),
        "workers_cpu": round(workers, 2),
        # the parent's CPU before its first worker started and after the last one ended
        # (start-up, listing; the summary): what no second core can share
        "serial_cpu": round(before_workers + after_workers, 2),
        # the workers' wall time waiting for their next batch, summed (the window full,
        # the parent busy or not scheduled; from their start to their end)
        "workers_idle_s": round(idle, 2),
        "client_cpu": round(usage.ru_utime + usage.ru_stime, 2),
        "server_cpu": round(server_cpu(postmaster) - before, 2) if postmaster else 0.0,
        "peak_mib": round(usage.ru_maxrss / 1024, 1),
        "load": load(),
    }


def bound(one: list[dict[str, Any]], two: list[dict[str, Any]], cores: int = 2) -> float:
    """The speed-up of ``two`` over ``one`` on ``cores`` idle cores at most (medians): the
    CPU of ``one`` (its processes take turns: a client waits for its server) over the
    least wall time of ``two``: its serial CPU (before and after its workers) plus the
    rest shared by the cores, and no less than its parent's CPU (one process; for apply,
    one interpreter lock for its writers)."""
    serial = median([r["client_cpu"] + r["server_cpu"] for r in one])
    parent = median([r["parent_cpu"] for r in two])
    alone = median([r["serial_cpu"] for r in two])
    total = median([r["client_cpu"] + r["server_cpu"] for r in two])
    return round(serial / max(parent, alone + (total - alone) / cores), 2)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def burn(n: int) -> int:
    s = 0
    for i in range(n):
        s += i * i
    return s


def calibrate(jobs: int) -> dict[str, Any]:
    started = time.perf_counter()
    with ProcessPoolExecutor(jobs) as pool:
        list(pool.map(burn, [2_000_000] * 16))
    return {"seconds": round(time.perf_counter() - started, 2), "load": load()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", default="bench/out/home", help="embedded server home")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-apply", action="store_true", help="cut only")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    admin, postmaster = "", 0
    if not args.no_apply:  # (cut needs no server)
        from iucut.db.embedded import EmbeddedServer

        server = EmbeddedServer(Path(args.home))
        server.start()
        admin = server.url("postgres")
        postmaster = int((server.pgdata / "postmaster.pid").read_text().split()[0])
    env = {
        k: v
        for k, v in os.environ.items()
        if not (k.startswith(("IUCUT_", "PG")) or k == "DATABASE_URL")
    }
    env.update(IUCUT_EXECUTION="enabled", IUCUT_ROOT=str(CORPORA))
    rows: list[dict[str, Any]] = []
    for n in range(args.rounds):
        for jobs in (1, 2) if n % 2 == 0 else (2, 1):
            row: dict[str, Any] = {"round": n, "jobs": jobs, "burn": calibrate(jobs)}
            with tempfile.TemporaryDirectory() as tmp:
                row["cut"] = run(
                    ["cut", "-q", "--jobs", str(jobs), *LAWS, "-o", f"{tmp}/rows.jsonl"],
                    env,
                    None,
                )
            if not args.no_apply:
                name = f"iucut_jobs_{secrets.token_hex(3)}"
                with psycopg.connect(admin, autocommit=True) as conn:
                    conn.execute(f"CREATE DATABASE {name}")
                dsn = with_database(admin, name)
                try:
                    with ConnectionProvider(Target(dsn, "--dsn")).connect() as conn:
                        migrate(conn, "public")
                    row["apply"] = run(
                        ["apply", "--jobs", str(jobs), *LAWS], {**env, "IUCUT_DSN": dsn}, postmaster
                    )
                finally:
                    with psycopg.connect(admin, autocommit=True) as conn:
                        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            log(json.dumps(row))
            rows.append(row)
    summary: dict[str, Any] = {}
    for step in ("burn", "cut", "apply"):
        one = [r[step] for r in rows if r["jobs"] == 1 and step in r]
        two = [r[step] for r in rows if r["jobs"] == 2 and step in r]
        if not (one and two):
            continue
        summary[step] = {
            "jobs1_s": sorted(r["seconds"] for r in one),
            "jobs2_s": sorted(r["seconds"] for r in two),
            "ratio_of_sums": round(
                sum(r["seconds"] for r in one) / sum(r["seconds"] for r in two), 2
            ),
        }
        if step != "burn":
            for jobs, runs in (("jobs1", one), ("jobs2", two)):
                summary[step][f"{jobs}_cpu"] = {
                    k: median([r[k] for r in runs])
                    for k in (
                        "parent_cpu",
                        "serial_cpu",
                        "workers_cpu",
                        "workers_idle_s",
                        "server_cpu",
                    )
                }
            summary[step]["bound_on_2_idle_cores"] = bound(one, two)
    out = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "rows": rows, **summary}
    text = json.dumps(out, indent=2)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
