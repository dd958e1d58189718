-- iucut: the current definitions of the schema, as `iucut migrate --roles` leaves a
-- fresh database (schema version 23), with the default role names.
-- Generated from the catalog by `make schema`: do not edit. The migrations are the
-- source; this file is their sum, to read (tests/db/test_schema_file.py holds a
-- fresh migration equal to it).

-- types

CREATE TYPE @schema@.iu_op AS (
    op text,
    code text,
    expect_version integer,
    namespace text,
    parent_code text,
    kind text,
    label text,
    ordinal integer,
    depth integer,
    "position" integer,
    title text,
    body text,
    raw_heading text,
    content_hash text,
    line_start integer,
    line_end integer,
    byte_start bigint,
    byte_end bigint
);

-- sequences

CREATE SEQUENCE @schema@.iu_commit_seq;

-- tables

CREATE TABLE @schema@.information_unit (
    unit_id bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
    code text NOT NULL,
    namespace text NOT NULL,
    doc_path text NOT NULL,
    parent_code text,
    kind text NOT NULL,
    label text,
    ordinal integer NOT NULL,
    depth integer NOT NULL,
    "position" integer NOT NULL,
    state text DEFAULT 'active'::text NOT NULL,
    current_version integer NOT NULL,
    content_hash text NOT NULL,
    created_run uuid NOT NULL,
    updated_run uuid NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE @schema@.iu_commit (
    xid xid8 NOT NULL,
    commit_seq bigint,
    committed_at timestamp with time zone
);

CREATE TABLE @schema@.iu_control (
    singleton boolean DEFAULT true NOT NULL,
    frozen boolean DEFAULT false NOT NULL,
    reason text,
    changed_by text DEFAULT SESSION_USER NOT NULL,
    changed_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE @schema@.iu_document (
    doc_path text NOT NULL,
    namespace text NOT NULL,
    doc_hash text NOT NULL,
    state text DEFAULT 'active'::text NOT NULL,
    unit_count integer NOT NULL,
    size_bytes bigint NOT NULL,
    first_run uuid NOT NULL,
    last_run uuid NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    cut_digest text,
    profile text,
    row_hash bigint GENERATED ALWAYS AS (hashtextextended(doc_path, hashtextextended(state, hashtextextended(doc_hash, COALESCE(hashtextextended(cut_digest, COALESCE(hashtextextended(profile, (2)::bigint), (3)::bigint)), (COALESCE(hashtextextended(profile, (2)::bigint), (3)::bigint) # (1)::bigint)))))) STORED
);

CREATE TABLE @schema@.iu_document_effective (
    doc_version_id bigint NOT NULL,
    effective_date date NOT NULL,
    source_key text NOT NULL,
    run_id uuid NOT NULL
);

CREATE TABLE @schema@.iu_document_version (
    doc_version_id bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
    doc_path text NOT NULL,
    namespace text NOT NULL,
    state text NOT NULL,
    doc_hash text NOT NULL,
    size_bytes bigint NOT NULL,
    version_ids bigint[] NOT NULL,
    codes text[] NOT NULL,
    parent_codes text[] NOT NULL,
    baseline boolean DEFAULT false NOT NULL,
    run_id uuid NOT NULL,
    xid xid8 DEFAULT pg_current_xact_id() NOT NULL,
    recorded_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE @schema@.iu_feed_cursor (
    consumer text NOT NULL,
    commit_seq bigint NOT NULL,
    event_id bigint NOT NULL,
    pending_seq bigint,
    pending_event bigint,
    updated_by text DEFAULT SESSION_USER NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE @schema@.iu_lifecycle_log (
    event_id bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
    unit_id bigint NOT NULL,
    code text NOT NULL,
    event text NOT NULL,
    from_version integer,
    to_version integer,
    detail jsonb,
    run_id uuid NOT NULL,
    actor text DEFAULT SESSION_USER NOT NULL,
    at timestamp with time zone DEFAULT now() NOT NULL,
    xid xid8 DEFAULT pg_current_xact_id() NOT NULL
);

CREATE TABLE @schema@.iu_run (
    run_id uuid DEFAULT gen_random_uuid() NOT NULL,
    mode text NOT NULL,
    status text DEFAULT 'running'::text NOT NULL,
    actor text DEFAULT SESSION_USER NOT NULL,
    tool_version text,
    plan_hash text,
    meta jsonb DEFAULT '{}'::jsonb NOT NULL,
    counts jsonb,
    xid xid8 DEFAULT pg_current_xact_id() NOT NULL,
    started_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    finished_at timestamp with time zone
);

CREATE TABLE @schema@.iu_search_config (
    profile text NOT NULL,
    config regconfig NOT NULL
);

CREATE TABLE @schema@.iu_search_config_used (
    config regconfig NOT NULL
);

CREATE TABLE @schema@.iucut_migration (
    version integer NOT NULL,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL,
    applied_by text DEFAULT SESSION_USER NOT NULL
);

CREATE TABLE @schema@.iucut_object (
    kind text NOT NULL,
    identity text NOT NULL,
    version integer NOT NULL
);

CREATE TABLE @schema@.unit_reference (
    reference_id bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
    unit_id bigint NOT NULL,
    version integer NOT NULL,
    ordinal integer NOT NULL,
    char_start integer NOT NULL,
    char_end integer NOT NULL,
    text text NOT NULL,
    target_code text,
    act text,
    relative boolean DEFAULT false NOT NULL,
    run_id uuid NOT NULL
);

CREATE TABLE @schema@.unit_version (
    version_id bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
    unit_id bigint NOT NULL,
    version integer NOT NULL,
    title text NOT NULL,
    body text NOT NULL,
    raw_heading text NOT NULL,
    content_hash text NOT NULL,
    doc_path text NOT NULL,
    line_start integer,
    line_end integer,
    byte_start bigint,
    byte_end bigint,
    run_id uuid NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    search_config regconfig DEFAULT 'simple'::regconfig NOT NULL,
    search_vector tsvector GENERATED ALWAYS AS ((setweight(to_tsvector(search_config, title), 'A'::"char") || setweight(to_tsvector(search_config, body), 'D'::"char"))) STORED
);

-- constraints

ALTER TABLE @schema@.information_unit ADD CONSTRAINT information_unit_code_key UNIQUE (code);

ALTER TABLE @schema@.information_unit ADD CONSTRAINT information_unit_current_version_check CHECK (current_version >= 1);

ALTER TABLE @schema@.information_unit ADD CONSTRAINT information_unit_pkey PRIMARY KEY (unit_id);

ALTER TABLE @schema@.information_unit ADD CONSTRAINT information_unit_state_check CHECK (state = ANY (ARRAY['active'::text, 'retired'::text]));

ALTER TABLE @schema@.iu_commit ADD CONSTRAINT iu_commit_commit_seq_key UNIQUE (commit_seq);

ALTER TABLE @schema@.iu_commit ADD CONSTRAINT iu_commit_pkey PRIMARY KEY (xid);

ALTER TABLE @schema@.iu_control ADD CONSTRAINT iu_control_pkey PRIMARY KEY (singleton);

ALTER TABLE @schema@.iu_control ADD CONSTRAINT iu_control_singleton_check CHECK (singleton);

ALTER TABLE @schema@.iu_document ADD CONSTRAINT iu_document_first_run_fkey FOREIGN KEY (first_run) REFERENCES @schema@.iu_run(run_id);

ALTER TABLE @schema@.iu_document ADD CONSTRAINT iu_document_last_run_fkey FOREIGN KEY (last_run) REFERENCES @schema@.iu_run(run_id);

ALTER TABLE @schema@.iu_document ADD CONSTRAINT iu_document_pkey PRIMARY KEY (doc_path);

ALTER TABLE @schema@.iu_document ADD CONSTRAINT iu_document_state_check CHECK (state = ANY (ARRAY['active'::text, 'retired'::text]));

ALTER TABLE @schema@.iu_document_effective ADD CONSTRAINT iu_document_effective_doc_version_id_fkey FOREIGN KEY (doc_version_id) REFERENCES @schema@.iu_document_version(doc_version_id);

ALTER TABLE @schema@.iu_document_effective ADD CONSTRAINT iu_document_effective_pkey PRIMARY KEY (doc_version_id);

ALTER TABLE @schema@.iu_document_effective ADD CONSTRAINT iu_document_effective_run_id_fkey FOREIGN KEY (run_id) REFERENCES @schema@.iu_run(run_id);

ALTER TABLE @schema@.iu_document_version ADD CONSTRAINT iu_document_version_pkey PRIMARY KEY (doc_version_id);

ALTER TABLE @schema@.iu_document_version ADD CONSTRAINT iu_document_version_run_id_fkey FOREIGN KEY (run_id) REFERENCES @schema@.iu_run(run_id);

ALTER TABLE @schema@.iu_document_version ADD CONSTRAINT iu_document_version_state_check CHECK (state = ANY (ARRAY['active'::text, 'retired'::text]));

ALTER TABLE @schema@.iu_feed_cursor ADD CONSTRAINT iu_feed_cursor_consumer_check CHECK (length(consumer) >= 1 AND length(consumer) <= 200);

ALTER TABLE @schema@.iu_feed_cursor ADD CONSTRAINT iu_feed_cursor_pkey PRIMARY KEY (consumer);

ALTER TABLE @schema@.iu_lifecycle_log ADD CONSTRAINT iu_lifecycle_log_event_check CHECK (event = ANY (ARRAY['created'::text, 'revised'::text, 'moved'::text, 'retired'::text, 'restored'::text]));

ALTER TABLE @schema@.iu_lifecycle_log ADD CONSTRAINT iu_lifecycle_log_pkey PRIMARY KEY (event_id);

ALTER TABLE @schema@.iu_lifecycle_log ADD CONSTRAINT iu_lifecycle_log_unit_id_fkey FOREIGN KEY (unit_id) REFERENCES @schema@.information_unit(unit_id);

ALTER TABLE @schema@.iu_run ADD CONSTRAINT iu_run_mode_check CHECK (mode = ANY (ARRAY['apply'::text, 'proof'::text]));

ALTER TABLE @schema@.iu_run ADD CONSTRAINT iu_run_pkey PRIMARY KEY (run_id);

ALTER TABLE @schema@.iu_run ADD CONSTRAINT iu_run_status_check CHECK (status = ANY (ARRAY['running'::text, 'finished'::text, 'failed'::text]));

ALTER TABLE @schema@.iu_search_config ADD CONSTRAINT iu_search_config_pkey PRIMARY KEY (profile);

ALTER TABLE @schema@.iu_search_config_used ADD CONSTRAINT iu_search_config_used_pkey PRIMARY KEY (config);

ALTER TABLE @schema@.iucut_migration ADD CONSTRAINT iucut_migration_pkey PRIMARY KEY (version);

ALTER TABLE @schema@.iucut_object ADD CONSTRAINT iucut_object_kind_check CHECK (kind = ANY (ARRAY['relation'::text, 'function'::text, 'type'::text]));

ALTER TABLE @schema@.iucut_object ADD CONSTRAINT iucut_object_pkey PRIMARY KEY (kind, identity);

ALTER TABLE @schema@.unit_reference ADD CONSTRAINT unit_reference_pkey PRIMARY KEY (reference_id);

ALTER TABLE @schema@.unit_reference ADD CONSTRAINT unit_reference_unit_id_fkey FOREIGN KEY (unit_id) REFERENCES @schema@.information_unit(unit_id);

ALTER TABLE @schema@.unit_reference ADD CONSTRAINT unit_reference_unit_id_version_ordinal_key UNIQUE (unit_id, version, ordinal);

ALTER TABLE @schema@.unit_version ADD CONSTRAINT unit_version_pkey PRIMARY KEY (version_id);

ALTER TABLE @schema@.unit_version ADD CONSTRAINT unit_version_unit_id_fkey FOREIGN KEY (unit_id) REFERENCES @schema@.information_unit(unit_id);

ALTER TABLE @schema@.unit_version ADD CONSTRAINT unit_version_unit_id_version_key UNIQUE (unit_id, version);

-- indexes

CREATE INDEX information_unit_doc_idx ON @schema@.information_unit USING btree (doc_path, "position");

CREATE INDEX iu_commit_committed_at_idx ON @schema@.iu_commit USING btree (committed_at);

CREATE INDEX iu_document_namespace_idx ON @schema@.iu_document USING btree (namespace);

CREATE INDEX iu_document_row_hash_idx ON @schema@.iu_document USING btree (row_hash);

CREATE INDEX iu_document_version_doc_idx ON @schema@.iu_document_version USING btree (doc_path, doc_version_id);

CREATE INDEX iu_document_version_run_idx ON @schema@.iu_document_version USING btree (run_id);

CREATE INDEX iu_document_version_xid_idx ON @schema@.iu_document_version USING btree (xid);

CREATE INDEX iu_lifecycle_log_code_idx ON @schema@.iu_lifecycle_log USING btree (code);

CREATE INDEX iu_lifecycle_log_unit_idx ON @schema@.iu_lifecycle_log USING btree (unit_id, event_id);

CREATE INDEX iu_lifecycle_log_xid_idx ON @schema@.iu_lifecycle_log USING btree (xid, event_id);

CREATE INDEX unit_reference_target_idx ON @schema@.unit_reference USING btree (target_code);

CREATE INDEX unit_version_search_idx ON @schema@.unit_version USING gin (search_vector) WITH (gin_pending_list_limit='65536');

-- functions

CREATE OR REPLACE FUNCTION @schema@.fn_iu_apply_document(p_run uuid, p_document jsonb, p_ops jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
DECLARE
    v_result jsonb;
BEGIN
    SELECT @schema@.fn_iu_apply_document(p_run, p_document,
               array_agg(o.op), array_agg(o.code), array_agg(o.expect_version),
               array_agg(o.namespace), array_agg(o.parent_code), array_agg(o.kind),
               array_agg(o.label), array_agg(o.ordinal), array_agg(o.depth),
               array_agg(o.position), array_agg(o.title), array_agg(o.body),
               array_agg(o.raw_heading), array_agg(o.content_hash), array_agg(o.line_start),
               array_agg(o.line_end), array_agg(o.byte_start), array_agg(o.byte_end), NULL)
      INTO v_result
      FROM jsonb_to_recordset(coalesce(p_ops, '[]'::jsonb)) AS o(
           op text, code text, expect_version integer, namespace text, parent_code text,
           kind text, label text, ordinal integer, depth integer, position integer,
           title text, body text, raw_heading text, content_hash text,
           line_start integer, line_end integer, byte_start bigint, byte_end bigint);
    RETURN v_result;
END
$function$;

CREATE OR REPLACE FUNCTION @schema@.fn_iu_apply_document(p_run uuid, p_document jsonb, p_op text[], p_code text[], p_expect_version integer[], p_namespace text[], p_parent_code text[], p_kind text[], p_label text[], p_ordinal integer[], p_depth integer[], p_position integer[], p_title text[], p_body text[], p_raw_heading text[], p_content_hash text[], p_line_start integer[], p_line_end integer[], p_byte_start bigint[], p_byte_end bigint[], p_refs jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
 SET plan_cache_mode TO 'auto'
 SET default_statistics_target TO '10'
 SET jit TO 'off'
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION @schema@.fn_iu_check_document()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
 SET plan_cache_mode TO 'force_custom_plan'
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION @schema@.fn_iu_check_run(p_run uuid)
 RETURNS text
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
 SET plan_cache_mode TO 'force_custom_plan'
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION @schema@.fn_iu_commit_register()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
BEGIN
    IF EXISTS (SELECT 1 FROM new_events) THEN
        INSERT INTO @schema@.iu_commit (xid) VALUES (pg_catalog.pg_current_xact_id())
        ON CONFLICT (xid) DO NOTHING;
    END IF;
    RETURN NULL;
END
$function$;

CREATE OR REPLACE FUNCTION @schema@.fn_iu_commit_stamp()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
BEGIN
    PERFORM pg_catalog.pg_advisory_xact_lock(
        pg_catalog.hashtextextended('iucut:@schema@:commit order', 0));
    UPDATE @schema@.iu_commit
       SET commit_seq = pg_catalog.nextval('@schema@.iu_commit_seq'),
           committed_at = pg_catalog.clock_timestamp()
     WHERE xid = NEW.xid;
    RETURN NULL;
END
$function$;

CREATE OR REPLACE FUNCTION @schema@.fn_iu_document_profile(p_run uuid, p_doc_path text, p_profile text, p_expect_profile text)
 RETURNS text
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
DECLARE
    v_current text;
BEGIN
    PERFORM @schema@.fn_iu_check_run(p_run);
    IF p_doc_path IS NULL OR p_profile IS NULL OR p_profile = '' THEN
        RAISE EXCEPTION 'iucut: a document profile needs doc_path and profile'
            USING ERRCODE = 'IUC01';
    END IF;
    PERFORM @schema@.fn_iu_lock_document(p_doc_path);
    SELECT d.profile INTO v_current
      FROM @schema@.iu_document d WHERE d.doc_path = p_doc_path FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'iucut: no document %', p_doc_path
            USING ERRCODE = 'IUN01', HINT = 'apply the document first';
    END IF;
    IF v_current IS DISTINCT FROM p_expect_profile THEN
        RAISE EXCEPTION 'iucut: the profile of document % changed since the plan', p_doc_path
            USING ERRCODE = 'IUS01', HINT = 'the plan is stale: plan again';
    END IF;
    UPDATE @schema@.iu_document d
       SET profile = p_profile, last_run = p_run, updated_at = now()
     WHERE d.doc_path = p_doc_path;
    RETURN p_profile;
END
$function$;

CREATE OR REPLACE FUNCTION @schema@.fn_iu_feed_cursor_set(p_consumer text, p_expect_seq bigint, p_expect_event bigint, p_seq bigint, p_event bigint, p_pending_seq bigint DEFAULT NULL::bigint, p_pending_event bigint DEFAULT NULL::bigint)
 RETURNS void
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
DECLARE
    v_cur @schema@.iu_feed_cursor%ROWTYPE;
BEGIN
    IF p_consumer IS NULL OR length(p_consumer) NOT BETWEEN 1 AND 200
       OR p_seq IS NULL OR p_event IS NULL THEN
        RAISE EXCEPTION 'iucut: a feed cursor needs a consumer name and a position'
            USING ERRCODE = 'IUC01';
    END IF;
    SELECT * INTO v_cur FROM @schema@.iu_feed_cursor c WHERE c.consumer = p_consumer FOR UPDATE;
    IF (v_cur.consumer IS NULL AND p_expect_seq IS NOT NULL)
       OR (v_cur.consumer IS NOT NULL
           AND (v_cur.commit_seq, v_cur.event_id)
               IS DISTINCT FROM (p_expect_seq, p_expect_event)) THEN
        RAISE EXCEPTION 'iucut: the feed cursor of % moved meanwhile', p_consumer
            USING ERRCODE = 'IUS01', HINT = 'another sync of the same consumer ran; sync again';
    END IF;
    INSERT INTO @schema@.iu_feed_cursor AS c
        (consumer, commit_seq, event_id, pending_seq, pending_event)
    VALUES (p_consumer, p_seq, p_event, p_pending_seq, p_pending_event)
    ON CONFLICT (consumer) DO UPDATE
       SET commit_seq = EXCLUDED.commit_seq, event_id = EXCLUDED.event_id,
           pending_seq = EXCLUDED.pending_seq, pending_event = EXCLUDED.pending_event,
           updated_by = session_user, updated_at = now();
END
$function$;

CREATE OR REPLACE FUNCTION @schema@.fn_iu_freeze(p_reason text DEFAULT NULL::text)
 RETURNS boolean
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION @schema@.fn_iu_guard_run_mode()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
BEGIN
    IF NEW.mode IS DISTINCT FROM OLD.mode OR NEW.run_id IS DISTINCT FROM OLD.run_id THEN
        RAISE EXCEPTION 'iucut: the mode and id of run % cannot change', OLD.run_id
            USING ERRCODE = 'IUR01';
    END IF;
    RETURN NEW;
END
$function$;

CREATE OR REPLACE FUNCTION @schema@.fn_iu_hold_documents(p_doc_paths text[])
 RETURNS void
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION @schema@.fn_iu_hold_unfrozen()
 RETURNS void
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION @schema@.fn_iu_lock_document(p_doc_path text)
 RETURNS void
 LANGUAGE sql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
    SELECT pg_catalog.pg_advisory_xact_lock(
        pg_catalog.hashtextextended('iucut:@schema@:' || p_doc_path, 0));
$function$;

CREATE OR REPLACE FUNCTION @schema@.fn_iu_lock_documents(p_run uuid, p_doc_paths text[])
 RETURNS void
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION @schema@.fn_iu_merge_search_pending()
 RETURNS bigint
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
BEGIN
    RETURN pg_catalog.gin_clean_pending_list('@schema@.unit_version_search_idx'::regclass);
EXCEPTION WHEN OTHERS THEN
    RETURN 0;  -- an optimisation only: fn_run_finish and autovacuum merge the list too
END
$function$;

CREATE OR REPLACE FUNCTION @schema@.fn_iu_recode(p_run uuid, p_doc_path text, p_moves jsonb)
 RETURNS integer
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
DECLARE
    v_from text[];
    v_to text[];
    v_version integer[];
    v_ids bigint[];
    v_bad text;
BEGIN
    PERFORM @schema@.fn_iu_check_run(p_run);
    PERFORM @schema@.fn_iu_lock_document(p_doc_path);
    SELECT coalesce(array_agg(e.m ->> 'from' ORDER BY e.n), '{}'),
           coalesce(array_agg(e.m ->> 'to' ORDER BY e.n), '{}'),
           coalesce(array_agg((e.m ->> 'expect_version')::integer ORDER BY e.n), '{}')
      INTO v_from, v_to, v_version
      FROM jsonb_array_elements(coalesce(p_moves, '[]'::jsonb)) WITH ORDINALITY AS e(m, n);

    SELECT coalesce(f, t, '?') INTO v_bad FROM unnest(v_from, v_to, v_version) AS x(f, t, v)
     WHERE f IS NULL OR t IS NULL OR f = t OR v IS NULL LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'iucut: move of % breaks the row contract: needs from, to, expect_version',
            v_bad USING ERRCODE = 'IUC01';
    END IF;
    SELECT c INTO v_bad FROM (
        SELECT f AS c FROM unnest(v_from) AS f GROUP BY 1 HAVING count(*) > 1
        UNION ALL
        SELECT t FROM unnest(v_to) AS t GROUP BY 1 HAVING count(*) > 1) d LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'iucut: code % is moved twice', v_bad USING ERRCODE = 'IUC01';
    END IF;

    -- The units to move: in this document, at the version the plan saw.
    SELECT array_agg(u.unit_id ORDER BY x.n) INTO v_ids
      FROM unnest(v_from, v_version) WITH ORDINALITY AS x(f, v, n)
      JOIN @schema@.information_unit u
        ON u.code = x.f AND u.doc_path = p_doc_path AND u.current_version = x.v;
    IF coalesce(array_length(v_ids, 1), 0) <> coalesce(array_length(v_from, 1), 0) THEN
        RAISE EXCEPTION 'iucut: a unit of % changed since the plan', p_doc_path
            USING ERRCODE = 'IUS01', HINT = 'the plan is stale: plan again';
    END IF;
    IF v_ids IS NULL THEN
        RETURN 0;
    END IF;

    -- A new code is free: no other unit holds it now (unless it moves away in this call)
    -- or held it before.
    SELECT x.t INTO v_bad
      FROM unnest(v_to, v_ids) AS x(t, id)
      JOIN @schema@.information_unit u ON u.code = x.t
     WHERE u.unit_id <> ALL (v_ids) LIMIT 1;
    IF NOT FOUND THEN
        SELECT x.t INTO v_bad
          FROM unnest(v_to, v_ids) AS x(t, id)
          JOIN @schema@.iu_lifecycle_log l ON l.code = x.t
         WHERE l.unit_id <> x.id LIMIT 1;
    END IF;
    IF v_bad IS NOT NULL THEN
        RAISE EXCEPTION 'iucut: code % belongs to another unit', v_bad
            USING ERRCODE = 'IUC01', HINT = 'a code is never handed to another unit: plan again';
    END IF;

    -- Two steps, so that codes may swap or shift along a chain under the unique index.
    UPDATE @schema@.information_unit u SET code = '~recode~' || u.unit_id::text
     WHERE u.unit_id = ANY (v_ids);
    UPDATE @schema@.information_unit u
       SET code = x.t, updated_run = p_run, updated_at = now()
      FROM unnest(v_ids, v_to) AS x(id, t) WHERE u.unit_id = x.id;
    UPDATE @schema@.information_unit u SET parent_code = x.t
      FROM unnest(v_from, v_to) AS x(f, t)
     WHERE u.doc_path = p_doc_path AND u.parent_code = x.f;
    INSERT INTO @schema@.iu_lifecycle_log
        (unit_id, code, event, from_version, to_version, detail, run_id)
    SELECT x.id, x.t, 'moved', x.v, x.v, jsonb_build_object('from_code', x.f, 'to_code', x.t),
           p_run
      FROM unnest(v_ids, v_from, v_to, v_version) AS x(id, f, t, v);
    RETURN array_length(v_ids, 1);
END
$function$;

CREATE OR REPLACE FUNCTION @schema@.fn_iu_record_document_version()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
 SET plan_cache_mode TO 'force_custom_plan'
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION @schema@.fn_iu_refresh_document(p_run uuid, p_doc_path text, p_namespace text)
 RETURNS void
 LANGUAGE sql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
 SET plan_cache_mode TO 'force_custom_plan'
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION @schema@.fn_iu_refuse_frozen_commit()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION @schema@.fn_iu_refuse_history_change()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
BEGIN
    RAISE EXCEPTION 'iucut: % is append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'IUI01', HINT = 'versions and lifecycle events are never changed';
END
$function$;

CREATE OR REPLACE FUNCTION @schema@.fn_iu_refuse_proof_commit()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
BEGIN
    RAISE EXCEPTION 'iucut: run % is a proof run: its transaction can never commit', NEW.run_id
        USING ERRCODE = 'IUP01', HINT = 'a proof always rolls back; use iucut apply to write';
END
$function$;

CREATE OR REPLACE FUNCTION @schema@.fn_iu_refuse_run_delete()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
BEGIN
    RAISE EXCEPTION 'iucut: iu_run is append-only (% refused)', TG_OP
        USING ERRCODE = 'IUI01',
              HINT = 'runs are never deleted: units, versions and events name them';
END
$function$;

CREATE OR REPLACE FUNCTION @schema@.fn_iu_release_documents(p_doc_paths text[])
 RETURNS void
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
DECLARE
    v_path text;
BEGIN
    FOR v_path IN SELECT DISTINCT p FROM unnest(p_doc_paths) AS p WHERE p IS NOT NULL
    LOOP
        PERFORM pg_catalog.pg_advisory_unlock(
            pg_catalog.hashtextextended('iucut:@schema@:' || v_path, 0));
    END LOOP;
END
$function$;

CREATE OR REPLACE FUNCTION @schema@.fn_iu_require(p_unit jsonb, p_fields text[])
 RETURNS void
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION @schema@.fn_iu_require_hash(p_unit jsonb)
 RETURNS void
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION @schema@.fn_iu_search_config()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
DECLARE
    v_profile text := nullif(pg_catalog.current_setting('iucut.profile', true), '');
    v_config regconfig;
BEGIN
    IF v_profile IS NULL THEN
        SELECT d.profile INTO v_profile
          FROM @schema@.iu_document d WHERE d.doc_path = NEW.doc_path;
    END IF;
    SELECT c.config INTO v_config FROM @schema@.iu_search_config c WHERE c.profile = v_profile;
    NEW.search_config := coalesce(v_config, 'pg_catalog.simple'::regconfig);
    RETURN NEW;
END
$function$;

CREATE OR REPLACE FUNCTION @schema@.fn_iu_set_effective_date(p_run uuid, p_doc_path text, p_date date, p_key text)
 RETURNS boolean
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
 SET plan_cache_mode TO 'force_custom_plan'
AS $function$
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
    INSERT INTO @schema@.iu_document_effective (doc_version_id, effective_date, source_key, run_id)
    VALUES (v_id, p_date, p_key, p_run)
    ON CONFLICT (doc_version_id) DO NOTHING;
    RETURN true;
END
$function$;

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
BEGIN
    PERFORM @schema@.fn_iu_check_run(p_run);
    PERFORM @schema@.fn_iu_lock_document(v_doc);
    -- The document's units (its index), each one's references (the unique key's
    -- index; OFFSET 0 keeps the probe per unit), then those rows by their key: never a
    -- scan of every reference (0013).
    DELETE FROM @schema@.unit_reference x
     WHERE x.reference_id = ANY (ARRAY(
           SELECT r.reference_id
             FROM @schema@.information_unit u
            CROSS JOIN LATERAL (SELECT r.reference_id FROM @schema@.unit_reference r
                                 WHERE r.unit_id = u.unit_id
                                   AND r.version = u.current_version
                                OFFSET 0) r
            WHERE u.doc_path = v_doc AND u.state = 'active'));
    -- Each reference with its source: an active unit of the document (one probe of the
    -- code index); the ones without one are not written and fail the call below.
    WITH r AS MATERIALIZED (
        SELECT r.*, u.unit_id, u.current_version
          FROM pg_catalog.jsonb_to_recordset(coalesce(p_refs, '[]'::jsonb))
               AS r(code text, ordinal integer, char_start integer, char_end integer,
                    text text, target_code text, act text, relative boolean)
          LEFT JOIN LATERAL (SELECT u.unit_id, u.current_version
                               FROM @schema@.information_unit u
                              WHERE u.code = r.code AND u.doc_path = v_doc
                                AND u.state = 'active'
                              LIMIT 1) u ON true
    ), ins AS (
        INSERT INTO @schema@.unit_reference
               (unit_id, version, ordinal, char_start, char_end, text, target_code, act,
                relative, run_id)
        SELECT r.unit_id, r.current_version, r.ordinal, r.char_start, r.char_end, r.text,
               r.target_code, r.act, coalesce(r.relative, false), p_run
          FROM r WHERE r.unit_id IS NOT NULL
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM ins),
           (SELECT r.code FROM r WHERE r.unit_id IS NULL AND r.code IS NOT NULL LIMIT 1)
      INTO v_n, v_bad;
    IF v_bad IS NOT NULL THEN
        RAISE EXCEPTION 'iucut: reference source % is no active unit of %', v_bad, v_doc
            USING ERRCODE = 'IUC01', HINT = 'apply the document before its references';
    END IF;
    RETURN v_n;
END
$function$;

CREATE OR REPLACE FUNCTION @schema@.fn_iu_unfreeze()
 RETURNS boolean
 LANGUAGE sql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
    UPDATE @schema@.iu_control
       SET frozen = false, reason = NULL, changed_by = session_user, changed_at = now()
     RETURNING frozen;
$function$;

CREATE OR REPLACE FUNCTION @schema@.fn_run_begin(p_mode text, p_tool_version text DEFAULT NULL::text, p_plan_hash text DEFAULT NULL::text, p_meta jsonb DEFAULT '{}'::jsonb)
 RETURNS uuid
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION @schema@.fn_run_finish(p_run uuid, p_status text DEFAULT 'finished'::text, p_counts jsonb DEFAULT NULL::jsonb)
 RETURNS text
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
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
    BEGIN
        PERFORM pg_catalog.gin_clean_pending_list('@schema@.unit_version_search_idx'::regclass);
    EXCEPTION WHEN OTHERS THEN
        NULL;  -- an optimisation only: autovacuum merges the list too
    END;
    RETURN p_status;
END
$function$;

-- triggers

CREATE TRIGGER information_unit_no_delete BEFORE DELETE ON @schema@.information_unit FOR EACH ROW EXECUTE FUNCTION @schema@.fn_iu_refuse_history_change();

CREATE TRIGGER information_unit_no_truncate BEFORE TRUNCATE ON @schema@.information_unit FOR EACH STATEMENT EXECUTE FUNCTION @schema@.fn_iu_refuse_history_change();

CREATE CONSTRAINT TRIGGER iu_commit_order AFTER INSERT ON @schema@.iu_commit DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION @schema@.fn_iu_commit_stamp();

CREATE TRIGGER iu_document_matches_its_units AFTER INSERT OR UPDATE OF namespace, doc_hash, state, unit_count, size_bytes, last_run ON @schema@.iu_document FOR EACH ROW EXECUTE FUNCTION @schema@.fn_iu_check_document();

CREATE CONSTRAINT TRIGGER iu_document_not_frozen_at_commit AFTER INSERT OR UPDATE ON @schema@.iu_document DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION @schema@.fn_iu_refuse_frozen_commit();

CREATE TRIGGER iu_document_record_version AFTER INSERT OR UPDATE ON @schema@.iu_document FOR EACH ROW EXECUTE FUNCTION @schema@.fn_iu_record_document_version();

CREATE TRIGGER iu_document_effective_append_only BEFORE DELETE OR UPDATE ON @schema@.iu_document_effective FOR EACH ROW EXECUTE FUNCTION @schema@.fn_iu_refuse_history_change();

CREATE TRIGGER iu_document_effective_no_truncate BEFORE TRUNCATE ON @schema@.iu_document_effective FOR EACH STATEMENT EXECUTE FUNCTION @schema@.fn_iu_refuse_history_change();

CREATE TRIGGER iu_document_version_append_only BEFORE DELETE OR UPDATE ON @schema@.iu_document_version FOR EACH ROW EXECUTE FUNCTION @schema@.fn_iu_refuse_history_change();

CREATE TRIGGER iu_document_version_no_truncate BEFORE TRUNCATE ON @schema@.iu_document_version FOR EACH STATEMENT EXECUTE FUNCTION @schema@.fn_iu_refuse_history_change();

CREATE TRIGGER iu_lifecycle_log_append_only BEFORE DELETE OR UPDATE ON @schema@.iu_lifecycle_log FOR EACH ROW EXECUTE FUNCTION @schema@.fn_iu_refuse_history_change();

CREATE TRIGGER iu_lifecycle_log_commit AFTER INSERT ON @schema@.iu_lifecycle_log REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION @schema@.fn_iu_commit_register();

CREATE TRIGGER iu_lifecycle_log_no_truncate BEFORE TRUNCATE ON @schema@.iu_lifecycle_log FOR EACH STATEMENT EXECUTE FUNCTION @schema@.fn_iu_refuse_history_change();

CREATE TRIGGER iu_run_mode_fixed BEFORE UPDATE ON @schema@.iu_run FOR EACH ROW EXECUTE FUNCTION @schema@.fn_iu_guard_run_mode();

CREATE TRIGGER iu_run_no_delete BEFORE DELETE ON @schema@.iu_run FOR EACH ROW EXECUTE FUNCTION @schema@.fn_iu_refuse_run_delete();

CREATE TRIGGER iu_run_no_truncate BEFORE TRUNCATE ON @schema@.iu_run FOR EACH STATEMENT EXECUTE FUNCTION @schema@.fn_iu_refuse_run_delete();

CREATE CONSTRAINT TRIGGER iu_run_proof_never_commits AFTER INSERT ON @schema@.iu_run DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (new.mode = 'proof'::text) EXECUTE FUNCTION @schema@.fn_iu_refuse_proof_commit();

CREATE TRIGGER unit_version_append_only BEFORE DELETE OR UPDATE ON @schema@.unit_version FOR EACH ROW EXECUTE FUNCTION @schema@.fn_iu_refuse_history_change();

CREATE TRIGGER unit_version_no_truncate BEFORE TRUNCATE ON @schema@.unit_version FOR EACH STATEMENT EXECUTE FUNCTION @schema@.fn_iu_refuse_history_change();

CREATE TRIGGER unit_version_search_config BEFORE INSERT ON @schema@.unit_version FOR EACH ROW WHEN (new.search_config::oid = 'simple'::regconfig::oid) EXECUTE FUNCTION @schema@.fn_iu_search_config();

-- owners

ALTER TABLE @schema@.information_unit OWNER TO iucut_owner;

ALTER SEQUENCE @schema@.information_unit_unit_id_seq OWNER TO iucut_owner;

ALTER TABLE @schema@.iu_commit OWNER TO iucut_owner;

ALTER SEQUENCE @schema@.iu_commit_seq OWNER TO iucut_owner;

ALTER TABLE @schema@.iu_control OWNER TO iucut_owner;

ALTER TABLE @schema@.iu_document OWNER TO iucut_owner;

ALTER TABLE @schema@.iu_document_effective OWNER TO iucut_owner;

ALTER TABLE @schema@.iu_document_version OWNER TO iucut_owner;

ALTER SEQUENCE @schema@.iu_document_version_doc_version_id_seq OWNER TO iucut_owner;

ALTER TABLE @schema@.iu_feed_cursor OWNER TO iucut_owner;

ALTER TABLE @schema@.iu_lifecycle_log OWNER TO iucut_owner;

ALTER SEQUENCE @schema@.iu_lifecycle_log_event_id_seq OWNER TO iucut_owner;

ALTER TABLE @schema@.iu_run OWNER TO iucut_owner;

ALTER TABLE @schema@.iu_search_config OWNER TO iucut_owner;

ALTER TABLE @schema@.iu_search_config_used OWNER TO iucut_owner;

ALTER TABLE @schema@.iucut_migration OWNER TO iucut_owner;

ALTER TABLE @schema@.iucut_object OWNER TO iucut_owner;

ALTER TABLE @schema@.unit_reference OWNER TO iucut_owner;

ALTER SEQUENCE @schema@.unit_reference_reference_id_seq OWNER TO iucut_owner;

ALTER TABLE @schema@.unit_version OWNER TO iucut_owner;

ALTER SEQUENCE @schema@.unit_version_version_id_seq OWNER TO iucut_owner;

ALTER ROUTINE @schema@.fn_iu_apply_document(uuid, jsonb, jsonb) OWNER TO iucut_owner;

ALTER ROUTINE @schema@.fn_iu_apply_document(uuid, jsonb, text[], text[], integer[], text[], text[], text[], text[], integer[], integer[], integer[], text[], text[], text[], text[], integer[], integer[], bigint[], bigint[], jsonb) OWNER TO iucut_owner;

ALTER ROUTINE @schema@.fn_iu_check_document() OWNER TO iucut_owner;

ALTER ROUTINE @schema@.fn_iu_check_run(uuid) OWNER TO iucut_owner;

ALTER ROUTINE @schema@.fn_iu_commit_register() OWNER TO iucut_owner;

ALTER ROUTINE @schema@.fn_iu_commit_stamp() OWNER TO iucut_owner;

ALTER ROUTINE @schema@.fn_iu_document_profile(uuid, text, text, text) OWNER TO iucut_owner;

ALTER ROUTINE @schema@.fn_iu_feed_cursor_set(text, bigint, bigint, bigint, bigint, bigint, bigint) OWNER TO iucut_owner;

ALTER ROUTINE @schema@.fn_iu_freeze(text) OWNER TO iucut_owner;

ALTER ROUTINE @schema@.fn_iu_guard_run_mode() OWNER TO iucut_owner;

ALTER ROUTINE @schema@.fn_iu_hold_documents(text[]) OWNER TO iucut_owner;

ALTER ROUTINE @schema@.fn_iu_hold_unfrozen() OWNER TO iucut_owner;

ALTER ROUTINE @schema@.fn_iu_lock_document(text) OWNER TO iucut_owner;

ALTER ROUTINE @schema@.fn_iu_lock_documents(uuid, text[]) OWNER TO iucut_owner;

ALTER ROUTINE @schema@.fn_iu_merge_search_pending() OWNER TO iucut_owner;

ALTER ROUTINE @schema@.fn_iu_recode(uuid, text, jsonb) OWNER TO iucut_owner;

ALTER ROUTINE @schema@.fn_iu_record_document_version() OWNER TO iucut_owner;

ALTER ROUTINE @schema@.fn_iu_refresh_document(uuid, text, text) OWNER TO iucut_owner;

ALTER ROUTINE @schema@.fn_iu_refuse_frozen_commit() OWNER TO iucut_owner;

ALTER ROUTINE @schema@.fn_iu_refuse_history_change() OWNER TO iucut_owner;

ALTER ROUTINE @schema@.fn_iu_refuse_proof_commit() OWNER TO iucut_owner;

ALTER ROUTINE @schema@.fn_iu_refuse_run_delete() OWNER TO iucut_owner;

ALTER ROUTINE @schema@.fn_iu_release_documents(text[]) OWNER TO iucut_owner;

ALTER ROUTINE @schema@.fn_iu_require(jsonb, text[]) OWNER TO iucut_owner;

ALTER ROUTINE @schema@.fn_iu_require_hash(jsonb) OWNER TO iucut_owner;

ALTER ROUTINE @schema@.fn_iu_search_config() OWNER TO iucut_owner;

ALTER ROUTINE @schema@.fn_iu_set_effective_date(uuid, text, date, text) OWNER TO iucut_owner;

ALTER ROUTINE @schema@.fn_iu_set_references(uuid, jsonb, jsonb) OWNER TO iucut_owner;

ALTER ROUTINE @schema@.fn_iu_unfreeze() OWNER TO iucut_owner;

ALTER ROUTINE @schema@.fn_run_begin(text, text, text, jsonb) OWNER TO iucut_owner;

ALTER ROUTINE @schema@.fn_run_finish(uuid, text, jsonb) OWNER TO iucut_owner;

-- grants

GRANT SELECT ON TABLE @schema@.information_unit TO cutter_exec;

GRANT SELECT ON TABLE @schema@.information_unit TO iucut_reader;

GRANT SELECT ON TABLE @schema@.iu_commit TO cutter_exec;

GRANT SELECT ON TABLE @schema@.iu_commit TO iucut_reader;

GRANT SELECT ON TABLE @schema@.iu_control TO cutter_exec;

GRANT SELECT ON TABLE @schema@.iu_control TO iucut_reader;

GRANT SELECT ON TABLE @schema@.iu_document TO cutter_exec;

GRANT SELECT ON TABLE @schema@.iu_document TO iucut_reader;

GRANT SELECT ON TABLE @schema@.iu_document_effective TO cutter_exec;

GRANT SELECT ON TABLE @schema@.iu_document_effective TO iucut_reader;

GRANT SELECT ON TABLE @schema@.iu_document_version TO cutter_exec;

GRANT SELECT ON TABLE @schema@.iu_document_version TO iucut_reader;

GRANT SELECT ON TABLE @schema@.iu_feed_cursor TO cutter_exec;

GRANT SELECT ON TABLE @schema@.iu_feed_cursor TO iucut_reader;

GRANT SELECT ON TABLE @schema@.iu_lifecycle_log TO cutter_exec;

GRANT SELECT ON TABLE @schema@.iu_lifecycle_log TO iucut_reader;

GRANT SELECT ON TABLE @schema@.iu_run TO cutter_exec;

GRANT SELECT ON TABLE @schema@.iu_run TO iucut_reader;

GRANT SELECT ON TABLE @schema@.iu_search_config TO cutter_exec;

GRANT SELECT ON TABLE @schema@.iu_search_config TO iucut_reader;

GRANT SELECT ON TABLE @schema@.iu_search_config_used TO cutter_exec;

GRANT SELECT ON TABLE @schema@.iu_search_config_used TO iucut_reader;

GRANT SELECT ON TABLE @schema@.iucut_migration TO cutter_exec;

GRANT SELECT ON TABLE @schema@.iucut_migration TO iucut_reader;

GRANT SELECT ON TABLE @schema@.iucut_object TO cutter_exec;

GRANT SELECT ON TABLE @schema@.iucut_object TO iucut_reader;

GRANT SELECT ON TABLE @schema@.unit_reference TO cutter_exec;

GRANT SELECT ON TABLE @schema@.unit_reference TO iucut_reader;

GRANT SELECT ON TABLE @schema@.unit_version TO cutter_exec;

GRANT SELECT ON TABLE @schema@.unit_version TO iucut_reader;

GRANT EXECUTE ON ROUTINE @schema@.fn_iu_apply_document(uuid, jsonb, jsonb) TO cutter_exec;

GRANT EXECUTE ON ROUTINE @schema@.fn_iu_apply_document(uuid, jsonb, text[], text[], integer[], text[], text[], text[], text[], integer[], integer[], integer[], text[], text[], text[], text[], integer[], integer[], bigint[], bigint[], jsonb) TO cutter_exec;

GRANT EXECUTE ON ROUTINE @schema@.fn_iu_document_profile(uuid, text, text, text) TO cutter_exec;

GRANT EXECUTE ON ROUTINE @schema@.fn_iu_feed_cursor_set(text, bigint, bigint, bigint, bigint, bigint, bigint) TO cutter_exec;

GRANT EXECUTE ON ROUTINE @schema@.fn_iu_hold_documents(text[]) TO cutter_exec;

GRANT EXECUTE ON ROUTINE @schema@.fn_iu_lock_document(text) TO cutter_exec;

GRANT EXECUTE ON ROUTINE @schema@.fn_iu_lock_documents(uuid, text[]) TO cutter_exec;

GRANT EXECUTE ON ROUTINE @schema@.fn_iu_merge_search_pending() TO cutter_exec;

GRANT EXECUTE ON ROUTINE @schema@.fn_iu_recode(uuid, text, jsonb) TO cutter_exec;

GRANT EXECUTE ON ROUTINE @schema@.fn_iu_release_documents(text[]) TO cutter_exec;

GRANT EXECUTE ON ROUTINE @schema@.fn_iu_set_effective_date(uuid, text, date, text) TO cutter_exec;

GRANT EXECUTE ON ROUTINE @schema@.fn_iu_set_references(uuid, jsonb, jsonb) TO cutter_exec;

GRANT EXECUTE ON ROUTINE @schema@.fn_run_begin(text, text, text, jsonb) TO cutter_exec;

GRANT EXECUTE ON ROUTINE @schema@.fn_run_finish(uuid, text, jsonb) TO cutter_exec;
