"""Single node vs the Citus cluster (issue #16 part 4, for the record): the first apply of
the shared corpora into a fresh schema, and the export of every document compared with
its source bytes, on the coordinator's local tables (single node) and on the distributed
layout (`migrate --distributed` before the apply), alternating the order each round.

    python bench/citus_bench.py --dsn postgresql://postgres@127.0.0.1:$COORDINATOR/iucut \
        [--rounds 1] [--jobs 2] [--claims]

``--claims``: instead, the cluster's first apply with the namespace claims (a write of the
reference table iu_namespace_claim, a two-phase commit on every node, per new document)
against the same apply with the claim step taken out of fn_iu_apply_document (the
function as it was before the claims), alternating; no export.

The DSN is a Citus coordinator with its workers added (tests/citus/conftest.py makes one).
Each measurement gets a schema of its own, dropped afterwards. The corpora: de-laws,
vn-laws and en-terms-history of ../shared/corpora (the terms history: its last version).
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from iucut import distributed as layout
from iucut.browse import export
from iucut.db.connector import ConnectionProvider
from iucut.db.target import Target

CORPORA = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpora"
IUCUT = str(Path(sys.executable).with_name("iucut"))


def corpus(folder: Path) -> list[Path]:
    """The documents, copied into ``folder`` (one version of the terms history)."""
    for name in ("de-laws", "vn-laws"):
        for f in sorted((CORPORA / name).rglob("*.md")):
            target = folder / name / f.relative_to(CORPORA / name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, target)
    terms = folder / "en-terms"
    terms.mkdir()
    shutil.copyfile(sorted((CORPORA / "en-terms-history").glob("*.md"))[-1], terms / "terms.md")
    return sorted(folder.rglob("*.md"))


def iucut(dsn: str, schema: str, root: Path, *args: str) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IUCUT_", "PG"))}
    env.update(
        IUCUT_DSN=dsn, IUCUT_SCHEMA=schema, IUCUT_ROOT=str(root), IUCUT_EXECUTION="enabled",
        IUCUT_APPLY_ROLE="cutter_exec", IUCUT_HOME=str(root.parent / "home"),
    )  # fmt: skip
    started = time.monotonic()
    done = subprocess.run([IUCUT, *args], env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"iucut {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return seconds


CLAIM_STEP = (
    "    -- citus: the namespaces of the codes this document creates",
    "    -- A code belongs to one document. citus:",
)


def without_claims(dsn: str, schema: str) -> None:
    """fn_iu_apply_document of the layout with its claim step taken out."""
    sql = layout.queries.get("layout_functions", schema)
    head, rest = sql.split(CLAIM_STEP[0], 1)
    sql = head + CLAIM_STEP[1] + rest.split(CLAIM_STEP[1], 1)[1]
    provider = ConnectionProvider(Target(dsn, "--dsn"))
    with provider.connect(autocommit=True) as conn, conn.transaction():
        layout.run_script(conn, layout.queries.get("settings", schema))
        layout.run_script(conn, sql)


def measure(
    dsn: str, root: Path, files: list[Path], distributed: bool, jobs: int, claims: bool = True
) -> dict:
    schema = f"bench_{'dist' if distributed else 'one'}_{secrets.token_hex(3)}"
    iucut(dsn, schema, root, "migrate", "--roles", *(["--distributed"] if distributed else []))
    if not claims:
        without_claims(dsn, schema)
    try:
        applied = iucut(dsn, schema, root, "apply", str(root), "--jobs", str(jobs))
        provider = ConnectionProvider(Target(dsn, "--dsn"), schema=schema)
        started = time.monotonic()
        same = 0
        with provider.connect(autocommit=True) as conn:
            units = conn.execute(f"SELECT count(*) FROM {schema}.information_unit").scalar()
            for f in files:
                _, text = export(conn, str(f.relative_to(root)))
                same += text.encode() == f.read_bytes()
        exported = time.monotonic() - started
    finally:
        with ConnectionProvider(Target(dsn, "--dsn")).connect(autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    return {"apply": applied, "export": exported, "identical": same, "units": units}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--claims", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="iucut-citusbench-"))
    try:
        root = work / "corpora"
        root.mkdir()
        files = corpus(root)
        print(f"{len(files)} documents; jobs {args.jobs}; load {os.getloadavg()}", flush=True)
        for r in range(args.rounds if args.claims else 0):
            for claims in (True, False) if r % 2 == 0 else (False, True):
                m = measure(args.dsn, root, [], True, args.jobs, claims)
                print(
                    f"round {r + 1} cluster, claims {'on ' if claims else 'off'}: first apply "
                    f"{m['apply']:.1f} s ({m['units']} units); load {os.getloadavg()}",
                    flush=True,
                )
        for r in range(0 if args.claims else args.rounds):
            order = (False, True) if r % 2 == 0 else (True, False)
            for distributed in order:
                m = measure(args.dsn, root, files, distributed, args.jobs)
                print(
                    f"round {r + 1} {'cluster' if distributed else 'single '}: first apply "
                    f"{m['apply']:.1f} s ({m['units']} units), export {m['export']:.1f} s "
                    f"({m['identical']}/{len(files)} identical); load {os.getloadavg()}",
                    flush=True,
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
