-- The cut cache (iucut.digests): a SQLite file in the iucut home, not PostgreSQL.
-- Its statements are read by iucut.digests alone (not with the named queries of
-- iucut.db.queries, which all run on PostgreSQL). SQLite's own placeholders: ? and :name.

-- name: cache_schema
-- One digest per document path and rules fingerprint: the sha256 of the file's bytes,
-- the digest as JSON (no text), and the file's stat when it was taken (JSON, or NULL);
-- with it, what a re-sync needs of an unchanged file without decoding the digest
-- (iucut.plan.Unchanged): its namespace, the fingerprint of the digest
-- (iucut.plan.digest_key), the five fields of the stat packed as bytes
-- (iucut.digests.packed_stat, NULL when the entry is racy) and the digest's warnings
-- (a JSON list, NULL when none: shown at every re-sync).
-- (digest4, of iucut before this, had no warnings column and no fast stat for a
-- document with warnings: its entries are not read, a re-sync cuts again.)
CREATE TABLE IF NOT EXISTS digest5 (
    rules TEXT NOT NULL,
    doc_path TEXT NOT NULL,
    file_hash TEXT NOT NULL,
    data TEXT NOT NULL,
    stat TEXT,
    namespace TEXT,
    digest_key INTEGER,
    fast_stat BLOB,
    warnings TEXT,
    PRIMARY KEY (rules, doc_path)
)

-- name: cache_old_tables
-- The tables of the cut cache and of what apply saw that an older iucut kept and this
-- one does not read (digest2, digest4; seen_folder): found once a process, then
-- dropped (cache_drop_old), so that an upgraded home does not keep both.
SELECT count(*) FROM sqlite_master
 WHERE type = 'table' AND name IN ('digest2', 'digest4', 'seen_folder')

-- name: cache_drop_old
DROP TABLE IF EXISTS digest2;
DROP TABLE IF EXISTS digest4;
DROP TABLE IF EXISTS seen_folder;

-- name: cache_entries_after
-- The next entries of one rules fingerprint in document-path order, from the path
-- given (a re-sync looks up every file, in that order: a chunk at a time, by the key;
-- the path given is the last one read and "\x01", or the next one asked for when it is
-- after that: a folder passed at once is not read).
SELECT doc_path, file_hash, data, stat, namespace, digest_key, fast_stat, warnings
  FROM digest5
 WHERE rules = ? AND doc_path >= ?
 ORDER BY doc_path
 LIMIT ?

-- name: cache_entries_after_fast
-- The same for apply's look-ups (iucut.plan.Unchanged): an entry with a fast stat
-- without its digest, hash and stat text (read alone if its stat is not the file's).
SELECT doc_path,
       CASE WHEN fast_stat IS NULL THEN file_hash END,
       CASE WHEN fast_stat IS NULL THEN data END,
       CASE WHEN fast_stat IS NULL THEN stat END,
       namespace, digest_key, fast_stat, warnings
  FROM digest5
 WHERE rules = ? AND doc_path >= ?
 ORDER BY doc_path
 LIMIT ?

-- name: cache_entry
SELECT doc_path, file_hash, data, stat, namespace, digest_key, fast_stat, warnings
  FROM digest5
 WHERE rules = ? AND doc_path = ?

-- name: cache_put
INSERT OR REPLACE INTO digest5
    (rules, doc_path, file_hash, data, stat, namespace, digest_key, fast_stat, warnings)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)

-- What apply last saw of a database's stored documents (iucut.seen): per database key,
-- the token of its document rows (count and sum of row hashes, read from the database)
-- and, for each document path, the fingerprint of the digest found up to date there.
-- name: seen_schema_token
CREATE TABLE IF NOT EXISTS seen_token (
    db TEXT PRIMARY KEY,
    token TEXT NOT NULL
)

-- name: seen_schema_docs
CREATE TABLE IF NOT EXISTS seen_doc (
    db TEXT NOT NULL,
    doc_path TEXT NOT NULL,
    digest INTEGER NOT NULL,
    PRIMARY KEY (db, doc_path)
) WITHOUT ROWID

-- name: seen_schema_folders
-- For each folder of documents whose files were every one known by its stat and found
-- up to date (iucut.seen, issue #16 part 3), the fingerprint of the folder as it was
-- then (the cutting rules, its files' names and their stats packed as the cut cache
-- keeps them), the warnings of its documents that have some (a JSON list of [document
-- path, [warning, ...]], NULL when none: shown at every re-sync) and the database's
-- token it was true at: while the database's token is that one, and the one kept in
-- seen_token, a folder whose fingerprint is the one kept is skipped, its files unread.
-- (A row at another token is not read: an iucut that knows no folder moves seen_token
-- without them. seen_folder, of iucut before this, kept no warnings: not read.)
CREATE TABLE IF NOT EXISTS seen_folder2 (
    db TEXT NOT NULL,
    folder TEXT NOT NULL,
    fingerprint BLOB NOT NULL,
    warnings TEXT,
    token TEXT NOT NULL,
    PRIMARY KEY (db, folder)
) WITHOUT ROWID

-- name: seen_folders
SELECT folder, fingerprint, warnings FROM seen_folder2 WHERE db = ? AND token = ?

-- name: seen_folders_clear
DELETE FROM seen_folder2 WHERE db = ?

-- name: seen_folders_moved
-- The folders true at the token kept, still true at the token it moves to (apply wrote
-- none of their documents, and nothing else was written).
UPDATE seen_folder2 SET token = ? WHERE db = ? AND token = ?

-- name: seen_folder_put
INSERT OR REPLACE INTO seen_folder2 (db, folder, fingerprint, warnings, token)
VALUES (?, ?, ?, ?, ?)

-- name: seen_folder_drop
DELETE FROM seen_folder2 WHERE db = ? AND folder = ?

-- name: seen_token_get
SELECT token FROM seen_token WHERE db = ?

-- name: seen_docs_after
-- The next fingerprints of one database in path order, from the path given (a
-- triage asks for every file of the corpus in that order: a chunk at a time; the path
-- given as cache_entries_after's).
SELECT doc_path, digest FROM seen_doc
 WHERE db = ? AND doc_path >= ?
 ORDER BY doc_path
 LIMIT ?

-- name: seen_doc_get
SELECT digest FROM seen_doc WHERE db = ? AND doc_path = ?

-- name: seen_token_put
INSERT OR REPLACE INTO seen_token (db, token) VALUES (?, ?)

-- name: seen_docs_clear
DELETE FROM seen_doc WHERE db = ?

-- name: seen_doc_put
INSERT OR REPLACE INTO seen_doc (db, doc_path, digest) VALUES (?, ?, ?)

-- name: seen_doc_drop
DELETE FROM seen_doc WHERE db = ? AND doc_path = ?

-- name: ledger_schema
-- The paths of the documents of an apply's run (iucut.plan_state.Ledger), for --prune,
-- in a private temporary database (its pages go to a file beyond a small cache: the
-- client holds a chunk, not the corpus).
CREATE TABLE run_doc (
    doc_path TEXT NOT NULL
)

-- name: ledger_todo_schema
-- The documents to do of an apply's triage (iucut.plan_state.Ledger): the place of each
-- in the run (-1: its path came before) and its namespace, to find those shared.
CREATE TABLE todo_doc (
    place INTEGER NOT NULL,
    doc_path TEXT NOT NULL,
    namespace TEXT NOT NULL
)

-- name: ledger_cache
PRAGMA cache_size = -256

-- name: ledger_add
INSERT INTO run_doc (doc_path) VALUES (?)

-- name: ledger_index
CREATE INDEX run_doc_path ON run_doc (doc_path)

-- name: ledger_has
SELECT 1 FROM run_doc WHERE doc_path = ? LIMIT 1

-- name: ledger_todo_add
INSERT INTO todo_doc (place, doc_path, namespace) VALUES (?, ?, ?)

-- name: ledger_todo_index
CREATE INDEX todo_doc_namespace ON todo_doc (namespace, doc_path)

-- name: ledger_todo_shared
SELECT namespace FROM todo_doc GROUP BY namespace HAVING count(DISTINCT doc_path) > 1

-- name: ledger_todo_namespaces_first
SELECT DISTINCT namespace FROM todo_doc ORDER BY namespace LIMIT ?

-- name: ledger_todo_namespaces_after
SELECT DISTINCT namespace FROM todo_doc WHERE namespace > ? ORDER BY namespace LIMIT ?

-- name: ledger_todo_holds
SELECT 1 FROM todo_doc WHERE namespace = ? AND doc_path = ? LIMIT 1

-- name: ledger_todo_holders
SELECT place, doc_path FROM todo_doc WHERE namespace = ? ORDER BY place, rowid

-- name: ledger_todo_places
SELECT place FROM todo_doc WHERE place >= 0 ORDER BY place

-- name: texts_schema
-- The new code of each unit text of the documents a plan cuts (iucut.dangling.Suspects):
-- what tells a renumbered target, in a private temporary database (a first plan's are
-- the corpus's units: the client holds a batch, not them). A text under two codes: NULL.
CREATE TABLE unit_text (
    key TEXT PRIMARY KEY,
    code TEXT
)

-- name: texts_add
INSERT INTO unit_text (key, code) VALUES (?, ?)
    ON CONFLICT (key) DO UPDATE SET code = NULL

-- name: texts_code
SELECT code FROM unit_text WHERE key = ?
