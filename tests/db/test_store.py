"""The library API over a real PostgreSQL: connect, plan (with its id), prove, apply with
the kill-switch argument, show, history, export, ls; the same identities as the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import iucut
from iucut.errors import ExecutionDisabled, Frozen, NotFound

LAW = """\
# Act on Examples

## Article 1. Scope

This act applies to examples.

## Article 2. Terms

Words mean what they say.
"""


def store_for(db, **settings) -> iucut.Store:  # type: ignore[no-untyped-def]
    return iucut.Store(db.settings(**settings))


@pytest.fixture
def docs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "iucut.yaml").touch()  # the project root (iucut init): paths read docs/…
    folder = tmp_path / "docs"
    (folder / "acts").mkdir(parents=True)
    (folder / "acts" / "examples.md").write_text(LAW, encoding="utf-8")
    return folder


def test_plan_carries_its_id_and_apply_needs_the_switch(db, docs: Path) -> None:
    """plan() returns a Plan whose id is its content hash; apply() is refused while the
    switch is off, and apply(plan, execution=True) writes exactly that plan."""
    store = store_for(db)
    plan = store.plan([docs])
    assert len(plan.id) == 64 and plan.id == iucut.Plan.id.fget(plan)  # type: ignore[attr-defined]
    assert plan.has_changes and plan.counts["created"] == 4
    with pytest.raises(ExecutionDisabled):
        store.apply(plan)
    result = store.apply(plan, execution=True)
    assert result.counts["created"] == 4
    assert store.plan([docs]).has_changes is False


def test_execution_false_overrides_the_environment(db, docs: Path) -> None:
    """execution=False keeps the switch off even when the settings turn it on."""
    store = store_for(db, execution="enabled")
    with pytest.raises(ExecutionDisabled):
        store.apply([docs], execution=False)
    assert store.apply([docs]).counts["created"] == 4


def test_freeze_wins_over_the_argument(db, docs: Path) -> None:
    """A frozen database refuses apply(..., execution=True)."""
    db.connect(autocommit=True).execute(f"SELECT {db.schema}.fn_iu_freeze('test')")
    store = store_for(db)
    with pytest.raises(Frozen):
        store.apply([docs], execution=True)


def test_reads_show_history_export_ls(db, docs: Path) -> None:
    """show, history, export and ls read back what apply wrote."""
    store = store_for(db)
    store.apply([docs], execution=True)
    codes = [u.code for u in store.units()]
    article = next(c for c in codes if c.endswith("2"))
    view = store.show(article)
    assert view.unit["title"].startswith("Article 2")
    assert store.history(article).versions[0]["version"] == 1
    exported = store.export("docs/acts/examples.md")
    assert exported.data == LAW.encode()
    [info] = store.ls("docs/acts")
    assert (info.doc_path, info.units, info.state) == ("docs/acts/examples.md", 4, "active")
    assert info.last_run is not None
    assert store.ls(info.namespace)[0].doc_path == info.doc_path
    with pytest.raises(NotFound):
        store.ls("nowhere")
    with pytest.raises(NotFound):
        store.show("NO/SUCH")


def test_library_cut_gives_the_cli_identities(docs: Path, tmp_path: Path) -> None:
    """iucut.cut_paths and `iucut cut --json` give the same document paths, namespaces
    and codes for the same folder (the library calls the CLI's cut with its defaults)."""
    lib = [(d.path, d.namespace, [u.code for u in d.units]) for d in iucut.cut_paths(["docs"])]
    out = subprocess.run(
        [sys.executable, "-m", "iucut", "cut", "docs", "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    cli: dict[tuple[str, str], list[str]] = {}
    for row in rows:
        cli.setdefault((row["doc_path"], row["namespace"]), []).append(row["code"])
    assert [(p, n, c) for (p, n), c in cli.items()] == lib
    single = iucut.cut_file("docs/acts/examples.md")
    assert (single.path, single.namespace) == lib[0][:2]
