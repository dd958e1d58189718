-- Roles and privileges of an iucut schema, applied by `iucut migrate --roles` after the
-- migrations, in the same transaction as its record, without parameters (idempotent).
-- Tokens, replaced by the runner with validated or quoted names:
--   @owner@ @exec@ @reader@ @schema@   role and schema names (lower-case identifiers)
--   @database@                         the current database, quoted
--   @owner_only@                       text[] of function names never granted to exec
--   @owner_login@                      true in a database with Citus, else false
-- It touches only the iucut roles, the iucut schema and the objects the migrations
-- created (the registry @schema@.iucut_object), never other objects of a shared schema.
-- The runner sets search_path = pg_catalog, pg_temp.

-- name: roles
-- 1. The roles: created when missing, corrected when an attribute drifted. Only what
--    differs is altered (a non-superuser administrator may not even name SUPERUSER).
DO $$
DECLARE
    r record;
    a record;
BEGIN
    IF CURRENT_USER IN ('@owner@', '@exec@', '@reader@') THEN
        RAISE EXCEPTION 'iucut: run migrate --roles as an administrator, not as %', CURRENT_USER
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- (the owner logs in only in a database with Citus: Citus opens its connections to
    -- the workers as the role that runs the statement, the owner inside the functions)
    FOR r IN SELECT * FROM (VALUES ('@owner@', @owner_login@), ('@exec@', true), ('@reader@', true))
                        AS v(name, login)
    LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r.name) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I %s', r.name,
                               CASE WHEN r.login THEN 'LOGIN' ELSE 'NOLOGIN' END);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;  -- created meanwhile by a migrate of another database (roles are global)
            END;
        END IF;
        SELECT * INTO a FROM pg_roles WHERE rolname = r.name;
        IF a.rolsuper THEN EXECUTE format('ALTER ROLE %I NOSUPERUSER', r.name); END IF;
        IF a.rolcreaterole THEN EXECUTE format('ALTER ROLE %I NOCREATEROLE', r.name); END IF;
        IF a.rolcreatedb THEN EXECUTE format('ALTER ROLE %I NOCREATEDB', r.name); END IF;
        IF a.rolreplication THEN EXECUTE format('ALTER ROLE %I NOREPLICATION', r.name); END IF;
        IF a.rolbypassrls THEN EXECUTE format('ALTER ROLE %I NOBYPASSRLS', r.name); END IF;
        IF a.rolcanlogin IS DISTINCT FROM r.login THEN
            EXECUTE format('ALTER ROLE %I %s', r.name,
                           CASE WHEN r.login THEN 'LOGIN' ELSE 'NOLOGIN' END);
        END IF;
    END LOOP;
    -- The execution and reader roles are never members of the owner (nor reader of exec).
    FOR r IN SELECT m.roleid::regrole AS grp, m.member::regrole AS mem
               FROM pg_auth_members m
              WHERE (m.roleid = '@owner@'::regrole AND m.member IN ('@exec@'::regrole, '@reader@'::regrole))
                 OR (m.roleid = '@exec@'::regrole AND m.member = '@reader@'::regrole)
    LOOP
        EXECUTE format('REVOKE %s FROM %s', r.grp, r.mem);
    END LOOP;
    -- The administrator needs the owner's rights to hand it objects and to SET ROLE to it.
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = CURRENT_USER)
       AND NOT pg_has_role(CURRENT_USER, '@owner@', 'MEMBER') THEN
        EXECUTE format('GRANT %I TO %I', '@owner@', CURRENT_USER);
    END IF;
END
$$;

-- 2. The schema: our own is handed to the owner and closed to PUBLIC; a shared one (e.g.
--    public) only gets USAGE and CREATE for the owner, so later migrations can run as it.
DO $$
BEGIN
    IF coalesce(obj_description('@schema@'::regnamespace, 'pg_namespace') LIKE 'iucut:%', false)
    THEN
        ALTER SCHEMA @schema@ OWNER TO @owner@;
        REVOKE ALL ON SCHEMA @schema@ FROM PUBLIC;
    ELSE
        GRANT USAGE, CREATE ON SCHEMA @schema@ TO @owner@;
    END IF;
END
$$;
REVOKE ALL ON SCHEMA @schema@ FROM @exec@, @reader@;
GRANT USAGE ON SCHEMA @schema@ TO @exec@, @reader@;
REVOKE ALL ON DATABASE @database@ FROM @exec@, @reader@;
GRANT CONNECT ON DATABASE @database@ TO @exec@, @reader@;

-- 3. The objects the migrations created: owned by the owner; SELECT on tables for exec
--    and reader; EXECUTE on the definer write functions (fn_run_*, fn_iu_*) for exec only,
--    except trigger functions and those marked "-- owner-only" or "-- internal".
DO $$
DECLARE
    kinds text[];
    ids text[];
    rel regclass;
    fn regprocedure;
    typ regtype;
    k "char";
    p record;
    what text;
BEGIN
    -- read the registry first: a table cannot change owner while a loop reads it
    SELECT array_agg(kind ORDER BY kind, identity), array_agg(identity ORDER BY kind, identity)
      INTO kinds, ids FROM @schema@.iucut_object;
    FOR i IN 1 .. coalesce(array_length(kinds, 1), 0) LOOP
        IF kinds[i] = 'relation' THEN
            rel := to_regclass(ids[i]);
            CONTINUE WHEN rel IS NULL;
            SELECT relkind INTO k FROM pg_class WHERE oid = rel;
            what := CASE k WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                           WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE'
                           ELSE 'TABLE' END;
            -- identity and serial sequences belong to their table and follow its owner
            IF NOT (k = 'S' AND EXISTS (SELECT 1 FROM pg_depend d
                                         WHERE d.classid = 'pg_class'::regclass
                                           AND d.objid = rel AND d.deptype IN ('a', 'i')))
               AND (SELECT relowner FROM pg_class WHERE oid = rel) <> '@owner@'::regrole
            THEN
                EXECUTE format('ALTER %s %s OWNER TO @owner@', what, rel);
            END IF;
            EXECUTE format('REVOKE ALL ON %s %s FROM PUBLIC, @exec@, @reader@',
                           CASE k WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, rel);
            IF k <> 'S' THEN
                EXECUTE format('GRANT SELECT ON TABLE %s TO @exec@, @reader@', rel);
            END IF;
        ELSIF kinds[i] = 'function' THEN
            fn := to_regprocedure(ids[i]);
            CONTINUE WHEN fn IS NULL;
            SELECT proname, prosecdef, prorettype, proowner INTO p FROM pg_proc WHERE oid = fn;
            IF p.proowner <> '@owner@'::regrole THEN
                EXECUTE format('ALTER ROUTINE %s OWNER TO @owner@', fn);
            END IF;
            EXECUTE format('REVOKE ALL ON ROUTINE %s FROM PUBLIC, @exec@, @reader@', fn);
            IF p.prosecdef AND p.prorettype <> 'trigger'::regtype
               AND p.proname LIKE ANY (@write_functions@)
               AND NOT p.proname = ANY (@owner_only@)
            THEN
                EXECUTE format('GRANT EXECUTE ON ROUTINE %s TO @exec@', fn);
            END IF;
        ELSIF kinds[i] = 'type' THEN
            typ := to_regtype(ids[i]);
            CONTINUE WHEN typ IS NULL;
            IF (SELECT typowner FROM pg_type WHERE oid = typ) <> '@owner@'::regrole THEN
                EXECUTE format('ALTER %s %s OWNER TO @owner@',
                               CASE (SELECT typtype FROM pg_type WHERE oid = typ)
                                    WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, typ);
            END IF;
        END IF;
    END LOOP;
END
$$;

-- 4. Functions the owner creates later are not executable by PUBLIC. Per-schema default
--    privileges can only add to the global ones, so the global form is the one that
--    revokes; it concerns only objects the (dedicated) owner role creates.
ALTER DEFAULT PRIVILEGES FOR ROLE @owner@ REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE @owner@ IN SCHEMA @schema@ REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

-- 5. What must hold now, whatever the database looked like before.
DO $$
DECLARE
    bad text;
BEGIN
    IF pg_has_role('@exec@', '@owner@', 'MEMBER') OR pg_has_role('@reader@', '@owner@', 'MEMBER')
    THEN
        RAISE EXCEPTION 'iucut: @exec@ or @reader@ is (indirectly) a member of @owner@'
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'revoke the membership of the role that grants it';
    END IF;
    SELECT string_agg(p.oid::regprocedure::text, ', ') INTO bad
      FROM pg_proc p JOIN @schema@.iucut_object o
        ON o.kind = 'function' AND to_regprocedure(o.identity) = p.oid
     WHERE p.prosecdef AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c
                                        WHERE c LIKE 'search\_path=%');
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'iucut: SECURITY DEFINER functions without a pinned search_path: %', bad
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- the manifest (iucut/manifest.py): both roles read its tables (those the schema's
    -- version has) and write none
    SELECT string_agg(r || ' cannot SELECT ' || t, ', ') INTO bad
      FROM unnest(ARRAY['@exec@', '@reader@']) r, unnest(@read_tables@) t
     WHERE to_regclass('@schema@.' || quote_ident(t)) IS NOT NULL
       AND NOT has_table_privilege(r, to_regclass('@schema@.' || quote_ident(t)), 'SELECT');
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'iucut: the manifest''s read tables: %', bad
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT string_agg(r || ' has ' || w || ' on ' || o.identity, ', ') INTO bad
      FROM unnest(ARRAY['@exec@', '@reader@']) r, unnest(@write_privileges@) w,
           @schema@.iucut_object o
     WHERE o.kind = 'relation' AND to_regclass(o.identity) IS NOT NULL
       AND (SELECT relkind FROM pg_class WHERE oid = to_regclass(o.identity)) <> 'S'
       AND CASE WHEN w IN ('INSERT', 'UPDATE', 'REFERENCES')
                THEN has_any_column_privilege(r, to_regclass(o.identity), w)
                ELSE has_table_privilege(r, to_regclass(o.identity), w) END;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'iucut: the manifest''s write privileges: %', bad
            USING ERRCODE = 'insufficient_privilege';
    END IF;
END
$$;

-- name: harden
-- `--harden`: database-wide, opt-in. No role may create temporary tables unless granted
-- (a temporary table can shadow a table an unpinned function names), and nobody but the
-- schema owner may create in schema public. The iucut owner gets TEMP back only if one of
-- its functions creates temporary tables.
REVOKE TEMPORARY ON DATABASE @database@ FROM PUBLIC;
DO $$
BEGIN
    IF to_regnamespace('public') IS NOT NULL THEN
        REVOKE CREATE ON SCHEMA public FROM PUBLIC;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_proc p JOIN @schema@.iucut_object o
                 ON o.kind = 'function' AND to_regprocedure(o.identity) = p.oid
                WHERE p.prosrc ~* 'create\s+(global\s+|local\s+)?temp(orary)?\s') THEN
        GRANT TEMPORARY ON DATABASE @database@ TO @owner@;
    END IF;
END
$$;
