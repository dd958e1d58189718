-- iucut schema version 11: a code once held is never handed to another unit, whoever
-- calls. A unit moved to a new code (fn_iu_recode, 0005) leaves its old code in the
-- lifecycle log only; a create of that code would give a brand-new unit the history of
-- another. fn_iu_apply_document and fn_iu_create now refuse a create of a code that the
-- lifecycle log shows held by a unit (SQLSTATE IUC08), naming the code and the code of the
-- unit that holds its history now, before anything is written.
--
-- The log gets an index on code (it had one on unit_id only): each created code is one
-- probe, and fn_iu_recode's check of new codes (0005) uses it too.
--
-- Both functions are 0004's, with the one check added; they keep the SET clauses 0003
-- gave them (CREATE OR REPLACE keeps only the SET clauses written in it): fn_iu_create
-- force_custom_plan, fn_iu_apply_document plan_cache_mode = auto and
-- default_statistics_target = 10 with its EXECUTE ... USING statements (see 0003).
--
-- New SQLSTATE: IUC08 a code the lifecycle log shows held by another unit.

CREATE INDEX iu_lifecycle_log_code_idx ON @schema@.iu_lifecycle_log (code);

CREATE OR REPLACE FUNCTION @schema@.fn_iu_create(p_run uuid, p_unit jsonb)
RETURNS TABLE (status text, unit_id bigint, version integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    v_id bigint;
    v_version integer;
    v_holder text;
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
    -- A code once held is never handed to another unit (0011): one probe of the log's
    -- code index, and of the unit that holds the history now.
    SELECT u.code INTO v_holder
      FROM @schema@.iu_lifecycle_log l
      JOIN @schema@.information_unit u ON u.unit_id = l.unit_id
     WHERE l.code = p_unit ->> 'code' LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'iucut: code % was held by another unit, now %: a new unit cannot take it',
            p_unit ->> 'code', v_holder
            USING ERRCODE = 'IUC08',
                  HINT = pg_catalog.format('code %s: its history belongs to the unit now at %s; '
                                           'give the new unit another code (another label or '
                                           'title)', p_unit ->> 'code', v_holder);
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

-- fn_iu_apply_document of version 4 (0004), with the check of created codes.
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

    -- A code once held is never handed to another unit (0011): no code created here is in
    -- the lifecycle log (each is held by no unit now: checked above). One probe of the
    -- log's code index per create, and one of the unit that holds that history now.
    IF v_n_create > 0 THEN
        EXECUTE $q$
            SELECT o.code, u.code
              FROM unnest($1) o
              CROSS JOIN LATERAL (SELECT l.unit_id FROM @schema@.iu_lifecycle_log l
                                   WHERE l.code = o.code LIMIT 1) l
              LEFT JOIN LATERAL (SELECT u.code FROM @schema@.information_unit u
                                  WHERE u.unit_id = l.unit_id LIMIT 1) u ON true
             WHERE o.op = 'create'
             LIMIT 1$q$
           INTO v_bad, v_detail USING v_ops;
        IF v_bad IS NOT NULL THEN
            RAISE EXCEPTION 'iucut: code % was held by another unit, now %: a new unit cannot take it',
                v_bad, v_detail
                USING ERRCODE = 'IUC08',
                      HINT = pg_catalog.format('code %s: its history belongs to the unit now '
                                               'at %s; give the new unit another code (another '
                                               'label or title)', v_bad, v_detail);
        END IF;
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
