-- iucut schema version 15: point-in-time reads. Each committed state of a document is
-- kept as a document version: which unit versions it held, in which order (export
-- rebuilds the bytes from them: the document unit holds the front matter and preamble,
-- so nothing of the source lies outside the units), with the codes and parents the units
-- had then. A unit moved without a change of text gets no unit version, but the document
-- gets a new document version, so the order of that point is kept too.
--
-- The record is written by a trigger on iu_document (every write function writes the row
-- of the document it changes, fn_iu_apply_document last of all), reading only that
-- document's units (information_unit_doc_idx, then one unique-index probe of unit_version
-- per unit) and the document's last version (iu_document_version_doc_idx): the rows read
-- are bounded by the document's own size. fn_iu_apply_document is unchanged.
--
-- A version's commit is that of its transaction (iu_commit, numbered at COMMIT: 0006); a
-- point in time is a commit number, and the state at it is each document's last version
-- committed at or before it.
--
-- Upgrade: a database migrated before 15 kept no document versions, and a document's
-- past order cannot be rebuilt from unit versions (a move without a change of text left
-- no row). This migration records each existing document as it stands, marked baseline;
-- reads at points before that commit are refused (iucut.asof.HistoryNotKept).
--
-- The effective date a document's front matter carries is stored with the version by
-- fn_iu_set_effective_date, which apply calls in the same transaction.
--
-- Both tables are append-only (fn_iu_refuse_history_change).

CREATE TABLE @schema@.iu_document_version (
    doc_version_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    doc_path       text NOT NULL,
    namespace      text NOT NULL,
    state          text NOT NULL CHECK (state IN ('active', 'retired')),
    doc_hash       text NOT NULL,
    size_bytes     bigint NOT NULL,
    version_ids    bigint[] NOT NULL,  -- unit_version.version_id of the active units, in order
    codes          text[] NOT NULL,    -- the units' codes then, in the same order
    parent_codes   text[] NOT NULL,    -- their parents then
    baseline       boolean NOT NULL DEFAULT false,  -- recorded by this migration
    run_id         uuid NOT NULL REFERENCES @schema@.iu_run (run_id),
    xid            xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id(),
    recorded_at    timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX iu_document_version_doc_idx
    ON @schema@.iu_document_version (doc_path, doc_version_id);
CREATE INDEX iu_document_version_run_idx ON @schema@.iu_document_version (run_id);
CREATE INDEX iu_document_version_xid_idx ON @schema@.iu_document_version (xid);
CREATE INDEX iu_commit_committed_at_idx ON @schema@.iu_commit (committed_at);

CREATE TABLE @schema@.iu_document_effective (
    doc_version_id bigint PRIMARY KEY
                   REFERENCES @schema@.iu_document_version (doc_version_id),
    effective_date date NOT NULL,
    source_key     text NOT NULL,  -- the front matter key it came from
    run_id         uuid NOT NULL REFERENCES @schema@.iu_run (run_id)
);

CREATE TRIGGER iu_document_version_append_only
    BEFORE UPDATE OR DELETE ON @schema@.iu_document_version
    FOR EACH ROW EXECUTE FUNCTION @schema@.fn_iu_refuse_history_change();
CREATE TRIGGER iu_document_version_no_truncate BEFORE TRUNCATE ON @schema@.iu_document_version
    FOR EACH STATEMENT EXECUTE FUNCTION @schema@.fn_iu_refuse_history_change();
CREATE TRIGGER iu_document_effective_append_only
    BEFORE UPDATE OR DELETE ON @schema@.iu_document_effective
    FOR EACH ROW EXECUTE FUNCTION @schema@.fn_iu_refuse_history_change();
CREATE TRIGGER iu_document_effective_no_truncate
    BEFORE TRUNCATE ON @schema@.iu_document_effective
    FOR EACH STATEMENT EXECUTE FUNCTION @schema@.fn_iu_refuse_history_change();

-- After each write of a document row: its state now, unless equal to its last version
-- (a profile change, a refresh that changed nothing). The transaction is registered for
-- a commit number (as lifecycle events register it: 0006), since a move of placement
-- alone writes no event.
CREATE FUNCTION @schema@.fn_iu_record_document_version() RETURNS trigger
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
CREATE TRIGGER iu_document_record_version AFTER INSERT OR UPDATE ON @schema@.iu_document
    FOR EACH ROW EXECUTE FUNCTION @schema@.fn_iu_record_document_version();

-- The effective date of the document version this transaction wrote for p_doc_path
-- (its last one). Returns false when this transaction wrote none (nothing changed).
CREATE FUNCTION @schema@.fn_iu_set_effective_date(p_run uuid, p_doc_path text,
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
    INSERT INTO @schema@.iu_document_effective (doc_version_id, effective_date, source_key, run_id)
    VALUES (v_id, p_date, p_key, p_run)
    ON CONFLICT (doc_version_id) DO NOTHING;
    RETURN true;
END
$$;

DO $$
BEGIN
    EXECUTE 'REVOKE EXECUTE ON FUNCTION @schema@.fn_iu_record_document_version() FROM PUBLIC';
    EXECUTE 'REVOKE EXECUTE ON FUNCTION @schema@.fn_iu_set_effective_date(uuid, text, date, text) FROM PUBLIC';
END
$$;

-- The baseline: every document as it stands, under the run that last wrote it.
INSERT INTO @schema@.iu_document_version
    (doc_path, namespace, state, doc_hash, size_bytes, version_ids, codes, parent_codes,
     baseline, run_id)
SELECT d.doc_path, d.namespace, d.state, d.doc_hash, d.size_bytes,
       coalesce(u.ids, '{}'), coalesce(u.codes, '{}'), coalesce(u.parents, '{}'), true,
       d.last_run
  FROM @schema@.iu_document d
  LEFT JOIN LATERAL (
      SELECT array_agg(v.version_id ORDER BY x.position) AS ids,
             array_agg(x.code ORDER BY x.position) AS codes,
             array_agg(x.parent_code ORDER BY x.position) AS parents
        FROM @schema@.information_unit x
        JOIN @schema@.unit_version v
          ON v.unit_id = x.unit_id AND v.version = x.current_version
       WHERE x.doc_path = d.doc_path AND x.state = 'active') u ON true;
INSERT INTO @schema@.iu_commit (xid)
SELECT pg_catalog.pg_current_xact_id()
 WHERE EXISTS (SELECT 1 FROM @schema@.iu_document_version)
ON CONFLICT (xid) DO NOTHING;
