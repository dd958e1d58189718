-- iucut schema version 14: full-text search over the current version of every active unit.
--
-- * iucut_vi: a text-search configuration for Vietnamese, `simple` with the `unaccent`
--   dictionary in front, so `mat khau` finds `mật khẩu` and `dieu` finds `Điều`, and
--   ts_headline marks the words in the text as written. The unaccent extension ships with
--   PostgreSQL's contrib (checked on 15 and on the embedded 18); when it is missing or
--   cannot be created here, iucut_vi is plain `simple` (diacritics must then match) and a
--   NOTICE says so: `CREATE EXTENSION unaccent` and the ALTER MAPPING in the README fix it.
-- * iu_search_config: the text-search configuration of each label profile (vi: iucut_vi,
--   de: german, en: english; others: simple), as data; `iucut migrate` writes the
--   `search:` mapping of iucut.yaml into it. iu_search_config_used keeps every
--   configuration ever mapped (older versions keep theirs), simple included.
-- * unit_version.search_config and .search_vector: each version is indexed with the
--   configuration of the profile it was written with. search_vector is a stored generated
--   column (title weighted A, body D) and has a GIN index: all IMMUTABLE, computed from the
--   row itself. search_config is set by a BEFORE INSERT trigger from the profile the write
--   path names in the transaction-local setting iucut.profile (apply sets it per document,
--   before fn_iu_apply_document), else the document's stored profile: one probe of a small
--   table per written version, never a read of other units.
-- * Existing versions get the configuration of their document's profile (a one-time
--   backfill with the append-only trigger disabled inside this transaction).
--
-- Search (queries.sql units_search_ranked) joins information_unit on current_version and
-- state = 'active', so old versions and retired units are never found; it needs SELECT
-- only (the reader role). fn_iu_apply_document is not replaced.

DO $$
DECLARE
    v_role text := pg_catalog.current_setting('role');
    v_dict text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'unaccent')
       AND EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions WHERE name = 'unaccent')
    THEN
        BEGIN
            -- an extension belongs to the database: created by the administrator running
            -- migrate (not the owner role the migration runs as), in schema public
            PERFORM pg_catalog.set_config('role', 'none', true);
            IF pg_catalog.to_regnamespace('public') IS NOT NULL THEN
                CREATE EXTENSION unaccent SCHEMA public;
            ELSE
                CREATE EXTENSION unaccent SCHEMA @schema@;
            END IF;
            PERFORM pg_catalog.set_config('role', v_role, true);
        EXCEPTION WHEN OTHERS THEN
            PERFORM pg_catalog.set_config('role', v_role, true);
            RAISE NOTICE 'iucut: cannot create the unaccent extension (%): Vietnamese search '
                         'will match diacritics exactly', SQLERRM;
        END;
    END IF;
    SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(d.dictname)
      INTO v_dict
      FROM pg_catalog.pg_ts_dict d
      JOIN pg_catalog.pg_namespace n ON n.oid = d.dictnamespace
      JOIN pg_catalog.pg_depend dep ON dep.classid = 'pg_catalog.pg_ts_dict'::regclass
                                   AND dep.objid = d.oid AND dep.deptype = 'e'
      JOIN pg_catalog.pg_extension e ON e.oid = dep.refobjid AND e.extname = 'unaccent'
     WHERE d.dictname = 'unaccent'
     LIMIT 1;
    CREATE TEXT SEARCH CONFIGURATION @schema@.iucut_vi (COPY = pg_catalog.simple);
    IF v_dict IS NOT NULL THEN
        EXECUTE pg_catalog.format('ALTER TEXT SEARCH CONFIGURATION @schema@.iucut_vi '
                                  'ALTER MAPPING FOR hword, hword_part, word '
                                  'WITH %s, pg_catalog.simple', v_dict);
        COMMENT ON TEXT SEARCH CONFIGURATION @schema@.iucut_vi
            IS 'iucut: Vietnamese, simple with unaccent (diacritics optional)';
    ELSE
        COMMENT ON TEXT SEARCH CONFIGURATION @schema@.iucut_vi
            IS 'iucut: Vietnamese, simple (unaccent missing: diacritics must match)';
    END IF;
END
$$;

CREATE TABLE @schema@.iu_search_config (
    profile text PRIMARY KEY,
    config  regconfig NOT NULL
);
INSERT INTO @schema@.iu_search_config (profile, config)
VALUES ('vi', '@schema@.iucut_vi'), ('de', 'pg_catalog.german'), ('en', 'pg_catalog.english');
-- Every configuration any version may have been indexed with (a mapping changed later
-- leaves the older versions with the old one): a query is parsed once for each.
CREATE TABLE @schema@.iu_search_config_used (
    config regconfig PRIMARY KEY
);
INSERT INTO @schema@.iu_search_config_used (config)
SELECT config FROM @schema@.iu_search_config UNION SELECT 'pg_catalog.simple';

ALTER TABLE @schema@.unit_version
    ADD COLUMN search_config regconfig NOT NULL DEFAULT 'pg_catalog.simple';

ALTER TABLE @schema@.unit_version DISABLE TRIGGER unit_version_append_only;
UPDATE @schema@.unit_version v
   SET search_config = c.config
  FROM @schema@.iu_document d
  JOIN @schema@.iu_search_config c ON c.profile = d.profile
 WHERE d.doc_path = v.doc_path;
ALTER TABLE @schema@.unit_version ENABLE TRIGGER unit_version_append_only;

ALTER TABLE @schema@.unit_version
    ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        pg_catalog.setweight(pg_catalog.to_tsvector(search_config, title), 'A')
        OPERATOR(pg_catalog.||)
        pg_catalog.setweight(pg_catalog.to_tsvector(search_config, body), 'D')
    ) STORED;
CREATE INDEX unit_version_search_idx ON @schema@.unit_version USING gin (search_vector);

-- The configuration of a new version: the profile the write path names (iucut.profile,
-- set per document for this transaction), else the document's stored profile.
CREATE FUNCTION @schema@.fn_iu_search_config() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
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
$$;
CREATE TRIGGER unit_version_search_config BEFORE INSERT ON @schema@.unit_version
    FOR EACH ROW EXECUTE FUNCTION @schema@.fn_iu_search_config();
REVOKE EXECUTE ON FUNCTION @schema@.fn_iu_search_config() FROM PUBLIC;
