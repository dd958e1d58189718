"""Identity figures on the shared corpora: laws whose article lines get no article unit
without --profile, and, across consecutive versions of real and built histories, units
whose text did not change but whose code did, and codes handed to another unit.

    .venv/bin/python bench/identity_figures.py

The counts are made by the tests' own independent rules (tests/unit/test_cut_detect.py
and tests/unit/test_cut_history.py), not by the cutter's.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "unit"))

import test_cut_detect as detect
import test_cut_history as history

from iucut.cut import cut_file, cut_text


def articles() -> None:
    laws = [
        p for law in ("de-laws", "vn-laws") for p in sorted((detect.CORPORA / law).rglob("*.md"))
    ]
    with_lines = without = other = 0
    for path in laws:
        expected = detect.article_lines(path.read_text(encoding="utf-8"))
        if not expected:
            continue
        with_lines += 1
        got = sum(1 for u in cut_file(path, root=detect.CORPORA).units if u.kind == "article")
        if got == 0:
            without += 1
            print(f"  no article units: {path.relative_to(detect.CORPORA)} ({expected} lines)")
        elif got != expected:
            other += 1
    print(
        f"de-laws + vn-laws: {len(laws)} files, {with_lines} with article lines, "
        f"{without} of them without article units, {other} with another count"
    )


def histories() -> None:
    files = sorted((history.CORPORA / "en-terms-history").glob("*.md"))
    runs = {
        f"en-terms-history ({len(files) - 1} pairs)": [
            cut_text(p.read_bytes(), "terms.md", namespace="GH-TOS") for p in files
        ],
        "BGB built history (3 pairs)": history.cut_all(history.bgb_versions(), "BGB"),
    }
    for law in ("d/dtpljwabkv", "e/eumetsatv", "l/lebpabkg_pol"):
        v1 = (history.CORPORA / "de-laws" / law / "index.md").read_text(encoding="utf-8")
        v2 = v1.rstrip("\n") + "\n\n## § 99 Inkrafttreten\n\nDieses Gesetz tritt in Kraft.\n"
        runs[f"{law} + a § (1 pair)"] = history.cut_all([v1, v2], "LAW")
    for name, versions in runs.items():
        unchanged, renamed, reused = history.identity_breaks(versions)
        print(
            f"{name}: {unchanged} unchanged units, {len(renamed)} renamed, "
            f"{len(reused)} codes reused"
        )


if __name__ == "__main__":
    articles()
    histories()
