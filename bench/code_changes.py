"""Codes of every file of the shared corpora, written as one JSON line per unit, and the
difference between two such dumps: how many codes a change of the cutting rules changes.

    .venv/bin/python bench/code_changes.py dump before.jsonl     # on the old rules
    .venv/bin/python bench/code_changes.py dump after.jsonl      # on the new rules
    .venv/bin/python bench/code_changes.py diff before.jsonl after.jsonl

A unit is keyed by its file and position (its byte span): ``diff`` counts the units
whose code, parent, kind or label changed, and the files whose profile did, per corpus.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from iucut.cut import cut_text

CORPORA = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpora"


def dump(out: Path) -> None:
    files = sorted(CORPORA.resolve().rglob("*.md"))
    with out.open("w", encoding="utf-8") as f:
        for path in files:
            rel = path.relative_to(CORPORA.resolve()).as_posix()
            doc = cut_text(path.read_bytes(), rel)
            for u in doc.units:
                row = [rel, u.byte_start, u.byte_end, doc.profile, u.code, u.parent_code]
                f.write(json.dumps([*row, u.kind, u.label], ensure_ascii=False) + "\n")
    print(f"{len(files)} files -> {out}")


def _load(path: Path) -> dict[tuple[str, int, int], list[object]]:
    rows = (json.loads(line) for line in path.open(encoding="utf-8"))
    return {(r[0], r[1], r[2]): r[3:] for r in rows}


def diff(before: Path, after: Path) -> None:
    old, new = _load(before), _load(after)
    what: Counter[tuple[str, str]] = Counter()
    units: Counter[str] = Counter()
    for key in old.keys() | new.keys():
        corpus = key[0].split("/", 1)[0]
        units[corpus] += 1
        a, b = old.get(key), new.get(key)
        if a is None or b is None:
            what[(corpus, "unit added or gone")] += 1
            print("span", key, a, b)
            continue
        for i, name in enumerate(("profile", "code", "parent", "kind", "label")):
            if a[i] != b[i]:
                what[(corpus, name)] += 1
                if name != "profile":
                    print(name, key[0], a[i], "->", b[i])
    for corpus, n in sorted(units.items()):
        changed = {name: c for (k, name), c in what.items() if k == corpus}
        print(f"{corpus}: {n} units, changed: {changed or 'none'}")


if __name__ == "__main__":
    if sys.argv[1] == "dump":
        dump(Path(sys.argv[2]))
    else:
        diff(Path(sys.argv[2]), Path(sys.argv[3]))
