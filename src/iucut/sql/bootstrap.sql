-- The migration runner's own SQL (iucut.migrate): the record of applied migrations, the
-- registry of the objects they created, and the runner's named queries.
-- @schema@ is replaced by the validated schema name. Sections run with parameters use
-- %(name)s placeholders; `bootstrap` and `create_schema` run without parameters.
-- Every statement runs with search_path = pg_catalog, pg_temp (set by the runner).

-- name: create_schema
-- A schema the runner creates is marked as iucut's own: `migrate --roles` then hands it
-- to the owner role and revokes PUBLIC's rights on it. An existing (shared) schema, e.g.
-- public, is left as it is apart from the iucut objects in it.
DO $$
BEGIN
    IF pg_catalog.to_regnamespace('@schema@') IS NULL THEN
        CREATE SCHEMA @schema@;
        COMMENT ON SCHEMA @schema@ IS 'iucut: information units (created by iucut migrate)';
    END IF;
END
$$;

-- name: bootstrap
CREATE TABLE IF NOT EXISTS @schema@.iucut_migration (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    applied_by  text NOT NULL DEFAULT SESSION_USER
);
-- What each migration created, so that roles and grants touch only iucut's objects even
-- in a shared schema. Identities are schema-qualified and resolved with to_reg*().
CREATE TABLE IF NOT EXISTS @schema@.iucut_object (
    kind      text NOT NULL CHECK (kind IN ('relation', 'function', 'type')),
    identity  text NOT NULL,
    version   integer NOT NULL,
    PRIMARY KEY (kind, identity)
);

-- name: lock
-- Serializes every migrate of this schema in this database (released at COMMIT).
SELECT pg_catalog.pg_advisory_xact_lock(
    pg_catalog.hashtextextended('iucut:migrate:' || %(schema)s, 0));

-- name: search_path
SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);

-- name: record_table
SELECT pg_catalog.to_regclass(%(table)s) IS NOT NULL AS present;

-- name: applied
SELECT version, name, checksum, applied_at, applied_by
  FROM @schema@.iucut_migration ORDER BY version;

-- name: record
INSERT INTO @schema@.iucut_migration (version, name, checksum)
VALUES (%(version)s, %(name)s, %(checksum)s);

-- name: schema_objects
-- Relations (not indexes or composite-type rows), functions, and types (not array or
-- relation row types) of the schema, by schema-qualified identity.
SELECT 'relation' AS kind,
       pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) AS identity
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
UNION ALL
SELECT 'function',
       pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(p.proname)
       || '(' || pg_catalog.oidvectortypes(p.proargtypes) || ')'
  FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = %(schema)s
UNION ALL
SELECT 'type',
       pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(t.typname)
  FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
  LEFT JOIN pg_catalog.pg_class c ON c.oid = t.typrelid
 WHERE n.nspname = %(schema)s AND t.typelem = 0 AND t.typcategory <> 'A'
   AND (t.typrelid = 0 OR c.relkind = 'c');

-- name: register_objects
INSERT INTO @schema@.iucut_object (kind, identity, version)
SELECT o.kind, o.identity, %(version)s
  FROM unnest(%(kinds)s::text[], %(identities)s::text[]) AS o(kind, identity)
ON CONFLICT (kind, identity) DO NOTHING;

-- name: owner_usable
-- Migrations run as the owner role once `migrate --roles` handed it this schema's objects
-- (it owns the record table) and the current user may act as it (superusers always may).
SELECT coalesce(pg_catalog.pg_has_role(CURRENT_USER, r.oid, 'MEMBER')
                AND c.relowner = r.oid, false) AS usable
  FROM (SELECT 1) AS one
  LEFT JOIN pg_catalog.pg_roles r ON r.rolname = %(owner)s
  LEFT JOIN pg_catalog.pg_class c ON c.oid = pg_catalog.to_regclass(%(table)s);

-- name: set_role
SELECT pg_catalog.set_config('role', %(role)s, true);

-- name: reset_role
SELECT pg_catalog.set_config('role', 'none', true);

-- name: database
SELECT pg_catalog.quote_ident(pg_catalog.current_database()) AS name;

-- name: control_state
SELECT frozen, reason, changed_by, changed_at FROM @schema@.iu_control;

-- name: freeze_wait
-- How long `iucut freeze` waits for the writes in flight (lock_timeout, this transaction).
SELECT pg_catalog.set_config('lock_timeout', %(timeout)s, true);

-- name: freeze
SELECT @schema@.fn_iu_freeze(%(reason)s) AS frozen;

-- name: unfreeze
SELECT @schema@.fn_iu_unfreeze() AS frozen;
