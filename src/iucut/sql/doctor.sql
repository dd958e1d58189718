-- Named queries of `iucut doctor` (iucut.doctor). Catalog reads only: every privilege is
-- checked with has_*_privilege() / pg_has_role(), never by trying to write.
-- %(name)s placeholders; @schema@ is the configured schema.

-- name: server
SELECT pg_catalog.current_setting('server_version') AS server_version,
       pg_catalog.current_database() AS database,
       session_user AS role,
       (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = session_user) AS superuser

-- name: role_attributes
SELECT rolname AS name, rolsuper AS superuser, rolcreaterole AS createrole,
       rolcreatedb AS createdb, rolcanlogin AS login, rolreplication AS replication,
       rolbypassrls AS bypassrls
  FROM pg_catalog.pg_roles
 WHERE rolname = ANY(%(roles)s)

-- name: relations
-- The iucut relations of the schema: its own names, and what the migrations registered.
SELECT c.oid::regclass::text AS name, c.relname, c.relkind,
       pg_catalog.pg_get_userbyid(c.relowner) AS owner
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = '@schema@'
   AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
   AND (c.relname IN ('information_unit', 'unit_version')
        OR c.relname LIKE 'iu\_%' OR c.relname LIKE 'iucut\_%'
        OR c.relname LIKE 'information\_unit\_%' OR c.relname LIKE 'unit\_version\_%')
 ORDER BY c.relname

-- name: write_privileges
-- Write privileges a role holds on the iucut relations (any column counts).
SELECT c.oid::regclass::text AS name, p.priv
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 CROSS JOIN unnest(%(privileges)s::text[]) AS p(priv)  -- manifest.WRITE_PRIVILEGES
 WHERE n.nspname = '@schema@' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
   AND c.oid::regclass::text = ANY(%(relations)s)
   AND CASE WHEN p.priv IN ('INSERT', 'UPDATE', 'REFERENCES')
            THEN pg_catalog.has_any_column_privilege(%(role)s, c.oid, p.priv)
            ELSE pg_catalog.has_table_privilege(%(role)s, c.oid, p.priv) END
UNION ALL
SELECT c.oid::regclass::text, 'UPDATE (sequence)'
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = '@schema@' AND c.relkind = 'S'
   AND c.oid::regclass::text = ANY(%(relations)s)
   -- CASE: the planner may test rows of another kind first, and indexes are no sequences
   AND CASE WHEN c.relkind = 'S'
            THEN pg_catalog.has_sequence_privilege(%(role)s, c.oid, 'UPDATE') ELSE false END
 ORDER BY 1, 2

-- name: select_missing
-- Tables a role should read but cannot.
SELECT c.oid::regclass::text AS name
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = '@schema@' AND c.relname = ANY(%(tables)s)
   AND NOT pg_catalog.has_table_privilege(%(role)s, c.oid, 'SELECT')
 ORDER BY 1

-- name: functions
-- Every function of the schema: definer or not, pinned path, owner, PUBLIC's EXECUTE.
SELECT p.oid::regprocedure::text AS signature, p.proname AS name,
       p.prosecdef AS definer, p.proconfig AS config,
       p.prorettype = 'pg_catalog.trigger'::pg_catalog.regtype AS trigger,
       pg_catalog.pg_get_userbyid(p.proowner) AS owner,
       r.rolsuper AS owner_superuser,
       pg_catalog.has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute
  FROM pg_catalog.pg_proc p
  JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
  JOIN pg_catalog.pg_roles r ON r.oid = p.proowner
 WHERE n.nspname = '@schema@'
 ORDER BY p.proname, 1

-- name: executable_by
-- The functions of the schema a role may execute (directly, through PUBLIC or a group).
SELECT p.oid::regprocedure::text AS signature, p.proname AS name
  FROM pg_catalog.pg_proc p
  JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = '@schema@'
   AND pg_catalog.has_function_privilege(%(role)s, p.oid, 'EXECUTE')
 ORDER BY p.proname, 1

-- name: role_reach
-- What a role can reach beyond its grants: the owner's rights, DDL, the database.
SELECT pg_catalog.pg_has_role(%(role)s, %(owner)s, 'MEMBER') AS member_of_owner,
       pg_catalog.has_schema_privilege(%(role)s, '@schema@', 'CREATE') AS schema_create,
       pg_catalog.has_database_privilege(%(role)s, pg_catalog.current_database(), 'CREATE')
           AS database_create,
       pg_catalog.has_database_privilege(%(role)s, pg_catalog.current_database(), 'TEMP')
           AS database_temp,
       (SELECT pg_catalog.pg_get_userbyid(d.datdba) FROM pg_catalog.pg_database d
         WHERE d.datname = pg_catalog.current_database()) = %(role)s AS database_owner
