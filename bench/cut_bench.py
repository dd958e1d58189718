"""Cut throughput: iucut's cut+enrich against LangChain and Chonkie splitters, side by side.

    .venv/bin/python bench/cut_bench.py            # shared corpora + generated 100 MB corpus
    .venv/bin/python bench/cut_bench.py --mb 20    # a smaller generated corpus

Every (tool, corpus) pair runs in its own process pinned to one CPU, reading the files
one at a time from disk, so the peak RSS it reports is what that tool needs for the
largest file, not for the corpus; it runs ``--repeat`` times (3) and the fastest run
counts, with the spread of the runs shown (the machine is shared). Tools, each on the
same files:

* ``iucut``: :func:`iucut.cut.cut_file` — decode, block scan, labels, codes, titles,
  spans and content hashes: the full rows of the cut plan (cut + enrich), by the
  compiled core;
* ``iucut-py``: the same with ``IUCUT_PURE_PYTHON=1``: the reference cutter in Python;
* ``langchain``: ``MarkdownHeaderTextSplitter`` on ``#`` … ``######``;
* ``chonkie``: ``RecursiveChunker()`` with its default (Markdown-agnostic) rules.

The generated corpus is whole files of ``../shared/corpora`` concatenated (seeded, so
the bytes are the same on every run) into ~100 KB documents; a tenth of it is cut
too, to check that time is linear in the input.

Builds of iucut side by side (this checkout against others, e.g. main)::

    .venv/bin/python bench/cut_bench.py --builds /work/main --builds 914476f --rounds 5
    .venv/bin/python bench/cut_bench.py --builds main --callgrind

builds each other checkout's committed sources (``git archive HEAD``; or a revision of
this repository) with its compiled core into a temporary directory and cuts, in
alternating rounds (the order rotates each round), each in a fresh process pinned to
one CPU: every corpus file with the built-in profiles (detected), the same files with
configured profiles (copies of the built-in rules under other names, pinned by path),
and the corpus concatenated into one file.
The fastest round of each counts; the table shows MB/s and ms per document (CPU time).
With ``--callgrind`` it counts the instructions each build executes instead (under
valgrind, one round; less those of a run that cuts only the first file): a figure that
other load on the machine does not change.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpora"
TOOLS = ("iucut", "iucut-py", "langchain", "chonkie")
DOC_BYTES = 100_000


def generate(folder: Path, megabytes: int) -> list[Path]:
    """Write (once) ``megabytes`` MB of documents made of whole corpus files."""
    sources = sorted(CORPORA.rglob("*.md"))
    folder.mkdir(parents=True, exist_ok=True)
    count = megabytes * 1_000_000 // DOC_BYTES
    out = []
    for k in range(count):
        path = folder / f"gen-{k:05d}.md"
        if not path.exists():
            rng = random.Random(k)
            parts: list[bytes] = []
            size = 0
            while size < DOC_BYTES:
                data = rng.choice(sources).read_bytes()
                parts.append(data)
                size += len(data)
            path.write_bytes(b"".join(parts))
        out.append(path)
    return out


def one_file(folder: Path, generated: list[Path], megabytes: int) -> Path:
    """One document of ``megabytes`` MB: generated documents concatenated (once)."""
    path = folder / f"single-{megabytes}mb.md"
    if not path.exists():
        with path.open("wb") as out:
            size = 0
            for doc in generated:
                if size >= megabytes * 1_000_000:
                    break
                data = doc.read_bytes()
                out.write(data)
                size += len(data)
    return path


def worker(tool: str, listing: Path) -> None:
    """Run one tool over the files named in ``listing``; print one JSON line."""
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1]})
    files = [Path(line) for line in listing.read_text().splitlines() if line]
    if tool in ("iucut", "iucut-py"):
        if tool == "iucut-py":  # the reference cutter, pure Python
            os.environ["IUCUT_PURE_PYTHON"] = "1"
        from iucut.cut import cut_file, cutter

        assert (tool == "iucut") == cutter.COMPILED, "the compiled core is not built"

        def run(path: Path) -> int:
            return len(cut_file(path).units)
    elif tool == "langchain":
        from langchain_text_splitters import MarkdownHeaderTextSplitter

        splitter = MarkdownHeaderTextSplitter(
            [("#" * n, f"h{n}") for n in range(1, 7)], strip_headers=False
        )

        def run(path: Path) -> int:
            return len(splitter.split_text(path.read_text(encoding="utf-8", errors="replace")))
    else:
        from chonkie import RecursiveChunker

        chunker = RecursiveChunker()

        def run(path: Path) -> int:
            return len(chunker.chunk(path.read_text(encoding="utf-8", errors="replace")))

    total = sum(p.stat().st_size for p in files)
    pieces = 0
    wall, cpu = time.perf_counter(), time.process_time()
    for path in files:
        pieces += run(path)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(
        json.dumps(
            {
                "tool": tool,
                "bytes": total,
                "files": len(files),
                "pieces": pieces,
                "wall": wall,
                "cpu": cpu,
                "rss": rss,
                "largest": max((p.stat().st_size for p in files), default=0),
            }
        )
    )


def configured_copies() -> dict[str, object]:
    """Configuration with each built-in profile copied as a configured one (``vi`` as
    ``vi2`` …) and the corpus folders pinned to the copies."""
    from iucut.cut.profiles import PROFILES

    labels = {}
    for name, prof in PROFILES.items():
        labels[name + "2"] = [
            {
                "kind": r.kind,
                "rank": r.rank,
                "prefix": r.prefix,
                "head": r.head.pattern,
                **({"line": r.line.pattern} if r.line is not None else {}),
                "scope": r.scope,
                "within": list(r.within),
                "strict": r.strict,
                "start": r.start,
            }
            for r in prof.rules
        ]
    pinned = {"vn-laws/**": "vi2", "de-laws/**": "de2", "en-terms-history/**": "en2"}
    return {"labels": labels, "profiles": pinned}


def build_worker(listing: Path, configured: bool) -> None:
    """Cut the files named in ``listing`` with the iucut on sys.path; one JSON line."""
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1]})
    from iucut.cut import cutter

    assert cutter.COMPILED, "the compiled core is not built"
    where = os.environ.get("PYTHONPATH", "")
    assert cutter.__file__.startswith(where), f"{cutter.__file__} is not from {where}"
    config = configured_copies() if configured else None
    docs = []
    for line in listing.read_text().splitlines():
        path = Path(line)
        rel = path.relative_to(CORPORA).as_posix() if path.is_relative_to(CORPORA) else path.name
        docs.append((path.read_bytes(), rel))
    cutter.cut_text(docs[0][0], docs[0][1], config=config)  # warm: compiled rules, caches
    units = 0
    cpu = time.process_time()
    for data, rel in docs:
        units += len(cutter.cut_text(data, rel, config=config).units)
    cpu = time.process_time() - cpu
    size = sum(len(d) for d, _ in docs)
    print(json.dumps({"cpu": cpu, "bytes": size, "files": len(docs), "units": units}))


def checkout(other: str, tmp: Path) -> tuple[str, Path]:
    """Another build's committed sources, built in ``tmp``: ``other`` is a checkout (its
    HEAD) or a revision of this repository. Its name in the table and its ``src``."""
    where, rev = (Path(other), "HEAD") if Path(other).is_dir() else (ROOT, other)
    git = ["git", "-C", str(where)]
    archive = subprocess.run(
        [*git, "archive", rev, "src", "setup.py", "pyproject.toml"],
        check=True,
        capture_output=True,
    ).stdout
    tmp.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive, check=True)
    commit = subprocess.run(
        [*git, "rev-parse", "--short", rev], check=True, capture_output=True, text=True
    ).stdout.strip()
    subprocess.run(
        [sys.executable, "setup.py", "-q", "build_ext", "--inplace"],
        cwd=tmp,
        check=True,
        capture_output=True,
    )
    name = Path(other).name if where != ROOT else other
    return f"{name} {commit}" if name != commit else commit, tmp / "src"


def run_worker(src: Path, listing: Path, configured: bool, callgrind: bool) -> dict[str, float]:
    """One build_worker process on the build at ``src``; with ``callgrind``, under
    valgrind's callgrind, adding ``ir``: the instructions it executed."""
    argv = [sys.executable, __file__, "--build-worker", str(listing)]
    argv += ["--configured"] if configured else []
    if callgrind:
        argv = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv]
    out = subprocess.run(
        argv,
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(src), "IUCUT_PURE_PYTHON": ""},
    )
    r = json.loads(out.stdout.strip().splitlines()[-1])
    if callgrind:
        collected = [ln for ln in out.stderr.splitlines() if "Collected :" in ln]
        r["ir"] = int(collected[-1].split(":")[-1])
    return r


def builds(others: list[str], rounds: int, scratch: Path, callgrind: bool) -> None:
    """This checkout against ``others`` (see the module docstring)."""
    tmp = Path(tempfile.mkdtemp(prefix="iucut-builds-"))
    sides = dict(checkout(o, tmp / str(k)) for k, o in enumerate(others))
    here = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "src", "setup.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    sides[f"this {here}{'+' if dirty else ''}"] = ROOT / "src"
    files = sorted(p for p in CORPORA.rglob("*.md") if p.parent != CORPORA)
    scratch.mkdir(parents=True, exist_ok=True)
    whole = scratch / "corpora-concatenated.md"
    whole.write_bytes(b"".join(p.read_bytes() for p in files))
    cases = {
        "built-in profiles, each file": (files, False),
        "configured profiles, each file": (files, True),
        "built-in, one concatenated file": ([whole], False),
    }
    if callgrind:  # the concatenated file takes minutes under valgrind; one round is exact
        del cases["built-in, one concatenated file"]
        rounds = 1
    best: dict[tuple[str, str], dict[str, float]] = {}
    order = list(sides.items())
    for k in range(rounds):
        for side, src in order[k % len(order) :] + order[: k % len(order)]:
            for case, (paths, configured) in cases.items():
                listing = scratch / f"builds-{len(paths)}.txt"
                listing.write_text("\n".join(str(p) for p in paths))
                r = run_worker(src, listing, configured, callgrind)
                if callgrind:  # less what it takes to start and cut the first file
                    first = scratch / "builds-first.txt"
                    first.write_text(str(paths[0]))
                    r["ir"] -= run_worker(src, first, configured, callgrind)["ir"]
                if (side, case) not in best or r["cpu"] < best[(side, case)]["cpu"]:
                    best[(side, case)] = r
    what = "instructions (callgrind), one round" if callgrind else "CPU time"
    print(
        f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; nproc={os.cpu_count()}; "
        f"{_cpu_model()}; Python {platform.python_version()}; load average "
        f"{os.getloadavg()[0]:.2f}; best of {rounds} alternating rounds ({what})"
    )
    if callgrind:
        print("| case | build | files | units | instructions | per document |")
        print("|---|---|---:|---:|---:|---:|")
    else:
        print("| case | build | MB | files | units | s (CPU) | MB/s | ms per document |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
    for case in cases:
        for side in sides:
            r = best[(side, case)]
            mb = r["bytes"] / 1e6
            if callgrind:
                print(
                    f"| {case} | {side} | {r['files']} | {r['units']:,} | {r['ir']:,} | "
                    f"{r['ir'] / r['files']:,.0f} |"
                )
                continue
            print(
                f"| {case} | {side} | {mb:.1f} | {r['files']} | {r['units']:,} | "
                f"{r['cpu']:.2f} | {mb / r['cpu']:.1f} | {1000 * r['cpu'] / r['files']:.2f} |"
            )
    key = "ir" if callgrind else "cpu"
    mine = list(sides)[-1]
    for case in cases:
        for side in list(sides)[:-1]:
            ratio = best[(side, case)][key] / best[(mine, case)][key]
            print(f"# {case}: this build is {ratio:.2f}x {side} (throughput ratio, {key})")
    shutil.rmtree(tmp)


def measure(tool: str, files: list[Path], scratch: Path) -> dict[str, float]:
    listing = scratch / f"files-{len(files)}.txt"
    listing.write_text("\n".join(str(p) for p in files))
    out = subprocess.run(
        [sys.executable, __file__, "--worker", tool, str(listing)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=105, help="generated corpus size (MB)")
    parser.add_argument("--gen-dir", type=Path, default=Path("/tmp/iucut-cut-bench"))
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of each (corpus, tool), each in a fresh process; the fastest counts",
    )
    parser.add_argument(
        "--builds",
        action="append",
        metavar="CHECKOUT",
        help="compare this build with CHECKOUT's: a checkout (its HEAD) or a revision of "
        "this repository; may be given more than once",
    )
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (--builds)")
    parser.add_argument(
        "--callgrind",
        action="store_true",
        help="with --builds: count instructions under valgrind's callgrind instead of "
        "timing (one round; exact on a loaded machine; the concatenated file is left out)",
    )
    parser.add_argument("--worker", nargs=2, metavar=("TOOL", "LISTING"), help=argparse.SUPPRESS)
    parser.add_argument("--build-worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--configured", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], Path(args.worker[1]))
        return
    if args.build_worker:
        build_worker(args.build_worker, args.configured)
        return
    if args.builds:
        builds(args.builds, args.rounds, args.gen_dir, args.callgrind)
        return
    if not CORPORA.is_dir():
        sys.exit(f"missing {CORPORA}")
    tools = args.tools.split(",")
    generated = generate(args.gen_dir / "docs", args.mb)
    sets = {
        "shared corpora": sorted(CORPORA.rglob("*.md")),
        f"generated 1/10 ({len(generated) // 10} files)": generated[: len(generated) // 10],
        f"generated ({len(generated)} files)": generated,
        "one 5 MB file": [one_file(args.gen_dir, generated, 5)],
        "one 50 MB file": [one_file(args.gen_dir, generated, 50)],
    }
    print(
        f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; nproc={os.cpu_count()}; "
        f"{_cpu_model()}; Python {platform.python_version()}; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print(f"# best of {args.repeat} runs each; spread = slowest run / fastest run (CPU time)")
    print(
        "| corpus | MB | tool | pieces | s (wall) | s (CPU) | MB/s (CPU) | peak RSS MB | spread |"
    )
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
    results: dict[tuple[str, str], dict[str, float]] = {}
    for name, files in sets.items():
        for tool in tools if not name.startswith("one ") else [x for x in tools if x == "iucut"]:
            # Each run in a fresh process, the runs of the tools interleaved; the fastest
            # run counts (the machine is shared: the others only measure its noise).
            runs = [measure(tool, files, args.gen_dir) for _ in range(args.repeat)]
            r = min(runs, key=lambda run: run["cpu"])
            r["spread"] = max(run["cpu"] for run in runs) / r["cpu"]
            results[(name, tool)] = r
            mb = r["bytes"] / 1e6
            print(
                f"| {name} | {mb:.1f} | {tool} | {r['pieces']:,} | {r['wall']:.2f} | "
                f"{r['cpu']:.2f} | {mb / r['cpu']:.1f} | {r['rss'] / 1e6:.0f} | "
                f"{r['spread']:.2f} |",
                flush=True,
            )
    print(f"# load average after: {os.getloadavg()[0]:.2f}")
    names = list(sets)
    if "iucut" in tools and "iucut-py" in tools:
        for name in names[:3]:
            ratio = results[(name, "iucut-py")]["cpu"] / results[(name, "iucut")]["cpu"]
            print(f"# {name}: the compiled core is {ratio:.2f}x the Python cutter (CPU time)")
    if "iucut" in tools and "langchain" in tools:
        for name in names[:3]:
            ratio = results[(name, "langchain")]["cpu"] / results[(name, "iucut")]["cpu"]
            print(f"# {name}: iucut is {ratio:.2f}x MarkdownHeaderTextSplitter (CPU time)")
    if "iucut" in tools:
        small, big = results[(names[1], "iucut")], results[(names[2], "iucut")]
        print(
            f"# linearity: {big['bytes'] / small['bytes']:.1f}x input -> "
            f"{big['cpu'] / small['cpu']:.2f}x CPU time; peak RSS {small['rss'] / 1e6:.0f} "
            f"-> {big['rss'] / 1e6:.0f} MB (largest file {big['largest'] / 1e6:.2f} MB)"
        )
        small, big = results[(names[3], "iucut")], results[(names[4], "iucut")]
        print(
            f"# linearity in one file: {big['bytes'] / small['bytes']:.1f}x input -> "
            f"{big['cpu'] / small['cpu']:.2f}x CPU time; peak RSS {small['rss'] / 1e6:.0f} "
            f"-> {big['rss'] / 1e6:.0f} MB"
        )


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    main()
