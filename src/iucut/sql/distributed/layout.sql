-- The distributed layout of an iucut schema on a Citus coordinator (`iucut migrate
-- --distributed`, iucut.distributed), after every migration has run. Named sections, run
-- by the runner in one transaction with search_path = pg_catalog, pg_temp; @schema@ is
-- replaced by the validated schema name. See docs/distributed.md for the design.
--
-- The document key is doc_path: the tables of units, versions, lifecycle events,
-- references and documents are hash-distributed by it and co-located, so that every row
-- of one document lives in one shard group, on one worker. The run, control and feed
-- tables are reference tables (a copy on every node). Every primary and unique key gets
-- doc_path in front; foreign keys between the distributed tables carry it too.

-- name: citus_version
SELECT (SELECT e.extversion FROM pg_catalog.pg_extension e WHERE e.extname = 'citus')
       AS version;

-- name: citus_role
-- Whether this node is the coordinator (the only node that may change the layout), and
-- how many worker nodes it has.
SELECT pg_catalog.citus_is_coordinator() AS coordinator,
       (SELECT count(*) FROM pg_catalog.pg_dist_node n
         WHERE n.noderole = 'primary' AND n.isactive AND n.groupid <> 0)::integer AS workers;

-- name: layout_state
-- How the iucut tables of the schema are laid out now: 'local', 'distributed' (with the
-- distribution column) or 'reference'.
SELECT c.relname AS table_name,
       CASE WHEN p.logicalrelid IS NULL THEN 'local'
            WHEN p.partmethod = 'h' THEN 'distributed'
            WHEN p.partmethod = 'n' AND p.repmodel = 't' THEN 'reference'
            ELSE 'other' END AS layout,
       CASE WHEN p.partmethod = 'h'
            THEN pg_catalog.column_to_column_name(p.logicalrelid, p.partkey) END AS column_name,
       p.colocationid AS colocation
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_catalog.pg_dist_partition p ON p.logicalrelid = c.oid
 WHERE n.nspname = %(schema)s AND c.relkind = 'r'
 ORDER BY c.relname;

-- name: settings
-- Triggers on distributed tables (the append-only and check triggers) must be allowed
-- explicitly; the layout runs in one transaction, its DDL too.
SELECT pg_catalog.set_config('citus.enable_unsafe_triggers', 'on', true),
       pg_catalog.set_config('citus.multi_shard_modify_mode', 'sequential', true);

-- name: layout_functions
-- 1. The functions of the layout (run before the tables are distributed, and again after
--    every later migration of a distributed schema). The log and the references get a
--    doc_path column (layout_tables); a new row takes it from the document the writing
--    function locked (fn_iu_doc_key).
CREATE OR REPLACE FUNCTION @schema@.fn_iu_doc_key() RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_key text := pg_catalog.current_setting('iucut.doc_path', true);
BEGIN
    IF v_key IS NULL OR v_key = '' THEN
        RAISE EXCEPTION 'iucut: a row without its document (the schema is distributed by document)'
            USING ERRCODE = 'IUC01',
                  HINT = 'write through the iucut functions: they lock the document first';
    END IF;
    RETURN v_key;
END
$$;
REVOKE EXECUTE ON FUNCTION @schema@.fn_iu_doc_key() FROM PUBLIC;

-- Every write function locks its document before it writes (fn_iu_lock_document): the
-- lock now also names the document whose rows the transaction writes next.
CREATE OR REPLACE FUNCTION @schema@.fn_iu_lock_document(p_doc_path text) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT pg_catalog.set_config('iucut.doc_path', p_doc_path, true);
    SELECT pg_catalog.pg_advisory_xact_lock(
        pg_catalog.hashtextextended('iucut:@schema@:' || p_doc_path, 0));
$$;


-- The check of a document after a write of its row (0004's trigger function) reads its
-- own document only: every read names doc_path, so it runs on the shard group that
-- holds the document.
-- citus: 0021's receipt is not carried (here and in fn_iu_record_document_version and
-- fn_iu_apply_document below): the trigger runs on the worker, in the worker's
-- transaction, whose id is not the coordinator's that the receipt would be compared with
-- (see fn_iu_set_effective_date); every write of a document row is checked and recorded
-- in full, as before 0021.
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
    -- (The namespace check of 0004, that no other active document claims this one's
    -- namespace, reads every document: a trigger on a shard reads its own shard group
    -- only. On the distributed layout fn_iu_apply_document's own check of codes held by
    -- other documents and the planner's stand in for it; docs/distributed.md.)

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
                 WHERE v.doc_path = v_doc AND v.unit_id = u.unit_id
                   AND v.version = u.current_version LIMIT 1) v
            ON true
          LEFT JOIN LATERAL (
                SELECT p.doc_path, p.state, p.position FROM @schema@.information_unit p
                 WHERE p.doc_path = v_doc AND p.code = u.parent_code LIMIT 1) p
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
                                                || ', which is no unit of the document'
                    WHEN p.doc_path <> v_doc THEN 'has the parent ' || p.code
                                                  || ' of another document'
                    WHEN p.state <> 'active' THEN 'has the retired parent ' || p.code
                    ELSE 'has the parent ' || p.code || ', which does not come before it' END
          INTO v_detail
          FROM @schema@.information_unit u
          LEFT JOIN @schema@.information_unit p
            ON p.doc_path = v_doc AND p.code = u.parent_code
         WHERE u.doc_path = v_doc AND u.code = v_orphan;
        -- name a cycle as a cycle
        IF v_detail LIKE '%does not come before it' AND EXISTS (
            WITH RECURSIVE up(code, steps) AS (
                SELECT u.parent_code, 1 FROM @schema@.information_unit u
                 WHERE u.doc_path = v_doc AND u.code = v_orphan
                UNION ALL
                SELECT u.parent_code, up.steps + 1 FROM up
                  JOIN @schema@.information_unit u ON u.doc_path = v_doc AND u.code = up.code
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

-- The record of a document version (0015's trigger function on iu_document) reads its
-- own document only, every read naming doc_path (the version join too), so it runs on
-- the shard group of the document. citus: no receipt of 0021 (see fn_iu_check_document):
-- every write of a row is recorded here. It registers no commit number: a trigger on a shard
-- cannot write the reference table iu_commit, and there is no cluster-wide commit order
-- (as for the feed, below): point-in-time reads by commit are single-node only.
CREATE OR REPLACE FUNCTION @schema@.fn_iu_record_document_version() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    v_ids bigint[];
    v_codes text[];
    v_parents text[];
    v_last record;
BEGIN
    SELECT coalesce(array_agg(v.version_id ORDER BY u.position), '{}'),
           coalesce(array_agg(u.code ORDER BY u.position), '{}'),
           coalesce(array_agg(u.parent_code ORDER BY u.position), '{}')
      INTO v_ids, v_codes, v_parents
      FROM @schema@.information_unit u
      JOIN @schema@.unit_version v
        ON v.doc_path = NEW.doc_path AND v.unit_id = u.unit_id
       AND v.version = u.current_version
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
    RETURN NULL;
END
$$;
REVOKE EXECUTE ON FUNCTION @schema@.fn_iu_record_document_version() FROM PUBLIC;

-- The effective date of a document version (0015): its key is (doc_path, doc_version_id)
-- on the distributed layout (layout_tables), the conflict target too; doc_path of the
-- new row comes from the document lock (fn_iu_doc_key).
CREATE OR REPLACE FUNCTION @schema@.fn_iu_set_effective_date(p_run uuid, p_doc_path text,
                                                             p_date date, p_key text)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    v_id bigint;
BEGIN
    PERFORM @schema@.fn_iu_check_run(p_run);
    IF p_doc_path IS NULL OR p_date IS NULL OR p_key IS NULL OR p_key = '' THEN
        RAISE EXCEPTION 'iucut: an effective date needs doc_path, date and key'
            USING ERRCODE = 'IUC01';
    END IF;
    PERFORM @schema@.fn_iu_lock_document(p_doc_path);
    -- the version this transaction recorded: on the cluster the document version's xid
    -- is the worker's, not this node's; a document is written in one transaction per
    -- run (under its lock), so its latest version of this run is this transaction's
    SELECT d.doc_version_id INTO v_id
      FROM @schema@.iu_document_version d
     WHERE d.doc_path = p_doc_path AND d.run_id = p_run
     ORDER BY d.doc_version_id DESC
     LIMIT 1;
    IF v_id IS NULL THEN
        RETURN false;
    END IF;
    INSERT INTO @schema@.iu_document_effective
        (doc_path, doc_version_id, effective_date, source_key, run_id)
    VALUES (p_doc_path, v_id, p_date, p_key, p_run)
    ON CONFLICT (doc_path, doc_version_id) DO NOTHING;
    RETURN true;
END
$$;
REVOKE EXECUTE ON FUNCTION @schema@.fn_iu_set_effective_date(uuid, text, date, text)
    FROM PUBLIC;

-- The write of one document (0016's fn_iu_apply_document, the typed-array form, as 0017
-- leaves it; citus: without 0021's check of a new document from its ops and its
-- receipt, see fn_iu_check_document above: the row's triggers check it) for the
-- distributed layout. Same arguments, same checks, same refusals and counts; what
-- differs is marked "citus:". Every statement that reads or writes a distributed table
-- either names the document (doc_path = v_doc_path: Citus routes it to the one worker
-- that holds the document, whatever its shape) or is one of the two checks across
-- documents (a code held by another document, a code in the log), which fan out as a
-- plain filter on code with no join to the ops. The ops are joined with the rows read
-- on the coordinator (no distributed table in those statements), so Citus plans no
-- LATERAL ... LIMIT over unnest() and no join on unit_id across shards. The rows are
-- sent as base-type arrays (the iu_op type is used on the coordinator only). citus: the
-- versions come without a search configuration (the shard trigger gives each one that of
-- iucut.profile, set below: a regconfig is an OID, another on each node), and a new
-- document's codes go through the checks below (each already one statement by code),
-- not 0016's one probe. When a migration changes the single-node body, carry its change
-- over here.
CREATE OR REPLACE FUNCTION @schema@.fn_iu_apply_document(p_run uuid, p_document jsonb, p_op text[], p_code text[], p_expect_version integer[], p_namespace text[], p_parent_code text[], p_kind text[], p_label text[], p_ordinal integer[], p_depth integer[], p_position integer[], p_title text[], p_body text[], p_raw_heading text[], p_content_hash text[], p_line_start integer[], p_line_end integer[], p_byte_start bigint[], p_byte_end bigint[], p_refs jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
 SET plan_cache_mode TO 'auto'
 SET jit TO 'off'
AS $function$
DECLARE
    v_doc_path text := p_document ->> 'doc_path';
    v_ops @schema@.iu_op[];
    v_n integer;
    v_retire text[];
    v_create text[];
    v_n_create integer;
    v_n_update integer;
    v_bad text;
    v_detail text;
    v_doc_hash text;
    v_created integer := 0;
    v_revised integer := 0;
    v_moved integer := 0;
    v_retired integer := 0;
    v_restored integer := 0;
    v_placed integer := 0;
    v_profile text;
    v_claims text[];
    v_mine integer;
    -- citus: the document's units that the ops name, read once from its worker
    c_code text[];
    c_id bigint[];
    c_version integer[];
    c_hash text[];
    c_parent text[];
    c_state text[];
    c_ordinal integer[];
    c_depth integer[];
    c_position integer[];
    c_kind text[];
    c_label text[];
    c_namespace text[];
    -- citus: rows written here (retired or created units), for their log rows and versions
    r_id bigint[];
    r_code text[];
    r_version integer[];
    -- citus: the units an update changes (w_), their new versions (n_), their events (l_)
    w_id bigint[];
    w_version integer[];
    w_touch boolean[];
    w_hash text[];
    w_parent text[];
    w_kind text[];
    w_label text[];
    w_ordinal integer[];
    w_depth integer[];
    w_position integer[];
    w_namespace text[];
    n_id bigint[];
    n_code text[];
    n_version integer[];
    l_id bigint[];
    l_code text[];
    l_event text[];
    l_from integer[];
    l_to integer[];
    l_detail jsonb[];
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
    -- The search profile of the versions written below (0016): the one the document
    -- names, else the one stored; iucut.profile names it for this call. citus: the
    -- search configuration is chosen by the trigger on the worker's shard, from
    -- iucut.profile. A set_config on the coordinator stays there; Citus sends a SET LOCAL
    -- to the nodes of the transaction, but from a function called by a statement of its
    -- own (a new document's write, autocommit) only inside a DO block (a SET LOCAL run
    -- directly here is not sent: the versions were indexed as simple).
    PERFORM pg_catalog.set_config('citus.propagate_set_commands', 'local', true);
    EXECUTE pg_catalog.format('DO $set$BEGIN SET LOCAL iucut.profile = %L; END$set$',
                              coalesce(CASE WHEN p_document ? 'profile'
                                            THEN p_document ->> 'profile'
                                            ELSE v_profile END, ''));

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
           array_agg(o.code) FILTER (WHERE o.op = 'create'),
           count(*) FILTER (WHERE o.op = 'create'),
           count(*) FILTER (WHERE o.op = 'update')
      INTO v_retire, v_create, v_n_create, v_n_update
      FROM unnest(v_ops) o;

    -- citus: the namespaces of the codes this document creates are its own, claimed in
    -- the reference table iu_namespace_claim (layout_claims) before the check of codes
    -- held by other documents: two documents writing one namespace at once cannot both
    -- pass (on one server the unique index on code decides that race). A namespace this
    -- document holds already costs one read of the node's copy; a new one is a write on
    -- every node (two-phase commit), which waits for a claim of it in flight elsewhere.
    IF v_n_create > 0 THEN
        v_claims := ARRAY(SELECT DISTINCT pg_catalog.split_part(c, '/', 1)
                            FROM unnest(v_create || (p_document ->> 'namespace')) AS c
                           ORDER BY 1);
        EXECUTE $q$
            SELECT count(*)::integer FROM @schema@.iu_namespace_claim c
             WHERE c.namespace = ANY ($1) AND c.doc_path = $2$q$
           INTO v_mine USING v_claims, v_doc_path;
        IF v_mine < pg_catalog.cardinality(v_claims) THEN
            EXECUTE $q$
                INSERT INTO @schema@.iu_namespace_claim (namespace, doc_path)
                SELECT n.n, $2 FROM unnest($1) AS n(n) ORDER BY n.n
                ON CONFLICT (namespace) DO NOTHING$q$
              USING v_claims, v_doc_path;
            EXECUTE $q$
                SELECT c.namespace, c.doc_path FROM @schema@.iu_namespace_claim c
                 WHERE c.namespace = ANY ($1) AND c.doc_path <> $2
                 ORDER BY c.namespace LIMIT 1$q$
               INTO v_bad, v_detail USING v_claims, v_doc_path;
            IF v_bad IS NOT NULL THEN
                RAISE EXCEPTION 'iucut: namespace % already belongs to document %', v_bad,
                    v_detail
                    USING ERRCODE = 'IUC01', HINT = 'give the document its own namespace';
            END IF;
        END IF;
    END IF;
    -- A code belongs to one document. citus: a filter on code (each shard probes its code
    -- index; fans out to every shard), never a join with the ops.
    v_bad := NULL;
    EXECUTE $q$
        SELECT u.code, u.doc_path FROM @schema@.information_unit u
         WHERE u.code = ANY ($1) AND u.doc_path <> $2
         LIMIT 1$q$
       INTO v_bad, v_detail USING p_code, v_doc_path;
    IF v_bad IS NOT NULL THEN
        RAISE EXCEPTION 'iucut: code % already belongs to document %', v_bad, v_detail
            USING ERRCODE = 'IUC01', HINT = 'give the document its own namespace';
    END IF;
    -- citus: the document's units the ops name, read once on its worker; the unit
    -- preconditions (compare-and-swap on the expected version) are checked against them
    -- here (a code of another document is refused just above).
    EXECUTE $q$
        SELECT array_agg(u.code), array_agg(u.unit_id), array_agg(u.current_version),
               array_agg(u.content_hash), array_agg(u.parent_code), array_agg(u.state),
               array_agg(u.ordinal), array_agg(u.depth), array_agg(u.position),
               array_agg(u.kind), array_agg(u.label), array_agg(u.namespace)
          FROM @schema@.information_unit u
         WHERE u.doc_path = $1 AND u.code = ANY ($2)$q$
       INTO c_code, c_id, c_version, c_hash, c_parent, c_state, c_ordinal, c_depth,
            c_position, c_kind, c_label, c_namespace
      USING v_doc_path, p_code;
    SELECT o.code INTO v_bad
      FROM unnest(v_ops) o
      LEFT JOIN unnest(c_code, c_id, c_version) AS u(code, unit_id, current_version)
        ON u.code = o.code
     WHERE (o.op = 'create' AND u.unit_id IS NOT NULL)
        OR (o.op <> 'create' AND (u.unit_id IS NULL
            OR u.current_version IS DISTINCT FROM o.expect_version))
     LIMIT 1;
    IF v_bad IS NOT NULL THEN
        RAISE EXCEPTION 'iucut: unit % changed since the plan', v_bad
            USING ERRCODE = 'IUS01', HINT = 'the plan is stale: plan again';
    END IF;

    -- A code once held is never handed to another unit (0011). citus: the log by code
    -- (fans out), then the unit that holds that history now, by its document and id.
    IF v_n_create > 0 THEN
        EXECUTE $q$
            SELECT l.code, u.code
              FROM @schema@.iu_lifecycle_log l
              LEFT JOIN @schema@.information_unit u
                ON u.doc_path = l.doc_path AND u.unit_id = l.unit_id
             WHERE l.code = ANY ($1)
             LIMIT 1$q$
           INTO v_bad, v_detail USING v_create;
        IF v_bad IS NOT NULL THEN
            RAISE EXCEPTION 'iucut: code % was held by another unit, now %: a new unit cannot take it',
                v_bad, v_detail
                USING ERRCODE = 'IUC08',
                      HINT = pg_catalog.format('code %s: its history belongs to the unit now '
                                               'at %s; give the new unit another code (another '
                                               'label or title)', v_bad, v_detail);
        END IF;
    END IF;

    -- Retire: the document's units with these codes. citus: the update on its worker,
    -- then its log rows from what it returned.
    IF v_retire IS NOT NULL THEN
        EXECUTE $q$
            WITH r AS (
                UPDATE @schema@.information_unit u
                   SET state = 'retired', updated_run = $1, updated_at = $4
                 WHERE u.doc_path = $2 AND u.code = ANY ($3) AND u.state = 'active'
                RETURNING u.unit_id, u.code, u.current_version
            )
            SELECT array_agg(r.unit_id), array_agg(r.code), array_agg(r.current_version)
              FROM r$q$
           INTO r_id, r_code, r_version USING p_run, v_doc_path, v_retire, pg_catalog.now();
        v_retired := coalesce(pg_catalog.cardinality(r_id), 0);
        IF v_retired > 0 THEN
            EXECUTE $q$
                INSERT INTO @schema@.iu_lifecycle_log
                    (doc_path, unit_id, code, event, from_version, to_version, run_id)
                SELECT $2, r.unit_id, r.code, 'retired', r.v, r.v, $1
                  FROM unnest($3, $4, $5) AS r(unit_id, code, v)$q$
              USING p_run, v_doc_path, r_id, r_code, r_version;
        END IF;
    END IF;

    -- Create: rows from the op arrays only. citus: the units, then their ids read back
    -- by (doc_path, code), then their versions and log rows.
    IF v_n_create > 0 THEN
        EXECUTE $q$
            INSERT INTO @schema@.information_unit
                (code, namespace, doc_path, parent_code, kind, label, ordinal, depth,
                 position, current_version, content_hash, created_run, updated_run)
            SELECT o.code, o.namespace, $2, o.parent_code, o.kind, o.label, o.ordinal,
                   o.depth, o.position, 1, o.content_hash, $1, $1
              FROM unnest($3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                   AS o(op, code, namespace, parent_code, kind, label, ordinal, depth,
                        position, content_hash)
             WHERE o.op = 'create'$q$
          USING p_run, v_doc_path, p_op, p_code, p_namespace, p_parent_code, p_kind, p_label,
                p_ordinal, p_depth, p_position, p_content_hash;
        GET DIAGNOSTICS v_created = ROW_COUNT;
        EXECUTE $q$
            SELECT array_agg(u.unit_id), array_agg(u.code) FROM @schema@.information_unit u
             WHERE u.doc_path = $1 AND u.code = ANY ($2)$q$
           INTO r_id, r_code USING v_doc_path, v_create;
        EXECUTE $q$
            INSERT INTO @schema@.unit_version
                (unit_id, version, title, body, raw_heading, content_hash, doc_path,
                 line_start, line_end, byte_start, byte_end, run_id)
            SELECT i.unit_id, 1, o.title, o.body, o.raw_heading, o.content_hash, $2,
                   o.line_start, o.line_end, o.byte_start, o.byte_end, $1
              FROM unnest($3, $4) AS i(unit_id, code)
              JOIN unnest($5, $6, $7, $8, $9, $10, $11, $12, $13)
                   AS o(code, title, body, raw_heading, content_hash, line_start, line_end,
                        byte_start, byte_end)
                ON o.code = i.code$q$
          USING p_run, v_doc_path, r_id, r_code, p_code, p_title, p_body, p_raw_heading,
                p_content_hash, p_line_start, p_line_end, p_byte_start, p_byte_end;
        EXECUTE $q$
            INSERT INTO @schema@.iu_lifecycle_log
                (doc_path, unit_id, code, event, from_version, to_version, run_id)
            SELECT $2, i.unit_id, i.code, 'created', NULL, 1, $1
              FROM unnest($3, $4) AS i(unit_id, code)$q$
          USING p_run, v_doc_path, r_id, r_code;
    END IF;

    -- Update: content → version (revised, or restored when it was retired);
    -- parent → moved; placement → silent. citus: what changes is worked out here from
    -- the units read above (no table), then written on the document's worker.
    IF v_n_update > 0 THEN
        WITH cur AS MATERIALIZED (
            SELECT u.unit_id, u.current_version AS old_version, u.parent_code AS old_parent,
                   (u.content_hash <> o.content_hash) AS new_content,
                   (u.parent_code IS DISTINCT FROM o.parent_code) AS new_parent,
                   (u.state = 'retired') AS comes_back,
                   (u.ordinal, u.depth, u.position, u.kind, u.label, u.namespace)
                       IS DISTINCT FROM (o.ordinal, o.depth, o.position, o.kind, o.label,
                                         o.namespace) AS new_place,
                   o.code, o.content_hash, o.parent_code, o.kind, o.label, o.ordinal, o.depth,
                   o.position, o.namespace
              FROM unnest(v_ops) o
              JOIN unnest(c_code, c_id, c_version, c_hash, c_parent, c_state, c_ordinal,
                          c_depth, c_position, c_kind, c_label, c_namespace)
                   AS u(code, unit_id, current_version, content_hash, parent_code, state,
                        ordinal, depth, position, kind, label, namespace)
                ON u.code = o.code
             WHERE o.op = 'update'
        ), w AS (
            SELECT c.* FROM cur c
             WHERE c.new_content OR c.new_parent OR c.comes_back OR c.new_place
        ), ev AS MATERIALIZED (
            SELECT c.unit_id, c.code, e.event, c.old_version AS from_version,
                   c.old_version + (CASE WHEN c.new_content THEN 1 ELSE 0 END) AS to_version,
                   e.detail
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
        SELECT (SELECT count(*) FROM cur c WHERE c.new_content AND NOT c.comes_back),
               (SELECT count(*) FROM cur c WHERE c.new_parent),
               (SELECT count(*) FROM cur c WHERE c.comes_back),
               (SELECT count(*) FROM cur c WHERE c.new_place AND NOT (c.new_content
                                                 OR c.new_parent OR c.comes_back)),
               (SELECT array_agg(w.unit_id) FROM w),
               (SELECT array_agg(w.old_version + CASE WHEN w.new_content THEN 1 ELSE 0 END)
                  FROM w),
               (SELECT array_agg(w.new_content OR w.new_parent OR w.comes_back) FROM w),
               (SELECT array_agg(w.content_hash) FROM w),
               (SELECT array_agg(w.parent_code) FROM w),
               (SELECT array_agg(w.kind) FROM w),
               (SELECT array_agg(w.label) FROM w),
               (SELECT array_agg(w.ordinal) FROM w),
               (SELECT array_agg(w.depth) FROM w),
               (SELECT array_agg(w.position) FROM w),
               (SELECT array_agg(w.namespace) FROM w),
               -- the new versions: unit, code, version
               (SELECT array_agg(c.unit_id) FROM cur c WHERE c.new_content),
               (SELECT array_agg(c.code) FROM cur c WHERE c.new_content),
               (SELECT array_agg(c.old_version + 1) FROM cur c WHERE c.new_content),
               -- the log rows
               (SELECT array_agg(e.unit_id) FROM ev e), (SELECT array_agg(e.code) FROM ev e),
               (SELECT array_agg(e.event) FROM ev e),
               (SELECT array_agg(e.from_version) FROM ev e),
               (SELECT array_agg(e.to_version) FROM ev e),
               (SELECT array_agg(e.detail) FROM ev e)
          INTO v_revised, v_moved, v_restored, v_placed,
               w_id, w_version, w_touch, w_hash, w_parent, w_kind, w_label, w_ordinal,
               w_depth, w_position, w_namespace, n_id, n_code, n_version, l_id, l_code, l_event,
               l_from, l_to, l_detail;
        IF w_id IS NOT NULL THEN
            EXECUTE $q$
                UPDATE @schema@.information_unit u
                   SET current_version = x.version, content_hash = x.content_hash,
                       parent_code = x.parent_code, kind = x.kind, label = x.label,
                       ordinal = x.ordinal, depth = x.depth, position = x.position,
                       namespace = x.namespace, state = 'active',
                       updated_run = CASE WHEN x.touch THEN $1 ELSE u.updated_run END,
                       updated_at = CASE WHEN x.touch THEN $14 ELSE u.updated_at END
                  FROM unnest($3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                       AS x(unit_id, version, touch, content_hash, parent_code, kind, label,
                            ordinal, depth, position, namespace)
                 WHERE u.doc_path = $2 AND u.unit_id = x.unit_id$q$
              USING p_run, v_doc_path, w_id, w_version, w_touch, w_hash, w_parent, w_kind,
                    w_label, w_ordinal, w_depth, w_position, w_namespace, pg_catalog.now();
        END IF;
        IF n_id IS NOT NULL THEN
            EXECUTE $q$
                INSERT INTO @schema@.unit_version
                    (unit_id, version, title, body, raw_heading, content_hash, doc_path,
                     line_start, line_end, byte_start, byte_end, run_id)
                SELECT i.unit_id, i.version, o.title, o.body, o.raw_heading, o.content_hash,
                       $2, o.line_start, o.line_end, o.byte_start, o.byte_end, $1
                  FROM unnest($3, $4, $5) AS i(unit_id, code, version)
                  JOIN unnest($6, $7, $8, $9, $10, $11, $12, $13, $14)
                       AS o(code, title, body, raw_heading, content_hash, line_start,
                            line_end, byte_start, byte_end)
                    ON o.code = i.code$q$
              USING p_run, v_doc_path, n_id, n_code, n_version, p_code, p_title, p_body,
                    p_raw_heading, p_content_hash, p_line_start, p_line_end, p_byte_start,
                    p_byte_end;
        END IF;
        IF l_id IS NOT NULL THEN
            EXECUTE $q$
                INSERT INTO @schema@.iu_lifecycle_log
                    (doc_path, unit_id, code, event, from_version, to_version, detail, run_id)
                SELECT $2, e.unit_id, e.code, e.event, e.from_version, e.to_version, e.detail,
                       $1
                  FROM unnest($3, $4, $5, $6, $7, $8)
                       AS e(unit_id, code, event, from_version, to_version, detail)$q$
              USING p_run, v_doc_path, l_id, l_code, l_event, l_from, l_to, l_detail;
        END IF;
    END IF;

    -- The document row: its hash lets the next plan skip it unread (the conflict target
    -- is the primary key: no plan to choose). citus: the time is a parameter (Citus takes
    -- no now() in DO UPDATE SET).
    EXECUTE $q$
        INSERT INTO @schema@.iu_document AS d
            (doc_path, namespace, doc_hash, cut_digest, state, unit_count, size_bytes,
             first_run, last_run, profile)
        VALUES ($2, $3 ->> 'namespace', $3 ->> 'doc_hash', $3 ->> 'cut_digest',
                coalesce($3 ->> 'state', 'active'),
                coalesce(($3 ->> 'unit_count')::integer, 0),
                coalesce(($3 ->> 'size_bytes')::bigint, 0), $1, $1, $3 ->> 'profile')
        ON CONFLICT (doc_path) DO UPDATE
           SET namespace = EXCLUDED.namespace, doc_hash = EXCLUDED.doc_hash,
               cut_digest = EXCLUDED.cut_digest, state = EXCLUDED.state,
               unit_count = EXCLUDED.unit_count, size_bytes = EXCLUDED.size_bytes,
               last_run = $1, updated_at = $4,
               profile = CASE WHEN $5 THEN EXCLUDED.profile ELSE d.profile END$q$
      USING p_run, v_doc_path, p_document, pg_catalog.now(), p_document ? 'profile';

    -- citus: no statistics step (0011's ANALYZE of a first load): the coordinator's
    -- table is empty, the shards' statistics are the workers' autovacuum's.

    -- citus: the references of every document through fn_iu_set_references, a new
    -- document's too: 0017's insert of a new document's references without that
    -- function's DELETE (which finds nothing there) is not carried over; on the cluster
    -- the DELETE is one statement on the document's worker, and the refusals are the same.
    IF p_refs IS NOT NULL THEN
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
$function$;

-- The references of a document's current versions (0016's fn_iu_set_references) for
-- the distributed layout: every read and write names the document (one worker), the
-- rows carry it. citus: the JSON's codes are checked against the document's active
-- units read once on its worker before the insert (0016 checks after it, in the same
-- statement, and the error rolls the insert back: the same refusal, IUC01). When a
-- migration changes the single-node body, carry it over here.
CREATE OR REPLACE FUNCTION @schema@.fn_iu_set_references(p_run uuid, p_document jsonb, p_refs jsonb)
 RETURNS integer
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
 SET plan_cache_mode TO 'force_custom_plan'
 SET jit TO 'off'
AS $function$
DECLARE
    v_doc text := p_document ->> 'doc_path';
    v_bad text;
    v_n integer;
    v_codes text[];
    v_active text[];
    v_ids bigint[];
    v_versions integer[];
BEGIN
    PERFORM @schema@.fn_iu_check_run(p_run);
    PERFORM @schema@.fn_iu_lock_document(v_doc);
    SELECT coalesce(array_agg(DISTINCT r.code), '{}') INTO v_codes
      FROM pg_catalog.jsonb_to_recordset(coalesce(p_refs, '[]'::jsonb)) AS r(code text);
    -- citus: the document's active units that the references name, read once on its
    -- worker, then checked and joined here
    EXECUTE $q$
        SELECT array_agg(u.code), array_agg(u.unit_id), array_agg(u.current_version)
          FROM @schema@.information_unit u
         WHERE u.doc_path = $1 AND u.code = ANY ($2) AND u.state = 'active'$q$
       INTO v_active, v_ids, v_versions USING v_doc, v_codes;
    SELECT c INTO v_bad FROM unnest(v_codes) AS c
     WHERE c IS NULL OR c <> ALL (coalesce(v_active, '{}')) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'iucut: reference source % is no active unit of %', v_bad, v_doc
            USING ERRCODE = 'IUC01', HINT = 'apply the document before its references';
    END IF;
    -- The references of the document's current versions (co-located: one worker).
    EXECUTE $q$
        DELETE FROM @schema@.unit_reference x
         USING @schema@.information_unit u
         WHERE x.doc_path = $1 AND u.doc_path = $1 AND u.state = 'active'
           AND x.unit_id = u.unit_id AND x.version = u.current_version$q$
      USING v_doc;
    EXECUTE $q$
        INSERT INTO @schema@.unit_reference
               (doc_path, unit_id, version, ordinal, char_start, char_end, text, target_code,
                act, relative, run_id)
        SELECT $2, u.unit_id, u.version, r.ordinal, r.char_start, r.char_end, r.text,
               r.target_code, r.act, coalesce(r.relative, false), $1
          FROM pg_catalog.jsonb_to_recordset(coalesce($3, '[]'::jsonb))
               AS r(code text, ordinal integer, char_start integer, char_end integer,
                    text text, target_code text, act text, relative boolean)
          JOIN unnest($4, $5, $6) AS u(code, unit_id, version) ON u.code = r.code$q$
      USING p_run, v_doc, p_refs, v_active, v_ids, v_versions;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END
$function$;

-- The freeze on the cluster. On one server a writer holds the control row FOR SHARE
-- until it commits and a freeze waits for it (LOCK ... EXCLUSIVE). A row lock on a
-- reference table is a write on every node to Citus (its placements are locked one by
-- one, and two writers doing so at once were seen to deadlock on a worker). Both take an
-- advisory lock on the coordinator instead, where every writer of iucut runs its
-- transaction (apply, prove, and the functions in a transaction block), shared by the
-- writers and exclusive for a freeze; the control row itself is read from the node's
-- copy. The commit-time check on each shard (fn_iu_refuse_frozen_commit) still refuses
-- an apply run's write whose transaction ends after a freeze.
CREATE OR REPLACE FUNCTION @schema@.fn_iu_hold_unfrozen()
 RETURNS void
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
DECLARE
    v_frozen boolean;
BEGIN
    PERFORM pg_catalog.pg_advisory_xact_lock_shared(
        pg_catalog.hashtextextended('iucut-control:@schema@', 0));
    SELECT c.frozen INTO v_frozen FROM @schema@.iu_control c;
    IF v_frozen IS NULL OR v_frozen THEN
        RAISE EXCEPTION 'iucut: live writes are frozen at the database'
            USING ERRCODE = 'IUF01',
                  HINT = 'an operator froze writes (iucut freeze); proofs still run';
    END IF;
END
$function$;

CREATE OR REPLACE FUNCTION @schema@.fn_iu_freeze(p_reason text DEFAULT NULL::text)
 RETURNS boolean
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
DECLARE
    v_key bigint := pg_catalog.hashtextextended('iucut-control:@schema@', 0);
    v_writers text;
    v_frozen boolean;
BEGIN
    BEGIN
        PERFORM pg_catalog.pg_advisory_xact_lock(v_key);
    EXCEPTION
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
             WHERE l.locktype = 'advisory' AND l.granted AND l.mode = 'ShareLock'
               AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d
                                  WHERE d.datname = pg_catalog.current_database())
               AND l.classid::bigint = (v_key >> 32) & 4294967295
               AND l.objid::bigint = v_key & 4294967295
               AND l.pid <> pg_catalog.pg_backend_pid();
            RAISE EXCEPTION 'iucut: freeze gave up after % waiting for writes in flight: %',
                pg_catalog.current_setting('lock_timeout'),
                coalesce(v_writers, 'they finished meanwhile')
                USING ERRCODE = 'IUF02',
                      HINT = 'nothing was changed: writes are not frozen. Let them finish '
                             'and freeze again (a longer --wait), or end them with '
                             'pg_terminate_backend(pid)';
    END;
    UPDATE @schema@.iu_control
       SET frozen = true, reason = p_reason, changed_by = session_user, changed_at = now()
     RETURNING frozen INTO v_frozen;
    RETURN v_frozen;
END
$function$;

-- The end of a run (0016's fn_run_finish): the run table is a reference table and Citus
-- takes no volatile function (clock_timestamp()) in an UPDATE of it; the time is read
-- first and given as a value. citus: no merge of the search index's pending list
-- (gin_clean_pending_list): the coordinator's index of unit_version is that of its empty
-- shell table, the shards' indexes are the workers', whose autovacuum merges their lists;
-- the merge changes no row and no search result.
CREATE OR REPLACE FUNCTION @schema@.fn_run_finish(p_run uuid, p_status text DEFAULT 'finished'::text, p_counts jsonb DEFAULT NULL::jsonb)
 RETURNS text
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
DECLARE
    v_rows integer;
BEGIN
    IF p_status NOT IN ('finished', 'failed') THEN
        RAISE EXCEPTION 'iucut: a run finishes as finished or failed' USING ERRCODE = 'IUR01';
    END IF;
    EXECUTE $q$
        UPDATE @schema@.iu_run
           SET status = $2, counts = $3, finished_at = $4
         WHERE run_id = $1 AND status = 'running'$q$
      USING p_run, p_status, p_counts, pg_catalog.clock_timestamp();
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    IF v_rows = 0 THEN
        RAISE EXCEPTION 'iucut: run % is not running', p_run USING ERRCODE = 'IUR01';
    END IF;
    RETURN p_status;
END
$function$;

-- The row counts a proof reads inside its transaction, after the write path wrote
-- (prove's table_counts). On the cluster the writes went over the owner's connections
-- (the definer functions) and Citus refuses a read of those shards over the execution
-- role's own in the same transaction; read as the owner, the counts see the writes.
CREATE OR REPLACE FUNCTION @schema@.fn_iu_table_counts()
RETURNS TABLE (information_unit bigint, unit_version bigint, iu_lifecycle_log bigint,
               iu_run bigint, iu_document bigint, iu_control bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT (SELECT count(*) FROM @schema@.information_unit),
           (SELECT count(*) FROM @schema@.unit_version),
           (SELECT count(*) FROM @schema@.iu_lifecycle_log),
           (SELECT count(*) FROM @schema@.iu_run),
           (SELECT count(*) FROM @schema@.iu_document),
           (SELECT count(*) FROM @schema@.iu_control);
$$;
REVOKE EXECUTE ON FUNCTION @schema@.fn_iu_table_counts() FROM PUBLIC;

-- The change feed numbers commits on one server (0006): a trigger on a shard of the log
-- cannot write the reference table iu_commit, and there is no cluster-wide commit order
-- to number. The feed is single-node only; docs/distributed.md.
DROP TRIGGER IF EXISTS iu_lifecycle_log_commit ON @schema@.iu_lifecycle_log;
DROP TRIGGER IF EXISTS iu_commit_order ON @schema@.iu_commit;

-- name: layout_tables
-- The document key of the rows that had none (above): filled from their unit for the
-- rows already there (the log's append-only trigger is set aside for that one UPDATE, in
-- this transaction); new rows get it from fn_iu_doc_key.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                    WHERE a.attrelid = '@schema@.iu_lifecycle_log'::regclass
                      AND a.attname = 'doc_path' AND NOT a.attisdropped) THEN
        ALTER TABLE @schema@.iu_lifecycle_log ADD COLUMN doc_path text;
        ALTER TABLE @schema@.iu_lifecycle_log DISABLE TRIGGER iu_lifecycle_log_append_only;
        UPDATE @schema@.iu_lifecycle_log l SET doc_path = u.doc_path
          FROM @schema@.information_unit u WHERE u.unit_id = l.unit_id;
        ALTER TABLE @schema@.iu_lifecycle_log ENABLE TRIGGER iu_lifecycle_log_append_only;
        ALTER TABLE @schema@.iu_lifecycle_log
            ALTER COLUMN doc_path SET DEFAULT @schema@.fn_iu_doc_key(),
            ALTER COLUMN doc_path SET NOT NULL;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                    WHERE a.attrelid = '@schema@.unit_reference'::regclass
                      AND a.attname = 'doc_path' AND NOT a.attisdropped) THEN
        ALTER TABLE @schema@.unit_reference ADD COLUMN doc_path text;
        UPDATE @schema@.unit_reference r SET doc_path = u.doc_path
          FROM @schema@.information_unit u WHERE u.unit_id = r.unit_id;
        ALTER TABLE @schema@.unit_reference
            ALTER COLUMN doc_path SET DEFAULT @schema@.fn_iu_doc_key(),
            ALTER COLUMN doc_path SET NOT NULL;
    END IF;
    -- the effective dates (0015) are keyed by their document version: they get its
    -- document, to live in its shard group (a reference table cannot point at a
    -- distributed one)
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                    WHERE a.attrelid = '@schema@.iu_document_effective'::regclass
                      AND a.attname = 'doc_path' AND NOT a.attisdropped) THEN
        ALTER TABLE @schema@.iu_document_effective ADD COLUMN doc_path text;
        ALTER TABLE @schema@.iu_document_effective
            DISABLE TRIGGER iu_document_effective_append_only;
        UPDATE @schema@.iu_document_effective e SET doc_path = d.doc_path
          FROM @schema@.iu_document_version d WHERE d.doc_version_id = e.doc_version_id;
        ALTER TABLE @schema@.iu_document_effective
            ENABLE TRIGGER iu_document_effective_append_only;
        ALTER TABLE @schema@.iu_document_effective
            ALTER COLUMN doc_path SET DEFAULT @schema@.fn_iu_doc_key(),
            ALTER COLUMN doc_path SET NOT NULL;
    END IF;
END
$$;

-- 2. Keys with the document key in front. The foreign keys into information_unit go
--    first (they hang on its primary key), and come back on (doc_path, unit_id).
ALTER TABLE @schema@.unit_version DROP CONSTRAINT IF EXISTS unit_version_unit_id_fkey;
ALTER TABLE @schema@.iu_lifecycle_log DROP CONSTRAINT IF EXISTS iu_lifecycle_log_unit_id_fkey;
ALTER TABLE @schema@.unit_reference DROP CONSTRAINT IF EXISTS unit_reference_unit_id_fkey;
ALTER TABLE @schema@.iu_document_effective
    DROP CONSTRAINT IF EXISTS iu_document_effective_doc_version_id_fkey;

ALTER TABLE @schema@.information_unit
    DROP CONSTRAINT information_unit_pkey,
    ADD CONSTRAINT information_unit_pkey PRIMARY KEY (doc_path, unit_id),
    DROP CONSTRAINT information_unit_code_key,
    ADD CONSTRAINT information_unit_code_key UNIQUE (doc_path, code);
-- (code) alone: the probes by code that the functions make across documents
CREATE INDEX information_unit_code_idx ON @schema@.information_unit (code);
ALTER TABLE @schema@.unit_version
    DROP CONSTRAINT unit_version_pkey,
    ADD CONSTRAINT unit_version_pkey PRIMARY KEY (doc_path, version_id),
    DROP CONSTRAINT unit_version_unit_id_version_key,
    ADD CONSTRAINT unit_version_unit_id_version_key UNIQUE (doc_path, unit_id, version);
ALTER TABLE @schema@.iu_lifecycle_log
    DROP CONSTRAINT iu_lifecycle_log_pkey,
    ADD CONSTRAINT iu_lifecycle_log_pkey PRIMARY KEY (doc_path, event_id);
ALTER TABLE @schema@.unit_reference
    DROP CONSTRAINT unit_reference_pkey,
    ADD CONSTRAINT unit_reference_pkey PRIMARY KEY (doc_path, reference_id),
    DROP CONSTRAINT unit_reference_unit_id_version_ordinal_key,
    ADD CONSTRAINT unit_reference_unit_id_version_ordinal_key
        UNIQUE (doc_path, unit_id, version, ordinal);
ALTER TABLE @schema@.iu_document_version
    DROP CONSTRAINT iu_document_version_pkey,
    ADD CONSTRAINT iu_document_version_pkey PRIMARY KEY (doc_path, doc_version_id);
ALTER TABLE @schema@.iu_document_effective
    DROP CONSTRAINT iu_document_effective_pkey,
    ADD CONSTRAINT iu_document_effective_pkey PRIMARY KEY (doc_path, doc_version_id);

-- 3. The reference tables (runs, control, the feed), then the distributed ones, each
--    co-located with iu_document. The foreign keys into the run table come off first (a
--    reference table with local tables pointing at it would turn them into Citus local
--    tables, which cannot then be distributed) and go back on as they were.
DO $$
DECLARE
    v_fks text[];
    v_fk text;
    v_search jsonb;
    v_used text[];
    v_versions jsonb;
    v_name text;
    v_ids jsonb;
BEGIN
    SELECT coalesce(array_agg(pg_catalog.format('ALTER TABLE %s ADD CONSTRAINT %I %s',
                                  c.conrelid::regclass, c.conname,
                                  pg_catalog.pg_get_constraintdef(c.oid))
                              ORDER BY c.conrelid::regclass::text, c.conname), '{}')
      INTO v_fks
      FROM pg_catalog.pg_constraint c
     WHERE c.contype = 'f' AND c.confrelid = '@schema@.iu_run'::regclass;
    FOR v_fk IN
        SELECT pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass,
                                 c.conname)
          FROM pg_catalog.pg_constraint c
         WHERE c.contype = 'f' AND c.confrelid = '@schema@.iu_run'::regclass
    LOOP
        EXECUTE v_fk;
    END LOOP;
    PERFORM pg_catalog.create_reference_table('@schema@.iu_control');
    PERFORM pg_catalog.create_reference_table('@schema@.iu_run');
    PERFORM pg_catalog.create_reference_table('@schema@.iu_commit');
    PERFORM pg_catalog.create_reference_table('@schema@.iu_feed_cursor');
    -- A regconfig value (0014) is the OID of a text-search configuration, and Citus
    -- copies rows to the workers in binary, OIDs and all: the schema's own configuration
    -- (iucut_vi) has another OID on each worker. The rows that hold one go over by name:
    -- the search tables are emptied and filled again once they are reference tables.
    SELECT pg_catalog.jsonb_object_agg(c.profile, c.config::text),
           (SELECT array_agg(u.config::text) FROM @schema@.iu_search_config_used u)
      INTO v_search, v_used
      FROM @schema@.iu_search_config c;
    DELETE FROM @schema@.iu_search_config;
    DELETE FROM @schema@.iu_search_config_used;
    PERFORM pg_catalog.create_reference_table('@schema@.iu_search_config');
    PERFORM pg_catalog.create_reference_table('@schema@.iu_search_config_used');
    FOR v_name IN SELECT pg_catalog.unnest(coalesce(v_used, '{}')) LOOP
        EXECUTE pg_catalog.format('INSERT INTO @schema@.iu_search_config_used (config) '
                                  'VALUES (%L::regconfig)', v_name);
    END LOOP;
    FOR v_name, v_fk IN SELECT e.key, e.value FROM pg_catalog.jsonb_each_text(
                            coalesce(v_search, '{}')) e LOOP
        EXECUTE pg_catalog.format('INSERT INTO @schema@.iu_search_config (profile, config) '
                                  'VALUES (%L, %L::regconfig)', v_name, v_fk);
    END LOOP;
    -- the units first, the documents last; the rows already there were checked when
    -- they were written: copying them into the shards runs none of their triggers (the
    -- document triggers' deferred events would block the keys added below; the search
    -- configuration trigger of a version (0014) would read iu_document on a worker,
    -- where it is no table yet)
    ALTER TABLE @schema@.iu_document DISABLE TRIGGER USER;
    ALTER TABLE @schema@.unit_version DISABLE TRIGGER USER;
    -- the versions indexed with a configuration that is not built in (OID >= 16384, the
    -- first OID of a user object) go over as pg_catalog.simple and get theirs back by
    -- name (above); their search_vector is computed again on the worker
    SELECT pg_catalog.jsonb_object_agg(x.config, x.ids) INTO v_versions
      FROM (SELECT v.search_config::text AS config, pg_catalog.jsonb_agg(v.version_id) AS ids
              FROM @schema@.unit_version v
             WHERE v.search_config::oid >= 16384
             GROUP BY 1) x;
    UPDATE @schema@.unit_version SET search_config = 'pg_catalog.simple'
     WHERE search_config::oid >= 16384;
    PERFORM pg_catalog.create_distributed_table('@schema@.information_unit', 'doc_path');
    PERFORM pg_catalog.create_distributed_table('@schema@.unit_version', 'doc_path',
                                                colocate_with => '@schema@.information_unit');
    PERFORM pg_catalog.create_distributed_table('@schema@.iu_lifecycle_log', 'doc_path',
                                                colocate_with => '@schema@.information_unit');
    PERFORM pg_catalog.create_distributed_table('@schema@.unit_reference', 'doc_path',
                                                colocate_with => '@schema@.information_unit');
    PERFORM pg_catalog.create_distributed_table('@schema@.iu_document_version', 'doc_path',
                                                colocate_with => '@schema@.information_unit');
    PERFORM pg_catalog.create_distributed_table('@schema@.iu_document_effective',
                                                'doc_path',
                                                colocate_with => '@schema@.information_unit');
    PERFORM pg_catalog.create_distributed_table('@schema@.iu_document', 'doc_path',
                                                colocate_with => '@schema@.information_unit');
    FOR v_name, v_ids IN SELECT e.key, e.value FROM pg_catalog.jsonb_each(
                             coalesce(v_versions, '{}')) e LOOP
        EXECUTE pg_catalog.format(
            'UPDATE @schema@.unit_version SET search_config = %L::regconfig '
            'WHERE version_id IN (SELECT pg_catalog.jsonb_array_elements_text(%L::jsonb)::bigint)',
            v_name, v_ids);
    END LOOP;
    ALTER TABLE @schema@.unit_version ENABLE TRIGGER USER;
    ALTER TABLE @schema@.iu_document ENABLE TRIGGER USER;
    FOREACH v_fk IN ARRAY v_fks LOOP
        EXECUTE v_fk;
    END LOOP;
END
$$;

ALTER TABLE @schema@.unit_version ADD CONSTRAINT unit_version_unit_id_fkey
    FOREIGN KEY (doc_path, unit_id) REFERENCES @schema@.information_unit (doc_path, unit_id);
ALTER TABLE @schema@.iu_lifecycle_log ADD CONSTRAINT iu_lifecycle_log_unit_id_fkey
    FOREIGN KEY (doc_path, unit_id) REFERENCES @schema@.information_unit (doc_path, unit_id);
ALTER TABLE @schema@.unit_reference ADD CONSTRAINT unit_reference_unit_id_fkey
    FOREIGN KEY (doc_path, unit_id) REFERENCES @schema@.information_unit (doc_path, unit_id);
ALTER TABLE @schema@.iu_document_effective
    ADD CONSTRAINT iu_document_effective_doc_version_id_fkey
    FOREIGN KEY (doc_path, doc_version_id)
    REFERENCES @schema@.iu_document_version (doc_path, doc_version_id);

-- name: layout_claims
-- The namespaces and the documents that claimed them, a reference table with a unique
-- key on namespace (one server has UNIQUE (code) on the units; the cluster's key is
-- (doc_path, code), which two documents writing one namespace at once on two workers
-- both pass). A code lies inside its document's namespace, its first segment (0004), so
-- a code clash between documents is a clash of namespaces: fn_iu_apply_document claims
-- the namespaces of the codes it creates before its check of codes held by other
-- documents. The insert of a claim goes to every node's copy in Citus's two-phase
-- commit, and waits on the unique index there for a claim in flight (also one that is
-- prepared, not yet committed), so of two writers one sees the other's claim. A claim
-- is never released: on one server too a code once held stays with its document (a
-- retired unit keeps its code; a moved one leaves it in the log). Made with the layout,
-- and by a later `migrate --distributed` (or the refresh after a migration) on a schema
-- laid out before it: filled from the codes of the units and of the log.
DO $$
BEGIN
    IF pg_catalog.to_regclass('@schema@.iu_namespace_claim') IS NULL THEN
        CREATE TABLE @schema@.iu_namespace_claim (
            namespace text PRIMARY KEY,
            doc_path  text NOT NULL
        );
        REVOKE ALL ON TABLE @schema@.iu_namespace_claim FROM PUBLIC;
        INSERT INTO @schema@.iu_namespace_claim (namespace, doc_path)
        SELECT DISTINCT ON (x.namespace) x.namespace, x.doc_path
          FROM (SELECT pg_catalog.split_part(u.code, '/', 1) AS namespace, u.doc_path
                  FROM @schema@.information_unit u
                UNION
                SELECT pg_catalog.split_part(l.code, '/', 1), l.doc_path
                  FROM @schema@.iu_lifecycle_log l) x
         ORDER BY x.namespace, x.doc_path;
        PERFORM pg_catalog.create_reference_table('@schema@.iu_namespace_claim');
    END IF;
END
$$;

-- name: layout_routing
-- 4. The write functions whose arguments name the document are distributed by it, so a
--    call routes to the worker that holds the document. Looked up by name and argument
--    name in the catalog, whatever their other arguments are.
DO $$
DECLARE
    f record;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure AS fn, a.name
          FROM pg_catalog.pg_proc p
          CROSS JOIN LATERAL unnest(p.proargnames) WITH ORDINALITY AS a(name, n)
         WHERE p.pronamespace = '@schema@'::regnamespace
           AND (p.proname LIKE 'fn\_iu\_%' OR p.proname LIKE 'fn\_run\_%')
           AND a.name = 'p_doc_path'
           AND p.proargtypes[a.n - 1] = 'text'::regtype
    LOOP
        PERFORM pg_catalog.create_distributed_function(
            f.fn, f.name::text, colocate_with => '@schema@.iu_document'::text);
    END LOOP;
END
$$;

-- name: code_holders_distributed
-- plan_state's code_holders on the distributed layout: the log's rows joined with their
-- units on the document key too (co-located: each shard joins its own rows).
SELECT DISTINCT l.code, u.code AS holder
  FROM @schema@.iu_lifecycle_log l
  JOIN @schema@.information_unit u ON u.doc_path = l.doc_path AND u.unit_id = l.unit_id
 WHERE l.code = ANY(%(codes)s)

-- name: table_counts_distributed
-- prove's table_counts on the distributed layout, inside the proof's transaction (above).
SELECT * FROM @schema@.fn_iu_table_counts()

-- name: verify_tree_document
-- verify_tree for one document (iucut.verify on the distributed layout): Citus plans a
-- recursive query only when it names one value of the distribution column, so the tree
-- of each document is checked on its worker, one document at a time.
WITH RECURSIVE a AS (
    SELECT u.code, u.namespace, u.doc_path, u.parent_code, u.kind, u.depth, u.position,
           d.namespace AS doc_namespace
      FROM @schema@.information_unit u
      JOIN @schema@.iu_document d ON d.doc_path = u.doc_path
     WHERE u.state = 'active' AND d.state = 'active'
       AND u.doc_path = %(doc_path)s AND d.doc_path = %(doc_path)s
), reach AS (
    -- from the roots, and from units whose parent is missing (reported as such), so
    -- that what stays out of reach is a cycle
    SELECT a.code, a.doc_path FROM a
     WHERE a.parent_code IS NULL
        OR NOT EXISTS (SELECT 1 FROM a p WHERE p.code = a.parent_code AND p.doc_path = a.doc_path)
    UNION
    SELECT c.code, c.doc_path FROM a c JOIN reach r ON r.code = c.parent_code
                                                  AND r.doc_path = c.doc_path
     WHERE c.doc_path = %(doc_path)s
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
     WHERE d.state = 'active' AND d.doc_path = %(doc_path)s
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
SELECT rule, doc_path, code, detail FROM problems ORDER BY rule, code

-- name: unit_events_distributed
-- browse's unit_events on the distributed layout: joined on the document key too.
SELECT l.event, l.from_version, l.to_version, l.detail, l.run_id, l.actor, l.at
  FROM @schema@.iu_lifecycle_log l
  JOIN @schema@.information_unit u ON u.doc_path = l.doc_path AND u.unit_id = l.unit_id
 WHERE u.code = %(code)s
 ORDER BY l.event_id

-- name: units_search_distributed
-- search's units_search_ranked on the distributed layout. A regconfig is an OID, and the
-- schema's own configuration (iucut_vi) has another one on each node: each shard parses
-- the query with the configurations of its node's copy of iu_search_config_used (filled
-- by name, layout_tables), matches its versions (their search_config written by the
-- trigger on that worker) and makes its snippets there, so no configuration leaves the
-- node that resolved it. The coordinator merges the shards' best %(limit)s by rank, code.
WITH q AS (
    SELECT c.config, pg_catalog.websearch_to_tsquery(c.config, %(text)s) AS query
      FROM @schema@.iu_search_config_used AS c
)
SELECT u.code, u.namespace, u.doc_path, u.kind, u.label, u.current_version AS version,
       v.title,
       pg_catalog.round(pg_catalog.ts_rank_cd(v.search_vector, q.query, 1)::numeric,
                        6)::float8 AS rank,
       pg_catalog.ts_headline(q.config, CASE WHEN pg_catalog.btrim(v.body, E' \t\r\n') = ''
                                             THEN v.title ELSE v.body END, q.query,
                              'StartSel=**, StopSel=**, MaxWords=30, MinWords=12, '
                              'MaxFragments=2, FragmentDelimiter=" … "') AS snippet
  FROM q
  JOIN @schema@.unit_version v
    ON v.search_vector OPERATOR(pg_catalog.@@) q.query AND v.search_config = q.config
  JOIN @schema@.information_unit u
    ON u.doc_path = v.doc_path AND u.unit_id = v.unit_id
   AND u.current_version = v.version AND u.state = 'active'
 WHERE pg_catalog.numnode(q.query) > 0
   AND (%(namespace)s::text IS NULL OR u.namespace = %(namespace)s::text)
   AND (%(kind)s::text IS NULL OR u.kind = %(kind)s::text)
 ORDER BY pg_catalog.ts_rank_cd(v.search_vector, q.query, 1) DESC, u.code
 LIMIT %(limit)s

-- name: unit_references_distributed
-- refs' unit_references on the distributed layout: the unit and its references joined on
-- the document key too (co-located); the state of each target, which may live in another
-- shard group, is read by code in a second step (Citus plans no join on code across
-- shards), and the two are joined on the coordinator.
WITH r AS MATERIALIZED (
    SELECT u.code AS source, r.version, r.ordinal, r.char_start, r.char_end, r.text,
           r.target_code, r.act, r.relative
      FROM @schema@.information_unit u
      JOIN @schema@.unit_reference r
        ON r.doc_path = u.doc_path AND r.unit_id = u.unit_id
       AND r.version = coalesce(%(version)s, u.current_version)
     WHERE u.code = %(code)s
), t AS MATERIALIZED (
    SELECT t.code, t.state FROM @schema@.information_unit t
     WHERE t.code = ANY (ARRAY(SELECT DISTINCT r.target_code FROM r
                                WHERE r.target_code IS NOT NULL))
)
SELECT r.source, r.version, r.ordinal, r.char_start, r.char_end, r.text, r.target_code,
       r.act, r.relative, t.state AS target_state
  FROM r LEFT JOIN t ON t.code = r.target_code
 ORDER BY r.ordinal

-- name: unit_cited_by_distributed
-- refs' unit_cited_by on the distributed layout: joined on the document key too.
SELECT u.code AS source, r.version, r.ordinal, r.char_start, r.char_end, r.text,
       r.target_code, r.act, r.relative, 'active' AS target_state
  FROM @schema@.unit_reference r
  JOIN @schema@.information_unit u
    ON u.doc_path = r.doc_path AND u.unit_id = r.unit_id AND r.version = u.current_version
   AND u.state = 'active'
 WHERE r.target_code = %(code)s
 ORDER BY u.doc_path, u.position, r.ordinal

-- name: references_into_distributed
-- dangling's references_into on the distributed layout: joined on the document key too.
SELECT u.code AS source, u.doc_path, r.text, r.target_code
  FROM @schema@.unit_reference r
  JOIN @schema@.information_unit u
    ON u.doc_path = r.doc_path AND u.unit_id = r.unit_id AND r.version = u.current_version
   AND u.state = 'active'
 WHERE r.target_code = ANY (%(codes)s::text[])
 ORDER BY u.doc_path, u.position, r.ordinal

-- name: verify_namespace_claims
-- verify's tree check on the distributed layout, beside each document's tree: an active
-- document whose namespace the claims (layout_claims) give to another document. One
-- server cannot hold two documents in one namespace (UNIQUE (code)); a cluster written
-- before the claims, or a claim changed by hand, can.
SELECT 'namespace' AS rule, d.doc_path, d.namespace AS code,
       'namespace ' || d.namespace || ' is claimed by document ' || c.doc_path AS detail
  FROM @schema@.iu_document d
  JOIN @schema@.iu_namespace_claim c ON c.namespace = d.namespace
 WHERE d.state = 'active' AND c.doc_path <> d.doc_path
 ORDER BY d.doc_path
