"""Target resolution order, redaction, and passwords kept out of every message."""

from __future__ import annotations

from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from iucut.config import load_settings
from iucut.db.connector import ConnectionProvider
from iucut.db.target import (
    Target,
    redact,
    resolve_target,
    scrub,
    secrets_of,
    with_database,
    with_user,
)
from iucut.errors import ConnectionFailed

SECRET = "Sup3r-s3cret_pw"


def settings(
    tmp_path: Path,
    *,
    dsn: str | None = None,
    env: dict[str, str] | None = None,
    env_file: Path | None = None,
):
    return load_settings(
        dsn=dsn, env_file=env_file, environ={"IUCUT_HOME": str(tmp_path / "home"), **(env or {})}
    )


def test_dsn_flag_wins(tmp_path):
    """--dsn outranks IUCUT_DSN, DATABASE_URL and PG* variables."""
    s = settings(
        tmp_path,
        dsn="postgresql://a@h1/db1",
        env={"IUCUT_DSN": "postgresql://b@h2/db2", "PGHOST": "h3"},
    )
    target = resolve_target(s)
    assert target.source == "--dsn"
    assert conninfo_to_dict(target.conninfo)["host"] == "h1"
    assert not target.embedded


@pytest.mark.parametrize(
    ("env", "source", "host"),
    [
        (
            {"IUCUT_DSN": "postgresql://u@h1/d", "DATABASE_URL": "postgresql://u@h2/d"},
            "IUCUT_DSN",
            "h1",
        ),
        ({"DATABASE_URL": "postgresql://u@h2/d", "PGHOST": "h3"}, "DATABASE_URL", "h2"),
        ({"PGHOST": "h3", "PGDATABASE": "d3"}, "libpq-env", "h3"),
    ],
)
def test_resolution_order(tmp_path, env, source, host):
    """IUCUT_DSN, then DATABASE_URL, then the libpq environment."""
    target = resolve_target(settings(tmp_path, env=env))
    assert (target.source, conninfo_to_dict(target.conninfo)["host"]) == (source, host)


def test_config_file_dsn(tmp_path):
    """A dsn in the configuration file is used when no flag or variable names one."""
    config = tmp_path / "iucut.yaml"
    config.write_text("dsn: postgresql://u@cfghost/d\n")
    s = load_settings(environ={"IUCUT_CONFIG": str(config), "IUCUT_HOME": str(tmp_path)})
    target = resolve_target(s)
    assert (target.source, conninfo_to_dict(target.conninfo)["host"]) == ("config", "cfghost")


@pytest.mark.parametrize(
    "var", ["PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE", "PGSERVICEFILE"]
)
def test_any_libpq_variable_selects_the_libpq_environment(tmp_path, var):
    """Each PG* connection variable on its own means: use libpq's environment."""
    target = resolve_target(settings(tmp_path, env={var: "x"}))
    assert target.source == "libpq-env"
    assert not target.embedded


def test_env_file_libpq_variables_become_keywords(tmp_path):
    """PG* values from --env-file reach the driver as keywords, not through os.environ."""
    env_file = tmp_path / "db.env"
    env_file.write_text(f"PGHOST=envhost\nPGPORT=6543\nPGUSER=alice\nPGPASSWORD={SECRET}\n")
    target = resolve_target(settings(tmp_path, env_file=env_file))
    params = conninfo_to_dict(target.conninfo)
    assert (target.source, params["host"], params["port"], params["user"]) == (
        "libpq-env",
        "envhost",
        "6543",
        "alice",
    )
    assert params["password"] == SECRET
    assert SECRET not in target.display


def test_env_file_password_completes_a_dsn(tmp_path):
    """A DSN without password takes PGPASSWORD from the env file; its host is kept."""
    env_file = tmp_path / "db.env"
    env_file.write_text(f"PGPASSWORD={SECRET}\nPGHOST=other\n")
    s = settings(tmp_path, dsn="postgresql://u@dsnhost/d", env_file=env_file)
    params = conninfo_to_dict(resolve_target(s).conninfo)
    assert (params["host"], params["password"]) == ("dsnhost", SECRET)


def test_nothing_given_means_embedded_without_starting_it(tmp_path):
    """With no DSN and no PG* variables the target is the embedded server, not started."""
    target = resolve_target(settings(tmp_path))
    assert target.embedded and target.source == "embedded"
    assert target.home == tmp_path / "home"
    assert "embedded PostgreSQL" in target.display
    assert not (tmp_path / "home").exists()


def test_no_empty_password_is_added(tmp_path):
    """iucut never writes password= itself, so .pgpass and service files still apply."""
    for env in ({"IUCUT_DSN": "postgresql://u@h/d"}, {"PGSERVICE": "prod"}, {}):
        target = resolve_target(settings(tmp_path, env=env))
        assert "password" not in conninfo_to_dict(target.conninfo)


def test_service_is_not_overridden_by_environment_keywords(tmp_path):
    """A service keeps its own host/port: environment keywords are not forced over it."""
    target = resolve_target(settings(tmp_path, env={"PGSERVICE": "prod", "PGHOST": "h"}))
    params = conninfo_to_dict(target.conninfo)
    assert params["service"] == "prod"
    assert "host" not in params


@pytest.mark.parametrize(
    "conninfo",
    [
        f"postgresql://alice:{SECRET}@db.example:5432/prod?sslmode=require",
        f"postgres://alice:{SECRET}@db.example/prod",
        f"host=db.example user=alice password={SECRET} dbname=prod",
        f"host=db.example user=alice password='{SECRET}' dbname=prod",
        f"postgresql://alice@db.example/prod?password={SECRET}",
    ],
)
def test_redact_removes_the_password(conninfo):
    """redact() keeps where the database is and drops the password, for URI and key=value."""
    shown = redact(conninfo)
    assert SECRET not in shown
    assert "db.example" in shown and "alice" in shown
    assert "password=***" in shown


def test_redact_malformed_strings_by_pattern():
    """A string libpq cannot parse is still redacted."""
    assert SECRET not in redact(f"host=x password={SECRET} oops")
    assert SECRET not in redact(f"postgresql://alice:{SECRET}@host:notaport/db")


def test_secrets_and_scrub():
    """secrets_of finds the password (also percent-decoded); scrub removes it anywhere."""
    found = secrets_of("postgresql://alice:p%40ss@h/d")
    assert "p@ss" in found
    assert scrub("the password p@ss was wrong", found) == "the password *** was wrong"


def test_with_user_and_database():
    """with_user switches role (dropping the first role's password); with_database the db."""
    dsn = f"postgresql://admin:{SECRET}@h:5433/main"
    as_exec = conninfo_to_dict(with_user(dsn, "cutter_exec"))
    assert as_exec["user"] == "cutter_exec" and "password" not in as_exec
    assert as_exec["port"] == "5433"
    assert conninfo_to_dict(with_database(dsn, "other"))["dbname"] == "other"


def test_display_is_redacted():
    """Target.display never contains the password."""
    target = Target(f"postgresql://u:{SECRET}@h/d", "--dsn")
    assert SECRET not in target.display and SECRET not in repr(target.display)


def _connect_error(conninfo: str, driver: str) -> ConnectionFailed:
    provider = ConnectionProvider(Target(conninfo, "--dsn"), driver)
    with pytest.raises(ConnectionFailed) as info:
        provider.connect()
    return info.value


@pytest.mark.parametrize("driver", ["psycopg", "psycopg2"])
def test_closed_port_error_has_no_password(driver):
    """A refused connection is ConnectionFailed, naming the target without its password."""
    exc = _connect_error(f"postgresql://alice:{SECRET}@127.0.0.1:1/db", driver)
    text = f"{exc} {exc.hint} {exc.to_dict()}"
    assert SECRET not in text
    assert "127.0.0.1" in str(exc)
    assert exc.exit_code == 8


@pytest.mark.db
def test_wrong_database_error_has_no_password(db, driver):
    """A server refusal (no such database) is ConnectionFailed and scrubbed of the password."""
    params = conninfo_to_dict(db.dsn)
    params.update(dbname=f"nosuch_{SECRET}", password=SECRET)
    from psycopg.conninfo import make_conninfo

    exc = _connect_error(make_conninfo("", **params), driver)
    text = f"{exc} {exc.hint} {exc.to_dict()}"
    assert SECRET not in text
    assert "does not exist" in str(exc)
