"""Concurrent applies of the same corpus: no duplicates, no error shown to the user, and
the same final state as one apply alone."""

from __future__ import annotations

import random
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from conftest import iucut_command, state_digest
from iucut.apply import ApplyResult, apply_documents
from iucut.cut import cut_paths
from iucut.migrate import migrate

DOCS = 20


def law(n: int, version: int) -> str:
    rng = random.Random(n)
    words = ("quy", "định", "trách", "nhiệm", "cơ", "quan", "thực", "hiện", "báo", "cáo")

    def text(k: int) -> str:
        return " ".join(rng.choice(words) for _ in range(k)).capitalize() + "."

    out = [f"# LUẬT {n}\n\n{text(15)}\n\n"]
    for a in range(1, 7 if version == 1 else 8):
        out.append(f"### Điều {a}. {text(4)}\n\n{text(20)}\n\n")
        for k in range(1, 4):
            extra = " (sửa đổi)" if version == 2 and k == a % 3 + 1 else ""
            out.append(f"{k}. {text(25)}{extra}\n\n")
    return "".join(out)


def corpus(folder: Path, version: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(1, DOCS + 1):
        (folder / f"luat-{n:02d}.md").write_text(law(n, version), encoding="utf-8")
    return folder


def start(env: dict[str, str], folder: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*iucut_command(), "apply", str(folder), "--root", str(folder)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def no_duplicates(conn: Any, schema: str) -> None:
    conn.rollback()
    dup = conn.execute(
        f"""SELECT
              (SELECT count(*) FROM (SELECT code FROM {schema}.iu_lifecycle_log
                                      WHERE event = 'created' GROUP BY code
                                     HAVING count(*) > 1) d) AS created_twice,
              (SELECT count(*) FROM (SELECT unit_id, content_hash FROM {schema}.unit_version
                                      GROUP BY unit_id, content_hash, version
                                     HAVING count(*) > 1) d) AS versions_twice,
              (SELECT count(*) FROM {schema}.information_unit u
                WHERE u.current_version <> (SELECT count(*) FROM {schema}.unit_version v
                                             WHERE v.unit_id = u.unit_id)) AS version_gaps,
              (SELECT count(*) FROM {schema}.iu_run WHERE status <> 'finished') AS unfinished"""
    ).fetchone()
    conn.rollback()
    assert dup == {"created_twice": 0, "versions_twice": 0, "version_gaps": 0, "unfinished": 0}


@pytest.mark.parametrize("processes", [2, 4])
def test_concurrent_cli_applies_converge_without_errors(
    db: Any, cli_env: Any, tmp_path: Path, processes: int
) -> None:
    """N `iucut apply` of the same corpus at once: all exit 0 with no error, no duplicate,
    and the same digest as one apply alone (first load, then an update)."""
    v1, v2 = corpus(tmp_path / "v1", 1), corpus(tmp_path / "v2", 2)
    admin = db.connect()
    for schema in ("solo", "race"):
        migrate(admin, schema)
    envs = {
        s: {**cli_env.env, "IUCUT_SCHEMA": s, "IUCUT_EXECUTION": "enabled"}
        for s in ("solo", "race")
    }
    for folder in (v1, v2):
        solo = start(envs["solo"], folder)
        assert solo.wait(timeout=300) == 0, solo.communicate()[1]
        racers = [start(envs["race"], folder) for _ in range(processes)]
        for proc in racers:
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err
            assert "error" not in err.lower() and "FAILED" not in out, (out, err)
        no_duplicates(admin, "race")
        assert state_digest(admin, "race") == state_digest(admin, "solo"), folder.name
    written = admin.execute(
        "SELECT count(*) AS n FROM race.iu_lifecycle_log WHERE event = 'revised'"
    ).scalar()
    alone = admin.execute(
        "SELECT count(*) AS n FROM solo.iu_lifecycle_log WHERE event = 'revised'"
    ).scalar()
    assert written == alone > 0


def test_concurrent_library_applies_in_opposite_orders(db: Any, tmp_path: Path) -> None:
    """Two threads applying the corpus in opposite document orders: both succeed, each
    document written once, no deadlock."""
    folder = corpus(tmp_path / "v1", 1)
    items = list(cut_paths([folder], glob="*.md"))
    settings = db.settings(execution="enabled")
    results: list[ApplyResult] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def worker(order: list[Any]) -> None:
        try:
            barrier.wait()
            results.append(apply_documents(settings, db.provider(), order))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=worker, args=(items,)),
        threading.Thread(target=worker, args=(items[::-1],)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    assert all(not r.failed for r in results)
    applied = sorted(d.doc_path for r in results for d in r.documents if d.status == "applied")
    assert applied == sorted(d.path for d in items)  # each document written exactly once
    with db.connect() as conn:
        no_duplicates(conn, db.schema)
