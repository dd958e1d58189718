"""Full-text search over the current version of every active unit (schema 0014).

Each unit version is indexed with the text-search configuration of its document's label
profile (vi: ``iucut_vi`` = simple + unaccent, so diacritics are optional; de: german;
en: english; others: simple). The query uses PostgreSQL's websearch syntax (words,
``"a phrase"``, ``or``, ``-word``) and is parsed once per configuration in use; each
version is matched with its own. Only SELECT is needed: the reader role can search.

The profile → configuration mapping is data in the database (``iu_search_config``);
``search:`` in iucut.yaml changes it when ``iucut migrate`` runs, for versions written
from then on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from iucut.db.connector import Connection
from iucut.distributed import on_cluster
from iucut.errors import ConfigError, EmptySearchQuery

if TYPE_CHECKING:
    from iucut.asof import Point

DEFAULT_LIMIT = 20
VI_CONFIG = "iucut_vi"  # simple + unaccent, in the iucut schema (0014)
MAX_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Hit:
    """One unit found: its code, title, rank and a snippet with the matches in ``**``."""

    code: str
    namespace: str
    doc_path: str
    kind: str
    label: str | None
    version: int
    title: str
    rank: float
    snippet: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def search(
    conn: Connection,
    text: str,
    *,
    namespace: str | None = None,
    kind: str | None = None,
    limit: int = DEFAULT_LIMIT,
    point: Point | None = None,
) -> list[Hit]:
    """The best ``limit`` active units matching ``text``, best first (ties by code).

    ``point`` (iucut.asof.resolve): search the units as they stood then, with the codes
    they had then. EmptySearchQuery if the query has no word any configuration would
    index."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ConfigError(f"search: --limit must be between 1 and {MAX_LIMIT}, not {limit}")
    row = conn.query("search_query_words", text=text).fetchone()
    if row is None or not row["has_words"]:
        raise EmptySearchQuery(
            f"search: the query {text!r} has no words to search for",
            hint="give at least one word that is not a stop word (e.g. 'the', 'und')",
        )
    if point is None or (point.commit_seq is None and point.in_force_on is None):
        ranked = "units_search_distributed" if on_cluster(conn) else "units_search_ranked"
        rows = conn.query(ranked, text=text, namespace=namespace, kind=kind, limit=limit).fetchall()
    else:
        rows = conn.query(
            "units_search_at",
            text=text,
            namespace=namespace,
            kind=kind,
            limit=limit,
            commit_seq=point.commit_seq,
            in_force_on=point.in_force_on,
        ).fetchall()
    return [Hit(**r) for r in rows]


def configs(conn: Connection) -> dict[str, str]:
    """The text-search configuration of each label profile (``*``: every other one)."""
    rows = conn.query("search_configs").fetchall()
    return {r["profile"] or "*": r["config"] for r in rows}


def set_configs(conn: Connection, mapping: Mapping[str, Any]) -> dict[str, str]:
    """Write iucut.yaml's ``search:`` mapping (profile → configuration); returns what
    changed. Versions already written keep their configuration."""
    if not isinstance(mapping, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) and k and v for k, v in mapping.items()
    ):
        raise ConfigError(
            "'search' must map a label profile to a text-search configuration, "
            "e.g. {vi: iucut_vi, de: german}"
        )
    changed: dict[str, str] = {}
    with conn.transaction():
        for profile, config in sorted(mapping.items()):
            if config == VI_CONFIG:  # ours lives in the iucut schema
                config = f"{conn.schema}.{VI_CONFIG}"
            row = conn.query("search_config_set", profile=profile, config=config).fetchone()
            if row is not None:
                changed[row["profile"]] = row["config"]
    return changed
