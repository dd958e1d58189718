"""The options of a point-in-time read (iucut.asof), shared by show, export, ls and refs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def point_options(f: F) -> F:
    """``--as-of RUN|TIME`` and ``--in-force-on DATE``."""
    f = click.option(
        "--in-force-on",
        "in_force_on",
        metavar="DATE",
        help="The version in force on DATE: the latest applied version whose front-matter "
        "effective date (ngay_hieu_luc, inkrafttreten, effective, ...; effective_date_keys "
        "in iucut.yaml) is on or before DATE.",
    )(f)
    f = click.option(
        "--as-of",
        "as_of",
        metavar="RUN|TIME",
        help="As committed at that point: a run id (or a unique prefix of one) or an ISO "
        "time (UTC when it has no zone). Exit 34: no such run, an ambiguous prefix, or a "
        "time before any run; 35: before the upgrade to schema 15.",
    )(f)
    return f
