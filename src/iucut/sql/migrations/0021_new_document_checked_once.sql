-- iucut schema version 21: a new document's check and version record made once, by the
-- function that writes it, instead of again by its row's triggers.
--
-- After fn_iu_apply_document writes a document's row, two triggers on the row read the
-- document back: fn_iu_check_document (0004: its digest, namespace, positions and tree
-- are its units') and fn_iu_record_document_version (0015: the document version). For a
-- new document whose units the call creates, the function has those units in hand: it
-- now checks them from its ops before writing and records the document version itself,
-- from the versions it wrote (one statement over the ops, no reading of the tables);
-- that version is the receipt the two triggers look for, and they skip their reading of
-- the document when the row they see is an INSERT equal to its last version recorded by
-- this same transaction. On a first sync that was ~12 % of the server's time.
--
-- Why the receipt cannot be forged: it is a row of iu_document_version, which only the
-- owner's code writes (cutter_exec has no write on any table; the table is append-only).
-- Only two places write it: fn_iu_apply_document, after its own check passed, just before
-- it inserts the row; and the record trigger, after a write of the document's row — so
-- that row exists, and a later write of it in the transaction is an UPDATE, which the
-- receipt never covers (rows of iu_document are never deleted by any iucut function).
-- A write of the row by any other path (another function, a direct INSERT or UPDATE by
-- the owner or an administrator) finds no receipt and is checked and recorded in full,
-- as before. When the function's own check finds anything wrong it records nothing, and
-- the triggers raise their refusals as before.
--
-- The distributed layout keeps its own bodies (layout.sql): there the triggers run on
-- the workers' shards and the function on the coordinator; they check in full as before.

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
    v_fold boolean := false;
    v_ids bigint[];
    v_codes text[];
    v_parents text[];
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

    -- The document check of the row written below, done here once from the ops (0021),
    -- for a new document all of whose units this call creates: it had no row (read above
    -- under its lock), no unit or log holds any of its codes (v_taken), and it has no
    -- active unit yet (one probe of information_unit_doc_idx). Its active units after the
    -- creates below are then exactly these ops, and this statement finds over the ops
    -- what fn_iu_check_document would find over the tables: the digest (hash, size and
    -- count of their text in position order) the row claims, every code inside the
    -- namespace, positions from 0 and distinct, one document unit, every other unit's
    -- parent an earlier unit of the document (a document without its document unit has
    -- an unplaced unit, the first in position: roots need no count of their own, codes
    -- being distinct); each unit's hash is its version's (both are written from
    -- o.content_hash below); and no other active document has the namespace. Then (v_fold) the document version is recorded below from what was
    -- written, and the row's triggers find it and skip their reading of the document.
    -- When anything differs nothing is folded: the triggers check the row as before and
    -- raise their refusal as before (no refusal is worded twice).
    IF NOT v_taken AND v_n_create > 0
       AND coalesce(p_document ->> 'state', 'active') = 'active' THEN
        EXECUTE $q$
            WITH o AS MATERIALIZED (
                SELECT o.code, o.namespace, o.parent_code, o.position,
                       o.raw_heading || o.body AS text
                  FROM unnest($1) o
            ), j AS (
                SELECT o.*, CASE WHEN o.parent_code IS NULL THEN o.code = $2
                                 WHEN o.code = $2 THEN false
                                 ELSE coalesce(p.position < o.position, false) END AS placed
                  FROM o LEFT JOIN o p ON p.code = o.parent_code
            ), t AS (
                SELECT pg_catalog.convert_to(string_agg(o.text, '' ORDER BY o.position),
                                             'UTF8') AS bytes,
                       count(*)::integer AS units,
                       count(DISTINCT o.position)::integer AS positions,
                       min(o.position) AS min_position,
                       count(*) FILTER (WHERE o.namespace IS DISTINCT FROM $2
                           OR (o.code <> $2 AND NOT pg_catalog.starts_with(o.code, $2 || '/')))
                           AS outside,
                       count(*) FILTER (WHERE NOT o.placed) AS orphans
                  FROM j o
            )
            SELECT pg_catalog.encode(pg_catalog.sha256(t.bytes), 'hex') = $3
                   AND pg_catalog.octet_length(t.bytes) = $4 AND t.units = $5
                   AND t.positions = t.units AND t.min_position >= 0 AND t.outside = 0
                   AND t.orphans = 0
                   AND NOT EXISTS (SELECT 1 FROM @schema@.information_unit u
                                    WHERE u.doc_path = $6 AND u.state = 'active')
                   AND NOT EXISTS (SELECT 1 FROM @schema@.iu_document d
                                    WHERE d.namespace = $2 AND d.doc_path <> $6
                                      AND d.state = 'active')
              FROM t$q$
           INTO v_fold
           USING v_ops, p_document ->> 'namespace', p_document ->> 'doc_hash',
                 (p_document ->> 'size_bytes')::bigint,
                 (p_document ->> 'unit_count')::integer, v_doc_path;
        v_fold := coalesce(v_fold, false);
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
                RETURNING unit_id, version_id
            ), l AS (
                INSERT INTO @schema@.iu_lifecycle_log
                    (unit_id, code, event, from_version, to_version, run_id)
                SELECT ins.unit_id, ins.code, 'created', NULL, 1, $1 FROM ins
            )
            SELECT (SELECT count(*) FROM ins), r.ids, r.codes, r.parents
              FROM (SELECT array_agg(ver.version_id ORDER BY o.position) AS ids,
                           array_agg(o.code ORDER BY o.position) AS codes,
                           array_agg(o.parent_code ORDER BY o.position) AS parents
                      FROM ver JOIN ins ON ins.unit_id = ver.unit_id
                      JOIN unnest($3) o ON o.code = ins.code
                     WHERE $5) r$q$
           INTO v_created, v_ids, v_codes, v_parents
           USING p_run, v_doc_path, v_ops, v_config, v_fold;
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

    -- The document version of a folded new document (0021): what
    -- fn_iu_record_document_version would record after the row write below, from the
    -- versions just written, in position order. It is the receipt the row's two triggers
    -- look for: the document's last version, recorded by this transaction, equal to the
    -- row inserted (see fn_iu_document_receipt).
    IF v_fold AND v_created = v_n_create AND v_ids IS NOT NULL THEN
        INSERT INTO @schema@.iu_document_version
            (doc_path, namespace, state, doc_hash, size_bytes, version_ids, codes,
             parent_codes, run_id)
        VALUES (v_doc_path, p_document ->> 'namespace', 'active', p_document ->> 'doc_hash',
                (p_document ->> 'size_bytes')::bigint, v_ids, v_codes, v_parents, p_run);
        INSERT INTO @schema@.iu_commit (xid) VALUES (pg_catalog.pg_current_xact_id())
        ON CONFLICT (xid) DO NOTHING;
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


-- The document check of a row (0004), and the record of a document version (0015): the
-- same, except that the insert a receipt covers is not read again (above).
CREATE OR REPLACE FUNCTION @schema@.fn_iu_check_document() RETURNS trigger
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
    -- The insert of a new document's row by fn_iu_apply_document, which checked the
    -- document itself and recorded its version (0021): the receipt (see the migration).
    IF TG_OP = 'INSERT' AND EXISTS (
        SELECT 1
          FROM (SELECT d.* FROM @schema@.iu_document_version d
                 WHERE d.doc_path = v_doc
                 ORDER BY d.doc_version_id DESC LIMIT 1) d
         WHERE d.xid = pg_catalog.pg_current_xact_id() AND NOT d.baseline
           AND d.run_id = NEW.last_run AND d.namespace = v_ns AND d.state = NEW.state
           AND d.doc_hash = NEW.doc_hash AND d.size_bytes = NEW.size_bytes
           AND pg_catalog.cardinality(d.version_ids) = NEW.unit_count) THEN
        RETURN NULL;
    END IF;

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

CREATE OR REPLACE FUNCTION @schema@.fn_iu_record_document_version() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    v_ids bigint[];
    v_codes text[];
    v_parents text[];
    v_last record;
BEGIN
    -- Recorded already by fn_iu_apply_document for the insert of a new document's row
    -- (0021): the same receipt as fn_iu_check_document's.
    IF TG_OP = 'INSERT' AND EXISTS (
        SELECT 1
          FROM (SELECT d.* FROM @schema@.iu_document_version d
                 WHERE d.doc_path = NEW.doc_path
                 ORDER BY d.doc_version_id DESC LIMIT 1) d
         WHERE d.xid = pg_catalog.pg_current_xact_id() AND NOT d.baseline
           AND d.run_id = NEW.last_run AND d.namespace = NEW.namespace
           AND d.state = NEW.state AND d.doc_hash = NEW.doc_hash
           AND d.size_bytes = NEW.size_bytes
           AND pg_catalog.cardinality(d.version_ids) = NEW.unit_count) THEN
        RETURN NULL;
    END IF;
    SELECT coalesce(array_agg(v.version_id ORDER BY u.position), '{}'),
           coalesce(array_agg(u.code ORDER BY u.position), '{}'),
           coalesce(array_agg(u.parent_code ORDER BY u.position), '{}')
      INTO v_ids, v_codes, v_parents
      FROM @schema@.information_unit u
      JOIN @schema@.unit_version v ON v.unit_id = u.unit_id AND v.version = u.current_version
     WHERE u.doc_path = NEW.doc_path AND u.state = 'active';
    SELECT d.doc_hash, d.state, d.namespace, d.version_ids, d.codes, d.parent_codes
      INTO v_last
      FROM @schema@.iu_document_version d
     WHERE d.doc_path = NEW.doc_path
     ORDER BY d.doc_version_id DESC
     LIMIT 1;
    IF FOUND AND v_last.doc_hash = NEW.doc_hash AND v_last.state = NEW.state
       AND v_last.namespace = NEW.namespace AND v_last.version_ids = v_ids
       AND v_last.codes = v_codes AND v_last.parent_codes IS NOT DISTINCT FROM v_parents THEN
        RETURN NULL;
    END IF;
    INSERT INTO @schema@.iu_document_version
        (doc_path, namespace, state, doc_hash, size_bytes, version_ids, codes, parent_codes,
         run_id)
    VALUES (NEW.doc_path, NEW.namespace, NEW.state, NEW.doc_hash, NEW.size_bytes, v_ids,
            v_codes, v_parents, NEW.last_run);
    INSERT INTO @schema@.iu_commit (xid) VALUES (pg_catalog.pg_current_xact_id())
    ON CONFLICT (xid) DO NOTHING;
    RETURN NULL;
END
$$;
