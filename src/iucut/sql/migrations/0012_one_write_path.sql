-- iucut schema version 12: one write path. The per-unit write functions fn_iu_create,
-- fn_iu_revise, fn_iu_retire, fn_iu_move and fn_iu_restore (0001, 0004, 0011) were a
-- second write path beside fn_iu_apply_document, the set-based function apply and prove
-- drive: iucut never called them, yet cutter_exec could, and every check had to be kept
-- equal in both. They are dropped, and with them the EXECUTE that `migrate --roles`
-- granted on them to the execution role (a dropped function's grants go with it); the
-- registry of migrated objects forgets them.
-- Every check they made is made by fn_iu_apply_document and the document trigger
-- (fn_iu_check_document, 0004).

DROP FUNCTION @schema@.fn_iu_create(uuid, jsonb);
DROP FUNCTION @schema@.fn_iu_revise(uuid, jsonb, integer);
DROP FUNCTION @schema@.fn_iu_retire(uuid, text, integer);
DROP FUNCTION @schema@.fn_iu_move(uuid, text, text, integer, integer, integer, integer);
DROP FUNCTION @schema@.fn_iu_restore(uuid, jsonb, integer);

DELETE FROM @schema@.iucut_object
 WHERE kind = 'function' AND to_regprocedure(identity) IS NULL;
