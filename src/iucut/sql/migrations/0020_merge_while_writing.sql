-- iucut schema version 20: the search index's pending list merged while the last documents
-- of a run are written, not after them.
--
-- A run's new versions go to the pending list of the search GIN index (0016: 64 MB), which
-- fn_run_finish merges into the index when the run ends: on a first sync of 105,000 units
-- ~0.9 s of one core, alone, after every write (a serial tail under `apply --jobs`).
-- fn_iu_merge_search_pending merges the list as it stands, on a connection of its own,
-- while the writers finish the last documents of the run (iucut.apply); fn_run_finish
-- then merges only what those wrote. The merge changes no row and no search result;
-- where it cannot run it merges nothing (autovacuum merges the list too). Not on the
-- Citus layout: there the shards' lists are the workers' (see fn_run_finish there).

CREATE OR REPLACE FUNCTION @schema@.fn_iu_merge_search_pending()
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN pg_catalog.gin_clean_pending_list('@schema@.unit_version_search_idx'::regclass);
EXCEPTION WHEN OTHERS THEN
    RETURN 0;  -- an optimisation only: fn_run_finish and autovacuum merge the list too
END
$$;
REVOKE EXECUTE ON FUNCTION @schema@.fn_iu_merge_search_pending() FROM PUBLIC;
