-- iucut schema version 1: units, versions, lifecycle log, runs, documents, the control
-- row, and the write functions, which are the only write path.
--
-- Conventions (see STYLE.md and notes/postgres-safety.md):
--   * @schema@ is replaced by the configured schema name before this file runs; the file
--     runs without parameters, so % in RAISE is safe.
--   * Every SECURITY DEFINER function pins search_path to pg_catalog, pg_temp (pg_temp
--     last) and qualifies every relation, so a temporary table cannot shadow one.
--   * Functions check their own invariants and raise with a SQLSTATE of their own:
--       IUF01 frozen            IUS01 stale precondition   IUC01 row contract
--       IUN01 not found         IUR01 invalid run          IUP01 proof can never commit
--       IUI01 immutable history
--   * No document text goes into RAISE messages (they reach the server log): codes only.
--   * Functions marked "-- owner-only" are never granted to the execution role.

CREATE SCHEMA IF NOT EXISTS @schema@;

-- The control row: one row, the database-side switch an operator uses to freeze every
-- cutter on every host, whatever their local kill-switch says. Proofs still run.
CREATE TABLE @schema@.iu_control (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    frozen      boolean NOT NULL DEFAULT false,
    reason      text,
    changed_by  text NOT NULL DEFAULT session_user,
    changed_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO @schema@.iu_control DEFAULT VALUES;

CREATE TABLE @schema@.iu_run (
    run_id       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    mode         text NOT NULL CHECK (mode IN ('apply', 'proof')),
    status       text NOT NULL DEFAULT 'running'
                 CHECK (status IN ('running', 'finished', 'failed')),
    actor        text NOT NULL DEFAULT session_user,
    tool_version text,
    plan_hash    text,
    meta         jsonb NOT NULL DEFAULT '{}'::jsonb,
    counts       jsonb,
    xid          xid8 NOT NULL DEFAULT pg_current_xact_id(),
    started_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at  timestamptz
);

-- One row per source document: its hash lets plan skip unchanged documents unread.
CREATE TABLE @schema@.iu_document (
    doc_path    text PRIMARY KEY,
    namespace   text NOT NULL,
    doc_hash    text NOT NULL,
    state       text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'retired')),
    unit_count  integer NOT NULL,
    size_bytes  bigint NOT NULL,
    first_run   uuid NOT NULL REFERENCES @schema@.iu_run (run_id),
    last_run    uuid NOT NULL REFERENCES @schema@.iu_run (run_id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per code. Placement (ordinal, depth, position) follows the source silently;
-- content changes make versions, parent changes make 'moved' events.
CREATE TABLE @schema@.information_unit (
    unit_id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code            text NOT NULL UNIQUE,
    namespace       text NOT NULL,
    doc_path        text NOT NULL,
    parent_code     text,
    kind            text NOT NULL,
    label           text,
    ordinal         integer NOT NULL,
    depth           integer NOT NULL,
    position        integer NOT NULL,
    state           text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'retired')),
    current_version integer NOT NULL CHECK (current_version >= 1),
    content_hash    text NOT NULL,
    created_run     uuid NOT NULL REFERENCES @schema@.iu_run (run_id),
    updated_run     uuid NOT NULL REFERENCES @schema@.iu_run (run_id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX information_unit_doc_idx ON @schema@.information_unit (doc_path, position);

-- Every version of every unit. Never updated, never deleted.
CREATE TABLE @schema@.unit_version (
    version_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_id      bigint NOT NULL REFERENCES @schema@.information_unit (unit_id),
    version      integer NOT NULL,
    title        text NOT NULL,
    body         text NOT NULL,
    raw_heading  text NOT NULL,
    content_hash text NOT NULL,
    doc_path     text NOT NULL,
    line_start   integer,
    line_end     integer,
    byte_start   bigint,
    byte_end     bigint,
    run_id       uuid NOT NULL REFERENCES @schema@.iu_run (run_id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (unit_id, version)
);

-- Every lifecycle event. Never updated, never deleted.
CREATE TABLE @schema@.iu_lifecycle_log (
    event_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_id      bigint NOT NULL REFERENCES @schema@.information_unit (unit_id),
    code         text NOT NULL,
    event        text NOT NULL
                 CHECK (event IN ('created', 'revised', 'moved', 'retired', 'restored')),
    from_version integer,
    to_version   integer,
    detail       jsonb,
    run_id       uuid NOT NULL REFERENCES @schema@.iu_run (run_id),
    actor        text NOT NULL DEFAULT session_user,
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX iu_lifecycle_log_unit_idx ON @schema@.iu_lifecycle_log (unit_id, event_id);

-- History is append-only, even for the owner's own functions.
CREATE FUNCTION @schema@.fn_iu_refuse_history_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RAISE EXCEPTION 'iucut: % is append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'IUI01', HINT = 'versions and lifecycle events are never changed';
END
$$;
CREATE TRIGGER unit_version_append_only BEFORE UPDATE OR DELETE ON @schema@.unit_version
    FOR EACH ROW EXECUTE FUNCTION @schema@.fn_iu_refuse_history_change();
CREATE TRIGGER unit_version_no_truncate BEFORE TRUNCATE ON @schema@.unit_version
    FOR EACH STATEMENT EXECUTE FUNCTION @schema@.fn_iu_refuse_history_change();
CREATE TRIGGER iu_lifecycle_log_append_only BEFORE UPDATE OR DELETE ON @schema@.iu_lifecycle_log
    FOR EACH ROW EXECUTE FUNCTION @schema@.fn_iu_refuse_history_change();
CREATE TRIGGER iu_lifecycle_log_no_truncate BEFORE TRUNCATE ON @schema@.iu_lifecycle_log
    FOR EACH STATEMENT EXECUTE FUNCTION @schema@.fn_iu_refuse_history_change();
CREATE TRIGGER information_unit_no_delete BEFORE DELETE ON @schema@.information_unit
    FOR EACH ROW EXECUTE FUNCTION @schema@.fn_iu_refuse_history_change();
CREATE TRIGGER information_unit_no_truncate BEFORE TRUNCATE ON @schema@.information_unit
    FOR EACH STATEMENT EXECUTE FUNCTION @schema@.fn_iu_refuse_history_change();

-- The poison pill: a transaction that began a proof run can never commit. The trigger
-- is deferred to COMMIT, and it raises whenever it fires, so SET CONSTRAINTS ALL
-- IMMEDIATE, a client-side commit() or a bug all end in an aborted transaction.
CREATE FUNCTION @schema@.fn_iu_refuse_proof_commit() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RAISE EXCEPTION 'iucut: run % is a proof run: its transaction can never commit', NEW.run_id
        USING ERRCODE = 'IUP01', HINT = 'a proof always rolls back; use iucut apply to write';
END
$$;
CREATE CONSTRAINT TRIGGER iu_run_proof_never_commits
    AFTER INSERT ON @schema@.iu_run
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.mode = 'proof')
    EXECUTE FUNCTION @schema@.fn_iu_refuse_proof_commit();

-- A run may never change its mode (a proof cannot become an apply).
CREATE FUNCTION @schema@.fn_iu_guard_run_mode() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NEW.mode IS DISTINCT FROM OLD.mode OR NEW.run_id IS DISTINCT FROM OLD.run_id THEN
        RAISE EXCEPTION 'iucut: the mode and id of run % cannot change', OLD.run_id
            USING ERRCODE = 'IUR01';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER iu_run_mode_fixed BEFORE UPDATE ON @schema@.iu_run
    FOR EACH ROW EXECUTE FUNCTION @schema@.fn_iu_guard_run_mode();

-- One operation of a set-based apply: the desired state of one unit.
CREATE TYPE @schema@.iu_op AS (
    op             text,      -- 'create' | 'update' | 'retire'
    code           text,
    expect_version integer,   -- precondition: NULL = absent, else the current version
    namespace      text,
    parent_code    text,
    kind           text,
    label          text,
    ordinal        integer,
    depth          integer,
    position       integer,
    title          text,
    body           text,
    raw_heading    text,
    content_hash   text,
    line_start     integer,
    line_end       integer,
    byte_start     bigint,
    byte_end       bigint
);

------------------------------------------------------------------------------------------
-- Helpers called from the definer functions; those marked "-- internal" are granted to
-- no one.
------------------------------------------------------------------------------------------

-- The run must exist and be running; an apply run is refused while frozen.
-- internal
CREATE FUNCTION @schema@.fn_iu_check_run(p_run uuid) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_mode text;
    v_status text;
BEGIN
    SELECT r.mode, r.status INTO v_mode, v_status
      FROM @schema@.iu_run r WHERE r.run_id = p_run;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'iucut: no run %', p_run
            USING ERRCODE = 'IUR01', HINT = 'begin a run with fn_run_begin first';
    END IF;
    IF v_status <> 'running' THEN
        RAISE EXCEPTION 'iucut: run % is %, not running', p_run, v_status USING ERRCODE = 'IUR01';
    END IF;
    IF v_mode = 'apply' AND (SELECT c.frozen FROM @schema@.iu_control c) THEN
        RAISE EXCEPTION 'iucut: live writes are frozen at the database'
            USING ERRCODE = 'IUF01',
                  HINT = 'an operator froze writes (iucut freeze); proofs still run';
    END IF;
    RETURN v_mode;
END
$$;

-- Serialize every writer of one document (transaction-level: released by COMMIT or
-- ROLLBACK, never left behind by a proof). Granted: apply takes it before it reads.
CREATE FUNCTION @schema@.fn_iu_lock_document(p_doc_path text) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT pg_catalog.pg_advisory_xact_lock(
        pg_catalog.hashtextextended('iucut:@schema@:' || p_doc_path, 0));
$$;

-- The row contract, checked by the database too: names the missing fields.
-- internal
CREATE FUNCTION @schema@.fn_iu_require(p_unit jsonb, p_fields text[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_missing text[];
BEGIN
    SELECT array_agg(f ORDER BY f) INTO v_missing
      FROM unnest(p_fields) AS f
     WHERE p_unit -> f IS NULL OR jsonb_typeof(p_unit -> f) = 'null';
    IF v_missing IS NOT NULL THEN
        RAISE EXCEPTION 'iucut: row % breaks the row contract: missing=[%]',
            coalesce(p_unit ->> 'code', '?'), array_to_string(v_missing, ', ')
            USING ERRCODE = 'IUC01';
    END IF;
END
$$;

------------------------------------------------------------------------------------------
-- Runs.
------------------------------------------------------------------------------------------

CREATE FUNCTION @schema@.fn_run_begin(
    p_mode text,
    p_tool_version text DEFAULT NULL,
    p_plan_hash text DEFAULT NULL,
    p_meta jsonb DEFAULT '{}'::jsonb
) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_run uuid;
BEGIN
    IF p_mode IS NULL OR p_mode NOT IN ('apply', 'proof') THEN
        RAISE EXCEPTION 'iucut: run mode must be apply or proof' USING ERRCODE = 'IUR01';
    END IF;
    IF p_mode = 'apply' AND (SELECT c.frozen FROM @schema@.iu_control c) THEN
        RAISE EXCEPTION 'iucut: live writes are frozen at the database'
            USING ERRCODE = 'IUF01',
                  HINT = 'an operator froze writes (iucut freeze); proofs still run';
    END IF;
    INSERT INTO @schema@.iu_run (mode, tool_version, plan_hash, meta)
    VALUES (p_mode, p_tool_version, p_plan_hash, coalesce(p_meta, '{}'::jsonb))
    RETURNING run_id INTO v_run;
    RETURN v_run;
END
$$;

CREATE FUNCTION @schema@.fn_run_finish(
    p_run uuid,
    p_status text DEFAULT 'finished',
    p_counts jsonb DEFAULT NULL
) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF p_status NOT IN ('finished', 'failed') THEN
        RAISE EXCEPTION 'iucut: a run finishes as finished or failed' USING ERRCODE = 'IUR01';
    END IF;
    UPDATE @schema@.iu_run
       SET status = p_status, counts = p_counts, finished_at = clock_timestamp()
     WHERE run_id = p_run AND status = 'running';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'iucut: run % is not running', p_run USING ERRCODE = 'IUR01';
    END IF;
    RETURN p_status;
END
$$;

------------------------------------------------------------------------------------------
-- Per-unit write functions. Each writes the unit row, the version row and the log row
-- together and returns (status, unit_id, version).
------------------------------------------------------------------------------------------

CREATE FUNCTION @schema@.fn_iu_create(p_run uuid, p_unit jsonb)
RETURNS TABLE (status text, unit_id bigint, version integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_id bigint;
    v_version integer;
BEGIN
    PERFORM @schema@.fn_iu_check_run(p_run);
    PERFORM @schema@.fn_iu_require(p_unit, ARRAY['namespace', 'code', 'kind', 'ordinal',
        'depth', 'title', 'raw_heading', 'body', 'content_hash', 'doc_path']);
    PERFORM @schema@.fn_iu_lock_document(p_unit ->> 'doc_path');
    SELECT u.unit_id, u.current_version INTO v_id, v_version
      FROM @schema@.information_unit u WHERE u.code = p_unit ->> 'code';
    IF FOUND THEN
        RETURN QUERY SELECT 'exists'::text, v_id, v_version;
        RETURN;
    END IF;
    INSERT INTO @schema@.information_unit AS u
        (code, namespace, doc_path, parent_code, kind, label, ordinal, depth, position,
         current_version, content_hash, created_run, updated_run)
    VALUES (p_unit ->> 'code', p_unit ->> 'namespace', p_unit ->> 'doc_path',
            p_unit ->> 'parent_code', p_unit ->> 'kind', p_unit ->> 'label',
            (p_unit ->> 'ordinal')::integer, (p_unit ->> 'depth')::integer,
            coalesce((p_unit ->> 'position')::integer, 0), 1,
            p_unit ->> 'content_hash', p_run, p_run)
    RETURNING u.unit_id INTO v_id;
    INSERT INTO @schema@.unit_version
        (unit_id, version, title, body, raw_heading, content_hash, doc_path,
         line_start, line_end, byte_start, byte_end, run_id)
    VALUES (v_id, 1, p_unit ->> 'title', p_unit ->> 'body', p_unit ->> 'raw_heading',
            p_unit ->> 'content_hash', p_unit ->> 'doc_path',
            (p_unit ->> 'line_start')::integer, (p_unit ->> 'line_end')::integer,
            (p_unit ->> 'byte_start')::bigint, (p_unit ->> 'byte_end')::bigint, p_run);
    INSERT INTO @schema@.iu_lifecycle_log (unit_id, code, event, from_version, to_version, run_id)
    VALUES (v_id, p_unit ->> 'code', 'created', NULL, 1, p_run);
    RETURN QUERY SELECT 'created'::text, v_id, 1;
END
$$;

-- A new version when the content hash differs; 'unchanged' otherwise. A precondition
-- (p_expected_version) makes it a compare-and-swap.
CREATE FUNCTION @schema@.fn_iu_revise(p_run uuid, p_unit jsonb, p_expected_version integer DEFAULT NULL)
RETURNS TABLE (status text, unit_id bigint, version integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_cur @schema@.information_unit%ROWTYPE;
    v_new integer;
BEGIN
    PERFORM @schema@.fn_iu_check_run(p_run);
    PERFORM @schema@.fn_iu_require(p_unit, ARRAY['code', 'title', 'raw_heading', 'body',
        'content_hash']);
    SELECT * INTO v_cur FROM @schema@.information_unit u WHERE u.code = p_unit ->> 'code';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'iucut: no unit %', p_unit ->> 'code' USING ERRCODE = 'IUN01';
    END IF;
    PERFORM @schema@.fn_iu_lock_document(v_cur.doc_path);
    SELECT * INTO v_cur FROM @schema@.information_unit u WHERE u.unit_id = v_cur.unit_id FOR UPDATE;
    IF p_expected_version IS NOT NULL AND v_cur.current_version <> p_expected_version THEN
        RAISE EXCEPTION 'iucut: unit % is at version %, expected %',
            v_cur.code, v_cur.current_version, p_expected_version
            USING ERRCODE = 'IUS01', HINT = 'the plan is stale: plan again';
    END IF;
    IF v_cur.state = 'retired' THEN
        RAISE EXCEPTION 'iucut: unit % is retired', v_cur.code
            USING ERRCODE = 'IUS01', HINT = 'restore it with fn_iu_restore';
    END IF;
    IF v_cur.content_hash = p_unit ->> 'content_hash' THEN
        RETURN QUERY SELECT 'unchanged'::text, v_cur.unit_id, v_cur.current_version;
        RETURN;
    END IF;
    v_new := v_cur.current_version + 1;
    UPDATE @schema@.information_unit u
       SET current_version = v_new, content_hash = p_unit ->> 'content_hash',
           updated_run = p_run, updated_at = now()
     WHERE u.unit_id = v_cur.unit_id;
    INSERT INTO @schema@.unit_version
        (unit_id, version, title, body, raw_heading, content_hash, doc_path,
         line_start, line_end, byte_start, byte_end, run_id)
    VALUES (v_cur.unit_id, v_new, p_unit ->> 'title', p_unit ->> 'body',
            p_unit ->> 'raw_heading', p_unit ->> 'content_hash', v_cur.doc_path,
            (p_unit ->> 'line_start')::integer, (p_unit ->> 'line_end')::integer,
            (p_unit ->> 'byte_start')::bigint, (p_unit ->> 'byte_end')::bigint, p_run);
    INSERT INTO @schema@.iu_lifecycle_log (unit_id, code, event, from_version, to_version, run_id)
    VALUES (v_cur.unit_id, v_cur.code, 'revised', v_cur.current_version, v_new, p_run);
    RETURN QUERY SELECT 'revised'::text, v_cur.unit_id, v_new;
END
$$;

CREATE FUNCTION @schema@.fn_iu_retire(p_run uuid, p_code text, p_expected_version integer DEFAULT NULL)
RETURNS TABLE (status text, unit_id bigint, version integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_cur @schema@.information_unit%ROWTYPE;
BEGIN
    PERFORM @schema@.fn_iu_check_run(p_run);
    SELECT * INTO v_cur FROM @schema@.information_unit u WHERE u.code = p_code;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'iucut: no unit %', p_code USING ERRCODE = 'IUN01';
    END IF;
    PERFORM @schema@.fn_iu_lock_document(v_cur.doc_path);
    SELECT * INTO v_cur FROM @schema@.information_unit u WHERE u.unit_id = v_cur.unit_id FOR UPDATE;
    IF p_expected_version IS NOT NULL AND v_cur.current_version <> p_expected_version THEN
        RAISE EXCEPTION 'iucut: unit % is at version %, expected %',
            v_cur.code, v_cur.current_version, p_expected_version
            USING ERRCODE = 'IUS01', HINT = 'the plan is stale: plan again';
    END IF;
    IF v_cur.state = 'retired' THEN
        RETURN QUERY SELECT 'already_retired'::text, v_cur.unit_id, v_cur.current_version;
        RETURN;
    END IF;
    UPDATE @schema@.information_unit u
       SET state = 'retired', updated_run = p_run, updated_at = now()
     WHERE u.unit_id = v_cur.unit_id;
    INSERT INTO @schema@.iu_lifecycle_log (unit_id, code, event, from_version, to_version, run_id)
    VALUES (v_cur.unit_id, v_cur.code, 'retired', v_cur.current_version,
            v_cur.current_version, p_run);
    RETURN QUERY SELECT 'retired'::text, v_cur.unit_id, v_cur.current_version;
END
$$;

-- A new parent is a 'moved' event; ordinal and position are placement and change silently.
CREATE FUNCTION @schema@.fn_iu_move(
    p_run uuid, p_code text, p_parent_code text, p_ordinal integer, p_position integer,
    p_depth integer DEFAULT NULL, p_expected_version integer DEFAULT NULL
) RETURNS TABLE (status text, unit_id bigint, version integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_cur @schema@.information_unit%ROWTYPE;
BEGIN
    PERFORM @schema@.fn_iu_check_run(p_run);
    SELECT * INTO v_cur FROM @schema@.information_unit u WHERE u.code = p_code;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'iucut: no unit %', p_code USING ERRCODE = 'IUN01';
    END IF;
    PERFORM @schema@.fn_iu_lock_document(v_cur.doc_path);
    SELECT * INTO v_cur FROM @schema@.information_unit u WHERE u.unit_id = v_cur.unit_id FOR UPDATE;
    IF p_expected_version IS NOT NULL AND v_cur.current_version <> p_expected_version THEN
        RAISE EXCEPTION 'iucut: unit % is at version %, expected %',
            v_cur.code, v_cur.current_version, p_expected_version
            USING ERRCODE = 'IUS01', HINT = 'the plan is stale: plan again';
    END IF;
    UPDATE @schema@.information_unit u
       SET parent_code = p_parent_code,
           ordinal = coalesce(p_ordinal, u.ordinal),
           position = coalesce(p_position, u.position),
           depth = coalesce(p_depth, u.depth)
     WHERE u.unit_id = v_cur.unit_id;
    IF v_cur.parent_code IS NOT DISTINCT FROM p_parent_code THEN
        RETURN QUERY SELECT 'unchanged'::text, v_cur.unit_id, v_cur.current_version;
        RETURN;
    END IF;
    UPDATE @schema@.information_unit u SET updated_run = p_run, updated_at = now()
     WHERE u.unit_id = v_cur.unit_id;
    INSERT INTO @schema@.iu_lifecycle_log
        (unit_id, code, event, from_version, to_version, detail, run_id)
    VALUES (v_cur.unit_id, v_cur.code, 'moved', v_cur.current_version, v_cur.current_version,
            jsonb_build_object('from_parent', v_cur.parent_code, 'to_parent', p_parent_code),
            p_run);
    RETURN QUERY SELECT 'moved'::text, v_cur.unit_id, v_cur.current_version;
END
$$;

-- Bring a retired unit back; a new version when its content differs from the last one.
CREATE FUNCTION @schema@.fn_iu_restore(p_run uuid, p_unit jsonb, p_expected_version integer DEFAULT NULL)
RETURNS TABLE (status text, unit_id bigint, version integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_cur @schema@.information_unit%ROWTYPE;
    v_new integer;
BEGIN
    PERFORM @schema@.fn_iu_check_run(p_run);
    PERFORM @schema@.fn_iu_require(p_unit, ARRAY['code', 'title', 'raw_heading', 'body',
        'content_hash']);
    SELECT * INTO v_cur FROM @schema@.information_unit u WHERE u.code = p_unit ->> 'code';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'iucut: no unit %', p_unit ->> 'code' USING ERRCODE = 'IUN01';
    END IF;
    PERFORM @schema@.fn_iu_lock_document(v_cur.doc_path);
    SELECT * INTO v_cur FROM @schema@.information_unit u WHERE u.unit_id = v_cur.unit_id FOR UPDATE;
    IF p_expected_version IS NOT NULL AND v_cur.current_version <> p_expected_version THEN
        RAISE EXCEPTION 'iucut: unit % is at version %, expected %',
            v_cur.code, v_cur.current_version, p_expected_version
            USING ERRCODE = 'IUS01', HINT = 'the plan is stale: plan again';
    END IF;
    IF v_cur.state = 'active' THEN
        RETURN QUERY SELECT 'active'::text, v_cur.unit_id, v_cur.current_version;
        RETURN;
    END IF;
    v_new := v_cur.current_version;
    IF v_cur.content_hash <> p_unit ->> 'content_hash' THEN
        v_new := v_cur.current_version + 1;
        INSERT INTO @schema@.unit_version
            (unit_id, version, title, body, raw_heading, content_hash, doc_path,
             line_start, line_end, byte_start, byte_end, run_id)
        VALUES (v_cur.unit_id, v_new, p_unit ->> 'title', p_unit ->> 'body',
                p_unit ->> 'raw_heading', p_unit ->> 'content_hash', v_cur.doc_path,
                (p_unit ->> 'line_start')::integer, (p_unit ->> 'line_end')::integer,
                (p_unit ->> 'byte_start')::bigint, (p_unit ->> 'byte_end')::bigint, p_run);
    END IF;
    UPDATE @schema@.information_unit u
       SET state = 'active', current_version = v_new,
           content_hash = p_unit ->> 'content_hash', updated_run = p_run, updated_at = now()
     WHERE u.unit_id = v_cur.unit_id;
    INSERT INTO @schema@.iu_lifecycle_log (unit_id, code, event, from_version, to_version, run_id)
    VALUES (v_cur.unit_id, v_cur.code, 'restored', v_cur.current_version, v_new, p_run);
    RETURN QUERY SELECT 'restored'::text, v_cur.unit_id, v_new;
END
$$;

------------------------------------------------------------------------------------------
-- The set-based entry point: one call per document, one transaction per document.
--
-- p_document: {doc_path, namespace, doc_hash, size_bytes, unit_count,
--              expect_doc_hash (NULL: the document must be new), state ('active'|'retired')}
-- p_ops:      [{op: create|update|retire, code, expect_version, <unit fields>}, ...]
--
-- Every precondition is checked before anything is written; events are derived from
-- the data (a different content hash is a version, a different parent is a move, a
-- retired unit that comes back is restored), so a plan cannot make the function write a
-- version that changes nothing. Returns the counts of what it did.
------------------------------------------------------------------------------------------
CREATE FUNCTION @schema@.fn_iu_apply_document(p_run uuid, p_document jsonb, p_ops jsonb)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_doc_path text := p_document ->> 'doc_path';
    v_ops @schema@.iu_op[];
    v_bad text;
    v_detail text;
    v_doc_hash text;
    v_created integer := 0;
    v_revised integer := 0;
    v_moved integer := 0;
    v_retired integer := 0;
    v_restored integer := 0;
    v_placed integer := 0;
BEGIN
    PERFORM @schema@.fn_iu_check_run(p_run);
    IF v_doc_path IS NULL OR p_document ->> 'doc_hash' IS NULL
       OR p_document ->> 'namespace' IS NULL THEN
        RAISE EXCEPTION 'iucut: document breaks the row contract: needs doc_path, namespace, doc_hash'
            USING ERRCODE = 'IUC01';
    END IF;
    PERFORM @schema@.fn_iu_lock_document(v_doc_path);

    -- Document precondition: the document is as the plan saw it.
    SELECT d.doc_hash INTO v_doc_hash FROM @schema@.iu_document d WHERE d.doc_path = v_doc_path;
    IF v_doc_hash IS DISTINCT FROM p_document ->> 'expect_doc_hash' THEN
        RAISE EXCEPTION 'iucut: document % changed since the plan', v_doc_path
            USING ERRCODE = 'IUS01', HINT = 'the plan is stale: plan again';
    END IF;

    v_ops := ARRAY(
        SELECT ROW(o.op, o.code, o.expect_version, o.namespace, o.parent_code, o.kind,
                   o.label, o.ordinal, o.depth, o.position, o.title, o.body, o.raw_heading,
                   o.content_hash, o.line_start, o.line_end, o.byte_start, o.byte_end
               )::@schema@.iu_op
          FROM jsonb_to_recordset(coalesce(p_ops, '[]'::jsonb)) AS o(
               op text, code text, expect_version integer, namespace text, parent_code text,
               kind text, label text, ordinal integer, depth integer, position integer,
               title text, body text, raw_heading text, content_hash text,
               line_start integer, line_end integer, byte_start bigint, byte_end bigint));

    -- Row contract, for every row before any write.
    SELECT o.code, concat_ws(', ',
               CASE WHEN o.title IS NULL THEN 'title' END,
               CASE WHEN o.body IS NULL THEN 'body' END,
               CASE WHEN o.raw_heading IS NULL THEN 'raw_heading' END,
               CASE WHEN o.content_hash IS NULL THEN 'content_hash' END,
               CASE WHEN o.kind IS NULL THEN 'kind' END,
               CASE WHEN o.namespace IS NULL THEN 'namespace' END,
               CASE WHEN o.ordinal IS NULL THEN 'ordinal' END,
               CASE WHEN o.depth IS NULL THEN 'depth' END,
               CASE WHEN o.position IS NULL THEN 'position' END)
      INTO v_bad, v_detail
      FROM unnest(v_ops) o
     WHERE o.code IS NULL OR o.op IS NULL OR o.op NOT IN ('create', 'update', 'retire')
        OR (o.op <> 'retire' AND (o.title IS NULL OR o.body IS NULL OR o.raw_heading IS NULL
            OR o.content_hash IS NULL OR o.kind IS NULL OR o.namespace IS NULL
            OR o.ordinal IS NULL OR o.depth IS NULL OR o.position IS NULL))
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'iucut: row % breaks the row contract: missing=[%]',
            coalesce(v_bad, '?'), v_detail USING ERRCODE = 'IUC01';
    END IF;
    SELECT o.code INTO v_bad FROM unnest(v_ops) o GROUP BY o.code HAVING count(*) > 1 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'iucut: code % appears twice in one document', v_bad
            USING ERRCODE = 'IUC01';
    END IF;

    -- A code belongs to one document.
    SELECT o.code, u.doc_path INTO v_bad, v_detail
      FROM unnest(v_ops) o JOIN @schema@.information_unit u ON u.code = o.code
     WHERE u.doc_path <> v_doc_path LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'iucut: code % already belongs to document %', v_bad, v_detail
            USING ERRCODE = 'IUC01', HINT = 'give the document its own namespace';
    END IF;

    -- Unit preconditions (compare-and-swap on the expected version).
    SELECT o.code INTO v_bad
      FROM unnest(v_ops) o LEFT JOIN @schema@.information_unit u ON u.code = o.code
     WHERE (o.op = 'create' AND u.unit_id IS NOT NULL)
        OR (o.op <> 'create' AND (u.unit_id IS NULL
            OR u.current_version IS DISTINCT FROM o.expect_version))
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'iucut: unit % changed since the plan', v_bad
            USING ERRCODE = 'IUS01', HINT = 'the plan is stale: plan again';
    END IF;

    -- Retire.
    WITH r AS (
        UPDATE @schema@.information_unit u
           SET state = 'retired', updated_run = p_run, updated_at = now()
          FROM unnest(v_ops) o
         WHERE o.op = 'retire' AND u.code = o.code AND u.state = 'active'
        RETURNING u.unit_id, u.code, u.current_version
    ), l AS (
        INSERT INTO @schema@.iu_lifecycle_log
            (unit_id, code, event, from_version, to_version, run_id)
        SELECT r.unit_id, r.code, 'retired', r.current_version, r.current_version, p_run FROM r
    )
    SELECT count(*) INTO v_retired FROM r;

    -- Create.
    WITH ins AS (
        INSERT INTO @schema@.information_unit
            (code, namespace, doc_path, parent_code, kind, label, ordinal, depth, position,
             current_version, content_hash, created_run, updated_run)
        SELECT o.code, o.namespace, v_doc_path, o.parent_code, o.kind, o.label, o.ordinal,
               o.depth, o.position, 1, o.content_hash, p_run, p_run
          FROM unnest(v_ops) o WHERE o.op = 'create'
        RETURNING unit_id, code
    ), ver AS (
        INSERT INTO @schema@.unit_version
            (unit_id, version, title, body, raw_heading, content_hash, doc_path,
             line_start, line_end, byte_start, byte_end, run_id)
        SELECT ins.unit_id, 1, o.title, o.body, o.raw_heading, o.content_hash, v_doc_path,
               o.line_start, o.line_end, o.byte_start, o.byte_end, p_run
          FROM ins JOIN unnest(v_ops) o ON o.code = ins.code
    ), l AS (
        INSERT INTO @schema@.iu_lifecycle_log
            (unit_id, code, event, from_version, to_version, run_id)
        SELECT ins.unit_id, ins.code, 'created', NULL, 1, p_run FROM ins
    )
    SELECT count(*) INTO v_created FROM ins;

    -- Update: content → version (revised, or restored when it was retired);
    -- parent → moved; placement → silent.
    WITH cur AS (
        SELECT u.unit_id, u.current_version AS old_version,
               u.content_hash AS old_hash, u.parent_code AS old_parent, u.state AS old_state,
               (u.content_hash <> o.content_hash) AS new_content,
               (u.parent_code IS DISTINCT FROM o.parent_code) AS new_parent,
               (u.state = 'retired') AS comes_back,
               (u.ordinal, u.depth, u.position, u.kind, u.label, u.namespace)
                   IS DISTINCT FROM (o.ordinal, o.depth, o.position, o.kind, o.label,
                                     o.namespace) AS new_place,
               o.*
          FROM unnest(v_ops) o JOIN @schema@.information_unit u ON u.code = o.code
         WHERE o.op = 'update'
    ), upd AS (
        UPDATE @schema@.information_unit u
           SET current_version = c.old_version + (CASE WHEN c.new_content THEN 1 ELSE 0 END),
               content_hash = c.content_hash, parent_code = c.parent_code, kind = c.kind,
               label = c.label, ordinal = c.ordinal, depth = c.depth, position = c.position,
               namespace = c.namespace, state = 'active',
               updated_run = CASE WHEN c.new_content OR c.new_parent OR c.comes_back
                                  THEN p_run ELSE u.updated_run END,
               updated_at = CASE WHEN c.new_content OR c.new_parent OR c.comes_back
                                 THEN now() ELSE u.updated_at END
          FROM cur c
         WHERE u.unit_id = c.unit_id
           AND (c.new_content OR c.new_parent OR c.comes_back OR c.new_place)
        RETURNING u.unit_id
    ), ver AS (
        INSERT INTO @schema@.unit_version
            (unit_id, version, title, body, raw_heading, content_hash, doc_path,
             line_start, line_end, byte_start, byte_end, run_id)
        SELECT c.unit_id, c.old_version + 1, c.title, c.body, c.raw_heading, c.content_hash,
               v_doc_path, c.line_start, c.line_end, c.byte_start, c.byte_end, p_run
          FROM cur c WHERE c.new_content
    ), l AS (
        INSERT INTO @schema@.iu_lifecycle_log
            (unit_id, code, event, from_version, to_version, detail, run_id)
        SELECT c.unit_id, c.code, e.event, c.old_version,
               c.old_version + (CASE WHEN c.new_content THEN 1 ELSE 0 END), e.detail, p_run
          FROM cur c
          CROSS JOIN LATERAL (VALUES
              (CASE WHEN c.comes_back THEN 'restored'
                    WHEN c.new_content THEN 'revised' END, NULL::jsonb),
              (CASE WHEN c.new_parent THEN 'moved' END,
               jsonb_build_object('from_parent', c.old_parent, 'to_parent', c.parent_code))
          ) AS e(event, detail)
         WHERE e.event IS NOT NULL
    )
    SELECT count(*) FILTER (WHERE c.new_content AND NOT c.comes_back),
           count(*) FILTER (WHERE c.new_parent),
           count(*) FILTER (WHERE c.comes_back),
           count(*) FILTER (WHERE c.new_place AND NOT (c.new_content OR c.new_parent
                                                       OR c.comes_back))
      INTO v_revised, v_moved, v_restored, v_placed
      FROM cur c;

    -- The document row: its hash lets the next plan skip it unread.
    INSERT INTO @schema@.iu_document AS d
        (doc_path, namespace, doc_hash, state, unit_count, size_bytes, first_run, last_run)
    VALUES (v_doc_path, p_document ->> 'namespace', p_document ->> 'doc_hash',
            coalesce(p_document ->> 'state', 'active'),
            coalesce((p_document ->> 'unit_count')::integer, 0),
            coalesce((p_document ->> 'size_bytes')::bigint, 0), p_run, p_run)
    ON CONFLICT (doc_path) DO UPDATE
       SET namespace = EXCLUDED.namespace, doc_hash = EXCLUDED.doc_hash,
           state = EXCLUDED.state, unit_count = EXCLUDED.unit_count,
           size_bytes = EXCLUDED.size_bytes, last_run = p_run, updated_at = now();

    RETURN jsonb_build_object('created', v_created, 'revised', v_revised, 'moved', v_moved,
                              'retired', v_retired, 'restored', v_restored,
                              'placed', v_placed);
END
$$;

------------------------------------------------------------------------------------------
-- Operator functions. -- owner-only: never granted to the execution role.
------------------------------------------------------------------------------------------

-- owner-only
CREATE FUNCTION @schema@.fn_iu_freeze(p_reason text DEFAULT NULL) RETURNS boolean
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    UPDATE @schema@.iu_control
       SET frozen = true, reason = p_reason, changed_by = session_user, changed_at = now()
     RETURNING frozen;
$$;

-- owner-only
CREATE FUNCTION @schema@.fn_iu_unfreeze() RETURNS boolean
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    UPDATE @schema@.iu_control
       SET frozen = false, reason = NULL, changed_by = session_user, changed_at = now()
     RETURNING frozen;
$$;

-- Functions are executable by PUBLIC when created: revoke on ours (and only ours: the
-- schema may be shared, e.g. public under a Directus admin).
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
         WHERE p.pronamespace = '@schema@'::regnamespace
           AND (p.proname LIKE 'fn\_iu\_%' OR p.proname LIKE 'fn\_run\_%')
    LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
    END LOOP;
END
$$;
