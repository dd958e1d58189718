"""References extraction side by side: what a worker of ``iucut apply`` spends per document
on its cross-references (:func:`iucut.refs.document_references`), this tree against another
build, and whether both find the very same references.

    .venv/bin/python bench/refs_bench.py --base 8b836c3 --rounds 7
    .venv/bin/python bench/refs_bench.py --base main --docs 3000 --rounds 5 --check

Two corpora: ``bench`` (``--docs`` small generated documents of ``bench/resync_bench.py``'s
``make_corpus``, 4-5 units, "article … N-M" in their text) and ``shared`` (every file of
``../shared/corpora``). Each round runs, for each side in turn (the order alternating), one
fresh process per corpus on ``PYTHONPATH`` = that side's ``src``: it cuts every file
(:func:`iucut.cut.cut_file`, the CPU time of it reported as ``cut``), then finds every cut
document's references (``refs``: :func:`~iucut.refs.document_references` and
:func:`~iucut.refs.references_payload`, as planning does). The table shows the median CPU
seconds of the rounds and this / base. ``--check``: each side writes every document's codes
and references (the payload rows, each reference's path and group) and the two must be
the same, byte for byte.

``--base REV`` is ``git archive REV`` of this repository with its own compiled cutter built
there (as ``bench/cut_bench.py --builds``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPORA = ROOT.parent / "shared" / "corpora"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def worker(listing: Path, root: Path, dump: Path | None) -> None:
    """Cut the files of ``listing``, then find their references; print the CPU times."""
    from iucut.cut import cut_file
    from iucut.project import find_root
    from iucut.refs import document_references, references_payload

    files = listing.read_text(encoding="utf-8").split("\n")
    project = find_root(files[:1], given=root)  # (one root for every file, as a run has)
    t0 = time.process_time()
    docs = [cut_file(f, root=project) for f in files]
    t1 = time.process_time()
    found = [references_payload(document_references(doc)) for doc in docs]
    t2 = time.process_time()
    count = sum(len(rows) for rows in found)
    if dump is not None:
        with dump.open("w", encoding="utf-8") as out:
            for doc in docs:
                refs = document_references(doc)
                line = {
                    "path": doc.path,
                    "codes": [u.code for u in doc.units],
                    "payload": references_payload(refs),
                    "more": [[r.path, r.group] for rs in refs.values() for r in rs],
                }
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
    print(json.dumps({"cut": t1 - t0, "refs": t2 - t1, "docs": len(docs), "found": count}))


def run(src: Path, listing: Path, root: Path, dump: Path | None = None) -> dict[str, Any]:
    argv = [sys.executable, __file__, "--worker", str(listing), "--root", str(root)]
    argv += ["--dump", str(dump)] if dump is not None else []
    out = subprocess.run(
        argv,
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(src), "IUCUT_PURE_PYTHON": ""},
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def corpora(work: Path, docs: int) -> dict[str, tuple[Path, Path]]:
    """Each corpus's listing and root: the generated one made in ``work`` (once)."""
    sys.path.insert(0, str(HERE))
    from resync_bench import make_corpus

    bench = work / f"bench-{docs}"
    if not bench.is_dir():
        make_corpus(bench, docs)
    out = {}
    for name, root in (("bench", bench), ("shared", CORPORA)):
        files = sorted(str(p) for p in root.rglob("*.md") if p.name != "README.md")
        listing = work / f"{name}.txt"
        listing.write_text("\n".join(files), encoding="utf-8")
        out[name] = (listing, root)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", help="a revision of this repository to compare with")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--docs", type=int, default=3000, help="generated documents")
    ap.add_argument("--check", action="store_true", help="the same references on both sides")
    ap.add_argument("--work", type=Path, help="where the corpus is kept (default: a temp dir)")
    ap.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--dump", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker is not None:
        worker(args.worker, args.root, args.dump)
        return
    sys.path.insert(0, str(HERE))
    from cut_bench import checkout

    with tempfile.TemporaryDirectory(prefix="iucut-refs-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        sides = {"this": ROOT / "src"}
        if args.base:
            name, src = checkout(args.base, Path(tmp) / "base")
            sides = {f"base {name}": src, **sides}
        subprocess.run([sys.executable, "-m", "compileall", "-q", *map(str, sides.values())])
        found = corpora(work, args.docs)
        if args.check:
            for corpus, (listing, root) in found.items():
                digests = {}
                for side, src in sides.items():
                    dump = Path(tmp) / f"{corpus}-{len(digests)}.jsonl"
                    run(src, listing, root, dump)
                    digests[side] = hashlib.sha256(dump.read_bytes()).hexdigest()
                    lines = dump.read_text(encoding="utf-8").count("\n")
                same = len(set(digests.values())) == 1
                log(f"{corpus}: {lines} documents, codes and references the same: {same}")
                if not same:
                    sys.exit(f"{corpus}: the references differ ({digests})")
        times: dict[tuple[str, str], list[dict[str, Any]]] = {}
        order = list(sides)
        for r in range(args.rounds):
            for side in order if r % 2 == 0 else order[::-1]:
                for corpus, (listing, root) in found.items():
                    got = run(sides[side], listing, root)
                    times.setdefault((side, corpus), []).append(got)
            log(f"round {r + 1}/{args.rounds}")
        print(f"{platform.node()}, Python {platform.python_version()}, {args.rounds} rounds")
        print("CPU seconds, median (min-max) of the rounds")
        print("| corpus | side | docs | references | cut | refs | cut / base | refs / base |")
        print("|---|---|---|---|---|---|---|---|")
        for corpus in found:
            first: dict[str, float] = {}
            for side in order:
                got = times[(side, corpus)]
                cells = []
                for what in ("cut", "refs"):
                    xs = [g[what] for g in got]
                    first.setdefault(what, statistics.median(xs))
                    cells.append(f"{statistics.median(xs):.3f} ({min(xs):.3f}-{max(xs):.3f})")
                ratios = [
                    statistics.median(g[what] for g in got) / first[what]
                    for what in ("cut", "refs")
                ]
                print(
                    f"| {corpus} | {side} | {got[0]['docs']} | {got[0]['found']} "
                    f"| {cells[0]} | {cells[1]} | {ratios[0]:.2f} | {ratios[1]:.2f} |"
                )


if __name__ == "__main__":
    main()
