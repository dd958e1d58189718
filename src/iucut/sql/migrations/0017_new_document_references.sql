-- iucut schema version 17: less server work for each new document of a first sync.
--
-- fn_iu_apply_document of 0016 writes the references of a new document itself, without
-- fn_iu_set_references: the DELETE of the document's current references (a probe of the
-- reference index per unit of the document, on a new document always empty) and that
-- function's second run check and document lock are skipped. Why nothing can be there to
-- delete is said at the statement. A document that had a row, or whose active units are
-- not all created in this call, goes through fn_iu_set_references as before.
--
-- The distributed layout keeps its own body (layout.sql, carried from 0016 with this
-- note): there the references go through its fn_iu_set_references as before.

CREATE OR REPLACE FUNCTION @schema@.fn_iu_apply_document(
    p_run uuid, p_document jsonb,
    p_op text[], p_code text[], p_expect_version integer[], p_namespace text[],
    p_parent_code text[], p_kind text[], p_label text[], p_ordinal integer[],
    p_depth integer[], p_position integer[], p_title text[], p_body text[],
    p_raw_heading text[], p_content_hash text[], p_line_start integer[],
    p_line_end integer[], p_byte_start bigint[], p_byte_end bigint[], p_refs jsonb)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = auto
SET default_statistics_target = 10
SET jit = off
AS $$
DECLARE
    v_doc_path text := p_document ->> 'doc_path';
    v_ops @schema@.iu_op[];
    v_n integer;
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
    v_profile text;
    v_search_profile text;
    v_config regconfig;
    v_taken boolean := true;
    v_n_refs integer;
BEGIN
    PERFORM @schema@.fn_iu_check_run(p_run);
    IF v_doc_path IS NULL OR p_document ->> 'doc_hash' IS NULL
       OR p_document ->> 'namespace' IS NULL THEN
        RAISE EXCEPTION 'iucut: document breaks the row contract: needs doc_path, namespace, doc_hash'
            USING ERRCODE = 'IUC01';
    END IF;
    PERFORM @schema@.fn_iu_lock_document(v_doc_path);

    -- Document precondition: the document is as the plan saw it (primary key).
    EXECUTE $q$SELECT d.doc_hash, d.profile FROM @schema@.iu_document d
                WHERE d.doc_path = $1$q$
       INTO v_doc_hash, v_profile USING v_doc_path;
    IF v_doc_hash IS DISTINCT FROM p_document ->> 'expect_doc_hash' THEN
        RAISE EXCEPTION 'iucut: document % changed since the plan', v_doc_path
            USING ERRCODE = 'IUS01', HINT = 'the plan is stale: plan again';
    END IF;
    -- The cutting profile (0005's fn_iu_document_profile, in the same row write: the
    -- document check runs once), when the document says one.
    IF p_document ? 'profile' THEN
        IF coalesce(p_document ->> 'profile', '') = '' THEN
            RAISE EXCEPTION 'iucut: a document profile needs doc_path and profile'
                USING ERRCODE = 'IUC01';
        END IF;
        IF v_profile IS DISTINCT FROM p_document ->> 'expect_profile' THEN
            RAISE EXCEPTION 'iucut: the profile of document % changed since the plan',
                v_doc_path
                USING ERRCODE = 'IUS01', HINT = 'the plan is stale: plan again';
        END IF;
    END IF;
    -- The search configuration of the versions written below (0014): that of the profile
    -- the document is written with (the one it names, else the one stored), looked up
    -- once here and written with each version; iucut.profile names it for this call, as
    -- the client did in a round trip of its own before (the BEFORE INSERT trigger reads it
    -- for a version that comes without a configuration).
    v_search_profile := CASE WHEN p_document ? 'profile' THEN p_document ->> 'profile'
                             ELSE v_profile END;
    PERFORM pg_catalog.set_config('iucut.profile', coalesce(v_search_profile, ''), true);
    SELECT c.config INTO v_config
      FROM @schema@.iu_search_config c WHERE c.profile = v_search_profile;
    v_config := coalesce(v_config, 'pg_catalog.simple'::regconfig);

    -- The ops, one column an array (no JSON to encode or parse). Every array is as long
    -- as the first: unnest would pad a short one with NULLs, silently for the columns
    -- that may be NULL.
    v_n := coalesce(pg_catalog.cardinality(p_op), 0);
    IF EXISTS (SELECT 1 FROM unnest(ARRAY[
               pg_catalog.cardinality(p_code), pg_catalog.cardinality(p_expect_version),
               pg_catalog.cardinality(p_namespace), pg_catalog.cardinality(p_parent_code),
               pg_catalog.cardinality(p_kind), pg_catalog.cardinality(p_label),
               pg_catalog.cardinality(p_ordinal), pg_catalog.cardinality(p_depth),
               pg_catalog.cardinality(p_position), pg_catalog.cardinality(p_title),
               pg_catalog.cardinality(p_body), pg_catalog.cardinality(p_raw_heading),
               pg_catalog.cardinality(p_content_hash), pg_catalog.cardinality(p_line_start),
               pg_catalog.cardinality(p_line_end), pg_catalog.cardinality(p_byte_start),
               pg_catalog.cardinality(p_byte_end)]) AS n(n)
                WHERE coalesce(n.n, 0) <> v_n) THEN
        RAISE EXCEPTION 'iucut: the op arrays of document % differ in length', v_doc_path
            USING ERRCODE = 'IUC01', HINT = 'send one element per op in every array';
    END IF;
    v_ops := ARRAY(
        SELECT ROW(o.op, o.code, o.expect_version, o.namespace, o.parent_code, o.kind,
                   o.label, o.ordinal, o.depth, o.position, o.title, o.body, o.raw_heading,
                   o.content_hash, o.line_start, o.line_end, o.byte_start, o.byte_end
               )::@schema@.iu_op
          FROM unnest(p_op, p_code, p_expect_version, p_namespace, p_parent_code, p_kind,
                      p_label, p_ordinal, p_depth, p_position, p_title, p_body,
                      p_raw_heading, p_content_hash, p_line_start, p_line_end,
                      p_byte_start, p_byte_end) AS o(
               op, code, expect_version, namespace, parent_code, kind, label, ordinal,
               depth, position, title, body, raw_heading, content_hash, line_start,
               line_end, byte_start, byte_end));

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

    -- A new document (no row yet, every op a create): one statement probes the code
    -- index and the log's code index once per code; only when a code is found there do
    -- the three checks below run, to say which code and why (0016).
    IF v_doc_hash IS NULL AND v_n_update = 0 AND v_retire IS NULL THEN
        EXECUTE $q$
            SELECT EXISTS (
                SELECT 1
                  FROM unnest($1) AS o(code)
                  CROSS JOIN LATERAL (
                      (SELECT 1 FROM @schema@.information_unit u WHERE u.code = o.code LIMIT 1)
                      UNION ALL
                      (SELECT 1 FROM @schema@.iu_lifecycle_log l WHERE l.code = o.code LIMIT 1)
                  ) AS hit)$q$
           INTO v_taken USING p_code;
    END IF;

    -- A code belongs to one document; then the unit preconditions (compare-and-swap on
    -- the expected version). One probe of the code index per op. v_bad is set only by a
    -- row found (codes are never NULL past the row contract).
    v_bad := NULL;
    IF v_taken THEN
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

        -- A code once held is never handed to another unit (0011): no code created here
        -- is in the lifecycle log (each is held by no unit now: checked above). One probe
        -- of the log's code index per create, and one of the unit that holds that history.
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
                     line_start, line_end, byte_start, byte_end, run_id, search_config)
                SELECT ins.unit_id, 1, o.title, o.body, o.raw_heading, o.content_hash, $2,
                       o.line_start, o.line_end, o.byte_start, o.byte_end, $1, $4
                  FROM ins JOIN unnest($3) o ON o.code = ins.code
            ), l AS (
                INSERT INTO @schema@.iu_lifecycle_log
                    (unit_id, code, event, from_version, to_version, run_id)
                SELECT ins.unit_id, ins.code, 'created', NULL, 1, $1 FROM ins
            )
            SELECT count(*) FROM ins$q$
           INTO v_created USING p_run, v_doc_path, v_ops, v_config;
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
                     line_start, line_end, byte_start, byte_end, run_id, search_config)
                SELECT c.unit_id, c.old_version + 1, c.title, c.body, c.raw_heading,
                       c.content_hash, $2, c.line_start, c.line_end, c.byte_start, c.byte_end,
                       $1, $4
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
           INTO v_revised, v_moved, v_restored, v_placed
           USING p_run, v_doc_path, v_ops, v_config;
    END IF;

    -- The document row: its hash lets the next plan skip it unread (the conflict target
    -- is the primary key: no plan to choose).
    INSERT INTO @schema@.iu_document AS d
        (doc_path, namespace, doc_hash, cut_digest, state, unit_count, size_bytes,
         first_run, last_run, profile)
    VALUES (v_doc_path, p_document ->> 'namespace', p_document ->> 'doc_hash',
            p_document ->> 'cut_digest', coalesce(p_document ->> 'state', 'active'),
            coalesce((p_document ->> 'unit_count')::integer, 0),
            coalesce((p_document ->> 'size_bytes')::bigint, 0), p_run, p_run,
            p_document ->> 'profile')
    ON CONFLICT (doc_path) DO UPDATE
       SET namespace = EXCLUDED.namespace, doc_hash = EXCLUDED.doc_hash,
           cut_digest = EXCLUDED.cut_digest, state = EXCLUDED.state,
           unit_count = EXCLUDED.unit_count, size_bytes = EXCLUDED.size_bytes,
           last_run = p_run, updated_at = now(),
           profile = CASE WHEN p_document ? 'profile' THEN EXCLUDED.profile
                          ELSE d.profile END;

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

    -- The references of the document's current versions (0009), when given: in the same
    -- call, after the units they name (and the statistics above) are in place.
    -- A new document whose active units are all created here (0017): it had no row (under
    -- its lock), so the row written above passed the document check
    -- (fn_iu_check_document: an active document has exactly unit_count active units, a
    -- retired one none); with unit_count = the units created here, those are all of its
    -- active units, and their ids are new: no reference of them can exist, and
    -- fn_iu_set_references' DELETE would find nothing. Its insert is made here, the
    -- same statement and the same refusal (IUC01: a source that is no active unit of the
    -- document), without the DELETE nor a second run check and lock (both held).
    IF p_refs IS NOT NULL AND v_doc_hash IS NULL
       AND (coalesce(p_document ->> 'state', 'active') = 'retired'
            OR coalesce((p_document ->> 'unit_count')::integer, 0) = v_created) THEN
        EXECUTE $q$
            WITH r AS MATERIALIZED (
                SELECT r.*, u.unit_id, u.current_version
                  FROM pg_catalog.jsonb_to_recordset($3)
                       AS r(code text, ordinal integer, char_start integer, char_end integer,
                            text text, target_code text, act text, relative boolean)
                  LEFT JOIN LATERAL (SELECT u.unit_id, u.current_version
                                       FROM @schema@.information_unit u
                                      WHERE u.code = r.code AND u.doc_path = $2
                                        AND u.state = 'active'
                                      LIMIT 1) u ON true
            ), ins AS (
                INSERT INTO @schema@.unit_reference
                       (unit_id, version, ordinal, char_start, char_end, text, target_code,
                        act, relative, run_id)
                SELECT r.unit_id, r.current_version, r.ordinal, r.char_start, r.char_end,
                       r.text, r.target_code, r.act, coalesce(r.relative, false), $1
                  FROM r WHERE r.unit_id IS NOT NULL
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM ins),
                   (SELECT r.code FROM r WHERE r.unit_id IS NULL AND r.code IS NOT NULL
                     LIMIT 1)$q$
           INTO v_n_refs, v_bad USING p_run, v_doc_path, p_refs;
        IF v_bad IS NOT NULL THEN
            RAISE EXCEPTION 'iucut: reference source % is no active unit of %', v_bad,
                v_doc_path
                USING ERRCODE = 'IUC01', HINT = 'apply the document before its references';
        END IF;
    ELSIF p_refs IS NOT NULL THEN
        PERFORM @schema@.fn_iu_set_references(
            p_run, pg_catalog.jsonb_build_object('doc_path', v_doc_path), p_refs);
    END IF;

    -- The effective date of the document version recorded above (0015), when the
    -- document names one: in the same call, so that a new document is written by one
    -- statement (0016).
    IF p_document ? 'effective_date' THEN
        PERFORM @schema@.fn_iu_set_effective_date(
            p_run, v_doc_path, (p_document ->> 'effective_date')::date,
            p_document ->> 'effective_key');
    END IF;

    RETURN jsonb_build_object('created', v_created, 'revised', v_revised, 'moved', v_moved,
                              'retired', v_retired, 'restored', v_restored,
                              'placed', v_placed);
END
$$;
