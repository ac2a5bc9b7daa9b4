-- 0007: the configs that running processes registered (RegisterConfig):
-- the source names each one's config has, until its registration expires.
-- A sync never removes a source a live registration names.
CREATE TABLE configs (
    owner TEXT PRIMARY KEY,
    names TEXT NOT NULL, -- JSON array of source names
    until INTEGER NOT NULL
) WITHOUT ROWID;
