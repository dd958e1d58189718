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
-- the shard group of the document. It registers no commit number: a trigger on a shard
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
    SELECT d.doc_version_id INTO v_id
      FROM @schema@.iu_document_version d
     WHERE d.doc_path = p_doc_path
       AND d.xid = pg_catalog.pg_current_xact_id()
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
