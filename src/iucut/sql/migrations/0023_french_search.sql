-- iucut schema version 23: the text-search configurations of the fr and eu profiles.
--
-- 0014 mapped each label profile to a text-search configuration (vi: iucut_vi, de: german,
-- en: english; any other: simple). The fr profile (French codes and decrees) and the eu
-- profile (EU acts in English, chosen by name) came later: their versions were indexed
-- with `simple`, so `contrats` did not find `contrat`. French is indexed with
-- PostgreSQL's french configuration and eu with english from now on. A mapping already
-- there (the `search:` mapping of iucut.yaml, written by `iucut migrate`) is kept;
-- versions already indexed keep their configuration (a search parses the query once for
-- each configuration ever used, iu_search_config_used), as a mapping changed by hand
-- leaves them.

INSERT INTO @schema@.iu_search_config (profile, config)
VALUES ('fr', 'pg_catalog.french'), ('eu', 'pg_catalog.english')
ON CONFLICT (profile) DO NOTHING;

INSERT INTO @schema@.iu_search_config_used (config)
SELECT config FROM @schema@.iu_search_config
ON CONFLICT (config) DO NOTHING;
