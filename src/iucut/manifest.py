"""The manifest of iucut's tables and of what its roles may do with them: data, defined
once. ``migrate --roles`` hands it to roles.sql (whose grants and closing checks read it),
``doctor`` checks a database against it, ``prove`` counts and digests its state tables.
"""

from __future__ import annotations

#: The tables of the stored state: what a proof counts and digests, table by table.
STATE_TABLES = (
    "information_unit",
    "unit_version",
    "iu_lifecycle_log",
    "iu_run",
    "iu_document",
    "iu_control",
)

#: Tables the execution and reader roles must be able to read.
READ_TABLES = (*STATE_TABLES, "unit_reference")

#: Table privileges neither the execution nor the reader role may hold on any iucut
#: relation (any column counts): every write goes through the SQL functions.
WRITE_PRIVILEGES = ("INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")

#: The write functions are the SECURITY DEFINER functions named so (trigger functions and
#: those marked ``-- owner-only`` or ``-- internal`` excepted): the execution role may
#: execute them, the reader none.
WRITE_FUNCTION_PREFIXES = ("fn_iu_", "fn_run_")


def sql_array(values: tuple[str, ...] | list[str]) -> str:
    """``values`` (plain names, checked) as a SQL text array literal, for roles.sql."""
    for v in values:
        if not v.replace("_", "").replace("%", "").replace("\\", "").isalnum():
            raise ValueError(f"not a plain name: {v!r}")
    return "ARRAY[" + ", ".join(f"'{v}'" for v in values) + "]::text[]"


def like_patterns(prefixes: tuple[str, ...] = WRITE_FUNCTION_PREFIXES) -> list[str]:
    """The prefixes as LIKE patterns (``_`` escaped)."""
    return [p.replace("_", "\\_") + "%" for p in prefixes]
