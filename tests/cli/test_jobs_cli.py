"""``--jobs N``: documents cut in worker processes give the output of ``--jobs 1``, byte for
byte (rows, JSON, summary, --check, plan file); a bad document is reported with its path
and the others go on; Ctrl-C leaves no worker process behind."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import CliEnv, iucut_command
from iucut.cut import cut_paths
from iucut.parallel import available_cpus, ordered_map, resolve_jobs

CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"
VN_LAWS = CORPORA / "vn-laws"


def _corpus_part(tmp_path: Path, count: int = 40) -> Path:
    """The first ``count`` files of vn-laws (sizes from small to large)."""
    folder = tmp_path / "laws"
    folder.mkdir()
    for n, path in enumerate(sorted(VN_LAWS.rglob("*.md"))[1 : count + 1]):
        shutil.copyfile(path, folder / f"{n:03d}-{path.name}")
    return folder


def test_cut_rows_summary_and_check_are_the_same_for_every_number_of_jobs(
    cli_offline: CliEnv, tmp_path: Path
) -> None:
    """`cut -o`, `cut --json`, the summary and `--check` with --jobs 2 and 3 equal --jobs 1."""
    folder = _corpus_part(tmp_path)
    outputs: dict[str, list[Any]] = {}
    for jobs in ("1", "2", "3"):
        rows = tmp_path / "rows.jsonl"  # (its name is in the summary)
        runs = [
            cli_offline.run("cut", "--jobs", jobs, str(folder), "-o", str(rows)),
            cli_offline.run("cut", "--jobs", jobs, "--json", str(folder)),
            cli_offline.run("cut", "--jobs", jobs, "--check", str(folder)),
            cli_offline.run("cut", "--jobs", jobs, "-v", str(folder)),
        ]
        for run in runs:
            assert run.returncode == 0, run.stderr
        outputs[jobs] = [rows.read_bytes()] + [(r.stdout, r.stderr) for r in runs]
    assert len(outputs["1"][0].splitlines()) > 1000
    assert outputs["2"] == outputs["1"]
    assert outputs["3"] == outputs["1"]


def test_a_bad_document_under_jobs_is_reported_and_the_others_go_on(
    cli_offline: CliEnv, tmp_path: Path
) -> None:
    """An empty file among good ones, --jobs 2: its path in the error, every other
    document's rows written, exit 3, the same output as --jobs 1."""
    folder = _corpus_part(tmp_path, 12)
    (folder / "m-empty.md").write_bytes(b"")
    got = {}
    for jobs in ("1", "2"):
        result = cli_offline.run("cut", "--jobs", jobs, "--json", str(folder))
        assert result.returncode == 3, result.stderr
        assert "m-empty.md" in result.stderr and "empty document" in result.stderr
        got[jobs] = (result.stdout, result.stderr)
    assert got["2"] == got["1"]
    rows = [json.loads(x) for x in got["2"][0].split("\n") if x.startswith('{"namespace"')]
    assert len({r["doc_hash"] for r in rows}) == 12  # every good document's rows


def test_library_cut_paths_jobs_keeps_source_order_and_errors(tmp_path: Path) -> None:
    """`cut_paths(jobs=2)` and `iter_cut` yield what jobs=1 yields, errors in place."""
    from iucut.cutting import iter_cut

    folder = _corpus_part(tmp_path, 10)
    (folder / "c-empty.md").write_bytes(b"\n")
    one = list(iter_cut([folder], root=tmp_path, jobs=1))
    two = list(iter_cut([folder], root=tmp_path, jobs=2))
    assert [type(x).__name__ for x in two] == [type(x).__name__ for x in one]
    assert [getattr(x, "path", str(x)) for x in two] == [getattr(x, "path", str(x)) for x in one]
    assert [x.units for x in two if not isinstance(x, Exception)] == [
        x.units for x in one if not isinstance(x, Exception)
    ]
    err = next(x for x in two if isinstance(x, Exception))
    assert "laws/c-empty.md" in str(err) and err.context["path"] == "laws/c-empty.md"
    good = [f for f in folder.iterdir() if f.name != "c-empty.md"]
    assert [d.path for d in cut_paths(good, root=tmp_path, jobs=2)] == [
        d.path for d in cut_paths(good, root=tmp_path, jobs=1)
    ]


def _square(n: int) -> int:
    if n == 7:
        raise ValueError("seven")
    return n * n


def test_ordered_map_order_window_and_errors() -> None:
    """Results in item order; an exception is raised at its item, after those before it."""
    assert list(ordered_map(_square, range(7), 3)) == [n * n for n in range(7)]
    got: list[int] = []
    with pytest.raises(ValueError, match="seven"):
        for value in ordered_map(_square, range(20), 2):
            got.append(value)
    assert got == [n * n for n in range(7)]
    assert resolve_jobs(None) == resolve_jobs(0) == available_cpus() == len(os.sched_getaffinity(0))


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(p) for p in text]
    return found


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_ctrl_c_leaves_no_worker_process(cli_offline: CliEnv, tmp_path: Path) -> None:
    """SIGINT to the process group (as a terminal sends it) while workers cut: the
    command ends (exit 130 or an interrupt message) and no process of the group is left."""
    folder = tmp_path / "big"
    folder.mkdir()
    laws = sorted(VN_LAWS.rglob("*.md"))
    for copy in range(8):
        for n, path in enumerate(laws):
            shutil.copyfile(path, folder / f"{copy}-{n:03d}-{path.name}")
    proc = subprocess.Popen(
        [*iucut_command(), "cut", "--jobs", "2", str(folder), "-o", str(tmp_path / "rows")],
        env=cli_offline.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while len(_children(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = _children(proc.pid)
        assert len(workers) >= 2, "no worker processes seen"
        time.sleep(0.3)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode != 0, (out, err)
    assert "Traceback" not in err, err
    deadline = time.monotonic() + 10
    while _group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _group_alive(proc.pid), "a worker process outlived the interrupt"
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists()


def test_plan_file_is_the_same_for_every_number_of_jobs(cli_env: Any, tmp_path: Path) -> None:
    """`plan -o` with --jobs 2 writes the bytes --jobs 1 writes (and the same JSON)."""
    folder = _corpus_part(tmp_path, 16)
    got = {}
    for jobs in ("1", "2"):
        plan = tmp_path / f"plan-{jobs}.json"
        result = cli_env.run(
            "plan", "--jobs", jobs, str(folder), "--root", str(tmp_path), "-o", str(plan)
        )
        assert result.returncode == 2, result.stderr
        shown = cli_env.run("plan", "--jobs", jobs, "--json", str(folder), "--root", str(tmp_path))
        assert shown.returncode == 2, shown.stderr
        got[jobs] = (plan.read_bytes(), shown.stdout)
    assert b'"action":"create"' in got["1"][0]
    assert got["2"] == got["1"]


def test_a_few_documents_show_the_same_trees_for_every_number_of_jobs(
    cli_offline: CliEnv, tmp_path: Path
) -> None:
    """Up to 10 documents, cut shows each one's tree of units (the workers send the
    first units of each document then, and only counts for the table of more)."""
    folder = _corpus_part(tmp_path, 5)
    got = {}
    for jobs in ("1", "2"):
        result = cli_offline.run("cut", "--jobs", jobs, str(folder))
        assert result.returncode == 0, result.stderr
        got[jobs] = result.stdout
    trees = got["1"].split("Units by kind")[0]
    assert "Documents" not in trees and "000-" in trees  # trees, not the table
    assert "more units" in trees  # the tree of a larger document, cut at 40 units
    assert got["2"] == got["1"]


def test_cut_imports_only_its_own_command(tmp_path: Path) -> None:
    """`iucut cut` loads the cut command's module alone (no database driver: start-up is
    time no worker can share), and every command is found in the module named for it."""
    import importlib
    import pkgutil

    from iucut.cli import COMMAND_MODULES, _register, cli

    (tmp_path / "a.md").write_text("# Title\n\nText.\n", encoding="utf-8")
    script = (
        "import sys\n"
        "from iucut.cli import main\n"
        "try:\n"
        f"    main(['cut', '-q', '--root', {str(tmp_path)!r}, {str(tmp_path / 'a.md')!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith(('iucut.cli.', 'psycopg'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith("IUCUT_")},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "['iucut.cli.cut']"
    import iucut.cli as package

    _register()
    for found in pkgutil.iter_modules(package.__path__):  # every module, named or not
        importlib.import_module(f"iucut.cli.{found.name}")
    for name, command in cli.commands.items():
        module = command.callback.__module__ if command.callback else ""
        if module == "iucut.cli":
            continue  # defined beside the group (exit-codes)
        assert module == f"iucut.cli.{COMMAND_MODULES[name]}", name
        importlib.import_module(module)
