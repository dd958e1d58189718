-- iucut schema version 5: a document keeps the label profile it was first applied with,
-- and a unit whose code changes (a renumbering) keeps its identity and history.
--
-- * iu_document.profile: the profile (vi, de, en or a configured one) the document's
--   units were cut with. Plan cuts later versions with it, so a version whose lines
--   would be detected as another language cannot rename every unit; a different
--   profile is an explicit change in the plan, written by fn_iu_document_profile.
-- * fn_iu_recode: gives units of one document new codes (same unit_id, versions and
--   events), logs a 'moved' event with the old and new code, and never hands a code that
--   another unit holds (or once held) to a unit.
--
-- fn_iu_apply_document is not replaced: apply calls these two in the same transaction,
-- fn_iu_recode before it and fn_iu_document_profile after it.

ALTER TABLE @schema@.iu_document ADD COLUMN profile text;

-- Store the profile of a document, compare-and-swap on the profile the plan saw.
CREATE FUNCTION @schema@.fn_iu_document_profile(
    p_run uuid,
    p_doc_path text,
    p_profile text,
    p_expect_profile text
) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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
$$;

-- New codes for units of one document: p_moves = [{from, to, expect_version}, ...].
-- Every precondition is checked before anything is written. Children keep their parent:
-- their parent_code follows the new code (no event: the parent unit is the same).
CREATE FUNCTION @schema@.fn_iu_recode(p_run uuid, p_doc_path text, p_moves jsonb)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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
$$;

REVOKE EXECUTE ON FUNCTION @schema@.fn_iu_document_profile(uuid, text, text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @schema@.fn_iu_recode(uuid, text, jsonb) FROM PUBLIC;
