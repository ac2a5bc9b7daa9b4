-- 0001: the core schema. Times are INTEGER unix nanoseconds (UTC), 0 = unset.

-- meta holds counters; "version" changes whenever posts or sources change.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('version', 1);

-- sources: the configuration (name .. interval_ns) and the poll state (url ..).
CREATE TABLE sources (
    name          TEXT PRIMARY KEY,
    config_url    TEXT NOT NULL,
    category      TEXT NOT NULL,
    tags          TEXT NOT NULL DEFAULT '[]', -- JSON array of strings
    interval_ns   INTEGER NOT NULL DEFAULT 0,
    url           TEXT NOT NULL DEFAULT '',
    etag          TEXT NOT NULL DEFAULT '',
    last_modified TEXT NOT NULL DEFAULT '',
    title         TEXT NOT NULL DEFAULT '',
    site_url      TEXT NOT NULL DEFAULT '',
    last_poll     INTEGER NOT NULL DEFAULT 0,
    last_success  INTEGER NOT NULL DEFAULT 0,
    status        TEXT NOT NULL DEFAULT '',
    error_class   TEXT NOT NULL DEFAULT '',
    error         TEXT NOT NULL DEFAULT '',
    failures      INTEGER NOT NULL DEFAULT 0,
    next_poll     INTEGER NOT NULL DEFAULT 0
);

-- posts: rid is an explicit INTEGER PRIMARY KEY so that VACUUM keeps it
-- stable; posts_fts is keyed by it.
CREATE TABLE posts (
    rid        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    key        TEXT NOT NULL,
    guid       TEXT NOT NULL DEFAULT '',
    link       TEXT NOT NULL DEFAULT '',
    title      TEXT NOT NULL DEFAULT '',
    content    TEXT NOT NULL DEFAULT '',
    summary    TEXT NOT NULL DEFAULT '',
    author     TEXT NOT NULL DEFAULT '',
    image      TEXT NOT NULL DEFAULT '',
    enclosures TEXT NOT NULL DEFAULT '', -- JSON array, '' when none
    published  INTEGER NOT NULL,
    updated    INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    hash       TEXT NOT NULL DEFAULT ''
);
-- Newest-first listing of all posts, scanned backwards.
CREATE INDEX posts_published ON posts (published, id);
-- Cross-source dedupe by link; queries must say link <> '' to use it.
CREATE INDEX posts_link ON posts (link) WHERE link <> '';

-- post_sources credits a post to a source. (source, key) is the identity
-- lookup; hash is what this source last delivered, so two sources carrying
-- slightly different copies of one link do not overwrite each other forever.
-- published is copied from posts (it never changes) for the listing index.
CREATE TABLE post_sources (
    post_id   TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    source    TEXT NOT NULL REFERENCES sources (name) ON DELETE CASCADE,
    key       TEXT NOT NULL,
    hash      TEXT NOT NULL DEFAULT '',
    published INTEGER NOT NULL,
    PRIMARY KEY (post_id, source),
    UNIQUE (source, key)
);
CREATE INDEX post_sources_listing ON post_sources (source, published, post_id);

-- post_categories and post_tags are derived from post_sources and the
-- sources' category and tags; their primary keys are the listing indexes.
CREATE TABLE post_categories (
    category  TEXT NOT NULL,
    published INTEGER NOT NULL,
    post_id   TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    PRIMARY KEY (category, published, post_id)
) WITHOUT ROWID;
CREATE INDEX post_categories_post ON post_categories (post_id);

CREATE TABLE post_tags (
    tag       TEXT NOT NULL,
    published INTEGER NOT NULL,
    post_id   TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    PRIMARY KEY (tag, published, post_id)
) WITHOUT ROWID;
CREATE INDEX post_tags_post ON post_tags (post_id);

-- Crediting a post to a source lists it under the source's category and tags.
CREATE TRIGGER post_sources_list AFTER INSERT ON post_sources BEGIN
    INSERT OR IGNORE INTO post_categories (category, published, post_id)
        SELECT s.category, new.published, new.post_id FROM sources s
        WHERE s.name = new.source AND s.category <> '';
    INSERT OR IGNORE INTO post_tags (tag, published, post_id)
        SELECT j.value, new.published, new.post_id FROM sources s, json_each(s.tags) j
        WHERE s.name = new.source AND j.value <> '';
END;

-- Full-text search over title and the text of the content. Contentless: the
-- text is prepared in Go before it is indexed (markup stripped, each run of
-- Chinese/Japanese/Korean characters rewritten as overlapping two-character
-- pieces, so that words of two or more characters match as phrases).
CREATE VIRTUAL TABLE posts_fts USING fts5 (
    title, body,
    content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER posts_fts_delete AFTER DELETE ON posts BEGIN
    DELETE FROM posts_fts WHERE rowid = old.rid;
END;
