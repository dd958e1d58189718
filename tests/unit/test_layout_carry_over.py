"""The distributed layout (src/iucut/sql/distributed/layout.sql) repeats, for Citus, the
bodies of some functions of the migrations. When a later migration redefines one of them,
`iucut migrate` on a distributed schema puts the layout's older body back over it, so
the change is lost on the cluster unless it is carried into layout.sql. This test names
the migration each Citus body was written against; a new migration redefining one fails
it, with what to do."""

from __future__ import annotations

import re

from iucut.db import queries
from iucut.migrate import load_migrations

#: function -> the migration whose body layout.sql's Citus body is written against
CARRIED = {
    "fn_iu_apply_document": "0021_new_document_checked_once.sql",
    "fn_iu_set_references": "0016_first_sync.sql",
    "fn_run_finish": "0016_first_sync.sql",
    "fn_iu_hold_unfrozen": "0004_hardening.sql",
    "fn_iu_freeze": "0004_hardening.sql",
    "fn_iu_lock_document": "0001_initial.sql",
    "fn_iu_check_document": "0021_new_document_checked_once.sql",
    "fn_iu_record_document_version": "0021_new_document_checked_once.sql",
    "fn_iu_set_effective_date": "0015_point_in_time.sql",
}


def test_the_citus_bodies_follow_the_latest_definitions() -> None:
    layout = queries.get("layout_functions", "s")
    migrations = load_migrations()
    for name, written_against in CARRIED.items():
        assert re.search(rf"FUNCTION s\.{name}\(", layout), f"{name} is not in layout.sql"
        latest = [m.filename for m in migrations if f"FUNCTION @schema@.{name}(" in m.sql][-1]
        assert latest == written_against, (
            f"{latest} redefines {name}: carry its change into the Citus body in "
            f"src/iucut/sql/distributed/layout.sql (run `make test-citus`), then set "
            f"{name}: {latest!r} here"
        )
