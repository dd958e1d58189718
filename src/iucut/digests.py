"""What a cut made of a file, remembered: an unchanged re-sync reads and hashes every file
but cuts none.

For each file cut, the cache keeps its :class:`~iucut.plan.Digest` (identity, document
hash, cut digest, profile, warnings: no text) under the sha256 of the file's bytes, its
document path and the fingerprint of the rules it was cut with (the iucut version, the
cutter, the configuration, ``--namespace``/``--profile``). Cutting is a function of
exactly these, so a file whose bytes and rules did not change has the digest of its last
cut; apply compares that digest with what the database stores for the document (its
hash, its cut digest, its profile) as it compares a fresh cut, and writes nothing when
they agree. A change of bytes or of rules misses the cache and the file is cut.

The cache is a SQLite file in the iucut home (``IUCUT_HOME``, ``~/.iucut``):
``cut-digests.sqlite3``. Deleting it only costs one re-sync its speed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from iucut._version import __version__
from iucut.plan import Digest

FILE_NAME = "cut-digests.sqlite3"
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS digest (rules TEXT NOT NULL, doc_path TEXT NOT NULL, "
    "file_hash TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (rules, doc_path))"
)
_open: dict[tuple[int, str], sqlite3.Connection] = {}  # per process (workers fork)


def rules_fingerprint(
    config: Mapping[str, Any] | None, *, namespace: str | None, profile: str | None
) -> str:
    """The fingerprint of everything besides the bytes that a cut depends on."""
    from iucut.cut.cutter import COMPILED

    data = {
        "iucut": __version__,
        "compiled": COMPILED,
        "pure": os.environ.get("IUCUT_PURE_PYTHON", ""),
        "config": config or {},
        "namespace": namespace,
        "profile": profile,
    }
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=repr)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _connect(path: Path) -> sqlite3.Connection | None:
    key = (os.getpid(), str(path))
    conn = _open.get(key)
    if conn is None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, timeout=30, isolation_level=None)
            conn.execute(_SCHEMA)
        except sqlite3.Error:
            return None  # no cache: every file is cut
        _open[key] = conn
    return conn


def lookup(
    doc_path: str, file_hash: str, *, cache: Path, rules: str, strict: bool = False
) -> Digest | None:
    """The digest of the last cut of ``doc_path`` when its bytes (``file_hash``) and its
    rules are the same, else None (also under ``strict`` for a document with warnings:
    it is cut, to be rejected as --strict rejects it)."""
    conn = _connect(cache)
    if conn is None:
        return None
    try:
        row = conn.execute(
            "SELECT file_hash, data FROM digest WHERE rules = ? AND doc_path = ?",
            (rules, doc_path),
        ).fetchone()
    except sqlite3.Error:
        return None
    if row is None or row[0] != file_hash:
        return None
    try:
        d = json.loads(row[1])
        if strict and d["warnings"]:
            return None
        return Digest(
            d["path"],
            d["namespace"],
            d["doc_hash"],
            d["cut_digest"],
            int(d["units"]),
            d["profile"],
            d["profile_source"],
            tuple(d["warnings"]),
            cached=True,
        )
    except (ValueError, KeyError, TypeError):
        return None


def remember(digests: Iterable[Digest], *, cache: Path, rules: str) -> None:
    """Keep the digests of files just cut (their document hash is the sha256 of the
    file's bytes)."""
    conn = _connect(cache)
    if conn is None:
        return
    rows = [
        (
            rules,
            d.path,
            d.doc_hash,
            json.dumps(
                {
                    "path": d.path,
                    "namespace": d.namespace,
                    "doc_hash": d.doc_hash,
                    "cut_digest": d.cut_digest,
                    "units": d.units,
                    "profile": d.profile,
                    "profile_source": d.profile_source,
                    "warnings": list(d.warnings),
                },
                ensure_ascii=False,
            ),
        )
        for d in digests
        if not d.cached
    ]
    if not rows:
        return
    with contextlib.suppress(sqlite3.Error):  # a cache that cannot be written: no cache
        conn.execute("BEGIN")
        conn.executemany("INSERT OR REPLACE INTO digest VALUES (?, ?, ?, ?)", rows)
        conn.execute("COMMIT")
