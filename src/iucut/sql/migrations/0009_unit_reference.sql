-- iucut schema: cross-references found in each unit version (iucut.refs), written through
-- fn_iu_set_references in the transaction that applies the document. A row belongs to one
-- version of the citing unit: the references of earlier versions stay as they were (their
-- history), those of the current version are replaced when the document is applied again
-- (a target created or retired since changes how the same text resolves).

CREATE TABLE @schema@.unit_reference (
    reference_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_id      bigint NOT NULL REFERENCES @schema@.information_unit (unit_id),
    version      integer NOT NULL,
    ordinal      integer NOT NULL,
    char_start   integer NOT NULL,
    char_end     integer NOT NULL,
    text         text NOT NULL,
    target_code  text,
    act          text,
    relative     boolean NOT NULL DEFAULT false,
    run_id       uuid NOT NULL REFERENCES @schema@.iu_run (run_id),
    UNIQUE (unit_id, version, ordinal)
);
CREATE INDEX unit_reference_target_idx ON @schema@.unit_reference (target_code);

-- Replace the references of the current version of each active unit of one document.
-- p_refs: [{code, ordinal, char_start, char_end, text, target_code, act, relative}].
CREATE FUNCTION @schema@.fn_iu_set_references(p_run uuid, p_document jsonb, p_refs jsonb)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_doc text := p_document ->> 'doc_path';
    v_bad text;
    v_n integer;
BEGIN
    PERFORM @schema@.fn_iu_check_run(p_run);
    PERFORM @schema@.fn_iu_lock_document(v_doc);
    SELECT r.code INTO v_bad
      FROM pg_catalog.jsonb_to_recordset(coalesce(p_refs, '[]'::jsonb)) AS r(code text)
     WHERE NOT EXISTS (SELECT 1 FROM @schema@.information_unit u
                        WHERE u.code = r.code AND u.doc_path = v_doc AND u.state = 'active')
     LIMIT 1;
    IF v_bad IS NOT NULL THEN
        RAISE EXCEPTION 'iucut: reference source % is no active unit of %', v_bad, v_doc
            USING ERRCODE = 'IUC01', HINT = 'apply the document before its references';
    END IF;
    DELETE FROM @schema@.unit_reference x
     USING @schema@.information_unit u
     WHERE x.unit_id = u.unit_id AND x.version = u.current_version
       AND u.doc_path = v_doc AND u.state = 'active';
    INSERT INTO @schema@.unit_reference
           (unit_id, version, ordinal, char_start, char_end, text, target_code, act,
            relative, run_id)
    SELECT u.unit_id, u.current_version, r.ordinal, r.char_start, r.char_end, r.text,
           r.target_code, r.act, coalesce(r.relative, false), p_run
      FROM pg_catalog.jsonb_to_recordset(coalesce(p_refs, '[]'::jsonb))
           AS r(code text, ordinal integer, char_start integer, char_end integer, text text,
                target_code text, act text, relative boolean)
      JOIN @schema@.information_unit u ON u.code = r.code;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END
$$;
REVOKE EXECUTE ON FUNCTION @schema@.fn_iu_set_references(uuid, jsonb, jsonb) FROM PUBLIC;
