-- Named queries of iucut, loaded once by iucut.db.queries.
-- A query starts at a "-- name: NAME" line and runs to the next one. Placeholders are
-- %(name)s (both drivers); @schema@ is the configured schema. Reads only, except the
-- calls to the write functions, which are the only write path.

-- name: fingerprint
-- The identity of the target database, to bind plans and proofs to it.
SELECT (SELECT system_identifier::text FROM pg_catalog.pg_control_system()) AS system_identifier,
       pg_catalog.current_database() AS database,
       '@schema@' AS schema,
       (SELECT max(version) FROM @schema@.iucut_migration) AS migration_version,
       pg_catalog.current_setting('server_version') AS server_version,
       session_user AS role

-- name: control
SELECT frozen, reason, changed_by, changed_at FROM @schema@.iu_control

-- name: runs_unfinished
-- Apply runs that never finished (the process was killed or lost its connection).
SELECT count(*) AS runs, min(started_at) AS oldest
  FROM @schema@.iu_run
 WHERE mode = 'apply' AND status = 'running' AND started_at < now() - interval '1 hour'

-- name: documents_by_path
-- The stored state of the documents named, with their label profile (schema 5): what
-- a re-sync compares its digests with, in one read for the whole corpus.
SELECT doc_path, namespace, doc_hash, cut_digest, state, unit_count, profile
  FROM @schema@.iu_document
 WHERE doc_path = ANY(%(paths)s)

-- name: documents_state
-- What a triage of digests reads (issue #16 part 3), in one statement (one snapshot):
-- first a token of every stored document row (doc_path NULL: the number of rows and
-- the sum of a 64-bit hash of each row's triage columns, so that any change of any
-- stored document, by any writer, changes it), then the rows of the documents named,
-- each with its hash. A client that kept what it saw at a token needs no row when the
-- token is the same (iucut.seen); it only adds and subtracts the hashes given here.
-- The row hash chains hashtextextended through its 64-bit seed, one column after the
-- other (a NULL column turns the seed by a constant instead): as cheap as hashing each
-- column (~8 ms for 24,004 rows on PG 15, against ~40 ms for ROW(...)::text), and
-- unlike an XOR or a sum of the column hashes not linear in them, so a value swapped
-- between two rows changes the sum too (hashint8extended would fold it to 32 bits).
-- The CTE is inlined in both branches: the token scans the table, the rows named are
-- found by the primary key, with the very same hash expression. With token false, the
-- rows named alone (what a triage reads a chunk of paths at a time when its cache does
-- not answer): the token's row has no count then, and the table is not scanned.
WITH stored AS NOT MATERIALIZED (
    SELECT doc_path, namespace, doc_hash, cut_digest, state, unit_count, profile,
           pg_catalog.hashtextextended(doc_path, pg_catalog.hashtextextended(state,
               pg_catalog.hashtextextended(doc_hash, COALESCE(
                   pg_catalog.hashtextextended(cut_digest, p.seed), p.seed # 1))))
               AS row_hash
      FROM @schema@.iu_document
     CROSS JOIN LATERAL (SELECT COALESCE(pg_catalog.hashtextextended(profile, 2), 3) AS seed) p
)
SELECT NULL::text AS doc_path, NULL::text AS namespace, NULL::text AS doc_hash,
       NULL::text AS cut_digest, NULL::text AS state, NULL::integer AS unit_count,
       NULL::text AS profile, NULL::bigint AS row_hash,
       pg_catalog.count(*) AS token_rows,
       COALESCE(pg_catalog.sum(row_hash), 0)::text AS token_sum
  FROM stored
 WHERE %(token)s
HAVING %(token)s
UNION ALL
SELECT doc_path, namespace, doc_hash, cut_digest, state, unit_count, profile, row_hash,
       NULL, NULL
  FROM stored
 WHERE doc_path = ANY(%(paths)s)

-- name: documents_holding
-- The active documents holding these namespaces (one each: a document unit's code is
-- its namespace, and codes are unique): what a triage checks the namespaces of the
-- documents to do against (iucut.plan_state._shared_namespaces).
SELECT doc_path, namespace
  FROM @schema@.iu_document
 WHERE state = 'active' AND namespace = ANY(%(namespaces)s)

-- name: documents_active
SELECT doc_path, namespace, doc_hash, cut_digest, state, unit_count
  FROM @schema@.iu_document
 WHERE state = 'active'
 ORDER BY doc_path

-- name: document_find
-- A document by its path or by its namespace.
SELECT doc_path, namespace, doc_hash, state, unit_count, size_bytes, updated_at
  FROM @schema@.iu_document
 WHERE doc_path = %(doc)s OR namespace = %(doc)s
 ORDER BY (doc_path = %(doc)s) DESC
 LIMIT 1

-- name: document_units
SELECT code, parent_code, kind, label, ordinal, depth, position, state,
       current_version, content_hash, doc_path
  FROM @schema@.information_unit
 WHERE doc_path = %(doc_path)s

-- name: codes_elsewhere
-- Codes a document would create that another document already holds.
SELECT code, doc_path
  FROM @schema@.information_unit
 WHERE code = ANY(%(codes)s) AND doc_path <> %(doc_path)s
 ORDER BY code
 LIMIT 10

-- name: lock_document
SELECT @schema@.fn_iu_lock_document(%(doc_path)s)

-- name: run_begin
SELECT @schema@.fn_run_begin(%(mode)s, %(tool_version)s, %(plan_hash)s, %(meta)s::jsonb) AS run_id

-- name: run_finish
SELECT @schema@.fn_run_finish(%(run_id)s, %(status)s, %(counts)s::jsonb) AS status

-- name: merge_search_pending
-- The search index's pending list merged now, while the writers finish (0020).
SELECT @schema@.fn_iu_merge_search_pending() AS pages

-- name: apply_document
-- The ops as parallel arrays, one a column (iucut.apply.op_columns): no JSON (0013);
-- The arrays go in binary (the b placeholders; psycopg 2, which has none, sends text).
SELECT @schema@.fn_iu_apply_document(
           %(run_id)s, %(document)s::jsonb, %(op)b::text[], %(code)b::text[],
           %(expect_version)b::integer[], %(namespace)b::text[], %(parent_code)b::text[],
           %(kind)b::text[], %(label)b::text[], %(ordinal)b::integer[], %(depth)b::integer[],
           %(position)b::integer[], %(title)b::text[], %(body)b::text[],
           %(raw_heading)b::text[], %(content_hash)b::text[], %(line_start)b::integer[],
           %(line_end)b::integer[], %(byte_start)b::bigint[], %(byte_end)b::bigint[],
           %(refs)s::jsonb) AS counts

-- name: set_references
SELECT @schema@.fn_iu_set_references(%(run_id)s, %(document)s::jsonb, %(refs)s::jsonb) AS n

-- name: unit_show
SELECT u.code, u.namespace, u.doc_path, u.parent_code, u.kind, u.label, u.ordinal,
       u.depth, u.position, u.state, u.current_version, u.content_hash,
       u.created_at, u.updated_at, v.title, v.raw_heading, v.body, v.line_start, v.line_end
  FROM @schema@.information_unit u
  JOIN @schema@.unit_version v
    ON v.doc_path = u.doc_path AND v.unit_id = u.unit_id AND v.version = u.current_version
 WHERE u.code = %(code)s

-- name: unit_children
SELECT code, kind, label, state, current_version
  FROM @schema@.information_unit
 WHERE parent_code = %(code)s
 ORDER BY state, position

-- name: unit_versions
SELECT v.version, v.title, v.raw_heading, v.body, v.content_hash, v.doc_path,
       v.line_start, v.line_end, v.run_id, v.created_at
  FROM @schema@.unit_version v
  JOIN @schema@.information_unit u ON u.doc_path = v.doc_path AND u.unit_id = v.unit_id
 WHERE u.code = %(code)s
 ORDER BY v.version

-- name: unit_events
SELECT l.event, l.from_version, l.to_version, l.detail, l.run_id, l.actor, l.at
  FROM @schema@.iu_lifecycle_log l
  JOIN @schema@.information_unit u ON u.unit_id = l.unit_id
 WHERE u.code = %(code)s
 ORDER BY l.event_id

-- name: export_document
SELECT v.raw_heading, v.body
  FROM @schema@.information_unit u
  JOIN @schema@.unit_version v
    ON v.doc_path = u.doc_path AND v.unit_id = u.unit_id AND v.version = u.current_version
 WHERE u.doc_path = %(doc_path)s AND u.state = 'active'
 ORDER BY u.position

-- name: state_digest
-- What the units say, blind to ids, run ids and timestamps: two databases that were
-- brought to the same sources, by whatever path (a killed run and its re-run, two
-- concurrent cutters, one apply), have equal digests.
SELECT
  (SELECT md5(coalesce(string_agg(concat_ws('|', code, namespace, doc_path, parent_code, kind,
              label, ordinal, depth, position, state, current_version, content_hash),
              E'\n' ORDER BY code), ''))
     FROM @schema@.information_unit) AS information_unit,
  (SELECT md5(coalesce(string_agg(concat_ws('|', u.code, v.version, v.title, v.body,
              v.raw_heading, v.content_hash, v.doc_path, v.line_start, v.line_end,
              v.byte_start, v.byte_end), E'\n' ORDER BY u.code, v.version), ''))
     FROM @schema@.unit_version v JOIN @schema@.information_unit u USING (unit_id))
     AS unit_version,
  (SELECT md5(coalesce(string_agg(concat_ws('|', l.code, l.event, l.from_version,
              l.to_version, l.detail::text), E'\n' ORDER BY l.code, l.event_id), ''))
     FROM @schema@.iu_lifecycle_log l) AS iu_lifecycle_log,
  (SELECT md5(coalesce(string_agg(concat_ws('|', doc_path, namespace, doc_hash, cut_digest,
              state, unit_count, size_bytes), E'\n' ORDER BY doc_path), ''))
     FROM @schema@.iu_document) AS iu_document,
  (SELECT count(*) FROM @schema@.information_unit) AS units,
  (SELECT count(*) FROM @schema@.unit_version) AS versions,
  (SELECT count(*) FROM @schema@.iu_lifecycle_log) AS events

-- name: table_counts
SELECT (SELECT count(*) FROM @schema@.information_unit) AS information_unit,
       (SELECT count(*) FROM @schema@.unit_version) AS unit_version,
       (SELECT count(*) FROM @schema@.iu_lifecycle_log) AS iu_lifecycle_log,
       (SELECT count(*) FROM @schema@.iu_run) AS iu_run,
       (SELECT count(*) FROM @schema@.iu_document) AS iu_document,
       (SELECT count(*) FROM @schema@.iu_control) AS iu_control

-- name: table_digests
-- A content digest per table: md5 over every row in key order. Equal digests before
-- and after a proof mean no row was added, changed or removed.
SELECT (SELECT md5(coalesce(string_agg(t::text, E'\n' ORDER BY t.unit_id), ''))
          FROM @schema@.information_unit t) AS information_unit,
       (SELECT md5(coalesce(string_agg(t::text, E'\n' ORDER BY t.version_id), ''))
          FROM @schema@.unit_version t) AS unit_version,
       (SELECT md5(coalesce(string_agg(t::text, E'\n' ORDER BY t.event_id), ''))
          FROM @schema@.iu_lifecycle_log t) AS iu_lifecycle_log,
       (SELECT md5(coalesce(string_agg(t::text, E'\n' ORDER BY t.run_id), ''))
          FROM @schema@.iu_run t) AS iu_run,
       (SELECT md5(coalesce(string_agg(t::text, E'\n' ORDER BY t.doc_path), ''))
          FROM @schema@.iu_document t) AS iu_document,
       (SELECT md5(coalesce(string_agg(t::text, E'\n'), ''))
          FROM @schema@.iu_control t) AS iu_control

-- name: sequence_values
SELECT s.sequencename AS sequence, s.last_value
  FROM pg_catalog.pg_sequences s
 WHERE s.schemaname = '@schema@'
 ORDER BY s.sequencename

-- name: run_rows
-- Rows anywhere that carry a run id: after a proof's rollback this must be 0.
SELECT (SELECT count(*) FROM @schema@.iu_run WHERE run_id = %(run_id)s)
     + (SELECT count(*) FROM @schema@.unit_version WHERE run_id = %(run_id)s)
     + (SELECT count(*) FROM @schema@.iu_lifecycle_log WHERE run_id = %(run_id)s)
     + (SELECT count(*) FROM @schema@.information_unit
         WHERE created_run = %(run_id)s OR updated_run = %(run_id)s)
     + (SELECT count(*) FROM @schema@.iu_document
         WHERE first_run = %(run_id)s OR last_run = %(run_id)s) AS rows

-- name: codes_present
SELECT count(*) AS rows FROM @schema@.information_unit WHERE code = ANY(%(codes)s)

-- name: xact_status
SELECT pg_catalog.pg_xact_status(%(xid)s::xid8) AS status

-- name: current_xid
SELECT pg_catalog.pg_current_xact_id()::text AS xid

-- name: deferrable_constraints
-- Deferrable constraints of the schema other than the proof's poison pill, so that a
-- proof can check them before judging without firing the pill.
SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.conname) AS name
  FROM pg_catalog.pg_constraint c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.connamespace
 WHERE n.nspname = '@schema@' AND c.condeferrable
   AND c.conname <> 'iu_run_proof_never_commits'
   AND c.conname <> 'iu_commit_order'  -- numbers commits (under a lock): not a check
   -- on a Citus coordinator, the local copy of a reference table (a shard, iu_run_NNN)
   -- has its own copy of the pill, named after it
   AND NOT pg_catalog.starts_with(c.conname, 'iu_run_proof_never_commits_')
   AND NOT pg_catalog.starts_with(c.conname, 'iu_commit_order_')

-- name: session_leftovers
-- What a proof session could leave behind after its rollback.
SELECT (SELECT count(*) FROM pg_catalog.pg_locks
         WHERE pid = pg_catalog.pg_backend_pid() AND locktype = 'advisory') AS advisory_locks,
       (SELECT count(*) FROM pg_catalog.pg_prepared_statements) AS prepared_statements,
       (SELECT count(*) FROM pg_catalog.pg_prepared_xacts) AS prepared_xacts

-- name: documents_alike
-- Stored documents at other paths with the same bytes or the same namespace as new
-- documents (a file planned from another root, or a copy): plan warns, naming both.
SELECT doc_path, namespace, doc_hash, state
  FROM @schema@.iu_document
 WHERE (doc_hash = ANY(%(hashes)s) OR namespace = ANY(%(namespaces)s))
   AND NOT doc_path = ANY(%(paths)s)
 ORDER BY doc_path

-- name: plan_for_values
-- This session's statements are planned for the values they run with. The client
-- prepares nothing, so every statement is planned anyway; a generic plan (a session with
-- plan_cache_mode = force_generic_plan) would be made for "some document" and read the
-- whole unit table to find the units of one. fn_iu_apply_document pins its own setting.
SELECT pg_catalog.set_config('plan_cache_mode', 'force_custom_plan', false) AS plan_cache_mode

-- name: lock_documents
-- The control row (refused while frozen) and then the documents, in a fixed order.
SELECT @schema@.fn_iu_lock_documents(%(run_id)s, %(doc_paths)s::text[])

-- name: hold_documents
-- The same document locks at session level, across the transactions of a reviewed plan.
SELECT @schema@.fn_iu_hold_documents(%(doc_paths)s::text[])

-- name: release_documents
SELECT @schema@.fn_iu_release_documents(%(doc_paths)s::text[])

-- name: verify_snapshot
-- `iucut verify` reads one consistent state and can write nothing.
SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY

-- name: verify_counts
SELECT (SELECT count(*) FROM @schema@.unit_version) AS versions,
       (SELECT count(*) FROM @schema@.information_unit) AS units,
       (SELECT count(*) FROM @schema@.iu_document) AS documents

-- name: verify_version_hashes
-- Versions whose stored hash is not the iu1 hash of their own text: sha256 over 'iu1',
-- NUL, the raw heading, NUL, the body, in UTF-8 (iucut.units.content_hash).
SELECT u.doc_path, u.code, v.version, v.content_hash AS stored, h.actual,
       count(*) OVER () AS total
  FROM @schema@.unit_version v
  JOIN @schema@.information_unit u ON u.doc_path = v.doc_path AND u.unit_id = v.unit_id
 CROSS JOIN LATERAL (
       SELECT pg_catalog.encode(pg_catalog.sha256('iu1'::bytea || '\x00'::bytea
              || pg_catalog.convert_to(v.raw_heading, 'UTF8') || '\x00'::bytea
              || pg_catalog.convert_to(v.body, 'UTF8')), 'hex') AS actual) h
 WHERE v.content_hash IS DISTINCT FROM h.actual
 ORDER BY u.doc_path, u.code, v.version
 LIMIT %(limit)s

-- name: verify_unit_hashes
-- Units whose hash is not the hash of their current version (or that have none).
SELECT u.doc_path, u.code, u.current_version AS version, u.content_hash AS stored,
       v.content_hash AS actual, count(*) OVER () AS total
  FROM @schema@.information_unit u
  LEFT JOIN @schema@.unit_version v
    ON v.doc_path = u.doc_path AND v.unit_id = u.unit_id AND v.version = u.current_version
 WHERE v.content_hash IS DISTINCT FROM u.content_hash
 ORDER BY u.doc_path, u.code
 LIMIT %(limit)s

-- name: verify_documents
-- Documents whose stored hash, size or unit count is not that of their active units in
-- position order, i.e. of what `iucut export` gives back; and units without a document.
WITH text AS (
    SELECT u.doc_path, count(*) AS units,
           pg_catalog.convert_to(string_agg(v.raw_heading || v.body, ''
                                            ORDER BY u.position, u.code), 'UTF8') AS bytes
      FROM @schema@.information_unit u
      JOIN @schema@.unit_version v
        ON v.doc_path = u.doc_path AND v.unit_id = u.unit_id AND v.version = u.current_version
     WHERE u.state = 'active'
     GROUP BY u.doc_path
), actual AS (
    SELECT t.doc_path, t.units, pg_catalog.octet_length(t.bytes) AS size_bytes,
           pg_catalog.encode(pg_catalog.sha256(t.bytes), 'hex') AS doc_hash
      FROM text t
)
SELECT coalesce(d.doc_path, a.doc_path) AS doc_path, d.state,
       d.doc_hash AS stored_hash, a.doc_hash AS actual_hash,
       d.size_bytes AS stored_size, a.size_bytes AS actual_size,
       d.unit_count AS stored_units, a.units AS actual_units, count(*) OVER () AS total
  FROM @schema@.iu_document d
  FULL JOIN actual a ON a.doc_path = d.doc_path
 WHERE d.doc_path IS NULL
    OR (d.state = 'active' AND (a.doc_path IS NULL OR d.doc_hash <> a.doc_hash
        OR d.size_bytes <> a.size_bytes OR d.unit_count <> a.units))
    OR (d.state = 'retired' AND a.doc_path IS NOT NULL)
 ORDER BY 1
 LIMIT %(limit)s

-- name: verify_tree
-- The shape of every document's active units: one root (the document unit, its code the
-- namespace), every code in the namespace, every other unit under an active parent of the
-- same document one level up and before it, positions non-negative and distinct, and
-- every unit reachable from the root (no cycles).
WITH RECURSIVE a AS (
    SELECT u.code, u.namespace, u.doc_path, u.parent_code, u.kind, u.depth, u.position,
           d.namespace AS doc_namespace
      FROM @schema@.information_unit u
      JOIN @schema@.iu_document d ON d.doc_path = u.doc_path
     WHERE u.state = 'active' AND d.state = 'active'
), reach AS (
    -- from the roots, and from units whose parent is missing (reported as such), so
    -- that what stays out of reach is a cycle
    SELECT a.code, a.doc_path FROM a
     WHERE a.parent_code IS NULL
        OR NOT EXISTS (SELECT 1 FROM a p WHERE p.code = a.parent_code AND p.doc_path = a.doc_path)
    UNION
    SELECT c.code, c.doc_path FROM a c JOIN reach r ON r.code = c.parent_code
                                                  AND r.doc_path = c.doc_path
), problems AS (
    SELECT 'namespace' AS rule, a.doc_path, a.code,
           'not in namespace ' || a.doc_namespace AS detail
      FROM a
     WHERE a.namespace IS DISTINCT FROM a.doc_namespace
        OR (a.code <> a.doc_namespace AND NOT starts_with(a.code, a.doc_namespace || '/'))
    UNION ALL
    SELECT 'root', a.doc_path, a.code,
           'a unit without a parent must be the document unit ' || a.doc_namespace
      FROM a
     WHERE a.parent_code IS NULL
       AND (a.code <> a.doc_namespace OR a.kind <> 'document' OR a.depth <> 0)
    UNION ALL
    SELECT 'root', d.doc_path, NULL, 'no active root unit'
      FROM @schema@.iu_document d
     WHERE d.state = 'active'
       AND NOT EXISTS (SELECT 1 FROM a WHERE a.doc_path = d.doc_path AND a.parent_code IS NULL)
    UNION ALL
    SELECT 'parent', a.doc_path, a.code,
           CASE WHEN p.code IS NULL THEN 'parent ' || a.parent_code || ' is not an active unit of this document'
                WHEN p.depth + 1 <> a.depth THEN 'depth ' || a.depth || ' under parent ' || p.code || ' at depth ' || p.depth
                ELSE 'parent ' || p.code || ' at position ' || p.position || ' comes after it' END
      FROM a
      LEFT JOIN a p ON p.code = a.parent_code AND p.doc_path = a.doc_path
     WHERE a.parent_code IS NOT NULL
       AND (p.code IS NULL OR p.depth + 1 <> a.depth OR p.position >= a.position)
    UNION ALL
    SELECT 'position', a.doc_path, a.code, 'negative position ' || a.position
      FROM a WHERE a.position < 0
    UNION ALL
    SELECT 'position', a.doc_path, min(a.code),
           'position ' || a.position || ' held by ' || count(*) || ' units: '
           || string_agg(a.code, ', ' ORDER BY a.code)
      FROM a GROUP BY a.doc_path, a.position HAVING count(*) > 1
    UNION ALL
    SELECT 'cycle', a.doc_path, a.code, 'in a parent cycle (or under one)'
      FROM a
     WHERE NOT EXISTS (SELECT 1 FROM reach r WHERE r.code = a.code AND r.doc_path = a.doc_path)
)
SELECT rule, doc_path, code, detail, total
  FROM (SELECT p.*, count(*) OVER () AS total,
               row_number() OVER (PARTITION BY p.rule ORDER BY p.doc_path, p.code) AS n
          FROM problems p) numbered
 WHERE n <= %(limit)s
 ORDER BY rule, doc_path, code

-- name: feed_changes
-- The change feed: lifecycle events after a position, in commit order (see migration
-- 0006), with the unit's text at the event's version. Unit placement (parent, kind,
-- label) is the unit's current one.
SELECT c.commit_seq, l.event_id, l.event, l.code, l.from_version, l.to_version, l.detail,
       l.run_id, l.actor, l.at, c.committed_at,
       u.namespace, u.doc_path, u.parent_code, u.kind, u.label, u.state,
       v.title, v.raw_heading, v.body, v.content_hash, v.line_start, v.line_end
  FROM @schema@.iu_commit c
  JOIN @schema@.iu_lifecycle_log l ON l.xid = c.xid
  JOIN @schema@.information_unit u ON u.unit_id = l.unit_id
  LEFT JOIN @schema@.unit_version v ON v.unit_id = l.unit_id AND v.version = l.to_version
 WHERE c.commit_seq >= %(commit_seq)s
   AND (c.commit_seq, l.event_id) > (%(commit_seq)s, %(event_id)s)
 ORDER BY c.commit_seq, l.event_id
 LIMIT %(limit)s

-- name: feed_head
-- The last position of the feed (-1, 0 when nothing was ever numbered).
WITH last AS (
    SELECT c.xid, c.commit_seq FROM @schema@.iu_commit c
     WHERE c.commit_seq IS NOT NULL ORDER BY c.commit_seq DESC LIMIT 1
)
SELECT coalesce((SELECT commit_seq FROM last), -1) AS commit_seq,
       coalesce((SELECT max(l.event_id) FROM @schema@.iu_lifecycle_log l
                   JOIN last ON l.xid = last.xid), 0) AS event_id

-- name: feed_position_of_run
-- The feed position just after the last event a run wrote (NULL: it wrote none).
SELECT c.commit_seq, max(l.event_id) AS event_id
  FROM @schema@.iu_lifecycle_log l
  JOIN @schema@.iu_commit c ON c.xid = l.xid
 WHERE l.run_id = %(run_id)s::uuid
 GROUP BY c.commit_seq
 ORDER BY c.commit_seq DESC
 LIMIT 1

-- name: runs_matching
-- Runs whose id starts with the given text (a full id or the prefix the CLI prints).
SELECT run_id, mode, status, started_at, finished_at
  FROM @schema@.iu_run
 WHERE run_id::text LIKE %(prefix)s || '%%'
 ORDER BY started_at
 LIMIT 2

-- name: feed_position_at
-- The feed position at a time: after every commit numbered at or before it; before the
-- first numbered commit, after the events written before migration 0006 at that time.
SELECT coalesce((SELECT max(c.commit_seq) FROM @schema@.iu_commit c
                  WHERE c.commit_seq > 0 AND c.committed_at <= %(at)s), -1) AS commit_seq,
       (SELECT max(l.event_id) FROM @schema@.iu_lifecycle_log l
         WHERE l.xid = '0' AND l.at <= %(at)s) AS legacy_event_id

-- name: feed_cursor_get
SELECT consumer, commit_seq, event_id, pending_seq, pending_event, updated_by, updated_at
  FROM @schema@.iu_feed_cursor
 WHERE consumer = %(consumer)s

-- name: feed_cursor_set
SELECT @schema@.fn_iu_feed_cursor_set(%(consumer)s, %(expect_seq)s, %(expect_event)s,
       %(commit_seq)s, %(event_id)s, %(pending_seq)s, %(pending_event)s)

-- name: documents_list
-- Documents with their namespace, state, unit counts and last run; ``doc`` (optional)
-- is a namespace, a document path, or a folder the paths start with.
SELECT d.doc_path, d.namespace, d.state, d.unit_count, d.size_bytes,
       (SELECT count(*) FROM @schema@.information_unit u
         WHERE u.doc_path = d.doc_path AND u.state = 'active') AS active_units,
       (SELECT count(*) FROM @schema@.information_unit u
         WHERE u.doc_path = d.doc_path AND u.state = 'retired') AS retired_units,
       d.last_run, r.status AS last_run_status,
       coalesce(r.finished_at, r.started_at) AS last_run_at, d.updated_at
  FROM @schema@.iu_document d
  LEFT JOIN @schema@.iu_run r ON r.run_id = d.last_run
 WHERE %(doc)s::text IS NULL OR d.namespace = %(doc)s OR d.doc_path = %(doc)s
    OR starts_with(d.doc_path, rtrim(%(doc)s, '/') || '/')
 ORDER BY d.doc_path

-- name: units_current
-- The current version of every active unit of the active documents (``doc``: a path or
-- namespace, or NULL for all), in document order, for loaders.
SELECT u.code, u.namespace, u.doc_path, u.parent_code, u.kind, u.label, u.ordinal,
       u.depth, u.position, u.current_version AS version, u.content_hash,
       v.title, v.raw_heading, v.body, v.line_start, v.line_end
  FROM @schema@.information_unit u
  JOIN @schema@.unit_version v
    ON v.doc_path = u.doc_path AND v.unit_id = u.unit_id AND v.version = u.current_version
  JOIN @schema@.iu_document d ON d.doc_path = u.doc_path
 WHERE u.state = 'active' AND d.state = 'active'
   AND (%(doc)s::text IS NULL OR d.doc_path = %(doc)s OR d.namespace = %(doc)s)
 ORDER BY u.doc_path, u.position

-- name: unit_titles
-- Parent and current title of each given unit (loaders walk up the tree with it, one
-- level per call: an index lookup each, where a recursive query hashed the whole table).
SELECT u.code, u.parent_code, v.title
  FROM @schema@.information_unit u
  JOIN @schema@.unit_version v
    ON v.doc_path = u.doc_path AND v.unit_id = u.unit_id AND v.version = u.current_version
 WHERE u.code = ANY(%(codes)s)

-- name: units_search
-- Active units whose title or text contains the given words (plain, case-insensitive).
SELECT u.code, u.doc_path, u.kind, u.label, u.current_version AS version, v.title,
       left(v.raw_heading || v.body, 300) AS excerpt
  FROM @schema@.information_unit u
  JOIN @schema@.unit_version v
    ON v.doc_path = u.doc_path AND v.unit_id = u.unit_id AND v.version = u.current_version
 WHERE u.state = 'active'
   AND strpos(lower(v.raw_heading || v.body), lower(%(text)s)) > 0
 ORDER BY u.doc_path, u.position
 LIMIT %(limit)s

-- name: role_can_write
-- Whether the connected role could change iucut data: superuser, member of the owner,
-- a write privilege on any iucut table, or EXECUTE on any iucut write function.
SELECT current_user AS role,
       (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) AS superuser,
       pg_catalog.pg_has_role(current_user, %(owner)s, 'MEMBER') AS owner_member,
       (SELECT array_agg(c.relname::text ORDER BY c.relname)
          FROM pg_catalog.pg_class c
         WHERE c.relnamespace = '@schema@'::regnamespace AND c.relkind IN ('r', 'p')
           AND pg_catalog.has_table_privilege(c.oid,
                   'INSERT, UPDATE, DELETE, TRUNCATE')) AS writable_tables,
       (SELECT array_agg(p.proname::text ORDER BY p.proname)
          FROM pg_catalog.pg_proc p
         WHERE p.pronamespace = '@schema@'::regnamespace
           AND (p.proname LIKE 'fn\_iu\_%%' OR p.proname LIKE 'fn\_run\_%%')
           AND p.prorettype <> 'trigger'::regtype
           AND pg_catalog.has_function_privilege(p.oid, 'EXECUTE')) AS executable_functions

-- name: session_read_only
-- Every later transaction of this session is read-only (the MCP server's sessions).
SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY

-- name: unit_codes_near
-- The codes of a namespace (``show`` of a missing code suggests the nearest), and the
-- namespaces themselves when the namespace is not known (a mistyped namespace).
SELECT code FROM @schema@.information_unit WHERE namespace = %(namespace)s
UNION ALL
SELECT DISTINCT namespace FROM @schema@.information_unit
 WHERE NOT EXISTS (SELECT 1 FROM @schema@.information_unit WHERE namespace = %(namespace)s)

-- name: run_documents
-- The documents a run wrote last (what an interrupted apply lists: the database knows
-- which commits made it, even one that landed as the interrupt came).
SELECT doc_path FROM @schema@.iu_document WHERE last_run = %(run_id)s ORDER BY updated_at, doc_path

-- name: proof_identity
-- Who the proof's write connection is (PROOF-3): the role that drives the write path.
SELECT session_user AS role, current_database() AS database,
       current_setting('server_version') AS server_version

-- name: role_write_rights
-- PROOF-1: the iucut tables this session's role may write directly, around the
-- functions; and whether it is a superuser or a member of the tables' owner.
SELECT session_user AS role,
       (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = session_user) AS superuser,
       (SELECT pg_catalog.pg_has_role(session_user, c.relowner, 'MEMBER')
          FROM pg_catalog.pg_class c
         WHERE c.oid = '@schema@.information_unit'::regclass) AS owner,
       ARRAY(SELECT t || ':' || p
               FROM unnest(ARRAY['information_unit', 'unit_version', 'iu_lifecycle_log',
                                 'iu_run', 'iu_document', 'iu_control']) AS t,
                    unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) AS p
              WHERE pg_catalog.has_table_privilege(session_user, '@schema@.' || t, p)
              ORDER BY 1) AS direct_writes

-- name: unit_texts
-- The current text of the given units (those a plan revises, restores or retires), so a
-- reviewer sees what changes: only these units' versions are read.
SELECT u.code, v.title, v.raw_heading, v.body
  FROM @schema@.information_unit u
  JOIN @schema@.unit_version v
    ON v.doc_path = u.doc_path AND v.unit_id = u.unit_id AND v.version = u.current_version
 WHERE u.code = ANY(%(codes)s)

-- name: document_profile_set
SELECT @schema@.fn_iu_document_profile(%(run_id)s, %(doc_path)s, %(profile)s,
                                       %(expect_profile)s) AS profile

-- name: units_recode
SELECT @schema@.fn_iu_recode(%(run_id)s, %(doc_path)s, %(moves)s::jsonb) AS moved

-- name: code_holders
-- Of the codes, those the lifecycle log shows held, each with the code now of every unit
-- that held it.
SELECT DISTINCT l.code, u.code AS holder
  FROM @schema@.iu_lifecycle_log l
  JOIN @schema@.information_unit u ON u.unit_id = l.unit_id
 WHERE l.code = ANY(%(codes)s)

-- name: unit_references
-- The references of one unit's version (%(version)s NULL: its current one).
SELECT u.code AS source, r.version, r.ordinal, r.char_start, r.char_end, r.text,
       r.target_code, r.act, r.relative, t.state AS target_state
  FROM @schema@.information_unit u
  JOIN @schema@.unit_reference r
    ON r.unit_id = u.unit_id AND r.version = coalesce(%(version)s, u.current_version)
  LEFT JOIN @schema@.information_unit t ON t.code = r.target_code
 WHERE u.code = %(code)s
 ORDER BY r.ordinal;

-- name: unit_cited_by
-- The current versions of active units whose references point at one code.
SELECT u.code AS source, r.version, r.ordinal, r.char_start, r.char_end, r.text,
       r.target_code, r.act, r.relative, 'active' AS target_state
  FROM @schema@.unit_reference r
  JOIN @schema@.information_unit u
    ON u.unit_id = r.unit_id AND r.version = u.current_version AND u.state = 'active'
 WHERE r.target_code = %(code)s
 ORDER BY u.doc_path, u.position, r.ordinal;

-- name: references_into
-- Active references (current versions) whose target is one of %(codes)s: the citing
-- units a plan's retires and renumbers would leave dangling.
SELECT u.code AS source, u.doc_path, r.text, r.target_code
  FROM @schema@.unit_reference r
  JOIN @schema@.information_unit u
    ON u.unit_id = r.unit_id AND r.version = u.current_version AND u.state = 'active'
 WHERE r.target_code = ANY (%(codes)s::text[])
 ORDER BY u.doc_path, u.position, r.ordinal;

-- name: unit_current_texts
-- The current title and body of units (a plan's revised and retired codes).
SELECT u.code, u.label, v.title, v.body
  FROM @schema@.information_unit u
  JOIN @schema@.unit_version v
    ON v.doc_path = u.doc_path AND v.unit_id = u.unit_id AND v.version = u.current_version
 WHERE u.code = ANY (%(codes)s::text[]);

-- name: asof_run_commit
-- The last commit in which a run recorded a document version (NULL: it recorded none).
SELECT max(c.commit_seq) AS commit_seq
  FROM @schema@.iu_document_version d
  JOIN @schema@.iu_commit c ON c.xid = d.xid
 WHERE d.run_id = %(run_id)s::uuid AND c.commit_seq IS NOT NULL

-- name: asof_commit_at
-- The last commit at or before a time, the first run, and the upgrade to schema 15 (the
-- commit of its baseline document versions, NULL when there was nothing to record).
SELECT coalesce((SELECT max(c.commit_seq) FROM @schema@.iu_commit c
                  WHERE c.commit_seq > 0 AND c.committed_at <= %(at)s), 0) AS commit_seq,
       (SELECT min(r.started_at) FROM @schema@.iu_run r) AS first_run_at

-- name: asof_baseline
-- The commit of the document versions migration 0015 recorded (NULL: none were).
SELECT c.commit_seq, c.committed_at
  FROM @schema@.iu_document_version d
  JOIN @schema@.iu_commit c ON c.xid = d.xid
 WHERE d.baseline
 ORDER BY d.doc_version_id
 LIMIT 1

-- name: asof_commit_time
SELECT committed_at FROM @schema@.iu_commit WHERE commit_seq = %(commit_seq)s

-- name: asof_documents
-- Each document's last version committed at or before commit %(commit_seq)s (NULL: every
-- commit), with its effective date; with %(in_force_on)s, the last such version whose
-- effective date is on or before that date instead. ``doc``: a namespace, a path, or a
-- folder the paths start with (NULL: every document).
SELECT DISTINCT ON (d.doc_path)
       d.doc_version_id, d.doc_path, d.namespace, d.state, d.doc_hash, d.size_bytes,
       d.version_ids, d.codes, d.parent_codes, d.baseline, d.run_id, c.commit_seq,
       c.committed_at, e.effective_date, e.source_key, r.status AS run_status
  FROM @schema@.iu_document_version d
  JOIN @schema@.iu_commit c ON c.xid = d.xid
  LEFT JOIN @schema@.iu_document_effective e ON e.doc_version_id = d.doc_version_id
  LEFT JOIN @schema@.iu_run r ON r.run_id = d.run_id
 WHERE c.commit_seq IS NOT NULL
   AND (%(commit_seq)s::bigint IS NULL OR c.commit_seq <= %(commit_seq)s::bigint)
   AND (%(in_force_on)s::date IS NULL OR e.effective_date <= %(in_force_on)s::date)
   AND (%(doc)s::text IS NULL OR d.namespace = %(doc)s OR d.doc_path = %(doc)s
        OR starts_with(d.doc_path, rtrim(%(doc)s, '/') || '/'))
 ORDER BY d.doc_path, d.doc_version_id DESC

-- name: asof_version_rows
-- Unit versions by id, in the order given (a document version's text).
SELECT x.n, v.version_id, v.unit_id, v.version, v.title, v.raw_heading, v.body,
       v.content_hash, v.line_start, v.line_end, v.run_id, v.created_at,
       u.kind, u.label, u.ordinal, u.depth, u.code AS code_now, u.created_at AS unit_created_at
  FROM unnest(%(ids)s::bigint[]) WITH ORDINALITY AS x(id, n)
  JOIN @schema@.unit_version v ON v.version_id = x.id
  JOIN @schema@.information_unit u ON u.unit_id = v.unit_id
 ORDER BY x.n

-- name: asof_unit_of_code
-- The unit that holds or held a code (a code is never handed to another unit: 0011).
SELECT u.unit_id, u.code AS code_now, u.doc_path
  FROM @schema@.information_unit u
 WHERE u.unit_id = coalesce(
         (SELECT x.unit_id FROM @schema@.information_unit x WHERE x.code = %(code)s),
         (SELECT l.unit_id FROM @schema@.iu_lifecycle_log l WHERE l.code = %(code)s LIMIT 1))

-- name: asof_cited_by
-- Units whose version in their document's state at commit %(commit_seq)s cites a code.
SELECT d.codes[pg_catalog.array_position(d.version_ids, v.version_id)] AS source,
       r.version, r.ordinal, r.char_start, r.char_end, r.text, r.target_code, r.act,
       r.relative, 'active' AS target_state
  FROM @schema@.unit_reference r
  JOIN @schema@.unit_version v ON v.unit_id = r.unit_id AND v.version = r.version
  CROSS JOIN LATERAL (
      SELECT x.version_ids, x.codes
        FROM @schema@.iu_document_version x
        JOIN @schema@.iu_commit c ON c.xid = x.xid
       WHERE x.doc_path = v.doc_path AND c.commit_seq <= %(commit_seq)s
       ORDER BY x.doc_version_id DESC
       LIMIT 1) d
 WHERE r.target_code = %(code)s AND v.version_id = ANY (d.version_ids)
 ORDER BY 1, r.ordinal

-- name: set_effective_date
SELECT @schema@.fn_iu_set_effective_date(%(run_id)s, %(doc_path)s, %(date)s::date, %(key)s) AS set
-- name: proof_timeouts
-- The proof's lock and statement timeouts, for its transaction only.
SELECT pg_catalog.set_config('lock_timeout', %(lock_timeout)s, true),
       pg_catalog.set_config('statement_timeout', %(statement_timeout)s, true)

-- name: constraints_immediate
-- Check the deferred constraints named (those deferrable_constraints lists, quoted by
-- quote_ident) now, inside the transaction: the proof rolls back, so they would
-- otherwise never be checked.
SET CONSTRAINTS @constraints@ IMMEDIATE

-- name: run_actor
SELECT actor FROM @schema@.iu_run WHERE run_id = %(run_id)s

-- name: server_version
SHOW server_version

-- name: database_exists
SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_database WHERE datname = %(name)s)

-- name: database_create
CREATE DATABASE @database@

-- name: database_drop
DROP DATABASE IF EXISTS @database@ WITH (FORCE)

-- name: schema_definitions
-- Every definition of the schema as a fresh migration leaves it, one row per object, in
-- a fixed order (section, then name): types, sequences, tables with their columns,
-- constraints, indexes, functions, triggers, owners and grants. Read from the catalog
-- (pg_get_*def), so it needs no pg_dump; `make schema` writes it to iucut/sql/schema.sql.
WITH ns AS (
    SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = '@schema@'
), rel AS (
    SELECT c.oid, c.relname, c.relkind, c.relowner, c.relacl
      FROM pg_catalog.pg_class c
     WHERE c.relnamespace = (SELECT oid FROM ns) AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
), fn AS (
    SELECT p.oid, p.proname, p.proowner, p.proacl,
           p.proname || '(' || pg_catalog.oidvectortypes(p.proargtypes) || ')' AS identity
      FROM pg_catalog.pg_proc p
     WHERE p.pronamespace = (SELECT oid FROM ns)
), defs AS (
    SELECT 1 AS section, t.typname::text AS name,
           'CREATE TYPE @schema@.' || pg_catalog.quote_ident(t.typname) || ' AS (' || E'\n'
           || (SELECT string_agg('    ' || pg_catalog.quote_ident(a.attname) || ' '
                                 || pg_catalog.format_type(a.atttypid, a.atttypmod),
                                 E',\n' ORDER BY a.attnum)
                 FROM pg_catalog.pg_attribute a
                WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped)
           || E'\n);' AS definition
      FROM pg_catalog.pg_type t
      JOIN pg_catalog.pg_class c ON c.oid = t.typrelid AND c.relkind = 'c'
     WHERE t.typnamespace = (SELECT oid FROM ns)
    UNION ALL
    SELECT 2, r.relname::text,
           'CREATE SEQUENCE @schema@.' || pg_catalog.quote_ident(r.relname) || ';'
      FROM rel r
     WHERE r.relkind = 'S'
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                        WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = r.oid
                          AND d.deptype IN ('a', 'i'))
    UNION ALL
    SELECT 3, r.relname::text,
           'CREATE TABLE @schema@.' || pg_catalog.quote_ident(r.relname) || ' (' || E'\n'
           || coalesce((
               SELECT string_agg(
                   '    ' || pg_catalog.quote_ident(a.attname) || ' '
                   || pg_catalog.format_type(a.atttypid, a.atttypmod)
                   || CASE a.attidentity WHEN 'a' THEN ' GENERATED ALWAYS AS IDENTITY'
                                         WHEN 'd' THEN ' GENERATED BY DEFAULT AS IDENTITY'
                                         ELSE '' END
                   || CASE WHEN a.attgenerated = 's'
                           THEN ' GENERATED ALWAYS AS (' || pg_catalog.pg_get_expr(d.adbin, d.adrelid) || ') STORED'
                           WHEN d.adbin IS NOT NULL
                           THEN ' DEFAULT ' || pg_catalog.pg_get_expr(d.adbin, d.adrelid)
                           ELSE '' END
                   || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END,
                   E',\n' ORDER BY a.attnum)
                 FROM pg_catalog.pg_attribute a
                 LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped), '')
           || E'\n);'
      FROM rel r
     WHERE r.relkind IN ('r', 'p')
    UNION ALL
    SELECT 4, r.relname || ' ' || pg_catalog.pg_get_viewdef(r.oid, true),
           'CREATE VIEW @schema@.' || pg_catalog.quote_ident(r.relname) || ' AS' || E'\n'
           || pg_catalog.pg_get_viewdef(r.oid, true)
      FROM rel r
     WHERE r.relkind IN ('v', 'm')
    UNION ALL
    SELECT 5, r.relname || ' ' || con.conname,
           'ALTER TABLE @schema@.' || pg_catalog.quote_ident(r.relname) || ' ADD CONSTRAINT '
           || pg_catalog.quote_ident(con.conname) || ' '
           || pg_catalog.pg_get_constraintdef(con.oid, true) || ';'
      FROM pg_catalog.pg_constraint con
      JOIN rel r ON r.oid = con.conrelid
     -- constraint triggers are listed with the triggers; NOT NULL with the columns (16
     -- and later list them as constraints too)
     WHERE con.contype NOT IN ('t', 'n')
    UNION ALL
    SELECT 6, i.relname::text, pg_catalog.pg_get_indexdef(i.oid) || ';'
      FROM pg_catalog.pg_index x
      JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
      JOIN rel r ON r.oid = x.indrelid
     WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint con WHERE con.conindid = i.oid
                                                                  AND con.conrelid = r.oid)
    UNION ALL
    SELECT 7, f.identity, rtrim(pg_catalog.pg_get_functiondef(f.oid), E'\n') || ';'
      FROM fn f
    UNION ALL
    SELECT 8, r.relname || ' ' || t.tgname,
           pg_catalog.pg_get_triggerdef(t.oid, true) || ';'
      FROM pg_catalog.pg_trigger t
      JOIN rel r ON r.oid = t.tgrelid
     WHERE NOT t.tgisinternal
    UNION ALL
    SELECT 9, 'relation ' || r.relname,
           'ALTER ' || CASE r.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                                     WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END
           || ' @schema@.' || pg_catalog.quote_ident(r.relname) || ' OWNER TO '
           || pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(r.relowner)) || ';'
      FROM rel r
    UNION ALL
    SELECT 9, 'routine ' || f.identity,
           'ALTER ROUTINE @schema@.' || f.identity || ' OWNER TO '
           || pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(f.proowner)) || ';'
      FROM fn f
    UNION ALL
    SELECT 10, 'relation ' || r.relname || ' ' || g.grantee || ' ' || g.privilege_type,
           'GRANT ' || g.privilege_type || ' ON '
           || CASE r.relkind WHEN 'S' THEN 'SEQUENCE ' ELSE 'TABLE ' END
           || '@schema@.' || pg_catalog.quote_ident(r.relname) || ' TO ' || g.grantee || ';'
      FROM rel r,
           LATERAL (SELECT CASE e.grantee WHEN 0 THEN 'PUBLIC'
                           ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(e.grantee)) END
                           AS grantee, e.privilege_type
                      FROM pg_catalog.aclexplode(r.relacl) e
                     WHERE e.grantee <> r.relowner) g
    UNION ALL
    SELECT 10, 'routine ' || f.identity || ' ' || g.grantee,
           'GRANT EXECUTE ON ROUTINE @schema@.' || f.identity || ' TO ' || g.grantee || ';'
      FROM fn f,
           LATERAL (SELECT CASE e.grantee WHEN 0 THEN 'PUBLIC'
                           ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(e.grantee)) END
                           AS grantee
                      FROM pg_catalog.aclexplode(coalesce(f.proacl,
                               pg_catalog.acldefault('f', f.proowner))) e
                     WHERE e.grantee <> f.proowner) g
)
SELECT section, name, definition FROM defs ORDER BY section, name COLLATE "C"

-- name: search_configs
-- The text-search configuration of each label profile (0014), and simple for the others.
SELECT c.profile, c.config::text AS config
  FROM @schema@.iu_search_config c
 UNION ALL
SELECT NULL, 'pg_catalog.simple'
 ORDER BY 1 NULLS LAST;

-- name: search_config_set
-- `iucut migrate` with a `search:` mapping in iucut.yaml: a profile's configuration, for
-- versions written from now on (an unknown configuration is an error of the server).
WITH used AS (
    INSERT INTO @schema@.iu_search_config_used (config)
    VALUES (%(config)s::regconfig)
    ON CONFLICT (config) DO NOTHING
)
INSERT INTO @schema@.iu_search_config (profile, config)
VALUES (%(profile)s, %(config)s::regconfig)
ON CONFLICT (profile) DO UPDATE SET config = EXCLUDED.config
 WHERE @schema@.iu_search_config.config IS DISTINCT FROM EXCLUDED.config
RETURNING profile, config::text AS config;

-- name: search_query_words
-- Whether the query yields lexemes under at least one configuration in use.
SELECT coalesce(bool_or(pg_catalog.numnode(pg_catalog.websearch_to_tsquery(c.config,
                                                                         %(text)s)) > 0),
                false) AS has_words
  FROM @schema@.iu_search_config_used AS c;

-- name: units_search_ranked
-- Full-text search over the current versions of active units: the query is parsed once
-- per configuration in use (websearch syntax: words, "phrases", or, -not) and each version
-- is matched with its own configuration through the GIN index; ranked by ts_rank_cd
-- (title words weigh more), with a snippet of the body, matches marked **like this**.
WITH q AS (
    SELECT c.config, pg_catalog.websearch_to_tsquery(c.config, %(text)s) AS query
      FROM @schema@.iu_search_config_used AS c
), hits AS (
    SELECT u.code, u.namespace, u.doc_path, u.kind, u.label, u.position,
           u.current_version AS version, v.title, v.body, q.config, q.query,
           pg_catalog.ts_rank_cd(v.search_vector, q.query, 1) AS rank
      FROM q
      JOIN @schema@.unit_version v
        ON v.search_vector OPERATOR(pg_catalog.@@) q.query AND v.search_config = q.config
      JOIN @schema@.information_unit u
        ON u.doc_path = v.doc_path AND u.unit_id = v.unit_id
       AND u.current_version = v.version AND u.state = 'active'
     WHERE pg_catalog.numnode(q.query) > 0
       AND (%(namespace)s::text IS NULL OR u.namespace = %(namespace)s::text)
       AND (%(kind)s::text IS NULL OR u.kind = %(kind)s::text)
     ORDER BY rank DESC, u.code
     LIMIT %(limit)s
)
SELECT code, namespace, doc_path, kind, label, version, title,
       pg_catalog.round(rank::numeric, 6)::float8 AS rank,
       pg_catalog.ts_headline(config, CASE WHEN pg_catalog.btrim(body, E' \t\r\n') = '' THEN title
                                           ELSE body END, query,
                              'StartSel=**, StopSel=**, MaxWords=30, MinWords=12, '
                              'MaxFragments=2, FragmentDelimiter=" … "') AS snippet
  FROM hits
 ORDER BY rank DESC, code;

-- name: units_search_at
-- units_search_ranked at a point in time (iucut.asof): the unit versions each document
-- held in its last version committed at or before commit %(commit_seq)s (NULL: every
-- commit), or, with %(in_force_on)s, in its last version in force on that date; the codes
-- are those the units had then. Retired documents hold no units.
WITH q AS (
    SELECT c.config, pg_catalog.websearch_to_tsquery(c.config, %(text)s) AS query
      FROM @schema@.iu_search_config_used AS c
), docs AS (
    SELECT DISTINCT ON (d.doc_path) d.doc_path, d.namespace, d.state, d.version_ids, d.codes
      FROM @schema@.iu_document_version d
      JOIN @schema@.iu_commit c ON c.xid = d.xid
      LEFT JOIN @schema@.iu_document_effective e ON e.doc_version_id = d.doc_version_id
     WHERE c.commit_seq IS NOT NULL
       AND (%(commit_seq)s::bigint IS NULL OR c.commit_seq <= %(commit_seq)s::bigint)
       AND (%(in_force_on)s::date IS NULL OR e.effective_date <= %(in_force_on)s::date)
       AND (%(namespace)s::text IS NULL OR d.namespace = %(namespace)s::text)
     ORDER BY d.doc_path, d.doc_version_id DESC
), held AS (
    SELECT docs.namespace, docs.doc_path, x.id AS version_id, docs.codes[x.n] AS code
      FROM docs
     CROSS JOIN LATERAL unnest(docs.version_ids) WITH ORDINALITY AS x(id, n)
     WHERE docs.state = 'active'
), hits AS (
    SELECT h.code, h.namespace, h.doc_path, u.kind, u.label, v.version, v.title, v.body,
           q.config, q.query,
           pg_catalog.ts_rank_cd(v.search_vector, q.query, 1) AS rank
      FROM held h
      JOIN @schema@.unit_version v ON v.version_id = h.version_id
      JOIN q ON v.search_config = q.config
            AND v.search_vector OPERATOR(pg_catalog.@@) q.query
      JOIN @schema@.information_unit u ON u.unit_id = v.unit_id
     WHERE pg_catalog.numnode(q.query) > 0
       AND (%(kind)s::text IS NULL OR u.kind = %(kind)s::text)
     ORDER BY rank DESC, h.code
     LIMIT %(limit)s
)
SELECT code, namespace, doc_path, kind, label, version, title,
       pg_catalog.round(rank::numeric, 6)::float8 AS rank,
       pg_catalog.ts_headline(config, CASE WHEN pg_catalog.btrim(body, E' \t\r\n') = '' THEN title
                                           ELSE body END, query,
                              'StartSel=**, StopSel=**, MaxWords=30, MinWords=12, '
                              'MaxFragments=2, FragmentDelimiter=" … "') AS snippet
  FROM hits
 ORDER BY rank DESC, code;
