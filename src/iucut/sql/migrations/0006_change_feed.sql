-- iucut schema version 6: the change feed in commit order, and the cursors of its
-- consumers (e.g. the LangChain sync), kept in the database.
--
-- Event ids and transaction ids are assigned before COMMIT, so two writers can commit
-- in the opposite order: a reader that resumed after the highest event id it saw would
-- miss the one that committed later with a lower id. Each transaction that writes
-- lifecycle events is therefore numbered at COMMIT, under a lock held until the commit
-- is visible: commit_seq follows commit order exactly, and a reader that sees commit N
-- sees every commit before it. The feed reads (commit_seq, event_id) in that order.

CREATE TABLE @schema@.iu_commit (
    xid          xid8 PRIMARY KEY,
    commit_seq   bigint UNIQUE,     -- set at COMMIT (NULL is never visible to others)
    committed_at timestamptz
);
CREATE SEQUENCE @schema@.iu_commit_seq;

-- Events written before this migration: one commit, number 0, transaction id 0.
INSERT INTO @schema@.iu_commit (xid, commit_seq, committed_at) VALUES ('0', 0, now());

-- A constant default first (no table rewrite: the log is append-only), then the real one.
ALTER TABLE @schema@.iu_lifecycle_log ADD COLUMN xid xid8 NOT NULL DEFAULT '0';
ALTER TABLE @schema@.iu_lifecycle_log
    ALTER COLUMN xid SET DEFAULT pg_catalog.pg_current_xact_id();
CREATE INDEX iu_lifecycle_log_xid_idx ON @schema@.iu_lifecycle_log (xid, event_id);

-- Once per statement that adds events: the transaction is registered (not yet numbered).
CREATE FUNCTION @schema@.fn_iu_commit_register() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_events) THEN
        INSERT INTO @schema@.iu_commit (xid) VALUES (pg_catalog.pg_current_xact_id())
        ON CONFLICT (xid) DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER iu_lifecycle_log_commit AFTER INSERT ON @schema@.iu_lifecycle_log
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION @schema@.fn_iu_commit_register();

-- At COMMIT (once per transaction): the number, under a lock released only after the
-- commit is visible. Definer: it runs as whoever commits, e.g. the execution role.
CREATE FUNCTION @schema@.fn_iu_commit_stamp() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM pg_catalog.pg_advisory_xact_lock(
        pg_catalog.hashtextextended('iucut:@schema@:commit order', 0));
    UPDATE @schema@.iu_commit
       SET commit_seq = pg_catalog.nextval('@schema@.iu_commit_seq'),
           committed_at = pg_catalog.clock_timestamp()
     WHERE xid = NEW.xid;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER iu_commit_order AFTER INSERT ON @schema@.iu_commit
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION @schema@.fn_iu_commit_stamp();

-- Where each consumer of the feed has got to. A consumer moves its cursor only after
-- its own write (e.g. to a vector store) succeeded; ``pending`` marks the range it was
-- writing, so that after a failure the next run knows what may be half done.
CREATE TABLE @schema@.iu_feed_cursor (
    consumer      text PRIMARY KEY CHECK (length(consumer) BETWEEN 1 AND 200),
    commit_seq    bigint NOT NULL,
    event_id      bigint NOT NULL,
    pending_seq   bigint,
    pending_event bigint,
    updated_by    text NOT NULL DEFAULT session_user,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Move a consumer's cursor (compare-and-swap: the cursor must still be where the caller
-- read it, NULL when it has none, so two consumers of one name cannot both advance).
CREATE FUNCTION @schema@.fn_iu_feed_cursor_set(
    p_consumer text,
    p_expect_seq bigint,
    p_expect_event bigint,
    p_seq bigint,
    p_event bigint,
    p_pending_seq bigint DEFAULT NULL,
    p_pending_event bigint DEFAULT NULL
) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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
$$;

DO $$
BEGIN
    EXECUTE 'REVOKE EXECUTE ON FUNCTION @schema@.fn_iu_feed_cursor_set(text, bigint, bigint, bigint, bigint, bigint, bigint) FROM PUBLIC';
    EXECUTE 'REVOKE EXECUTE ON FUNCTION @schema@.fn_iu_commit_register() FROM PUBLIC';
    EXECUTE 'REVOKE EXECUTE ON FUNCTION @schema@.fn_iu_commit_stamp() FROM PUBLIC';
END
$$;
