-- The cut cache (iucut.digests): a SQLite file in the iucut home, not PostgreSQL.
-- Its statements are read by iucut.digests alone (not with the named queries of
-- iucut.db.queries, which all run on PostgreSQL). SQLite's own placeholders: ? and :name.

-- name: cache_schema
-- One digest per document path and rules fingerprint: the sha256 of the file's bytes,
-- the digest as JSON (no text), and the file's stat when it was taken (JSON, or NULL).
CREATE TABLE IF NOT EXISTS digest2 (
    rules TEXT NOT NULL,
    doc_path TEXT NOT NULL,
    file_hash TEXT NOT NULL,
    data TEXT NOT NULL,
    stat TEXT,
    PRIMARY KEY (rules, doc_path)
)

-- name: cache_entries
-- Every entry of one rules fingerprint, in one read (a re-sync looks up every file).
SELECT doc_path, file_hash, data, stat FROM digest2 WHERE rules = ?

-- name: cache_put
INSERT OR REPLACE INTO digest2 (rules, doc_path, file_hash, data, stat) VALUES (?, ?, ?, ?, ?)
