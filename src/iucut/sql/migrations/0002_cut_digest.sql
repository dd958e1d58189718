-- iucut schema version 2: a document remembers the digest of its cut, not only the hash
-- of its source, so a change of the cutting rules (an iucut upgrade, a profile, a label
-- rule or a namespace in the configuration) re-plans a document whose bytes did not
-- change. Documents applied before this version have no digest and are planned once more.
--
-- fn_iu_apply_document is replaced whole (migrations are append-only); only the write of
-- the document row differs from version 1.

ALTER TABLE @schema@.iu_document ADD COLUMN cut_digest text;

CREATE OR REPLACE FUNCTION @schema@.fn_iu_apply_document(p_run uuid, p_document jsonb, p_ops jsonb)
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

    RETURN jsonb_build_object('created', v_created, 'revised', v_revised, 'moved', v_moved,
                              'retired', v_retired, 'restored', v_restored,
                              'placed', v_placed);
END
$$;
