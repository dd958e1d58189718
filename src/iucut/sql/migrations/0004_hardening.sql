-- iucut schema version 4: a freeze that holds, and the locks a reviewed plan takes.
--
-- 1. The freeze holds. Every live write takes a share lock on the control row before it
--    writes (fn_iu_hold_unfrozen, from fn_iu_check_run and fn_run_begin) and keeps it to
--    the end of its transaction; fn_iu_freeze takes the control table in EXCLUSIVE mode
--    first, so it waits for every write in flight to commit or roll back (and new writers
--    queue behind it), within lock_timeout, naming the writers when it gives up. A writer
--    whose REPEATABLE READ snapshot predates a freeze cannot lock the row (the database
--    refuses a lock on a row changed after the snapshot) and is refused too. A deferred
--    constraint trigger on iu_document checks the freeze once more at COMMIT.
-- 2. fn_iu_lock_documents takes, in the order every writer takes them, the control row
--    and then the advisory locks of several documents in code-point order of their paths;
--    fn_iu_hold_documents / fn_iu_release_documents take and drop the same document locks
--    at session level, so that `apply --plan` verifies every precondition of the plan
--    under its locks before its first write and keeps them to its last.
--
-- 3. The database checks what it is told (see the section below).
--
-- Functions redefined here keep their signatures and the plan_cache_mode 0003 gave them
-- (CREATE OR REPLACE resets a function's SET clauses): fn_iu_check_run, fn_run_begin,
-- fn_iu_freeze, fn_iu_create, fn_iu_revise, fn_iu_retire, fn_iu_move, fn_iu_restore and
-- fn_iu_apply_document (0003's body plus one check).
--
-- New SQLSTATEs: IUF02 the freeze gave up waiting for writes in flight (nothing changed);
-- IUC02..IUC07, below.

-- The share lock on the control row that every live write holds to its end, and the
-- freeze check under it.
-- internal
CREATE FUNCTION @schema@.fn_iu_hold_unfrozen() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_frozen boolean;
BEGIN
    IF pg_catalog.current_setting('transaction_isolation') = 'read committed' THEN
        -- a row lock reads the newest committed row, whatever the statement's snapshot
        SELECT c.frozen INTO v_frozen FROM @schema@.iu_control c FOR SHARE;
    ELSIF EXISTS (SELECT 1 FROM pg_catalog.pg_locks l
                   WHERE l.pid = pg_catalog.pg_backend_pid() AND l.locktype = 'relation'
                     AND l.relation = '@schema@.iu_control'::regclass
                     AND l.mode = 'RowShareLock' AND l.granted) THEN
        -- held since earlier in this transaction: the row cannot have changed since
        SELECT c.frozen INTO v_frozen FROM @schema@.iu_control c;
    ELSE
        -- a snapshot older than the transaction's first write: the lock is refused when a
        -- freeze (or unfreeze) committed after the snapshot was taken
        BEGIN
            SELECT c.frozen INTO v_frozen FROM @schema@.iu_control c FOR SHARE;
        EXCEPTION WHEN serialization_failure THEN
            RAISE EXCEPTION 'iucut: live writes are refused: the freeze state changed after this transaction began'
                USING ERRCODE = 'IUF01',
                      HINT = 'iucut freeze or unfreeze ran meanwhile; nothing was written: '
                             'begin a new transaction';
        END;
    END IF;
    IF v_frozen IS NULL OR v_frozen THEN
        RAISE EXCEPTION 'iucut: live writes are frozen at the database'
            USING ERRCODE = 'IUF01',
                  HINT = 'an operator froze writes (iucut freeze); proofs still run';
    END IF;
END
$$;

-- The run must exist and be running; an apply run holds the control row (above).
-- internal
CREATE OR REPLACE FUNCTION @schema@.fn_iu_check_run(p_run uuid) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan AS $$
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
    IF v_mode = 'apply' THEN
        PERFORM @schema@.fn_iu_hold_unfrozen();
    END IF;
    RETURN v_mode;
END
$$;

CREATE OR REPLACE FUNCTION @schema@.fn_run_begin(
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
    IF p_mode = 'apply' THEN
        PERFORM @schema@.fn_iu_hold_unfrozen();
    END IF;
    INSERT INTO @schema@.iu_run (mode, tool_version, plan_hash, meta)
    VALUES (p_mode, p_tool_version, p_plan_hash, coalesce(p_meta, '{}'::jsonb))
    RETURNING run_id INTO v_run;
    RETURN v_run;
END
$$;

-- The last word at COMMIT: a document an apply run wrote may not commit while frozen.
-- Under the share lock the writer holds this cannot happen through the functions; it
-- holds even if a future function forgets to take the lock. Every write function writes
-- the row of the document it changes (the per-unit ones refresh it, below), so one check
-- per document covers every unit.
CREATE FUNCTION @schema@.fn_iu_refuse_frozen_commit() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_run uuid;
BEGIN
    IF NOT coalesce((SELECT c.frozen FROM @schema@.iu_control c), true) THEN
        RETURN NULL;
    END IF;
    v_run := NEW.last_run;
    IF EXISTS (SELECT 1 FROM @schema@.iu_run r WHERE r.run_id = v_run AND r.mode = 'apply') THEN
        RAISE EXCEPTION 'iucut: live writes are frozen at the database: run % cannot commit', v_run
            USING ERRCODE = 'IUF01',
                  HINT = 'an operator froze writes (iucut freeze) before this transaction '
                         'committed; nothing of it was written';
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER iu_document_not_frozen_at_commit
    AFTER INSERT OR UPDATE ON @schema@.iu_document
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION @schema@.fn_iu_refuse_frozen_commit();

-- Freeze: wait for the writes in flight (they hold the control row), then set the flag.
-- The caller bounds the wait with lock_timeout; when it runs out, the error names the
-- sessions still writing and nothing is changed. A deadlock with a writer that waits for
-- a document lock held by another is broken by the server; the freeze then tries again.
-- owner-only
CREATE OR REPLACE FUNCTION @schema@.fn_iu_freeze(p_reason text DEFAULT NULL) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_writers text;
    v_frozen boolean;
BEGIN
    FOR attempt IN 1 .. 20 LOOP
        BEGIN
            LOCK TABLE @schema@.iu_control IN EXCLUSIVE MODE;
            EXIT;
        EXCEPTION
            WHEN deadlock_detected THEN
                IF attempt = 20 THEN
                    RAISE;
                END IF;
            WHEN lock_not_available THEN
                SELECT string_agg(pg_catalog.format('pid %s (role %s%s%s)', l.pid,
                           coalesce(a.usename::text, '?'),
                           ', application ' || nullif(a.application_name, ''),
                           ', transaction since ' || pg_catalog.to_char(a.xact_start,
                                                       'YYYY-MM-DD HH24:MI:SS')),
                           '; ' ORDER BY l.pid)
                  INTO v_writers
                  FROM pg_catalog.pg_locks l
                  LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
                 WHERE l.locktype = 'relation' AND l.granted
                   AND l.relation = '@schema@.iu_control'::regclass
                   AND l.mode = 'RowShareLock' AND l.pid <> pg_catalog.pg_backend_pid();
                RAISE EXCEPTION 'iucut: freeze gave up after % waiting for writes in flight: %',
                    pg_catalog.current_setting('lock_timeout'),
                    coalesce(v_writers, 'they finished meanwhile')
                    USING ERRCODE = 'IUF02',
                          HINT = 'nothing was changed: writes are not frozen. Let them finish '
                                 'and freeze again (a longer --wait), or end them with '
                                 'pg_terminate_backend(pid)';
        END;
    END LOOP;
    UPDATE @schema@.iu_control
       SET frozen = true, reason = p_reason, changed_by = session_user, changed_at = now()
     RETURNING frozen INTO v_frozen;
    RETURN v_frozen;
END
$$;

-- Lock documents for a write of the run, in the order every writer takes its locks: the
-- control row first (through the run check), then each document, in code-point order of
-- the paths (so two writers of overlapping sets cannot deadlock). Transaction-level.
CREATE FUNCTION @schema@.fn_iu_lock_documents(p_run uuid, p_doc_paths text[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_path text;
BEGIN
    PERFORM @schema@.fn_iu_check_run(p_run);
    FOR v_path IN SELECT DISTINCT p COLLATE "C" FROM unnest(p_doc_paths) AS p
                   WHERE p IS NOT NULL ORDER BY 1
    LOOP
        PERFORM pg_catalog.pg_advisory_xact_lock(
            pg_catalog.hashtextextended('iucut:@schema@:' || v_path, 0));
    END LOOP;
END
$$;

-- The same document locks at session level: held across the transactions of a reviewed
-- plan, from the check of its preconditions to its last document, and dropped by
-- fn_iu_release_documents (or when the session ends).
CREATE FUNCTION @schema@.fn_iu_hold_documents(p_doc_paths text[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_path text;
BEGIN
    FOR v_path IN SELECT DISTINCT p COLLATE "C" FROM unnest(p_doc_paths) AS p
                   WHERE p IS NOT NULL ORDER BY 1
    LOOP
        PERFORM pg_catalog.pg_advisory_lock(
            pg_catalog.hashtextextended('iucut:@schema@:' || v_path, 0));
    END LOOP;
END
$$;

CREATE FUNCTION @schema@.fn_iu_release_documents(p_doc_paths text[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_path text;
BEGIN
    FOR v_path IN SELECT DISTINCT p FROM unnest(p_doc_paths) AS p WHERE p IS NOT NULL
    LOOP
        PERFORM pg_catalog.pg_advisory_unlock(
            pg_catalog.hashtextextended('iucut:@schema@:' || v_path, 0));
    END LOOP;
END
$$;

------------------------------------------------------------------------------------------
-- 3. The database checks what it is told. Whoever calls the write functions, with whatever
--    arguments:
--      * every content hash a function is sent is the iu1 hash of the text it is sent
--        with (sha256 over 'iu1', NUL, raw heading, NUL, body, in UTF-8, exactly
--        iucut.units.content_hash), before any write;
--      * every write of a document row checks the whole document as it now stands
--        (trigger on iu_document, at the end of the statement that writes it: the last
--        statement of fn_iu_apply_document, after its unit writes): its stored hash, size
--        and unit count are those of its active units in order (what export gives back),
--        each unit's hash is its current version's (whose hash was checked against its
--        text when it was written), its namespace is its own, every code is inside it, the units form one tree under the document unit
--        with each parent before its children, and positions are non-negative and
--        distinct;
--      * the per-unit functions refresh the row of the document they change (its hash
--        becomes that of its units), so that check runs for them too.
--    SQLSTATEs: IUC02 content hash   IUC03 namespace   IUC04 tree (parent, cycle)
--               IUC05 negative position   IUC06 duplicate position   IUC07 document digest
------------------------------------------------------------------------------------------

-- The namespace of a document is looked up by every document write.
CREATE INDEX iu_document_namespace_idx ON @schema@.iu_document (namespace);

-- The whole document as it now stands, after a write of its row.
CREATE FUNCTION @schema@.fn_iu_check_document() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan  -- the document's rows, through its index (0003)
AS $$
DECLARE
    v_doc text := NEW.doc_path;
    v_ns text := NEW.namespace;
    v_code text;
    v_detail text;
    v_hash text;
    v_size bigint;
    v_units integer;
    v_positions integer;
    v_min integer;
    v_roots integer;
    v_outside text;
    v_orphan text;
BEGIN
    -- The namespace is this document's alone.
    IF NEW.state = 'active' THEN
        SELECT d.doc_path INTO v_detail FROM @schema@.iu_document d
         WHERE d.namespace = v_ns AND d.doc_path <> v_doc AND d.state = 'active' LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'iucut: document % claims namespace %, which is document %''s',
                v_doc, v_ns, v_detail
                USING ERRCODE = 'IUC03',
                      HINT = pg_catalog.format('code %s: give the document its own namespace',
                                               v_ns);
        END IF;
    END IF;

    -- One statement over the document's active units, read once, each with one probe of
    -- the version key (its current version) and one of the code index (its parent): the
    -- digest (hash, size and count of their text in position order), codes outside the
    -- namespace, unit hashes that are not their version's, the positions, the document
    -- unit, and the first unit whose parent is not an earlier active unit of the document.
    -- (Probes, never joins: statistics taken while the tables were filling must not turn
    -- this into a scan or a quadratic loop.)
    WITH d AS MATERIALIZED (
        SELECT u.code, u.namespace, u.position, u.content_hash,
               v.content_hash AS version_hash, v.raw_heading, v.body,
               CASE WHEN u.parent_code IS NULL THEN u.code = v_ns
                    WHEN u.code = v_ns THEN false
                    ELSE coalesce(p.doc_path = v_doc AND p.state = 'active'
                                  AND p.position < u.position, false) END AS placed
          FROM @schema@.information_unit u
          LEFT JOIN LATERAL (
                SELECT v.content_hash, v.raw_heading, v.body FROM @schema@.unit_version v
                 WHERE v.unit_id = u.unit_id AND v.version = u.current_version LIMIT 1) v
            ON true
          LEFT JOIN LATERAL (
                SELECT p.doc_path, p.state, p.position FROM @schema@.information_unit p
                 WHERE p.code = u.parent_code LIMIT 1) p
            ON true
         WHERE u.doc_path = v_doc AND u.state = 'active'
    ), t AS (
        SELECT pg_catalog.convert_to(coalesce(string_agg(d.raw_heading || d.body, ''
                                              ORDER BY d.position), ''), 'UTF8') AS bytes,
               count(*)::integer AS units,
               count(DISTINCT d.position)::integer AS positions,
               min(d.position) AS min_position,
               min(d.code) FILTER (WHERE d.version_hash IS DISTINCT FROM d.content_hash)
                   AS bad_hash,
               min(d.code) FILTER (WHERE d.namespace IS DISTINCT FROM v_ns
                   OR (d.code <> v_ns AND NOT pg_catalog.starts_with(d.code, v_ns || '/')))
                   AS outside,
               count(*) FILTER (WHERE d.code = v_ns)::integer AS roots,
               (array_agg(d.code ORDER BY d.position) FILTER (WHERE NOT d.placed))[1]
                   AS orphan
          FROM d
    )
    SELECT pg_catalog.encode(pg_catalog.sha256(t.bytes), 'hex'),
           pg_catalog.octet_length(t.bytes), t.units, t.positions, t.min_position, t.bad_hash,
           t.outside, t.roots, t.orphan
      INTO v_hash, v_size, v_units, v_positions, v_min, v_code, v_outside, v_roots, v_orphan
      FROM t;
    IF v_outside IS NOT NULL THEN
        RAISE EXCEPTION 'iucut: code % of document % is outside its namespace %',
            v_outside, v_doc, v_ns
            USING ERRCODE = 'IUC03',
                  HINT = pg_catalog.format('code %s: codes of document %s are %s or start '
                                           'with %s/', v_outside, v_doc, v_ns, v_ns);
    END IF;
    IF v_code IS NOT NULL THEN
        RAISE EXCEPTION 'iucut: unit % has a hash that is not its current version''s', v_code
            USING ERRCODE = 'IUC02',
                  HINT = pg_catalog.format('code %s: a unit''s hash is the hash of its text',
                                           v_code);
    END IF;
    IF v_min < 0 THEN
        SELECT u.code INTO v_code FROM @schema@.information_unit u
         WHERE u.doc_path = v_doc AND u.state = 'active' AND u.position < 0
         ORDER BY u.position LIMIT 1;
        RAISE EXCEPTION 'iucut: unit % of document % has the negative position %',
            v_code, v_doc, v_min
            USING ERRCODE = 'IUC05',
                  HINT = pg_catalog.format('code %s: positions count from 0 in document order',
                                           v_code);
    END IF;
    IF v_positions <> v_units THEN
        SELECT string_agg(u.code, ', ' ORDER BY u.code), min(u.position)
          INTO v_code, v_min
          FROM @schema@.information_unit u
         WHERE u.doc_path = v_doc AND u.state = 'active'
           AND u.position = (SELECT u2.position FROM @schema@.information_unit u2
                              WHERE u2.doc_path = v_doc AND u2.state = 'active'
                              GROUP BY u2.position HAVING count(*) > 1
                              ORDER BY u2.position LIMIT 1);
        RAISE EXCEPTION 'iucut: units % of document % share position %', v_code, v_doc, v_min
            USING ERRCODE = 'IUC06',
                  HINT = pg_catalog.format('codes %s: each unit has a position of its own',
                                           v_code);
    END IF;

    -- One tree: the document unit is the only root; every other unit's parent is an
    -- active unit of the document that comes before it (so there is no cycle). What is
    -- wrong is looked up only when something is.
    IF v_units > 0 AND v_roots = 0 THEN
        RAISE EXCEPTION 'iucut: document % has no active document unit %', v_doc, v_ns
            USING ERRCODE = 'IUC04',
                  HINT = pg_catalog.format('code %s: the document unit is the root', v_ns);
    END IF;
    IF v_orphan IS NOT NULL THEN
        SELECT CASE WHEN u.parent_code IS NULL THEN 'has no parent but is not the document unit'
                    WHEN u.code = v_ns THEN 'is the document unit but has the parent '
                                            || u.parent_code
                    WHEN p.unit_id IS NULL THEN 'has the parent ' || u.parent_code
                                                || ', which is no unit'
                    WHEN p.doc_path <> v_doc THEN 'has the parent ' || p.code
                                                  || ' of another document'
                    WHEN p.state <> 'active' THEN 'has the retired parent ' || p.code
                    ELSE 'has the parent ' || p.code || ', which does not come before it' END
          INTO v_detail
          FROM @schema@.information_unit u
          LEFT JOIN @schema@.information_unit p ON p.code = u.parent_code
         WHERE u.code = v_orphan;
        -- name a cycle as a cycle
        IF v_detail LIKE '%does not come before it' AND EXISTS (
            WITH RECURSIVE up(code, steps) AS (
                SELECT u.parent_code, 1 FROM @schema@.information_unit u
                 WHERE u.code = v_orphan
                UNION ALL
                SELECT u.parent_code, up.steps + 1 FROM up
                  JOIN @schema@.information_unit u ON u.code = up.code
                 WHERE up.code <> v_orphan AND up.steps < 10000
            )
            SELECT 1 FROM up WHERE up.code = v_orphan)
        THEN
            v_detail := 'is its own ancestor (a parent cycle)';
        END IF;
        RAISE EXCEPTION 'iucut: unit % of document % %', v_orphan, v_doc, v_detail
            USING ERRCODE = 'IUC04',
                  HINT = pg_catalog.format('code %s: the units of a document form one tree '
                                           'under the document unit %s', v_orphan, v_ns);
    END IF;

    -- The stored digest is that of the units.
    IF NEW.state = 'retired' THEN
        IF v_units > 0 THEN
            RAISE EXCEPTION 'iucut: document % is retired but % of its units are active',
                v_doc, v_units
                USING ERRCODE = 'IUC07',
                      HINT = pg_catalog.format('code %s: retire every unit of a retired '
                                               'document', v_ns);
        END IF;
    ELSIF NEW.doc_hash IS DISTINCT FROM v_hash OR NEW.size_bytes IS DISTINCT FROM v_size
          OR NEW.unit_count IS DISTINCT FROM v_units THEN
        RAISE EXCEPTION 'iucut: document % claims hash %, % bytes, % units; its units give %, % bytes, % units',
            v_doc, NEW.doc_hash, NEW.size_bytes, NEW.unit_count, v_hash, v_size, v_units
            USING ERRCODE = 'IUC07',
                  HINT = pg_catalog.format('code %s: the document hash is the sha256 of its '
                                           'units'' text in order (its source bytes)', v_ns);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER iu_document_matches_its_units
    AFTER INSERT OR UPDATE OF namespace, doc_hash, state, unit_count, size_bytes, last_run
    ON @schema@.iu_document
    FOR EACH ROW EXECUTE FUNCTION @schema@.fn_iu_check_document();

-- Refresh the row of a document a per-unit function changed: its hash, size and unit
-- count become those of its active units (created when missing), and the document check
-- above runs on it.
-- internal
CREATE FUNCTION @schema@.fn_iu_refresh_document(p_run uuid, p_doc_path text, p_namespace text)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan AS $$
    WITH t AS (
        SELECT pg_catalog.convert_to(coalesce(string_agg(v.raw_heading || v.body, ''
                                               ORDER BY u.position), ''), 'UTF8') AS bytes,
               count(*)::integer AS units
          FROM @schema@.information_unit u
          JOIN @schema@.unit_version v ON v.unit_id = u.unit_id AND v.version = u.current_version
         WHERE u.doc_path = p_doc_path AND u.state = 'active'
    )
    INSERT INTO @schema@.iu_document AS d
        (doc_path, namespace, doc_hash, state, unit_count, size_bytes, first_run, last_run)
    SELECT p_doc_path, p_namespace, pg_catalog.encode(pg_catalog.sha256(t.bytes), 'hex'),
           'active', t.units, pg_catalog.octet_length(t.bytes), p_run, p_run
      FROM t
    ON CONFLICT (doc_path) DO UPDATE
       SET doc_hash = EXCLUDED.doc_hash, unit_count = EXCLUDED.unit_count,
           size_bytes = EXCLUDED.size_bytes,
           state = CASE WHEN EXCLUDED.unit_count > 0 THEN 'active' ELSE d.state END,
           last_run = p_run, updated_at = pg_catalog.now();
$$;

-- The hash a per-unit call sends must be that of the text it sends (IUC02), even when
-- it would write no version (an unchanged hash with another text is not "unchanged").
-- internal
CREATE FUNCTION @schema@.fn_iu_require_hash(p_unit jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actual text := pg_catalog.encode(pg_catalog.sha256('iu1'::bytea || '\x00'::bytea
        || pg_catalog.convert_to(p_unit ->> 'raw_heading', 'UTF8') || '\x00'::bytea
        || pg_catalog.convert_to(p_unit ->> 'body', 'UTF8')), 'hex');
BEGIN
    IF (p_unit ->> 'content_hash') IS DISTINCT FROM v_actual THEN
        RAISE EXCEPTION 'iucut: unit %: content_hash % is not the hash of its text',
            coalesce(p_unit ->> 'code', '?'), p_unit ->> 'content_hash'
            USING ERRCODE = 'IUC02',
                  HINT = pg_catalog.format('code %s: send the iu1 hash of raw_heading and body '
                                           '(its text hashes to %s)', p_unit ->> 'code', v_actual);
    END IF;
END
$$;

-- The per-unit functions of version 1, each now checking the hash it is sent and
-- refreshing its document's row.
CREATE OR REPLACE FUNCTION @schema@.fn_iu_create(p_run uuid, p_unit jsonb)
RETURNS TABLE (status text, unit_id bigint, version integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    v_id bigint;
    v_version integer;
BEGIN
    PERFORM @schema@.fn_iu_check_run(p_run);
    PERFORM @schema@.fn_iu_require(p_unit, ARRAY['namespace', 'code', 'kind', 'ordinal',
        'depth', 'title', 'raw_heading', 'body', 'content_hash', 'doc_path']);
    PERFORM @schema@.fn_iu_require_hash(p_unit);
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
    PERFORM @schema@.fn_iu_refresh_document(p_run, p_unit ->> 'doc_path', p_unit ->> 'namespace');
    RETURN QUERY SELECT 'created'::text, v_id, 1;
END
$$;

CREATE OR REPLACE FUNCTION @schema@.fn_iu_revise(p_run uuid, p_unit jsonb, p_expected_version integer DEFAULT NULL)
RETURNS TABLE (status text, unit_id bigint, version integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    v_cur @schema@.information_unit%ROWTYPE;
    v_new integer;
BEGIN
    PERFORM @schema@.fn_iu_check_run(p_run);
    PERFORM @schema@.fn_iu_require(p_unit, ARRAY['code', 'title', 'raw_heading', 'body',
        'content_hash']);
    PERFORM @schema@.fn_iu_require_hash(p_unit);
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
    PERFORM @schema@.fn_iu_refresh_document(p_run, v_cur.doc_path, v_cur.namespace);
    RETURN QUERY SELECT 'revised'::text, v_cur.unit_id, v_new;
END
$$;

CREATE OR REPLACE FUNCTION @schema@.fn_iu_retire(p_run uuid, p_code text, p_expected_version integer DEFAULT NULL)
RETURNS TABLE (status text, unit_id bigint, version integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan AS $$
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
    PERFORM @schema@.fn_iu_refresh_document(p_run, v_cur.doc_path, v_cur.namespace);
    RETURN QUERY SELECT 'retired'::text, v_cur.unit_id, v_cur.current_version;
END
$$;

CREATE OR REPLACE FUNCTION @schema@.fn_iu_move(
    p_run uuid, p_code text, p_parent_code text, p_ordinal integer, p_position integer,
    p_depth integer DEFAULT NULL, p_expected_version integer DEFAULT NULL
) RETURNS TABLE (status text, unit_id bigint, version integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan AS $$
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
    PERFORM @schema@.fn_iu_refresh_document(p_run, v_cur.doc_path, v_cur.namespace);
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

CREATE OR REPLACE FUNCTION @schema@.fn_iu_restore(p_run uuid, p_unit jsonb, p_expected_version integer DEFAULT NULL)
RETURNS TABLE (status text, unit_id bigint, version integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    v_cur @schema@.information_unit%ROWTYPE;
    v_new integer;
BEGIN
    PERFORM @schema@.fn_iu_check_run(p_run);
    PERFORM @schema@.fn_iu_require(p_unit, ARRAY['code', 'title', 'raw_heading', 'body',
        'content_hash']);
    PERFORM @schema@.fn_iu_require_hash(p_unit);
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
    PERFORM @schema@.fn_iu_refresh_document(p_run, v_cur.doc_path, v_cur.namespace);
    RETURN QUERY SELECT 'restored'::text, v_cur.unit_id, v_new;
END
$$;

-- fn_iu_apply_document of version 3 (0003, unchanged but for the check of every content
-- hash it is sent, before any write); what it writes is then checked whole by the trigger
-- on iu_document above.
CREATE OR REPLACE FUNCTION @schema@.fn_iu_apply_document(p_run uuid, p_document jsonb, p_ops jsonb)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = auto
SET default_statistics_target = 10
AS $$
DECLARE
    v_doc_path text := p_document ->> 'doc_path';
    v_ops @schema@.iu_op[];
    v_retire text[];
    v_n_create integer;
    v_n_update integer;
    v_bad text;
    v_detail text;
    v_doc_hash text;
    v_pages bigint;
    v_relpages bigint;
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

    -- Document precondition: the document is as the plan saw it (primary key).
    EXECUTE $q$SELECT d.doc_hash FROM @schema@.iu_document d WHERE d.doc_path = $1$q$
       INTO v_doc_hash USING v_doc_path;
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

    -- Row contract, for every row before any write (the op array only: no table).
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
    -- Every text comes with its own hash (0004): sha256 over 'iu1', NUL, the raw heading,
    -- NUL, the body, in UTF-8 (iucut.units.content_hash), before any write.
    SELECT o.code, o.content_hash INTO v_bad, v_detail
      FROM unnest(v_ops) o
     WHERE o.op <> 'retire'
       AND o.content_hash IS DISTINCT FROM pg_catalog.encode(pg_catalog.sha256(
               'iu1'::bytea || '\x00'::bytea || pg_catalog.convert_to(o.raw_heading, 'UTF8')
               || '\x00'::bytea || pg_catalog.convert_to(o.body, 'UTF8')), 'hex')
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'iucut: unit %: content_hash % is not the hash of its text', v_bad, v_detail
            USING ERRCODE = 'IUC02',
                  HINT = pg_catalog.format('code %s: send the iu1 hash of raw_heading and body',
                                           v_bad);
    END IF;
    SELECT array_agg(o.code) FILTER (WHERE o.op = 'retire'),
           count(*) FILTER (WHERE o.op = 'create'),
           count(*) FILTER (WHERE o.op = 'update')
      INTO v_retire, v_n_create, v_n_update
      FROM unnest(v_ops) o;

    -- A code belongs to one document; then the unit preconditions (compare-and-swap on
    -- the expected version). One probe of the code index per op. v_bad is set only by a
    -- row found (codes are never NULL past the row contract).
    v_bad := NULL;
    EXECUTE $q$
        SELECT o.code, u.doc_path
          FROM unnest($1) o
          CROSS JOIN LATERAL (SELECT u.doc_path FROM @schema@.information_unit u
                               WHERE u.code = o.code LIMIT 1) u
         WHERE u.doc_path <> $2
         LIMIT 1$q$
       INTO v_bad, v_detail USING v_ops, v_doc_path;
    IF v_bad IS NOT NULL THEN
        RAISE EXCEPTION 'iucut: code % already belongs to document %', v_bad, v_detail
            USING ERRCODE = 'IUC01', HINT = 'give the document its own namespace';
    END IF;
    EXECUTE $q$
        SELECT o.code
          FROM unnest($1) o
          LEFT JOIN LATERAL (SELECT u.unit_id, u.current_version
                               FROM @schema@.information_unit u
                              WHERE u.code = o.code LIMIT 1) u ON true
         WHERE (o.op = 'create' AND u.unit_id IS NOT NULL)
            OR (o.op <> 'create' AND (u.unit_id IS NULL
                OR u.current_version IS DISTINCT FROM o.expect_version))
         LIMIT 1$q$
       INTO v_bad USING v_ops;
    IF v_bad IS NOT NULL THEN
        RAISE EXCEPTION 'iucut: unit % changed since the plan', v_bad
            USING ERRCODE = 'IUS01', HINT = 'the plan is stale: plan again';
    END IF;

    -- Retire: the document's units with these codes (code index, or the document's).
    IF v_retire IS NOT NULL THEN
        EXECUTE $q$
            WITH r AS (
                UPDATE @schema@.information_unit u
                   SET state = 'retired', updated_run = $1, updated_at = now()
                 WHERE u.doc_path = $2 AND u.code = ANY ($3) AND u.state = 'active'
                RETURNING u.unit_id, u.code, u.current_version
            ), l AS (
                INSERT INTO @schema@.iu_lifecycle_log
                    (unit_id, code, event, from_version, to_version, run_id)
                SELECT r.unit_id, r.code, 'retired', r.current_version, r.current_version, $1
                  FROM r
            )
            SELECT count(*) FROM r$q$
           INTO v_retired USING p_run, v_doc_path, v_retire;
    END IF;

    -- Create: rows from the op array only (the join is between the op array and the rows
    -- just inserted, never the table).
    IF v_n_create > 0 THEN
        EXECUTE $q$
            WITH ins AS (
                INSERT INTO @schema@.information_unit
                    (code, namespace, doc_path, parent_code, kind, label, ordinal, depth,
                     position, current_version, content_hash, created_run, updated_run)
                SELECT o.code, o.namespace, $2, o.parent_code, o.kind, o.label, o.ordinal,
                       o.depth, o.position, 1, o.content_hash, $1, $1
                  FROM unnest($3) o WHERE o.op = 'create'
                RETURNING unit_id, code
            ), ver AS (
                INSERT INTO @schema@.unit_version
                    (unit_id, version, title, body, raw_heading, content_hash, doc_path,
                     line_start, line_end, byte_start, byte_end, run_id)
                SELECT ins.unit_id, 1, o.title, o.body, o.raw_heading, o.content_hash, $2,
                       o.line_start, o.line_end, o.byte_start, o.byte_end, $1
                  FROM ins JOIN unnest($3) o ON o.code = ins.code
            ), l AS (
                INSERT INTO @schema@.iu_lifecycle_log
                    (unit_id, code, event, from_version, to_version, run_id)
                SELECT ins.unit_id, ins.code, 'created', NULL, 1, $1 FROM ins
            )
            SELECT count(*) FROM ins$q$
           INTO v_created USING p_run, v_doc_path, v_ops;
    END IF;

    -- Update: content → version (revised, or restored when it was retired);
    -- parent → moved; placement → silent. One probe of the code index per op; the
    -- UPDATE is restricted to the document's rows.
    IF v_n_update > 0 THEN
        EXECUTE $q$
            WITH cur AS MATERIALIZED (
                SELECT u.unit_id, u.current_version AS old_version,
                       u.content_hash AS old_hash, u.parent_code AS old_parent,
                       u.state AS old_state,
                       (u.content_hash <> o.content_hash) AS new_content,
                       (u.parent_code IS DISTINCT FROM o.parent_code) AS new_parent,
                       (u.state = 'retired') AS comes_back,
                       (u.ordinal, u.depth, u.position, u.kind, u.label, u.namespace)
                           IS DISTINCT FROM (o.ordinal, o.depth, o.position, o.kind, o.label,
                                             o.namespace) AS new_place,
                       o.*
                  FROM unnest($3) o
                  CROSS JOIN LATERAL (
                      SELECT u.* FROM @schema@.information_unit u
                       WHERE u.code = o.code AND u.doc_path = $2 LIMIT 1) u
                 WHERE o.op = 'update'
            ), upd AS (
                UPDATE @schema@.information_unit u
                   SET current_version = c.old_version
                                         + (CASE WHEN c.new_content THEN 1 ELSE 0 END),
                       content_hash = c.content_hash, parent_code = c.parent_code,
                       kind = c.kind, label = c.label, ordinal = c.ordinal, depth = c.depth,
                       position = c.position, namespace = c.namespace, state = 'active',
                       updated_run = CASE WHEN c.new_content OR c.new_parent OR c.comes_back
                                          THEN $1 ELSE u.updated_run END,
                       updated_at = CASE WHEN c.new_content OR c.new_parent OR c.comes_back
                                         THEN now() ELSE u.updated_at END
                  FROM cur c
                 WHERE u.doc_path = $2 AND u.unit_id = c.unit_id
                   AND (c.new_content OR c.new_parent OR c.comes_back OR c.new_place)
                RETURNING u.unit_id
            ), ver AS (
                INSERT INTO @schema@.unit_version
                    (unit_id, version, title, body, raw_heading, content_hash, doc_path,
                     line_start, line_end, byte_start, byte_end, run_id)
                SELECT c.unit_id, c.old_version + 1, c.title, c.body, c.raw_heading,
                       c.content_hash, $2, c.line_start, c.line_end, c.byte_start, c.byte_end,
                       $1
                  FROM cur c WHERE c.new_content
            ), l AS (
                INSERT INTO @schema@.iu_lifecycle_log
                    (unit_id, code, event, from_version, to_version, detail, run_id)
                SELECT c.unit_id, c.code, e.event, c.old_version,
                       c.old_version + (CASE WHEN c.new_content THEN 1 ELSE 0 END), e.detail,
                       $1
                  FROM cur c
                  CROSS JOIN LATERAL (VALUES
                      (CASE WHEN c.comes_back THEN 'restored'
                            WHEN c.new_content THEN 'revised' END, NULL::jsonb),
                      (CASE WHEN c.new_parent THEN 'moved' END,
                       jsonb_build_object('from_parent', c.old_parent, 'to_parent',
                                          c.parent_code))
                  ) AS e(event, detail)
                 WHERE e.event IS NOT NULL
            )
            SELECT count(*) FILTER (WHERE c.new_content AND NOT c.comes_back),
                   count(*) FILTER (WHERE c.new_parent),
                   count(*) FILTER (WHERE c.comes_back),
                   count(*) FILTER (WHERE c.new_place AND NOT (c.new_content OR c.new_parent
                                                               OR c.comes_back))
              FROM cur c$q$
           INTO v_revised, v_moved, v_restored, v_placed USING p_run, v_doc_path, v_ops;
    END IF;

    -- The document row: its hash lets the next plan skip it unread (the conflict target
    -- is the primary key: no plan to choose).
    INSERT INTO @schema@.iu_document AS d
        (doc_path, namespace, doc_hash, cut_digest, state, unit_count, size_bytes,
         first_run, last_run)
    VALUES (v_doc_path, p_document ->> 'namespace', p_document ->> 'doc_hash',
            p_document ->> 'cut_digest', coalesce(p_document ->> 'state', 'active'),
            coalesce((p_document ->> 'unit_count')::integer, 0),
            coalesce((p_document ->> 'size_bytes')::bigint, 0), p_run, p_run)
    ON CONFLICT (doc_path) DO UPDATE
       SET namespace = EXCLUDED.namespace, doc_hash = EXCLUDED.doc_hash,
           cut_digest = EXCLUDED.cut_digest, state = EXCLUDED.state,
           unit_count = EXCLUDED.unit_count, size_bytes = EXCLUDED.size_bytes,
           last_run = p_run, updated_at = now();

    -- Statistics: when the unit table has more than doubled since its statistics were
    -- taken (a first load), take them again. Cheap to test (the catalog row and the
    -- file's length); the ANALYZE itself runs about log2(final size) times in a load and
    -- never waits for a lock (SKIP_LOCKED: autovacuum or another cutter has it in hand).
    -- What the plans need is the table's size (the foreign-key checks) and the columns
    -- the write path filters on, so only those, from a small sample (the function's
    -- default_statistics_target = 10: ~0.1 s at 100,000 units instead of ~1.4 s);
    -- autovacuum's own ANALYZE later takes the full statistics.
    SELECT c.relpages, pg_catalog.pg_relation_size(c.oid)
                       / pg_catalog.current_setting('block_size')::bigint
      INTO v_relpages, v_pages
      FROM pg_catalog.pg_class c WHERE c.oid = '@schema@.information_unit'::regclass;
    IF v_pages >= 8 AND v_pages > 2 * v_relpages THEN
        ANALYZE (SKIP_LOCKED) @schema@.information_unit (code, doc_path, state);
    END IF;

    RETURN jsonb_build_object('created', v_created, 'revised', v_revised, 'moved', v_moved,
                              'retired', v_retired, 'restored', v_restored,
                              'placed', v_placed);
END
$$;

-- New functions are not executable by PUBLIC (migrate --roles grants the execution role
-- what it may run).
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
