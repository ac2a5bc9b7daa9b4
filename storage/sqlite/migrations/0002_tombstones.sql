-- 0002: remember what Prune deleted, so that a post still present in its
-- feed is not stored again as new on the next poll. Prune expires them.
CREATE TABLE tombstones (
    source TEXT NOT NULL REFERENCES sources (name) ON DELETE CASCADE,
    key    TEXT NOT NULL,
    pruned INTEGER NOT NULL,
    PRIMARY KEY (source, key)
) WITHOUT ROWID;
CREATE INDEX tombstones_pruned ON tombstones (pruned);
