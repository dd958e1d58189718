"""Full-text search on a real PostgreSQL (schema 0014): per-profile configurations
(Vietnamese diacritics optional, German and English stemmed), ranked, filtered, current
versions of active units only, and readable by the reader role alone."""

from __future__ import annotations

from typing import Any

import pytest

from iucut.apply import apply_documents
from iucut.cut import cut_text
from iucut.errors import ConfigError, DatabaseError, EmptySearchQuery
from iucut.search import Hit, configs, set_configs
from iucut.store import Store

VI = """\
# Quy chế bảo mật

### Điều 1. Mật khẩu

1. Mật khẩu phải được thay đổi định kỳ.
2. Không chia sẻ tài khoản với người khác.

### Điều 2. Thiết bị

Thiết bị cá nhân phải được mã hóa.
"""

DE = """\
# Beispielgesetz

## § 1 Geltungsbereich

(1) Dieses Gesetz gilt für alle Behörden des Landes.

(2) Die Verordnung über Gebühren bleibt unberührt.

## § 2 Datenschutz

Personenbezogene Daten sind vor Missbrauch zu schützen.
"""

EN = """\
# Staff Rules

## Section 1. Working hours

Employees choose flexible hours.

## Section 2. Passwords

Passwords must be long. Change passwords every year.

## Section 3. Laptops

A laptop needs a password and an encrypted disk.
"""


def apply(db: Any, *docs: tuple[str, str]) -> None:
    """Write documents (text, path) through the write path, as apply does."""
    settings = db.settings(execution="enabled")
    result = apply_documents(settings, db.provider(), [cut_text(t, p) for t, p in docs])
    assert not result.failed, result


def codes(hits: list[Hit]) -> list[str]:
    return [h.code for h in hits]


@pytest.fixture
def store(db: Any) -> Store:
    """A store over the three documents, reading as the reader role."""
    apply(db, (VI, "quy-che.md"), (DE, "gesetz.md"), (EN, "rules.md"))
    return Store(db.settings(), db.provider(role=db.roles.reader))


def test_each_document_is_indexed_with_its_profiles_configuration(db: Any, store: Store) -> None:
    """Versions carry the configuration of their document's profile: vi, de, en."""
    rows = db.connect().execute(
        f"SELECT DISTINCT doc_path, search_config::text AS c FROM {db.schema}.unit_version"
    )
    found = {r["doc_path"]: r["c"] for r in rows.fetchall()}
    assert found == {
        "quy-che.md": f"{db.schema}.iucut_vi",
        "gesetz.md": "german",
        "rules.md": "english",
    }


def test_vietnamese_matches_with_and_without_diacritics(store: Store) -> None:
    """`mat khau` and `mật khẩu` find the same units; the snippet marks the text as written."""
    plain = store.search("mat khau")
    marked = store.search("mật khẩu")
    assert codes(plain) == codes(marked) == ["QUY-CHE/D1", "QUY-CHE/D1/K1"]
    assert "**Mật** **khẩu**" in plain[1].snippet
    assert codes(store.search("thiet bi ma hoa")) == ["QUY-CHE/D2"]


def test_german_is_stemmed(store: Store) -> None:
    """`Gesetze` finds `Gesetz`, `Behörde` finds `Behörden`, `Gebühr` finds `Gebühren`."""
    assert codes(store.search("Gesetze")) == ["GESETZ/§1/Abs1"]
    assert codes(store.search("Behörde")) == ["GESETZ/§1/Abs1"]
    hit = store.search("Gebühr")
    assert codes(hit) == ["GESETZ/§1/Abs2"] and "**Gebühren**" in hit[0].snippet


def test_english_is_stemmed_and_stop_words_ignored(store: Store) -> None:
    """`work` finds `Working hours`; `the password` is `password` (a stop word dropped)."""
    assert codes(store.search("work")) == ["RULES/staff-rules/S1"]
    assert set(codes(store.search("the password"))) == {
        "RULES/staff-rules/S2",
        "RULES/staff-rules/S3",
    }


def test_ranking_puts_title_and_repeated_matches_first(store: Store) -> None:
    """A unit with the word in its title and body (three times) ranks above one that
    mentions it once; ranks are descending."""
    hits = store.search("password")
    assert codes(hits) == ["RULES/staff-rules/S2", "RULES/staff-rules/S3"]
    assert hits[0].rank > hits[1].rank > 0


def test_websearch_syntax(store: Store) -> None:
    """`or` widens, `-word` excludes, a quoted phrase needs the words in order."""
    assert set(codes(store.search("laptop or hours"))) == {
        "RULES/staff-rules/S1",
        "RULES/staff-rules/S3",
    }
    assert codes(store.search("password -laptop")) == ["RULES/staff-rules/S2"]
    assert codes(store.search('"encrypted disk"')) == ["RULES/staff-rules/S3"]
    assert codes(store.search('"disk encrypted"')) == []


def test_namespace_kind_and_limit_filter(store: Store) -> None:
    """--namespace, --kind and --limit narrow the hits."""
    assert codes(store.search("mat khau", kind="article")) == ["QUY-CHE/D1"]
    assert codes(store.search("mat khau", kind="clause")) == ["QUY-CHE/D1/K1"]
    assert codes(store.search("mat khau", namespace="RULES")) == []
    assert codes(store.search("password", namespace="RULES", limit=1)) == ["RULES/staff-rules/S2"]
    with pytest.raises(ConfigError):
        store.search("password", limit=0)


def test_a_query_without_words_is_a_clear_error(store: Store) -> None:
    """Punctuation only: EmptySearchQuery (exit 32), not a crash or every unit."""
    with pytest.raises(EmptySearchQuery) as caught:
        store.search("!!! -- ??")
    assert caught.value.exit_code == 32 and "no words" in caught.value.message


def test_the_reader_role_searches_and_cannot_write(db: Any, store: Store) -> None:
    """The reader role searches; it may neither change the configuration nor write units."""
    assert codes(store.search("password"))  # store reads as the reader role
    with pytest.raises(DatabaseError):
        set_configs(db.connect(role=db.roles.reader), {"en": "simple"})
    conn = db.connect(role=db.roles.reader)
    with pytest.raises(DatabaseError):
        conn.execute(f"DELETE FROM {db.schema}.unit_version")


def test_only_current_versions_of_active_units_are_found(db: Any, store: Store) -> None:
    """After a revision the old text is not found and the new one is (version 2); a
    retired unit is not found at all."""
    revised = EN.replace("Employees choose flexible hours.", "Staff pick their own schedule.")
    revised = revised[: revised.index("## Section 3.")]  # Section 3 retired
    apply(db, (revised, "rules.md"))
    assert codes(store.search("flexible")) == []
    hits = store.search("schedule")
    assert codes(hits) == ["RULES/staff-rules/S1"] and hits[0].version == 2
    assert codes(store.search("laptop")) == []
    assert codes(store.search("password")) == ["RULES/staff-rules/S2"]


def test_the_search_mapping_applies_to_versions_written_after(db: Any, store: Store) -> None:
    """`search:` (iucut.yaml, written by migrate) maps a profile to another configuration:
    new versions use it (English unstemmed: `work` no longer finds `Working`)."""
    assert configs(db.connect())["en"] == "english"
    assert set_configs(db.connect(), {"en": "simple"}) == {"en": "simple"}
    assert set_configs(db.connect(), {"en": "simple"}) == {}  # unchanged: nothing written
    apply(db, (EN.replace("# Staff Rules", "# Staff Rules (2)"), "rules2.md"))
    assert codes(store.search("work")) == ["RULES/staff-rules/S1"]  # rules.md: still english
    assert codes(store.search("working")) == ["RULES/staff-rules/S1", "RULES2/staff-rules-2/S1"]
    with pytest.raises(ConfigError):
        set_configs(db.connect(), {"en": 3})
    with pytest.raises(DatabaseError):
        set_configs(db.connect(), {"en": "no_such_configuration"})


FR_CODE = """\
# Code

**Article L. 1**

Les contrats de travail sont conclus par écrit.

**Article L. 2**

Un salarié peut démissionner.
"""


def test_a_french_document_is_indexed_in_french(db: Any) -> None:
    """A document cut with the fr profile is indexed with PostgreSQL's french
    configuration (0023): ``contrat`` finds ``contrats``, ``salariés`` finds ``salarié``."""
    apply(db, (FR_CODE, "code.md"))
    store = Store(db.settings(), db.provider(role=db.roles.reader))
    rows = db.connect().execute(
        f"SELECT DISTINCT search_config::text AS c FROM {db.schema}.unit_version"
    )
    assert [r["c"] for r in rows.fetchall()] == ["french"]
    assert codes(store.search("salariés")) == ["CODE/AL2"]
    assert codes(store.search("contrat")) == ["CODE/AL1"]
