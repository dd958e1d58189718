"""psycopg imported without importlib.metadata (issue #16 part 3): the versions it reads
at import are given by iucut.db.driver_versions, and are the ones importlib.metadata
reads (the oracle, asked in this process); where they cannot be told at once, psycopg
reads them itself."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from iucut.db import driver_versions

PROBE = """
import json, sys
from iucut.db.connector import driver_connect

driver_connect("psycopg")
import psycopg, psycopg_binary

print(json.dumps({
    "psycopg": psycopg.__version__,
    "attribute": psycopg.version.__version__,
    "binary": psycopg_binary.__version__,
    "metadata imported": "importlib.metadata" in sys.modules,
    "finder left": [type(f).__name__ for f in sys.meta_path if type(f).__name__ == "_Versions"],
}))
"""


def _probe(code: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    found: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_psycopg_gets_the_versions_importlib_metadata_reads_without_importing_it() -> None:
    found = _probe(PROBE)
    assert found["psycopg"] == metadata.version("psycopg")
    assert found["attribute"] == metadata.version("psycopg")  # (psycopg.version as ever)
    assert found["binary"] == metadata.version("psycopg-binary")
    assert found["metadata imported"] is False
    assert found["finder left"] == []  # (gone once it served both)


def test_the_preload_thread_imports_it_the_same_way() -> None:
    code = """
import json, sys, threading
from iucut.db.connector import preload

preload("psycopg")
[t.join() for t in threading.enumerate() if t.name == "iucut-preload"]
import psycopg
print(json.dumps({"psycopg": psycopg.__version__,
                  "metadata imported": "importlib.metadata" in sys.modules}))
"""
    found = _probe(code)
    assert found == {"psycopg": metadata.version("psycopg"), "metadata imported": False}


def _package(root: Path, name: str, *dist_infos: tuple[str, str | None]) -> None:
    (root / name).mkdir(parents=True)
    (root / name / "__init__.py").write_text("")
    for folder, text in dist_infos:
        (root / folder).mkdir()
        if text is not None:
            (root / folder / "METADATA").write_text(text)


@pytest.fixture
def on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_the_version_is_the_metadata_field_not_the_folder_name(on_path: Path) -> None:
    text = "Metadata-Version: 2.4\nName: Iucut-Probe\nVersion: 1.2.post3\nSummary: x\n"
    _package(on_path, "iucut_probe_a", ("iucut_probe_a-9.9.dist-info", text))
    assert driver_versions.installed_version("iucut_probe_a") == "1.2.post3"


@pytest.mark.parametrize(
    "dist_infos",
    [
        (),  # no distribution beside it
        (("iucut_probe_b-1.0.dist-info", None),),  # no METADATA
        (("iucut_probe_b-1.0.dist-info", "Name: x\nSummary: no version\n"),),
        (
            ("iucut_probe_b-1.0.dist-info", "Version: 1.0\n"),
            ("iucut_probe_b-2.0.dist-info", "Version: 2.0\n"),
        ),  # two: which one is in use is not told
    ],
)
def test_a_version_not_told_at_once_is_left_to_the_package(
    on_path: Path, dist_infos: tuple[tuple[str, str | None], ...]
) -> None:
    _package(on_path, "iucut_probe_b", *dist_infos)
    assert driver_versions.installed_version("iucut_probe_b") is None


def test_a_package_not_installed_has_no_version() -> None:
    assert driver_versions.installed_version("iucut_no_such_package") is None


def test_nothing_is_served_once_psycopg_is_imported() -> None:
    import psycopg  # noqa: F401  (imported by this test process already, or now)

    before = list(sys.meta_path)
    driver_versions.give_versions()
    assert sys.meta_path == before
